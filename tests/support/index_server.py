"""A real PEP 503 / PEP 691 simple index served over loopback, with ways to misbehave.

``TestIndex`` serves HTML (PEP 503) by default and JSON (PEP 691) when the Accept header asks
for ``application/vnd.pypi.simple.v1+json``; both carry sha256 hashes, ``requires-python``, PEP 700
``upload-time``/``size``/``versions``, PEP 792 project status (``set_status``) and PEP 658/714
metadata files for wheels. Tests can tamper
with it: serve other bytes under a known filename, cut a response short, or fail every file
request after a number of them ("the index goes away mid-install").
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import html
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version
from tests.support import index_builder as builder

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
API_VERSION = "1.4"
BASE_TIME = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)


class _QuietServer(ThreadingHTTPServer):
    """The index's server: a client that hangs up (a fault test's timeout, Ctrl-C) is expected;
    its reset is not printed to stderr, where a test reads what pipvet printed."""

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class IndexFile:
    """One file the index lists: what it says about the file (its bytes live in files_dir)."""

    project: str
    filename: str
    version: str
    sha256: str  # the hash the index lists (may differ from the bytes after tampering)
    size: int
    upload_time: str
    requires_python: str | None = None
    metadata: bytes | None = None  # PEP 658 core metadata, wheels only
    yanked: str | None = None
    hashes: tuple[tuple[str, str], ...] | None = None  # listed instead of sha256 when set

    def listed_hashes(self) -> dict[str, str]:
        return dict(self.hashes) if self.hashes is not None else {"sha256": self.sha256}


def negotiate(accept: str | None) -> str:
    """Pick HTML or JSON from an Accept header (PEP 691 content negotiation, q-values honoured)."""
    if not accept:
        return HTML_TYPE
    best, best_q = None, -1.0
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media, q = fields[0].lower(), 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        known = media in (JSON_TYPE, HTML_TYPE, "text/html", "*/*")
        if known and q > 0 and q > best_q:
            best, best_q = media, q
    if best == JSON_TYPE:
        return JSON_TYPE
    if best is None:
        return ""  # nothing acceptable: 406
    return "text/html" if best == "text/html" else HTML_TYPE


class TestIndex:
    """A package index on ``http://127.0.0.1:<port>/simple/`` serving files from ``files_dir``."""

    __test__ = False  # not a pytest test class

    def __init__(self, files_dir: Path) -> None:
        self.files_dir = Path(files_dir)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IndexFile] = {}
        self._status: dict[str, tuple[str, str | None]] = {}  # PEP 792, per project
        self._truncate: dict[str, int] = {}
        self._announce_cut: set[str] = set()
        self._fail_after: int | None = None
        self._clock = 0
        self._stopped = False
        # Pages change during tests, so by default clients may not reuse them.
        self.cache_control: str | None = "no-cache"
        self.page_padding = 0  # > 0: project pages sent gzip-encoded, inflating this much more
        self.serve_metadata = True  # PEP 658/714 .metadata files for wheels
        self.support_ranges = True  # honour HTTP Range requests for files
        self.serve_sizes = True  # PEP 700 "size" in JSON listings
        self.drip: float = 0.0  # seconds between bytes of every body (a stalling server)
        self.redirect_files_to: str | None = None  # 302 every file request to this root URL
        self.redirect_pages_to: str | None = None  # 302 every project page to this root URL
        self.page_override: dict[str, bytes] = {}  # project -> raw JSON page body to serve
        self.send_etag = True  # project pages carry an ETag; If-None-Match gets 304 when equal
        self.not_modified: list[str] = []  # paths answered 304 Not Modified
        self._lock = threading.Lock()
        self.requests: list[str] = []
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.port = self._server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/simple/"

    # -- building -------------------------------------------------------------------------

    def _next_time(self) -> str:
        self._clock += 1
        return (BASE_TIME + _dt.timedelta(minutes=self._clock)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _add(
        self,
        project: str,
        version: str,
        filename: str,
        data: bytes,
        *,
        requires_python: str | None,
        metadata: bytes | None,
        upload_time: str | None,
    ) -> Path:
        path = self.files_dir / filename
        path.write_bytes(data)
        entry = IndexFile(
            project=canonicalize_name(project),
            filename=filename,
            version=version,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            upload_time=upload_time or self._next_time(),
            requires_python=requires_python,
            metadata=metadata,
        )
        with self._lock:
            self._files[filename] = entry
        return path

    def add_wheel(
        self,
        name: str,
        version: str,
        *,
        requires: Iterable[str] = (),
        requires_python: str | None = None,
        tag: str = "py3-none-any",
        files: Mapping[str, bytes | str] | None = None,
        upload_time: str | None = None,
    ) -> Path:
        """Build a tiny real wheel, list it, and return its path in ``files_dir``."""
        filename, data, metadata = builder.build_wheel(
            name,
            version,
            requires=requires,
            requires_python=requires_python,
            tag=tag,
            files=files,
        )
        return self._add(
            name,
            version,
            filename,
            data,
            requires_python=requires_python,
            metadata=metadata,
            upload_time=upload_time,
        )

    def add_sdist(
        self,
        name: str,
        version: str,
        *,
        requires: Iterable[str] = (),
        build_requires: Iterable[str] = ("tinybuild",),
        requires_python: str | None = None,
        files: Mapping[str, bytes | str] | None = None,
        upload_time: str | None = None,
        build_backend: str = "tinybuild",
        backend_path: str | None = None,
    ) -> Path:
        """Build a real sdist (built offline by ``tinybuild``, or by ``build_backend``), list
        it, return its path."""
        filename, data = builder.build_sdist(
            name,
            version,
            requires=requires,
            requires_python=requires_python,
            build_requires=build_requires,
            files=files,
            build_backend=build_backend,
            backend_path=backend_path,
        )
        return self._add(
            name,
            version,
            filename,
            data,
            requires_python=requires_python,
            metadata=None,
            upload_time=upload_time,
        )

    def add_file(self, project: str, version: str, path: Path) -> str:
        """List an existing file under its own name, served from where it is (a symbolic
        link, its bytes never copied or opened except to hash them); returns the filename."""
        path = Path(path)
        link = self.files_dir / path.name
        if link.exists() or link.is_symlink():
            raise ValueError(f"{path.name} is listed already")
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        link.symlink_to(path.resolve())
        entry = IndexFile(
            project=canonicalize_name(project),
            filename=path.name,
            version=version,
            sha256=digest.hexdigest(),
            size=path.stat().st_size,
            upload_time=self._next_time(),
        )
        with self._lock:
            self._files[path.name] = entry
        return path.name

    def add_tinybuild(self, version: str = "1.0") -> Path:
        """List the ``tinybuild`` PEP 517 backend (a wheel)."""
        filename, data, metadata = builder.build_tinybuild_wheel(version)
        return self._add(
            "tinybuild",
            version,
            filename,
            data,
            requires_python=None,
            metadata=metadata,
            upload_time=None,
        )

    def add_standard_projects(self) -> None:
        """alpha, beta, gamma (pure + platform wheels + sdist), onlysdist, tinybuild."""
        self.add_wheel("alpha", "1.0")
        self.add_wheel("alpha", "2.0", requires=["beta>=1.0"])
        self.add_wheel("beta", "1.0")
        self.add_wheel("beta", "1.1", requires=['gamma; python_version >= "3.8"'])
        self.add_wheel("gamma", "1.0")
        self.add_wheel("gamma", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64")
        self.add_wheel("gamma", "1.0", tag="cp311-cp311-win_amd64")
        self.add_sdist("gamma", "1.0")
        self.add_sdist("onlysdist", "1.0")
        self.add_tinybuild("1.0")

    # -- tampering ------------------------------------------------------------------------

    def replace_bytes(self, filename: str, data: bytes, *, update_hash: bool = False) -> None:
        """Serve ``data`` under ``filename``; the listed hash stays unless ``update_hash``."""
        with self._lock:
            entry = self._files[filename]
            (self.files_dir / filename).write_bytes(data)
            entry = replace(entry, size=len(data))
            if update_hash:
                entry = replace(entry, sha256=hashlib.sha256(data).hexdigest())
            self._files[filename] = entry

    def set_listed_hashes(self, filename: str, hashes: Mapping[str, str]) -> None:
        """List ``hashes`` (e.g. only ``{"md5": ...}``) for ``filename`` instead of its sha256."""
        with self._lock:
            entry = self._files[filename]
            self._files[filename] = replace(entry, hashes=tuple(sorted(hashes.items())))

    def truncate(self, filename: str, n: int, *, announce_cut: bool = False) -> None:
        """Announce the full length (or only ``n`` with ``announce_cut``, as a proxy that lost
        the rest would) but send only ``n`` bytes of ``filename``, then hang up."""
        with self._lock:
            self._truncate[filename] = n
            if announce_cut:
                self._announce_cut.add(filename)

    def fail_after(self, n_requests: int) -> None:
        """Serve ``n_requests`` more file requests, then answer every file request with 503."""
        with self._lock:
            self._fail_after = n_requests

    def set_status(self, project: str, status: str, reason: str | None = None) -> None:
        """Mark a project ``archived``, ``quarantined``, ``deprecated`` or ``active`` (PEP 792).
        A quarantined project's page lists no files and its files are not served, as the
        specification requires of an index."""
        with self._lock:
            self._status[canonicalize_name(project)] = (status, reason)

    def status_of(self, project: str) -> tuple[str, str | None] | None:
        with self._lock:
            return self._status.get(canonicalize_name(project))

    def yank(self, filename: str, reason: str = "") -> None:
        with self._lock:
            self._files[filename] = replace(self._files[filename], yanked=reason)

    def remove(self, filename: str) -> None:
        """Unlist ``filename`` and stop serving it."""
        with self._lock:
            self._files.pop(filename)
            (self.files_dir / filename).unlink(missing_ok=True)

    def listed(self, filename: str) -> IndexFile:
        return self._files[filename]

    def filenames(self, project: str | None = None) -> list[str]:
        key = canonicalize_name(project) if project else None
        return sorted(f for f, e in self._files.items() if key is None or e.project == key)

    def stop(self) -> None:
        """Stop serving; kept-alive connections are hung up on at their next request."""
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()

    # -- pages ----------------------------------------------------------------------------

    def _project_files(self, project: str) -> list[IndexFile]:
        with self._lock:
            if self._status.get(project, ("",))[0] == "quarantined":
                return []
            return sorted(
                (e for e in self._files.values() if e.project == project),
                key=lambda e: (Version(e.version), e.filename),
            )

    def _projects(self) -> list[str]:
        with self._lock:
            return sorted({e.project for e in self._files.values()} | set(self._status))

    def has_project(self, project: str) -> bool:
        with self._lock:
            return project in self._status or any(
                e.project == project for e in self._files.values()
            )

    def root_page(self, media: str) -> bytes:
        projects = self._projects()
        if media == JSON_TYPE:
            doc = {
                "meta": {"api-version": API_VERSION},
                "projects": [{"name": p} for p in projects],
            }
            return json.dumps(doc, indent=1).encode()
        links = "\n".join(f'<a href="{p}/">{p}</a><br/>' for p in projects)
        return _html_page("Simple index", links).encode()

    def project_page(self, project: str, media: str) -> bytes:
        entries = self._project_files(project)
        if media == JSON_TYPE:
            files = []
            for e in entries:
                item: dict[str, object] = {
                    "filename": e.filename,
                    "url": f"../../files/{quote(e.filename)}",
                    "hashes": e.listed_hashes(),
                    "requires-python": e.requires_python,
                    **({"size": e.size} if self.serve_sizes else {}),
                    "upload-time": e.upload_time,
                    "yanked": e.yanked if e.yanked else (e.yanked is not None),
                }
                if e.metadata is not None and self.serve_metadata:
                    meta = {"sha256": hashlib.sha256(e.metadata).hexdigest()}
                    item["core-metadata"] = meta
                    item["dist-info-metadata"] = meta
                files.append(item)
            versions = sorted({e.version for e in entries}, key=Version)
            doc: dict[str, object] = {
                "meta": {"api-version": API_VERSION},
                "name": project,
                "versions": versions,
                "files": files,
            }
            status = self.status_of(project)
            if status is not None:
                doc["project-status"] = {"status": status[0]}
                if status[1]:
                    doc["project-status"]["reason"] = status[1]  # type: ignore[index]
            return json.dumps(doc, indent=1).encode()
        anchors = []
        for e in entries:
            alg, digest = next(iter(e.listed_hashes().items()), ("", ""))
            fragment = f"#{alg}={digest}" if alg else ""
            attrs = [f'href="../../files/{html.escape(quote(e.filename))}{fragment}"']
            if e.requires_python:
                attrs.append(f'data-requires-python="{html.escape(e.requires_python)}"')
            if e.metadata is not None and self.serve_metadata:
                digest = hashlib.sha256(e.metadata).hexdigest()
                attrs.append(f'data-dist-info-metadata="sha256={digest}"')
                attrs.append(f'data-core-metadata="sha256={digest}"')
            if e.yanked is not None:
                attrs.append(f'data-yanked="{html.escape(e.yanked)}"')
            anchors.append(f"<a {' '.join(attrs)}>{html.escape(e.filename)}</a><br/>")
        head = ""
        status = self.status_of(project)
        if status is not None:
            head = f'<meta name="pypi:project-status" content="{html.escape(status[0])}">\n'
            if status[1]:
                reason = html.escape(status[1])
                head += f'<meta name="pypi:project-status-reason" content="{reason}">\n'
        return _html_page(f"Links for {project}", "\n".join(anchors), head).encode()

    def file_for(self, name: str) -> tuple[bytes, int | None] | None:
        """The bytes to serve for ``/files/<name>`` and the truncation point, or None (404)."""
        with self._lock:
            if name.endswith(".metadata") and name[: -len(".metadata")] in self._files:
                if not self.serve_metadata:
                    return None
                meta = self._files[name[: -len(".metadata")]].metadata
                return (meta, None) if meta is not None else None
            if name not in self._files:
                return None
            if self._status.get(self._files[name].project, ("",))[0] == "quarantined":
                return None
            cut = self._truncate.get(name)
        return (self.files_dir / name).read_bytes(), cut

    def take_file_slot(self) -> bool:
        """Count a file request against ``fail_after``; False when the index has 'gone away'."""
        with self._lock:
            if self._fail_after is None:
                return True
            if self._fail_after <= 0:
                return False
            self._fail_after -= 1
            return True


def _padded_gzip(body: bytes, padding: int, chunk: int = 16 * 1024**2) -> bytes:
    """gzip members inflating to ``body`` then ``padding`` spaces (one block, repeated)."""
    block = gzip.compress(b" " * chunk, 9)
    rest = gzip.compress(b" " * (padding % chunk), 9) if padding % chunk else b""
    return gzip.compress(body) + block * (padding // chunk) + rest


def _html_page(title: str, body: str, head: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n{head}'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _make_handler(index: TestIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self._write(body)

        def _write(self, body: bytes) -> None:
            if not index.drip:
                self.wfile.write(body)
                return
            import time

            try:
                for i in range(len(body)):
                    if index._stopped:
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(index.drip)
            except OSError:
                self.close_connection = True

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if index._stopped:  # the index went away: hang up without an answer
                self.close_connection = True
                return
            path = unquote(urlsplit(self.path).path)
            with index._lock:
                index.requests.append(path)
            parts = [p for p in path.split("/") if p]
            if parts[:1] == ["simple"]:
                self._simple(parts[1:])
            elif parts[:1] == ["files"] and len(parts) == 2:
                self._file(parts[1])
            else:
                self._send(404, b"not found\n")

        def _simple(self, rest: list[str]) -> None:
            if index.redirect_pages_to and rest:
                self.send_response(302)
                self.send_header("Location", f"{index.redirect_pages_to}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            media = negotiate(self.headers.get("Accept"))
            if not media:
                self._send(406, b"not acceptable\n")
                return
            if not rest:
                self._send(200, index.root_page(media), media)
                return
            if len(rest) != 1:
                self._send(404, b"not found\n")
                return
            project = canonicalize_name(rest[0])
            if project != rest[0] or not self.path.split("?")[0].endswith("/"):
                self.send_response(301)
                self.send_header("Location", f"/simple/{project}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if project in index.page_override:
                self._send(200, index.page_override[project], JSON_TYPE)
                return
            if not index.has_project(project):
                self._send(404, b"no such project\n")
                return
            body = index.project_page(project, media)
            if index.page_padding:  # a small gzip body that inflates to page + padding spaces
                body = _padded_gzip(body, index.page_padding)
            etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
            if index.send_etag and self.headers.get("If-None-Match") == etag:
                with index._lock:
                    index.not_modified.append(self.path)
                self.send_response(304)
                self.send_header("ETag", etag)
                if index.cache_control is not None:
                    self.send_header("Cache-Control", index.cache_control)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", media)
            if index.send_etag:
                self.send_header("ETag", etag)
            if index.page_padding:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            if index.cache_control is not None:
                self.send_header("Cache-Control", index.cache_control)
            self.end_headers()
            if self.command != "HEAD":
                self._write(body)

        def _file(self, name: str) -> None:
            if index.redirect_files_to:
                self.send_response(302)
                self.send_header("Location", f"{index.redirect_files_to}/files/{name}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not index.take_file_slot():
                self._send(503, b"index unavailable\n")
                return
            found = index.file_for(name)
            if found is None:
                self._send(404, b"no such file\n")
                return
            data, cut = found
            wanted = self.headers.get("Range") if index.support_ranges else None
            if cut is None and wanted:
                span = _byte_range(wanted, len(data))
                if span is None:
                    self._send(416, b"bad range\n")
                    return
                start, end = span
                self.send_response(206)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.send_header("Content-Length", str(end - start + 1))
                self.end_headers()
                self.wfile.write(data[start : end + 1])
                return
            if cut is None:
                self._send(200, data, "application/octet-stream")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            announced = cut if name in index._announce_cut else len(data)
            self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(data[:cut])
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` as an inclusive (start, end), or None."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or "," in spec:
        return None
    try:
        if not first:
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (start, end) if 0 <= start <= end else None


def check_filename(filename: str) -> None:
    """Raise ValueError unless ``filename`` is a wheel or sdist name ``packaging`` accepts."""
    if filename.endswith(".whl"):
        parse_wheel_filename(filename)
    else:
        parse_sdist_filename(filename)


def uploaded_ago(**delta: float) -> str:
    """A PEP 700 ``upload-time`` that long before now, e.g. ``uploaded_ago(hours=1)``."""
    when = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(**delta)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
