"""The upstream index, read asynchronously (aiohttp): project pages and files, with every failure
turned into an ``UpstreamError`` carrying the HTTP status pipvet answers with (404, 502, 504)
and a reason a person can read."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp

from pipvet.core.errors import InputError
from pipvet.core.models import DistFile

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
MAX_PAGE = 256 * 1024**2
MAX_METADATA = 16 * 1024**2
CHUNK = 1 << 16


class UpstreamError(Exception):
    """Upstream could not give what was asked: ``status`` is what pipvet answers with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    """One file of an upstream project page, with what a proxy must pass on."""

    file: DistFile  # as pipvet's index client parses it (url absolute, upstream's)
    yanked: bool | str  # False, True, or the reason (PEP 592)
    metadata: dict[str, str] | bool  # PEP 658/714: hashes of the .metadata file, True, False
    hashes: dict[str, str]


@dataclass(frozen=True)
class UpstreamPage:
    url: str
    page: object  # pipvet.sources.index.ProjectPage (its PEP 792 status, for the gate)
    entries: tuple[Entry, ...]
    versions: tuple[str, ...]  # PEP 700 ``versions`` when upstream gives them
    max_age: int  # seconds this page may be reused (Cache-Control)


def _metadata_value(raw: object) -> dict[str, str] | bool:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}
    return bool(raw)


def _html_metadata(value: str | None) -> dict[str, str] | bool:
    if value is None:
        return False
    alg, sep, digest = value.partition("=")
    if sep and digest:
        return {alg.strip().lower(): digest.strip().lower()}
    return value.strip().lower() != "false"


def parse_page(body: bytes, ctype: str, url: str, max_age: int) -> UpstreamPage:
    """An upstream project page (JSON or HTML) as entries; ``InputError`` when malformed."""
    from pipvet.sources.index import ProjectPage, parse_html_anchors, parse_json_page

    if ctype == JSON_TYPE or ctype.endswith("+json") or ctype == "application/json":
        try:
            doc = json.loads(body)
        except ValueError:
            raise InputError(f"{url}: invalid JSON from the index") from None
        files = parse_json_page(doc, url)  # validates every entry
        entries = []
        for f, item in zip(files, doc["files"], strict=True):
            raw_yank = item.get("yanked", False)
            yanked = raw_yank if isinstance(raw_yank, str) and raw_yank else bool(raw_yank)
            meta = item.get("core-metadata", item.get("dist-info-metadata", False))
            entries.append(
                Entry(f, yanked, _metadata_value(meta), {h.algorithm: h.digest for h in f.hashes})
            )
        raw_versions = doc.get("versions")
        versions = tuple(str(v) for v in raw_versions) if isinstance(raw_versions, list) else ()
        return UpstreamPage(url, ProjectPage(url, doc=doc), tuple(entries), versions, max_age)
    pairs, meta = parse_html_anchors(body.decode("utf-8", "replace"), url)
    entries = []
    for f, attrs in pairs:
        raw_yank = attrs.get("data-yanked")
        yanked: bool | str = False if "data-yanked" not in attrs else (raw_yank or True)
        md = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        entries.append(
            Entry(f, yanked, _html_metadata(md), {h.algorithm: h.digest for h in f.hashes})
        )
    page = ProjectPage(url, parsed=[e.file for e in entries], meta=meta)
    return UpstreamPage(url, page, tuple(entries), (), max_age)


def _max_age(header: str | None) -> int:
    from pipvet.sources.index import cache_max_age

    return cache_max_age(header)


class Upstream:
    """An aiohttp session on the upstream index."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.timeout,
                    sock_connect=self.timeout,
                    sock_read=self.timeout,
                ),
                headers={"User-Agent": _user_agent()},
                auto_decompress=True,
            )
        return self._session

    def _request_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=self.timeout * 2, sock_connect=self.timeout, sock_read=self.timeout
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def project_url(self, name: str) -> str:
        return urljoin(self.url, f"{name}/")

    async def page(self, name: str) -> UpstreamPage:
        url = self.project_url(name)
        try:
            async with self.session().get(
                url, headers={"Accept": ACCEPT}, timeout=self._request_timeout()
            ) as resp:
                if resp.status == 404:
                    raise UpstreamError(404, f"{name} is not on the upstream index")
                if resp.status != 200:
                    raise UpstreamError(
                        502, f"the upstream index answered HTTP {resp.status} for {name}"
                    )
                body = await _read_limited(resp, MAX_PAGE, url)
                ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                max_age = _max_age(resp.headers.get("Cache-Control"))
                final = str(resp.url)
        except UpstreamError:
            raise
        except Exception as exc:
            raise _network_error(exc, url) from None
        try:
            return await asyncio.to_thread(parse_page, body, ctype, final, max_age)
        except InputError as exc:
            raise UpstreamError(502, f"malformed upstream page: {exc.message}") from None

    async def small_file(self, url: str, limit: int = MAX_METADATA) -> bytes:
        try:
            async with self.session().get(url, timeout=self._request_timeout()) as resp:
                if resp.status == 404:
                    raise UpstreamError(404, "not on the upstream index")
                if resp.status != 200:
                    raise UpstreamError(502, f"the upstream index answered HTTP {resp.status}")
                return await _read_limited(resp, limit, url)
        except UpstreamError:
            raise
        except Exception as exc:
            raise _network_error(exc, url) from None

    async def download(self, entry: Entry, dest_dir: Path) -> tuple[Path, str, int]:
        """Stream ``entry``'s file into a temporary file under ``dest_dir`` (bounded memory),
        hashing as it goes: (path, sha256, size). The temporary file is removed on any failure
        or cancellation; the caller owns (and removes) it after."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=dest_dir)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        url = entry.file.url
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    async with self.session().get(url) as resp:
                        if resp.status != 200:
                            raise UpstreamError(
                                502,
                                f"the upstream index answered HTTP {resp.status} for "
                                f"{entry.file.filename}",
                            )
                        async for chunk in resp.content.iter_chunked(CHUNK):
                            size += len(chunk)
                            if entry.file.size is not None and size > entry.file.size:
                                raise UpstreamError(
                                    502,
                                    f"{entry.file.filename}: upstream sent more bytes than the "
                                    f"{entry.file.size} its listing gives: not served",
                                )
                            digest.update(chunk)
                            out.write(chunk)
                except UpstreamError:
                    raise
                except Exception as exc:
                    raise _network_error(exc, url) from None
            return tmp, digest.hexdigest(), size
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


async def _read_limited(resp: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
    chunks = []
    total = 0
    async for chunk in resp.content.iter_chunked(CHUNK):
        total += len(chunk)
        if total > limit:
            raise UpstreamError(502, f"the upstream answer for {url} is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _network_error(exc: BaseException, url: str) -> UpstreamError:
    host = urlsplit(url).netloc
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return UpstreamError(504, f"the upstream index ({host}) did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        why = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else str(exc)
        return UpstreamError(502, f"cannot reach the upstream index ({host}): {why}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamError(502, f"the upstream index ({host}) cut the transfer short")
    if isinstance(exc, aiohttp.ClientError):
        return UpstreamError(502, f"the upstream index ({host}) failed: {type(exc).__name__}")
    if isinstance(exc, OSError):
        return UpstreamError(502, f"upstream transfer failed: {exc.strerror or exc}")
    raise exc


def _user_agent() -> str:
    from pipvet import __version__

    return f"pipvet-serve/{__version__}"
