"""Write a sample of popular PyPI projects that neither benign list holds, for a false-positive
check on projects the engine was never tuned on.

    python scripts/make_unseen_sample.py --ranks 2001-5000 --count 300 --seed 2026 -o FILE

The projects come from the download ranking (``../shared/corpus/top-pypi-15000.tsv``), minus
``benign-top.tsv`` and ``benign-more.tsv`` and the projects of every ``--exclude`` list (earlier
samples: a new draw must be a fresh set; ``bench/unseen-drawn.tsv`` lists every project drawn so
far); the file is in their format with a blank version (the latest release). Fetch and scan
them with the usual tools, into a cache folder of their own:

    python scripts/fetch_benign.py --tsv FILE --dest ~/.cache/pipvet-bench/unseen
    PIPVET_BENIGN_DIR=~/.cache/pipvet-bench/unseen \\
        python bench/scan_quality.py --no-malicious --tsv FILE
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from packaging.utils import canonicalize_name

from make_popular_names import DEFAULT_SOURCE, read_ranking

CORPUS = DEFAULT_SOURCE.parent
BENIGN_LISTS = (CORPUS / "benign-top.tsv", CORPUS / "benign-more.tsv")


def listed(paths: tuple[Path, ...]) -> set[str]:
    """Canonical names of the projects of ``rank<TAB>name...`` lists."""
    out = set()
    for path in paths:
        for line in path.read_text("utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].strip().isdigit():
                out.add(canonicalize_name(parts[1].strip()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", default="2001-5000", help="LOW-HIGH ranks to sample from")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument(
        "--exclude", type=Path, action="append", default=[],
        help="a list in the same format whose projects are left out (repeatable)",
    )  # fmt: skip
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    low, _, high = args.ranks.partition("-")
    header, rows = read_ranking(args.source)
    known = listed((*BENIGN_LISTS, *args.exclude))
    pool = [(r, n) for r, n in rows if int(low) <= r <= int(high) and n not in known]
    picked = sorted(random.Random(args.seed).sample(pool, min(args.count, len(pool))))
    lines = [
        f"# {len(picked)} popular projects of ranks {args.ranks} on neither benign list "
        f"(seed {args.seed}; latest release"
        + "".join(f"; not in {p.name}" for p in args.exclude)
        + f"). Source: {args.source.name} "
        f"({header.replace(chr(9), ' ')})",
        *(f"{rank}\t{name}\t" for rank, name in picked),
    ]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(picked)} projects to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
