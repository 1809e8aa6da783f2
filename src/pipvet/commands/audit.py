"""``pipvet audit``: known vulnerabilities of an environment, requirements, lock or pyproject (the
work is ``pipvet.services.audit``)."""

from __future__ import annotations

import argparse

from pipvet.core.severity import AUDIT_FAIL_ON as FAIL_ON
from pipvet.formats.registries import AUDIT as FORMATS

DESCRIPTION = """List known vulnerabilities with severities and fix versions, like npm audit.
Reads the active environment (VIRTUAL_ENV, else pipvet's own) unless told otherwise, and says
which one. Works offline from the local advisory index (built from the bundled snapshot on first
use; refresh it with `pipvet db update`)."""


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
        help="exit 1 if a finding is at least this severe (default: unknown = any finding); "
        "known malware always exits 1",
    )
    p.add_argument("--fix", action="store_true", help="compute (and for --lock, apply) upgrades")
    p.add_argument("--format", choices=FORMATS.names, default=FORMATS.default, help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.services.audit import AuditRequest, audit

    report = audit(
        AuditRequest(
            python=args.python,
            requirements=args.requirement,
            lock=args.lock,
            pyproject=args.pyproject,
            index_url=args.index_url,
            db=args.db,
            online=args.online,
            osv_url=args.osv_url,
            ignore=tuple(args.ignore),
        ),
        progress=console.progress,
    )
    _messages(report)
    color = args.format == "text" and not args.output and console.use_color(sys.stdout)
    text = FORMATS.render(
        args.format,
        report,
        color=color,
        verbose=console.is_verbose(),
        quiet=console.is_quiet(),
        fix_command=_fix_command(args),
    )
    write_output(text, args.output, fit=args.format == "text")
    if args.output:
        console.info(f"wrote {args.output}")
    if args.fix:
        _fix(args, report)
    return 1 if report.fails(args.fail_on) else 0


def _fix_command(args: argparse.Namespace) -> str:
    """The command that computes the upgrades; for a lock, the one that applies them to it."""
    import shlex

    if args.lock:
        return f"pipvet audit --lock {shlex.quote(args.lock)} --fix  (re-locks it with hashes)"
    return "pipvet audit --fix  (lists the upgrades that clear them)"


def _messages(report) -> None:
    """What the audit left out or could not read, on stderr (the report itself goes to stdout)."""
    from pipvet.cli import console
    from pipvet.core.reports.audit import stale_warning

    stale = stale_warning(report)
    if stale:
        console.warn(stale)
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
    """List the upgrades; with --lock, re-lock through the lock service and write the lock."""
    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.services.audit import relock_with_fixes, upgrade_set

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
        text = relock_with_fixes(
            args.lock, ups, index_url=args.index_url, progress=console.progress
        )
        write_output(text, args.lock)
        console.info(f"re-locked {args.lock} with hashes: {len(ups)} upgrade(s)")
