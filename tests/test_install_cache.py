"""Re-installs cost nothing: verified downloads are cached by sha256 (and re-hashed before use),
an already-installed lock skips staging and pip, and the rollback backup holds only what changes.

Real loopback index, real pip, real temporary venvs.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_install import installed, run_install, tree, write_lock

from pipvet.installer import rollback


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def _file_requests(index) -> list[str]:
    return [r for r in index.requests if "/files/" in r and not r.endswith(".metadata")]


def _cache_entry(tmp_path: Path, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return tmp_path / "cache" / "files" / "sha256" / sha[:2] / sha[2:4] / sha


def test_installing_an_installed_lock_again_downloads_nothing_and_runs_no_pip(
    make_index, tmp_path, capsys
):
    index = make_index(standard=True)
    venv = _venv(tmp_path / "venv")
    lock = write_lock(index, tmp_path / "requirements.lock")
    assert run_install(capsys, "--lock", str(lock), "--python", str(venv))[0] == 0
    before = tree(venv)
    index.requests.clear()
    index.fail_after(0)  # a file request now would fail: nothing may be downloaded
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 0, out
    assert "already installed" in out and "0 installed, 3 already there" in out
    assert _file_requests(index) == []
    assert tree(venv) == before


def test_one_changed_package_is_installed_normally(make_index, tmp_path, capsys, installer):
    index = make_index(standard=True)
    venv = _venv(tmp_path / "venv")
    old = write_lock(index, tmp_path / "old.lock", [("alpha", "1.0"), ("beta", "1.0")])
    assert (
        run_install(capsys, "--installer", installer, "--lock", str(old), "--python", str(venv))[0]
        == 0
    )
    new = write_lock(index, tmp_path / "new.lock", [("alpha", "1.0"), ("beta", "1.1")])
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(new), "--python", str(venv)
    )
    assert rc == 0, out
    assert "already installed: all" not in out and "1 installed: beta 1.1; 1 already there" in out
    assert installed(venv) == {"alpha": "1.0", "beta": "1.1"}


def test_verified_downloads_are_reused_from_the_cache(make_index, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    first = _venv(tmp_path / "first")
    assert run_install(capsys, "--lock", str(lock), "--python", str(first))[0] == 0
    wheel = (index.files_dir / "beta-1.1-py3-none-any.whl").read_bytes()
    assert _cache_entry(tmp_path, wheel).read_bytes() == wheel
    index.requests.clear()
    index.fail_after(0)  # the index can no longer serve files: only the cache can
    second = _venv(tmp_path / "second")
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(second))
    assert rc == 0, out
    assert _file_requests(index) == []
    assert installed(second) == installed(first) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}


def test_a_tampered_cache_entry_is_never_installed(make_index, tmp_path, capsys, installer):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    first = _venv(tmp_path / "first")
    assert (
        run_install(capsys, "--installer", installer, "--lock", str(lock), "--python", str(first))[
            0
        ]
        == 0
    )
    genuine = (index.files_dir / "beta-1.1-py3-none-any.whl").read_bytes()
    other = (index.files_dir / "beta-1.0-py3-none-any.whl").read_bytes()  # a valid wheel
    entry = _cache_entry(tmp_path, genuine)
    entry.write_bytes(other)
    second = _venv(tmp_path / "second")
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(second)
    )
    assert rc == 0, out
    assert any(r.endswith("/beta-1.1-py3-none-any.whl") for r in _file_requests(index))
    assert installed(second) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    site = next((second / "lib").glob("python*/site-packages"))
    assert (site / "beta-1.1.dist-info").is_dir() and not (site / "beta-1.0.dist-info").exists()
    assert entry.read_bytes() == genuine  # the bad entry was replaced by verified bytes


def test_a_tampered_cache_entry_with_the_index_gone_refuses(
    make_index, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    first = _venv(tmp_path / "first")
    assert (
        run_install(capsys, "--installer", installer, "--lock", str(lock), "--python", str(first))[
            0
        ]
        == 0
    )
    genuine = (index.files_dir / "beta-1.1-py3-none-any.whl").read_bytes()
    _cache_entry(tmp_path, genuine).write_bytes(b"PK\x03\x04 not the locked bytes")
    index.fail_after(0)
    second = _venv(tmp_path / "second")
    before = tree(second)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(second)
    )
    assert rc == 3, out
    assert tree(second) == before
    assert not _cache_entry(tmp_path, genuine).exists()


def test_rollback_backup_holds_only_packages_that_change(
    make_index, tmp_path, capsys, monkeypatch, installer
):
    saved: list[tuple[Path, ...]] = []
    real = rollback.take_snapshot

    def spy(**kwargs):  # the real snapshot, recorded
        snap = real(**kwargs)
        saved.append(snap.saved)
        return snap

    monkeypatch.setattr(rollback, "take_snapshot", spy)
    index = make_index(standard=True)
    venv = _venv(tmp_path / "venv")
    old = write_lock(index, tmp_path / "old.lock", [("beta", "1.0"), ("gamma", "1.0")])
    assert (
        run_install(capsys, "--installer", installer, "--lock", str(old), "--python", str(venv))[0]
        == 0
    )
    saved.clear()
    new = write_lock(index, tmp_path / "new.lock", [("beta", "1.1"), ("gamma", "1.0")])
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(new), "--python", str(venv)
    )
    assert rc == 0, out
    assert len(saved) == 1
    names = {p.relative_to(venv).parts[3] for p in saved[0]}  # lib/pythonX.Y/site-packages/x
    assert "beta-1.0.dist-info" in names  # the replaced package is saved...
    assert not any(n.startswith("gamma") for n in names), names  # ...the unchanged one is not
