"""`pipvet verify`: installed files against their RECORD hashes, and the env against a lock
(the work is ``pipvet.services.verify``)."""

from __future__ import annotations

import argparse

from pipvet.formats.registries import VERIFY as FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check installed files against their RECORD hashes (and a lock)",
        description="Check every installed distribution's files against the hashes in its RECORD "
        "and list modified, missing and unrecorded files. With --lock, also check that the "
        "environment holds exactly the locked versions. Exit 1 when anything is wrong.",
    )
    p.add_argument("--python", metavar="PATH", help="interpreter or venv (default: the active one)")
    p.add_argument("--lock", metavar="FILE", help="also compare installed versions with this lock")
    p.add_argument("--format", choices=FORMATS.names, default=FORMATS.default, help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY
    from pipvet.services.verify import VerifyRequest, verify

    report = verify(VerifyRequest(python=args.python, lock=args.lock))
    write_output(FORMATS.render(args.format, report), None, fit=args.format == "text")
    if args.format == "text":
        _summary(report, console)
    return EXIT_OK if report.ok else EXIT_POLICY


def _summary(report, console) -> None:
    """The environment checked, and what was found, on stderr."""
    files = sum(c.checked for c in report.checks)
    bad = [c for c in report.checks if not c.ok]
    problems = sum(len(c.problems) for c in bad)
    ignored = sum(c.ignored_pycache for c in report.checks)
    unhashed = sum(c.unhashed for c in report.checks)
    console.info(f"environment: {report.prefix} ({report.python})")
    for c in report.checks:
        state = "ok" if c.ok else f"{len(c.problems)} problem(s)"
        console.detail(f"  {c.name} {c.version}: {c.checked} files, {state}")
    console.detail(
        f"{unhashed} RECORD entries carry no hash (RECORD itself, .pyc files): existence checked"
    )
    if report.unverifiable:
        console.warn(
            f"{len(report.unverifiable)} installed without RECORD (egg-info), not verifiable: "
            + ", ".join(report.unverifiable[:5])
        )
    summary = f"verified {len(report.checks)} distributions, {files} files"
    if ignored:
        summary += f" (ignored {ignored} unrecorded __pycache__/*.pyc the interpreter wrote)"
    if report.ok:
        console.info(f"{summary}: all match")
    else:
        lock_n = 0
        if report.lock is not None:
            lock_n = (
                len(report.lock.missing) + len(report.lock.extra) + len(report.lock.other_version)
            )
        parts = []
        if problems:
            parts.append(f"{problems} file problem(s) in {len(bad)} distribution(s)")
        if lock_n:
            parts.append(f"{lock_n} difference(s) from the lock")
        console.error(f"{summary}: " + ", ".join(parts))
