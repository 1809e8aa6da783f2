"""`pipvet install` end to end: a real loopback index, real pip, real temporary venvs.

Every refusal test lists the target venv (every file and its sha256) before and after and asserts
it is exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from pipvet.cli.main import main
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.lockfile_io import render_requirements
from pipvet.core.models import FileHash
from pipvet.installer.plan import version_files
from pipvet.sources.environment import installed_distributions
from pipvet.sources.index import SimpleIndex

CHAIN = [("alpha", "2.0"), ("beta", "1.1"), ("gamma", "1.0")]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own trust store, and pip config variables that must be ignored."""
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/never-used/")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "evil-links"))


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    return env


def tree(root: Path) -> dict[str, str]:
    """Every file under root with its sha256 (symlinks by their target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def installed(env: Path) -> dict[str, str]:
    return {d.name: str(d.version) for d in installed_distributions(str(env))}


def write_lock(
    index, path: Path, pins=CHAIN, *, unhashed: str | None = None, weak: str | None = None
) -> Path:
    """A lock of the index's files, written by pipvet's own lock writer."""
    si = SimpleIndex(index.url)
    pkgs = []
    for name, version in pins:
        files = version_files(si.project_files(name), name, Version(version))
        hashes = tuple(sorted({h for f in files for h in f.hashes}, key=str))
        if name == unhashed:
            hashes, files = (), []
        pkgs.append(
            LockedPackage(name=name, version=Version(version), files=tuple(files), hashes=hashes)
        )
    text = render_requirements(Lock(packages=tuple(pkgs), index_url=index.url), header="test")
    if weak:
        lines = [ln for ln in text.splitlines() if not ln.strip().startswith("#   ")]
        text = "\n".join(lines) + "\n"
        md5 = hashlib.md5(b"x").hexdigest()
        text = text.replace(
            f"{weak}=={dict(pins)[weak]} \\",
            f"{weak}=={dict(pins)[weak]} \\\n    --hash=md5:{md5} \\",
        )
    path.write_text(text)
    return path


def run_install(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["install", *argv])
    captured = capsys.readouterr()
    return rc, captured.err + captured.out


def test_happy_path_from_lock_picks_best_wheel_and_verifies(
    make_index, venv, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 0, out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    site = next((venv / "lib").glob("python*/site-packages"))
    wheel_meta = (site / "gamma-1.0.dist-info" / "WHEEL").read_text()
    assert "Tag: cp311-cp311-manylinux_2_17_x86_64" in wheel_meta  # best tag for this Python
    # uv linked from its cache for this install, deleted after: no installed file shares its data
    files = [p for p in site.rglob("*") if p.is_file()]
    assert files and all(p.stat().st_nlink == 1 for p in files)
    # one line per phase, the gate's one-line summary (and its note about pip's config)
    assert len(out.strip().splitlines()) <= 7
    assert out.strip().splitlines()[-1] == (
        "done: 3 installed: alpha 2.0, beta 1.1, gamma 1.0; 0 already there"
    )
    assert main(["verify", "--python", str(venv), "--lock", str(lock)]) == 0
    # installing again changes nothing
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 0 and "0 installed, 3 already there" in out


def test_changed_bytes_after_locking_is_a_red_flag(make_index, venv, tmp_path, capsys, installer):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    wheel = "beta-1.1-py3-none-any.whl"
    other = (index.files_dir / "beta-1.0-py3-none-any.whl").read_bytes()
    index.replace_bytes(wheel, other, update_hash=True)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 1
    assert "RED FLAG" in out and wheel in out and "beta==1.1" in out
    assert hashlib.sha256(other).hexdigest() in out  # actual, and where it came from
    assert f"{lock}:" in out
    assert "--hash=" not in out and "paste" not in out.lower()
    assert tree(venv) == before


def test_changed_bytes_with_unchanged_listing_is_caught_after_download(
    make_index, venv, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    wheel = "alpha-2.0-py3-none-any.whl"
    data = bytearray((index.files_dir / wheel).read_bytes())
    data[-30] ^= 0xFF  # same size, other bytes; the index still lists the old hash
    index.replace_bytes(wheel, bytes(data), update_hash=False)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 1 and "RED FLAG" in out and "bytes from" in out
    assert hashlib.sha256(bytes(data)).hexdigest() in out
    assert tree(venv) == before


def test_truncated_download_leaves_env_untouched(make_index, venv, tmp_path, capsys, installer):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    index.truncate("beta-1.1-py3-none-any.whl", 50)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 3 and "beta-1.1-py3-none-any.whl" in out and "incomplete download" in out
    assert tree(venv) == before


def test_index_going_away_mid_install(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    index.fail_after(1)  # the first file is served, then every file request fails
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 3 and "503" in out
    assert tree(venv) == before


def test_index_stopped_before_install(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    index.stop()
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 3 and "cannot reach" in out
    assert tree(venv) == before


def test_lock_with_one_unhashed_line_is_refused_naming_it(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", unhashed="beta")
    line = next(
        i for i, ln in enumerate(lock.read_text().splitlines(), 1) if ln.startswith("beta==")
    )
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 1
    assert f"{lock}:{line}: beta==1.1" in out
    assert "alpha" not in out.split("none:")[1].split("\n")[1]  # only the bad line is named
    assert tree(venv) == before
    # --no-verify-hashes installs it anyway, loudly
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv), "--no-verify-hashes")
    assert rc == 0 and "hash checking is OFF" in out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}


def test_weak_hash_is_refused(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", weak="alpha")
    assert "--hash=md5:" in lock.read_text()
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 1 and "weak" in out and "md5" in out and "alpha==2.0" in out
    assert tree(venv) == before


def test_malformed_requirements_line(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    lock.write_text(lock.read_text().replace("beta==1.1", "beta===>1.1"))
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 2 and f"{lock}:" in out
    rc, out = run_install(capsys, "alpha>>2", "--python", str(venv), "--index-url", index.url)
    assert rc == 2 and "malformed requirement" in out
    assert tree(venv) == before


def test_new_wheel_uploaded_after_the_lock(make_index, venv, tmp_path, capsys):
    index = make_index()
    index.add_sdist("delta", "1.0")
    index.add_wheel("epsilon", "1.0")
    lock = write_lock(index, tmp_path / "requirements.lock", [("delta", "1.0"), ("epsilon", "1.0")])
    index.add_wheel("delta", "1.0")  # uploaded later: the lock has no hash for it
    index.add_wheel("epsilon", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64")
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 1
    assert "delta-1.0-py3-none-any.whl for delta==1.0" in out
    assert "uploaded after the lock" in out and "RED FLAG" not in out
    assert "epsilon" not in out  # a locked wheel still fits: the newer one is simply not used
    assert tree(venv) == before
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv), "epsilon")
    assert rc == 0, out
    assert installed(venv) == {"epsilon": "1.0"}


def test_lock_for_another_platform_only(make_index, venv, tmp_path, capsys):
    index = make_index()
    index.add_wheel("zeta", "1.0", tag="cp311-cp311-win_amd64")
    lock = write_lock(index, tmp_path / "requirements.lock", [("zeta", "1.0")])
    # listed with an older upload time: not a late upload, the lock just lacks this platform
    index.add_wheel(
        "zeta", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64", upload_time="2020-01-01T00:00:00Z"
    )
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 1 and "zeta-1.0-cp311-cp311-manylinux_2_17_x86_64.whl" in out
    assert "other platforms" in out and "RED FLAG" not in out
    assert tree(venv) == before


def test_sdist_needs_permission(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("onlysdist", "1.0")])
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 1 and "--allow-sdist onlysdist" in out
    assert tree(venv) == before


def test_rollback_when_pip_fails_part_way(make_index, venv, tmp_path, capsys, installer):
    index = make_index(standard=True)
    old = write_lock(index, tmp_path / "old.lock", [("beta", "1.0")])
    assert (
        run_install(capsys, "--installer", installer, "--lock", str(old), "--python", str(venv))[0]
        == 0
    )
    lock = write_lock(index, tmp_path / "requirements.lock")
    site = next((venv / "lib").glob("python*/site-packages"))
    # a folder where alpha's wheel puts a file: pip (which installs packages without
    # dependencies between them in reverse name order) fails on alpha after it installed gamma
    # and replaced beta 1.0 by 1.1
    (site / "alpha" / "__init__.py").mkdir(parents=True)
    before = tree(venv)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 2 and f"{installer} failed" in out and "restored" in out
    assert installed(venv) == {"beta": "1.0"}
    assert tree(venv) == before


def test_pip_config_cannot_add_sources(make_index, venv, tmp_path, capsys, monkeypatch, installer):
    """PIP_*/UV_* variables and config files point at other sources: pip and uv must not use
    them."""
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("alpha", "1.0")])
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nno-index = false\nindex-url = http://127.0.0.1:9/x/\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.setenv("PIP_REQUIRE_VIRTUALENV", "1")
    monkeypatch.setenv("PIP_NO_BINARY", ":all:")  # would make pip refuse the staged wheel
    # and uv's: variables, a config file named by a variable, a project's uv.toml in the cwd
    uv_conf = tmp_path / "uv.toml"
    uv_conf.write_text('index-url = "http://127.0.0.1:9/x/"\n[pip]\nno-binary = [":all:"]\n')
    monkeypatch.setenv("UV_CONFIG_FILE", str(uv_conf))
    monkeypatch.setenv("UV_NO_BINARY", "1")
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/never-used/")
    monkeypatch.setenv("UV_FIND_LINKS", str(tmp_path / "evil-links"))
    monkeypatch.setenv("UV_LINK_MODE", "symlink")
    monkeypatch.delenv("UV_NO_CONFIG")
    monkeypatch.chdir(tmp_path)
    rc, out = run_install(
        capsys, "--installer", installer, "--lock", str(lock), "--python", str(venv)
    )
    assert rc == 0, out
    assert installed(venv) == {"alpha": "1.0"}


def test_dry_run_installs_nothing(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv), "--dry-run")
    assert rc == 0 and "would install 3" in out
    assert tree(venv) == before


def test_hash_helpers_agree_with_lock_hashes(make_index) -> None:
    index = make_index(standard=True)
    files = SimpleIndex(index.url).project_files("gamma")
    for f in files:
        assert FileHash("sha256", index.listed(f.filename).sha256) in f.hashes


def test_happy_path_with_a_lock_made_by_pipvet_lock(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = tmp_path / "requirements.lock"
    assert main(["lock", "alpha", "--index-url", index.url, "-o", str(lock)]) == 0
    capsys.readouterr()
    rc, out = run_install(capsys, "-r", str(lock), "--python", str(venv))  # hashed -r = a lock
    assert rc == 0, out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    assert main(["verify", "--python", str(venv), "--lock", str(lock)]) == 0


def test_no_lock_trusts_on_first_use_then_catches_changed_bytes(
    make_index, tmp_path, capsys, monkeypatch
):
    index = make_index(standard=True)
    first, second = tmp_path / "first", tmp_path / "second"
    for env in (first, second):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    rc, out = run_install(capsys, "alpha", "--index-url", index.url, "--python", str(first))
    assert rc == 0, out
    assert installed(first) == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    store = (tmp_path / "cache" / "trusted-hashes.json").read_text()
    wheel = "beta-1.1-py3-none-any.whl"
    assert wheel in store and index.listed(wheel).sha256 in store
    # the index now serves (and lists) other bytes under a filename seen before
    index.replace_bytes(wheel, b"PK\x05\x06" + b"\0" * 18, update_hash=True)
    before = tree(second)
    rc, out = run_install(capsys, "alpha", "--index-url", index.url, "--python", str(second))
    assert rc == 1 and "RED FLAG" in out and wheel in out and "trust store" in out
    assert tree(second) == before


def test_no_hash_from_the_index_warns_records_and_catches_later_changes(
    make_index, venv, tmp_path, capsys
):
    index = make_index()
    index.add_wheel("omega", "1.0")
    filename = "omega-1.0-py3-none-any.whl"
    index.set_listed_hashes(filename, {"md5": "0" * 32})  # an md5 is no hash at all for pipvet
    args = ["omega==1.0", "--index-url", index.url, "--python", str(venv), "--no-audit"]
    rc, out = run_install(capsys, *args)
    assert rc == 0, out
    assert "no sha256" in out and "omega==1.0" in out and "1)" in out and "2)" in out
    assert "paste" not in out.lower()
    assert installed(venv) == {"omega": "1.0"}
    # the download's own sha256 was recorded: other bytes under that filename are the red flag
    index.replace_bytes(filename, b"PK-not-the-same-bytes")
    other = tmp_path / "venv2"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    before = tree(other)
    rc, out = run_install(capsys, "omega==1.0", "--index-url", index.url, "--python", str(other))
    assert rc == 1, out
    assert filename in out and "expected" in out.lower() and "RED FLAG" in out
    assert tree(other) == before


def test_allowed_sdist_builds_offline_with_hash_checked_build_deps(
    make_index, tmp_path, capsys, installer
):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("onlysdist", "1.0")])
    first, second = tmp_path / "first", tmp_path / "second"
    for env in (first, second):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    argv = ["--lock", str(lock), "--allow-sdist", "onlysdist"]
    rc, out = run_install(capsys, "--installer", installer, *argv, "--python", str(first))
    assert rc == 0, out
    assert "building an sdist runs its code" in out and "tinybuild" in out
    assert installed(first) == {"onlysdist": "1.0"}  # the build dep stayed in the build env
    # the build backend's wheel now has other bytes under the same name: refused before building
    tiny = next(f for f in index.filenames("tinybuild"))
    other = (index.files_dir / "alpha-1.0-py3-none-any.whl").read_bytes()
    index.replace_bytes(tiny, other, update_hash=True)
    before = tree(second)
    rc, out = run_install(capsys, "--installer", installer, *argv, "--python", str(second))
    assert rc == 1 and "RED FLAG" in out and tiny in out
    assert tree(second) == before


def test_build_can_use_nothing_but_staged_files(
    make_index, venv, tmp_path, capsys, monkeypatch, installer
):
    """Without its staged build dependency the sdist cannot build: pip has no other source."""
    import pipvet.services.install as install_service

    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock", [("onlysdist", "1.0")])
    monkeypatch.setattr(
        install_service, "add_build_dependencies", lambda plan, trust, progress: (plan, trust)
    )
    before = tree(venv)
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
    assert rc == 2 and f"{installer} failed" in out and "restored" in out
    assert tree(venv) == before


def test_pylock_from_pipvet_lock_installs(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = tmp_path / "pylock.toml"
    argv = ["lock", "beta==1.1", "--index-url", index.url, "--format", "pylock", "-o", str(lock)]
    assert main(argv) == 0
    capsys.readouterr()
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 0, out
    assert installed(venv) == {"beta": "1.1", "gamma": "1.0"}


def test_before_install_hook_sees_verified_files_and_can_refuse(make_index, venv, tmp_path):
    from pipvet.core.errors import PolicyRefusal
    from pipvet.core.lockfile_io import read_lock
    from pipvet.installer.plan import plan_from_lock
    from pipvet.installer.run import install
    from pipvet.installer.target import probe_target

    index = make_index(standard=True)
    lock = read_lock(write_lock(index, tmp_path / "requirements.lock"))
    listings = SimpleIndex(index.url).many(p.name for p in lock.packages)
    plan = plan_from_lock(lock, listings, probe_target(str(venv)), index_url=index.url)
    seen = []

    def gate(staged) -> None:
        seen.extend((s.requirement, s.path.name, s.sha256) for s in staged)
        for s in staged:
            assert s.path.is_file() and hashlib.sha256(s.path.read_bytes()).hexdigest() == s.sha256
        raise PolicyRefusal("blocked by the gate")

    before = tree(venv)
    with pytest.raises(PolicyRefusal, match="blocked by the gate"):
        install(plan, before_install=gate)
    assert sorted(r for r, _n, _s in seen) == ["alpha==2.0", "beta==1.1", "gamma==1.0"]
    assert tree(venv) == before
    result = install(plan, before_install=lambda staged: None)
    assert sorted(result.changed) == ["alpha==2.0", "beta==1.1", "gamma==1.0"]


def test_unpinned_lock_line_is_named(make_index, venv, tmp_path, capsys):
    index = make_index(standard=True)
    lock = write_lock(index, tmp_path / "requirements.lock")
    lock.write_text(lock.read_text().replace("beta==1.1", "beta>=1.0"))
    before = tree(venv)
    rc, out = run_install(capsys, "--lock", str(lock), "--python", str(venv))
    assert rc == 2 and "not pinned" in out and f"{lock}:" in out
    assert tree(venv) == before


def test_mirror_with_other_bytes_is_named_as_another_index(make_index, venv, tmp_path, capsys):
    origin, mirror = make_index(standard=True), make_index(standard=True)
    lock = write_lock(origin, tmp_path / "requirements.lock", [("alpha", "1.0")])
    wheel = "alpha-1.0-py3-none-any.whl"
    mirror.replace_bytes(
        wheel, (mirror.files_dir / "beta-1.0-py3-none-any.whl").read_bytes(), update_hash=True
    )  # a mirror that rebuilt the file
    before = tree(venv)
    rc, out = run_install(
        capsys, "--lock", str(lock), "--python", str(venv), "--index-url", mirror.url
    )
    assert rc == 1 and wheel in out and "another index or mirror" in out
    assert "RED FLAG" not in out and mirror.root in out
    assert tree(venv) == before


@pytest.mark.parametrize("damage", ["truncated", "hash-rewritten"])
def test_damaged_trust_store_is_a_loud_error_not_a_reset(make_index, tmp_path, capsys, damage):
    index = make_index(standard=True)
    first, second = tmp_path / "first", tmp_path / "second"
    for env in (first, second):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    rc, out = run_install(capsys, "alpha", "--index-url", index.url, "--python", str(first))
    assert rc == 0, out
    store = tmp_path / "cache" / "trusted-hashes.json"
    wheel = "beta-1.1-py3-none-any.whl"
    if damage == "truncated":
        store.write_bytes(store.read_bytes()[:40])
    else:  # someone "fixes" the recorded hash to the one a changed file will have
        store.write_text(store.read_text().replace(index.listed(wheel).sha256, "0" * 64))
    index.replace_bytes(wheel, b"PK\x05\x06" + b"\0" * 18, update_hash=True)
    before = tree(second)
    rc, out = run_install(capsys, "alpha", "--index-url", index.url, "--python", str(second))
    assert rc == 2
    [line] = [ln for ln in out.splitlines() if "trust store" in ln]
    assert str(store) in line and "move it aside" in line
    assert tree(second) == before
