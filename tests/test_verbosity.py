"""What ``-q`` and ``-v`` change, command by command (the table in README.md, "Quiet and
verbose"): each command run three times (default, -q, -v) on the same input, in process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_audit_cli import RECORDS

from pipvet.cli.main import main
from pipvet.sources.advisories.db import build_db

NETWORK_AT_IMPORT = "import urllib.request\n\nurllib.request.urlopen('https://example.com/x')\n"


@pytest.fixture(autouse=True)
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CONFIG_DIR", str(tmp_path / "user-config"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "adv.sqlite"
    build_db(path, RECORDS, {"source": "test records", "date": "2024-06-01T00:00:00Z"})
    return path


def three(capsys, *argv: str, code: int = 0) -> dict[str, tuple[str, str]]:
    """(stdout, stderr) of ``pipvet ARGV`` by default, with -q and with -v."""
    runs = {}
    for mode, flags in (("default", []), ("quiet", ["-q"]), ("verbose", ["-v"])):
        capsys.readouterr()
        rc = main([*argv, *flags])
        out, err = capsys.readouterr()
        assert rc == code, (mode, out, err)
        runs[mode] = (out, err)
    return runs


def test_audit(capsys, tmp_path, db):
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2==2.10\nalpha==1.0\n")
    runs = three(capsys, "audit", "-r", str(req), "--db", str(db), code=1)
    out, err = runs["default"]
    assert "details: add -v" in out and "auditing 2 packages" in err
    assert "PYSEC-4" not in out
    out, err = runs["quiet"]
    assert out == "2 vulnerabilities (1 critical, 1 high) in 2 packages\n"
    assert "auditing" not in err and "advisory data is" in err  # a warning is never hidden
    out, _ = runs["verbose"]
    assert "PYSEC-4" in out and "PYSEC-1" in out and "aka CVE-1" in out


def test_scan(capsys, make_index):
    index = make_index(standard=True)
    clean = str(index.files_dir / "alpha-1.0-py3-none-any.whl")
    risky = str(index.add_wheel("delta", "1.0", files={"delta/__init__.py": NETWORK_AT_IMPORT}))
    runs = three(capsys, "scan", "--no-cache", "-j", "1", clean, risky)
    out, err = runs["default"]
    assert "alpha-1.0-py3-none-any.whl" in out and "delta-1.0" in out
    assert "[capability.network]" in out
    out, err = runs["quiet"]
    assert "alpha-1.0" not in out and "delta-1.0" in out  # what is not clean, and the count
    assert "2 artifacts scanned" in out and "[capability.network]" not in out
    out, err = runs["verbose"]
    assert "clean      alpha-1.0-py3-none-any.whl" in err  # each verdict as it comes
    assert "urlopen" in out  # the evidence


def test_lock(capsys, make_index, tmp_path):
    index = make_index(standard=True)
    runs = three(capsys, "lock", "alpha", "--index-url", index.url, "-o", str(tmp_path / "l"))
    assert "locked 3 packages" in runs["default"][1]
    assert runs["quiet"][1] == ""
    assert "resolved with" in runs["verbose"][1] and "locked 3 packages" in runs["verbose"][1]


def test_install(capsys, make_index, tmp_path):
    index = make_index(standard=True)
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    argv = ["install", "alpha", "--index-url", index.url, "--python", str(env), "--dry-run"]
    runs = three(capsys, *argv)
    err = runs["default"][1]
    assert "plan: 3 package(s)" in err and "install gate: 3 package(s)" in err
    assert "dry run: would install 3: alpha 2.0, beta 1.1, gamma 1.0" in err
    lines = runs["quiet"][1].splitlines()
    assert lines[-1] == (
        "dry run: would install 3: alpha 2.0, beta 1.1, gamma 1.0; 0 already there; "
        "nothing installed"
    )
    assert all(line.startswith("warning:") for line in lines[:-1])  # the old data's, kept
    assert "plan:" not in runs["quiet"][1] and "install gate" not in runs["quiet"][1]
    err = runs["verbose"][1]
    assert "  alpha==2.0: alpha-2.0-py3-none-any.whl" in err  # each file of the plan


def test_verify(capsys, make_index, tmp_path):
    index = make_index(standard=True)
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    assert main(["install", "beta==1.0", "--index-url", index.url, "--python", str(env)]) == 0
    runs = three(capsys, "verify", "--python", str(env))
    assert "verified 1 distributions" in runs["default"][1] and runs["default"][0] == ""
    assert runs["quiet"] == ("", "")
    assert "  beta 1.0: " in runs["verbose"][1] and "files, ok" in runs["verbose"][1]


def test_db_update_and_info(capsys, tmp_path, db):
    records = tmp_path / "records"
    records.mkdir()
    for r in RECORDS:
        (records / f"{r['id']}.json").write_text(json.dumps(r))
    other = {**RECORDS[0], "id": "NPM-1"}
    npm = {"name": "x", "ecosystem": "npm"}
    other["affected"] = [{**RECORDS[0]["affected"][0], "package": npm}]
    (records / "NPM-1.json").write_text(json.dumps(other))
    runs = three(capsys, "db", "update", "--from", str(records), "--db", str(tmp_path / "n.db"))
    assert "indexed 5 advisories" in runs["default"][1]
    assert runs["quiet"] == ("", "")
    assert "1 records name no PyPI package" in runs["verbose"][1]
    runs = three(capsys, "db", "info", "--db", str(db))
    assert "records:" in runs["default"][0] and "path:" in runs["default"][0]
    assert runs["quiet"][0].startswith("advisory data 2024-06-01")
    assert runs["quiet"][0].endswith("5 records\n") and runs["quiet"][0].count("\n") == 1
    assert runs["verbose"][0] == runs["default"][0]  # every field is shown by default


def test_diff(capsys, make_index):
    index = make_index(standard=True)
    runs = three(capsys, "diff", "alpha==1.0", "alpha==2.0", "--index-url", index.url)
    out = runs["default"][0]
    assert out.startswith("pipvet diff: alpha==1.0 -> alpha==2.0")
    quiet = runs["quiet"][0]
    assert quiet.count("\n") == 1 and quiet.strip() in out  # the answer alone
    assert len(runs["verbose"][0]) >= len(out)


def test_check_names(capsys):
    runs = three(capsys, "check-names", "reqeusts", "requests", "pipvet-tour-name", code=1)
    out = runs["default"][0]
    assert "requests: ok\n" in out and "1 of 3 names" in out
    assert runs["quiet"][0].splitlines() == [
        line for line in out.splitlines() if line.startswith("reqeusts: typosquat?")
    ]
    out = runs["verbose"][0]
    assert "requests: ok (popular itself: rank 6)" in out
    assert "pipvet-tour-name: ok (like no popular name)" in out


def test_explain(capsys):
    runs = three(capsys, "explain")
    default = runs["default"][0].splitlines()
    assert max(len(line) for line in default) <= 100  # one line each, cut to the width
    ids = runs["quiet"][0].splitlines()
    assert len(ids) == len(default) - 1 and "intent.decode-execute" in ids
    assert "intent.decode-execute" in runs["verbose"][0] and ": " in runs["verbose"][0]
    assert max(len(line) for line in runs["verbose"][0].splitlines()) > 100  # whole lines
    runs = three(capsys, "explain", "intent.decode-execute")
    assert "When it is a false positive" in runs["default"][0]
    quiet = runs["quiet"][0]
    assert "What it detects" in quiet and "Why it matters" not in quiet


def test_report(capsys, make_index):
    index = make_index(standard=True)
    runs = three(capsys, "report", "alpha==2.0", "--index-url", index.url)
    assert "pipvet sent nothing" in runs["default"][1]
    out, err = runs["quiet"]
    assert len(out) == len(runs["default"][0]) > 0  # the report itself is the same
    assert "pipvet sent nothing" not in err and "no sign of malice" in err  # warnings stay
