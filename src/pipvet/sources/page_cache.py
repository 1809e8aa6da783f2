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


HEAD = 48  # releases kept one by one (newest first); older ones share one "tail" segment


@dataclass
class PageData:
    """One project page in parsed form. ``groups`` lists ``(version key, start, end)`` slices of
    ``body``, each a JSON array of one release's rows, for the ``HEAD`` newest releases, newest
    first; ``tail`` is the slice holding every other release as one JSON object (version key ->
    rows), ``tail_keys`` its keys. The key ``""`` holds files whose name carries no version."""

    url: str  # the URL it was asked for
    final: str  # where it came from, after redirects
    status: object = None  # PEP 792 status and reason, as the index gave them
    reason: object = None
    versions: list[str] = field(default_factory=list)
    groups: list[tuple[str, int, int]] = field(default_factory=list)
    body: bytes = b""
    validators: dict[str, str] = field(default_factory=dict)
    expires: float = 0.0
    count: int = 0  # files listed
    tail: tuple[int, int] = (0, 0)
    tail_keys: list[str] = field(default_factory=list)
    tail_form: str = "groups"  # "groups": {key: rows}; "doc": the index's own JSON response
    # the earliest PEP 700 upload time of any file ("" when none is given; None: not known yet,
    # an entry written before it was kept: found from every row when first asked for)
    first_upload: str | None = None
    _rows: dict[str, list] = field(default_factory=dict, repr=False, compare=False)
    _tail: dict | None = field(default=None, repr=False, compare=False)
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
            got = self._tail_rows().get(key, [])
        with self._lock:
            self._rows[key] = got
        return got

    def _tail_rows(self) -> dict:
        with self._lock:
            tail = self._tail
        if tail is None:
            start, end = self.tail
            tail = json.loads(self.body[start:end]) if end > start else {}
            if end > start and self.tail_form == "doc":  # the releases not kept one by one
                tail = _doc_groups(tail, self.final, set(self.tail_keys))
            with self._lock:
                self._tail = tail
        return tail

    def all_rows(self) -> list:
        """Every row, in the order the page listed them."""
        out = [r for k in self.release_keys() for r in self.rows(k)]
        out.sort(key=lambda r: r[POS])
        return out

    def earliest_upload(self) -> str:
        """The earliest upload time the page gives for any file ("" when it gives none)."""
        if self.first_upload is None:
            self.first_upload = earliest([r[UPLOAD] for r in self.all_rows()])
        return self.first_upload

    def release_keys(self) -> list[str]:
        """Every release's key, newest first (the tail's are ordered when first asked for)."""
        head = [k for k, _s, _e in self.groups]
        if not self.tail_keys:
            return head
        from packaging.version import Version

        older = sorted((k for k in self.tail_keys if k), key=Version, reverse=True)
        return head + older + [k for k in self.tail_keys if not k]

    def header(self) -> dict:
        return {
            "url": self.url,
            "final": self.final,
            "status": self.status,
            "reason": self.reason,
            "versions": self.versions,
            "groups": self.groups,
            "tail": list(self.tail),
            "tail_keys": self.tail_keys,
            "tail_form": self.tail_form,
            "validators": self.validators,
            "expires": self.expires,
            "count": self.count,
            "first_upload": self.first_upload,
        }


def earliest(times: list[object]) -> str:
    """The earliest of PEP 700 upload times (``yyyy-mm-ddThh:mm:ss.ffffffZ``, UTC: they order as
    text), ignoring anything else; "" when there is none."""
    valid = [t for t in times if isinstance(t, str) and len(t) >= 19 and t[4:5] == "-"]
    return min(valid, default="")


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
    """The parsed form of a page's rows: grouped by release, the newest ``HEAD`` one by one."""
    from pipvet.core.filenames import file_version

    grouped: dict[str, list] = {}
    order: dict[str, object] = {}  # key -> its Version
    derived: dict[str, None] = {}
    seen: dict[int, str] = {}  # id of a Version object -> key (file_version caches objects)
    alive = []  # keeps those objects (and so their ids) alive while ``seen`` is used
    for row in rows:
        v = file_version(row[FILENAME])
        if v is None:
            key = ""
        else:
            key = seen.get(id(v))  # type: ignore[assignment]
            if key is None:
                alive.append(v)
                derived.setdefault(str(v), None)
                key = seen[id(v)] = version_key(v)
                order.setdefault(key, v)
        grouped.setdefault(key, []).append(row)
    head = _newest(order, HEAD)
    parts: list[bytes] = []
    groups: list[tuple[str, int, int]] = []
    offset = 0
    for key in head:
        blob = json.dumps(grouped[key], separators=(",", ":")).encode()
        groups.append((key, offset, offset + len(blob)))
        parts.append(blob)
        offset += len(blob)
    in_head = set(head)
    rest = {k: r for k, r in grouped.items() if k not in in_head}
    tail = (offset, offset)
    if rest:
        blob = json.dumps(rest, separators=(",", ":")).encode()
        tail = (offset, offset + len(blob))
        parts.append(blob)
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
        tail=tail,
        tail_keys=list(rest),
        first_upload=earliest([row[UPLOAD] for row in rows]),
    )
    data._rows.update(grouped)
    return data


# A PEP 691 file entry checked and turned into a row: ``json_row(item, n, page_url)``, set by
# ``pipvet.sources.index`` (which owns what an index may list).
json_row = None


class _Keys:
    """Version keys of file names, computed once per Version object (``file_version`` caches
    them, so files of one release share few objects)."""

    def __init__(self) -> None:
        from pipvet.core.filenames import file_version

        self.file_version = file_version
        self.seen: dict[int, tuple[str, object]] = {}
        self.alive: list[object] = []  # keeps the objects, so their ids stay theirs

    def __call__(self, filename: str) -> tuple[str, object]:
        v = self.file_version(filename)
        if v is None:
            return "", None
        found = self.seen.get(id(v))
        if found is None:
            self.alive.append(v)
            found = self.seen[id(v)] = (version_key(v), v)
        return found


def _doc_groups(doc: object, page_url: str, wanted: set[str]) -> dict[str, list]:
    """Rows of the releases in ``wanted`` from a PEP 691 response (a page's tail)."""
    assert json_row is not None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise ValueError("not a PEP 691 response")
    key_of = _Keys()
    out: dict[str, list] = {}
    for n, item in enumerate(files):
        key = key_of(item["filename"])[0]
        if key in wanted:
            out.setdefault(key, []).append(json_row(item, n, page_url))
    return out


def _newest(order: dict[str, object], n: int) -> list[str]:
    """The ``n`` newest release keys, newest first (compared as packaging does, by ``_key``)."""
    import heapq

    sample = next(iter(order.values()), None)
    by = (lambda k: order[k]._key) if hasattr(sample, "_key") else order.__getitem__  # type: ignore[attr-defined]
    return heapq.nlargest(n, order, key=by)  # type: ignore[arg-type]


def build_json(
    url: str,
    final: str,
    body: bytes,
    files: list,
    *,
    status: object = None,
    reason: object = None,
    versions: list[str] | None = None,
    validators: dict[str, str] | None = None,
    expires: float = 0.0,
) -> PageData:
    """The parsed form of a PEP 691 response: the ``HEAD`` newest releases as rows (each entry
    checked), the rest kept as the response itself and read only when asked for. Every entry
    must be a table naming its file and URL (else ``ValueError``)."""
    assert json_row is not None
    key_of = _Keys()
    index: dict[str, list[int]] = {}
    order: dict[str, object] = {}
    derived: dict[str, None] = {}
    for n, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            raise ValueError(f"file entry {n}: no file name")
        if not isinstance(item.get("url"), str):
            raise ValueError(f"file entry {n}: no URL")
        key, v = key_of(item["filename"])
        if v is not None and key not in order:
            order[key] = v
            if versions is None:
                derived.setdefault(str(v), None)
        index.setdefault(key, []).append(n)
    head = _newest(order, HEAD)
    parts: list[bytes] = []
    groups: list[tuple[str, int, int]] = []
    rows: dict[str, list] = {}
    offset = 0
    for key in head:
        rows[key] = [json_row(files[n], n, final) for n in index[key]]
        blob = json.dumps(rows[key], separators=(",", ":")).encode()
        groups.append((key, offset, offset + len(blob)))
        parts.append(blob)
        offset += len(blob)
    in_head = set(head)
    rest = [k for k in index if k not in in_head]
    tail = (offset, offset)
    if rest:
        tail = (offset, offset + len(body))
        parts.append(body)
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
        count=len(files),
        tail=tail,
        tail_keys=rest,
        tail_form="doc",
        first_upload=earliest([item.get("upload-time") for item in files]),
    )
    data._rows.update(rows)
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
            tail = (int(head["tail"][0]), int(head["tail"][1]))
            if any(not (0 <= s <= e <= len(body)) for _k, s, e in [*groups, ("", *tail)]):
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
                tail=tail,
                tail_keys=[str(k) for k in head.get("tail_keys") or []],
                tail_form="doc" if head.get("tail_form") == "doc" else "groups",
                first_upload=_text_or_none(head.get("first_upload")),
            )
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
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
    """Parsed pages fetched during one operation, by URL (thread-safe). ``refresh``: the
    operation asks the index again for every page, even one it may still reuse."""

    def __init__(self, refresh: bool = False) -> None:
        self.refresh = refresh
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
def page_scope(refresh: bool = False) -> Iterator[PageMemo]:
    """Inside this block, every ``SimpleIndex`` made shares one memo: each page is asked of the
    index at most once (nested scopes share the outer one). With ``refresh`` every page is asked
    for again (conditionally) rather than reused while the index allows."""
    memo = _scope.get()
    if memo is not None:
        memo.refresh = memo.refresh or refresh
        yield memo
        return
    memo = PageMemo(refresh)
    token = _scope.set(memo)
    try:
        yield memo
    finally:
        _scope.reset(token)


def current_scope() -> PageMemo | None:
    return _scope.get()


def refresh_pages() -> None:
    """The current operation asks the index again for every page (``--refresh``)."""
    memo = _scope.get()
    if memo is not None:
        memo.refresh = True


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
