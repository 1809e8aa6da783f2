"""``pipvet report --format osv``: a draft OSV ``MAL-`` record in the form of the OpenSSF
malicious-packages repository (``database_specific`` carries pipvet's evidence)."""

from __future__ import annotations

import json

from pipvet.core.reports.suspicious import SuspiciousPackageReport


def record(report: SuspiciousPackageReport) -> dict:
    r = report
    affected: dict = {"package": {"ecosystem": "PyPI", "name": r.name}}
    if r.version:
        affected["versions"] = [r.version]
    shas = [a.sha256 for a in r.artifacts if a.sha256]
    details = (
        f"The package {r.name} {r.version or ''} was flagged by static inspection "
        f"(pipvet {r.engine}): {r.summary}.\n\n" + "\n".join(f"- {b}" for b in r.behaviours)
    ).strip()
    doc = {
        "schema_version": "1.5.0",
        "id": r.draft_id,
        "modified": r.generated,
        "published": r.generated,
        "summary": f"Malicious code in {r.name} (PyPI)",
        "details": details,
        "affected": [affected],
        "references": [{"type": "PACKAGE", "url": r.project_url}],
        "database_specific": {
            "malicious-packages-origins": [
                {
                    "source": "pipvet",
                    "import_time": r.generated,
                    "modified_time": r.generated,
                    "sha256": sha,
                    "versions": [r.version] if r.version else [],
                }
                for sha in shas
            ],
            "pipvet": {
                "draft": True,
                "verdict": r.verdict,
                "engine": r.engine,
                "index_url": r.index_url,
                "artifacts": [
                    {
                        "filename": a.filename,
                        "sha256": a.sha256,
                        "url": a.url,
                        "upload_time": a.upload_time,
                        "verdict": a.verdict,
                    }
                    for a in r.artifacts
                ],
                "evidence": [
                    {
                        "artifact": e.artifact,
                        "rule": e.rule,
                        "severity": e.severity,
                        "path": e.path,
                        "line": e.line,
                        "message": e.message,
                        "snippet": e.snippet,
                        "view_url": e.view_url,
                    }
                    for e in r.evidence
                ],
            },
        },
    }
    if r.inspector_url:
        doc["references"].append({"type": "EVIDENCE", "url": r.inspector_url})
    return doc


def render(report: SuspiciousPackageReport) -> str:
    return json.dumps(record(report), indent=2, ensure_ascii=False) + "\n"
