"""pipvet at a real terminal (a pseudo-terminal from ``os.openpty``) and in a pipe.

On a terminal: the install question is asked and its answer obeyed, a live progress line shows
while work goes on (and is gone at the end), severities and verdicts are coloured, ``NO_COLOR``
and ``--color never`` take colour away. In a pipe, a CI log, a dumb terminal or under ``-q``:
no progress line; in a pipe, not one escape code from any command, and rich is never imported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.terminal import child_env, run_on_terminal, run_piped
from tests.test_audit_cli import RECORDS
from tests.test_install import tree

from pipvet.sources.advisories.db import build_db
from pipvet.sources.environment import installed_distributions

SGR = re.compile(rb"\x1b\[[0-9;]*m")  # a colour or text style
QUESTION = b"install anyway? [y/N]"


@pytest.fixture(autouse=True)
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CONFIG_DIR", str(tmp_path / "user-config"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "adv.sqlite"
    build_db(path, RECORDS, {"source": "test records", "date": "2024-06-01T00:00:00Z"})
    return path


def installed(env: Path) -> dict[str, str]:
    return {d.name: str(d.version) for d in installed_distributions(str(env))}


# -- the install question ----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["y", "n"])
def test_install_asks_on_a_terminal_and_obeys_the_answer(make_index, venv, answer):
    index = make_index(standard=True)
    index.set_status("gamma", "deprecated")  # warns: the question is asked
    before = tree(venv)
    run = run_on_terminal(
        ["install", "alpha", "--index-url", index.url, "--python", str(venv)],
        cwd=Path.cwd(),
        answer=answer,
        prompt=QUESTION,
    )
    assert "gamma is deprecated" in run.text and "install anyway? [y/N]" in run.text
    if answer == "y":
        assert run.code == 0, run.text
        assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
        assert "done: 3 installed: alpha 2.0, beta 1.1, gamma 1.0" in run.text
    else:
        assert run.code == 1, run.text
        assert "not installed: the answer was no" in run.text
        assert tree(venv) == before


def test_quiet_install_still_shows_what_it_asks_about(make_index, venv):
    index = make_index(standard=True)
    index.set_status("gamma", "deprecated")
    run = run_on_terminal(
        ["install", "alpha", "--index-url", index.url, "--python", str(venv), "-q"],
        cwd=Path.cwd(),
        answer="n",
        prompt=QUESTION,
    )
    assert run.code == 1, run.text
    assert "gamma is deprecated" in run.text and "install anyway? [y/N]" in run.text
    assert "plan:" not in run.text  # the rest of the commentary is left out
    assert "downloading" not in run.transcript  # and no progress line under -q


def test_install_in_a_pipe_never_asks(make_index, venv):
    index = make_index(standard=True)
    index.set_status("gamma", "deprecated")
    run = run_piped(
        ["install", "alpha", "--index-url", index.url, "--python", str(venv)], cwd=Path.cwd()
    )
    err = run.stderr.decode()
    assert run.code == 0, err
    assert b"install anyway" not in run.stderr + run.stdout
    assert "gamma is deprecated" in err
    assert b"\x1b" not in run.stderr + run.stdout


# -- progress ----------------------------------------------------------------------------------


def test_install_progress_shows_on_a_terminal_only(make_index, venv):
    index = make_index(standard=True)
    argv = ["install", "alpha", "--index-url", index.url, "--python", str(venv), "--dry-run"]
    run = run_on_terminal(argv, cwd=Path.cwd())
    assert run.code == 0, run.text
    assert "downloading 3 file(s)" in run.transcript  # the live line, while it worked
    assert "0/3" in run.transcript  # with how far along it is (a new step is drawn at once)
    assert "downloading 3 file(s)" not in run.text  # and gone from the screen at the end
    assert "dry run: would install 3" in run.text
    piped = run_piped(argv, cwd=Path.cwd())
    assert piped.code == 0, piped.stderr
    assert b"downloading" not in piped.stderr and b"\x1b" not in piped.stderr
    assert b"dry run: would install 3" in piped.stderr
    for quiet_env in (child_env(CI="true"), child_env(TERM="dumb")):
        run = run_on_terminal(argv, cwd=Path.cwd(), env=quiet_env)
        assert run.code == 0, run.text
        assert "downloading" not in run.transcript


def test_scan_lock_and_diff_progress_on_a_terminal_not_in_a_pipe(make_index, tmp_path):
    index = make_index(standard=True)
    wheels = [str(index.files_dir / f) for f in ("alpha-1.0-py3-none-any.whl",)]
    wheels.append(str(index.add_wheel("delta", "1.0", files={"delta/__init__.py": "x = 1\n"})))
    run = run_on_terminal(["scan", "--no-cache", *wheels], cwd=Path.cwd())
    assert run.code == 0, run.text
    assert "scanning (as data, never run)" in run.transcript and "0/2" in run.transcript
    assert "scanning" not in run.text
    assert "2 artifacts scanned" in run.text
    piped = run_piped(["scan", "--no-cache", *wheels], cwd=Path.cwd())
    assert b"scanning" not in piped.stderr + piped.stdout
    assert b"2 artifacts scanned" in piped.stdout

    lock = ["lock", "alpha", "--index-url", index.url, "-o", str(tmp_path / "req.lock")]
    run = run_on_terminal(lock, cwd=Path.cwd())
    assert run.code == 0, run.text
    assert "resolving 1 requirement(s)" in run.transcript
    assert "resolving" not in run.text and "locked 3 packages" in run.text
    piped = run_piped(lock, cwd=Path.cwd())
    assert piped.code == 0 and b"resolving" not in piped.stderr

    diff = ["diff", "alpha==1.0", "alpha==2.0", "--index-url", index.url, "--no-cache"]
    run = run_on_terminal(diff, cwd=Path.cwd())
    assert run.code == 0, run.text
    assert "reading alpha==1.0 and alpha==2.0" in run.transcript
    assert "scanning (as data, never run)" in run.transcript and "0/2" in run.transcript
    assert "scanning" not in run.text and run.text.startswith("pipvet diff: alpha==1.0")


# -- colour ------------------------------------------------------------------------------------


def test_severity_colour_on_a_terminal_and_no_color_takes_it_away(tmp_path, db):
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2==2.10\nalpha==1.0\n")
    argv = ["audit", "-r", str(req), "--db", str(db)]
    run = run_on_terminal(argv, cwd=Path.cwd())
    assert run.code == 1, run.text
    assert b"\x1b[1;35mcritical" in run.raw  # critical: bold magenta
    assert b"\x1b[1;31mhigh" in run.raw  # high: bold red
    assert b"\x1b[1;33mwarning:" in run.raw  # the stale-data warning's prefix
    assert "jinja2 2.10" in run.text and "critical" in run.text
    for env, extra in ((child_env(NO_COLOR="1"), []), (child_env(), ["--color", "never"])):
        plain = run_on_terminal([*argv, *extra], cwd=Path.cwd(), env=env)
        assert plain.code == 1, plain.text
        assert not SGR.search(plain.raw), plain.raw
        assert plain.text.replace("\n", "") == run.text.replace("\n", "")


def test_colour_in_a_pipe_only_when_forced(tmp_path):
    assert not SGR.search(run_piped(["explain"], cwd=Path.cwd()).stdout)
    forced = run_piped(["explain"], cwd=Path.cwd(), env=child_env(FORCE_COLOR="1"))
    assert SGR.search(forced.stdout)
    always = run_piped(["--color", "always", "explain"], cwd=Path.cwd())
    assert SGR.search(always.stdout)
    both = run_piped(["explain"], cwd=Path.cwd(), env=child_env(FORCE_COLOR="1", NO_COLOR="1"))
    assert not SGR.search(both.stdout)  # NO_COLOR wins over FORCE_COLOR


def test_lines_fit_the_terminal_width(tmp_path):
    run = run_on_terminal(["explain"], cwd=Path.cwd(), columns=80)
    assert run.code == 0
    lines = run.text.splitlines()
    assert len(lines) > 20 and max(len(line) for line in lines) <= 80
    piped = run_piped(["-v", "explain"], cwd=Path.cwd())  # a pipe gets whole lines
    assert max(len(line) for line in piped.stdout.decode().splitlines()) > 100


# -- a pipe: no escape code from any command ---------------------------------------------------


def test_no_command_writes_an_escape_code_to_a_pipe(make_index, venv, db, tmp_path):
    index = make_index(standard=True)
    records = tmp_path / "records"
    records.mkdir()
    for r in RECORDS:
        (records / f"{r['id']}.json").write_text(json.dumps(r))
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2==2.10\nalpha==1.0\n")
    wheel = str(index.files_dir / "alpha-1.0-py3-none-any.whl")
    lock = tmp_path / "req.lock"
    commands = {
        "audit": (["audit", "-r", str(req), "--db", str(db)], 1),
        "audit -v": (["audit", "-v", "-r", str(req), "--db", str(db)], 1),
        "scan": (["scan", "--no-cache", wheel], 0),
        "lock": (["lock", "alpha", "--index-url", index.url, "-o", str(lock)], 0),
        "install": (["install", "alpha", "--index-url", index.url, "--python", str(venv)], 0),
        "verify": (["verify", "--python", str(venv)], 0),
        "db update": (["db", "update", "--from", str(records), "--db", str(tmp_path / "n.db")], 0),
        "db info": (["db", "info", "--db", str(db)], 0),
        "diff": (["diff", "alpha==1.0", "alpha==2.0", "--index-url", index.url], 0),
        "check-names": (["check-names", "reqeusts", "requests"], 1),
        "explain": (["explain", "intent.decode-execute"], 0),
        "explain list": (["explain"], 0),
        "report": (["report", "alpha==2.0", "--index-url", index.url], 0),
    }
    for name, (argv, code) in commands.items():
        run = run_piped(argv, cwd=Path.cwd())
        out = run.stdout + run.stderr
        assert run.code == code, (name, out.decode())
        assert out.strip(), name
        assert b"\x1b" not in out, (name, out)


def test_rich_is_not_imported_in_a_pipe_or_at_start_up(tmp_path):
    for argv in (["--help"], ["explain"], ["check-names", "requests"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "pipvet", *argv],
            capture_output=True,
            env=child_env(),
        )
        assert proc.returncode == 0, proc.stderr
        imported = [line for line in proc.stderr.decode().splitlines() if "import time" in line]
        assert imported and not [line for line in imported if " rich" in line], argv


def test_wrap_breaks_at_spaces_and_colour_takes_no_room():
    from pipvet.cli.console import wrap
    from pipvet.formats.style import paint

    line = "  " + " ".join(["word"] * 30)
    out = wrap(line, 40).splitlines()
    assert len(out) > 1 and all(len(x) <= 40 for x in out)
    assert out[0].startswith("  word") and out[1].startswith("      word")  # hung under it
    assert " ".join(x.strip() for x in out) == line.strip()  # nothing lost
    coloured = paint("critical", "critical", color=True) + " x" * 10  # 28 columns on screen
    assert len(coloured) > 30 and wrap(coloured, 30) == coloured
    long = "at " + "a/" * 40 + "b.py:3"
    out = wrap(long, 40).splitlines()
    assert all(len(x) <= 40 for x in out) and "".join(x.strip() for x in out) == long.replace(
        " ", ""
    )
    assert wrap(line, None) == line  # a pipe: whole lines


def test_step_is_text_with_how_far_along():
    from pipvet.core.progress import Counter, Level, Step

    heard: list[tuple[Level, str]] = []
    counter = Counter(lambda level, message: heard.append((level, message)), "downloading", 2)
    counter.advance()
    counter.advance()
    assert [m for _, m in heard] == ["downloading"] * 3  # to a plain listener: the text
    assert [(m.done, m.total) for _, m in heard] == [(0, 2), (1, 2), (2, 2)]
    assert all(level is Level.STATUS and isinstance(m, Step) for level, m in heard)
