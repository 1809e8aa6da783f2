"""Output formats of ``pipvet verify``: ``text`` (problems, one a line) and ``json``."""

from __future__ import annotations

import json

from pipvet.core.reports.verify import VerifyReport


def render_json(report: VerifyReport) -> str:
    return json.dumps(report_to_json(report), indent=2, sort_keys=True) + "\n"


def report_to_json(report: VerifyReport) -> dict:
    """The JSON shape of ``pipvet verify --format json``."""
    out: dict = {
        "python": report.python,
        "ok": report.ok,
        "distributions": [
            {
                "name": c.name,
                "version": c.version,
                "ok": c.ok,
                "files_checked": c.checked,
                "unhashed_entries": c.unhashed,
                "ignored_pycache": c.ignored_pycache,
                "problems": [
                    {"problem": p.problem.value, "path": p.path, "detail": p.detail}
                    for p in c.problems
                ],
            }
            for c in report.checks
        ],
        "unverifiable": list(report.unverifiable),
    }
    if report.lock is not None:
        out["lock"] = {
            "path": report.lock.lock_path,
            "ok": report.lock.ok,
            "missing": list(report.lock.missing),
            "extra": list(report.lock.extra),
            "other_version": [
                {"name": n, "installed": i, "locked": v} for n, i, v in report.lock.other_version
            ],
        }
    return out


def render_text(report: VerifyReport) -> str:
    """One line per problem (the summary goes to stderr: ``summary``)."""
    lines = []
    for c in report.checks:
        for p in c.problems:
            detail = f" ({p.detail})" if p.detail else ""
            lines.append(f"{c.name} {c.version}: {p.problem.value} {p.path}{detail}")
    if report.lock is not None:
        lines += [f"lock: missing {m}" for m in report.lock.missing]
        lines += [
            f"lock: {n} is {have}, locked {want}" for n, have, want in report.lock.other_version
        ]
        lines += [f"lock: extra {e} (not in the lock)" for e in report.lock.extra]
    return "".join(line + "\n" for line in lines)
