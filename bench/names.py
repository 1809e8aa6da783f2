"""Typosquat name checks (``pipvet check-names``): how many malicious names they catch, what they
cost honest names, and how long they take.

Usage: ``python bench/names.py [--corpus ../shared/corpus] [--heldout-cut 10000] [--show N]``

Reports:
- the share of the project names of ``corpus/malicious`` (folder names) flagged, and the 20 popular
  names most imitated by them;
- the popular names flagged (the shipped list, 14,985 names; 0 by construction, since a listed name
  is never a squat) and the time to check all of them; then the same names through every rule as
  if they were unknown (the cost of a full check, and which popular names only their popularity
  keeps from being flagged);
- the honest-name estimate that is not 0 by construction: the list cut at ``--heldout-cut``, the
  names ranked below the cut checked as if they were unknown (they are real, honest, fairly popular
  projects that the cut list does not know), so each one flagged is a false positive.

Only folder names are read from the malicious corpus: no archive is opened.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from pipvet.core.names import NameIndex, default_index, popular_rows

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--heldout-cut", type=int, default=10000)
    ap.add_argument("--show", type=int, default=30, help="held-out false positives to list")
    args = ap.parse_args()

    t0 = time.perf_counter()
    index = default_index()
    build = time.perf_counter() - t0
    rows = popular_rows()

    names = sorted(p.name for p in (args.corpus / "malicious").iterdir() if p.is_dir())
    t0 = time.perf_counter()
    checks = [index.check(n) for n in names]
    t_mal = time.perf_counter() - t0
    flagged = [c for c in checks if c.flagged]
    on_list = sum(1 for n in names if index.rank.get(_canon(n)))
    kinds = Counter(c.reason.split(":")[0].split(" (")[0] for c in flagged)
    print(f"malicious corpus: {len(names)} project names ({on_list} are on the popular list)")
    print(f"  flagged: {len(flagged)} ({100 * len(flagged) / len(names):.1f}%) in {t_mal:.2f}s")
    print("  by kind:")
    for kind, n in kinds.most_common():
        print(f"    {n:5d}  {kind}")
    print("\n  the 20 most imitated popular names:")
    print("  | popular name | rank | malicious names imitating it | examples |")
    print("  | --- | ---: | ---: | --- |")
    by_target: dict[str, list[str]] = {}
    for c in flagged:
        by_target.setdefault(c.typosquat_of or "", []).append(c.name)
    top = sorted(by_target.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    for target, squats in top:
        ex = ", ".join(sorted(squats)[:3])
        print(f"  | {target} | {index.rank[target]} | {len(squats)} | {ex} |")

    t0 = time.perf_counter()
    pop_flagged = [c for c in (index.check(n) for _, n in rows) if c.flagged]
    t_pop = time.perf_counter() - t0
    print(
        f"\npopular names: {len(pop_flagged)} of {len(rows)} flagged "
        f"({100 * len(pop_flagged) / len(rows):.2f}%; 0 by construction: a listed name is never "
        f"a squat); all checked in {t_pop:.2f}s (index built once, in {build:.2f}s)"
    )
    t0 = time.perf_counter()
    lookalike = [c for c in (index.check(n, exempt_popular=False) for _, n in rows) if c.flagged]
    t_full = time.perf_counter() - t0
    print(
        f"the same {len(rows)} names through every rule, as if they were unknown: "
        f"{t_full:.2f}s ({1000 * t_full / len(rows):.2f} ms a name); {len(lookalike)} "
        f"({100 * len(lookalike) / len(rows):.2f}%) would be flagged but for being popular"
    )
    by_kind = Counter(c.reason.split(":")[0].split(" (")[0] for c in lookalike)
    print("  by kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
    for c in lookalike[: args.show]:
        print(f"  {c.name} (rank {index.rank[_canon(c.name)]}): {c.reason}")

    cut = args.heldout_cut
    t0 = time.perf_counter()
    small = NameIndex([r for r in rows if r[0] <= cut])
    below = [n for r, n in rows if r > cut]
    fps = [c for c in (small.check(n) for n in below) if c.flagged]
    t_ho = time.perf_counter() - t0
    print(
        f"\nheld-out estimate: list cut at rank {cut}; {len(fps)} of the {len(below)} honest names "
        f"ranked below it flagged ({100 * len(fps) / max(1, len(below)):.2f}%) in {t_ho:.2f}s"
    )
    for c in fps[: args.show]:
        print(f"  {c.name}: {c.reason}")
    if len(fps) > args.show:
        print(f"  ... and {len(fps) - args.show} more")
    return 0


def _canon(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


if __name__ == "__main__":
    raise SystemExit(main())
