"""``pipvet db``: the local advisory index (``update`` from OSV data, ``info``)."""

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
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.core.errors import InputError
    from pipvet.sources.advisories.db import build_db, default_db_path
    from pipvet.sources.advisories.ingest import (
        DEFAULT_OSV_EXPORT,
        git_commit,
        latest_modified,
        read_source,
    )

    source = args.source or DEFAULT_OSV_EXPORT
    console.info(f"reading advisories from {source}")
    report = read_source(source)
    if not report.records:
        raise InputError(
            f"no usable PyPI advisories in {source}"
            + (f" ({len(report.skipped)} records skipped)" if report.skipped else "")
        )
    commit = date = None
    if not source.startswith(("http://", "https://")) and Path(source).is_dir():
        commit, date = git_commit(Path(source))
    target = Path(args.db) if args.db else default_db_path()
    meta = {
        "source": source if "://" in source else str(Path(source).resolve()),
        "commit": commit,
        "date": date or latest_modified(report.records),
        "origin": "update",
        "skipped_count": len(report.skipped),
    }
    info = build_db(target, report.records, meta)
    console.info(f"indexed {info.record_count} advisories into {target}")
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
    from pathlib import Path

    from pipvet.sources.advisories.snapshot import open_db

    opened = open_db(Path(args.db) if args.db else None)
    info = opened.db.info()
    age = info.age_days()
    rows = [
        ("path", info.path),
        ("origin", "bundled snapshot" if info.origin == "snapshot" else "pipvet db update"),
        ("source", info.source),
        ("commit", info.commit or "unknown"),
        ("data date", f"{info.date} ({age} days old)" if info.date else "unknown"),
        ("records", str(info.record_count)),
        ("skipped", str(info.skipped_count)),
        ("built", info.built_at or "unknown"),
    ]
    for note in opened.notes:
        from pipvet.cli import console

        console.warn(note)
    for key, value in rows:
        print(f"{key + ':':<11} {value}")
    return 0


def run(args: argparse.Namespace) -> int:
    from pipvet.core.errors import UsageError

    if args.db_command == "update":
        return _update(args)
    if args.db_command == "info":
        return _info(args)
    raise UsageError("pipvet db needs an action: update or info", hint="see: pipvet db --help")
