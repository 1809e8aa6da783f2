"""`pipvet diff`: what an update changes (capabilities, install-time code, vulnerabilities,
dependencies, metadata, re-uploads), judged by the install gate's policy."""

from __future__ import annotations

import argparse

from pipvet.core.errors import UsageError
from pipvet.formats.registries import DIFF as FORMATS

VULN_FAIL_ON = ("unknown", "low", "moderate", "high", "critical", "none")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="review a dependency update before it lands",
        description="Compare OLD and NEW: two locks or requirement files, two artifacts, or "
        "NAME==A NAME==B; with --git REF, the lock in the working tree and the same file at a "
        "git ref. For every package added, upgraded or downgraded it says what the update "
        "brings: capabilities gained and lost (with file and line), install-time code, known "
        "vulnerabilities fixed and introduced, new dependencies, metadata changes, and "
        "re-uploads (other bytes under the same version and filename). Files are downloaded, "
        "hash-checked and read as data; nothing is installed or run. Exit 1 when the policy "
        "blocks a change (a malicious or suspicious verdict, a re-upload, known malware, "
        "something that could not be read).",
    )
    p.add_argument("inputs", nargs="*", metavar="OLD NEW", help="what to compare")
    p.add_argument(
        "--git",
        metavar="REF",
        help="compare LOCKFILE (default: pylock.toml, requirements.lock or requirements.txt "
        "here) with its version at REF, read with `git show REF:path`",
    )
    p.add_argument("--index-url", default=None, metavar="URL", help="package index (default: "
                   "the lock's, else https://pypi.org/simple/)")  # fmt: skip
    p.add_argument("--format", choices=FORMATS.names, default=FORMATS.default)
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="scan N artifacts in parallel (default: CPUs, at most 8)")  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="ignore and do not store cached results")
    p.add_argument("--db", metavar="PATH", help="advisory database (default: the cache)")
    p.add_argument(
        "--fail-on",
        choices=VULN_FAIL_ON,
        default="none",
        help="also block when an introduced vulnerability is at least this severe "
        "(default: none = warn, as `pipvet install` does)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.diff import BLOCK
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY
    from pipvet.formats.diff import render
    from pipvet.services.diff import diff_git, diff_inputs
    from pipvet.services.scan import default_jobs

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    options = dict(
        index_url=args.index_url,
        jobs=args.jobs or default_jobs(),
        use_cache=not args.no_cache,
        db_path=Path(args.db) if args.db else None,
        fail_on=args.fail_on,
        progress=console.progress,
    )
    if args.git:
        if len(args.inputs) > 1:
            raise UsageError("with --git, give at most one LOCKFILE")
        lockfile = Path(args.inputs[0]) if args.inputs else None
        report = diff_git(args.git, lockfile, **options)
    else:
        if len(args.inputs) != 2:
            raise UsageError(
                "give OLD and NEW", hint="pipvet diff OLD NEW, or pipvet diff --git REF [LOCKFILE]"
            )
        report = diff_inputs(args.inputs[0], args.inputs[1], **options)
    color = args.format == "text" and not args.output and console.use_color(sys.stdout)
    text = render(
        report, args.format, verbose=console.is_verbose(), color=color, quiet=console.is_quiet()
    )
    write_output(text, args.output, fit=args.format == "text")
    if args.output:
        console.info(f"wrote {args.output}")
    return EXIT_POLICY if report.action == BLOCK else EXIT_OK
