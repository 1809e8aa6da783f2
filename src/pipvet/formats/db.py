"""Output of ``pipvet db info``: one ``key: value`` line each."""

from __future__ import annotations

from pipvet.core.reports.db import DbInfoReport


def render_info(report: DbInfoReport) -> str:
    r = report
    rows = [
        ("path", r.path),
        ("origin", "bundled snapshot" if r.origin == "snapshot" else "pipvet db update"),
        ("source", r.source),
        ("commit", r.commit or "unknown"),
        ("data date", f"{r.date} ({r.age_days} days old)" if r.date else "unknown"),
        ("records", str(r.record_count)),
        ("skipped", str(r.skipped_count)),
        ("built", r.built_at or "unknown"),
    ]
    return "".join(f"{key + ':':<11} {value}\n" for key, value in rows)
