"""The two forms of a lock, rendered from a ``LockReport`` (the writers live in ``core``)."""

from __future__ import annotations

from pipvet.core.lockfile_io import render_pylock, render_requirements
from pipvet.core.reports.lock import LockReport


def requirements_form(report: LockReport, *, header: str = "") -> str:
    return render_requirements(report.lock, header=header)


def pylock_form(report: LockReport) -> str:
    return render_pylock(report.lock)
