"""A client for simple package indexes (PEP 503 HTML, PEP 691 JSON, PEP 700 fields).

Standard library only. Each thread keeps its own keep-alive connections (``http.client``), so
``SimpleIndex.many`` fetches hundreds of project pages concurrently without a handshake per page.
Nothing here reads pip's configuration or ``PIP_*`` variables: the caller names the index.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
)
from packaging.version import Version

from pipvet import __version__
from pipvet.core.errors import InputError, NetworkError
from pipvet.core.filenames import file_version as _filename_version
from pipvet.core.filenames import pure_first
from pipvet.core.models import DistFile, FileHash

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
USER_AGENT = f"pipvet/{__version__}"
MAX_REDIRECTS = 5
CHUNK = 1 << 16

_local = threading.local()
_ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class DownloadResult:
    """A downloaded file: where it is, its sha256 (computed while streaming) and its size."""

    path: Path
    sha256: str
    size: int


# -- HTTP --------------------------------------------------------------------------------------


def _context() -> ssl.SSLContext:
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


_dns: dict[tuple[str, int], list] = {}
_dns_lock = threading.Lock()


def _create_connection(
    address: tuple[str, int], timeout: object = None, source_address: object = None
) -> socket.socket:
    """``socket.create_connection`` with one DNS lookup per host for the whole process:
    many threads looking up the same name at once can stall for the resolver's 5 s timeout."""
    host, port = address
    with _dns_lock:
        infos = _dns.get((host, port))
        if infos is None:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            _dns[(host, port)] = infos
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)  # type: ignore[arg-type]
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            error = e
            sock.close()
    raise error or OSError(f"cannot connect to {host}:{port}")


def _connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    pool: dict[tuple[str, str], http.client.HTTPConnection] = _local.__dict__.setdefault("pool", {})
    conn = pool.get((scheme, netloc))
    if conn is None:
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=timeout, context=_context())
        elif scheme == "http":
            conn = http.client.HTTPConnection(netloc, timeout=timeout)
        else:
            raise InputError(f"unsupported URL scheme {scheme!r} (use http or https)")
        conn._create_connection = _create_connection  # type: ignore[attr-defined]
        pool[(scheme, netloc)] = conn
    conn.timeout = timeout
    if conn.sock is not None:
        conn.sock.settimeout(timeout)
    return conn


def _drop(scheme: str, netloc: str) -> None:
    pool = _local.__dict__.get("pool", {})
    conn = pool.pop((scheme, netloc), None)
    if conn is not None:
        conn.close()


@contextlib.contextmanager
def _open(
    url: str,
    *,
    accept: str = "*/*",
    timeout: float = 30,
    compressed: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> Iterator[tuple[http.client.HTTPResponse, str]]:
    """GET ``url`` following redirects; yield ``(response, final_url)`` for a 200 (or, when a
    Range was asked, 206) answer."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {"Accept": accept, "User-Agent": USER_AGENT, **(extra_headers or {})}
        if compressed:
            headers["Accept-Encoding"] = "gzip"
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            conn = _connection(parts.scheme, parts.netloc, timeout)
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                _drop(parts.scheme, parts.netloc)
                if attempt == 2:
                    raise NetworkError(f"cannot reach {_origin(url)}: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                _drop(parts.scheme, parts.netloc)
                raise NetworkError(f"cannot reach {_origin(url)}: {_reason(e)}") from None
        if resp.status in (301, 302, 303, 307, 308):
            location = resp.getheader("Location")
            _discard(resp, parts.scheme, parts.netloc)
            if not location:
                raise InputError(f"{url}: redirect without a Location")
            url = urljoin(url, location)
            continue
        ok = (200, 206) if extra_headers and "Range" in extra_headers else (200,)
        if resp.status not in ok:
            _discard(resp, parts.scheme, parts.netloc)
            # a server error (5xx) is the server's trouble: retry later; 4xx is the request's
            error = NetworkError if resp.status >= 500 else InputError
            raise error(f"{url}: HTTP {resp.status} {resp.reason}".rstrip())
        try:
            yield resp, url
        except BaseException:
            _drop(parts.scheme, parts.netloc)
            raise
        if not resp.isclosed():  # the caller stopped early: the connection is unusable
            _drop(parts.scheme, parts.netloc)
        return
    raise InputError(f"{url}: too many redirects")


def _discard(resp: http.client.HTTPResponse, scheme: str, netloc: str) -> None:
    """Read a small unwanted body so the connection stays usable; drop it otherwise."""
    length = resp.getheader("Content-Length")
    try:
        if length is not None and length.isdigit() and int(length) <= 65536:
            resp.read()
            return
    except (OSError, http.client.HTTPException):
        pass
    _drop(scheme, netloc)


def _origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _read_body(resp: http.client.HTTPResponse, url: str) -> bytes:
    try:
        data = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise NetworkError(f"{url}: connection lost while reading ({_reason(e)})") from None
    encoding = (resp.getheader("Content-Encoding") or "").lower()
    if encoding == "gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise InputError(f"{url}: corrupt gzip response") from None
    return data


# -- parsing -----------------------------------------------------------------------------------


def _fragment_hashes(fragment: str) -> tuple[FileHash, ...]:
    algorithm, sep, digest = fragment.partition("=")
    if not sep or not digest or algorithm.lower() not in hashlib.algorithms_available:
        return ()
    return (FileHash(algorithm.lower(), digest.lower()),)


class _LinkParser(HTMLParser):
    """Collects ``<a>`` anchors (and ``<base href>``) from a PEP 503 page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._close()
            self._open = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def _close(self) -> None:
        if self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None

    def close(self) -> None:
        super().close()
        self._close()


def parse_html_page(text: str, page_url: str) -> list[DistFile]:
    """The files listed by a PEP 503 project page (relative URLs resolved, fragments parsed)."""
    parser = _LinkParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = []
    for attrs, label in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(base, href))
        filename = os.path.basename(urlsplit(url).path) or label
        filename = _unquote_name(filename)
        files.append(
            DistFile(
                filename=filename,
                url=url,
                hashes=_fragment_hashes(fragment),
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
            )
        )
    return files


def _unquote_name(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)


def _absolute(page_url: str, href: str) -> str:
    """``href`` resolved against the page, without its fragment (fast path for absolute URLs:
    PyPI pages list tens of thousands of files)."""
    if not href.startswith(("https://", "http://")):
        href = urljoin(page_url, href)
    return href.split("#", 1)[0]


def parse_json_page(
    doc: object, page_url: str, keep: Callable[[str], bool] | None = None
) -> list[DistFile]:
    """The files listed by a PEP 691 project response (PEP 700 size and upload-time kept);
    only those whose file name ``keep`` accepts, when given."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InputError(f"{page_url}: not a PEP 691 project response")
    files = []
    for item in doc["files"]:
        if not isinstance(item, dict) or "filename" not in item or "url" not in item:
            raise InputError(f"{page_url}: malformed file entry")
        if keep is not None and not keep(str(item["filename"])):
            continue
        raw_hashes = item.get("hashes") or {}
        hashes = tuple(
            FileHash(k.lower(), v.lower())
            for k, v in raw_hashes.items()
            if isinstance(v, str) and isinstance(k, str)
        )
        if len(hashes) > 1:
            hashes = tuple(sorted(hashes, key=lambda h: h.algorithm))
        url = _absolute(page_url, item["url"])
        size = item.get("size")
        files.append(
            DistFile(
                filename=str(item["filename"]),
                url=url,
                hashes=hashes,
                size=size if isinstance(size, int) else None,
                upload_time=item.get("upload-time") or None,
                requires_python=item.get("requires-python") or None,
                yanked=bool(item.get("yanked", False)),
            )
        )
    return files


# -- the client --------------------------------------------------------------------------------


DEFAULT_MAX_AGE = 600  # seconds; PyPI's own max-age for simple pages
METADATA_MAX_AGE = 30 * 24 * 3600  # a file URL's metadata is immutable


def _max_age(header: str | None) -> int:
    """Seconds a page may be reused: 0 for no-cache/no-store/private, ``max-age`` when given,
    ``DEFAULT_MAX_AGE`` when the server says nothing."""
    if header is None:
        return DEFAULT_MAX_AGE
    directives = [d.strip().lower() for d in header.split(",")]
    if any(d in ("no-cache", "no-store", "private") for d in directives):
        return 0
    for d in directives:
        if d.startswith("max-age="):
            value = d[len("max-age=") :]
            return int(value) if value.isdigit() else 0
    return DEFAULT_MAX_AGE


class _PageCache:
    """Project pages kept on disk for as long as the server allows (gzip, one file each)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode()).hexdigest() + ".gz")

    def get(self, url: str) -> tuple[str, str, bytes] | None:
        import time

        path = self._path(url)
        try:
            with gzip.open(path, "rb") as f:
                head = json.loads(f.readline())
                if head["url"] != url or time.time() > head["expires"]:
                    return None
                return head["final"], head["ctype"], f.read()
        except (OSError, EOFError, ValueError, KeyError, zlib.error):
            return None

    def put(self, url: str, final: str, ctype: str, body: bytes, max_age: int) -> None:
        import time

        head = {"url": url, "final": final, "ctype": ctype, "expires": time.time() + max_age}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".page-")
            with (
                os.fdopen(fd, "wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as f,
            ):
                f.write(json.dumps(head).encode() + b"\n")
                f.write(body)
            os.replace(tmp, self._path(url))
        except OSError:
            pass  # a cache that cannot be written is only slower


class ProjectPage:
    """A fetched project page; files are built only for the versions asked for."""

    def __init__(
        self, url: str, *, doc: dict | None = None, parsed: list[DistFile] | None = None
    ) -> None:
        self.url = url
        self.doc = doc
        self.parsed = parsed

    def files(self, version: Version | None = None) -> list[DistFile]:
        """All files, or those of ``version``."""
        keep = None if version is None else (lambda fn: _filename_version(fn) == version)
        if self.doc is not None:
            return parse_json_page(self.doc, self.url, keep)
        assert self.parsed is not None
        return [f for f in self.parsed if keep is None or keep(f.filename)]

    def wheel_summaries(self) -> Iterator[tuple[str, str | None, bool]]:
        """(filename, requires-python, yanked) of every wheel, without building DistFiles."""
        if self.doc is not None:
            for item in self.doc["files"]:
                name = str(item.get("filename", ""))
                if name.endswith(".whl"):
                    yield name, item.get("requires-python") or None, bool(item.get("yanked"))
        else:
            for f in self.parsed or ():
                if f.is_wheel:
                    yield f.filename, f.requires_python, f.yanked


class SimpleIndex:
    """One simple index, e.g. ``SimpleIndex("https://pypi.org/simple/")``."""

    def __init__(self, url: str, *, timeout: float = 30, cache_dir: Path | None = None) -> None:
        if not url.endswith("/"):
            url += "/"
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise InputError(f"index URL must be http(s): {url}")
        self.url = url
        self.timeout = timeout
        self.cache = _PageCache(Path(cache_dir)) if cache_dir is not None else None

    def project_url(self, name: str) -> str:
        return urljoin(self.url, f"{canonicalize_name(name)}/")

    def project_files(self, name: str) -> list[DistFile]:
        """Every file the index lists for project ``name`` (JSON preferred, HTML fallback)."""
        return self.project_page(name).files()

    def project_page(self, name: str) -> ProjectPage:
        """Project ``name``'s page, parsed lazily (PyPI pages can list 15,000 files)."""
        url = self.project_url(name)
        cached = self.cache.get(url) if self.cache else None
        if cached is not None:
            final, ctype, body = cached
        else:
            with _open(url, accept=ACCEPT, timeout=self.timeout, compressed=True) as (resp, final):
                ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
                body = _read_body(resp, final)
                max_age = _max_age(resp.getheader("Cache-Control"))
            if self.cache and max_age > 0:
                self.cache.put(url, final, ctype, body, max_age)
        if ctype == JSON_TYPE or ctype.endswith("+json") or ctype == "application/json":
            try:
                doc = json.loads(body)
            except ValueError:
                raise InputError(f"{final}: invalid JSON from the index") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
                raise InputError(f"{final}: not a PEP 691 project response")
            return ProjectPage(final, doc=doc)
        return ProjectPage(final, parsed=parse_html_page(body.decode("utf-8", "replace"), final))

    def many(
        self, names: Iterable[str], max_workers: int = 16
    ) -> dict[NormalizedName, list[DistFile]]:
        """``project_files`` for many projects at once, keyed by normalised name."""
        keys = sorted({canonicalize_name(n) for n in names})
        if not keys:
            return {}
        with ThreadPoolExecutor(max_workers=min(max_workers, len(keys))) as pool:
            results = pool.map(self.project_files, keys)
            return dict(zip(keys, results, strict=True))

    def download(self, file: DistFile, dest_dir: Path, *, timeout: float = 60) -> Path:
        return download(file, dest_dir, timeout=timeout)

    def core_metadata(self, file: DistFile) -> bytes | None:
        """The PEP 658 metadata file of a wheel (``<url>.metadata``), or None if not served."""
        try:
            with _open(file.url + ".metadata", timeout=self.timeout, compressed=True) as (r, u):
                return _read_body(r, u)
        except (InputError, NetworkError):
            return None

    def wheel_metadata(self, file: DistFile) -> bytes | None:
        """A wheel's METADATA: the PEP 658 file when served, else read from the wheel itself
        with HTTP range requests (its zip central directory, then that one member)."""
        key = file.url + "#metadata"  # a file's metadata never changes: cache it for long
        cached = self.cache.get(key) if self.cache and file.sha256 else None
        if cached is not None:
            return cached[2]
        blob = self.core_metadata(file)
        if blob is None and file.is_wheel:
            try:
                blob = self._metadata_by_range(file)
            except (InputError, NetworkError, ValueError, struct.error, zlib.error):
                blob = None
        if blob is not None and self.cache and file.sha256:
            self.cache.put(key, file.url, "text/plain", blob, METADATA_MAX_AGE)
        return blob

    def _range(self, url: str, spec: str) -> tuple[bytes, int, int | None]:
        """Bytes of a Range request, the offset they start at, and the file's total size.
        A server that ignores ranges answers with the whole file (offset 0)."""
        headers = {"Range": f"bytes={spec}"}
        with _open(url, timeout=self.timeout, extra_headers=headers) as (resp, final):
            data = _read_body(resp, final)
            if resp.status == 200:
                return data, 0, len(data)
            content_range = resp.getheader("Content-Range") or ""
        m = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", content_range.strip())
        if not m:
            raise InputError(f"{url}: malformed Content-Range {content_range!r}")
        total = int(m.group(2)) if m.group(2).isdigit() else None
        return data, int(m.group(1)), total

    def _read_at(self, url: str, have: tuple[bytes, int], start: int, length: int) -> bytes:
        """``length`` bytes at ``start``, from ``have`` (bytes, offset) or a new request."""
        data, offset = have
        if offset <= start and start + length <= offset + len(data):
            return data[start - offset : start - offset + length]
        data, offset, _ = self._range(url, f"{start}-{start + length - 1}")
        return data[start - offset : start - offset + length]

    def _metadata_by_range(self, file: DistFile) -> bytes | None:
        tail, tail_start, total = self._range(file.url, "-65536")
        if total is None:
            return None
        have = (tail, tail_start)
        eocd = tail.rfind(b"PK\x05\x06")
        if eocd < 0:
            return None
        cd_size, cd_offset = struct.unpack("<II", tail[eocd + 12 : eocd + 20])
        cd = self._read_at(file.url, have, cd_offset, cd_size)
        pos = 0
        while pos + 46 <= len(cd) and cd[pos : pos + 4] == b"PK\x01\x02":
            method, _t, _d, _crc, csize, _usize, nlen, elen, clen = struct.unpack(
                "<HHHIIIHHH", cd[pos + 10 : pos + 34]
            )
            local = struct.unpack("<I", cd[pos + 42 : pos + 46])[0]
            name = cd[pos + 46 : pos + 46 + nlen].decode("utf-8", "replace")
            pos += 46 + nlen + elen + clen
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                header = self._read_at(file.url, have, local, 30)
                n, e = struct.unpack("<HH", header[26:30])
                data = self._read_at(file.url, have, local + 30 + n + e, csize)
                if method == 8:
                    return zlib.decompressobj(-15).decompress(data)
                return data if method == 0 else None
        return None

    def requires_dist(
        self, files: dict[NormalizedName, list[DistFile]], max_workers: int = 16
    ) -> dict[NormalizedName, list[str]]:
        """Requires-Dist of each project, from one wheel's PEP 658 metadata (fetched
        concurrently). Projects whose metadata is not served are left out."""
        import email.parser

        chosen = {}
        for name, candidates in files.items():
            wheels = sorted(
                (f for f in candidates if f.is_wheel), key=lambda f: pure_first(f.filename)
            )
            if wheels:
                chosen[name] = wheels[0]
        if not chosen:
            return {}
        names = sorted(chosen)
        with ThreadPoolExecutor(max_workers=min(max_workers, len(names))) as pool:
            blobs = list(pool.map(lambda n: self.wheel_metadata(chosen[n]), names))
        out: dict[NormalizedName, list[str]] = {}
        for name, blob in zip(names, blobs, strict=True):
            if blob is not None:
                msg = email.parser.BytesParser().parsebytes(blob, headersonly=True)
                out[name] = [str(v) for v in msg.get_all("Requires-Dist") or []]
        return out


def file_version(file: DistFile) -> Version | None:
    """The version in a wheel or sdist file name (None when the name is not standard)."""
    return _filename_version(file.filename)


def _safe_filename(filename: str) -> str:
    if (
        not filename
        or filename != os.path.basename(filename)
        or "\\" in filename
        or filename.startswith(".")
    ):
        raise InputError(f"refusing unsafe file name from the index: {filename!r}")
    return filename


def download_with_digest(file: DistFile, dest_dir: Path, *, timeout: float = 60) -> DownloadResult:
    """Stream ``file`` into ``dest_dir`` (via a temp file), hashing as it goes.

    Raises ``NetworkError`` when the server cannot be reached, fails (5xx) or the transfer is cut
    short (Content-Length), ``InputError`` for other HTTP errors and a size other than the index's
    ``size``. The caller verifies the digest.
    """
    name = _safe_filename(file.filename)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    received = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _open(file.url, timeout=timeout) as (resp, final):
            length = resp.getheader("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except http.client.IncompleteRead as e:
                    received += len(e.partial)
                    raise NetworkError(
                        f"{name}: download cut short after {received} of {expected} bytes"
                    ) from None
                except (OSError, http.client.HTTPException) as e:
                    raise NetworkError(f"{name}: connection lost ({_reason(e)})") from None
                if not chunk:
                    break
                received += len(chunk)
                digest.update(chunk)
                out.write(chunk)
            del final
        if expected is not None and received != expected:
            raise NetworkError(f"{name}: download cut short after {received} of {expected} bytes")
        if file.size is not None and received != file.size:
            raise InputError(
                f"{name}: got {received} bytes but the index says the file has {file.size}"
            )
        path = dest_dir / name
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return DownloadResult(path, digest.hexdigest(), received)


def download(file: DistFile, dest_dir: Path, *, timeout: float = 60) -> Path:
    """``download_with_digest`` returning only the path (the caller hashes and verifies it)."""
    return download_with_digest(file, dest_dir, timeout=timeout).path


class Prefetcher:
    """Fetches project pages, and the metadata of each project's likely version, in the
    background while a resolver runs, following dependencies; then serves what it has and
    fetches the rest. Speculative: it only warms up fetches, the resolver decides versions."""

    def __init__(self, index: SimpleIndex, env: dict[str, str], *, max_workers: int = 16) -> None:
        import threading

        self.index = index
        self.env = env
        self._pool = ThreadPoolExecutor(max_workers=max_workers)
        self._lock = threading.Lock()
        self._pages: dict[str, Future[ProjectPage | None]] = {}
        self._meta: dict[tuple[str, Version], list[str] | None] = {}  # None: not served
        self._stopped = False
        self._needed: set[str] = set()

    def add(self, requirement: Requirement) -> None:
        """Start fetching ``requirement``'s project (and, transitively, its dependencies)."""
        self._submit(canonicalize_name(requirement.name), requirement)

    def _submit(self, name: str, requirement: Requirement) -> None:
        with self._lock:
            if name in self._pages or self._stopped:
                return
            self._pages[name] = self._pool.submit(self._crawl, name, requirement)

    def _crawl(self, name: str, requirement: Requirement) -> ProjectPage | None:
        if self._stopped and name not in self._needed:
            return None
        try:
            page = self.index.project_page(name)
        except (InputError, NetworkError):
            return None
        guess = self._guess(page, requirement)
        if guess is None or self._stopped:
            return page
        version, wheel_name = guess
        wheels = page.files(version)
        wheel = next((f for f in wheels if f.filename == wheel_name), None)
        blob = self.index.wheel_metadata(wheel) if wheel else None
        if blob is None:
            with self._lock:
                self._meta[(name, version)] = None  # type: ignore[index]
            return page
        import email.parser

        msg = email.parser.BytesParser().parsebytes(blob, headersonly=True)
        requires = [str(v) for v in msg.get_all("Requires-Dist") or []]
        with self._lock:
            self._meta[(name, version)] = requires  # type: ignore[index]
        for text in requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None:
                extras = requirement.extras or {""}
                if not any(req.marker.evaluate({**self.env, "extra": e}) for e in extras):
                    continue
            self._submit(canonicalize_name(req.name), req)
        return page

    def _guess(self, page: ProjectPage, requirement: Requirement) -> tuple[Version, str] | None:
        """The version the resolver will most likely pick, and one of its wheels."""
        python = self.env.get("python_full_version", "")
        best: tuple[Version, tuple[bool, str]] | None = None
        ok_python: dict[str, bool] = {}
        for filename, requires_python, yanked in page.wheel_summaries():
            v = _filename_version(filename)
            if v is None or yanked or v.is_prerelease:
                continue
            if best is not None and v < best[0]:
                continue
            if requires_python and python:
                if requires_python not in ok_python:
                    try:
                        spec = SpecifierSet(requires_python)
                        ok_python[requires_python] = spec.contains(python, prereleases=True)
                    except InvalidSpecifier:
                        ok_python[requires_python] = True
                if not ok_python[requires_python]:
                    continue
            if not requirement.specifier.contains(v, prereleases=False):
                continue
            rank = pure_first(filename)
            if best is None or v > best[0] or rank < best[1]:
                best = (v, rank)
        return (best[0], best[1][1]) if best else None

    def finish(
        self, pins: dict[NormalizedName, Version], *, metadata: bool
    ) -> tuple[dict[NormalizedName, list[DistFile]], dict[NormalizedName, list[str]]]:
        """Files of every pinned version (errors raised), and, if asked, each pinned version's
        Requires-Dist (left out where it cannot be read)."""
        with self._lock:
            self._stopped = True
            self._needed = set(pins)
            pending = {n: self._pages.get(n) for n in pins}

        def files_of(name: NormalizedName) -> list[DistFile]:
            fut = pending[name]
            page = fut.result() if fut is not None else None
            if page is None:
                page = self.index.project_page(name)
            return page.files(pins[name])

        names = sorted(pins)
        with ThreadPoolExecutor(max_workers=16) as pool:
            files = dict(zip(names, pool.map(files_of, names), strict=True))
        if not metadata:
            return files, {}
        with self._lock:
            known = {n: self._meta.get((n, pins[n])) for n in names}
        requires = {n: r for n, r in known.items() if r is not None}
        todo = {n: files[n] for n in names if (n, pins[n]) not in self._meta}
        requires.update(self.index.requires_dist(todo))
        return files, requires

    def close(self) -> None:
        with self._lock:
            self._stopped = True
        self._pool.shutdown(wait=False, cancel_futures=True)
