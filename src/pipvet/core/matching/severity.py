"""Severity of an advisory: CVSS v3.x / v4 base score to band, else the record's own label.

Scores come from the ``cvss`` library (Red Hat's implementation of the FIRST specifications).
Bands follow the CVSS v3.1/v4.0 qualitative rating scale: 0.0 none, 0.1-3.9 low, 4.0-6.9 medium,
7.0-8.9 high, 9.0-10.0 critical (``pipvet.core.severity``, the scale scan uses too). "medium" is
shown as "moderate", like npm. A record without a usable vector or label is ``unknown``, which is
shown and counted, never dropped (pip-audit#654).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.matching.osv import Advisory, SeverityScore
from pipvet.core.severity import Severity

__all__ = ["Rating", "Severity", "band", "rate", "score_vector"]


@dataclass(frozen=True)
class Rating:
    """A severity band with where it came from: a CVSS score and vector, or a label."""

    severity: Severity
    score: float | None = None
    vector: str | None = None
    source: str = "unknown"  # "CVSS_V3", "CVSS_V4", "database", "unknown"


def band(score: float) -> Severity:
    """The CVSS qualitative band of a base score."""
    if score <= 0.0:
        return Severity.NONE
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MODERATE
    if score < 9.0:
        return Severity.HIGH
    return Severity.CRITICAL


def score_vector(entry: SeverityScore) -> float | None:
    """The base score of a CVSS v3.x or v4 vector, or None if it is not one or is malformed."""
    vector = entry.score.strip()
    try:
        if entry.type == "CVSS_V4" or vector.startswith("CVSS:4."):
            from cvss import CVSS4

            return float(CVSS4(vector).base_score)
        if entry.type == "CVSS_V3" or vector.startswith("CVSS:3."):
            from cvss import CVSS3

            return float(CVSS3(vector).base_score)
    except Exception:  # the cvss library raises its own error types for malformed vectors
        return None
    return None


def rate(advisory: Advisory, name: str | None = None) -> Rating:
    """Rate an advisory: the highest CVSS score among its vectors (v4 preferred), else a label."""
    entries = list(advisory.severity)
    labels = [advisory.database_severity]
    for a in advisory.affected_for(name) if name else advisory.affected:
        entries += a.severity
        labels.append(a.database_severity)
    scored = []
    for entry in entries:
        s = score_vector(entry)
        if s is not None:
            scored.append((entry.type == "CVSS_V4", s, entry))
    if scored:
        _, s, entry = max(scored, key=lambda t: (t[0], t[1]))
        return Rating(band(s), s, entry.score, entry.type or "CVSS")
    for label in labels:
        if label:
            sev = Severity.from_label(label)
            if sev is not Severity.UNKNOWN:
                return Rating(sev, source="database")
    return Rating(Severity.UNKNOWN)
