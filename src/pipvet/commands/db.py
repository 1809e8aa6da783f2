"""``pipvet db``: the local advisory index (``update`` from OSV data, ``info``; the work is
``pipvet.services.db``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="manage the local advisory index")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION")
    up = dbsub.add_parser(
        "update",
        help="rebuild the index from OSV data",
        description="Rebuild the advisory index from a folder of OSV YAML/JSON (recursive), an OSV "
        "export zip such as PyPI/all.zip, one OSV file, or an http(s) URL to one of these. "
        "Without --from, downloads the OSV PyPI export.",
    )
    up.add_argument("--from", dest="source", metavar="PATH_OR_URL", help="where to read OSV data")
    up.add_argument("--db", metavar="PATH", help="database to write (default: the cache)")
    info = dbsub.add_parser("info", help="show the index's source, record count and age")
    info.add_argument("--db", metavar="PATH", help="database to read (default: the cache)")
    p.set_defaults(func=run, db_command=None)


def _update(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.services.db import DbUpdateRequest, update_db

    report = update_db(DbUpdateRequest(source=args.source, db=args.db), progress=console.progress)
    console.info(f"indexed {report.record_count} advisories into {report.target}")
    if report.not_pypi:
        console.detail(f"{report.not_pypi} records name no PyPI package and were left out")
    if report.skipped:
        console.warn(f"skipped {len(report.skipped)} unusable record(s):")
        shown = report.skipped if console.is_verbose() else report.skipped[:10]
        for where, why in shown:
            console.info(f"  {where}: {why}")
        if len(shown) < len(report.skipped):
            console.info(f"  ... and {len(report.skipped) - len(shown)} more (-v shows all)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.formats.registries import DB_INFO
    from pipvet.services.db import db_info

    report = db_info(args.db)
    for note in report.notes:
        console.warn(note)
    if console.is_quiet():  # the one line that matters: how old the data is
        age = f"{report.date} ({report.age_days} days old)" if report.date else "of unknown date"
        write_output(f"advisory data {age}, {report.record_count} records\n", None)
        return 0
    write_output(DB_INFO.render("text", report), None, fit=True)
    return 0


def run(args: argparse.Namespace) -> int:
    from pipvet.core.errors import UsageError

    if args.db_command == "update":
        return _update(args)
    if args.db_command == "info":
        return _info(args)
    raise UsageError("pipvet db needs an action: update or info", hint="see: pipvet db --help")
