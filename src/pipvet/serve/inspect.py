"""Code inspection of one downloaded, hash-verified file, in a worker process: the install
gate's ``inspect_artifacts`` (scan results cached by sha256, shared with every pipvet command),
judged by the policy. Returns plain data (picklable)."""

from __future__ import annotations

from pathlib import Path


def inspect_file(name: str, version: str, path: str, policy) -> dict:
    from pipvet.services import gate

    report = gate.inspect_artifacts(
        [gate.Artifact(name, version, Path(path))], policy=policy, jobs=1
    )
    scan = report.scans[0] if report.scans else None
    return {
        "blocks": [_issue(i) for i in report.blocks],
        "warnings": [_issue(i) for i in report.warnings],
        "allowed": [_issue(i) for i in report.allowed],
        "verdict": getattr(scan, "verdict", "unreadable"),
        "score": getattr(scan, "score", None),
        "cached": bool(getattr(scan, "cached", False)),
    }


def _issue(i) -> dict:
    return {
        "rule": i.rule,
        "message": i.message,
        "file": i.file,
        "path": i.path,
        "line": i.line,
        "allowed_by": i.allowed_by,
    }


def warm() -> bool:
    """Import the analysis once in a new worker, so the first file is not slower."""
    import pipvet.core.analysis.engine
    import pipvet.services.gate  # noqa: F401

    return True
