"""``pipvet explain``: rules of the catalogue, for people; an unknown id names the closest ones."""

from __future__ import annotations

import difflib

from pipvet.core.analysis.catalogue import CATALOGUE
from pipvet.core.errors import UsageError
from pipvet.core.reports.explain import ExplainReport


def closest_rule_ids(rule_id: str, limit: int = 3) -> list[str]:
    """The catalogue ids nearest to ``rule_id``: whole ids first, then ids whose name (the part
    after the category) matches, so ``decode-execute`` finds ``intent.decode-execute``."""
    ids = list(CATALOGUE)
    found = difflib.get_close_matches(rule_id, ids, n=limit, cutoff=0.6)
    by_name = {r.name: r.id for r in CATALOGUE.values()}
    for name in difflib.get_close_matches(rule_id, list(by_name), n=limit, cutoff=0.6):
        if by_name[name] not in found:
            found.append(by_name[name])
    found += [i for i in ids if rule_id and rule_id in i and i not in found]
    return found[:limit]


def explain(rule_id: str | None = None) -> ExplainReport:
    """One rule (``rule_id``), or every rule; an id the catalogue does not know is a usage error
    (exit 2) naming the closest ids."""
    if rule_id is None:
        return ExplainReport(rules=tuple(CATALOGUE.values()), listing=True)
    key = rule_id.strip().lower()
    if key in CATALOGUE:
        return ExplainReport(rules=(CATALOGUE[key],), listing=False)
    near = closest_rule_ids(key)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `pipvet explain` lists them"
    from pipvet.core.text import escape_terminal

    raise UsageError(f"unknown rule id {escape_terminal(rule_id)!r}{hint}")
