"""Detection quality on real artifacts: a fixed sample of the malicious corpus and honest code.

Malicious samples are read as bytes by the archive reader and never executed. The full sets are
measured by ``bench/scan_quality.py``; here a deterministic sample keeps the suite fast.
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "scan_quality.py"
_spec = importlib.util.spec_from_file_location("scan_quality", _BENCH)
assert _spec is not None and _spec.loader is not None
quality = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("scan_quality", quality)
_spec.loader.exec_module(quality)

MALICIOUS_EVERY = 15  # every 15th artifact in sorted order: ~200 samples
BENIGN_EVERY = 10  # every 10th project of benign-top.tsv (sdist and wheel): ~40 projects
BENIGN_MORE_EVERY = 25  # every 25th project of benign-more.tsv: ~40 projects (.ci/run fetches both)
BENIGN_MAX_BYTES = 3_000_000  # keep the test fast: the benchmark scans the large ones
# Honest distributions installed in the test venv (pip vendors requests, urllib3, rich...).
HONEST_INSTALLED = {
    "pip",
    "setuptools",
    "packaging",
    "pytest",
    "jsonschema",
    "attrs",
    "referencing",
    "pluggy",
    "execnet",
    "pytest_xdist",
    "iniconfig",
    "pyyaml",
}


@pytest.mark.skipif(not quality.MALICIOUS_DIR.is_dir(), reason="../shared/corpus/malicious absent")
def test_fixed_malicious_sample_is_flagged() -> None:
    paths = quality.malicious_artifacts(MALICIOUS_EVERY)
    assert len(paths) >= 150
    metrics = quality.evaluate(paths, jobs=1)
    missed = [o.target.rsplit("/", 1)[-1] for o in metrics.missed()]
    assert metrics.recall >= 0.95, f"recall {metrics.recall:.1%}; missed: {missed}"


def test_installed_honest_distributions_are_not_flagged() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    targets = [
        t
        for t in quality.installed_distributions(site)
        if t.rsplit(":", 1)[-1].split("-")[0].lower() in HONEST_INSTALLED
    ]
    names = {t.rsplit(":", 1)[-1].split("-")[0].lower() for t in targets}
    assert {"pip", "packaging", "pytest"} <= names  # the venv's real distributions are read
    metrics = quality.evaluate([], targets, jobs=1)
    flagged = [(o.group, o.verdict, o.rules) for o in metrics.false_positives]
    assert not flagged
    assert all(o.verdict != "error" for o in metrics.benign)


@pytest.mark.parametrize(
    ("tsv", "every"),
    [(quality.BENIGN_TSV, BENIGN_EVERY), (quality.BENIGN_MORE_TSV, BENIGN_MORE_EVERY)],
    ids=["benign-top", "benign-more"],
)
def test_benign_cache_sample_is_not_flagged(tsv: Path, every: int) -> None:
    paths = [
        p for p in quality.benign_artifacts(every, (tsv,)) if p.stat().st_size <= BENIGN_MAX_BYTES
    ]
    if not paths:
        pytest.skip(
            f"benign cache {quality.BENIGN_CACHE} holds none of {tsv.name}: run "
            f"scripts/fetch_benign.py --tsv {tsv} --every {every} to fill it"
        )
    metrics = quality.evaluate([], paths, jobs=1)
    flagged = [(o.target, o.verdict, o.worst) for o in metrics.false_positives]
    assert not flagged, f"honest projects flagged: {flagged}"


def test_readme_example_requests_is_not_flagged() -> None:
    """README's `pipvet scan requests==...`: its sdist (publish branch in setup.py, pickle
    round-trips in tests) and wheel, as cached by scripts/fetch_benign.py."""
    folder = quality.BENIGN_CACHE / "requests"
    paths = sorted(p for p in folder.glob("requests-*") if not p.name.endswith(".part"))
    if not paths:
        pytest.skip(f"{folder} is empty: run scripts/fetch_benign.py to fill it")
    metrics = quality.evaluate([], paths, jobs=1)
    assert not metrics.false_positives, [(o.target, o.worst) for o in metrics.false_positives]
    assert all(o.verdict != "error" for o in metrics.benign)


def test_the_wheel_figure_counts_projects_whose_wheel_is_flagged() -> None:
    """The benchmark's second figure: of projects that have a wheel, those whose wheel is flagged
    (an sdist-only flag, or a project with no wheel, does not count there)."""

    def outcome(target: str, group: str, verdict: str):
        return quality.Outcome(target=target, group=group, verdict=verdict, score=0, rules=())

    metrics = quality.Metrics(
        benign=[
            outcome("a-1.0.tar.gz", "a", "suspicious"),  # its sdist only
            outcome("a-1.0-py3-none-any.whl", "a", "clean"),
            outcome("b-1.0-py3-none-any.whl", "b", "malicious"),
            outcome("c-1.0.tar.gz", "c", "suspicious"),  # no wheel at all
            outcome("d-1.0-py3-none-any.whl", "d", "risky"),
        ]
    )
    assert metrics.wheel_projects == (1, 3)
    assert len(metrics.flagged_projects) == 3
