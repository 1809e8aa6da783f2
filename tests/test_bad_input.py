"""Bad input and a hostile system give one clear line and the right exit code, never a traceback:
broken requirements lines, mistyped pylock fields, corrupt advisory records, a read-only or
missing home, a full disk. The 40 KB requirements line is parsed in linear time."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.test_install import write_lock

from pipvet.cli.main import main
from pipvet.core.errors import InputError
from pipvet.core.lockfile_io import logical_lines, parse_pylock, parse_requirements_lock
from pipvet.installer.plan import lock_line_numbers
from pipvet.sources.requirements import read_requirements

ROOT = Path(__file__).resolve().parent.parent
SHA = "0" * 64


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


def _one_line_error(capsys, code: int, rc: int) -> str:
    out = capsys.readouterr()
    text = out.err.strip()
    assert rc == code, text
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    return text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('alpha==1.0 --hash "sha256:abc\n', "no closing quotation"),
        ("--index-url 'http://x\n", "no closing quotation"),
        ("alpha==1.0\x00\n", "NUL byte"),
        ("beta\nalpha\x00==1.0 ; python_version > '3'\n", ":2: a NUL byte"),
        ("-r " + "a" * 5000 + "\n", "-r 'aaaa"),  # a name too long for the file system
        ("alpha==1.0 \\\n", None),  # a dangling continuation is fine
    ],
)
@pytest.mark.parametrize("command", ["audit", "lock", "install", "scan"])
def test_broken_requirements_lines_are_one_line(tmp_path, capsys, content, words, command):
    req = tmp_path / "requirements.txt"
    req.write_text(content)
    argv = [command, "-r", str(req)]
    if command in ("lock", "install"):
        argv += ["--index-url", "http://127.0.0.1:9/simple/"]
    if command == "install":
        argv += ["--dry-run", "--python", sys.executable]
    rc = main(argv)
    if words is None:
        capsys.readouterr()
        return
    text = _one_line_error(capsys, 2, rc)
    assert words in text and "requirements.txt" in text and "\x00" not in text


def test_a_lock_with_broken_lines_is_one_line(tmp_path):
    for text, words in (
        (f'alpha==1.0 --hash "sha256:{SHA}\n', "no closing quotation"),
        (f"alpha==1.0\x00 --hash=sha256:{SHA}\n", "NUL byte"),
        (f"alpha==1.0 --hash=sha256:{SHA}\n-i 'http://x\n", "no closing quotation"),
    ):
        with pytest.raises(InputError, match=words) as info:
            parse_requirements_lock(text, source="r.lock")
        assert len(info.value.render().splitlines()) == 1 and "r.lock:" in info.value.message


def _pylock(tool_pkg: str = "", tool_top: str = "") -> str:
    return (
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "alpha"\n'
        'version = "1.0"\n'
        f'wheels = [{{ name = "alpha-1.0-py3-none-any.whl", url = "http://x/a.whl", '
        f'hashes = {{ sha256 = "{SHA}" }} }}]\n' + tool_pkg + tool_top
    )


@pytest.mark.parametrize(
    ("tool_pkg", "tool_top", "words"),
    [
        ("[packages.tool.pipvet]\nvia = 5\n", "", "via must be a list"),
        ('[packages.tool.pipvet]\nvia = ["a", 3]\n', "", "via entry must be a string"),
        ('[packages.tool.pipvet]\nsdist-allowed = "yes"\n', "", "sdist-allowed must be true"),
        ("[packages.tool]\npipvet = 3\n", "", "must be a table"),
        ("", "[tool]\npipvet = []\n", "must be a table"),
        ("", '[tool.pipvet]\nbuild-packages = "tinybuild"\n', "build-packages must be a list"),
        ("", "[tool.pipvet]\nbuild-packages = [3]\n", "malformed"),
        ("", '[[tool.pipvet.build-packages]]\nname = 3\nversion = "1"\n', "name must be"),
        ("", '[[tool.pipvet.build-packages]]\nname = "t"\nversion = 1\n', "version must be"),
        ("", '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "x y"\n', "Invalid version"),
        (
            "",
            '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "1"\nfiles = {a = 1}\n',
            "files must be a list",
        ),
        (
            "",
            '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "1"\nvia = "x"\n',
            "via must be a list",
        ),
        (
            "",
            '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "1"\nmarker = 2\n',
            "marker must be a string",
        ),
        (
            "",
            '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "1"\n'
            '[[tool.pipvet.build-packages.files]]\nname = "t-1-py3-none-any.whl"\n'
            'hashes = {sha256 = "00"}\nsize = "big"\n',
            "size must be a number",
        ),
        (
            "",
            '[[tool.pipvet.build-packages]]\nname = "t"\nversion = "1"\n'
            '[[tool.pipvet.build-packages.files]]\nname = "t-1-py3-none-any.whl"\nhashes = 7\n',
            "hashes must be a table",
        ),
    ],
)
def test_pylock_tool_pipvet_fields_of_the_wrong_type(tool_pkg, tool_top, words):
    parse_pylock(_pylock(), source="pylock.toml")  # the base document is valid
    with pytest.raises(InputError, match=words) as info:
        parse_pylock(_pylock(tool_pkg, tool_top), source="pylock.toml")
    assert len(info.value.render().splitlines()) == 1


# -- the quadratic 40 KB line -----------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "a" + " " * 40_000 + "b",
        "a" + " \t" * 20_000 + "x#",
        "alpha==1.0 " + "#" * 40_000,
        "alpha" + " " * 40_000 + "==1.0",
        "a[" + "x," * 20_000,
        "-r" + " " * 40_000 + "x",
    ],
)
def test_a_40kb_requirements_line_parses_in_linear_time(tmp_path, line):
    path = tmp_path / "requirements.txt"
    path.write_text(line + "\n")
    start = time.perf_counter()
    list(logical_lines(line))
    for parse in (
        lambda: read_requirements(path),
        lambda: parse_requirements_lock(line, source="r.lock"),
        lambda: lock_line_numbers(path),
    ):
        with contextlib.suppress(InputError):
            parse()
    assert time.perf_counter() - start < 1.0


# -- advisories -----------------------------------------------------------------------------------


def _record(vid: str, name: str, events) -> dict:
    return {
        "id": vid,
        "modified": "2024-05-01T00:00:00Z",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }


def test_corrupt_advisory_records_are_reported_never_no_known_vulnerabilities(tmp_path, capsys):
    folder = tmp_path / "osv"
    folder.mkdir()
    good = _record("GOOD-1", "demo", [{"introduced": "0"}, {"fixed": "2.0"}])
    (folder / "GOOD-1.json").write_text(json.dumps(good))
    bad = _record("BAD-1", "victim", "not a list of events")
    (folder / "BAD-1.json").write_text(json.dumps(bad))
    db = tmp_path / "adv.sqlite3"
    assert main(["db", "update", "--from", str(folder), "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "BAD-1" in out.err + out.out
    req = tmp_path / "requirements.txt"
    req.write_text("victim==1.0\n")
    rc = main(["audit", "-r", str(req), "--db", str(db)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "no known vulnerabilities" not in text, text
    assert "BAD-1" in text and "could not be read" in text
    assert main(["audit", "-r", str(req), "--db", str(db), "--fail-on", "high"]) == 1, rc
    capsys.readouterr()
    req.write_text("demo==3.0\n")  # a package no unreadable record names: a clean result
    assert main(["audit", "-r", str(req), "--db", str(db), "--fail-on", "high"]) == 0
    assert "no known vulnerabilities" in capsys.readouterr().out


# -- a hostile system: no home, read-only cache, full disk ----------------------------------------


def _run(argv: list[str], env: dict[str, str], *, preexec=None, user: int | None = None):
    dropped = ("HOME", "PIPVET_CACHE_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    environ.update(env)
    environ["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "pipvet", *argv]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(
        cmd, env=environ, capture_output=True, text=True, timeout=300, preexec_fn=preexec
    )


def _read_only_folder() -> str:
    """A folder nobody can create anything in, whoever runs the tests (root included)."""
    return "/proc/pipvet-cache" if os.path.isdir("/proc/self") else "/nonexistent/x"


@pytest.mark.parametrize("case", ["read-only cache", "read-only home", "no home"])
def test_scan_audit_and_install_work_without_a_usable_cache(tmp_path, case, package_index):
    import shutil
    import tempfile

    # a folder any user can read: the "no home" case runs pipvet as a user without a passwd entry
    work = Path(tempfile.mkdtemp(prefix="pipvet-nohome-"))
    try:
        work.chmod(0o755)
        lock = write_lock(package_index, work / "requirements.lock", [("alpha", "1.0")])
        wheel = shutil.copy(next(package_index.files_dir.glob("alpha-1.0-*.whl")), work)
        env_dir = work / "venv"
        base = sys.executable
        if case == "no home" and os.path.exists("/usr/bin/python3"):
            base = "/usr/bin/python3"  # an interpreter outside root's home, usable by anyone
        subprocess.run([base, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        user = None
        if case == "read-only cache":
            env = {"HOME": str(tmp_path), "PIPVET_CACHE_DIR": _read_only_folder()}
        elif case == "read-only home":
            env = {"HOME": _read_only_folder()}
        else:
            if os.geteuid() != 0 or not shutil.which("setpriv"):
                pytest.skip("needs root and setpriv to run as a user without a passwd entry")
            user = 54321  # no passwd entry, HOME unset: no home folder at all
            env = {}
            for p in (env_dir, *env_dir.rglob("*")):
                os.lchown(p, user, user)
        for argv in (
            ["scan", str(wheel)],
            ["audit", "--lock", str(lock)],
            ["install", "--lock", str(lock), "--python", str(env_dir)],
        ):
            proc = _run(argv, env, user=user)
            text = proc.stdout + proc.stderr
            assert proc.returncode == 0, (argv, text)
            assert "Traceback" not in text and "temporary cache" in text, (argv, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_full_disk_while_staging_is_one_line_and_changes_nothing(make_index, tmp_path):
    import resource

    from tests.test_install import tree

    index = make_index()
    index.add_wheel("heavy", "1.0", files={"heavy/blob.bin": os.urandom(3 << 20)})
    lock = write_lock(index, tmp_path / "requirements.lock", [("heavy", "1.0")])
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    before = tree(env_dir)

    def small_disk() -> None:  # files may not grow past 1 MiB: a full disk for the staging
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    argv = ["install", "--lock", str(lock), "--python", str(env_dir), "--no-audit"]
    proc = _run(argv, {"PIPVET_CACHE_DIR": str(tmp_path / "cache")}, preexec=small_disk)
    text = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 2, text
    assert "Traceback" not in text and "cannot write heavy-1.0" in text, text
    assert text.splitlines()[-1].startswith("error: ") and "disk is full" in text, text
    assert tree(env_dir) == before
