"""OSV matching against real PyPA advisories (hand-checked) and hand-made corner cases."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from pipvet.core.matching.findings import match_package, merge_aliases, smallest_fix
from pipvet.core.matching.osv import AdvisoryError, parse_advisory
from pipvet.core.matching.ranges import advisory_verdict
from pipvet.core.matching.severity import Severity
from pipvet.core.models import PackageId

VULNS = Path(__file__).resolve().parents[2] / "shared/advisories/pypa-advisory-database/vulns"
pytestmark = pytest.mark.skipif(not VULNS.is_dir(), reason="shared advisory database missing")


def real(rel: str):
    return parse_advisory(yaml.safe_load((VULNS / rel).read_text()))


def verdict(rel: str, name: str, version: str):
    return advisory_verdict(real(rel), name, Version(version))


# ansible PYSEC-2020-208: [2.7.0, 2.8.0a1) [2.8.0, 2.8.13) [2.9.0, 2.9.10)
@pytest.mark.parametrize(
    ("version", "affected", "fix"),
    [
        ("2.6.9", False, None),
        ("2.7.0", True, "2.8.0a1"),
        ("2.7.18", True, "2.8.0a1"),
        ("2.8.0a1", False, None),  # the pre-release is the fix
        ("2.8.0b1", False, None),  # between the fix and the next introduced
        ("2.8.0rc1", False, None),
        ("2.8.0", True, "2.8.13"),
        ("2.8.12", True, "2.8.13"),
        ("2.8.13", False, None),
        ("2.9.9", True, "2.9.10"),
        ("2.9.10", False, None),
        ("2.10.0", False, None),
    ],
)
def test_multi_range_with_prerelease_fix(version: str, affected: bool, fix: str | None) -> None:
    v = verdict("ansible/PYSEC-2020-208.yaml", "ansible", version)
    assert v.affected is affected
    assert v.fixed_in == ((Version(fix),) if fix else ())


# django PYSEC-2014-19: ..., [1.6, 1.6.5), [1.7a0, 1.7b4)
@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("1.6.4", True),
        ("1.6.5.dev0", True),  # dev release sorts before 1.6.5: still affected
        ("1.6.4+ubuntu1", True),  # local version of an affected release
        ("1.6.5", False),
        ("1.7a0", True),
        ("1.7b3", True),
        ("1.7b4", False),
        ("1.7", False),
        ("1.3.9", False),  # below the first introduced
    ],
)
def test_pre_dev_local_ordering(version: str, affected: bool) -> None:
    assert verdict("django/PYSEC-2014-19.yaml", "Django", version).affected is affected


# beaker PYSEC-2012-1: [0, 1.6.5.post1)
@pytest.mark.parametrize(
    ("version", "affected"),
    [("1.6.5", True), ("1.6.5.post1", False), ("1.6.5.post1+deb", False), ("0.1", True)],
)
def test_post_release_fix(version: str, affected: bool) -> None:
    assert verdict("beaker/PYSEC-2012-1.yaml", "beaker", version).affected is affected


def test_last_affected_is_inclusive() -> None:
    # py PYSEC-2022-42969: introduced 0, last_affected 1.11.0, no fix
    assert verdict("py/PYSEC-2022-42969.yaml", "py", "1.11.0").affected
    assert verdict("py/PYSEC-2022-42969.yaml", "py", "1.4.0").affected
    v = verdict("py/PYSEC-2022-42969.yaml", "py", "1.11.0")
    assert v.fixed_in == ()
    assert not verdict("py/PYSEC-2022-42969.yaml", "py", "1.11.1").affected


def test_withdrawn_is_skipped() -> None:
    adv = real("redis/PYSEC-2023-73.yaml")
    assert adv.withdrawn
    assert not advisory_verdict(adv, "redis", Version("2.10.6")).affected


def test_introduced_zero_and_explicit_versions() -> None:
    # jinja2 PYSEC-2014-8: [0, 2.7.2) plus a versions list including 2.0rc1
    assert verdict("jinja2/PYSEC-2014-8.yaml", "jinja2", "2.0rc1").affected
    assert verdict("jinja2/PYSEC-2014-8.yaml", "Jinja2", "0.0.1.dev0").affected
    assert not verdict("jinja2/PYSEC-2014-8.yaml", "jinja2", "2.7.2").affected


def test_pep503_name_normalisation() -> None:
    adv = real("apache-airflow/PYSEC-2019-214.yaml")
    for name in ("Apache_Airflow", "apache.airflow", "APACHE-AIRFLOW"):
        assert advisory_verdict(adv, name, Version("1.10.2")).affected
    assert not advisory_verdict(adv, "airflow", Version("1.10.2")).affected


def _rec(**kw):
    base = {
        "id": "TEST-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"name": "demo", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    base.update(kw)
    return parse_advisory(base)


def test_limited_caps_the_range() -> None:
    adv = _rec(
        affected=[
            {
                "package": {"name": "demo", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"limited": "2.0"}]}
                ],
            }
        ]
    )
    assert advisory_verdict(adv, "demo", Version("1.5")).affected
    assert not advisory_verdict(adv, "demo", Version("2.0")).affected
    assert not advisory_verdict(adv, "demo", Version("0.9")).affected


def test_introduced_zero_below_zero_dev() -> None:
    adv = _rec()
    assert advisory_verdict(adv, "demo", Version("0.dev0")).affected


def test_unparsable_versions_are_reported_not_raised() -> None:
    adv = _rec(
        affected=[
            {
                "package": {"name": "demo", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not a ver"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.1"}]},
                ],
                "versions": ["weird!!"],
            }
        ],
        future_field={"x": 1},  # unknown fields are tolerated
    )
    v = advisory_verdict(adv, "demo", Version("3.0.5"))
    assert v.affected and v.fixed_in == (Version("3.1"),)
    assert any("not a ver" in p for p in v.problems)
    findings, problems = match_package(PackageId.of("demo", "3.0.5"), [adv])
    assert len(findings) == 1 and problems


def test_bad_records_raise_advisory_error() -> None:
    for bad in ({}, {"id": ""}, {"id": "X", "affected": "nope"}, [1, 2]):
        with pytest.raises(AdvisoryError):
            parse_advisory(bad)


def test_aliases_merge_into_one_finding() -> None:
    pysec = real("ansible/PYSEC-2019-2.yaml")  # aliases CVE-2019-10156, GHSA-grgm-pph5-j5h7
    ghsa = parse_advisory(
        {
            "id": "GHSA-grgm-pph5-j5h7",
            "aliases": ["CVE-2019-10156"],
            "summary": "Ansible template injection",
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"}
            ],
            "affected": [
                {
                    "package": {"name": "ansible", "ecosystem": "PyPI"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.6.18"}]}
                    ],
                }
            ],
        }
    )
    unrelated = real("ansible/PYSEC-2020-10.yaml")
    findings, _ = match_package(PackageId.of("ansible", "2.6.0"), [pysec, ghsa, unrelated])
    assert len(findings) == 2
    merged = next(f for f in findings if "CVE-2019-10156" in f.ids)
    assert merged.id == "GHSA-grgm-pph5-j5h7"
    assert set(merged.ids) == {"GHSA-grgm-pph5-j5h7", "PYSEC-2019-2", "CVE-2019-10156"}
    assert merged.severity is Severity.HIGH  # 7.5 from the GHSA vector
    assert merged.fixed_in == (Version("2.6.18"),)


def test_merge_is_transitive_and_both_ways() -> None:
    a = _rec(id="A", aliases=["B"])
    b = _rec(id="C", aliases=[])
    c = _rec(id="B", aliases=["C"])  # A->B, B->C: all one
    d = _rec(id="D")
    groups = merge_aliases([a, b, c, d])
    assert sorted(sorted(x.id for x in g) for g in groups) == [["A", "B", "C"], ["D"]]


def test_smallest_fix_skips_versions_hit_by_another_range() -> None:
    advs = [real(f"django/{n}") for n in ("PYSEC-2014-19.yaml", "PYSEC-2014-1.yaml")]
    # 1.6.0: fixed in 1.6.3 by 2014-1, but 1.6.3 is still affected by 2014-19 (fixed 1.6.5)
    assert smallest_fix(PackageId.of("django", "1.6.0"), advs) == Version("1.6.5")
    # 1.7b3 (affected by 2014-19): the only named fix above it is the pre-release 1.7b4
    assert smallest_fix(PackageId.of("django", "1.7b3"), advs) == Version("1.7b4")


def test_smallest_fix_prefers_final_releases() -> None:
    adv = real("ansible/PYSEC-2020-208.yaml")
    assert smallest_fix(PackageId.of("ansible", "2.7.18"), [adv]) == Version("2.8.13")
    last = real("py/PYSEC-2022-42969.yaml")  # no fix named at all
    assert smallest_fix(PackageId.of("py", "1.11.0"), [last]) is None


def test_version_key_agrees_with_packaging_on_every_listed_version() -> None:
    from packaging.utils import canonicalize_version
    from packaging.version import InvalidVersion

    from pipvet.core.matching.osv import version_key

    seen = 0
    for path in VULNS.glob("[a-d]*/*.yaml"):
        for a in yaml.safe_load(path.read_text())["affected"]:
            for raw in [*a.get("versions", []), "1.0.0", "0", "00.10.0", "1.0.post0", "v2.0"]:
                raw = str(raw)
                try:
                    expected = canonicalize_version(Version(raw), strip_trailing_zero=True)
                except InvalidVersion:
                    expected = None
                assert version_key(raw) == expected, raw
                seen += 1
    assert seen > 5000


def test_fast_path_agrees_with_full_verdict_on_real_records() -> None:
    from pipvet.core.matching.osv import version_key
    from pipvet.core.matching.ranges import all_fix_versions, is_affected

    checked = hits = 0
    for path in sorted(VULNS.glob("[d-f]*/*.yaml")):
        adv = parse_advisory(yaml.safe_load(path.read_text()))
        for entry in adv.affected:
            probes = {Version("0.0.1"), Version("99.0")} | all_fix_versions(adv, entry.name)
            probes |= {Version(v) for v in entry.versions[:20] if version_key(v) is not None}
            for v in probes:
                full = advisory_verdict(adv, entry.name, v).affected
                assert is_affected(adv, entry.name, v, version_key(str(v))) == full, (adv.id, v)
                checked += 1
                hits += full
    assert checked > 1000 and hits > 100
