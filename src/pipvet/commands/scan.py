"""`pipvet scan`: read packages without running them and judge what they can do (the work is
``pipvet.services.scan``)."""

from __future__ import annotations

import argparse

from pipvet.formats.registries import SCAN as FORMATS

FAIL_ON = ("risky", "suspicious", "malicious")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="inspect packages without running them",
        description="Read packages as data (nothing is installed, built or run) and report what "
        "they can do and whether they look malicious. TARGET is an artifact (.whl, .tar.gz, "
        ".zip...), a folder of them, an unpacked source tree, or NAME / NAME==VERSION "
        "(downloaded from the index and hash-checked).",
    )
    p.add_argument("targets", nargs="*", metavar="TARGET", help="what to scan")
    p.add_argument(
        "--installed",
        action="append",
        default=[],
        metavar="NAME",
        help="scan an installed distribution (its RECORD files); repeatable",
    )
    p.add_argument(
        "--python",
        metavar="PATH",
        help="with --installed: the interpreter or venv whose distributions to read "
        "(default: the active venv, else pipvet's own; it is asked for its site folders with "
        "-I -S, nothing else runs)",
    )
    p.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="FILE",
        help="scan every package of a lock (files checked against the lock's hashes)",
    )
    p.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        help="scan the pinned (==) packages of a requirements file",
    )
    p.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help="package index for NAME targets (default https://pypi.org/simple/)",
    )
    p.add_argument("--format", choices=FORMATS.names, default=FORMATS.default)
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="scan N artifacts in parallel (default: number of CPUs, at most 8)",
    )
    p.add_argument("--no-cache", action="store_true", help="ignore and do not store cached results")
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="suspicious",
        help="exit 1 when an artifact reaches this verdict (default: suspicious)",
    )
    p.add_argument(
        "--all-findings",
        action="store_true",
        help="also show info-level findings and findings of clean artifacts",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY
    from pipvet.installer.pip_runner import interruptible
    from pipvet.services.scan import ScanRequest, scan
    from pipvet.sources.scan_targets import DEFAULT_INDEX

    with interruptible():  # SIGTERM stops the scan and its worker processes as Ctrl-C does
        result = scan(
            ScanRequest(
                targets=tuple(args.targets),
                installed=tuple(args.installed),
                python=args.python,
                locks=tuple(Path(x) for x in args.lock),
                requirements=tuple(Path(x) for x in args.requirement),
                index_url=args.index_url or DEFAULT_INDEX,
                jobs=args.jobs,
                use_cache=not args.no_cache,
            ),
            progress=console.progress,
        )
    text = FORMATS.render(
        args.format,
        result.reports,
        verbose=console.is_verbose(),
        all_findings=args.all_findings,
        color=not args.output and console.use_color(sys.stdout),
        quiet=console.is_quiet(),
    )
    text = text if text.endswith("\n") else text + "\n"
    write_output(text, args.output, fit=args.format == "text")
    if args.output:
        console.info(f"wrote {args.output}")
    failed = result.at_or_above(args.fail_on)
    if failed and args.format == "text":
        console.info(f"{len(failed)} artifact(s) at or above --fail-on {args.fail_on}")
    return EXIT_POLICY if failed else EXIT_OK
