"""A client for simple package indexes (PEP 503 HTML, PEP 691 JSON, PEP 700 fields).

Standard library only. Each thread keeps its own keep-alive connections (``http.client``), so
``SimpleIndex.many`` fetches hundreds of project pages concurrently without a handshake per page.
Nothing here reads pip's configuration or ``PIP_*`` variables: the caller names the index.
"""

from __future__ import annotations

import contextlib
import errno
import functools
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
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
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
from pipvet.installer.pool import StoppablePool
from pipvet.sources import page_cache
from pipvet.sources.page_cache import (
    FILENAME,
    HASHES,
    REQUIRES_PYTHON,
    SIZE,
    UPLOAD,
    URL,
    YANKED,
    PageData,
)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
USER_AGENT = f"pipvet/{__version__}"
MAX_REDIRECTS = 5
MAX_BODY = 256 * 1024**2  # an index response (page, metadata), as sent and as inflated
CHUNK = 1 << 16
# Overall time one request may take (connect, headers and body), whatever the server's pace: a
# server dripping one byte every few seconds never trips a per-read socket timeout.
DEADLINE = 120.0
MIN_RATE = 32 * 1024  # bytes/s: each byte received extends a download's deadline by 1/MIN_RATE

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
            if _watchdog.aborted:  # abort_all came while this connected: it found no socket
                raise OSError("interrupted: no more network requests")
            return sock
        except OSError as e:
            error = e
            sock.close()
    raise error or OSError(f"cannot connect to {host}:{port}")


def deadline_seconds() -> float:
    """The overall deadline of one request (``PIPVET_NETWORK_DEADLINE`` overrides it)."""
    raw = os.environ.get("PIPVET_NETWORK_DEADLINE", "")
    try:
        return float(raw) if raw and float(raw) > 0 else DEADLINE
    except ValueError:
        return DEADLINE


class _Watchdog:
    """Hangs up on requests past their deadline, and on every request at once when
    ``abort_all`` is called (Ctrl-C): a thread blocked in a socket read then returns at once.

    A request's deadline is its base (``deadline_seconds()``) plus the time its body needs at
    ``MIN_RATE`` for the bytes received so far: a large download that keeps moving goes on, a
    server that drips bytes is hung up on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, dict] = {}
        self._next = 0
        self._thread: threading.Thread | None = None
        self.aborted = False

    def watch(self, conn: http.client.HTTPConnection, seconds: float) -> int:
        import time

        with self._lock:
            if self.aborted:
                raise NetworkError("interrupted: no more network requests")
            self._next += 1
            self._active[self._next] = {
                "end": time.monotonic() + seconds,
                "conn": conn,
                "expired": False,
            }
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="pipvet-net")
                self._thread.start()
            return self._next

    def progress(self, key: int, nbytes: int) -> None:
        with self._lock:
            entry = self._active.get(key)
            if entry is not None:
                entry["end"] += nbytes / MIN_RATE

    def release(self, key: int) -> bool:
        """Stop watching; True when the request ran past its deadline (and was hung up on)."""
        with self._lock:
            entry = self._active.pop(key, None)
        return bool(entry and entry["expired"])

    def expired(self, key: int) -> bool:
        with self._lock:
            entry = self._active.get(key)
        return bool(entry and entry["expired"])

    def abort_all(self) -> None:
        with self._lock:
            self.aborted = True
            conns = [e["conn"] for e in self._active.values()]
        for conn in conns:
            _hang_up(conn)

    def reset(self) -> None:
        with self._lock:
            self.aborted = False

    def _run(self) -> None:
        import time

        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                late = [e for e in self._active.values() if not e["expired"] and e["end"] <= now]
                for e in late:
                    e["expired"] = True
                if not self._active:
                    self._thread = None
                    return
                # once aborted, every tick: a request whose socket was not open yet when
                # ``abort_all`` hung up is hung up on as soon as it has one
                stop = self._active.values() if self.aborted else late
                conns = [e["conn"] for e in stop]
            for conn in conns:
                _hang_up(conn)


def concurrent_map(fn: Callable, items: Iterable, max_workers: int) -> list:
    """``list(map(fn, items))`` on a thread pool. On Ctrl-C (or SIGTERM raised as an
    exception) every request in flight is hung up on, so the first interruption ends it at
    once instead of waiting for slow downloads."""
    items = list(items)
    if not items:
        return []
    pool = StoppablePool(max_workers=max(1, min(max_workers, len(items))))
    try:
        results = list(pool.map(fn, items))
    except (KeyboardInterrupt, SystemExit):
        _watchdog.abort_all()
        pool.shutdown(wait=True, cancel_futures=True)
        _watchdog.reset()
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _hang_up(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()


def abort_all() -> None:
    """Hang up on every request in flight and refuse new ones (for Ctrl-C and SIGTERM)."""
    _watchdog.abort_all()


def allow_requests() -> None:
    """Undo ``abort_all`` (a long-lived process that goes on after an interruption)."""
    _watchdog.reset()


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
    deadline: float | None = None,
    other_hosts: bool = True,
) -> Iterator[tuple[http.client.HTTPResponse, str]]:
    """GET ``url`` following redirects; yield ``(response, final_url)`` for a 200 (or, when a
    Range was asked, 206) answer.

    The whole request, body included (read by the caller inside the ``with``), must finish
    within ``deadline`` seconds (``deadline_seconds()`` when None): past it the connection is
    hung up on and ``NetworkError`` says so. A socket read alone never waits over ``timeout``.
    A redirect to another host is named on stderr, or refused when ``other_hosts`` is False.
    """
    import time

    seconds = deadline if deadline is not None else deadline_seconds()
    end = time.monotonic() + seconds
    first = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        if not target.isascii():  # a hostile name or link: percent-encode, never crash
            from urllib.parse import quote

            target = quote(target, safe="/?=&%:@+,;~!$'()*[]")
        headers = {"Accept": accept, "User-Agent": USER_AGENT, **(extra_headers or {})}
        if compressed:
            headers["Accept-Encoding"] = "gzip"
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            conn = _connection(parts.scheme, parts.netloc, min(timeout, seconds))
            key = _watchdog.watch(conn, max(0.0, end - time.monotonic()))
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                _drop(parts.scheme, parts.netloc)
                if _watchdog.release(key):
                    raise _too_slow(first, seconds) from None
                if attempt == 2:
                    raise NetworkError(f"cannot reach {_origin(url)}: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                _drop(parts.scheme, parts.netloc)
                if _watchdog.release(key):
                    raise _too_slow(first, seconds) from None
                raise NetworkError(f"cannot reach {_origin(url)}: {_reason(e)}") from None
            except BaseException:
                _drop(parts.scheme, parts.netloc)
                _watchdog.release(key)
                raise
        try:
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                _discard(resp, parts.scheme, parts.netloc)
                if not location:
                    raise InputError(f"{url}: redirect without a Location")
                url = _follow(url, urljoin(url, location), first, other_hosts)
                continue
            ok = (200, 206) if extra_headers and "Range" in extra_headers else (200,)
            if extra_headers and (
                "If-None-Match" in extra_headers or "If-Modified-Since" in extra_headers
            ):
                ok = (200, 304)  # a conditional request: "not modified" is an answer
            if resp.status not in ok:
                _discard(resp, parts.scheme, parts.netloc)
                text = f"{url}: HTTP {resp.status} {resp.reason}".rstrip()
                if resp.status >= 500 or resp.status == 429:
                    raise NetworkError(text + " (the server failed; retry later)")
                raise InputError(text)
            resp.pipvet_watch = key  # type: ignore[attr-defined]  # for _progress
            try:
                yield resp, url
            except BaseException as exc:
                _drop(parts.scheme, parts.netloc)
                if _watchdog.expired(key) and not isinstance(exc, KeyboardInterrupt):
                    raise _too_slow(first, seconds) from None
                raise
            if _watchdog.expired(key):
                _drop(parts.scheme, parts.netloc)
                raise _too_slow(first, seconds)
            if not resp.isclosed():  # the caller stopped early: the connection is unusable
                _drop(parts.scheme, parts.netloc)
            return
        finally:
            _watchdog.release(key)
    raise InputError(f"{url}: too many redirects")


def _progress(resp: http.client.HTTPResponse, nbytes: int) -> None:
    """Tell the watchdog a download moves: each byte extends its deadline at ``MIN_RATE``."""
    key = getattr(resp, "pipvet_watch", None)
    if key is not None:
        _watchdog.progress(key, nbytes)


def _too_slow(url: str, seconds: float) -> NetworkError:
    return NetworkError(
        f"{url}: no complete answer within {seconds:.0f} s (the server is stalled or too slow); "
        "retry later"
    )


def _follow(url: str, location: str, first: str, other_hosts: bool) -> str:
    """The redirect target. One to another host changes where files come from: it is named on
    stderr (once per pair of hosts), or refused when ``other_hosts`` is False (a lock in force)."""
    old, new = urlsplit(url), urlsplit(location)
    if new.scheme not in ("http", "https"):
        raise InputError(f"{url}: redirect to an unsupported URL {location!r}")
    if old.scheme == "https" and new.scheme != "https":
        raise InputError(f"{url}: refusing a redirect from https to {new.scheme}: {location}")
    if new.netloc.lower() == old.netloc.lower():
        return location
    frm, to = _origin(first), _origin(location)
    if not other_hosts:
        raise InputError(
            f"{first}: the server redirects to another host ({to}); refused because a lock is "
            "in force (name that host with --index-url if you trust it)"
        )
    with _dns_lock:
        seen = (frm, to) in _redirects_seen
        _redirects_seen.add((frm, to))
    if not seen:
        import sys

        sys.stderr.write(f"warning: {frm} redirects to another host: files come from {to}\n")
    return location


_redirects_seen: set[tuple[str, str]] = set()


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


def _read_body(resp: http.client.HTTPResponse, url: str, limit: int | None = None) -> bytes:
    """The response body, inflated when gzip-encoded; over ``limit`` (default MAX_BODY) bytes,
    sent or inflated, is refused before more is read or inflated."""
    limit = MAX_BODY if limit is None else limit
    try:
        data = resp.read(limit + 1)
    except (OSError, http.client.HTTPException) as e:
        raise NetworkError(f"{url}: connection lost while reading ({_reason(e)})") from None
    if len(data) > limit:
        raise InputError(f"{url}: the response is over {limit // 1024**2} MiB; refused")
    encoding = (resp.getheader("Content-Encoding") or "").lower()
    if encoding == "gzip":
        data = _gunzip(data, limit, url)
    return data


def _gunzip(data: bytes, limit: int, url: str) -> bytes:
    """gzip members inflated up to ``limit`` bytes (a small page can inflate to gigabytes)."""
    out: list[bytes] = []
    total = 0
    while data:
        inflater = zlib.decompressobj(31)
        try:
            chunk = inflater.decompress(data, limit - total + 1)
        except zlib.error:
            raise InputError(f"{url}: corrupt gzip response") from None
        total += len(chunk)
        if total > limit:
            raise InputError(
                f"{url}: the response inflates to over {limit // 1024**2} MiB; refused"
            )
        if not inflater.eof:
            raise InputError(f"{url}: corrupt gzip response (cut short)")
        out.append(chunk)
        data = inflater.unused_data
        if data and not data.startswith(b"\x1f\x8b"):
            raise InputError(f"{url}: corrupt gzip response (trailing bytes)")
    return b"".join(out)


# -- parsing -----------------------------------------------------------------------------------


def _fragment_hashes(fragment: str) -> tuple[FileHash, ...]:
    algorithm, sep, digest = fragment.partition("=")
    if not sep or not digest or algorithm.lower() not in hashlib.algorithms_available:
        return ()
    return (FileHash(algorithm.lower(), digest.lower()),)


@functools.cache
def _link_parser_class() -> type:
    """The PEP 503 page parser (``html.parser`` is imported only when a page is HTML)."""
    from html.parser import HTMLParser

    class _LinkParser(HTMLParser):
        """Collects ``<a>`` anchors (and ``<base href>``) from a PEP 503 page."""

        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.base: str | None = None
            self.meta: dict[str, str] = {}  # <meta name=... content=...>, first value wins
            self.anchors: list[tuple[dict[str, str | None], str]] = []
            self._open: dict[str, str | None] | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "base" and self.base is None:
                self.base = dict(attrs).get("href")
            elif tag == "meta":
                d = dict(attrs)
                name, content = (d.get("name") or "").lower(), d.get("content")
                if name and content is not None and name not in self.meta:
                    self.meta[name] = content
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

    return _LinkParser


def parse_html_page(text: str, page_url: str) -> list[DistFile]:
    """The files listed by a PEP 503 project page (relative URLs resolved, fragments parsed)."""
    return _parse_html(text, page_url)[0]


def _parse_html(text: str, page_url: str) -> tuple[list[DistFile], dict[str, str]]:
    """Files and ``<meta>`` values (lowercased names) of a PEP 503 project page."""
    pairs, meta = parse_html_anchors(text, page_url)
    return [f for f, _attrs in pairs], meta


def parse_html_anchors(
    text: str, page_url: str
) -> tuple[list[tuple[DistFile, dict[str, str | None]]], dict[str, str]]:
    """Each file of a PEP 503 project page with the attributes of its anchor (``data-yanked``
    reason, ``data-core-metadata``...), and the page's ``<meta>`` values: for a proxy that
    passes on what the parsed ``DistFile`` leaves out."""
    parser = _link_parser_class()()
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
        _check_listed_name(filename, page_url)
        dist = DistFile(
            filename=filename,
            url=url,
            hashes=_fragment_hashes(fragment),
            requires_python=attrs.get("data-requires-python") or None,
            yanked="data-yanked" in attrs,
            upload_time=attrs.get("data-upload-time") or None,
        )
        files.append((dist, attrs))
    return files, parser.meta


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
    return [
        _file_from_row(r) for r in _json_rows(doc, page_url) if keep is None or keep(r[FILENAME])
    ]


def _json_rows(doc: object, page_url: str) -> list[list]:
    """The rows (``pipvet.sources.page_cache``) of a PEP 691 project response, every entry
    checked: a malformed one refuses the whole page."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InputError(f"{page_url}: not a PEP 691 project response")
    return [_json_row(item, n, page_url) for n, item in enumerate(doc["files"])]


def _json_row(item: object, n: int, page_url: str) -> list:
    """One PEP 691 file entry, checked, as a row."""
    if not isinstance(item, dict) or "filename" not in item or "url" not in item:
        raise InputError(f"{page_url}: malformed file entry")
    filename, href = item["filename"], item["url"]
    if not isinstance(filename, str) or not isinstance(href, str):
        raise InputError(f"{page_url}: file entry {n}: filename and url must be strings")
    _check_listed_name(filename, page_url)
    raw_hashes = item.get("hashes") or {}
    if not isinstance(raw_hashes, dict):
        raise InputError(f"{page_url}: {filename!r}: hashes must be a table")
    hashes = [
        [k.lower(), v.lower()]
        for k, v in raw_hashes.items()
        if isinstance(v, str) and isinstance(k, str)
    ]
    if len(hashes) > 1:
        hashes.sort()
    if "\x00" in href:
        raise InputError(f"{page_url}: {filename!r}: NUL byte in the file URL")
    size = item.get("size")
    rp = item.get("requires-python")
    upload = item.get("upload-time")
    return [
        n,
        filename,
        _absolute(page_url, href),
        hashes,
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload if isinstance(upload, str) and upload else None,
        rp if isinstance(rp, str) and rp else None,
        bool(item.get("yanked", False)),
    ]


page_cache.json_row = _json_row


def _file_from_row(row: list) -> DistFile:
    return DistFile(
        filename=row[FILENAME],
        url=row[URL],
        hashes=tuple(FileHash(a, d) for a, d in row[HASHES]),
        size=row[SIZE],
        upload_time=row[UPLOAD],
        requires_python=row[REQUIRES_PYTHON],
        yanked=row[YANKED],
    )


def _row_from_file(n: int, f: DistFile) -> list:
    return [
        n,
        f.filename,
        f.url,
        [[h.algorithm, h.digest] for h in f.hashes],
        f.size,
        f.upload_time,
        f.requires_python,
        f.yanked,
    ]


_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")


def _check_listed_name(filename: str, page_url: str) -> None:
    """A listed file name must be a plain name: no NUL or control characters, no separators."""
    if not filename or _CONTROL_RE.search(filename):
        raise InputError(
            f"{page_url}: the index lists a file name with control characters: {filename!r}"
        )


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


def cache_max_age(header: str | None) -> int:
    """Seconds a page may be reused, from its ``Cache-Control`` header (``_max_age``)."""
    return _max_age(header)


class _PageCache:
    """Blobs (wheel metadata, Requires-Dist) kept on disk for as long as the server allows, one
    file each: a JSON header line, then the bytes. Project pages are kept in parsed form by
    ``pipvet.sources.page_cache``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode()).hexdigest() + ".blob")

    def get(self, url: str) -> tuple[str, str, bytes] | None:
        try:
            raw = self._path(url).read_bytes()
            line, _, body = raw.partition(b"\n")
            head = json.loads(line)
            if head["url"] != url or time.time() > head["expires"] or len(body) != head["size"]:
                return None
            return head["final"], head["ctype"], body
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, url: str, final: str, ctype: str, body: bytes, max_age: int) -> None:
        head = {
            "url": url,
            "final": final,
            "ctype": ctype,
            "expires": time.time() + max_age,
            "size": len(body),
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".blob-")
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(head).encode() + b"\n" + body)
            os.replace(tmp, self._path(url))
        except OSError:
            pass  # a cache that cannot be written is only slower


PROJECT_STATUSES = ("active", "archived", "quarantined", "deprecated")  # PEP 792


class ProjectPage:
    """A fetched project page, in parsed form (``pipvet.sources.page_cache.PageData``): files are
    built only for the releases asked for."""

    def __init__(
        self,
        url: str,
        *,
        doc: dict | None = None,
        parsed: list[DistFile] | None = None,
        meta: dict[str, str] | None = None,
        data: PageData | None = None,
    ) -> None:
        if data is None:
            if doc is not None:
                data = _data_from_json(url, url, doc)
            else:
                data = _data_from_files(url, url, parsed or [], meta or {})
        self.data = data
        self.url = data.final

    @property
    def status(self) -> tuple[str, str | None]:
        """PEP 792 project status and its reason: ``("active", None)`` when the index says
        nothing. JSON: ``project-status: {status, reason}``; HTML: ``pypi:project-status``
        and ``pypi:project-status-reason`` meta tags. An unknown value is kept as given."""
        status, reason = self.data.status, self.data.reason
        status = status.strip().lower() if isinstance(status, str) and status.strip() else "active"
        return status, reason if isinstance(reason, str) and reason else None

    @property
    def versions(self) -> list[str]:
        """PEP 700 ``versions`` (JSON), else the versions found in file names."""
        return list(self.data.versions)

    def files(self, version: Version | None = None) -> list[DistFile]:
        """All files (in the page's order), or those of ``version``."""
        if version is None:
            rows = self.data.all_rows()
        else:
            rows = self.data.rows(page_cache.version_key(version))
        return [_file_from_row(r) for r in rows]

    def releases(self) -> Iterator[tuple[Version, list]]:
        """``(version, rows)`` of each release, newest first (rows decoded only when reached)."""
        for key in self.data.release_keys():
            rows = self.data.rows(key)
            if key and rows:
                v = _filename_version(rows[0][FILENAME])
                if v is not None:
                    yield v, rows

    def wheel_summaries(self) -> Iterator[tuple[str, str | None, bool]]:
        """(filename, requires-python, yanked) of every wheel, without building DistFiles."""
        for row in self.data.all_rows():
            if row[FILENAME].endswith(".whl"):
                yield row[FILENAME], row[REQUIRES_PYTHON], bool(row[YANKED])


def _data_from_json(
    url: str, final: str, doc: object, body: bytes | None = None, **extra: object
) -> PageData:
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InputError(f"{final}: not a PEP 691 project response")
    raw = doc.get("project-status")
    status, reason = (
        (raw.get("status"), raw.get("reason")) if isinstance(raw, dict) else (None, None)
    )
    versions = doc.get("versions")
    common = {
        "status": status if isinstance(status, str) else None,
        "reason": reason if isinstance(reason, str) else None,
        "versions": [str(v) for v in versions] if isinstance(versions, list) else None,
        **extra,
    }
    if body is None:
        body = json.dumps(doc).encode()
    try:
        return page_cache.build_json(url, final, body, doc["files"], **common)  # type: ignore[arg-type]
    except ValueError:
        _json_rows(doc, final)  # names the malformed entry
        raise InputError(f"{final}: malformed file entry") from None


def _data_from_files(
    url: str, final: str, files: list[DistFile], meta: dict[str, str], **extra: object
) -> PageData:
    return page_cache.build(
        url,
        final,
        [_row_from_file(n, f) for n, f in enumerate(files)],
        status=meta.get("pypi:project-status"),
        reason=meta.get("pypi:project-status-reason"),
        **extra,  # type: ignore[arg-type]
    )


def _parse_page(url: str, final: str, ctype: str, body: bytes, **extra: object) -> PageData:
    """The parsed form of a fetched page (PEP 691 JSON or PEP 503 HTML)."""
    if ctype == JSON_TYPE or ctype.endswith("+json") or ctype == "application/json":
        try:
            doc = json.loads(body)
        except ValueError:
            raise InputError(f"{final}: invalid JSON from the index") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
            raise InputError(f"{final}: not a PEP 691 project response")
        return _data_from_json(url, final, doc, body=body, **extra)
    files, meta = _parse_html(body.decode("utf-8", "replace"), final)
    return _data_from_files(url, final, files, meta, **extra)


def _storable(header: str | None) -> bool:
    return header is None or "no-store" not in header.lower()


class SimpleIndex:
    """One simple index, e.g. ``SimpleIndex("https://pypi.org/simple/")``.

    Project pages are kept in parsed form (``pipvet.sources.page_cache``) in ``cache_dir``, by
    default ``<pipvet cache>/simple``. A page is reused without asking the index for as long as
    the index allows (``Cache-Control: max-age``: 10 minutes on PyPI); after that, or when the
    operation asks for every page again (``page_cache.refresh_pages``: ``--refresh``), it is asked
    for again, conditionally (``If-None-Match`` / ``If-Modified-Since``), and a page the index
    says is unchanged is not parsed again. Inside ``page_cache.page_scope()`` each page is asked
    for once per operation."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30,
        cache_dir: Path | None = None,
        other_hosts: bool = True,
    ) -> None:
        if not url.endswith("/"):
            url += "/"
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise InputError(f"index URL must be http(s): {url}")
        self.url = url
        self.timeout = timeout
        self.other_hosts = other_hosts  # False under a lock: a redirect elsewhere is refused
        self.cache = _PageCache(Path(cache_dir)) if cache_dir is not None else None  # metadata
        self._pages_dir = Path(cache_dir) if cache_dir is not None else None
        self._memo = page_cache.current_scope()
        # serve a page the index still allows to be reused without asking (pip's and uv's HTTP
        # caches do the same), unless the operation asked for every page again (``--refresh``)
        self.reuse_fresh = not (self._memo is not None and self._memo.refresh)

    def _disk(self) -> page_cache.DiskPages:
        if self._pages_dir is None:
            from pipvet.paths import cache_dir

            self._pages_dir = cache_dir() / "simple"
        return page_cache.disk_pages(self._pages_dir)

    def project_url(self, name: str) -> str:
        return urljoin(self.url, f"{canonicalize_name(name)}/")

    def project_files(self, name: str) -> list[DistFile]:
        """Every file the index lists for project ``name`` (JSON preferred, HTML fallback)."""
        return self.project_page(name).files()

    def _usable(self, data: PageData | None) -> PageData | None:
        """``data`` unless it came from another host and this client refuses other hosts."""
        if data is None:
            return None
        if not self.other_hosts and _origin(data.final).lower() != _origin(data.url).lower():
            return None
        return data

    def project_page(self, name: str) -> ProjectPage:
        """Project ``name``'s page, parsed once per change (PyPI pages can list 15,000 files)."""
        url = self.project_url(name)
        memo = self._memo
        data = self._usable(memo.get(url)) if memo is not None else None
        if data is None:
            data = self._fetch_page(url)
            if memo is not None:
                memo.put(data)
        return ProjectPage(url, data=data)

    def _fetch_page(self, url: str) -> PageData:
        disk = self._disk()
        cached = self._usable(disk.get(url))
        if cached is not None and self.reuse_fresh and time.time() < cached.expires:
            return cached
        for conditional in (True, False):
            headers: dict[str, str] = {}
            if cached is not None and conditional:
                if cached.validators.get("etag"):
                    headers["If-None-Match"] = cached.validators["etag"]
                if cached.validators.get("last-modified"):
                    headers["If-Modified-Since"] = cached.validators["last-modified"]
            with _open(
                url,
                accept=ACCEPT,
                timeout=self.timeout,
                compressed=True,
                extra_headers=headers or None,
                other_hosts=self.other_hosts,
            ) as (resp, final):
                cache_control = resp.getheader("Cache-Control")
                if resp.status == 304:
                    _read_body(resp, final, limit=65536)
                    if cached is None or final != cached.final:
                        continue  # not what was asked about: ask again, unconditionally
                    cached.expires = time.time() + _max_age(cache_control)
                    if _storable(cache_control):
                        disk.put(cached)
                    return cached
                ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
                body = _read_body(resp, final)
                validators = {
                    "etag": resp.getheader("ETag") or "",
                    "last-modified": resp.getheader("Last-Modified") or "",
                    "serial": resp.getheader("X-PyPI-Last-Serial") or "",
                    "ctype": ctype,
                    "sha256": hashlib.sha256(body).hexdigest(),
                }
            expires = time.time() + _max_age(cache_control)
            if (
                cached is not None
                and cached.final == final
                and cached.validators.get("sha256") == validators["sha256"]
                and cached.validators.get("ctype") == ctype
            ):  # the same bytes: the parsed form holds
                data = cached
                data.validators, data.expires = validators, expires
            else:
                data = _parse_page(url, final, ctype, body, validators=validators, expires=expires)
            if _storable(cache_control):
                disk.put(data)
            return data
        raise NetworkError(f"{url}: the index answered 'not modified' to an unconditional request")

    def many(
        self, names: Iterable[str], max_workers: int = 16
    ) -> dict[NormalizedName, list[DistFile]]:
        """``project_files`` for many projects at once, keyed by normalised name."""
        keys = sorted({canonicalize_name(n) for n in names})
        if not keys:
            return {}
        results = concurrent_map(self.project_files, keys, max_workers)
        return dict(zip(keys, results, strict=True))

    def release_files(
        self, pins: Iterable[tuple[str, Version]], max_workers: int = 16
    ) -> dict[NormalizedName, list[DistFile]]:
        """The files of one release of each project, keyed by normalised name (a lock's
        pins: only those releases' rows are read, not a large project's thousands)."""
        wanted: dict[NormalizedName, list[Version]] = {}
        for name, version in pins:
            wanted.setdefault(canonicalize_name(name), []).append(version)
        keys = sorted(wanted)
        pages = concurrent_map(self.project_page, keys, max_workers)
        return {
            key: [f for v in wanted[key] for f in page.files(v)]
            for key, page in zip(keys, pages, strict=True)
        }

    def download(self, file: DistFile, dest_dir: Path, *, timeout: float = 60) -> Path:
        return download(file, dest_dir, timeout=timeout)

    def core_metadata(self, file: DistFile) -> bytes | None:
        """The PEP 658 metadata file of a wheel (``<url>.metadata``), or None if not served."""
        try:
            with _open(
                file.url + ".metadata",
                timeout=self.timeout,
                compressed=True,
                other_hosts=self.other_hosts,
            ) as (r, u):
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
        with _open(
            url, timeout=self.timeout, extra_headers=headers, other_hosts=self.other_hosts
        ) as (resp, final):
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
        found = concurrent_map(lambda n: self.wheel_requires(chosen[n]), names, max_workers)
        return {n: r for n, r in zip(names, found, strict=True) if r is not None}

    def wheel_requires(self, file: DistFile) -> list[str] | None:
        """A wheel's Requires-Dist (from ``wheel_metadata``), kept once read: a file's metadata
        never changes. None when its metadata cannot be read."""
        key = file.url + "#requires-dist"
        cached = self.cache.get(key) if self.cache and file.sha256 else None
        if cached is not None:
            try:
                value = json.loads(cached[2])
            except ValueError:
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        blob = self.wheel_metadata(file)
        if blob is None:
            return None
        import email.parser

        msg = email.parser.BytesParser().parsebytes(blob, headersonly=True)
        requires = [str(v) for v in msg.get_all("Requires-Dist") or []]
        if self.cache and file.sha256:
            body = json.dumps(requires).encode()
            self.cache.put(key, file.url, "application/json", body, METADATA_MAX_AGE)
        return requires


def file_version(file: DistFile) -> Version | None:
    """The version in a wheel or sdist file name (None when the name is not standard)."""
    return _filename_version(file.filename)


def safe_filename(filename: str) -> str:
    """``filename`` when it is a plain file name safe to write (``InputError`` otherwise)."""
    return _safe_filename(filename)


def _safe_filename(filename: str) -> str:
    if (
        not filename
        or filename != os.path.basename(filename)
        or "\\" in filename
        or filename.startswith(".")
        or any(ord(c) < 32 or c == "\x7f" for c in filename)
    ):
        raise InputError(f"refusing unsafe file name from the index: {filename!r}")
    return filename


def download_with_digest(
    file: DistFile, dest_dir: Path, *, timeout: float = 60, other_hosts: bool = True
) -> DownloadResult:
    """Stream ``file`` into ``dest_dir`` (via a temp file), hashing as it goes.

    Raises ``NetworkError`` when the server cannot be reached, fails (5xx) or the transfer is cut
    short (Content-Length), ``InputError`` for other HTTP errors and a size other than the index's
    ``size``. The caller verifies the digest.
    """
    name = _safe_filename(file.filename)
    dest_dir = Path(dest_dir)
    try:
        return _download_into(file, name, dest_dir, timeout=timeout, other_hosts=other_hosts)
    except OSError as e:  # the network's errors are NetworkError by now: this is the disk
        raise InputError(
            f"cannot write {name} into {dest_dir}: {e.strerror or e}"
            + (" (the disk is full)" if e.errno in (errno.ENOSPC, errno.EFBIG) else "")
        ) from None


def _download_into(
    file: DistFile, name: str, dest_dir: Path, *, timeout: float, other_hosts: bool
) -> DownloadResult:
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    received = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            _open(
                file.url,
                timeout=timeout,
                other_hosts=other_hosts,
            ) as (resp, final),
        ):
            length = resp.getheader("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            while True:
                try:
                    chunk = resp.read1(CHUNK)
                except http.client.IncompleteRead as e:
                    received += len(e.partial)
                    raise NetworkError(
                        f"{name}: incomplete download: cut short after {received} of "
                        f"{expected} bytes; retry"
                    ) from None
                except (OSError, http.client.HTTPException) as e:
                    raise NetworkError(f"{name}: connection lost ({_reason(e)})") from None
                if not chunk:
                    break
                received += len(chunk)
                _progress(resp, len(chunk))
                digest.update(chunk)
                out.write(chunk)
            del final
        if expected is not None and received != expected:
            raise NetworkError(
                f"{name}: incomplete download: cut short after {received} of {expected} bytes; "
                "retry"
            )
        if file.size is not None and received < file.size:
            raise NetworkError(
                f"{name}: incomplete download: got {received} bytes but the index says the file "
                f"has {file.size}; retry"
            )
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


@functools.lru_cache(maxsize=4096)
def _python_ok(requires_python: str, python: str) -> bool:
    """True when ``python`` meets ``requires_python`` (an invalid specifier does not exclude)."""
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True


@functools.lru_cache(maxsize=16384)
def parsed_requirement(text: str) -> Requirement | None:
    """A requirement string parsed (None when malformed), once per process: the prefetcher reads
    Requires-Dist lines while the resolver runs, the dependency graph reads the same ones after
    it. The object is shared: callers only read it."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


class Prefetcher:
    """Fetches project pages, and the metadata of each project's likely version, in the
    background while a resolver runs, following dependencies; then serves what it has and
    fetches the rest. Speculative: it only warms up fetches, the resolver decides versions."""

    def __init__(self, index: SimpleIndex, env: dict[str, str], *, max_workers: int = 16) -> None:
        import threading

        self.index = index
        self.env = env
        self._pool = StoppablePool(max_workers=max_workers)
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
            return None  # speculative: finish() fetches it again and reports the error
        guess = self._guess(page, requirement)
        if guess is None or self._stopped:
            return page
        version, wheel_name = guess
        wheels = page.files(version)
        wheel = next((f for f in wheels if f.filename == wheel_name), None)
        requires = self.index.wheel_requires(wheel) if wheel else None
        if requires is None:
            with self._lock:
                self._meta[(name, version)] = None  # type: ignore[index]
            return page
        with self._lock:
            self._meta[(name, version)] = requires  # type: ignore[index]
        for text in requires:
            req = parsed_requirement(text)
            if req is None:
                continue
            if req.marker is not None:
                extras = requirement.extras or {""}
                if not any(req.marker.evaluate({**self.env, "extra": e}) for e in extras):
                    continue
            self._submit(canonicalize_name(req.name), req)
        return page

    def _guess(self, page: ProjectPage, requirement: Requirement) -> tuple[Version, str] | None:
        """The version the resolver will most likely pick, and one of its wheels: the newest
        release the requirement allows with a wheel for this Python (releases are walked newest
        first, so only the releases above the answer are decoded)."""
        python = self.env.get("python_full_version", "")
        for v, rows in page.releases():
            if v.is_prerelease or not requirement.specifier.contains(v, prereleases=False):
                continue
            wheels = [
                r[FILENAME]
                for r in rows
                if r[FILENAME].endswith(".whl")
                and not r[YANKED]
                and (not python or not r[REQUIRES_PYTHON] or _python_ok(r[REQUIRES_PYTHON], python))
            ]
            if wheels:
                return v, min(wheels, key=pure_first)
        return None

    def finish(
        self, pins: dict[NormalizedName, Version], *, metadata: bool, missing_ok: bool = False
    ) -> tuple[dict[NormalizedName, list[DistFile]], dict[NormalizedName, list[str]]]:
        """Files of every pinned version (errors raised), and, if asked, each pinned version's
        Requires-Dist (left out where it cannot be read). ``missing_ok``: a project this index
        does not have (another index served it) has no files here instead of an error."""
        with self._lock:
            self._stopped = True
            self._needed = set(pins)
            pending = {n: self._pages.get(n) for n in pins}

        def files_of(name: NormalizedName) -> list[DistFile]:
            fut = pending[name]
            page = fut.result() if fut is not None else None
            if page is None:
                try:
                    page = self.index.project_page(name)
                except InputError as e:
                    if missing_ok and "HTTP 404" in e.message:
                        return []
                    raise
            return page.files(pins[name])

        names = sorted(pins)
        # pages the crawl never asked for are fetched concurrently; the crawl's are waited for
        # here (new threads cost more than reading a fetched page's release)
        rest = [n for n in names if pending[n] is None]
        fetched = dict(zip(rest, concurrent_map(files_of, rest, 16), strict=True))
        files = {n: fetched[n] if n in fetched else files_of(n) for n in names}
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

    def abort(self) -> None:
        """Hang up on every fetch in flight and wait for the workers (they end at once)."""
        with self._lock:
            self._stopped = True
        _watchdog.abort_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
        _watchdog.reset()
