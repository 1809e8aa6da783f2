"""Detection quality of ``pipvet scan``: recall on malware, false positives on honest code.

Reusable by ``bench/scan.py`` and the tests: ``malicious_artifacts()``, ``benign_artifacts()``,
``installed_distributions()`` and ``evaluate(paths, jobs) -> Metrics``. Samples are read as bytes by
the archive reader and never executed.

    python bench/scan_quality.py [--jobs 2] [--tsv LIST ...] [--extra PATH] [--dump out.jsonl]

The benign side is the cached projects of every ranking list (``benign-top.tsv`` and
``benign-more.tsv`` by default; ``--tsv`` picks lists). Many malware samples are near-copies of
one campaign, so recall is also given per *cluster*: the artifacts whose ``.py`` text is the same
once the package name, digits and whitespace are removed count as one cluster, each cluster
weighing once. False positives are counted per benign *project* (its sdist or its wheel flagged),
each listed with the rule, file and line of its worst findings; and, apart, per project with a
wheel whose wheel is flagged (``pipvet install`` takes wheels only unless an sdist is allowed).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MALICIOUS_DIR = SHARED / "corpus" / "malicious"
sys.path.insert(0, str(ROOT / "scripts"))
from fetch_benign import benign_dir  # noqa: E402  (the fetcher's folder: $PIPVET_BENIGN_DIR)

BENIGN_CACHE = benign_dir()
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
    worst: tuple[tuple[str, str, int | None], ...] = ()  # (rule, path, line) at the worst level
    cluster: str = ""  # hash of the artifact's .py text without name, digits and whitespace


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

    @property
    def wheel_projects(self) -> tuple[int, int]:
        """(projects with a wheel flagged, projects with a wheel): what ``pipvet install`` puts
        through the gate by default (it takes wheels only; an sdist needs --allow-sdist)."""
        wheels = [
            [o for o in outs if o.target.endswith(".whl")] for outs in self.benign_groups.values()
        ]
        wheels = [w for w in wheels if w]
        return sum(any(o.verdict in FLAGGED for o in w) for w in wheels), len(wheels)

    @property
    def flagged_projects(self) -> dict[str, list[Outcome]]:
        """Benign projects with a flagged artifact, and those artifacts."""
        return {
            g: [o for o in outs if o.verdict in FLAGGED]
            for g, outs in sorted(self.benign_groups.items())
            if any(o.verdict in FLAGGED for o in outs)
        }

    @property
    def clusters(self) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = collections.defaultdict(list)
        for o in self.malicious:
            groups[o.cluster or o.target].append(o)
        return groups

    @property
    def cluster_recall(self) -> float:
        """Mean over clusters of the share of their artifacts flagged (each cluster weighs once)."""
        clusters = self.clusters.values()
        if not clusters:
            return float("nan")
        shares = [sum(o.verdict in FLAGGED for o in c) / len(c) for c in clusters]
        return sum(shares) / len(shares)

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


BENIGN_TSV = SHARED / "corpus" / "benign-top.tsv"
BENIGN_MORE_TSV = SHARED / "corpus" / "benign-more.tsv"
BENIGN_TSVS = (BENIGN_TSV, BENIGN_MORE_TSV)


def benign_project_names(tsv: Path = BENIGN_TSV) -> list[str]:
    """The benign projects' folder names in the cache (canonical names), sorted."""
    from packaging.utils import canonicalize_name

    names = set()
    for line in tsv.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            names.add(canonicalize_name(parts[1].strip()))
    return sorted(names)


def benign_artifacts(every: int = 1, tsvs: Sequence[Path] = BENIGN_TSVS) -> list[Path]:
    """The benign cache's artifacts (``<cache>/<project>/<file>``), sorted, of every ``every``-th
    project of each list in ``tsvs`` (a project on two lists counts once)."""
    if not BENIGN_CACHE.is_dir():
        return []
    # every N-th project of the whole ranking (not of what happens to be cached), so a partial
    # cache filled by ``scripts/fetch_benign.py --every N`` yields the same sample
    names: list[str] = []
    for tsv in tsvs:
        if tsv.is_file():
            names += [n for n in benign_project_names(tsv)[::every] if n not in names]
    projects = [BENIGN_CACHE / name for name in names]
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


_DIGITS_AND_SPACE = re.compile(r"[\d\s]+")


def cluster_key(artifact, name: str) -> str:  # artifact: pipvet's Artifact
    """A crude campaign key: the hash of all ``.py`` text of an artifact (sorted by path), with
    the package name (as written, and with ``-``/``_``/``.`` variants), digits and whitespace
    removed; "" (a cluster of its own) for an artifact without Python."""
    text = "\n".join(
        m.data.decode("utf-8", "replace")
        for m in sorted(artifact.members, key=lambda m: m.path)
        if m.path.endswith(".py")
    )
    if not text.strip():
        return ""  # no Python at all: the artifact is its own cluster
    variants = {name, name.replace("-", "_"), name.replace("_", "-"), name.replace(".", "-")}
    for variant in sorted((v for v in variants if len(v) >= 2), key=len, reverse=True):
        text = re.sub(re.escape(variant), "", text, flags=re.I)
    return hashlib.sha256(_DIGITS_AND_SPACE.sub("", text).encode()).hexdigest()[:16]


def _project_of(target: str) -> str:
    """The project name of a malicious corpus path (``<dir>/<name>/<version>/<file>``)."""
    try:
        return Path(target).relative_to(MALICIOUS_DIR).parts[0]
    except ValueError:
        return Path(target).name.split("-")[0]


def scan_one(target: str, cluster: bool = False) -> Outcome:
    """Read and analyse one target; a reader error is an outcome, not a crash."""
    from pipvet.core.analysis.engine import analyze
    from pipvet.core.analysis.model import SEVERITIES
    from pipvet.core.analysis.verdict import effective_severity

    start = time.perf_counter()
    try:
        artifact = _read(target)
        result = analyze(artifact)
    except Exception as exc:  # report and continue: one broken artifact must not stop a run
        return Outcome(target, _group(target), "error", 0, (), f"{type(exc).__name__}: {exc}")
    secs = time.perf_counter() - start
    levels = [
        SEVERITIES.index(effective_severity(f, result.tooling, result.package_code))
        for f in result.findings
    ]
    top = max(levels, default=0)
    at_top = [f for f, lv in zip(result.findings, levels, strict=True) if lv == top]
    rules = tuple(sorted({f.rule for f in at_top}))
    worst = tuple((f.rule, f.path, f.line) for f in at_top)
    every = tuple((f.rule, f.severity, f.path, f.line) for f in result.findings)
    key = cluster_key(artifact, _project_of(target)) if cluster else ""
    return Outcome(
        target,
        _group(target),
        result.verdict,
        result.score,
        rules,
        findings=every,
        seconds=secs,
        worst=worst,
        cluster=key,
    )


def _scan_malicious(target: str) -> Outcome:
    return scan_one(target, cluster=True)


def run(
    targets: Sequence[str],
    jobs: int = 2,
    malicious: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Outcomes of ``targets`` in order; ``on_outcome`` sees each one as soon as it is known."""
    one = _scan_malicious if malicious else scan_one
    if jobs <= 1 or len(targets) < 4:
        outcomes = map(one, targets)
        return [_seen(o, on_outcome) for o in outcomes]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [_seen(o, on_outcome) for o in pool.map(one, targets, chunksize=4)]


def _seen(outcome: Outcome, on_outcome: Callable[[Outcome], None] | None) -> Outcome:
    if on_outcome is not None:
        on_outcome(outcome)
    return outcome


def evaluate(
    malicious: Iterable[Path | str],
    benign: Iterable[Path | str] = (),
    jobs: int = 2,
    on_outcome: Callable[[str, Outcome], None] | None = None,
) -> Metrics:
    """Scan both sides and return the metrics (``on_outcome(side, outcome)`` as they come)."""
    mal = [str(p) for p in malicious]
    ben = [str(p) for p in benign]

    def side(name: str) -> Callable[[Outcome], None] | None:
        return None if on_outcome is None else (lambda o: on_outcome(name, o))

    return Metrics(
        malicious=run(mal, jobs, malicious=True, on_outcome=side("malicious")),
        benign=run(ben, jobs, on_outcome=side("benign")),
    )


def report(m: Metrics, elapsed: float, verbose: bool = False) -> str:
    lines = [
        f"{'set':<12} {'targets':>8} {'groups':>7} {'flagged':>8} {'rate':>7}",
        f"{'malicious':<12} {len(m.malicious):>8} {'':>7} "
        f"{sum(o.verdict in FLAGGED for o in m.malicious):>8} {m.recall:>7.1%}",
        f"{'benign':<12} {len(m.benign):>8} {len(m.benign_groups):>7} "
        f"{len(m.false_positives):>8} {m.fp_rate:>7.1%}",
        f"malicious clusters {len(m.clusters)}: per-cluster recall {m.cluster_recall:.1%}",
        f"benign projects flagged: {len(m.flagged_projects)} of {len(m.benign_groups)} "
        f"({m.fp_rate:.2%})",
        "  of them by a wheel (what install gates by default): "
        f"{m.wheel_projects[0]} of {m.wheel_projects[1]} projects with a wheel "
        f"({m.wheel_projects[0] / max(1, m.wheel_projects[1]):.2%})",
        f"time {elapsed:.1f}s",
        "",
        "recall per rule family (malicious targets flagged with a worst finding of the family):",
    ]
    for fam, n in m.rule_recall().items():
        lines.append(f"  {fam:<16} {n}")
    if m.false_positives:
        lines.append("false positives (benign projects) with the rule, file and line behind them:")
        for group, outs in m.flagged_projects.items():
            for o in outs:
                lines.append(f"  {group}: {o.verdict} {Path(o.target).name}")
                lines.extend(f"    {rule}  {path}:{line}" for rule, path, line in o.worst[:5])
    errors = [o for o in m.malicious + m.benign if o.verdict == "error"]
    if errors:
        lines.append(f"errors: {len(errors)}")
        lines.extend(f"  {o.target}: {o.error}" for o in errors[:10])
    if verbose:
        lines.append("missed malicious targets:")
        lines.extend(f"  {o.verdict:<8} {o.cluster} {o.target}" for o in m.missed())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--every", type=int, default=1, help="take every N-th malicious artifact")
    parser.add_argument(
        "--tsv",
        action="append",
        type=Path,
        default=[],
        help="a benign ranking list whose cached projects to scan (repeatable; default: "
        "benign-top.tsv and benign-more.tsv)",
    )
    parser.add_argument(
        "--benign-every", type=int, default=1, help="take every N-th project of each list"
    )
    parser.add_argument("--no-malicious", action="store_true", help="scan the benign side only")
    parser.add_argument("--installed", action="store_true", help="add this venv's distributions")
    parser.add_argument(
        "--extra", action="append", default=[], help="more honest artifacts: files or folders"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--dump", type=Path, help="write every target's verdict and findings here (JSON lines)"
    )
    args = parser.parse_args(argv)
    tsvs = args.tsv or list(BENIGN_TSVS)
    benign: list[str] = [str(p) for p in benign_artifacts(args.benign_every, tsvs)]
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
    malicious = [] if args.no_malicious else malicious_artifacts(args.every)
    with contextlib.ExitStack() as stack:
        dump = stack.enter_context(args.dump.open("w", encoding="utf-8")) if args.dump else None

        def write(side: str, o: Outcome) -> None:  # as they come: a long run can be read early
            if dump is not None:
                dump.write(json.dumps({"side": side, **dataclasses.asdict(o)}) + "\n")
                dump.flush()

        metrics = evaluate(malicious, benign, args.jobs, on_outcome=write)
    print(report(metrics, time.perf_counter() - start, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
