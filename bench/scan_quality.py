"""Detection quality of ``pipvet scan``: recall on malware, false positives on honest code.

Reusable by ``bench/scan.py`` and the tests: ``malicious_artifacts()``, ``benign_artifacts()``,
``installed_distributions()`` and ``evaluate(paths, jobs) -> Metrics``. Samples are read as bytes by
the archive reader and never executed. Run: ``python bench/scan_quality.py [--jobs 2] [--extra]``.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MALICIOUS_DIR = SHARED / "corpus" / "malicious"
BENIGN_CACHE = Path(
    os.environ.get("PIPVET_BENIGN_CACHE", Path.home() / ".cache" / "pipvet-bench" / "benign")
)
FLAGGED = ("malicious", "suspicious")


@dataclass(frozen=True)
class Outcome:
    """What the engine said about one target."""

    target: str  # a path, or "installed:<dist>"
    group: str  # project name: FPs and recall count per group for the benign side
    verdict: str
    score: int
    rules: tuple[str, ...]  # rules of findings at the worst effective severity
    error: str = ""
    findings: tuple[tuple[str, str, str, int | None], ...] = ()  # (rule, severity, path, line)
    seconds: float = 0.0  # read + analysis time


@dataclass
class Metrics:
    """Recall over malicious targets and false-positive rate over benign groups."""

    malicious: list[Outcome] = field(default_factory=list)
    benign: list[Outcome] = field(default_factory=list)

    @property
    def recall(self) -> float:
        hits = sum(o.verdict in FLAGGED for o in self.malicious)
        return hits / len(self.malicious) if self.malicious else float("nan")

    @property
    def benign_groups(self) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = collections.defaultdict(list)
        for o in self.benign:
            groups[o.group].append(o)
        return groups

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self.benign if o.verdict in FLAGGED]

    @property
    def fp_rate(self) -> float:
        groups = self.benign_groups
        flagged = sum(any(o.verdict in FLAGGED for o in outs) for outs in groups.values())
        return flagged / len(groups) if groups else float("nan")

    def missed(self) -> list[Outcome]:
        return [o for o in self.malicious if o.verdict not in FLAGGED]

    def rule_recall(self) -> dict[str, int]:
        """How many malicious targets each rule family (prefix before the dot) helped flag."""
        counts: collections.Counter[str] = collections.Counter()
        for o in self.malicious:
            if o.verdict in FLAGGED:
                counts.update({r.split(".")[0] for r in o.rules})
        return dict(counts.most_common())


def malicious_artifacts(every: int = 1) -> list[Path]:
    """Every artifact of the malicious corpus in sorted order, or every ``every``-th one.

    An artifact is a file in ``<name>/<version>/`` (an archive or a loose ``setup.py``), or a folder
    there: an unpacked source tree counts once, as the tree, not once per file in it.
    """
    if not MALICIOUS_DIR.is_dir():
        return []
    found: set[Path] = set()
    for p in MALICIOUS_DIR.rglob("*"):
        if p.is_file():
            rel = p.relative_to(MALICIOUS_DIR).parts
            found.add(MALICIOUS_DIR.joinpath(*rel[:3]) if len(rel) > 3 else p)
    return sorted(found)[::every]


BENIGN_TSV = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "benign-top.tsv"


def benign_project_names(tsv: Path = BENIGN_TSV) -> list[str]:
    """The benign projects' folder names in the cache (canonical names), sorted."""
    from packaging.utils import canonicalize_name

    names = set()
    for line in tsv.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            names.add(canonicalize_name(parts[1].strip()))
    return sorted(names)


def benign_artifacts(every: int = 1) -> list[Path]:
    """The benign cache's artifacts (``<cache>/<project>/<file>``), sorted, of every ``every``-th
    project."""
    if not BENIGN_CACHE.is_dir():
        return []
    # every N-th project of the whole ranking (not of what happens to be cached), so a partial
    # cache filled by ``scripts/fetch_benign.py --every N`` yields the same sample
    projects = [BENIGN_CACHE / name for name in benign_project_names()[::every]]
    projects = [p for p in projects if p.is_dir()]
    out = []
    for proj in projects:
        out.extend(
            sorted(f for f in proj.iterdir() if f.is_file() and not f.name.endswith(".part"))
        )
    return out


def installed_distributions(site_packages: Path | None = None) -> list[str]:
    """Targets ``installed:<site>:<dist>`` for every distribution with a RECORD in a site dir."""
    import sysconfig

    site = Path(site_packages or sysconfig.get_paths()["purelib"])
    out = []
    for info in sorted(site.glob("*.dist-info")):
        if (info / "RECORD").is_file():
            out.append(f"installed:{site}:{info.name}")
    return out


def _read(target: str):  # -> Artifact
    from pipvet.core.analysis.archive import read_artifact, read_files, read_tree

    if target.startswith("installed:"):
        _, site, info = target.split(":", 2)
        record = (Path(site) / info / "RECORD").read_text("utf-8", "replace")
        rels = [line.split(",")[0] for line in record.splitlines() if line.strip()]
        rels = [r for r in rels if not r.startswith("..") and not r.endswith(".pyc")]
        return read_files(Path(site), rels, filename=info, kind="installed")
    if Path(target).is_dir():
        return read_tree(Path(target))
    return read_artifact(Path(target))


def _group(target: str) -> str:
    if target.startswith("installed:"):
        return target.rsplit(":", 1)[-1].split("-")[0].lower()
    path = Path(target)
    try:
        return path.relative_to(BENIGN_CACHE).parts[0]
    except ValueError:
        return path.name


def scan_one(target: str) -> Outcome:
    """Read and analyse one target; a reader error is an outcome, not a crash."""
    from pipvet.core.analysis.engine import analyze
    from pipvet.core.analysis.model import SEVERITIES
    from pipvet.core.analysis.verdict import effective_severity

    start = time.perf_counter()
    try:
        result = analyze(_read(target))
    except Exception as exc:  # report and continue: one broken artifact must not stop a run
        return Outcome(target, _group(target), "error", 0, (), f"{type(exc).__name__}: {exc}")
    levels = [SEVERITIES.index(effective_severity(f, result.tooling)) for f in result.findings]
    top = max(levels, default=0)
    rules = tuple(
        sorted({f.rule for f, lv in zip(result.findings, levels, strict=True) if lv == top})
    )
    every = tuple((f.rule, f.severity, f.path, f.line) for f in result.findings)
    secs = time.perf_counter() - start
    return Outcome(
        target, _group(target), result.verdict, result.score, rules, findings=every, seconds=secs
    )


def run(targets: Sequence[str], jobs: int = 2) -> list[Outcome]:
    if jobs <= 1 or len(targets) < 4:
        return [scan_one(t) for t in targets]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(scan_one, targets, chunksize=4))


def evaluate(
    malicious: Iterable[Path | str], benign: Iterable[Path | str] = (), jobs: int = 2
) -> Metrics:
    """Scan both sides and return the metrics."""
    mal = [str(p) for p in malicious]
    ben = [str(p) for p in benign]
    outcomes = run(mal + ben, jobs)
    return Metrics(malicious=outcomes[: len(mal)], benign=outcomes[len(mal) :])


def report(m: Metrics, elapsed: float, verbose: bool = False) -> str:
    lines = [
        f"{'set':<12} {'targets':>8} {'groups':>7} {'flagged':>8} {'rate':>7}",
        f"{'malicious':<12} {len(m.malicious):>8} {'':>7} "
        f"{sum(o.verdict in FLAGGED for o in m.malicious):>8} {m.recall:>7.1%}",
        f"{'benign':<12} {len(m.benign):>8} {len(m.benign_groups):>7} "
        f"{len(m.false_positives):>8} {m.fp_rate:>7.1%}",
        f"time {elapsed:.1f}s",
        "",
        "recall per rule family (malicious targets flagged with a worst finding of the family):",
    ]
    for fam, n in m.rule_recall().items():
        lines.append(f"  {fam:<16} {n}")
    if m.false_positives:
        lines.append("false positives (benign) and the rules behind them:")
        for o in m.false_positives:
            lines.append(f"  {o.verdict:<10} {o.target}  {', '.join(o.rules)}")
    errors = [o for o in m.malicious + m.benign if o.verdict == "error"]
    if errors:
        lines.append(f"errors: {len(errors)}")
        lines.extend(f"  {o.target}: {o.error}" for o in errors[:10])
    if verbose:
        lines.append("missed malicious targets:")
        lines.extend(f"  {o.verdict:<8} {o.target}" for o in m.missed())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--every", type=int, default=1, help="take every N-th malicious artifact")
    parser.add_argument("--installed", action="store_true", help="add this venv's distributions")
    parser.add_argument(
        "--extra", action="append", default=[], help="more honest artifacts: files or folders"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--dump", type=Path, help="write every target's verdict and findings here (JSON lines)"
    )
    args = parser.parse_args(argv)
    benign: list[str] = [str(p) for p in benign_artifacts()]
    if args.installed:
        benign += installed_distributions()
    for extra in args.extra:
        p = Path(extra)
        if p.is_dir():
            benign += [str(f) for f in sorted(p.iterdir()) if f.is_file()]
            benign += installed_distributions(p) if any(p.glob("*.dist-info")) else []
        else:
            benign.append(str(p))
    start = time.perf_counter()
    metrics = evaluate(malicious_artifacts(args.every), benign, args.jobs)
    print(report(metrics, time.perf_counter() - start, args.verbose))
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for side, outcomes in (("malicious", metrics.malicious), ("benign", metrics.benign)):
                for o in outcomes:
                    row = {"side": side, **dataclasses.asdict(o)}
                    out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
