"""`pipvet install` under faults: interruptions, concurrent installs, slow or hostile indexes,
wheels of every layout. A real loopback index, real pip, real temporary venvs.

Every case compares the target venv (every file and its sha256) before and after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.processes import HAS_PROC, children
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
    make_index, venv, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    index.add_wheel("layout", "1.0", files=_data_wheel_files("1.0"))
    index.add_wheel("layout", "2.0", files=_data_wheel_files("2.0"))
    v1 = write_lock(index, tmp_path / "v1.lock", [("layout", "1.0")])
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(v1), "--python", str(venv)
    )
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
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(v2), "--python", str(venv)
    )
    assert rc == 2 and "restored" in out, out
    assert tree(venv) == before
    shutil.rmtree(site / "alpha")
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(v2), "--python", str(venv)
    )
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


# -- the network ---------------------------------------------------------------------------------


def test_slow_drip_index_is_timed_out_with_exit_3(make_index, venv, tmp_path, capsys, monkeypatch):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    before = tree(venv)
    monkeypatch.setenv("PIPVET_NETWORK_DEADLINE", "2")
    index.drip = 0.5  # one byte every half second: no single read ever times out
    index.send_etag = False  # the page is sent again (not "304 not modified"), dripping
    start = time.monotonic()
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 3, out
    assert "no complete answer within 2 s" in out and len(out.strip().splitlines()) <= 2, out
    assert time.monotonic() - start < 20
    assert tree(venv) == before


def test_first_ctrl_c_during_a_stalled_download_ends_pipvet(make_index, venv, tmp_path):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0"), ("beta", "1.0")])
    before = tree(venv)
    proc = _start_install(tmp_path, "--lock", str(lock), "--python", str(venv))
    _wait_for(lambda: any(r.startswith("/simple/") for r in index.requests), proc)
    index.drip = 5.0  # every file now stalls
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    out = _output(proc, 30)
    assert time.monotonic() - t0 < 10, out
    assert proc.returncode == 130, out
    assert tree(venv) == before


def test_truncated_download_with_a_matching_length_is_incomplete_not_red_flag(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    index.serve_sizes = False
    index.truncate("beta-1.1-py3-none-any.whl", 200, announce_cut=True)  # a proxy lost the rest
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 3, out
    assert "incomplete download" in out and "RED FLAG" not in out
    assert tree(venv) == before


def test_redirect_to_another_host_is_named_and_refused_under_a_lock(
    make_index, venv, tmp_path, capsys
):
    index, other = make_index(standard=True), make_index(standard=True)
    index.redirect_files_to = other.root.replace("127.0.0.1", "localhost")
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 2 and "redirects to another host" in out and "refused" in out, out
    assert tree(venv) == before
    rc, out = run_install(capsys, "alpha==1.0", "--index-url", index.url, "--python", str(venv))
    assert rc == 0, out
    assert "redirects to another host" in out and "localhost" in out
    index.redirect_files_to = None
    index.redirect_pages_to = other.root.replace("127.0.0.1", "localhost")  # the listing too
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 2 and "redirects to another host" in out and "refused" in out, out


def test_malformed_index_json_and_nul_in_a_filename_are_one_line(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    before = tree(venv)
    for body in (
        b'{"files": [{"filename": "alpha-1.0-py3-none-any.whl", "url": 5, "hashes": []}]}',
        b'{"files": [{"filename": "alpha-1.0-py3-none-any.whl", "url": "x", "hashes": "no"}]}',
        b'{"files": "none", "meta": {"api-version": "1.1"}}',
        b'{"files": [{"filename": "alpha\\u0000-1.0-py3-none-any.whl", "url": "x.whl"}]}',
        b'{"files": [{"filename": "alpha-1.0-py3-none-any.whl", "url": "../f\\u0000x.whl"}]}',
        b"[1, 2",
    ):
        index.page_override["alpha"] = body
        rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
        assert rc in (1, 2), (body, out)
        assert "Traceback" not in out and len(out.strip().splitlines()) <= 3, (body, out)
        assert tree(venv) == before


def _interruptible() -> None:
    """In the child: Ctrl-C as a terminal delivers it, even when the test runner was started in
    the background (a shell without job control starts those with SIGINT ignored, and a
    program inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_install(tmp_path: Path, *argv: str, env: dict | None = None) -> subprocess.Popen:
    """``pipvet install`` in a process of its own; its output goes to tmp_path/pipvet.log (and
    to the pipe, read by ``communicate``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    environ = {
        **os.environ,
        "PIPVET_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    log = open(tmp_path / "pipvet.log", "w")  # noqa: SIM115 - closed with the process
    script = (
        "import sys\n"
        "from pipvet.cli.main import main\n"
        "sys.exit(main(['install', '--no-audit', *sys.argv[1:]]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *argv], stdout=log, stderr=subprocess.STDOUT, env=environ,
        preexec_fn=_interruptible,
    )  # fmt: skip
    proc.log_path = tmp_path / "pipvet.log"  # type: ignore[attr-defined]
    log.close()
    return proc


def _output(proc: subprocess.Popen, timeout: float = 60) -> str:
    proc.wait(timeout)
    return proc.log_path.read_text()  # type: ignore[attr-defined]


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"pipvet ended early: {_output(proc)}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


# -- interruptions and concurrent installs --------------------------------------------------------


def _big_files(n: int = 3000) -> dict[str, str]:
    return {f"big/m{i:05d}.py": f"X = {i}\n" + "# filler\n" * 40 for i in range(n)}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_pip_stops_pip_and_restores_the_environment(
    make_index, venv, tmp_path, sig, installer
):
    index = make_index(standard=True)
    index.add_wheel("big", "1.0", files=_big_files())
    old = write_lock(index, tmp_path / "old.lock", [("beta", "1.0")])
    assert (
        _start_install(
            tmp_path, "--installer", installer, "--lock", str(old), "--python", str(venv)
        ).wait(60)
        == 0
    )
    before = tree(venv)
    lock = write_lock(index, tmp_path / "new.lock", [("beta", "1.1"), ("big", "1.0")])
    proc = _start_install(
        tmp_path, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    site = next((venv / "lib").glob("python*/site-packages"))
    _wait_for(lambda: (site / "big").is_dir(), proc)  # pip is writing into the venv
    proc.send_signal(sig)  # to pipvet alone, not to pip
    out = _output(proc)
    assert proc.returncode == 130, out
    assert "restored as it was" in out and "Traceback" not in out, out
    assert tree(venv) == before
    time.sleep(2)  # a pip left running would go on writing
    assert tree(venv) == before
    assert installed(venv) == {"beta": "1.0"}


def test_a_second_install_waits_for_the_lock_on_the_environment(
    make_index, venv, tmp_path, installer
):
    from pipvet.installer.envlock import locked

    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    before = tree(venv)
    with locked(str(venv)):  # another install holds the environment
        proc = _start_install(
            tmp_path, "--installer", installer, "--lock", str(lock), "--python", str(venv)
        )
        _wait_for(lambda: "waiting for another pipvet install" in _log(tmp_path), proc)
        time.sleep(1)
        assert tree(venv) == before and proc.poll() is None
    assert proc.wait(60) == 0, _log(tmp_path)
    assert installed(venv) == {"alpha": "1.0"}
    with locked(str(venv)):
        proc = _start_install(
            tmp_path,
            "--installer",
            installer,
            "--lock",
            str(lock),
            "--python",
            str(venv),
            env={"PIPVET_LOCK_WAIT": "1"},
        )
        assert proc.wait(60) == 2
    assert "still running after 1 s" in _log(tmp_path)


def test_concurrent_installs_a_failing_rollback_never_deletes_the_others_files(
    make_index, tmp_path, installer
):
    index = make_index(standard=True)
    index.add_wheel("big", "1.0", files=_big_files())
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next((env / "lib").glob("python*/site-packages"))
    (site / "alpha" / "__init__.py").mkdir(parents=True)  # alpha cannot be installed
    (site / "alpha" / "__init__.py" / "blocker").write_text("x")
    good = write_lock(index, tmp_path / "good.lock", [("big", "1.0")])
    bad = write_lock(index, tmp_path / "bad.lock", [("alpha", "1.0"), ("beta", "1.0")])
    a = _start_install(
        tmp_path / "a", "--installer", installer, "--lock", str(good), "--python", str(env)
    )
    b = _start_install(
        tmp_path / "b", "--installer", installer, "--lock", str(bad), "--python", str(env)
    )
    assert a.wait(120) == 0, _log(tmp_path / "a")
    assert b.wait(120) == 2, _log(tmp_path / "b")
    assert installed(env) == {"big": "1.0"}
    assert len(list((site / "big").glob("m*.py"))) == 3000
    assert main(["verify", "--python", str(env), "--lock", str(good)]) == 0


def _log(tmp_path: Path) -> str:
    path = tmp_path / "pipvet.log"
    return path.read_text() if path.exists() else ""


# -- locked build dependencies ----------------------------------------------------------------


def _lock_with_build(index, path: Path, pins, build_pins) -> Path:
    from packaging.version import Version

    from pipvet.core.lockfile import Lock, LockedPackage
    from pipvet.core.lockfile_io import render_requirements
    from pipvet.installer.plan import version_files
    from pipvet.sources.index import SimpleIndex

    si = SimpleIndex(index.url)

    def locked(name: str, version: str, allowed: bool = False) -> LockedPackage:
        files = version_files(si.project_files(name), name, Version(version))
        hashes = tuple(sorted({h for f in files for h in f.hashes}, key=str))
        return LockedPackage(
            name=name, version=Version(version), files=tuple(files), hashes=hashes,
            sdist_allowed=allowed,
        )  # fmt: skip

    lock = Lock(
        packages=tuple(locked(n, v, n == "onlysdist") for n, v in pins),
        index_url=index.url,
        build_packages=tuple(locked(n, v) for n, v in build_pins),
    )
    path.write_text(render_requirements(lock, header="test"))
    return path


def _add_marking_tinybuild(index, version: str) -> None:
    """A newer tinybuild whose wheels carry a BUILT_BY file: proof of which backend built."""
    from tests.support import index_builder

    source = index_builder.TINYBUILD_SOURCE.replace(
        '    members.append((f"{info}/METADATA", text.encode()))',
        f'    members.append((f"{{pkg}}/BUILT_BY", b"{version}"))\n'
        '    members.append((f"{info}/METADATA", text.encode()))',
    )
    assert "BUILT_BY" in source
    index.add_wheel("tinybuild", version, files={"tinybuild/__init__.py": source})


def test_locked_build_dependencies_are_used_exactly_as_locked(
    make_index, venv, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    lock = _lock_with_build(
        index, tmp_path / "requirements.lock", [("onlysdist", "1.0")], [("tinybuild", "1.0")]
    )
    _add_marking_tinybuild(index, "2.0")  # uploaded after the lock
    rc, out = run_install(
        capsys,
        "--installer",
        installer,
        "--lock",
        str(lock),
        "--allow-sdist",
        "onlysdist",
        "--python",
        str(venv),
    )
    assert rc == 0, out
    assert not any("tinybuild-2.0" in r for r in index.requests), index.requests
    site = next((venv / "lib").glob("python*/site-packages"))
    assert installed(venv) == {"onlysdist": "1.0"}
    assert not (site / "onlysdist" / "BUILT_BY").exists()
    assert main(["verify", "--python", str(venv), "--lock", str(lock)]) == 0


def test_build_env_takes_the_locked_build_version_not_a_newer_staged_one(
    make_index, venv, tmp_path, capsys, installer
):
    """tinybuild 2.0 is a locked runtime package, 1.0 the locked build dependency: both are
    staged, and the build must still use 1.0."""
    index = make_index(standard=True)
    _add_marking_tinybuild(index, "2.0")
    lock = _lock_with_build(
        index,
        tmp_path / "requirements.lock",
        [("onlysdist", "1.0"), ("tinybuild", "2.0")],
        [("tinybuild", "1.0")],
    )
    rc, out = run_install(
        capsys,
        "--installer",
        installer,
        "--lock",
        str(lock),
        "--allow-sdist",
        "onlysdist",
        "--python",
        str(venv),
    )
    assert rc == 0, out
    site = next((venv / "lib").glob("python*/site-packages"))
    assert installed(venv) == {"onlysdist": "1.0", "tinybuild": "2.0"}
    assert not (site / "onlysdist" / "BUILT_BY").exists()


def test_a_lock_without_build_dependencies_says_they_are_trusted_on_first_use(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("onlysdist", "1.0")])
    rc, out = run_install(
        capsys, "--lock", str(lock), "--allow-sdist", "onlysdist", "--python", str(venv)
    )
    assert rc == 0, out
    assert "pins no build dependencies" in out


# -- another environment's interpreter ------------------------------------------------------------


def _booby_trapped_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv whose site-packages has a .pth file and a sitecustomize that leave a mark when
    its interpreter starts with site enabled."""
    env = tmp_path / "trapped"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next((env / "lib").glob("python*/site-packages"))
    mark = tmp_path / "site-ran"
    code = f"import pathlib; pathlib.Path({str(mark)!r}).touch()"
    (site / "trap.pth").write_text(code + "\n")
    (site / "sitecustomize.py").write_text(code + "\n")
    return env, mark


@pytest.mark.parametrize("resolver", ["pip", "uv"])
def test_lock_and_install_start_the_target_interpreter_without_site(
    make_index, tmp_path, capsys, resolver
):
    index = make_index(standard=True)
    env, mark = _booby_trapped_venv(tmp_path)
    out = tmp_path / "requirements.lock"
    argv = ["lock", "alpha==2.0", "--index-url", index.url, "--python", str(env), "-o", str(out)]
    assert main([*argv, "--resolver", resolver]) == 0, capsys.readouterr()
    assert not mark.exists(), "lock ran the target's .pth / sitecustomize"
    rc, text = run_install(
        capsys, "--installer", resolver, "--lock", str(out), "--python", str(env)
    )
    assert rc == 0, text
    assert not mark.exists(), "install ran the target's .pth / sitecustomize"
    assert installed(env) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    rc, text = run_install(
        capsys,
        "--installer",
        resolver,
        "gamma==1.0",
        "--index-url",
        index.url,
        "--python",
        str(env),
    )
    assert rc == 0, text
    assert not mark.exists()


def test_an_index_named_inside_a_requirements_file_is_said_plainly(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    (tmp_path / "more.txt").write_text(f"--index-url {index.url}\nalpha==1.0\n")
    top = tmp_path / "requirements.txt"
    top.write_text("-r more.txt\n")
    rc, out = run_install(capsys, "-r", str(top), "--python", str(venv), "--no-audit")
    assert rc == 0, out
    assert f"more.txt:1 names the index {index.url}: packages come from there" in out
    out_lock = tmp_path / "out.lock"
    assert main(["lock", "-r", str(top), "-o", str(out_lock), "--index-url", index.url]) == 0
    assert "more.txt:1 names the index" in capsys.readouterr().err


def test_an_index_or_nested_file_inside_a_lock_in_force(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    text = lock.read_text()
    nested = tmp_path / "nested.lock"
    nested.write_text(text + "-r other.txt\n")
    (tmp_path / "other.txt").write_text(f"--index-url {index.url}\n")
    before = tree(venv)
    rc, out = run_install(capsys, "-r", str(nested), "--python", str(venv))
    assert rc == 2 and "a lock must list every package itself, not -r" in out, out
    assert tree(venv) == before
    named = tmp_path / "named.lock"
    named.write_text(f"--index-url {index.url}\n" + text)
    rc, out = run_install(capsys, "--lock", str(named), "--python", str(venv))
    assert rc == 0, out
    assert f"named.lock:1 names the index {index.url} (an --index-url line)" in out


@pytest.mark.parametrize("resolver", ["pip", "uv"])
def test_slow_drip_index_times_out_the_resolver_too(
    make_index, tmp_path, capsys, monkeypatch, resolver
):
    index = make_index(standard=True)
    monkeypatch.setenv("PIPVET_NETWORK_DEADLINE", "2")  # one request 2 s, a resolver run 10 s
    index.drip = 0.3
    start = time.monotonic()
    argv = ["lock", "alpha", "--index-url", index.url, "--resolver", resolver, "--refresh"]
    rc = main([*argv, "-o", str(tmp_path / "out.lock")])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "within" in err and "Traceback" not in err, err
    assert time.monotonic() - start < 30


def test_first_ctrl_c_during_a_stalled_lock_ends_pipvet(make_index, tmp_path):
    index = make_index(standard=True)
    index.drip = 2.0
    env = {**os.environ, "PIPVET_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipvet", "lock", "alpha", "--index-url", index.url,
         "--resolver", "pip", "-o", str(tmp_path / "out.lock")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        preexec_fn=_interruptible,
    )  # fmt: skip
    _wait_for(lambda: len(index.requests) >= 2, proc)  # pipvet's and pip's page requests
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    out, _ = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 10, out
    assert proc.returncode == 130, out


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_whose_exception_python_dropped_still_stops_the_wait(
    sig, monkeypatch
) -> None:
    """A signal that lands in a ``__del__`` or an import-lock weakref callback has its
    ``KeyboardInterrupt`` printed as "Exception ignored" and dropped (CI saw it: a lock that
    got SIGTERM while importing waited on its stalled resolver until killed). The wait for the
    resolver or installer must still act on it: the process group is stopped, the wait ends."""
    from pipvet.installer import pip_runner

    class Dropper:
        def __del__(self) -> None:  # Python ignores what a __del__ raises
            signal.raise_signal(sig)

    shown: list[BaseException | None] = []
    child = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(sys, "unraisablehook", lambda u: shown.append(u.exc_value))
    with pip_runner.interruptible():
        proc = pip_runner.start_group(child, env=dict(os.environ))
        Dropper()  # collected at once: the handler's exception is dropped
        assert not shown  # not printed as "Exception ignored": recorded for the wait
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt) as caught:
            pip_runner.finish_group(proc, timeout=30)
    assert time.monotonic() - began < 10, "the dropped stop was not acted on"
    assert proc.returncode is not None  # stopped and reaped, not left sleeping
    assert caught.value.args == (() if sig == signal.SIGINT else (signal.Signals(sig).name,))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_stop_signal_inside_the_import_system_is_raised_a_moment_later() -> None:
    """A stop that comes while the import system runs its own code (CI saw one in a module
    lock's weakref callback) must not raise there: that can leave the import lock held, and
    the next import in another thread waits forever (a lock whose uv was stopped hung on its
    prefetch threads). It is raised a moment later, outside, all the same."""
    import importlib

    from pipvet.installer import pip_runner

    frames = []

    class Finder:  # a real frame of the import system: the caller of a meta path finder
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "pipvet_no_such_module":
                frames.append(sys._getframe(1))
            return None

    sys.meta_path.insert(0, Finder)
    try:
        with pytest.raises(ImportError):
            importlib.import_module("pipvet_no_such_module")
    finally:
        sys.meta_path.remove(Finder)
    assert frames[0].f_code.co_filename.startswith("<frozen importlib")
    with pip_runner.interruptible():
        handler = signal.getsignal(signal.SIGTERM)
        handler(signal.SIGTERM, frames[0])  # does not raise inside the import system
        with pytest.raises(KeyboardInterrupt) as caught:
            end = time.monotonic() + 10
            while time.monotonic() < end:
                time.sleep(0.01)
        assert caught.value.args == ("SIGTERM",)
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGTERM, sys._getframe())  # elsewhere: raised at once


def test_a_stop_signal_while_a_pool_starts_a_worker_waits_until_the_pool_knows_it() -> None:
    """A stop that comes while a thread pool starts a worker (``Thread.start`` waits for the new
    thread; under load, long) must not cut ``submit`` in half: the worker would run unknown to
    the pool, its shutdown would not wait for it, and its download kept a stopped lock alive
    (seen under CI load: "error: interrupted" printed, then the process waited on a stalled
    index). The stop is raised once the pool knows its worker, whose shutdown waits for it."""
    import threading

    from pipvet.installer import pip_runner
    from pipvet.installer.pool import StoppablePool

    class SignalledPool(StoppablePool):
        def _adjust_thread_count(self) -> None:  # the signal comes as the worker starts
            signal.raise_signal(signal.SIGTERM)
            super()._adjust_thread_count()

    release = threading.Event()
    with pip_runner.interruptible():
        pool = SignalledPool(max_workers=1)
        with pytest.raises(KeyboardInterrupt) as caught:
            pool.submit(release.wait, 30)
        assert caught.value.args == ("SIGTERM",)
        (worker,) = pool._threads  # started, and known to the pool
        release.set()
        pool.shutdown(wait=True, cancel_futures=True)
        assert not worker.is_alive()
        reached = False
        with pytest.raises(KeyboardInterrupt), pip_runner.stops_deferred():
            signal.raise_signal(signal.SIGTERM)  # raised as the block ends, not here
            reached = True
        assert reached
        time.sleep(0.01)  # nothing more: raised once


def test_a_stop_hangs_up_on_a_request_whose_socket_opens_after_it() -> None:
    """``abort_all`` hangs up on every request in flight; one still connecting has no socket
    yet. It is hung up on as soon as it has one, not left to read a stalled answer."""
    import http.client
    import socket

    from pipvet.sources import index

    server = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.getsockname()[1], timeout=20)
        key = index._watchdog.watch(conn, 60)
        try:
            index.abort_all()  # no socket yet: nothing to hang up on
            conn.connect()
            began = time.monotonic()
            assert conn.sock.recv(1) == b""  # hung up on (a stalled read would wait 20 s)
            assert time.monotonic() - began < 5
        finally:
            index._watchdog.release(key)
            index.allow_requests()
            conn.close()
    finally:
        server.close()


def _slow_scan(item) -> dict:  # a scan that takes long (runs in a pool worker)
    time.sleep(60)
    return {}


def test_a_stop_signal_during_the_gate_scan_stops_its_worker_processes() -> None:
    """SIGTERM while the gate scans in worker processes (a large wheel takes many seconds):
    the workers are stopped, not waited for, and none is left running after pipvet exits
    (seen on a real install of pandas: the command died silently and a worker stayed)."""
    import threading

    from pipvet.core.reports.scan import ScanInput
    from pipvet.installer import pip_runner
    from pipvet.services import scan

    items = [ScanInput(Path(f"/nonexistent/{i}.whl"), f"{i}") for i in range(2)]
    workers: list[int] = []

    def snoop() -> None:  # the pool's worker processes, as they run
        for _ in range(100):
            found = children()
            if len(found) >= 2:
                workers.extend(found)
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    began = time.monotonic()
    with pip_runner.interruptible(), pytest.raises(KeyboardInterrupt):
        threading.Thread(target=snoop, daemon=True).start()
        scan.run_pool(_slow_scan, items, [0, 1], 2, lambda i, r: None)
    assert time.monotonic() - began < 20, "the workers were waited for"
    assert workers
    assert not children() & set(workers), "a worker was left running"


def _big_wheel(path: Path, name: str) -> Path:
    """An honest wheel that takes seconds to scan: many modules of many small functions."""
    import zipfile

    body = "".join(
        f"def f{i}(x):\n    y = [x * {i} for _ in range(3)]\n    return sum(y) + len(str(x))\n\n"
        for i in range(200)
    )
    wheel = path / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for m in range(150):
            z.writestr(f"{name}/m{m}.py", body)
        info = f"{name}-1.0.dist-info"
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel_info = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        z.writestr(f"{info}/WHEEL", wheel_info)
        z.writestr(f"{info}/RECORD", "")
    return wheel


@pytest.mark.skipif(not HAS_PROC, reason="reads /proc")
def test_sigterm_stops_a_scan_and_its_worker_processes(tmp_path: Path) -> None:
    """``pipvet scan --jobs 2`` sent SIGTERM while its workers scan: it says so and exits 130
    at once, and no worker is left running (it used to die at once and leave them)."""
    wheels = [str(_big_wheel(tmp_path, n)) for n in ("alpha", "beta")]
    env = {**os.environ, "PIPVET_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "pipvet", "scan", "--no-cache", "--jobs", "2", *wheels]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 20
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        for task in Path(f"/proc/{proc.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                workers |= {int(p) for p in (task / "children").read_text().split()}
        time.sleep(0.05)
    assert len(workers) >= 2, "the scan did not start its workers"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    time.sleep(0.2)
    left = [w for w in workers if Path(f"/proc/{w}").exists()]
    assert not left, "a worker was left running"
