"""`pipvet lock` end to end: loopback index, real pip/uv resolution, real installs of the lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.index_server import TestIndex
from tests.support.processes import HAS_PROC, children

from pipvet.cli.main import main
from pipvet.core.lockfile_io import read_lock
from pipvet.sources.resolver import find_uv

RESOLVERS = ["pip", pytest.param("uv", marks=pytest.mark.skipif(not find_uv(), reason="no uv"))]
WITH_UV = pytest.mark.skipif(not find_uv(), reason="no uv")
STARTED_EARLY = "uv started early"  # -v: uv's first run began before the requirements were parsed


def _lock(tmp_path: Path, idx: TestIndex, *args: str, name: str = "req.lock") -> Path:
    out = tmp_path / name
    code = main(["lock", *args, "--index-url", idx.url, "-o", str(out)])
    assert code == 0
    return out


def _venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def _installed(python: Path) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    import json

    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_lock_pins_every_file_with_via_and_markers(
    package_index: TestIndex, tmp_path: Path, resolver: str
) -> None:
    out = _lock(tmp_path, package_index, "alpha", "--resolver", resolver)
    text = out.read_text()
    lock = read_lock(out)
    assert [(p.name, str(p.version)) for p in lock.packages] == [
        ("alpha", "2.0"), ("beta", "1.1"), ("gamma", "1.0"),
    ]  # fmt: skip
    gamma = lock.get("gamma")
    assert gamma is not None
    expected = {f: package_index.listed(f).sha256 for f in package_index.filenames("gamma")}
    assert {f.filename: f.sha256 for f in gamma.files} == expected  # all 3 wheels and the sdist
    assert {h.digest for h in gamma.hashes} == set(expected.values())
    assert gamma.marker == 'python_version >= "3.8"' and gamma.via == ("beta",)
    assert lock.get("beta").via == ("alpha",)  # type: ignore[union-attr]
    assert lock.get("alpha").via == ("(command line)",)  # type: ignore[union-attr]
    assert 'gamma==1.0 ; python_version >= "3.8" \\\n' in text
    assert "md5" not in text and "sha1" not in text


def test_same_inputs_give_identical_bytes_whichever_resolver(
    package_index: TestIndex, tmp_path: Path
) -> None:
    first = _lock(tmp_path, package_index, "alpha", "--resolver", "pip", name="a.lock")
    second = _lock(tmp_path, package_index, "alpha", "--resolver", "pip", name="a.lock")
    assert first.read_bytes() == second.read_bytes()
    if find_uv():
        third = _lock(tmp_path, package_index, "alpha", "--resolver", "uv", name="a.lock")
        assert third.read_bytes() == first.read_bytes()


def test_lock_is_accepted_unchanged_by_pip_and_uv(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    lock = _lock(tmp_path, idx, "alpha", "onlysdist", "--allow-sdist", "onlysdist")
    before = lock.read_bytes()
    python = _venv(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--isolated",
         "--disable-pip-version-check", "--require-hashes", "--no-deps", "-r", str(lock),
         "--index-url", idx.url],
        check=True, capture_output=True,
    )  # fmt: skip
    assert _installed(python) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0", "onlysdist": "1.0"}
    uv = find_uv()
    if uv:
        uv_python = _venv(tmp_path / "uv")
        subprocess.run(
            [uv, "pip", "install", "--no-config", "--require-hashes", "--no-deps", "-r",
             str(lock), "--index-url", idx.url, "--python", str(uv_python)],
            check=True, capture_output=True,
        )  # fmt: skip
        assert _installed(uv_python) == _installed(python)
    assert lock.read_bytes() == before


def test_pip_refuses_a_lock_whose_file_changed(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    lock = _lock(tmp_path, idx, "beta==1.0")
    idx.replace_bytes("beta-1.0-py3-none-any.whl", b"not the locked bytes", update_hash=True)
    python = _venv(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--isolated",
         "--require-hashes", "--no-deps", "-r", str(lock), "--index-url", idx.url],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0 and "DO NOT MATCH THE HASHES" in proc.stderr
    assert "beta" not in _installed(python)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_sdist_only_requirement_is_named_with_the_fix(
    package_index: TestIndex, tmp_path: Path, capsys, resolver: str
) -> None:
    code = main(["lock", "onlysdist", "--index-url", package_index.url, "--resolver", resolver])
    err = capsys.readouterr().err
    assert code == 2
    assert "onlysdist has no wheel" in err and "--allow-sdist onlysdist" in err
    assert "runs its code" in err


def test_allowing_an_sdist_does_not_force_a_source_build(
    package_index: TestIndex, tmp_path: Path, capsys
) -> None:
    """pip's --no-binary NAME forces source even when a wheel exists; pipvet only adds it for
    allowed names that have no usable wheel."""
    out = _lock(tmp_path, package_index, "gamma", "onlysdist",
                "--allow-sdist", "gamma", "--allow-sdist", "onlysdist")  # fmt: skip
    err = capsys.readouterr().err
    assert "onlysdist has no usable wheel" in err and "gamma has no usable wheel" not in err
    lock = read_lock(out)
    assert lock.get("gamma").sdist_allowed and lock.get("onlysdist").sdist_allowed  # type: ignore[union-attr]
    assert "allowed sdists (building them runs their code): gamma, onlysdist" in out.read_text()
    # The build dependencies of the sdist that will be built are locked and hashed too.
    (tinybuild,) = lock.build_packages
    digest = package_index.listed("tinybuild-1.0-py3-none-any.whl").sha256
    assert (tinybuild.name, str(tinybuild.version), tinybuild.via) == (
        "tinybuild",
        "1.0",
        ("onlysdist",),
    )
    assert [h.digest for h in tinybuild.hashes] == [digest]
    assert tinybuild.filename_for(digest) == "tinybuild-1.0-py3-none-any.whl"
    py = _lock(tmp_path, package_index, "gamma", "onlysdist", "--allow-sdist", "gamma",
               "--allow-sdist", "onlysdist", "--format", "pylock", name="pylock.toml")  # fmt: skip
    assert [(p.name, p.hashes) for p in read_lock(py).build_packages] == [
        ("tinybuild", tinybuild.hashes)
    ]


def test_requirements_files_nested_and_constraints(
    package_index: TestIndex, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.in").write_text("beta  # a comment\n-c ../constraints.txt\n")
    (tmp_path / "constraints.txt").write_text("alpha<2\nbeta==1.0\n")
    (tmp_path / "requirements.in").write_text("alpha \\\n  >=1.0\n-r sub/more.in\n")
    out = _lock(tmp_path, package_index, "-r", "requirements.in")
    lock = read_lock(out)
    assert [(p.name, str(p.version)) for p in lock.packages] == [("alpha", "1.0"), ("beta", "1.0")]
    assert lock.get("alpha").via == ("-r requirements.in",)  # type: ignore[union-attr]
    assert lock.get("beta").via == ("-r sub/more.in",)  # type: ignore[union-attr]


def test_pyproject_dependencies_and_pylock_output(package_index: TestIndex, tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["beta==1.1"]\n'
        '[project.optional-dependencies]\nold = ["alpha<2"]\n'
    )
    req = _lock(tmp_path, package_index, "--pyproject", str(pyproject), "--group", "old")
    py = _lock(tmp_path, package_index, "--pyproject", str(pyproject), "--group", "old",
               "--format", "pylock", name="pylock.toml")  # fmt: skip
    a, b = read_lock(req), read_lock(py)
    assert [(p.name, str(p.version), p.hashes, p.marker) for p in a.packages] == [
        (p.name, str(p.version), p.hashes, p.marker) for p in b.packages
    ]
    assert [p.name for p in a.packages] == ["alpha", "beta", "gamma"]
    assert all(f.size and f.upload_time and f.url for p in b.packages for f in p.files)


def test_weak_hashes_from_the_index_are_never_locked(make_index, tmp_path: Path, capsys) -> None:
    idx = make_index(standard=True)
    idx.set_listed_hashes("gamma-1.0-cp311-cp311-win_amd64.whl", {"md5": "0" * 32})
    out = _lock(tmp_path, idx, "gamma")
    assert "win_amd64" not in out.read_text() and "md5" not in out.read_text()
    assert "gives no sha256 (md5); left out" in capsys.readouterr().err
    for f in idx.filenames("beta"):
        idx.set_listed_hashes(f, {"sha1": "0" * 40})
    assert main(["lock", "beta", "--index-url", idx.url]) == 1
    assert "no sha256 for any file" in capsys.readouterr().err


def test_bad_input_is_exit_2(package_index: TestIndex, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.in"
    bad.write_text("alpha\nbeta >>= 1\n")
    assert main(["lock", "-r", str(bad), "--index-url", package_index.url]) == 2
    assert f"{bad}:2: malformed requirement" in capsys.readouterr().err
    assert main(["lock", "--index-url", package_index.url]) == 2
    assert main(["lock", "no-such-project", "--index-url", package_index.url]) == 2
    assert "no-such-project" in capsys.readouterr().err


def test_unreachable_index_is_one_plain_line(make_index, capsys) -> None:
    idx = make_index(standard=True)
    url = idx.url
    idx.stop()
    assert main(["lock", "alpha", "--index-url", url, "--resolver", "pip"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach http://127.0.0.1:") and len(err.splitlines()) == 1


# -- uv started before the requirements are parsed ---------------------------------------------


def _policy(folder: Path, index_url: str) -> None:
    (folder / "pipvet.toml").write_text(f'index-url = "{index_url}"\n', encoding="utf-8")


@WITH_UV
def test_plain_requirements_start_uv_early_and_the_lock_is_the_same(
    package_index: TestIndex, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Names, extras and versions, with comments and blank lines: uv starts before they are
    parsed and the resolver takes that run; the lock is byte for byte the one made where uv
    cannot start early (a comment after a requirement is not plain)."""
    made = {}
    for name, text in {
        "plain": "# the app\nalpha\n\n  beta==1.1\n",
        "not-plain": "# the app\nalpha  # not plain\n\n  beta==1.1\n",
    }.items():
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        Path("req.in").write_text(text, encoding="utf-8")
        argv = ["lock", "-v", "-r", "req.in", "--index-url", package_index.url, "-o", "req.lock"]
        assert main(argv) == 0
        made[name] = (Path("req.lock").read_bytes(), capsys.readouterr().err)
    assert STARTED_EARLY in made["plain"][1] and "uv's early start: used" in made["plain"][1]
    assert STARTED_EARLY not in made["not-plain"][1]
    assert made["plain"][0] == made["not-plain"][0]
    assert b"beta==1.1" in made["plain"][0]


@WITH_UV
@pytest.mark.parametrize("named_by", ["an --index-url line", "a nested -r file"])
def test_uv_does_not_start_early_when_a_requirements_file_names_the_index(
    make_index, tmp_path: Path, monkeypatch, capsys, named_by: str
) -> None:
    """The policy names one index, a requirements file another (the file's wins): uv must not
    start before the file is read, against the policy's index, telling it the names."""
    policy_index, file_index = make_index(standard=True), make_index(standard=True)
    monkeypatch.chdir(tmp_path)
    _policy(tmp_path, policy_index.url)
    if named_by == "an --index-url line":
        Path("req.in").write_text(f"alpha\n--index-url {file_index.url}\n", encoding="utf-8")
    else:
        Path("more.in").write_text(f"-i {file_index.url}\n", encoding="utf-8")
        Path("req.in").write_text("alpha\n-r more.in\n", encoding="utf-8")
    assert main(["lock", "-v", "-r", "req.in", "-o", "req.lock"]) == 0
    assert STARTED_EARLY not in capsys.readouterr().err
    lock = read_lock(tmp_path / "req.lock")
    assert lock.index_url == file_index.url
    assert [p.name for p in lock.packages] == ["alpha", "beta", "gamma"]
    assert policy_index.requests == [], "the policy's index was asked"
    assert file_index.requests


@WITH_UV
def test_uv_starts_early_against_the_index_the_merged_policy_names(
    make_index, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The user's policy names one index, the project's another (the project's wins): uv starts
    early against the project's, and the user's is never asked."""
    user_index, project_index = make_index(standard=True), make_index(standard=True)
    user, project = tmp_path / "user", tmp_path / "project"
    user.mkdir()
    project.mkdir()
    monkeypatch.setenv("PIPVET_CONFIG_DIR", str(user))
    _policy(user, user_index.url)
    _policy(project, project_index.url)
    monkeypatch.chdir(project)
    assert main(["lock", "-v", "alpha", "-o", "req.lock"]) == 0
    assert "uv's early start: used" in capsys.readouterr().err
    lock = read_lock(project / "req.lock")
    assert lock.index_url == project_index.url
    assert [p.name for p in lock.packages] == ["alpha", "beta", "gamma"]
    assert user_index.requests == [], "the user's policy index was asked"


@WITH_UV
@pytest.mark.skipif(not HAS_PROC, reason="Linux")
def test_a_plain_requirement_the_parser_writes_otherwise_gets_a_new_uv_run(
    package_index: TestIndex, tmp_path: Path, capsys
) -> None:
    """``alpha >= 1.0`` is plain but uv is given ``alpha>=1.0``: the early run is stopped (and
    reaped), a new one resolves, and the lock is the one of the requirements as parsed."""
    before = children()
    spaced = _lock(tmp_path, package_index, "-v", "alpha >= 1.0", "beta < 1.1", name="s.lock")
    err = capsys.readouterr().err
    assert children() == before, "a uv process was left behind"
    assert STARTED_EARLY in err and "uv's early start: stopped, not used" in err
    tight = _lock(tmp_path, package_index, "alpha>=1.0", "beta<1.1", name="t.lock")
    assert read_lock(spaced).packages == read_lock(tight).packages
    assert [(p.name, str(p.version)) for p in read_lock(spaced).packages] == [
        ("alpha", "2.0"), ("beta", "1.0"),
    ]  # fmt: skip


@WITH_UV
@pytest.mark.skipif(not HAS_PROC, reason="Linux")
def test_a_failure_after_uv_started_early_stops_it_and_the_error_is_unchanged(
    make_index, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A second file's line looks plain but the parser refuses it (a wildcard needs == or !=):
    uv, started early against a stalling index, is stopped and reaped; the error and the exit
    code are those of a run where uv cannot start early (pip resolving)."""
    index = make_index(standard=True)
    index.drip = 0.5  # uv is still running when the bad line is found
    monkeypatch.chdir(tmp_path)
    Path("one.in").write_text("alpha\n", encoding="utf-8")
    Path("two.in").write_text("# more\nbeta<=1.*\n", encoding="utf-8")
    argv = ["lock", "-r", "one.in", "-r", "two.in", "--index-url", index.url]
    before = children()
    assert main([*argv, "-v"]) == 2
    early = capsys.readouterr().err
    assert children() == before, "a uv process was left behind"
    assert main([*argv, "--resolver", "pip"]) == 2
    plain = capsys.readouterr().err
    assert STARTED_EARLY in early and STARTED_EARLY not in plain
    assert [ln for ln in early.splitlines() if STARTED_EARLY not in ln] == plain.splitlines()
    assert "two.in:2: malformed requirement 'beta<=1.*'" in plain


@WITH_UV
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="/dev/fd")
def test_a_requirements_pipe_is_read_once(package_index: TestIndex, tmp_path: Path) -> None:
    """``-r <(...)``: a pipe can be read only once, by the requirements parser (uv does not
    start early for it)."""
    read, write = os.pipe()
    os.write(write, b"alpha\n")
    os.close(write)
    try:
        out = _lock(tmp_path, package_index, "-r", f"/dev/fd/{read}")
    finally:
        os.close(read)
    assert [p.name for p in read_lock(out).packages] == ["alpha", "beta", "gamma"]


@WITH_UV
def test_uv_starts_before_packaging_and_the_index_client_are_loaded(
    package_index: TestIndex, tmp_path: Path
) -> None:
    """What ``pipvet lock`` loads before it starts uv for plain requirements: not the
    requirements parser (packaging), the index client or dataclasses (start-up cost)."""
    heavy = (
        "packaging.requirements", "packaging.markers", "packaging.tags", "dataclasses",
        "pipvet.sources.requirements", "pipvet.sources.index",
    )  # fmt: skip
    code = (
        "import sys\n"
        "seen = []\n"
        "def hook(event, args):\n"
        "    if event == 'subprocess.Popen' and not seen:\n"
        f"        seen.append((args[0], sorted(m for m in {heavy!r} if m in sys.modules)))\n"
        "sys.addaudithook(hook)\n"
        "from pipvet.cli.main import main\n"
        f"code = main(['lock', 'alpha', '--index-url', {package_index.url!r}, '-o', 'req.lock'])\n"
        "print(code, seen)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == f"0 [({find_uv()!r}, [])]", proc.stdout + proc.stderr


def _running_with(text: str) -> list[int]:
    """Processes whose command line holds ``text`` (from ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found


@WITH_UV
@pytest.mark.skipif(not HAS_PROC, reason="Linux")
@pytest.mark.parametrize("early", [True, False], ids=["uv started early", "uv started later"])
def test_sigterm_stops_a_lock_and_its_resolver(make_index, tmp_path: Path, early: bool) -> None:
    """SIGTERM while uv resolves (against an index that stalls): pipvet stops uv, reaps it and
    exits 130 with one line, as for Ctrl-C; no uv is left asking the index."""
    import signal
    import time

    index = make_index(standard=True)
    index.drip = 2.0  # uv is still waiting on it when the signal comes
    requirement = "alpha" if early else "alpha ; python_version >= '3'"  # a marker: not plain
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipvet", "-v", "lock", requirement, "--index-url", index.url,
         "-o", str(tmp_path / "req.lock")],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
    )  # fmt: skip
    end = time.monotonic() + 60
    while not _running_with(index.url + "\0") or not index.requests:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < end, "uv never asked the index"
        time.sleep(0.05)
    uv = [p for p in _running_with(index.url + "\0") if p != proc.pid]
    assert uv, "uv is not running"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted", err
    assert (STARTED_EARLY in err) is early
    assert not [p for p in uv if Path(f"/proc/{p}").exists()], "uv was left running"
    assert not (tmp_path / "req.lock").exists()
