"""`pipvet diff` end to end: real locks made by `pipvet lock` on the loopback index, real
artifacts built by tests/support, the real scan service, audit and git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.index_server import TestIndex

from pipvet.cli.main import main
from pipvet.core.analysis.model import Finding
from pipvet.core.diff import (
    capabilities,
    compare_capabilities,
    compare_dependencies,
    compare_metadata,
    verdict_action,
)
from pipvet.formats.diff import clean
from pipvet.formats.diff.markdown_format import md

SETUP_OLD = "from setuptools import setup\nsetup(name='foo', version='1.2')\n"
SETUP_NEW = (
    "import socket\n"
    "from setuptools import setup\n"
    "conn = socket.create_connection(('example.com', 80))\n"
    "setup(name='foo', version='1.3')\n"
)
INIT_NEW = "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("diff-cache")


@pytest.fixture(autouse=True)
def _isolated(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(cache_dir))
    for var in ("PIP_INDEX_URL", "PIP_CONFIG_FILE", "UV_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    """foo 1.2 (harmless) and 1.3 (socket in setup.py, base64 exec on import); bar 1.0 and 1.1
    (a harmless update that adds a harmless dependency, qux), each with a wheel and an sdist."""
    idx = TestIndex(tmp_path_factory.mktemp("diff-index"))
    idx.add_wheel("foo", "1.2")
    idx.add_sdist("foo", "1.2", files={"setup.py": SETUP_OLD})
    idx.add_wheel("foo", "1.3", files={"foo/__init__.py": INIT_NEW})
    idx.add_sdist("foo", "1.3", files={"setup.py": SETUP_NEW, "foo/__init__.py": INIT_NEW})
    idx.add_wheel("bar", "1.0")
    idx.add_sdist("bar", "1.0")
    idx.add_wheel("bar", "1.1", requires=["qux"])
    idx.add_sdist("bar", "1.1", requires=["qux"])
    idx.add_wheel("qux", "1.0")
    yield idx
    idx.stop()


def _lock(tmp_path: Path, idx: TestIndex, req: str, name: str) -> Path:
    out = tmp_path / name
    assert main(["lock", req, "--index-url", idx.url, "--resolver", "pip", "-o", str(out)]) == 0
    return out


def _diff(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["diff", *args])
    return code, capsys.readouterr().out


def test_update_gaining_network_and_exec_is_named_with_file_and_line(
    index: TestIndex, tmp_path: Path, capsys
) -> None:
    old = _lock(tmp_path, index, "foo==1.2", "old.lock")
    new = _lock(tmp_path, index, "foo==1.3", "new.lock")
    code, out = _diff(capsys, str(old), str(new))
    assert code == 1
    assert "foo 1.2 -> 1.3" in out
    assert "gains network access in setup.py:3" in out
    assert "gains decode-and-execute of hidden code in foo/__init__.py:2" in out
    assert "install-time code gained: network access in setup.py:3" in out
    assert "1 package blocked by policy" in out

    code, out = _diff(capsys, str(old), str(new), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["action"] == "block"
    (change,) = doc["changes"]
    gained = {(g["rule"], g["path"], g["line"]) for g in change["gained"]}
    assert ("capability.network", "setup.py", 3) in gained
    assert ("intent.decode-execute", "foo/__init__.py", 2) in gained
    assert change["verdict"] == "malicious" and change["kind"] == "upgraded"
    assert any(f.endswith(".whl") for f in change["artifacts"])

    # the way back loses them, and 1.2 itself is clean: nothing blocks
    code, out = _diff(capsys, str(new), str(old))
    assert code == 0
    assert "foo 1.3 -> 1.2" in out and "loses" in out and "network access in setup.py:3" in out


def test_harmless_update_exits_0_and_says_so(index: TestIndex, tmp_path: Path, capsys) -> None:
    old = _lock(tmp_path, index, "bar==1.0", "old.lock")
    new = _lock(tmp_path, index, "bar==1.1", "new.lock")
    code, out = _diff(capsys, str(old), str(new))
    assert code == 0
    assert "bar 1.0 -> 1.1: nothing risky" in out
    assert "qux 1.0 (new): new package, nothing risky found" in out
    assert "new dependencies: qux" in out
    assert "Nothing risky changed." in out
    code, out = _diff(capsys, str(old), str(old))
    assert code == 0 and "No package changed." in out


def test_same_version_with_another_hash_is_a_reupload(make_index, tmp_path: Path, capsys) -> None:
    idx = make_index()
    wheel = Path(idx.add_wheel("baz", "1.0")).name
    old = _lock(tmp_path, idx, "baz==1.0", "old.lock")
    rebuilt = (idx.files_dir / wheel).read_bytes() + b"\0"  # other bytes, same filename
    idx.replace_bytes(wheel, rebuilt, update_hash=True)
    new = _lock(tmp_path, idx, "baz==1.0", "new.lock")
    code, out = _diff(capsys, str(old), str(new))
    assert code == 1
    assert f"re-upload of {wheel}" in out and "RE-UPLOAD" in out
    code, out = _diff(capsys, str(old), str(new), "--format", "json")
    (change,) = json.loads(out)["changes"]
    assert change["kind"] == "files-changed" and change["reuploads"][0]["filename"] == wheel


def test_lock_refuses_to_overwrite_a_lock_with_a_reupload(
    make_index, tmp_path: Path, capsys
) -> None:
    idx = make_index()
    wheel = Path(idx.add_wheel("baz", "1.0")).name
    lock = _lock(tmp_path, idx, "baz==1.0", "req.lock")
    before = lock.read_bytes()
    idx.replace_bytes(wheel, (idx.files_dir / wheel).read_bytes() + b"\0", update_hash=True)
    capsys.readouterr()
    code = main(["lock", "baz==1.0", "--index-url", idx.url, "--resolver", "pip", "-o", str(lock)])
    err = capsys.readouterr().err
    assert code == 1 and "RE-UPLOAD" in err and wheel in err
    assert lock.read_bytes() == before


def test_markdown_has_a_summary_then_details(index: TestIndex, tmp_path: Path, capsys) -> None:
    old = _lock(tmp_path, index, "foo==1.2", "old.lock")
    new = _lock(tmp_path, index, "foo==1.3", "new.lock")
    code, out = _diff(capsys, str(old), str(new), "--format", "markdown")
    assert code == 1
    summary, _, details = out.partition("<details>")
    assert summary.startswith("### pipvet diff: 1 package blocked by policy")
    assert "| :no_entry: block | foo | 1.2 → 1.3 |" in summary
    assert "setup.py:3" in summary
    assert "<summary>" in details and "</details>" in details
    assert "#### foo 1.2 → 1.3" in details


def test_two_versions_by_name_and_two_artifacts(index: TestIndex, tmp_path: Path, capsys) -> None:
    code, out = _diff(capsys, "foo==1.2", "foo==1.3", "--index-url", index.url)
    assert code == 1 and "gains network access in setup.py:3" in out
    wheels = sorted(index.files_dir.glob("foo-*.whl"))
    code, out = _diff(capsys, str(wheels[0]), str(wheels[1]))
    assert code == 1
    assert "foo 1.2 -> 1.3" in out and "foo/__init__.py:2" in out
    assert "setup.py" not in out  # wheels carry no setup.py
    code, _ = _diff(capsys, "foo==1.2", "bar==1.1", "--index-url", index.url)
    assert code == 2


@pytest.mark.skipif(shutil.which("git") is None, reason="no git")
def test_git_ref_compares_the_lock_with_its_committed_version(
    index: TestIndex, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    _lock(repo, index, "foo==1.2", "requirements.lock")
    subprocess.run([*git, "add", "requirements.lock"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "old"], check=True)
    _lock(repo, index, "foo==1.3", "requirements.lock")
    monkeypatch.chdir(repo)
    code, out = _diff(capsys, "--git", "HEAD")
    assert code == 1
    assert "requirements.lock at HEAD" in out and "gains network access in setup.py:3" in out
    code, _ = _diff(capsys, "--git", "no-such-ref", "requirements.lock")
    assert code == 2
    code, _ = _diff(capsys, "--git=--output=x")  # never passed to git as an option
    assert code == 2


def test_usage_errors(capsys, tmp_path: Path) -> None:
    assert main(["diff", "only-one"]) == 2
    lock = tmp_path / "x.lock"
    lock.write_text("alpha==1.0\n")
    art = tmp_path / "alpha-1.0-py3-none-any.whl"
    art.write_bytes(b"PK")
    assert main(["diff", str(lock), str(art)]) == 2
    assert main(["diff", str(lock), str(tmp_path / "missing.lock")]) == 2


# -- the pure parts ----------------------------------------------------------------------------


def _f(rule: str, category: str, severity: str, path: str, line: int | None) -> Finding:
    return Finding(rule, category, severity, path, line, "m", "")


def test_capabilities_line_up_sdist_and_wheel_paths_and_keep_new_lines() -> None:
    old = capabilities(
        [
            (_f("capability.network", "network", "low", "foo-1.2/foo/net.py", 10), True),
            (_f("capability.process", "process", "low", "foo/run.py", 5), False),
        ]
    )
    new = capabilities(
        [
            (_f("capability.network", "network", "low", "foo/net.py", 12), False),
            (_f("obfuscation.encoded-blob", "obfuscation", "medium", "foo/x.py", 2), False),
            (_f("metadata.empty-description", "metadata", "info", "", None), False),
        ]
    )
    gained, lost = compare_capabilities(old, new)
    assert [(g.phrase, g.where) for g in gained] == [("obfuscated code", "foo/x.py:2")]
    assert [(c.rule, c.where) for c in lost] == [("capability.process", "foo/run.py:5")]


def test_rebuilt_bundles_and_versioned_folders_are_the_same_file() -> None:
    def caps(path: str):
        return capabilities(
            [(_f("obfuscation.encoded-blob", "obfuscation", "medium", path, 1), False)]
        )

    old = caps("app-1.0.data/data/share/static/2874.6abba0b935c30437.js")
    new = caps("app-1.1.data/data/share/static/5361.6c4649b65b9b677d.js")
    assert compare_capabilities(old, new) == ((), ())
    other = caps("app-1.1.data/data/share/static/vendor.js")
    assert len(compare_capabilities(old, other)[0]) == 1


def test_dependencies_metadata_and_policy() -> None:
    added, removed = compare_dependencies(
        ["requests>=2", "idna; extra == 'x'"], ["requests>=2.1", "evil-helper"]
    )
    assert added == ("evil-helper",) and removed == ("idna; extra == 'x'",)
    changes = compare_metadata(
        {"maintainer-email": ["a@example.org"], "home-page": ["https://example.org"]},
        {"maintainer-email": ["b@example.net"], "home-page": ["https://example.org"]},
    )
    assert [(c.field, c.old, c.new) for c in changes] == [
        ("authors and maintainers", ("a@example.org",), ("b@example.net",))
    ]
    moved = compare_metadata(
        {"author": ["A"], "author-email": ["a@example.org"], "home-page": ["https://x.org/"]},
        {"author-email": ["A <A@example.org>"], "project-url": ["Homepage, https://x.org"]},
    )
    assert moved == ()  # the same people and URLs, written another way
    assert [verdict_action(v) for v in ("malicious", "suspicious", "risky", "clean")] == [
        "block", "block", "warn", "ok",
    ]  # fmt: skip


def test_verdicts_follow_the_gate_policy(tmp_path: Path) -> None:
    """The diff weighs a scan verdict as the install gate does: by the project's policy."""
    from pipvet.core.policy import load_policy

    (tmp_path / "pipvet.toml").write_text('block = ["risky"]\nwarn = ["suspicious"]\n')
    policy = load_policy(tmp_path)
    assert verdict_action("risky", policy) == "block"
    assert verdict_action("suspicious", policy) == "warn"
    assert verdict_action("malicious", policy) == "block"  # the default still applies
    assert verdict_action("clean", policy) == "ok"


def test_text_from_packages_is_escaped() -> None:
    hostile = "evil\x1b[2J\u202ename\nx"
    assert "\x1b" not in clean(hostile) and "\u202e" not in clean(hostile)
    assert "\\x1b" in clean(hostile) and "\\u202e" in clean(hostile)
    assert md("[click](https://x) <img> @you | `x`") == (
        "\\[click\\](https://x) \\<img\\> \\@you \\| \\`x\\`"
    )


def _record(vid: str, name: str, introduced: str) -> dict:
    events = [{"introduced": introduced}]
    return {
        "id": vid,
        "summary": f"{vid} summary",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    }


def test_vulnerabilities_introduced_and_fixed_and_known_malware(
    index: TestIndex, tmp_path: Path, capsys
) -> None:
    from pipvet.sources.advisories.db import build_db

    db = tmp_path / "advisories.sqlite"
    records = [_record("GHSA-test-0001", "bar", "1.1"), _record("MAL-2026-0001", "qux", "0")]
    build_db(db, records, {"source": "test", "date": "2026-11-01T00:00:00Z"})
    old = _lock(tmp_path, index, "bar==1.0", "old.lock")
    new = _lock(tmp_path, index, "bar==1.1", "new.lock")
    code, out = _diff(capsys, str(old), str(new), "--db", str(db))
    assert code == 1  # known malware blocks
    assert "qux 1.0 (new): known malware (MAL-2026-0001)" in out
    assert "vulnerability introduced: GHSA-test-0001 (critical)" in out
    assert "bar 1.0 -> 1.1: introduces 1 vulnerability (GHSA-test-0001)" in out
    code, out = _diff(capsys, str(new), str(old), "--db", str(db), "--format", "json")
    doc = json.loads(out)
    bar = next(c for c in doc["changes"] if c["name"] == "bar")
    assert [v["id"] for v in bar["vulns_fixed"]] == ["GHSA-test-0001"] and bar["action"] == "ok"

    only_vuln = [_record("GHSA-test-0001", "bar", "1.1")]
    db2 = tmp_path / "only-vuln.sqlite"
    build_db(db2, only_vuln, {"source": "test", "date": "2026-11-01T00:00:00Z"})
    code, _ = _diff(capsys, str(old), str(new), "--db", str(db2))
    assert code == 0  # an introduced vulnerability warns, as `pipvet install` does
    code, _ = _diff(capsys, str(old), str(new), "--db", str(db2), "--fail-on", "high")
    assert code == 1


def test_findings_not_in_lines_up_the_same_code_across_versions():
    from pipvet.core.analysis.model import Finding
    from pipvet.core.diff import findings_not_in

    def f(path, line, evidence, severity="high", rule="intent.download-execute"):
        return Finding(rule, "intent", severity, path, line, "m", evidence)

    old = [f("demo-1.0/demo/up.py", 8, "subprocess.run([path], check=True)")]
    same = f("demo/up.py", 31, "subprocess.run( [path],  check=True)  # noqa: S603")
    assert findings_not_in([same], False, old, True) == []  # moved, reformatted, commented
    worse = f("demo/up.py", 8, "subprocess.run([path], check=True)", severity="critical")
    assert findings_not_in([worse], False, old, True) == [worse]  # now runs on import
    other = f("demo/up.py", 9, "subprocess.run([other], check=True)")
    assert findings_not_in([same, other], False, old, True) == [other]  # other code
    again = f("demo/up.py", 40, "subprocess.run([path], check=True)")
    assert findings_not_in([same, again], False, old, True) == [again]  # one match each
    elsewhere = f("demo/other.py", 8, "subprocess.run([path], check=True)")
    assert findings_not_in([elsewhere], False, old, True) == [elsewhere]  # another file
