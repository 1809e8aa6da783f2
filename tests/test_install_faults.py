"""`pipvet install` under faults: interruptions, concurrent installs, slow or hostile indexes,
wheels of every layout. A real loopback index, real pip, real temporary venvs.

Every case compares the target venv (every file and its sha256) before and after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_install import installed, run_install, tree, write_lock

from pipvet.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/never-used/")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


def _data_wheel_files(version: str) -> dict[str, str]:
    """Members in every ``.data`` kind, plus console and GUI scripts and a plugin entry point."""
    data = f"layout-{version}.data"
    info = f"layout-{version}.dist-info"
    return {
        f"{data}/scripts/layout-tool": f"#!python\nprint('tool {version}')\n",
        f"{data}/data/share/layout/notes.txt": f"notes {version}\n",
        f"{data}/headers/layout.h": f"/* layout {version} */\n",
        f"{data}/purelib/layout_pure.py": f"V = {version!r}\n",
        f"{data}/platlib/layout_plat.py": f"V = {version!r}\n",
        f"{info}/entry_points.txt": (
            "[console_scripts]\nlayout-cli = layout:main\n\n"
            "[gui_scripts]\nlayout-gui = layout:main\n\n"
            "[layout.plugins]\nbasic = layout:main\n"
        ),
        "layout/__init__.py": f"def main():\n    return {version!r}\n",
    }


def test_wheels_with_every_data_kind_install_roll_back_and_verify(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    index.add_wheel("layout", "1.0", files=_data_wheel_files("1.0"))
    index.add_wheel("layout", "2.0", files=_data_wheel_files("2.0"))
    v1 = write_lock(index, tmp_path / "v1.lock", [("layout", "1.0")])
    rc, out = run_install(capsys, "--lock", str(v1), "--python", str(venv))
    assert rc == 0, out
    assert (venv / "bin" / "layout-tool").is_file() and (venv / "bin" / "layout-cli").is_file()
    assert (venv / "share" / "layout" / "notes.txt").read_text() == "notes 1.0\n"
    assert main(["verify", "--python", str(venv), "--lock", str(v1)]) == 0
    capsys.readouterr()
    # an upgrade to 2.0 that fails part-way (alpha cannot be written): everything 1.0 put in
    # bin/, share/, include/ and site-packages is restored byte for byte
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "alpha" / "__init__.py").mkdir(parents=True)
    (site / "alpha" / "__init__.py" / "blocker").write_text("x")
    before = tree(venv)
    v2 = write_lock(index, tmp_path / "v2.lock", [("alpha", "1.0"), ("layout", "2.0")])
    rc, out = run_install(capsys, "--lock", str(v2), "--python", str(venv))
    assert rc == 2 and "restored" in out, out
    assert tree(venv) == before
    shutil.rmtree(site / "alpha")
    rc, out = run_install(capsys, "--lock", str(v2), "--python", str(venv))
    assert rc == 0, out
    assert installed(venv)["layout"] == "2.0"
    assert (venv / "share" / "layout" / "notes.txt").read_text() == "notes 2.0\n"
    assert main(["verify", "--python", str(venv), "--lock", str(v2)]) == 0


@pytest.mark.network
@pytest.mark.parametrize("spec", ["awscli", "django==3.2"])
def test_real_packages_with_data_scripts_install_and_verify(spec, tmp_path, capsys):
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    rc, out = run_install(capsys, spec, "--python", str(env), "--no-audit")
    assert rc == 0, out
    assert main(["verify", "--python", str(env)]) == 0


_ = (os, ROOT)
