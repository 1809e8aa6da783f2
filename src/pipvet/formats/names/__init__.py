"""Output formats of ``pipvet check-names``: ``text`` (for people) and ``json`` (for tools).

JSON: ``{"names": [{"name", "typosquat_of", "reason"}]}``, ``typosquat_of`` null when clean.
"""

from __future__ import annotations

import json

from pipvet.core.reports.names import NamesReport
from pipvet.core.text import escape_terminal as printable

FORMATS = ("text", "json")


def to_dict(report: NamesReport) -> dict:
    return {
        "names": [
            {"name": c.name, "typosquat_of": c.typosquat_of, "reason": c.reason}
            for c in report.checks
        ]
    }


def render_text(report: NamesReport, *, quiet: bool = False, verbose: bool = False) -> str:
    """One line per name and the count; ``quiet``: the flagged names alone; ``verbose``: why a
    name is ok (popular itself, with its rank, or like no popular name)."""
    lines = []
    for c in report.checks:
        if quiet and not c.flagged:
            continue
        verdict = f"typosquat? {c.reason}" if c.flagged else "ok"
        if verbose and not c.flagged:
            verdict += _why_ok(c.name)
        lines.append(f"{printable(c.name)}: {verdict}")
    n = len(report.flagged)
    if quiet:
        return "".join(line + "\n" for line in lines)
    lines.append(
        f"{n} of {len(report.checks)} names look like typosquats of popular projects"
        if n
        else f"no typosquats among {len(report.checks)} names"
    )
    return "\n".join(lines) + "\n"


def _why_ok(name: str) -> str:
    from packaging.utils import canonicalize_name

    from pipvet.core.names import default_index

    rank = default_index().rank.get(canonicalize_name(name))
    return f" (popular itself: rank {rank})" if rank else " (like no popular name)"


def render(report: NamesReport, fmt: str, *, quiet: bool = False, verbose: bool = False) -> str:
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2) + "\n"
    if fmt == "text":
        return render_text(report, quiet=quiet, verbose=verbose)
    raise ValueError(f"unknown format {fmt!r}")
