"""`pipvet audit` end to end: every source, formats, ignores, --fail-on, --fix, --online, bad input.

Packages come from the loopback index (real pip resolution) or real venvs; advisories from small
databases built per test, or the bundled snapshot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import referencing
from tests.support.osv_server import serve_osv

from pipvet.cli.main import main
from pipvet.sources.advisories.db import build_db
from pipvet.sources.advisories.snapshot import materialise

SCHEMAS = Path(__file__).parent / "data" / "schemas"
V31_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"  # 7.5
V31_CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


def rec(vid: str, name: str, events: list[dict], **extra) -> dict:
    return {
        "id": vid,
        "modified": "2024-05-01T00:00:00Z",
        "details": f"{vid} details. Second sentence.",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


RECORDS = [
    rec("PYSEC-1", "alpha", [{"introduced": "0"}, {"fixed": "2.0"}], aliases=["CVE-1"],
        severity=[{"type": "CVSS_V3", "score": V31_HIGH}]),
    rec("GHSA-aaaa-bbbb-cccc", "alpha", [{"introduced": "0"}, {"fixed": "2.0"}],
        aliases=["CVE-1"], database_specific={"severity": "MODERATE"}),
    rec("PYSEC-2", "beta", [{"introduced": "0"}, {"last_affected": "1.0"}]),  # no fix, unknown
    rec("PYSEC-3", "gamma", [{"introduced": "0"}, {"fixed": "1.0"}]),  # gamma 1.0 is clean
    rec("PYSEC-4", "jinja2", [{"introduced": "0"}, {"fixed": "2.11.3"}],
        severity=[{"type": "CVSS_V3", "score": V31_CRIT}]),
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "adv.sqlite"
    build_db(path, RECORDS, {"source": "test records", "date": "2024-06-01T00:00:00Z"})
    return path


@pytest.fixture(scope="module")
def snapshot_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "adv.sqlite"
    materialise(path)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["audit", *argv, "--format", "json"])
    cap = capsys.readouterr()
    return code, json.loads(cap.out), cap.err


def vulns_by_name(doc: dict) -> dict[str, list[dict]]:
    return {d["name"]: d["vulns"] for d in doc["dependencies"] if "vulns" in d}


def test_pinned_requirements_json_layout(tmp_path: Path, db: Path, capsys) -> None:
    req = write(
        tmp_path / "r.txt", 'Alpha==1.0\nbeta==1.0\ngamma==1.0\nold==1.0 ; python_version < "3"\n'
    )
    code, doc, err = run_json(capsys, "-r", str(req), "--db", str(db))
    assert code == 1
    vulns = vulns_by_name(doc)
    assert set(vulns) == {"alpha", "beta", "gamma"}
    assert vulns["gamma"] == []
    (alpha,) = vulns["alpha"]  # PYSEC-1 and GHSA-... alias each other via CVE-1: one finding
    assert alpha["id"] == "GHSA-aaaa-bbbb-cccc"
    assert sorted(alpha["aliases"]) == ["CVE-1", "PYSEC-1"]
    assert alpha["fix_versions"] == ["2.0"] and alpha["severity"] == "high"
    assert alpha["cvss"]["score"] == 7.5 and alpha["description"]
    assert vulns["beta"][0]["severity"] == "unknown" and vulns["beta"][0]["fix_versions"] == []
    skips = [d for d in doc["dependencies"] if "skip_reason" in d]
    assert len(skips) == 1 and "old" in skips[0]["name"]
    assert "python_version" in skips[0]["skip_reason"]
    assert doc["fixes"] == [{"name": "alpha", "old_version": "1.0", "new_version": "2.0"}]
    assert doc["meta"]["summary"] == "2 vulnerabilities (1 high, 1 unknown) in 2 packages"
    assert "not audited" in err and "python_version" in err


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("unknown", 1), ("low", 1), ("high", 1), ("critical", 0), ("none", 0)],
)
def test_fail_on_thresholds(tmp_path: Path, db: Path, capsys, fail_on: str, code: int) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\nbeta==1.0\n")
    assert main(["audit", "-r", str(req), "--db", str(db), "--fail-on", fail_on]) == code
    capsys.readouterr()


def test_unknown_only_fails_at_unknown(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "beta==1.0\n")
    assert main(["audit", "-r", str(req), "--db", str(db), "--fail-on", "low"]) == 0
    assert main(["audit", "-r", str(req), "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "1 vulnerability (1 unknown) in 1 package" in out and "unknown" in out


def test_text_output_blocks_and_data_age(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\ngamma==1.0\n")
    main(["audit", "-r", str(req), "--db", str(db), "-v"])
    out = capsys.readouterr().out
    assert "alpha 1.0  (1 vulnerability; fix: upgrade to alpha==2.0)" in out
    assert "GHSA-aaaa-bbbb-cccc" in out and "aka CVE-1, PYSEC-1" in out
    assert "advisory data: test records (2024-06-01" in out and "days old" in out
    assert "gamma" not in out


def test_default_text_is_one_line_per_package_summary_and_next_command(
    tmp_path: Path, db: Path, capsys
) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\nbeta==1.0\ngamma==1.0\njinja2==2.10\n")
    assert main(["audit", "-r", str(req), "--db", str(db)]) == 1
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    assert lines[:3] == [
        "alpha 1.0    high      1 advisory     fixed in 2.0",  # two records, one alias group
        "beta 1.0     unknown   1 advisory     no fixed version known",
        "jinja2 2.10  critical  1 advisory     fixed in 2.11.3",
    ]
    assert "3 vulnerabilities (1 critical, 1 high, 1 unknown) in 3 packages" in lines
    assert any(line.startswith("advisory data of 2024-06-01 (") for line in lines)
    assert "next: `pipvet audit --fix` (lists the upgrades that clear them)" in lines
    assert "GHSA-aaaa-bbbb-cccc" not in cap.out  # the advisories only with -v
    # data from 2024-06-01 is older than 30 days: one warning naming the refresh command
    warnings = [line for line in cap.err.splitlines() if "days old" in line]
    assert len(warnings) == 1 and "`pipvet db update`" in warnings[0]


def test_quiet_prints_only_the_summary_line(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    assert main(["audit", "-q", "-r", str(req), "--db", str(db)]) == 1
    assert capsys.readouterr().out == "1 vulnerability (1 high) in 1 package\n"


def test_fresh_data_gives_no_warning_and_a_lock_names_its_fix(
    tmp_path: Path, make_index, capsys
) -> None:
    import datetime as dt

    fresh = tmp_path / "fresh.sqlite"
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT00:00:00Z")
    build_db(fresh, RECORDS, {"source": "fresh records", "date": today})
    lock = write(tmp_path / "requirements.lock", "alpha==1.0 --hash=sha256:" + "0" * 64 + "\n")
    assert main(["audit", "--lock", str(lock), "--db", str(fresh)]) == 1
    cap = capsys.readouterr()
    assert f"advisory data of {today[:10]} (0 days old)" in cap.out
    assert "days old" not in cap.err
    assert f"next: `pipvet audit --lock {lock} --fix` (re-locks it with hashes)" in cap.out


def test_ignores_from_cli_and_config_with_expiry(
    tmp_path: Path, db: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "pyproject.toml",
        "[tool.pipvet.audit]\nignore = [\n"
        '  {id = "CVE-1", reason = "not reachable", expires = "2099-01-01"},\n'
        '  {id = "PYSEC-2", reason = "old decision", expires = "2020-01-01"},\n]\n',
    )
    req = write(tmp_path / "r.txt", "alpha==1.0\nbeta==1.0\njinja2==2.10\n")
    code, doc, err = run_json(capsys, "-r", str(req), "--db", str(db), "--ignore", "PYSEC-4")
    vulns = vulns_by_name(doc)
    assert vulns["alpha"] == [] and vulns["jinja2"] == []  # ignored by alias and by --ignore
    assert [v["id"] for v in vulns["beta"]] == ["PYSEC-2"]  # expired ignore no longer applies
    assert "PYSEC-2 expired on 2020-01-01" in err
    assert {i["id"] for i in doc["meta"]["ignored"]} == {"GHSA-aaaa-bbbb-cccc", "PYSEC-4"}
    assert code == 1


def test_bad_config_expiry_is_an_input_error(
    tmp_path: Path, db: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pipvet.toml", '[audit]\nignore = [{id = "X", expires = "soon"}]\n')
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    assert main(["audit", "-r", str(req), "--db", str(db)]) == 2
    assert "not a date" in capsys.readouterr().err


def test_lock_source_and_fix_relocks_with_hashes(tmp_path: Path, make_index, capsys) -> None:
    idx = make_index(standard=True)
    lock = tmp_path / "requirements.lock"
    assert main(["lock", "alpha==1.0", "--index-url", idx.url, "-o", str(lock)]) == 0
    db = tmp_path / "adv.sqlite"
    build_db(db, RECORDS, {"source": "t"})
    capsys.readouterr()
    code = main(["audit", "--lock", str(lock), "--db", str(db), "--fix", "--index-url", idx.url])
    cap = capsys.readouterr()
    assert code == 1 and "alpha 1.0" in cap.out
    assert "alpha==2.0" in cap.err and "re-locked" in cap.err
    text = lock.read_text()
    assert "alpha==2.0" in text and "--hash=sha256:" in text and "beta==" in text
    # the re-locked file audits clean for alpha
    code, doc, _ = run_json(capsys, "--lock", str(lock), "--db", str(db))
    vulns = vulns_by_name(doc)
    assert vulns["alpha"] == [] and "beta" in vulns


def test_unpinned_requirements_and_pyproject_are_resolved(
    tmp_path: Path, package_index, db: Path, capsys
) -> None:
    req = write(tmp_path / "r.txt", "alpha\n")
    code, doc, _ = run_json(capsys, "-r", str(req), "--db", str(db), "--index-url",
                            package_index.url)  # fmt: skip
    vulns = vulns_by_name(doc)
    assert set(vulns) == {"alpha", "beta", "gamma"}  # alpha 2.0 pulls beta 1.1 and gamma
    assert vulns["alpha"] == [] and vulns["beta"] == [] and code == 0
    pyproject = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "demo"\nversion = "0"\ndependencies = ["alpha<2", "beta==1.0"]\n',
    )
    code, doc, _ = run_json(capsys, "--pyproject", str(pyproject), "--db", str(db),
                            "--index-url", package_index.url)  # fmt: skip
    vulns = vulns_by_name(doc)
    assert set(vulns) == {"alpha", "beta"} and code == 1
    assert [v["id"] for v in vulns["beta"]] == ["PYSEC-2"]


def test_other_environment_via_python(tmp_path: Path, snapshot_db: Path, capsys) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the new venv is empty, so starting it runs no third-party code
    out = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    site = Path(out)
    assert site.is_relative_to(venv)  # never write into another interpreter's site-packages
    for name, version in (("Jinja2", "2.10"), ("urllib3", "2.2.2"), ("six", "1.16.0")):
        d = site / f"{name}-{version}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    code, doc, _ = run_json(capsys, "--python", str(py), "--db", str(snapshot_db))
    vulns = vulns_by_name(doc)
    assert set(vulns) == {"jinja2", "urllib3", "six"}
    assert {"PYSEC-2019-217", "PYSEC-2021-66"} <= {v["id"] for v in vulns["jinja2"]}
    assert vulns["six"] == [] and code == 1
    assert "bundled snapshot" in doc["meta"]["advisory_data"]


def test_unparsable_versions_are_reported_and_rest_audited(tmp_path: Path, capsys) -> None:
    db = tmp_path / "adv.sqlite"
    weird = rec("WEIRD-1", "alpha", [{"introduced": "0"}, {"fixed": "two point oh"}])
    build_db(db, [*RECORDS, weird], {"source": "t"})
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    assert main(["-v", "audit", "-r", str(req), "--db", str(db), "--format", "json"]) == 1
    cap = capsys.readouterr()
    doc, err = json.loads(cap.out), cap.err
    # the range's end cannot be read, so the open range counts (safe side), and it is said
    assert [v["id"] for v in vulns_by_name(doc)["alpha"]] == ["GHSA-aaaa-bbbb-cccc", "WEIRD-1"]
    assert "could not be fully evaluated" in err and "two point oh" in err
    assert doc["meta"]["problems"][0]["advisory"] == "WEIRD-1"


def test_corrupt_db_exits_2_with_a_clear_message(tmp_path: Path, capsys) -> None:
    bad = write(tmp_path / "bad.sqlite", "SQLite format 3\0 nope")
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    assert main(["audit", "-r", str(req), "--db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unreadable" in err and "pipvet db update" in err


def test_online_adds_osv_records_pages_and_reports_failures(
    tmp_path: Path, db: Path, capsys
) -> None:
    remote = {
        "GHSA-osv1": rec("GHSA-osv1", "gamma", [{"introduced": "0"}, {"fixed": "1.1"}],
                         aliases=["CVE-9"], severity=[{"type": "CVSS_V3", "score": V31_CRIT}]),
        "GHSA-osv2": rec("GHSA-osv2", "gamma", [{"introduced": "0.5"}, {"fixed": "1.2"}]),
        "PYSEC-1": RECORDS[0],  # already local: not fetched again
    }  # fmt: skip
    hits = {("gamma", "1.0"): ["GHSA-osv1", "GHSA-osv2", "GHSA-gone"],
            ("alpha", "1.0"): ["PYSEC-1"]}  # fmt: skip
    req = write(tmp_path / "r.txt", "alpha==1.0\ngamma==1.0\n")
    with serve_osv(remote, hits, page_size=1, fail_vulns={"GHSA-gone"}) as (url, state):
        code, doc, _err = run_json(capsys, "-r", str(req), "--db", str(db), "--online",
                                  "--osv-url", url)  # fmt: skip
    vulns = vulns_by_name(doc)
    assert {v["id"] for v in vulns["gamma"]} == {"GHSA-osv1", "GHSA-osv2"}
    assert len(vulns["alpha"]) == 1
    assert "GET /v1/vulns/PYSEC-1" not in state.requests
    assert sum(r == "POST /v1/querybatch" for r in state.requests) == 3  # paged by one id
    assert any(d.get("name") == "GHSA-gone" and "HTTP 500" in d["skip_reason"]
               for d in doc["dependencies"])  # fmt: skip
    assert doc["meta"]["osv"] == url and code == 1


def test_online_unreachable_keeps_local_results(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    code, doc, err = run_json(capsys, "-r", str(req), "--db", str(db), "--online",
                              "--osv-url", "http://127.0.0.1:9")  # fmt: skip
    assert "cannot reach OSV" in err and "local index only" in err
    assert len(vulns_by_name(doc)["alpha"]) == 1 and code == 1


def test_online_with_corrupt_db_uses_osv_only(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = write(tmp_path / "bad.sqlite", "garbage")
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    with serve_osv({"PYSEC-1": RECORDS[0]}, {("alpha", "1.0"): ["PYSEC-1"]}) as (url, _):
        monkeypatch.setenv("PIPVET_OSV_URL", url)
        code, doc, err = run_json(capsys, "-r", str(req), "--db", str(bad), "--online")
    assert "using OSV only" in err
    assert [v["id"] for v in vulns_by_name(doc)["alpha"]] == ["PYSEC-1"] and code == 1


def _registry() -> referencing.Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        res = referencing.Resource.from_contents(json.loads(path.read_text()))
        resources += [(path.name, res), (res.id() or path.name, res)]
    return referencing.Registry().with_resources(resources)


def _validate(doc: dict, schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, registry=_registry(), format_checker=cls.FORMAT_CHECKER).validate(doc)


def test_cyclonedx_validates_against_published_schema(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\nbeta==1.0\ngamma==1.0\n")
    out = tmp_path / "bom.json"
    main(["audit", "-r", str(req), "--db", str(db), "--format", "cyclonedx", "-o", str(out)])
    doc = json.loads(out.read_text())
    _validate(doc, "bom-1.5.SNAPSHOT.schema.json")
    assert doc["specVersion"] == "1.5" and len(doc["components"]) == 3
    assert {v["id"] for v in doc["vulnerabilities"]} == {"GHSA-aaaa-bbbb-cccc", "PYSEC-2"}
    broken = dict(doc, specVersion=1.5)
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, "bom-1.5.SNAPSHOT.schema.json")


@pytest.mark.skipif(not (SCHEMAS / "sarif-schema-2.1.0.json").exists(), reason="no SARIF schema")
def test_sarif_validates_against_published_schema(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\nbeta==1.0\n")
    main(["audit", "-r", str(req), "--db", str(db), "--format", "sarif"])
    doc = json.loads(capsys.readouterr().out)
    _validate(doc, "sarif-schema-2.1.0.json")
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"GHSA-aaaa-bbbb-cccc", "PYSEC-2"}
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["GHSA-aaaa-bbbb-cccc"]["properties"]["security-severity"] == "7.5"
    with pytest.raises(jsonschema.ValidationError):
        _validate(dict(doc, version="2.0"), "sarif-schema-2.1.0.json")


def test_markdown_table(tmp_path: Path, db: Path, capsys) -> None:
    req = write(tmp_path / "r.txt", "alpha==1.0\n")
    main(["audit", "-r", str(req), "--db", str(db), "--format", "markdown"])
    out = capsys.readouterr().out
    link = "[GHSA-aaaa-bbbb-cccc](https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc)"
    assert f"| alpha | 1.0 | {link}" in out
    assert out.startswith("**1 vulnerability (1 high) in 1 package**")
