"""Worst-case time of the inspection engine's text patterns on adversarial strings.

    python bench/scan_patterns.py [--size 40000] [--top 15]

A hostile package can try to stall a scanner with text that makes a regular expression backtrack
(a megabyte-long minified line, a host name of thousands of labels). Every compiled pattern of the
engine is run over strings built from its own literals followed by long runs of repeated filler;
the table lists the slowest pattern/input pairs. A linear pattern stays in milliseconds here.
"""

from __future__ import annotations

import argparse
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
    "rules.python_ast",
    "rules.dataflow",
    "rules.tokens",
    "rules.capabilities",
    "rules.intent",
    "rules.install_time",
    "rules.obfuscation",
    "rules.indicators",
    "rules.metadata",
)
FILLERS = ("a.", "a", "a ", "a/", "-a ", "\\", "0", "A0+/", "%x", "\t", "'a", "http://a")


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for name in MODULES:
        mod = importlib.import_module(f"pipvet.core.analysis.{name}")
        out += [(f"{name}.{k}", v) for k, v in vars(mod).items() if isinstance(v, re.Pattern)]
    return out


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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
