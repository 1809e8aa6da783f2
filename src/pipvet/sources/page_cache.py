"""Project pages of a simple index, parsed once and kept in parsed form (on disk and in memory).

A page is parsed when it is fetched and changed, never when it is reused. Its files are grouped by
release, newest first; each group stays JSON text until a caller asks for that release, so a page
listing 15,000 files (botocore, boto3) costs one read and one integrity check to reuse, and only
the releases looked at are decoded.

On disk (``<cache>/simple/<sha256 of the page URL>.page``) each entry holds the URL it was fetched
for, the validators the server sent (``ETag``, ``Last-Modified``, ``X-PyPI-Last-Serial``, the
body's sha256), its expiry, and an HMAC under a random key kept beside the entries
(``pipvet.integrity``). An entry for another URL, an unreadable, damaged or edited one is ignored
and the page is fetched again: the cache fails closed, it never serves what it cannot vouch for.

``page_scope()`` makes every ``SimpleIndex`` created inside it share one memo of parsed pages: one
operation (a lock, an install: its gate, its plan) asks the index for each page at most once.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"pipvet-page 2\n"
SUFFIX = ".page"
KEY_NAME = ".pages.key"

# A row of the parsed form (JSON-friendly, positional):
# [position in the page, filename, url, [[algorithm, digest], ...], size, upload-time,
#  requires-python, yanked]
POS, FILENAME, URL, HASHES, SIZE, UPLOAD, REQUIRES_PYTHON, YANKED = range(8)


@dataclass
class PageData:
    """One project page in parsed form. ``groups`` lists ``(version key, start, end)`` slices of
    ``body`` (each a JSON array of rows), newest release first; the key ``""`` holds files whose
    name carries no version."""

    url: str  # the URL it was asked for
    final: str  # where it came from, after redirects
    status: object = None  # PEP 792 status and reason, as the index gave them
    reason: object = None
    versions: list[str] = field(default_factory=list)
    groups: list[tuple[str, int, int]] = field(default_factory=list)
    body: bytes = b"[]"
    validators: dict[str, str] = field(default_factory=dict)
    expires: float = 0.0
    count: int = 0  # files listed
    _rows: dict[str, list] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def rows(self, key: str) -> list:
        """The rows of one release (decoded once)."""
        with self._lock:
            got = self._rows.get(key)
        if got is not None:
            return got
        for k, start, end in self.groups:
            if k == key:
                got = json.loads(self.body[start:end])
                break
        else:
            got = []
        with self._lock:
            self._rows[key] = got
        return got

    def all_rows(self) -> list:
        """Every row, in the order the page listed them."""
        out = [r for k, _s, _e in self.groups for r in self.rows(k)]
        out.sort(key=lambda r: r[POS])
        return out

    def release_keys(self) -> list[str]:
        return [k for k, _s, _e in self.groups]

    def header(self) -> dict:
        return {
            "url": self.url,
            "final": self.final,
            "status": self.status,
            "reason": self.reason,
            "versions": self.versions,
            "groups": self.groups,
            "validators": self.validators,
            "expires": self.expires,
            "count": self.count,
        }


def version_key(version: object) -> str:
    """A string equal for equal versions (``1.0`` and ``1.0.0`` are one release)."""
    from packaging.utils import canonicalize_version

    return canonicalize_version(version, strip_trailing_zero=True)  # type: ignore[arg-type]


def build(
    url: str,
    final: str,
    rows: list[list],
    *,
    status: object = None,
    reason: object = None,
    versions: list[str] | None = None,
    validators: dict[str, str] | None = None,
    expires: float = 0.0,
) -> PageData:
    """The parsed form of a page's rows: grouped by release, newest first."""
    from pipvet.core.filenames import file_version

    grouped: dict[str, list] = {}
    order: dict[str, object] = {}
    derived: dict[str, None] = {}
    for row in rows:
        v = file_version(row[FILENAME])
        key = "" if v is None else version_key(v)
        if v is not None:
            derived.setdefault(str(v), None)
            order.setdefault(key, v)
        grouped.setdefault(key, []).append(row)
    keys = sorted((k for k in grouped if k), key=lambda k: order[k], reverse=True)  # type: ignore[arg-type,return-value]
    if "" in grouped:
        keys.append("")
    parts: list[bytes] = []
    groups: list[tuple[str, int, int]] = []
    offset = 0
    for key in keys:
        blob = json.dumps(grouped[key], separators=(",", ":")).encode()
        groups.append((key, offset, offset + len(blob)))
        parts.append(blob)
        offset += len(blob)
    data = PageData(
        url=url,
        final=final,
        status=status,
        reason=reason,
        versions=list(versions) if versions is not None else list(derived),
        groups=groups,
        body=b"".join(parts),
        validators=dict(validators or {}),
        expires=expires,
        count=len(rows),
    )
    data._rows.update(grouped)
    return data


# -- on disk -----------------------------------------------------------------------------------


def _mac(key: bytes, head: bytes, body: bytes) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(len(head).to_bytes(8, "big"))
    mac.update(head)
    mac.update(body)
    return mac.hexdigest()


class DiskPages:
    """Parsed pages kept in one folder, each signed (see the module's docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._key: bytes | None = None
        self._key_loaded = False
        self.rejected: list[str] = []  # URLs whose entry was unreadable or did not verify

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode()).hexdigest() + SUFFIX)

    def key(self) -> bytes | None:
        if not self._key_loaded:
            from pipvet.integrity import load_key

            self._key = load_key(self.directory / KEY_NAME)
            self._key_loaded = True
        return self._key

    def get(self, url: str) -> PageData | None:
        """The entry for ``url``, or None (absent, for another URL, damaged or edited)."""
        path = self._path(url)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        key = self.key()
        try:
            if key is None or not raw.startswith(MAGIC):
                raise ValueError("not an entry")
            end = raw.index(b"\n", len(MAGIC))
            mac = raw[len(MAGIC) : end].decode("ascii")
            end2 = raw.index(b"\n", end + 1)
            head_bytes = raw[end + 1 : end2]
            body = raw[end2 + 1 :]
            if not hmac.compare_digest(_mac(key, head_bytes, body), mac):
                raise ValueError("does not verify")
            head = json.loads(head_bytes)
            if head.get("url") != url:  # never a page for another URL
                raise ValueError("another URL")
            groups = [(str(k), int(s), int(e)) for k, s, e in head["groups"]]
            if any(not (0 <= s <= e <= len(body)) for _k, s, e in groups):
                raise ValueError("bad group")
            return PageData(
                url=url,
                final=str(head["final"]),
                status=head.get("status"),
                reason=head.get("reason"),
                versions=[str(v) for v in head.get("versions") or []],
                groups=groups,
                body=body,
                validators={str(k): str(v) for k, v in (head.get("validators") or {}).items()},
                expires=float(head.get("expires") or 0.0),
                count=int(head.get("count") or 0),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            self.rejected.append(url)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def put(self, data: PageData) -> None:
        key = self.key()
        if key is None:
            return
        head = json.dumps(data.header(), separators=(",", ":")).encode()
        mac = _mac(key, head, data.body).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".page-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(MAGIC + mac + b"\n" + head + b"\n" + data.body)
                os.replace(tmp, self._path(data.url))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written is only slower

    def touch(self, data: PageData) -> None:
        """Store ``data`` again (its expiry changed after a revalidation)."""
        self.put(data)


_disk: dict[Path, DiskPages] = {}
_disk_lock = threading.Lock()


def disk_pages(directory: Path) -> DiskPages:
    """One ``DiskPages`` per folder for the whole process."""
    directory = Path(directory)
    with _disk_lock:
        found = _disk.get(directory)
        if found is None:
            found = _disk[directory] = DiskPages(directory)
        return found


# -- one operation, one fetch per page -----------------------------------------------------------


class PageMemo:
    """Parsed pages fetched during one operation, by URL (thread-safe)."""

    def __init__(self) -> None:
        self._pages: dict[str, PageData] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> PageData | None:
        with self._lock:
            return self._pages.get(url)

    def put(self, data: PageData) -> None:
        with self._lock:
            self._pages[data.url] = data


_scope: contextvars.ContextVar[PageMemo | None] = contextvars.ContextVar(
    "pipvet_page_scope", default=None
)


@contextlib.contextmanager
def page_scope() -> Iterator[PageMemo]:
    """Inside this block, every ``SimpleIndex`` made shares one memo: each page is asked of the
    index at most once (nested scopes share the outer one)."""
    memo = _scope.get()
    if memo is not None:
        yield memo
        return
    memo = PageMemo()
    token = _scope.set(memo)
    try:
        yield memo
    finally:
        _scope.reset(token)


def current_scope() -> PageMemo | None:
    return _scope.get()


def one_fetch_per_page(fn):
    """Decorator: run ``fn`` inside ``page_scope()`` (a service, one operation)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with page_scope():
            return fn(*args, **kwargs)

    return wrapper


def now() -> float:
    return time.time()
