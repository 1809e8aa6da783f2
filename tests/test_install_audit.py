"""`pipvet install` audits the planned set before downloading anything (issue 3, item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.sources.environment import installed_distributions

ADVISORY = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001"],
    "modified": "2026-01-01T00:00:00Z",
    "summary": "alpha before 2.0 lets a crafted input run commands",
    "details": "A test advisory.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "alpha"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
        }
    ],
}


@pytest.fixture
def advisory_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    records = tmp_path / "osv"
    records.mkdir()
    (records / "PYSEC-2099-1.json").write_text(json.dumps(ADVISORY))
    db = tmp_path / "advisories.sqlite"
    assert main(["db", "update", "--from", str(records), "--db", str(db)]) == 0
    return db


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


def names(env: Path) -> dict[str, str]:
    return {d.name: str(d.version) for d in installed_distributions(str(env))}


def test_vulnerable_pin_is_refused_over_the_threshold(make_index, advisory_db, venv, capsys):
    index = make_index(standard=True)
    capsys.readouterr()
    rc = main(
        ["install", "alpha==1.0", "--index-url", index.url, "--python", str(venv),
         "--db", str(advisory_db), "--fail-on", "high"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "PYSEC-2099-1" in err and "fix: alpha==2.0" in err
    assert "1 vulnerability (1 critical) in 1 package" in err
    assert names(venv) == {}
    # audited before downloading: no artifact was fetched (metadata files only, for resolving)
    fetched = [p for p in index.requests if p.startswith("/files/")]
    assert fetched and all(p.endswith(".metadata") for p in fetched), fetched


def test_vulnerable_pin_is_shown_but_installed_by_default(make_index, advisory_db, venv, capsys):
    index = make_index(standard=True)
    capsys.readouterr()
    rc = main(
        ["install", "alpha==1.0", "--index-url", index.url, "--python", str(venv),
         "--db", str(advisory_db)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "1 vulnerability (1 critical) in 1 package" in err
    assert names(venv) == {"alpha": "1.0"}
    # the audit line says how old its data is; the last line names what was installed
    audit = next(line for line in err.splitlines() if line.startswith("warning: audit: "))
    assert "(advisory data of " in audit
    assert err.splitlines()[-1] == "done: 1 installed: alpha 1.0; 0 already there"


def test_old_advisory_data_is_one_warning_with_the_refresh_command(
    make_index, tmp_path: Path, venv, capsys
):
    from pipvet.sources.advisories.db import build_db

    index = make_index(standard=True)
    db = tmp_path / "old.sqlite"
    build_db(db, [ADVISORY], {"source": "old records", "date": "2020-01-01T00:00:00Z"})
    capsys.readouterr()
    args = ["install", "alpha==2.0", "--index-url", index.url, "--python", str(venv)]
    assert main([*args, "--db", str(db), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "(advisory data of 2020-01-01 (" in err
    stale = [line for line in err.splitlines() if "pipvet db update" in line]
    assert len(stale) == 1 and "days old" in stale[0]


def test_clean_set_says_so_and_no_audit_skips(make_index, advisory_db, venv, capsys):
    index = make_index(standard=True)
    capsys.readouterr()
    args = ["install", "alpha==2.0", "--index-url", index.url, "--python", str(venv)]
    assert main([*args, "--db", str(advisory_db), "--fail-on", "low", "--dry-run"]) == 0
    assert "no known vulnerabilities in 3 packages" in capsys.readouterr().err
    assert main([*args, "--no-audit", "--dry-run"]) == 0
    assert "audit" not in capsys.readouterr().err
