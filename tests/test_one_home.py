"""One home for each job: where two commands did the same job, they now agree (issue 8).

Each test is one disagreement that was reproduced on main before the job had one home: scan -r
against lock/install -r, audit's default environment against verify's, lock's build requirements
against install's, lock's pip environment against install's, audit -o against lock -o, and the
global flags before or after the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import index_builder as builder
from tests.support.index_server import TestIndex

from pipvet.cli.main import main
from pipvet.core.lockfile_io import read_lock
from pipvet.sources.advisories.db import build_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "adv.sqlite"
    build_db(path, [], {"source": "test records", "date": "2024-06-01T00:00:00Z"})
    return path


def _venv_with(tmp_path: Path, *dists: tuple[str, str]) -> Path:
    """A new empty venv (no pip) with fake .dist-info folders: starting it runs no package code."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    site = Path(purelib)
    assert site.is_relative_to(venv)
    for name, version in dists:
        d = site / f"{name}-{version}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (d / "RECORD").write_text(f"{d.name}/METADATA,,\n{d.name}/RECORD,,\n")
    return venv


# -- requirements files: one reader -------------------------------------------------------------


def test_scan_requirements_follows_includes_and_expands_variables(
    make_index, tmp_path: Path, monkeypatch, capsys
) -> None:
    idx = make_index()
    idx.add_wheel("demo", "1.0")
    idx.add_wheel("other", "0.5")
    monkeypatch.setenv("DEMO_VERSION", "1.0")
    (tmp_path / "more.txt").write_text("other==0.5\n")
    req = tmp_path / "requirements.txt"
    req.write_text("demo==${DEMO_VERSION}\n-r more.txt\n")
    code = main(["scan", "--format", "json", "-r", str(req), "--index-url", idx.url])
    doc = json.loads(capsys.readouterr().out)
    assert sorted(a["filename"] for a in doc["artifacts"]) == [
        "demo-1.0-py3-none-any.whl",
        "other-0.5-py3-none-any.whl",
    ]
    assert code == 0


# -- the default environment: the active venv, named ----------------------------------------------


def test_audit_defaults_to_the_active_venv_and_names_it(
    tmp_path: Path, db: Path, monkeypatch, capsys
) -> None:
    venv = _venv_with(tmp_path, ("zz-only-in-venv", "1.0"))
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    code = main(["audit", "--format", "json", "--db", str(db)])
    cap = capsys.readouterr()
    names = [d["name"] for d in json.loads(cap.out)["dependencies"]]
    assert names == ["zz-only-in-venv"] and code == 0
    assert str(venv) in cap.err  # it says which environment it audited


def test_verify_names_the_environment_it_checked(tmp_path: Path, monkeypatch, capsys) -> None:
    venv = _venv_with(tmp_path, ("zz-only-in-venv", "1.0"))
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert main(["verify"]) == 0
    assert str(venv) in capsys.readouterr().err


# -- build requirements of an sdist: one reader ------------------------------------------------


def test_one_reader_gives_pips_legacy_default(tmp_path: Path) -> None:
    """No [build-system] table: PEP 518's default, which is what pip builds with (lock used to
    record setuptools alone, so the locked build set could not build the sdist)."""
    from pipvet.sources.sdist import build_requires

    filename, data = builder.build_sdist(
        "legacy", "1.0", files={"pyproject.toml": "[tool.other]\nx = 1\n"}
    )
    sdist = tmp_path / filename
    sdist.write_bytes(data)
    assert build_requires(sdist) == ["setuptools>=40.8.0", "wheel"]


def test_an_oversized_pyproject_is_refused_by_lock_as_by_install(
    make_index, tmp_path: Path, capsys
) -> None:
    idx = make_index()
    idx.add_tinybuild()
    head = '[build-system]\nrequires = ["tinybuild"]\nbuild-backend = "tinybuild"\n'
    big = head + "# padding\n" * 210_000
    assert len(big) > 2 << 20
    idx.add_sdist("huge", "1.0", files={"pyproject.toml": big})
    code = main(["lock", "huge", "--allow-sdist", "huge", "--index-url", idx.url,
                 "--resolver", "pip"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "pyproject.toml is too large" in err


# -- the scrubbed environment of pip and uv: one function ------------------------------------------


def test_lock_runs_pip_without_the_callers_pythonpath(
    package_index: TestIndex, tmp_path: Path, monkeypatch
) -> None:
    """A ``pip`` package on PYTHONPATH would replace the real one in ``python -m pip``."""
    fake = tmp_path / "shadow" / "pip"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import sys\nsys.exit('shadowed pip ran')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    out = tmp_path / "req.lock"
    code = main(["lock", "alpha", "--index-url", package_index.url, "--resolver", "pip",
                 "-o", str(out)])  # fmt: skip
    assert code == 0 and read_lock(out).get("alpha") is not None


# -- output paths: one writer --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["audit", "lock"])
def test_unwritable_output_is_one_line_and_exit_2(
    command: str, package_index: TestIndex, tmp_path: Path, db: Path, capsys
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out.json"
    if command == "audit":
        req = tmp_path / "r.txt"
        req.write_text("alpha==1.0\n")
        argv = ["audit", "-r", str(req), "--db", str(db), "-o", str(target)]
    else:
        argv = ["lock", "alpha", "--index-url", package_index.url, "-o", str(target)]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.splitlines()[-1].startswith(f"error: cannot write {target}")
    assert "Traceback" not in err


# -- global flags after the command ------------------------------------------------------------


@pytest.mark.parametrize("flag", ["-v", "-q", "--verbose", "--quiet", "--no-color"])
def test_global_flags_are_accepted_after_the_command(flag: str, tmp_path: Path, capsys) -> None:
    f = tmp_path / "mod.py"
    f.write_text("x = 1\n")
    assert main(["scan", str(f), flag]) == 0
    assert main([flag, "scan", str(f)]) == 0


def test_verbose_after_the_command_shows_detail(tmp_path: Path, capsys) -> None:
    wheel = tmp_path / builder.build_wheel("demo", "1.0")[0]
    wheel.write_bytes(builder.build_wheel("demo", "1.0")[1])
    main(["scan", str(wheel), "--no-cache", "-v"])
    assert "demo-1.0-py3-none-any.whl" in capsys.readouterr().err  # the per-artifact detail line


# -- exit codes a CI can act on ------------------------------------------------------------------


def test_an_internal_error_is_one_line_exit_4_with_the_traceback_in_a_file(
    monkeypatch, capsys
) -> None:
    import pipvet.commands.verify as verify_command

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(verify_command, "run", broken)
    assert main(["verify"]) == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: internal error: RuntimeError: a bug (traceback written to ")
    path = Path(err.rsplit("traceback written to ", 1)[1].rstrip(")"))
    assert "Traceback" in path.read_text() and "a bug" in path.read_text()
    path.unlink()


def test_help_documents_every_exit_code(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for code in range(5):
        assert f"\n  {code}  " in out


# -- tests never touch the user's caches ----------------------------------------------------------


def test_caches_and_config_are_private_to_each_test(_private_caches: Path) -> None:
    import os

    from pipvet.paths import cache_dir

    assert cache_dir().is_relative_to(_private_caches)
    assert Path.home() == _private_caches
    for name in ("PIP_CACHE_DIR", "UV_CACHE_DIR", "XDG_CACHE_HOME"):
        assert Path(os.environ[name]).is_relative_to(_private_caches)
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull and "VIRTUAL_ENV" not in os.environ


def test_install_applies_the_constraints_of_a_requirements_file_as_lock_does(
    package_index: TestIndex, tmp_path: Path, monkeypatch
) -> None:
    from pipvet.services.install import InstallRequest, install

    monkeypatch.chdir(tmp_path)
    (tmp_path / "constraints.txt").write_text("alpha<2\n")
    (tmp_path / "requirements.in").write_text("alpha\n-c constraints.txt\n")
    venv = _venv_with(tmp_path)
    report = install(
        InstallRequest(
            requirement=("requirements.in",),
            index_url=package_index.url,
            python=str(venv),
            dry_run=True,
            audit=False,
        )
    )
    assert "alpha==1.0" in [p.requirement for p in report.planned]
    out = tmp_path / "req.lock"
    assert (
        main(["lock", "-r", "requirements.in", "--index-url", package_index.url, "-o", str(out)])
        == 0
    )
    assert str(read_lock(out).get("alpha").version) == "1.0"  # type: ignore[union-attr]
