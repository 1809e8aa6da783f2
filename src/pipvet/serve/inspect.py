"""Code inspection of one downloaded, hash-verified file, in a worker process: the install
gate's ``inspect_artifacts`` (scan results cached by sha256, shared with every pipvet command),
judged by the policy. Returns plain data (picklable)."""

from __future__ import annotations

from pathlib import Path


def inspect_file(name: str, version: str, path: str, policy, index_url: str | None = None) -> dict:
    """The gate's judgement of one file; with ``index_url`` (the upstream index), a suspicious
    verdict of a popular project is compared with an earlier release of it there
    (``gate.review_long_standing``)."""
    from pipvet.services import gate

    artifact = gate.Artifact(name, version, Path(path))
    report = gate.inspect_artifacts([artifact], policy=policy, jobs=1)
    if index_url:
        from pipvet.sources.index import SimpleIndex

        report = gate.review_long_standing(  # the index is opened only if a file is compared
            report, [artifact], policy=policy, index_for=lambda _name: SimpleIndex(index_url)
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
