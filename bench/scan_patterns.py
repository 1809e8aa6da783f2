"""Worst-case time of the inspection engine's text patterns on adversarial strings.

    python bench/scan_patterns.py [--size 40000] [--top 15]

A hostile package can try to stall a scanner with text that makes a regular expression backtrack
(a megabyte-long minified line, a host name of thousands of labels). Every compiled pattern of the
engine is run over strings built from its own literals followed by long runs of repeated filler;
the table lists the slowest pattern/input pairs. A linear pattern stays in milliseconds here.

The lock and requirements parsers read untrusted text too (a requirements file from a repository,
a lock from a pull request): their patterns are in the same table, and a second table times each
whole parser on adversarial lines of the same size (a 40 KB line of spaces once took 20 s).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

MODULES = (
    "archive",
    "coverage",
    "layout",
    "rules",
    "facts.python_ast",
    "facts.dataflow",
    "facts.tokens",
    "rules.capabilities",
    "rules.intent",
    "rules.install_time",
    "rules.obfuscation",
    "rules.indicators",
    "rules.metadata",
)
FILLERS = ("a.", "a", "a ", "a/", "-a ", "\\", "0", "A0+/", "%x", "\t", "'a", "http://a")
# modules of the lock and requirements parsers (full names), whose patterns are timed as well
PARSER_MODULES = (
    "pipvet.core.lockfile_io",
    "pipvet.sources.requirements",
    "pipvet.installer.plan",
    "pipvet.sources.index",
)
PARSER_FILLERS = (
    " ",
    "\t",
    " \t",
    "#",
    "a",
    "a ",
    "-",
    "\\",
    "'",
    '"',
    "=",
    "[",
    "a,",
    "$",
    "${A}",
)


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for name in MODULES:
        mod = importlib.import_module(f"pipvet.core.analysis.{name}")
        out += [(f"{name}.{k}", v) for k, v in vars(mod).items() if isinstance(v, re.Pattern)]
    for name in PARSER_MODULES:
        mod = importlib.import_module(name)
        short = name.rsplit(".", 1)[1]
        out += [(f"{short}.{k}", v) for k, v in vars(mod).items() if isinstance(v, re.Pattern)]
    return out


def parsers() -> list[tuple[str, object]]:
    """Each whole lock and requirements parser, as a function of one line of text."""
    import tempfile

    from pipvet.core.errors import PipvetError
    from pipvet.core.lockfile_io import logical_lines, parse_pylock, parse_requirements_lock
    from pipvet.installer.plan import lock_line_numbers
    from pipvet.sources.requirements import read_requirements

    folder = Path(tempfile.mkdtemp(prefix="pipvet-bench-"))

    def from_file(name: str, read):
        def run(text: str) -> None:
            path = folder / name
            path.write_text(text + "\n", encoding="utf-8")
            read(path)

        return run

    def pylock(text: str) -> None:
        doc = 'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\n'
        parse_pylock(doc + f"version = {text!r}\n".replace("\\\\", "\\"))

    funcs = [
        ("logical_lines", lambda t: list(logical_lines(t))),
        ("read_requirements", from_file("requirements.txt", read_requirements)),
        ("parse_requirements_lock", lambda t: parse_requirements_lock(t, source="r.lock")),
        ("lock_line_numbers", from_file("requirements.lock", lock_line_numbers)),
        ("lock_line_numbers(toml)", from_file("pylock.toml", lock_line_numbers)),
        ("parse_pylock", pylock),
    ]

    def guarded(fn):
        def run(text: str) -> None:
            with contextlib.suppress(PipvetError, ValueError):  # refusing is fine: time counts
                fn(text)

        return run

    return [(name, guarded(fn)) for name, fn in funcs]


def parser_rows(size: int) -> list[tuple[float, str, str, str]]:
    """(seconds, parser, prefix, filler) for every parser on every adversarial line."""
    prefixes = ("a", "alpha==1.0 ", "alpha==1.0 --hash=sha256:", "-r ", "a[", "a ; ", 'name = "')
    rows = []
    for (name, fn), prefix, fill in itertools.product(parsers(), prefixes, PARSER_FILLERS):
        text = prefix + fill * (size // len(fill)) + "x"
        start = time.perf_counter()
        fn(text)
        rows.append((time.perf_counter() - start, name, prefix, fill))
    return sorted(rows, reverse=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=40_000, help="characters of filler per input")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    rows = []
    pats = patterns()
    for name, pat in pats:
        literals = sorted(set(re.findall(r"[A-Za-z][A-Za-z0-9_.\-/:]{2,}", pat.pattern)))[:30]
        for lit, fill in itertools.product([*literals, "curl ", "python -c '"], FILLERS):
            run = fill * (args.size // len(fill))
            text = (lit + run[:2000]) * 20 + lit + run
            start = time.perf_counter()
            pat.search(text)
            rows.append((time.perf_counter() - start, name, lit, fill))
    rows.sort(reverse=True)
    print(f"{len(pats)} patterns, {len(rows)} inputs of ~{args.size // 1000}k characters\n")
    print(f"| {'ms':>8} | {'pattern':<36} | {'literal':<24} | filler |")
    print(f"|{'-' * 10}|{'-' * 38}|{'-' * 26}|--------|")
    for secs, name, lit, fill in rows[: args.top]:
        print(f"| {secs * 1000:>8.1f} | {name:<36} | {lit[:24]:<24} | {fill!r:<6} |")
    prows = parser_rows(args.size)
    print(
        f"\nlock and requirements parsers: {len(prows)} lines of ~{args.size // 1000}k characters\n"
    )
    print(f"| {'ms':>8} | {'parser':<26} | {'line starts with':<26} | filler |")
    print(f"|{'-' * 10}|{'-' * 28}|{'-' * 28}|--------|")
    for secs, name, prefix, fill in prows[: args.top]:
        print(f"| {secs * 1000:>8.1f} | {name:<26} | {prefix!r:<26} | {fill!r:<6} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
