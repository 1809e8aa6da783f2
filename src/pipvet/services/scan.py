"""Scan artifacts: read each one once, analyse it, cache the result, optionally in parallel.

``scan_files`` is what other parts call (the install gate); ``scan_inputs`` takes the expanded
targets of ``pipvet.sources.scan_targets``. Each worker process reads, parses and analyses one
artifact at a time; results travel back as plain dicts and are cached by (sha256, engine version).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.analysis.model import VERDICTS, Finding

# a crash of the analysis on hostile input must never let an artifact pass unnoticed
ERROR_VERDICT = "suspicious"


@dataclass(frozen=True)
class ScanInput:
    """One thing to read: an artifact file, a source tree, or listed files of an installation."""

    path: Path
    label: str  # what the user asked for ("requests==2.32.3", a path, "installed: rich")
    kind: str = "file"  # "file" (artifact or loose file), "tree", "installed"
    files: tuple[str, ...] = ()  # for "installed": RECORD paths relative to ``path``
    allowed_root: Path | None = None  # for "installed": the environment prefix


@dataclass(frozen=True)
class ScanReport:
    """The result for one artifact."""

    filename: str
    name: str | None
    version: str | None
    sha256: str | None
    kind: str
    verdict: str
    score: int
    findings: tuple[Finding, ...]
    source: str = ""  # the target it came from
    cached: bool = False
    note: str = ""  # said with -v, e.g. a cached result that failed its integrity check

    def to_dict(self) -> dict:
        """The JSON shape of ``pipvet scan --format json`` (one artifact)."""
        return {
            "name": self.name,
            "version": self.version,
            "filename": self.filename,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "score": self.score,
            "findings": [
                {
                    "rule": f.rule,
                    "category": f.category,
                    "severity": f.severity,
                    "path": f.path,
                    "line": f.line,
                    "message": f.message,
                    "evidence": f.evidence,
                }
                for f in self.findings
            ],
        }

    @classmethod
    def from_dict(cls, d: dict, *, kind: str = "", source: str = "", cached: bool = False):
        return cls(
            filename=d["filename"],
            name=d.get("name"),
            version=d.get("version"),
            sha256=d.get("sha256"),
            kind=d.get("kind", kind),
            verdict=d["verdict"],
            score=int(d["score"]),
            findings=tuple(
                Finding(
                    f["rule"],
                    f["category"],
                    f["severity"],
                    f["path"],
                    f.get("line"),
                    f["message"],
                    f.get("evidence", ""),
                )
                for f in d["findings"]
            ),
            source=source,
            cached=cached,
        )


def verdict_rank(verdict: str) -> int:
    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)


def engine_version() -> str:
    from pipvet.core.analysis.engine import ENGINE_VERSION

    return ENGINE_VERSION


def _read(item: ScanInput):
    from pipvet.core.analysis import archive

    if item.kind == "tree":
        return archive.read_tree(item.path)
    if item.kind == "installed":
        return archive.read_files(
            item.path,
            item.files,
            filename=item.label,
            kind="installed",
            allowed_root=item.allowed_root,
        )
    return archive.read_artifact(item.path)


def scan_one(item: ScanInput) -> dict:
    """Read and analyse one input; returns the report as a dict (picklable, cacheable).

    Reading errors for people (``InputError``) propagate; any other failure of the analysis is
    turned into a ``scan.internal-error`` finding with verdict ``suspicious`` (fail closed).
    """
    from pipvet.core.analysis.engine import analyze

    artifact = _read(item)
    try:
        with warnings.catch_warnings():
            # ast.parse warns (SyntaxWarning) about odd literals in scanned code: not for users
            warnings.simplefilter("ignore")
            result = analyze(artifact)
        verdict, score, findings = result.verdict, result.score, result.findings
        ok = True
    except Exception as exc:  # the engine met input it could not handle: say so, fail closed
        verdict, score, ok = ERROR_VERDICT, 50, False
        findings = (
            *artifact.archive_findings,
            Finding(
                "scan.internal-error",
                "scan",
                "high",
                "",
                None,
                "pipvet could not finish analysing this artifact; treat it with care",
                f"{type(exc).__name__}: {exc}"[:200],
            ),
        )
    report = ScanReport(
        filename=artifact.filename,
        name=artifact.name,
        version=artifact.version,
        sha256=artifact.sha256,
        kind=artifact.kind,
        verdict=verdict,
        score=score,
        findings=tuple(findings),
    )
    return {**report.to_dict(), "kind": artifact.kind, "_cacheable": ok}


def _sha256_of(item: ScanInput) -> str | None:
    if item.kind != "file":
        return None
    from pipvet.core.hashes import file_digest

    try:
        return file_digest(item.path)
    except OSError:
        return None  # let the reader report it


def scan_inputs(
    items: Sequence[ScanInput],
    *,
    jobs: int = 1,
    use_cache: bool = True,
    progress: Callable[[ScanReport], None] | None = None,
) -> list[ScanReport]:
    """Scan every input (cached results first, the rest in ``jobs`` processes), in input order."""
    from pipvet.sources.scan_cache import ScanCache

    engine = engine_version()
    cache = ScanCache() if use_cache else None
    reports: list[ScanReport | None] = [None] * len(items)
    todo: list[tuple[int, str | None]] = []
    rejected: set[int] = set()
    for i, item in enumerate(items):
        digest = _sha256_of(item) if cache else None
        hit = cache.get(digest, engine) if cache and digest else None
        if hit is not None:
            reports[i] = ScanReport.from_dict(hit, source=item.label, cached=True)
            if progress:
                progress(reports[i])
        else:
            todo.append((i, digest))
            if cache and digest in cache.rejected:
                rejected.add(i)

    def done(i: int, result: dict) -> None:
        cacheable = result.pop("_cacheable", False)
        if cache and cacheable and result.get("sha256"):
            cache.put(result["sha256"], engine, result)
        report = ScanReport.from_dict(result, source=items[i].label)
        if i in rejected:
            note = "its cached result failed the integrity check (changed outside pipvet)"
            report = dataclasses.replace(report, note=f"{note}; scanned again")
        reports[i] = report
        if progress:
            progress(report)

    jobs = max(1, min(jobs, len(todo)))
    try:
        if jobs == 1:
            for i, _ in todo:
                done(i, scan_one(items[i]))
        else:
            run_pool(scan_one, items, [i for i, _ in todo], jobs, done)
    finally:
        if cache:
            cache.close()
    return [r for r in reports if r is not None]


def run_pool(
    work: Callable[[ScanInput], dict],
    items: Sequence[ScanInput],
    indices: Sequence[int],
    jobs: int,
    done: Callable[[int, dict], None],
) -> None:
    """``done(i, work(items[i]))`` for each index, in ``jobs`` processes. A worker that dies
    (killed for memory, a crash) breaks the pool: the artifacts it left unfinished are run again
    one process each, and one whose process dies again gets a ``scan.worker-died`` finding; the
    scan goes on."""
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {i: pool.submit(work, items[i]) for i in indices}
        for i, fut in futures.items():
            try:
                result = fut.result()
            except BrokenProcessPool:
                broken.append(i)
                continue
            done(i, result)
    for i in broken:
        try:
            with ProcessPoolExecutor(max_workers=1) as solo:
                result = solo.submit(work, items[i]).result()
        except BrokenProcessPool:
            result = _worker_died(items[i])
        done(i, result)


def _worker_died(item: ScanInput) -> dict:
    """The report of an artifact whose scanning process died: not analysed, fail closed."""
    died = Finding(
        "scan.worker-died",
        "scan",
        "high",
        "",
        None,
        "the process analysing this artifact died (out of memory or killed); it was not analysed",
    )
    report = ScanReport(
        filename=item.path.name or item.label,
        name=None,
        version=None,
        sha256=_sha256_of(item),
        kind=item.kind,
        verdict=ERROR_VERDICT,
        score=50,
        findings=(died,),
    )
    return {**report.to_dict(), "kind": item.kind, "_cacheable": False}


def scan_files(paths: Sequence[Path], *, jobs: int = 1, use_cache: bool = True) -> list[ScanReport]:
    """Scan artifact files (wheels, sdists, zips, loose files), in the given order."""
    items = [ScanInput(Path(p), str(p)) for p in paths]
    return scan_inputs(items, jobs=jobs, use_cache=use_cache)


def default_jobs() -> int:
    return max(1, min(8, os.cpu_count() or 1))
