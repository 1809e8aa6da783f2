"""`pipvet scan`: read packages without running them and judge what they can do."""

from __future__ import annotations

import argparse

from pipvet.core.errors import UsageError

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
        "(default: pipvet's own; it is asked for its site folders with -I -S, nothing else runs)",
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
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
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
    import tempfile
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY
    from pipvet.core.text import escape_terminal
    from pipvet.formats.scan import render
    from pipvet.services.scan import default_jobs, scan_inputs, verdict_rank
    from pipvet.sources.scan_targets import DEFAULT_INDEX, expand_targets

    if not (args.targets or args.installed or args.lock or args.requirement):
        raise UsageError(
            "nothing to scan", hint="give a file, folder, NAME==VERSION, --installed, --lock or -r"
        )
    if args.python and not args.installed:
        raise UsageError("--python goes with --installed NAME", hint="name what to scan there")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    jobs = args.jobs or default_jobs()

    with tempfile.TemporaryDirectory(prefix="pipvet-scan-") as tmp:
        expansion = expand_targets(
            args.targets,
            installed=args.installed,
            python=args.python,
            locks=[Path(x) for x in args.lock],
            requirements=[Path(x) for x in args.requirement],
            index_url=args.index_url or DEFAULT_INDEX,
            download_dir=Path(tmp),
            on_download=lambda t: console.info(f"downloading {t} (hash-checked)"),
        )
        for note in expansion.notes:
            console.warn(escape_terminal(note))
        if not expansion.inputs:
            raise UsageError("nothing to scan: the targets hold no artifacts")

        def progress(report) -> None:
            cached = " (cached)" if report.cached else ""
            console.detail(f"{report.verdict:<10} {escape_terminal(report.filename)}{cached}")
            if report.note:
                console.detail(f"{escape_terminal(report.filename)}: {report.note}")

        reports = scan_inputs(
            expansion.inputs, jobs=jobs, use_cache=not args.no_cache, progress=progress
        )

    text = render(
        args.format, reports, verbose=console.is_verbose(), all_findings=args.all_findings
    )
    sys.stdout.write(text + "\n")
    threshold = verdict_rank(args.fail_on)
    failed = [r for r in reports if verdict_rank(r.verdict) >= threshold]
    if failed and args.format == "text":
        console.info(f"{len(failed)} artifact(s) at or above --fail-on {args.fail_on}")
    return EXIT_POLICY if failed else EXIT_OK
