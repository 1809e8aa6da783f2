"""Index pages kept in parsed form (``pipvet.sources.page_cache``): revalidated with ETags against
the real loopback index, re-parsed when they change, never served when damaged, edited or kept
for another URL, and a lock is the same bytes from a warm cache as from a cold one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from pipvet.cli.main import main
from pipvet.sources import page_cache
from pipvet.sources.index import SimpleIndex


def _entry(cache: Path, url: str) -> Path:
    return page_cache.disk_pages(cache)._path(url)


def _files(client: SimpleIndex, name: str) -> set[tuple[str, str | None]]:
    return {(f.filename, f.sha256) for f in client.project_files(name)}


def test_unchanged_page_is_revalidated_with_its_etag_and_not_sent_again(make_index) -> None:
    idx = make_index(standard=True)
    first = _files(SimpleIndex(idx.url), "gamma")
    assert idx.not_modified == []
    again = _files(SimpleIndex(idx.url), "gamma")  # a new client: asks, conditionally
    assert again == first and len(first) == 4
    assert idx.requests.count("/simple/gamma/") == 2
    assert idx.not_modified == ["/simple/gamma/"]  # answered 304: nothing sent, nothing parsed


def test_a_changed_page_is_parsed_again(make_index) -> None:
    idx = make_index(standard=True)
    before = _files(SimpleIndex(idx.url), "beta")
    idx.add_wheel("beta", "9.0")
    after = SimpleIndex(idx.url).project_page("beta")
    assert idx.not_modified == []  # the ETag changed: the whole page came again
    assert {f.filename for f in after.files(Version("9.0"))} == {"beta-9.0-py3-none-any.whl"}
    assert {(f.filename, f.sha256) for f in after.files()} > before
    assert after.versions[-1] == "9.0"
    # without an ETag the body's digest tells: same bytes, the parsed form is reused
    idx.send_etag = False
    assert _files(SimpleIndex(idx.url), "beta") == {(f.filename, f.sha256) for f in after.files()}


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "edit"])
def test_a_damaged_or_edited_entry_is_ignored_and_the_page_fetched_again(
    make_index, tmp_path: Path, damage: str
) -> None:
    idx = make_index(standard=True)
    idx.cache_control = "max-age=600"  # a good entry would be served without asking
    cache = tmp_path / "pages"
    good = _files(SimpleIndex(idx.url, cache_dir=cache), "gamma")
    url = SimpleIndex(idx.url).project_url("gamma")
    path = _entry(cache, url)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        at = len(raw) - 40  # inside a sha256 of the body
        path.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :])
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff not a page")
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a well-formed entry whose listed hash was rewritten (the MAC no longer verifies)
        digest = next(d for n, d in good if n.endswith("win_amd64.whl"))
        path.write_bytes(raw.replace(digest.encode(), b"0" * 64))
    requests = idx.requests.count("/simple/gamma/")
    client = SimpleIndex(idx.url, cache_dir=cache)
    assert _files(client, "gamma") == good
    assert idx.requests.count("/simple/gamma/") == requests + 1  # fetched again, in full
    assert idx.not_modified == []
    assert url in page_cache.disk_pages(cache).rejected
    assert SimpleIndex(idx.url, cache_dir=cache).project_files("gamma")  # rewritten: good again
    assert idx.requests.count("/simple/gamma/") == requests + 1


def test_the_cache_never_serves_a_page_for_another_index(make_index, tmp_path: Path) -> None:
    one, other = make_index(), make_index()
    one.add_wheel("alpha", "1.0")
    other.add_wheel("alpha", "2.0")
    for idx in (one, other):
        idx.cache_control = "max-age=600"
    cache = tmp_path / "pages"
    a = SimpleIndex(one.url, cache_dir=cache)
    b = SimpleIndex(other.url, cache_dir=cache)
    assert {f.filename for f in a.project_files("alpha")} == {"alpha-1.0-py3-none-any.whl"}
    # the other index's entry replaced by this one's (moved, or planted): it names its own URL
    _entry(cache, b.project_url("alpha")).write_bytes(
        _entry(cache, a.project_url("alpha")).read_bytes()
    )
    assert {f.filename for f in b.project_files("alpha")} == {"alpha-2.0-py3-none-any.whl"}
    assert b.project_url("alpha") in page_cache.disk_pages(cache).rejected
    assert other.requests.count("/simple/alpha/") == 1


def test_within_one_operation_each_page_is_asked_for_once(make_index) -> None:
    idx = make_index(standard=True)
    with page_cache.page_scope():
        SimpleIndex(idx.url).project_files("alpha")
        SimpleIndex(idx.url).project_page("alpha").status  # noqa: B018
        SimpleIndex(idx.url, other_hosts=False).many(["alpha", "beta"])
    assert idx.requests.count("/simple/alpha/") == 1
    assert idx.requests.count("/simple/beta/") == 1
    SimpleIndex(idx.url).project_files("alpha")  # a new operation asks again
    assert idx.requests.count("/simple/alpha/") == 2


def test_a_page_from_another_host_is_not_reused_where_other_hosts_are_refused(
    make_index,
) -> None:
    from pipvet.core.errors import InputError

    home, elsewhere = make_index(), make_index()
    elsewhere.add_wheel("alpha", "1.0")
    home.redirect_pages_to = elsewhere.root.replace("127.0.0.1", "localhost")
    with page_cache.page_scope():
        assert SimpleIndex(home.url).project_files("alpha")  # followed (and said on stderr)
        with pytest.raises(InputError, match="redirects to another host"):
            SimpleIndex(home.url, other_hosts=False).project_files("alpha")


def test_a_large_page_decodes_only_the_releases_asked_for(tmp_path: Path) -> None:
    sha = [["sha256", "a" * 64]]
    rows = [
        [
            n,
            f"big-1.{n}-py3-none-any.whl",
            f"https://f.example/{n}.whl",
            sha,
            None,
            None,
            None,
            False,
        ]
        for n in range(3000)
    ]
    url = "https://index.example/simple/big/"
    data = page_cache.build(url, url, rows)
    disk = page_cache.disk_pages(tmp_path)
    disk.put(data)
    back = disk.get(url)
    assert back is not None and back.count == 3000 and not back._rows
    assert back.release_keys()[:2] == ["1.2999", "1.2998"]  # newest first
    assert [r[1] for r in back.rows("1.17")] == ["big-1.17-py3-none-any.whl"]
    assert list(back._rows) == ["1.17"]  # nothing else was decoded
    assert [r[0] for r in back.all_rows()] == list(range(3000))  # the page's own order
    assert back.rows(page_cache.version_key(Version("1.17.0"))) == back.rows("1.17")
    assert disk.get("https://index.example/simple/other/") is None


@pytest.mark.parametrize("cache_control", ["max-age=600", "no-cache"])
def test_a_lock_is_the_same_from_a_warm_and_a_cold_cache(
    make_index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_control: str
) -> None:
    idx = make_index(standard=True)
    idx.cache_control = cache_control
    outs = []
    out = tmp_path / "req.lock"  # the same path: the header names it
    for cache in ["one", "one", "two"]:  # cold, warm, cold again
        monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / cache))
        assert main(["lock", "alpha", "gamma", "--index-url", idx.url, "-o", str(out)]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1] == outs[2]
    assert "gamma-1.0-cp311-cp311-win_amd64.whl" in outs[0]
    pages = list((tmp_path / "one" / "simple").glob("*.page"))
    assert pages and all(json.loads(p.read_bytes().split(b"\n")[2])["url"] for p in pages)


def test_an_install_from_a_lock_asks_for_each_page_once(make_index, tmp_path: Path, capsys) -> None:
    """The gate's name checks, its index facts and the plan read one fetch of each page."""
    import subprocess
    import sys

    from tests.test_install import write_lock

    idx = make_index(standard=True)
    lock = write_lock(idx, tmp_path / "requirements.lock")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    before = {p: idx.requests.count(f"/simple/{p}/") for p in ("alpha", "beta", "gamma")}
    rc = main(["install", "--no-audit", "--lock", str(lock), "--python", str(venv)])
    assert rc == 0, capsys.readouterr()
    after = {p: idx.requests.count(f"/simple/{p}/") for p in ("alpha", "beta", "gamma")}
    assert {p: after[p] - before[p] for p in after} == {"alpha": 1, "beta": 1, "gamma": 1}


def test_old_releases_of_a_long_page_read_back_the_same(make_index, tmp_path: Path) -> None:
    """Past the newest releases a page is kept as the index sent it and read only when an old
    release is asked for: the files are the same as from the fresh page."""
    idx = make_index()
    for minor in range(page_cache.HEAD + 12):
        idx.add_wheel("many", f"1.{minor}")
    idx.add_sdist("many", "1.0")
    idx.cache_control = "max-age=600"
    cache = tmp_path / "pages"
    fresh = SimpleIndex(idx.url, cache_dir=cache).project_page("many")
    kept = SimpleIndex(idx.url, cache_dir=cache).project_page("many")  # from disk
    assert idx.requests.count("/simple/many/") == 1
    assert kept.data.tail_keys and kept.data.tail_form == "doc"
    for version in ("1.0", "1.5", f"1.{page_cache.HEAD + 11}"):
        assert kept.files(Version(version)) == fresh.files(Version(version))
    assert {f.filename for f in kept.files(Version("1.0"))} == {
        "many-1.0-py3-none-any.whl",
        "many-1.0.tar.gz",
    }
    assert kept.files() == fresh.files() and len(kept.files()) == page_cache.HEAD + 13
    newest = next(kept.releases())[0]
    assert newest == Version(f"1.{page_cache.HEAD + 11}")


def test_a_release_the_page_does_not_list_has_no_files(make_index) -> None:
    idx = make_index(standard=True)
    page = SimpleIndex(idx.url).project_page("alpha")
    assert page.files(Version("99.0")) == []
    many = make_index()
    for minor in range(page_cache.HEAD + 2):
        many.add_wheel("many", f"1.{minor}")
    assert SimpleIndex(many.url).project_page("many").files(Version("99.0")) == []


def test_an_install_reuses_pages_the_index_allows_and_refresh_asks_again(
    make_index, tmp_path: Path, capsys
) -> None:
    """A second install within the index's max-age reads every page from the cache (as pip's and
    uv's HTTP caches do); ``--refresh`` asks for each again, conditionally."""
    import subprocess
    import sys

    from tests.test_install import write_lock

    idx = make_index(standard=True)
    lock = write_lock(idx, tmp_path / "requirements.lock")  # its pages: "no-cache"
    idx.cache_control = "max-age=600"
    names = ("alpha", "beta", "gamma")

    def install(*extra: str) -> dict[str, int]:
        venv = tmp_path / f"venv{len(idx.requests)}"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        before = {p: idx.requests.count(f"/simple/{p}/") for p in names}
        args = ["install", "--no-audit", "--lock", str(lock), "--python", str(venv), *extra]
        assert main(args) == 0, capsys.readouterr()
        return {p: idx.requests.count(f"/simple/{p}/") - before[p] for p in names}

    assert install() == {"alpha": 1, "beta": 1, "gamma": 1}
    assert install() == {"alpha": 0, "beta": 0, "gamma": 0}
    assert install("--refresh") == {"alpha": 1, "beta": 1, "gamma": 1}
    assert sorted(set(idx.not_modified)) == [f"/simple/{p}/" for p in names]


def test_a_pages_earliest_upload_is_kept_and_found_for_entries_without_it(tmp_path: Path):
    rows = [
        [0, "old-1.0.tar.gz", "https://f/old-1.0.tar.gz", [], 1, "2019-05-01T10:00:00.000001Z",
         None, False],
        [1, "old-2.0.tar.gz", "https://f/old-2.0.tar.gz", [], 1, "2024-01-01T00:00:00Z", None,
         False],
        [2, "old-3.0.tar.gz", "https://f/old-3.0.tar.gz", [], 1, None, None, False],
    ]  # fmt: skip
    url = "https://index.example/simple/old/"
    data = page_cache.build(url, url, rows)
    assert data.first_upload == "2019-05-01T10:00:00.000001Z"
    disk = page_cache.DiskPages(tmp_path)
    disk.put(data)
    back = disk.get(url)
    assert back is not None and back.first_upload == data.first_upload
    assert not back._rows  # known without decoding a release
    data.first_upload = None  # an entry written before the summary was kept
    disk.put(data)
    older = disk.get(url)
    assert older is not None and older.first_upload is None
    assert older.earliest_upload() == "2019-05-01T10:00:00.000001Z"
    assert page_cache.build(url, url, rows[2:]).earliest_upload() == ""
