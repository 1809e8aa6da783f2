"""The engine of install's last step: uv by default, pip on request or where uv cannot serve, and
either one leaves an environment that verifies clean. A real loopback index, real uv and pip, real
temporary venvs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_install import installed, run_install, tree, write_lock

from pipvet.cli.main import main


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


def _site(env: Path) -> Path:
    return next((env / "lib").glob("python*/site-packages"))


@pytest.mark.parametrize(("argv", "engine", "why"), [
    ((), "uv", "the default"),
    (("--installer", "uv"), "uv", "--installer uv"),
    (("--installer", "pip"), "pip", "--installer pip"),
])  # fmt: skip
def test_the_engine_and_why_are_said_with_v_and_the_result_verifies(
    make_index, venv, tmp_path, capsys, argv, engine, why
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    rc, out = run_install(capsys, "-v", *argv, "--lock", str(lock), "--python", str(venv))
    assert rc == 0, out
    assert f"installer: {engine} ({why})" in out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    site = _site(venv)
    assert (site / "beta-1.1.dist-info" / "INSTALLER").read_text().strip() == engine
    # bytecode as pip writes it by default, whichever engine installed
    assert list((site / "beta" / "__pycache__").glob("__init__.*.pyc")), out
    assert main(["verify", "--python", str(venv), "--lock", str(lock)]) == 0


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_no_compile_writes_no_bytecode(make_index, venv, tmp_path, capsys, installer):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("beta", "1.1")])
    argv = ["--installer", installer, "--no-compile", "--lock", str(lock), "--python", str(venv)]
    rc, out = run_install(capsys, *argv)
    assert rc == 0, out
    assert installed(venv) == {"beta": "1.1"}
    assert not list(_site(venv).rglob("*.pyc"))


def test_without_uv_pip_installs_and_says_why(make_index, venv, tmp_path, capsys, monkeypatch):
    import pipvet.sources.resolver as resolver

    monkeypatch.setattr(resolver, "find_uv", lambda: None)  # uv cannot be uninstalled here
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("beta", "1.1")])
    rc, out = run_install(capsys, "-v", "--lock", str(lock), "--python", str(venv))
    assert rc == 0, out
    assert "installer: pip (uv not found)" in out
    assert (_site(venv) / "beta-1.1.dist-info" / "INSTALLER").read_text().strip() == "pip"
    # asking for uv where there is none is bad input, and nothing is touched
    other = tmp_path / "other"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    before = tree(other)
    rc, out = run_install(capsys, "--installer", "uv", "--lock", str(lock), "--python", str(other))
    assert rc == 2 and "--installer uv: uv not found" in out
    assert tree(other) == before


def test_an_upgrade_with_uv_then_pip_replaces_cleanly(make_index, venv, tmp_path, capsys):
    """One engine installs, the other upgrades: the old version's files and .pyc are gone and
    the environment verifies."""
    index = make_index(standard=True)
    old = write_lock(index, tmp_path / "old.lock", [("beta", "1.0")])
    new = write_lock(index, tmp_path / "new.lock", [("beta", "1.1")])
    assert (
        run_install(capsys, "--installer", "uv", "--lock", str(old), "--python", str(venv))[0] == 0
    )
    rc, out = run_install(capsys, "--installer", "pip", "--lock", str(new), "--python", str(venv))
    assert rc == 0, out
    site = _site(venv)
    assert installed(venv) == {"beta": "1.1"} and not (site / "beta-1.0.dist-info").exists()
    assert main(["verify", "--python", str(venv), "--lock", str(new)]) == 0


@pytest.mark.parametrize(
    ("argv", "said"), [((), "uv (the default)"), (("--resolver", "pip"), "pip (--resolver pip)")]
)
def test_lock_says_its_resolver_and_why(make_index, tmp_path, capsys, argv, said):
    index = make_index(standard=True)
    out = tmp_path / "requirements.lock"
    assert main(["-v", "lock", "alpha", *argv, "--index-url", index.url, "-o", str(out)]) == 0
    assert f"resolved with {said}" in capsys.readouterr().err
