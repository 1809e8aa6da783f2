"""CVSS v3/v4 scoring to bands (checked against the FIRST calculators), labels, unknown."""

from __future__ import annotations

import pytest

from pipvet.core.matching.osv import parse_advisory
from pipvet.core.matching.severity import Severity, band, rate


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.0, Severity.NONE),
        (0.1, Severity.LOW),
        (3.9, Severity.LOW),
        (4.0, Severity.MODERATE),
        (6.9, Severity.MODERATE),
        (7.0, Severity.HIGH),
        (8.9, Severity.HIGH),
        (9.0, Severity.CRITICAL),
        (10.0, Severity.CRITICAL),
    ],
)
def test_bands(score: float, expected: Severity) -> None:
    assert band(score) is expected


def _adv(severity=None, db=None, affected_db=None):
    rec = {"id": "X-1", "affected": [{"package": {"name": "demo", "ecosystem": "PyPI"}}]}
    if severity:
        rec["severity"] = severity
    if db:
        rec["database_specific"] = {"severity": db}
    if affected_db:
        rec["affected"][0]["database_specific"] = {"severity": affected_db}
    return parse_advisory(rec)


@pytest.mark.parametrize(
    ("vector", "score", "sev"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 7.5, Severity.HIGH),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5, Severity.MODERATE),
        ("CVSS:3.0/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 2.0, Severity.LOW),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, Severity.NONE),
    ],
)
def test_cvss_v3(vector: str, score: float, sev: Severity) -> None:
    r = rate(_adv([{"type": "CVSS_V3", "score": vector}]))
    assert (r.score, r.severity, r.source) == (score, sev, "CVSS_V3")


@pytest.mark.parametrize(
    ("vector", "score", "sev"),
    [
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, Severity.CRITICAL),
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", 6.8, Severity.MODERATE),
    ],
)
def test_cvss_v4(vector: str, score: float, sev: Severity) -> None:
    r = rate(_adv([{"type": "CVSS_V4", "score": vector}]))
    assert (r.score, r.severity) == (score, sev)


def test_v4_preferred_over_v3() -> None:
    r = rate(
        _adv(
            [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {
                    "type": "CVSS_V4",
                    "score": "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
                },
            ]
        )
    )
    assert r.source == "CVSS_V4" and r.severity is Severity.MODERATE


def test_label_fallbacks_and_unknown() -> None:
    assert rate(_adv(db="MODERATE")).severity is Severity.MODERATE
    assert rate(_adv(db="medium")).severity is Severity.MODERATE
    assert rate(_adv(affected_db="CRITICAL"), "demo").severity is Severity.CRITICAL
    bad = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:X/garbage"}]
    assert rate(_adv(bad, db="HIGH")).severity is Severity.HIGH  # malformed vector falls back
    r = rate(_adv(bad))
    assert r.severity is Severity.UNKNOWN and r.severity.label == "unknown"
    assert rate(_adv(db="whatever")).severity is Severity.UNKNOWN
