"""``pipvet report``: the evidence of a suspicious package, from the inspection (the scan
service, cached by sha256), for reporting it to PyPI and to the OpenSSF malicious-packages
database. It builds the report and sends nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipvet.core.errors import InputError, UsageError
from pipvet.core.models import DEFAULT_INDEX_URL
from pipvet.core.progress import Level, Progress, silent
from pipvet.core.reports.scan import ScanInput, ScanReport, verdict_rank
from pipvet.core.reports.suspicious import (
    INSPECTOR,
    Evidence,
    ReportedArtifact,
    SuspiciousPackageReport,
)

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class ReportRequest:
    target: str  # NAME, NAME==VERSION, or an artifact file
    index_url: str = DEFAULT_INDEX_URL
    use_cache: bool = True


def build_report(request: ReportRequest, *, progress: Progress = silent) -> SuspiciousPackageReport:
    from pipvet.services.scan import engine_version, scan_inputs
    from pipvet.sources.scan_targets import looks_like_path

    target = request.target.strip()
    if not target:
        raise UsageError("nothing to report: give NAME, NAME==VERSION or an artifact file")
    with tempfile.TemporaryDirectory(prefix="pipvet-report-") as tmp:
        if looks_like_path(target) or Path(target).is_file():
            path = Path(target)
            if not path.is_file():
                raise InputError(f"{target}: no such file")
            inputs, listed, index_url = [ScanInput(path, str(path))], [None], None
        else:
            inputs, listed = _fetch(target, request.index_url, Path(tmp), progress)
            index_url = request.index_url
        progress(Level.INFO, f"inspecting {len(inputs)} file(s) as data (never run)")
        progress(Level.STATUS, f"inspecting {len(inputs)} file(s) as data")
        scans = scan_inputs(inputs, use_cache=request.use_cache)
    return _assemble(scans, listed, index_url, engine_version())


def _fetch(target: str, index_url: str, dest: Path, progress: Progress):
    """The sdist and best wheel of ``NAME[==VERSION]``, hash-checked against the index."""
    from packaging.requirements import InvalidRequirement, Requirement

    from pipvet.sources.requirements import exact_pin
    from pipvet.sources.scan_targets import choose_files, fetch_verified, open_index

    try:
        req = Requirement(target)
    except InvalidRequirement as exc:
        raise UsageError(f"{target!r} is neither a file nor NAME[==VERSION]: {exc}") from None
    version = exact_pin(req)
    if version is None and str(req.specifier):
        raise UsageError(f"{target}: give an exact version (NAME==VERSION) or just NAME")
    index = open_index(index_url)
    chosen = choose_files(index.project_files(req.name), version)
    if not chosen:
        where = f"version {version}" if version else "any release"
        raise InputError(f"{req.name}: the index has no files for {where}")
    inputs = []
    for f in chosen:
        progress(Level.INFO, f"downloading {f.filename} (hash-checked)")
        progress(Level.STATUS, f"downloading {f.filename}")
        inputs.append(ScanInput(fetch_verified(index, f, dest, f.hashes, "the index"), f.filename))
    return inputs, chosen


def _view_url(name: str, version: str | None, file_url: str | None, member: str = "") -> str | None:
    """The file in PyPI's inspector: it mirrors files.pythonhosted.org's ``/packages/...`` path."""
    if not version or not file_url:
        return None
    path = urlsplit(file_url).path
    if "/packages/" not in path:
        return None
    rest = path[path.index("/packages/") + 1 :]
    url = f"{INSPECTOR}/{name}/{version}/{rest}/"
    return url + member if member else url


def _assemble(scans: list[ScanReport], listed, index_url, engine: str) -> SuspiciousPackageReport:
    from pipvet.core.analysis.catalogue import reason, rule
    from pipvet.core.analysis.model import SEVERITIES

    first = scans[0]
    name = next((s.name for s in scans if s.name), None) or first.filename
    version = next((s.version for s in scans if s.version), None)
    artifacts, evidence = [], []
    for scan, dist in zip(scans, listed, strict=True):
        url = dist.url if dist is not None else None
        artifacts.append(
            ReportedArtifact(
                filename=scan.filename,
                sha256=scan.sha256,
                verdict=str(scan.verdict),
                score=scan.score,
                url=url,
                upload_time=dist.upload_time if dist is not None else None,
                view_url=_view_url(name, version, url),
            )
        )
        for f in scan.findings:
            if f.severity == "info":
                continue
            line = f"#line.{f.line}" if f.line else ""
            view = _view_url(name, version, url, f.path)
            evidence.append(
                Evidence(
                    artifact=scan.filename,
                    rule=f.rule,
                    severity=f.severity,
                    path=f.path,
                    line=f.line,
                    message=f.message,
                    snippet=f.evidence[:SNIPPET_CHARS],
                    view_url=view + line if view else None,
                )
            )
    evidence.sort(key=lambda e: (-SEVERITIES.index(e.severity), e.artifact, e.path, e.line or 0))
    worst = max(scans, key=lambda s: verdict_rank(s.verdict))
    behaviours = []
    for rule_id in dict.fromkeys(e.rule for e in evidence):
        entry = rule(rule_id)
        behaviours.append(f"{rule_id}: {entry.description if entry else rule_id}")
    all_findings = [f for s in scans for f in s.findings]
    return SuspiciousPackageReport(
        name=name,
        version=version,
        verdict=str(worst.verdict),
        summary=reason(str(worst.verdict), all_findings),
        behaviours=tuple(behaviours),
        artifacts=tuple(artifacts),
        evidence=tuple(evidence),
        index_url=index_url,
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        engine=engine,
    )
