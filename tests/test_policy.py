"""The gate's policy: files, precedence, selectors, allowlist entries, and errors that name the
key, the file and the line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.core.errors import InputError
from pipvet.core.models import DistFile
from pipvet.core.policy import Policy, load_policy
from pipvet.services import gate
from pipvet.sources.index import ProjectPage, parse_html_page


@pytest.fixture(autouse=True)
def _user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.setenv("PIPVET_CONFIG_DIR", str(user))
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    return user


def test_defaults_block_malicious_and_suspicious_warn_risky():
    p = Policy()
    assert p.action(["malicious"]) == "block"
    assert p.action(["suspicious"]) == "block"
    assert p.action(["risky"]) == "warn"
    assert p.action(["rule:gate.typosquat"]) == "block"
    assert p.action(["rule:gate.archived"]) == "warn"
    assert p.action(["clean"]) is None


def test_files_merge_user_then_pipvet_toml_then_pyproject(tmp_path, _user_dir):
    (_user_dir / "pipvet.toml").write_text(
        'min-release-age = 3\nallow-sdist = ["one"]\nblock = ["risky"]\n'
    )
    (tmp_path / "pipvet.toml").write_text('allow-sdist = ["two"]\nwarn = ["rule:gate.yanked"]\n')
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.pipvet]\nmin-release-age = 7\n"
        'index-url = "https://corp.example/simple"\n'
        "[[tool.pipvet.allow]]\n"
        'package = "foo==1.0"\nrule = "suspicious"\nreason = "reviewed"\nexpires = 2999-01-01\n'
        "[tool.pipvet.audit]\nignore = []\n"
    )
    p = load_policy(tmp_path)
    assert p.min_release_age_days == 7
    assert p.allow_sdist == {"one", "two"}
    assert p.index_url == "https://corp.example/simple/"
    assert p.action(["risky"]) == "block"
    assert p.action(["rule:gate.yanked"]) == "warn"
    today = dt.date(2026, 1, 1)
    assert p.allowed("Foo", "1.0", ["suspicious"], today) is not None
    assert p.allowed("foo", "1.0", ["malicious"], today) is None  # another selector
    assert p.allowed("foo", "2.0", ["suspicious"], today) is None  # another version
    assert p.allow[0].origin.endswith("pyproject.toml:7")


def test_most_specific_selector_wins(tmp_path):
    (tmp_path / "pipvet.toml").write_text(
        'block = ["category:network"]\nwarn = ["rule:net.request"]\n'
    )
    p = load_policy(tmp_path)
    assert p.action(["risky", "category:network", "rule:net.request"]) == "warn"
    assert p.action(["risky", "category:network", "rule:other"]) == "block"


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("[tool.pipvet]\nmin-release-age = 1\nblok = []\n", ":3", "tool.pipvet.blok: unknown key"),
        ("[tool.pipvet]\n\nmin-release-age = -1\n", ":3", "tool.pipvet.min-release-age"),
        ('[tool.pipvet]\nblock = ["evil"]\n', ":2", "'evil' is not a selector"),
        ('[tool.pipvet]\nwarn = ["rule:gate.nope"]\n', ":2", "unknown gate rule 'gate.nope'"),
        ('[tool.pipvet]\nindex-url = "ftp://x"\n', ":2", "is not an http(s) index URL"),
        (
            '[tool.pipvet]\n[[tool.pipvet.allow]]\npackage = "a"\nexpires = 2030-01-01\n',
            ":2",
            "needs a reason",
        ),
        (
            '[tool.pipvet]\n[[tool.pipvet.allow]]\npackage = "a"\nreason = "r"\n',
            ":2",
            "needs expires = YYYY-MM-DD",
        ),
    ],
)
def test_wrong_key_or_value_names_key_file_and_line(tmp_path, text, where, says):
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_policy(tmp_path)
    assert f"{path}{where}" in err.value.message and says in err.value.message


def test_install_with_a_wrong_policy_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipvet.toml").write_text("min-release-age = 'soon'\n")
    assert main(["install", "alpha", "--index-url", "http://127.0.0.1:9/simple/"]) == 2
    err = capsys.readouterr().err
    assert "pipvet.toml:1: min-release-age: min-release-age must be a number of days" in err


def test_project_status_from_json_and_html():
    doc = {"files": [], "project-status": {"status": "quarantined", "reason": "malware"}}
    assert ProjectPage("u", doc=doc).status == ("quarantined", "malware")
    assert ProjectPage("u", doc={"files": []}).status == ("active", None)
    html = (
        '<html><head><meta name="pypi:project-status" content="archived">'
        '<meta name="pypi:project-status-reason" content="moved"></head><body></body></html>'
    )
    from pipvet.sources.index import _parse_html

    files, meta = _parse_html(html, "https://x/simple/p/")
    assert ProjectPage("u", parsed=files, meta=meta).status == ("archived", "moved")
    assert parse_html_page(html, "https://x/simple/p/") == []


@pytest.mark.parametrize(
    ("version", "flagged"),
    [("999.0", True), ("99.1", True), ("9999.0.1", True), ("5000.0", True),
     ("2024.10.1", False), ("20240101", False), ("1.26.4", False), ("100.0", False),
     ("263.7307.50", False)],
)  # fmt: skip
def test_dependency_confusion_versions(version, flagged):
    from packaging.version import Version

    from pipvet.core.names import confusion_version

    assert confusion_version(Version(version)) is flagged
    assert confusion_version(Version(version), "corp-internal-lib") is flagged


def test_a_popular_projects_high_version_is_its_own_scheme():
    """A confusion upload claims a name that is private elsewhere: never a popular project's."""
    from packaging.version import Version

    from pipvet.core.names import confusion_version

    assert confusion_version(Version("9999.0"), "corp-internal-lib")
    assert not confusion_version(Version("9999.0"), "Requests")


def test_release_times_take_the_first_upload_of_each_version():
    files = [
        DistFile("a-1.0.tar.gz", "u", upload_time="2025-01-02T00:00:00Z"),
        DistFile("a-1.0-py3-none-any.whl", "u", upload_time="2025-01-01T10:00:00.123456789Z"),
        DistFile("a-2.0.tar.gz", "u", upload_time=None),
    ]
    times = gate.release_times(files)
    assert [str(v) for v in times] == ["1.0"]
    assert times[next(iter(times))].isoformat().startswith("2025-01-01T10:00:00.123456")
