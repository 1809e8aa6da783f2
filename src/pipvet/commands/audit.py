"""``pipvet audit``: known vulnerabilities of an environment, requirements, lock or pyproject."""

from __future__ import annotations

import argparse

FAIL_ON = ("unknown", "low", "moderate", "high", "critical", "none")
FORMATS = ("text", "json", "markdown", "sarif", "cyclonedx")

DESCRIPTION = """List known vulnerabilities with severities and fix versions, like npm audit.
Reads the current environment unless told otherwise. Works offline from the local advisory
index (built from the bundled snapshot on first use; refresh it with `pipvet db update`)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        help="list known vulnerabilities (like npm audit)",
        description=DESCRIPTION,
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--python", metavar="PATH", help="audit another environment's interpreter")
    src.add_argument("-r", "--requirement", metavar="FILE", help="audit a requirements file")
    src.add_argument("--lock", metavar="FILE", help="audit a lock (requirements lock or pylock)")
    src.add_argument("--pyproject", metavar="PATH", help="audit a pyproject.toml's dependencies")
    p.add_argument("--index-url", metavar="URL", help="index for resolving unpinned requirements")
    p.add_argument("--db", metavar="PATH", help="advisory database to read (default: the cache)")
    p.add_argument("--online", action="store_true", help="also query the OSV API")
    p.add_argument("--osv-url", metavar="URL", help="OSV API base URL (env PIPVET_OSV_URL)")
    p.add_argument(
        "--ignore", metavar="ID", action="append", default=[], help="ignore an advisory id"
    )
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="unknown",
        help="exit 1 if a finding is at least this severe (default: unknown = any finding)",
    )
    p.add_argument("--fix", action="store_true", help="compute (and for --lock, apply) upgrades")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.set_defaults(func=run)


def _source(args: argparse.Namespace):
    from pathlib import Path

    if args.requirement:
        from pipvet.sources.dependencies.requirements import RequirementsSource

        return RequirementsSource(Path(args.requirement), args.index_url)
    if args.lock:
        from pipvet.sources.dependencies.lock import LockSource

        return LockSource(Path(args.lock))
    if args.pyproject:
        from pipvet.sources.dependencies.pyproject import PyprojectSource

        return PyprojectSource(Path(args.pyproject), args.index_url)
    from pipvet.sources.dependencies.environment import EnvironmentSource

    return EnvironmentSource(args.python)


def _messages(report) -> None:
    from pipvet.cli import console

    for note in report.notes:
        console.warn(note)
    for ign in report.expired_ignores:
        console.warn(
            f"ignore of {ign.id} expired on {ign.expires} ({ign.origin}); it no longer applies"
        )
    if report.skipped:
        console.warn(f"{len(report.skipped)} item(s) not audited:")
        shown = report.skipped if console.is_verbose() else report.skipped[:5]
        for s in shown:
            console.info(f"  {s.subject}: {s.reason}")
        if len(shown) < len(report.skipped):
            console.info(f"  ... and {len(report.skipped) - len(shown)} more (-v shows all)")
    if report.problems:
        console.warn(
            f"{len(report.problems)} advisory range(s) could not be fully evaluated "
            "(unparsable versions); the rest of each advisory was still used"
        )
        for pr in report.problems:
            console.detail(f"  {pr.package}: {pr.advisory_id}: {pr.reason}")
    for f, ign in report.ignored:
        console.detail(f"ignored {f.id} in {f.package} ({ign.reason or 'no reason given'})")
    for ign in report.unused_ignores:
        console.detail(f"ignore {ign.id} matched nothing")


def _fix(args: argparse.Namespace, report) -> None:
    from pipvet.cli import console
    from pipvet.services.audit import upgrade_set

    ups = upgrade_set(report)
    nofix = [f.package for f in report.fixes if f.version is None]
    if not ups and not nofix:
        console.info("nothing to fix")
        return
    if ups:
        console.info("upgrades that clear every known advisory:")
        for name, version in sorted(ups.items()):
            console.info(f"  {name}=={version}")
    for p in nofix:
        console.warn(f"{p}: no version clear of all known advisories is named")
    if args.lock and ups:
        _relock(args, ups)


def _relock(args: argparse.Namespace, ups) -> None:
    """Re-lock with the upgrades, every other package kept at its pin, with ``pipvet lock``'s
    machinery (every file's sha256, the lock's own form and index)."""
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.cli.main import build_parser
    from pipvet.cli.output import write_output
    from pipvet.commands.lock import build_lock
    from pipvet.core.lockfile_io import is_pylock, read_lock, render_pylock, render_requirements

    path = Path(args.lock)
    old = read_lock(path)
    pins = [f"{p.name}=={ups.get(p.name, p.version)}" for p in old.packages]
    # pipvet lock's own parser fills every option with its default, whatever it grows
    argv = ["lock", *pins, "-o", str(path)]
    index_url = args.index_url or old.index_url
    if index_url:
        argv += ["--index-url", index_url]
    for p in old.packages:
        if p.sdist_allowed:
            argv += ["--allow-sdist", p.name]
    ns = build_parser().parse_args(argv)
    lock = build_lock(ns)
    if is_pylock(path, path.read_text(encoding="utf-8")):
        text = render_pylock(lock)
    else:
        text = render_requirements(
            lock, header=f"This file is generated by pipvet audit --fix (from {path.name})."
        )
    write_output(text, str(path))
    console.info(f"re-locked {path} with hashes: {len(ups)} upgrade(s)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.formats.audit import render
    from pipvet.services.audit import audit_packages, load_ignores

    source = _source(args)
    collection = source.collect()
    ignores = load_ignores(Path.cwd(), args.ignore)
    console.info(f"auditing {len(collection.packages)} packages from {collection.description}")
    report = audit_packages(
        collection.packages,
        db_path=Path(args.db) if args.db else None,
        online=args.online,
        osv_url=args.osv_url,
        ignores=ignores,
        source=collection.description,
        location=collection.location,
        skipped=collection.skipped,
    )
    _messages(report)
    out = render(
        report,
        args.format,
        color=args.format == "text"
        and not args.output
        and console.use_color(__import__("sys").stdout),
    )
    write_output(out, args.output)
    if args.output:
        console.info(f"wrote {args.output}")
    if args.fix:
        _fix(args, report)
    return 1 if report.fails(args.fail_on) else 0
