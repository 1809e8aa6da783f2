"""The loopback test index and pipvet's simple-index client, against each other and real pip."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from tests.support.index_server import JSON_TYPE, TestIndex, negotiate

from pipvet.core.errors import InputError, NetworkError
from pipvet.core.models import DistFile
from pipvet.sources.index import (
    SimpleIndex,
    download,
    download_with_digest,
    parse_html_page,
    parse_json_page,
)


def _get(url: str, accept: str | None = None) -> tuple[str, bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req) as resp:
        return resp.headers["Content-Type"], resp.read()


def test_content_negotiation_follows_pep_691() -> None:
    assert negotiate(None) == "application/vnd.pypi.simple.v1+html"
    assert negotiate("text/html") == "text/html"
    pip_accept = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
    assert negotiate(pip_accept) == JSON_TYPE
    assert negotiate(f"text/html, {JSON_TYPE};q=0.5") == "text/html"
    assert negotiate("application/xml") == ""


def test_index_serves_html_and_json_with_the_same_files(package_index: TestIndex) -> None:
    url = package_index.url + "gamma/"
    ctype, body = _get(url)
    assert ctype.startswith("application/vnd.pypi.simple.v1+html")
    html_files = parse_html_page(body.decode(), url)
    ctype, body = _get(url, JSON_TYPE)
    assert ctype == JSON_TYPE
    doc = json.loads(body)
    assert doc["meta"]["api-version"] == "1.4" and doc["versions"] == ["1.0"]
    json_files = parse_json_page(doc, url)
    assert [f.filename for f in html_files] == [f.filename for f in json_files]
    assert [f.sha256 for f in html_files] == [f.sha256 for f in json_files]
    names = {f.filename for f in json_files}
    assert names == {
        "gamma-1.0-py3-none-any.whl",
        "gamma-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "gamma-1.0-cp311-cp311-win_amd64.whl",
        "gamma-1.0.tar.gz",
    }
    for f in json_files:  # PEP 700 fields, and hashes that match the served bytes
        assert f.size == (package_index.files_dir / f.filename).stat().st_size
        assert f.upload_time and f.upload_time.endswith("Z")
        data = (package_index.files_dir / f.filename).read_bytes()
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        assert f.url.startswith(package_index.root + "/files/")


def test_wheels_are_real_and_record_is_correct(package_index: TestIndex) -> None:
    path = package_index.files_dir / "alpha-2.0-py3-none-any.whl"
    with zipfile.ZipFile(path) as zf:
        record = zf.read("alpha-2.0.dist-info/RECORD").decode().splitlines()
        assert "Requires-Dist: beta>=1.0" in zf.read("alpha-2.0.dist-info/METADATA").decode()
        for line in record:
            member, digest, _size = line.rsplit(",", 2)
            if digest:
                import base64

                raw = hashlib.sha256(zf.read(member)).digest()
                assert digest == "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_html_parser_resolves_relative_urls_fragments_and_yanks() -> None:
    page = """<html><head><base href="https://files.example/pkgs/"></head><body>
    <a href="a-1.0.tar.gz#sha256=ABCD" data-requires-python="&gt;=3.8">a-1.0.tar.gz</a>
    <a href="/abs/a-1.0-py3-none-any.whl#md5=0f" data-yanked="">a-1.0-py3-none-any.whl</a>
    <a href="a%2B-1.0.zip">a+-1.0.zip</a>
    </body></html>"""
    files = parse_html_page(page, "https://index.example/simple/a/")
    assert files[0] == DistFile(
        filename="a-1.0.tar.gz",
        url="https://files.example/pkgs/a-1.0.tar.gz",
        hashes=files[0].hashes,
        requires_python=">=3.8",
    )
    assert str(files[0].hashes[0]) == "sha256:abcd"
    assert files[1].url == "https://files.example/abs/a-1.0-py3-none-any.whl"
    assert files[1].yanked and files[1].hashes[0].algorithm == "md5"
    assert files[2].filename == "a+-1.0.zip" and not files[2].yanked


def test_client_prefers_json_and_matches_html(package_index: TestIndex) -> None:
    client = SimpleIndex(package_index.url)
    files = client.project_files("Alpha")  # normalised for the request
    assert {f.filename for f in files} == {
        "alpha-1.0-py3-none-any.whl",
        "alpha-2.0-py3-none-any.whl",
    }
    assert all(f.size and f.upload_time for f in files)  # only JSON carries these


def test_many_fetches_concurrently_and_keys_by_normalised_name(make_index) -> None:
    idx = make_index()
    for i in range(40):
        idx.add_wheel(f"Proj_{i}", "1.0")
    got = SimpleIndex(idx.url).many([f"proj.{i}" for i in range(40)], max_workers=8)
    assert sorted(got) == sorted(f"proj-{i}" for i in range(40))
    assert all(len(v) == 1 for v in got.values())


def test_unknown_project_is_an_input_error_and_unreachable_index_a_network_error(
    make_index,
) -> None:
    idx = make_index(standard=True)
    with pytest.raises(InputError, match="404"):
        SimpleIndex(idx.url).project_files("nope")
    url = idx.url
    idx.stop()
    with pytest.raises(NetworkError, match="cannot reach"):
        SimpleIndex(url, timeout=5).project_files("alpha")


def test_download_streams_and_hashes(package_index: TestIndex, tmp_path: Path) -> None:
    file = next(f for f in SimpleIndex(package_index.url).project_files("gamma") if f.is_wheel)
    result = download_with_digest(file, tmp_path)
    assert result.path == tmp_path / file.filename
    assert result.sha256 == file.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert download(file, tmp_path / "again").read_bytes() == result.path.read_bytes()


def test_truncated_download_is_refused_and_leaves_nothing(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    file = SimpleIndex(idx.url).project_files("alpha")[0]
    idx.truncate(file.filename, 100)
    with pytest.raises(NetworkError, match="incomplete download: cut short after 100 of"):
        download(file, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_size_from_the_index_is_checked(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    file = SimpleIndex(idx.url).project_files("alpha")[0]
    wrong = DistFile(file.filename, file.url, file.hashes, size=(file.size or 0) + 1)
    with pytest.raises(NetworkError, match=r"incomplete download: .* index says"):
        download(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_index_going_away_and_missing_files(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    files = SimpleIndex(idx.url).project_files("gamma")
    idx.fail_after(1)
    download(files[0], tmp_path)
    with pytest.raises(NetworkError, match="503"):
        download(files[1], tmp_path)
    idx.fail_after(10**6)
    idx.remove(files[2].filename)
    with pytest.raises(InputError, match="404"):
        download(files[2], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [files[0].filename]


def test_tampered_bytes_keep_the_listed_hash_unless_asked(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    name = "beta-1.0-py3-none-any.whl"
    old = idx.listed(name).sha256
    idx.replace_bytes(name, b"evil")
    file = next(f for f in SimpleIndex(idx.url).project_files("beta") if f.filename == name)
    assert file.sha256 == old
    assert download_with_digest(file, tmp_path).sha256 == hashlib.sha256(b"evil").hexdigest()
    idx.replace_bytes(name, b"evil", update_hash=True)
    file = next(f for f in SimpleIndex(idx.url).project_files("beta") if f.filename == name)
    assert file.sha256 == hashlib.sha256(b"evil").hexdigest()


def test_unsafe_filenames_from_an_index_are_refused(tmp_path: Path) -> None:
    bad = DistFile("../escape.whl", "http://127.0.0.1:1/files/x")
    with pytest.raises(InputError, match="unsafe"):
        download(bad, tmp_path)


def test_real_pip_resolves_from_metadata_and_builds_the_sdist_offline(
    make_index, tmp_path: Path
) -> None:
    idx = make_index(standard=True)
    report = tmp_path / "report.json"
    common = ["--isolated", "--disable-pip-version-check", "--no-input", "--index-url", idx.url]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--only-binary", ":all:", "--report", str(report), "-q", *common, "alpha"],
        check=True, capture_output=True,
    )  # fmt: skip
    installs = json.loads(report.read_text())["install"]
    got = {i["metadata"]["name"]: i["metadata"]["version"] for i in installs}
    assert got == {"alpha": "2.0", "beta": "1.1", "gamma": "1.0"}
    # PEP 658/714: pip resolved from .metadata files, before any wheel was fetched (pip < 23.3
    # still downloads the chosen wheels after a --dry-run resolution).
    first_wheel = next((i for i, r in enumerate(idx.requests) if r.endswith(".whl")), None)
    metadata = [r for r in idx.requests[:first_wheel] if r.endswith(".whl.metadata")]
    assert len(metadata) == 3
    # The sdist-only project builds offline with tinybuild fetched from the same index.
    out = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), *common, "onlysdist"],
        check=True,
        capture_output=True,
    )
    built = out / "onlysdist-1.0-py3-none-any.whl"
    with zipfile.ZipFile(built) as zf:
        assert zf.read("onlysdist/__init__.py") == b'__version__ = "1.0"\n'
    assert "/files/tinybuild-1.0-py3-none-any.whl" in idx.requests


@pytest.mark.parametrize("ranges", [True, False])
def test_wheel_metadata_without_pep_658_is_read_by_ranges(make_index, ranges: bool) -> None:
    idx = make_index()
    import random

    big = {f"alpha/blob{i}.bin": random.Random(i).randbytes(120_000) for i in range(3)}
    idx.add_wheel("alpha", "1.0", requires=['beta; python_version > "3"'], files=big)
    idx.serve_metadata = False
    idx.support_ranges = ranges
    client = SimpleIndex(idx.url)
    (wheel,) = client.project_files("alpha")
    assert client.core_metadata(wheel) is None  # the index serves no .metadata file
    meta = client.wheel_metadata(wheel)
    assert meta is not None and b"Requires-Dist: beta" in meta
    assert client.requires_dist({"alpha": [wheel]}) == {"alpha": ['beta; python_version > "3"']}
    assert wheel.size and wheel.size > 300_000  # so a 64 kB tail does not hold all of it


def test_pages_are_cached_only_as_long_as_the_index_allows(make_index, tmp_path: Path) -> None:
    idx = make_index(standard=True)
    cache = tmp_path / "cache"
    client = SimpleIndex(idx.url, cache_dir=cache)
    client.project_files("alpha")
    client.project_files("alpha")  # the test index says no-cache: asked for twice...
    assert idx.requests.count("/simple/alpha/") == 2
    assert idx.not_modified == ["/simple/alpha/"]  # ...the second time with its ETag
    idx.cache_control = "max-age=600"
    first = client.project_files("beta")
    idx.add_wheel("beta", "9.0")  # a new upload within max-age is not seen...
    assert SimpleIndex(idx.url, cache_dir=cache).project_files("beta") == first
    assert idx.requests.count("/simple/beta/") == 1
    fresh = SimpleIndex(idx.url).project_files("beta")  # ...without the cache it is
    assert "beta-9.0-py3-none-any.whl" in {f.filename for f in fresh}
    idx.cache_control = "max-age=0"
    SimpleIndex(idx.url, cache_dir=cache).project_files("gamma")
    SimpleIndex(idx.url, cache_dir=cache).project_files("gamma")
    assert idx.requests.count("/simple/gamma/") == 2


def test_a_non_ascii_project_name_is_asked_for_percent_encoded(make_index):
    """A homoglyph name (Cyrillic 'е') must not crash the client: the request is encoded and the
    index answers 404 like for any unknown project."""
    import pytest

    from pipvet.core.errors import InputError

    index = make_index(standard=True)
    with pytest.raises(InputError, match="HTTP 404"):
        SimpleIndex(index.url).project_page("r\u0435quests")


def test_gzip_page_is_inflated_within_a_bound(make_index) -> None:
    import resource

    index = make_index(standard=True)
    index.page_padding = 1000  # an honest compressed page still reads
    assert {f.filename for f in SimpleIndex(index.url).project_files("alpha")}
    index.page_padding = 300 * 1024**2  # ~300 KB sent, 300 MiB inflated
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="inflates to over 256 MiB"):
        SimpleIndex(index.url).project_files("alpha")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 300 * 1024  # never the whole inflated page at once
