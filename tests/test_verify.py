"""`pipvet verify` against a real venv into which real pip installed a real wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.core.record import record_digest


def build_wheel(dest: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal, valid pure-Python wheel with a correct RECORD."""
    dist_info = f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    members[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [
        f"{p},sha256={record_digest(d.encode(), 'sha256')},{len(d.encode())}"
        for p, d in members.items()
    ]
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    path = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in members.items():
            zf.writestr(p, d)
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A venv (without pip) with one wheel installed by real pip; returns (python, site)."""
    root = tmp_path_factory.mktemp("verify")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    py = env / "bin" / "python"
    wheel = build_wheel(
        root,
        "demo",
        "1.0",
        {"demo/__init__.py": "VALUE = 1\n", "demo/util.py": "def f():\n    return 2\n"},
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--isolated",
            "-q",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
    )
    site = next((env / "lib").glob("python*/site-packages"))
    return py, site


def _verify(capsys, *argv: str) -> tuple[int, dict]:
    rc = main(["verify", *argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_clean_install_verifies(venv, capsys) -> None:
    py, _ = venv
    rc, data = _verify(capsys, "--python", str(py))
    demo = next(d for d in data["distributions"] if d["name"] == "demo")
    assert rc == 0 and data["ok"]
    assert demo["files_checked"] >= 4 and demo["problems"] == []


def test_modified_missing_and_unrecorded_files_are_listed(venv, capsys, tmp_path) -> None:
    py, site = venv
    util = site / "demo" / "util.py"
    init = site / "demo" / "__init__.py"
    saved = {p: p.read_bytes() for p in (util, init)}
    try:
        util.write_text("def f():\n    return 3\n")  # same size, other bytes
        init.unlink()
        (site / "demo" / "backdoor.py").write_text("import os\n")
        (site / "demo" / "__pycache__").mkdir(exist_ok=True)
        (site / "demo" / "__pycache__" / "backdoor.cpython-311.pyc").write_bytes(b"\0")
        rc, data = _verify(capsys, "--python", str(py.parent.parent))
        demo = next(d for d in data["distributions"] if d["name"] == "demo")
        got = {(p["problem"], p["path"]) for p in demo["problems"]}
        assert rc == 1 and not data["ok"]
        assert got == {
            ("modified", "demo/util.py"),
            ("missing", "demo/__init__.py"),
            ("unrecorded", "demo/backdoor.py"),
        }
        assert demo["ignored_pycache"] == 1
        # the text form names each file, one line each, and a summary on stderr
        assert main(["verify", "--python", str(py)]) == 1
        out, err = capsys.readouterr()
        assert "demo 1.0: modified demo/util.py" in out
        assert "demo 1.0: missing demo/__init__.py" in out
        assert "demo 1.0: unrecorded demo/backdoor.py" in out
        assert "3 file problem(s)" in err
    finally:
        for p, data_ in saved.items():
            p.write_bytes(data_)
        (site / "demo" / "backdoor.py").unlink()
        (site / "demo" / "__pycache__" / "backdoor.cpython-311.pyc").unlink()
    assert main(["verify", "--python", str(py)]) == 0


def test_lock_comparison_lists_missing_extra_and_other_versions(make_index, tmp_path, capsys):
    from tests.test_install import write_lock

    index = make_index(standard=True)
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    have = write_lock(index, tmp_path / "have.lock", [("beta", "1.0"), ("gamma", "1.0")])
    assert main(["install", "--lock", str(have), "--python", str(env)]) == 0
    want = write_lock(index, tmp_path / "want.lock", [("alpha", "2.0"), ("beta", "1.1")])
    capsys.readouterr()
    rc, data = _verify(capsys, "--python", str(env), "--lock", str(want))
    assert rc == 1 and data["distributions"] and all(d["ok"] for d in data["distributions"])
    assert data["lock"]["missing"] == ["alpha==2.0"]
    assert data["lock"]["extra"] == ["gamma==1.0"]
    assert data["lock"]["other_version"] == [{"name": "beta", "installed": "1.0", "locked": "1.1"}]
    assert main(["verify", "--python", str(env), "--lock", str(have)]) == 0
