"""The ``scan`` service: expand targets, read each artifact once, analyse it, cache the result.

``scan(ScanRequest)`` is what ``pipvet scan`` calls; ``scan_files`` is what other parts call (the
install gate); ``scan_inputs`` takes already expanded targets (``pipvet.sources.scan_targets``).
Each worker process reads, parses and analyses one artifact at a time; results travel back as plain
dicts and are cached by (sha256, engine version). Nothing here prints: progress goes to a callback.
The report models live in ``pipvet.core.reports.scan``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.analysis.model import Finding
from pipvet.core.errors import UsageError
from pipvet.core.models import DEFAULT_INDEX_URL
from pipvet.core.progress import Progress, silent
from pipvet.core.reports.scan import (
    VERDICTS,
    ScanInput,
    ScanReport,
    ScanRun,
    Verdict,
    verdict_rank,
)

__all__ = [
    "VERDICTS",
    "ScanInput",
    "ScanReport",
    "ScanRequest",
    "ScanRun",
    "Verdict",
    "default_jobs",
    "engine_version",
    "scan",
    "scan_files",
    "scan_inputs",
    "scan_one",
    "verdict_rank",
]

# a crash of the analysis on hostile input must never let an artifact pass unnoticed
ERROR_VERDICT = "suspicious"


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


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection while one artifact is analysed, one collection after.

    The analysis allocates millions of long-lived objects (syntax trees) and almost no cycles:
    Python's collector, triggered by allocation counts, walked them again and again (about 30% of
    the time on large wheels). Reference counting still frees everything acyclic at once.
    The collection after is of the youngest generation: with the collector paused, everything the
    analysis made is there, and nothing else (a full collection also walked all that the process
    kept, such as earlier reports: a third of a millisecond per small artifact)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(0)
        if _frozen_in[0] != os.getpid():
            # what is alive after the first artifact (the engine's modules, compiled patterns,
            # tables) lives as long as the process: later collections need not walk it again
            # (it was 12 ms of every artifact's ~35 on small ones). Reference counting still
            # frees what of it is dropped.
            gc.freeze()
            _frozen_in[0] = os.getpid()


# the process whose long-lived objects were moved out of the collector's way (a forked worker
# inherits the value but imports, and so freezes, its own)
_frozen_in: list[int] = [0]


def scan_one(item: ScanInput) -> dict:
    """Read and analyse one input; returns the report as a dict (picklable, cacheable).

    Reading errors for people (``InputError``) propagate; any other failure of the analysis is
    turned into a ``scan.internal-error`` finding with verdict ``suspicious`` (fail closed).
    The garbage collector is paused meanwhile (``gc_paused``).
    """
    with gc_paused():
        return scan_one_gc_on(item)


def scan_one_gc_on(item: ScanInput) -> dict:
    """``scan_one`` with the garbage collector left as it is (for measurement)."""
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
        verdict=Verdict.of(verdict),
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
    # largest first: a big artifact started last would keep one worker busy alone at the end
    order = sorted(indices, key=lambda i: _size_of(items[i]), reverse=True)
    from pipvet.installer.pip_runner import stops_deferred

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        try:
            # a stop signal while submit starts a worker process would leave one the pool does
            # not know of yet (started, not recorded): it is raised once the pool knows them all
            with stops_deferred():
                futures = {pool.submit(work, items[i]): i for i in order}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken.append(i)
                    continue
                done(i, result)
        except (KeyboardInterrupt, SystemExit):
            # interrupted (Ctrl-C, or SIGTERM raised as it): the workers are stopped, not waited
            # for (a large artifact takes many seconds) nor left running after pipvet exits
            # killed, not asked: a worker forked under ``interruptible`` would take SIGTERM
            # as an interruption of its task, report it, and go on to the next one; a worker
            # only reads archives, so nothing of it needs undoing
            procs = list((getattr(pool, "_processes", None) or {}).values())
            for proc in procs:
                proc.kill()
            for proc in procs:  # reaped here, each: none is left running or a zombie
                proc.join(timeout=5)
            # (its manager thread sees the workers gone and ends by itself: waiting for it
            # here could hang on a queue no worker reads any more)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    broken.sort()
    for i in broken:
        try:
            with ProcessPoolExecutor(max_workers=1) as solo:
                result = solo.submit(work, items[i]).result()
        except BrokenProcessPool:
            result = _worker_died(items[i])
        done(i, result)


def _size_of(item: ScanInput) -> int:
    """Bytes to read for ``item`` (an artifact's file size; 0 when unknown: a tree, an
    installation)."""
    try:
        return item.path.stat().st_size if item.kind == "file" else 0
    except OSError:
        return 0


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


@dataclass(frozen=True)
class ScanRequest:
    """What ``pipvet scan`` was asked to read (see ``pipvet.sources.scan_targets``)."""

    targets: tuple[str, ...] = ()
    installed: tuple[str, ...] = ()
    python: str | None = None  # with ``installed``: whose distributions (default: active venv)
    locks: tuple[Path, ...] = ()
    requirements: tuple[Path, ...] = ()
    index_url: str = DEFAULT_INDEX_URL
    jobs: int | None = None  # None: ``default_jobs()``
    use_cache: bool = True


def scan(request: ScanRequest, *, progress: Progress = silent) -> ScanRun:
    """Expand the targets (downloads are hash-checked, into a temporary folder removed after) and
    scan every input. ``progress`` hears each download (info) and each verdict (detail)."""
    import tempfile

    from pipvet.core.progress import Counter, Level
    from pipvet.core.text import escape_terminal
    from pipvet.sources.scan_targets import expand_targets

    r = request
    if not (r.targets or r.installed or r.locks or r.requirements):
        raise UsageError(
            "nothing to scan", hint="give a file, folder, NAME==VERSION, --installed, --lock or -r"
        )
    if r.python and not r.installed:
        raise UsageError("--python goes with --installed NAME", hint="name what to scan there")
    if r.jobs is not None and r.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if r.installed:
        from pipvet.sources.environment import default_python

        progress(Level.INFO, f"reading installed distributions of {default_python(r.python)}")
    with tempfile.TemporaryDirectory(prefix="pipvet-scan-") as tmp:
        expansion = expand_targets(
            r.targets,
            installed=r.installed,
            python=r.python,
            locks=r.locks,
            requirements=r.requirements,
            index_url=r.index_url,
            download_dir=Path(tmp),
            on_download=lambda t: (
                progress(Level.INFO, f"downloading {t} (hash-checked)"),
                progress(Level.STATUS, f"downloading {t}"),
            ),
        )
        for note in expansion.notes:
            progress(Level.WARN, escape_terminal(note))
        if not expansion.inputs:
            raise UsageError("nothing to scan: the targets hold no artifacts")

        scanned = Counter(progress, "scanning (as data, never run)", len(expansion.inputs))

        def done(report: ScanReport) -> None:
            scanned.advance()
            cached = " (cached)" if report.cached else ""
            name = escape_terminal(report.filename)
            progress(Level.DETAIL, f"{report.verdict:<10} {name}{cached}")
            if report.note:
                progress(Level.DETAIL, f"{name}: {escape_terminal(report.note)}")

        reports = scan_inputs(
            expansion.inputs,
            jobs=r.jobs or default_jobs(),
            use_cache=r.use_cache,
            progress=done,
        )
    return ScanRun(tuple(reports), tuple(expansion.notes))
