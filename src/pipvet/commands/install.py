"""`pipvet install`: hash-checked installs, on by default (the work is
``pipvet.services.install``).

pipvet downloads every file itself, checks its hash against the lock (or, without a lock, against
the index's hash, remembered on first use), and only then lets uv (or pip) install exactly those
files: ``uv pip install --require-hashes --no-deps --no-index --find-links STAGING``, isolated
from uv's and pip's config files and ``UV_*``/``PIP_*`` variables. Wheels only, unless
``--allow-sdist NAME``.
"""

from __future__ import annotations

import argparse
import sys

from pipvet.core.defaults import DEFAULT_INDEX_URL as DEFAULT_INDEX
from pipvet.core.severity import AUDIT_FAIL_ON


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "install",
        help="install packages, every file hash-checked before the installer sees it",
        description="Download every file, check its hash against the lock (or the index's hash, "
        "remembered on first use), then let uv (or pip) install only those files. Wheels only "
        "unless --allow-sdist. Exit 1 when a file is refused, 2 on bad input or an unreachable "
        "index.",
    )
    p.add_argument("packages", nargs="*", metavar="PKG", help="requirements, e.g. 'requests>=2'")
    p.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        help="requirements file (a fully hashed one is used as a lock)",
    )
    p.add_argument("--lock", metavar="FILE", help="install exactly what this lock pins")
    p.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter or venv to install into "
        "(default: the active venv, else pipvet's own Python)",
    )
    p.add_argument(
        "--index-url",
        metavar="URL",
        help=f"package index (default: the lock's, else {DEFAULT_INDEX})",
    )
    p.add_argument(
        "--allow-sdist",
        action="append",
        default=[],
        metavar="NAME",
        help="allow building NAME from source (runs its code at install time)",
    )
    p.add_argument(
        "--no-verify-hashes",
        action="store_true",
        help="do not check hashes (not recommended; prints a warning)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="download and verify everything, install nothing"
    )
    p.add_argument(
        "--installer",
        choices=("auto", "uv", "pip"),
        default="auto",
        help="what installs the verified files (default auto: uv, else pip; -v says which "
        "and why); resolving uses uv where it is installed",
    )
    p.add_argument(
        "--refresh", action="store_true",
        help="ask the index again for every page (default: reuse one for as long as the index "
        "allows, 10 minutes on PyPI)",
    )  # fmt: skip
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write .pyc files for the installed modules, as pip does (default: on)",
    )
    gate = p.add_argument_group(
        "install gate (names, index facts, known malware and code, checked before pip runs)"
    )
    gate.add_argument(
        "--min-release-age",
        type=float,
        metavar="DAYS",
        help="leave out versions uploaded less than DAYS ago (default: the policy's, else none)",
    )
    gate.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index; a name it serves besides the main index is refused "
        "unless the policy pins it (index-pins)",
    )
    gate.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="install without asking when the gate only warns (a block is never lifted)",
    )
    audit = p.add_argument_group("vulnerability audit (runs before anything is downloaded)")
    audit.add_argument(
        "--fail-on",
        choices=AUDIT_FAIL_ON,
        default="none",
        help="refuse the install if a known vulnerability is at least this severe "
        "(default: none = show the summary, do not refuse; unknown = any vulnerability)",
    )
    audit.add_argument("--db", metavar="PATH", help="advisory database (default: the cache)")
    audit.add_argument("--no-audit", action="store_true", help="skip the vulnerability audit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.services.install import InstallRequest, install

    report = install(
        InstallRequest(
            packages=tuple(args.packages),
            requirement=tuple(args.requirement),
            lock=args.lock,
            python=args.python,
            index_url=args.index_url,
            allow_sdist=tuple(args.allow_sdist),
            verify_hashes=not args.no_verify_hashes,
            dry_run=args.dry_run,
            fail_on=args.fail_on,
            db=args.db,
            audit=not args.no_audit,
            verbose=console.is_verbose(),
            min_release_age=args.min_release_age,
            extra_index_urls=tuple(args.extra_index_url),
            yes=args.yes,
            installer=args.installer,
            compile=args.compile,
            refresh=args.refresh,
            color=console.use_color(sys.stderr),
        ),
        progress=console.progress,
        confirm=console.confirm if console.interactive() else None,
    )
    # one last line: what was installed, by name and version
    names = ", ".join(console.printable(r.replace("==", " ")) for r in report.changed)
    done, kept = len(report.changed), len(report.unchanged)
    if report.dry_run:
        what = f"would install {done}: {names}" if names else "would install 0"
        console.result(f"dry run: {what}; {kept} already there; nothing installed")
    elif names:
        console.result(f"done: {done} installed: {names}; {kept} already there")
    else:
        console.result(f"done: 0 installed, {kept} already there")
    for req in report.unchanged:
        console.detail(f"  already there: {console.printable(req)}")
    return 0
