"""The firewall's HTTP server (aiohttp): pages, files, metadata, refusals; and its run loop.

Routes (``/simple/`` is what pip and uv are pointed at)::

    /simple/NAME/                  the project page, JSON or HTML (Accept), filtered
    /files/NAME/FILENAME           a file: downloaded, sha256-checked, inspected, then served
    /files/NAME/FILENAME.metadata  its PEP 658 metadata, passed on from upstream
    /refused/NAME/FILENAME         a tombstone: 403 with the reason

The same file asked for by many clients at once is downloaded and inspected once (one task per
sha256, shielded from any one client going away); inspection runs in worker processes, never on
the event loop. A verified, allowed file is kept under the cache folder (re-hashed before first
use by a new server); a blocked one is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from packaging.utils import canonicalize_name

from pipvet.serve import listing
from pipvet.serve.decide import ProjectDecision, Refusal, decide_project
from pipvet.serve.decisions import DecisionLog
from pipvet.serve.upstream import Entry, Upstream, UpstreamError, UpstreamPage

MAX_REASON = 400
MAX_PROJECTS = 512  # project pages kept before expired ones are forgotten
RECENT = 600.0  # seconds: a file served this recently is never evicted (a client may be reading)
PAGE_TTL_FLOOR = 5.0  # seconds a page (and its decision) is reused even if upstream says no-cache


def reason_phrase(text: str) -> str:
    """``text`` as an HTTP reason phrase: printable ASCII on one line (pip and uv print it)."""
    out = []
    for ch in " ".join(str(text).split()):
        out.append(ch if 32 <= ord(ch) < 127 else ascii(ch)[1:-1])
    phrase = "".join(out)
    return phrase if len(phrase) <= MAX_REASON else phrase[: MAX_REASON - 3] + "..."


@dataclass
class _Project:
    page: UpstreamPage
    decision: ProjectDecision
    expires: float
    generation: int
    by_name: dict[str, Entry] = field(default_factory=dict)  # filename -> entry
    bodies: dict[str, bytes] = field(default_factory=dict)  # media type -> rendered page
    listed: tuple | None = None  # (files as listed, versions held back), made once
    refusals: dict[str, Refusal | None] = field(default_factory=dict)  # filename -> why

    def __post_init__(self) -> None:
        self.by_name = {e.file.filename: e for e in self.page.entries}


@dataclass(frozen=True)
class FileVerdict:
    path: Path | None  # the verified file, when allowed
    blocked: bool
    reason: str = ""  # one line, for the reason phrase
    detail: dict = field(default_factory=dict)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle


class Firewall:
    def __init__(self, config, *, notify: Callable[[str], None]) -> None:
        from pipvet.core.policy import load_policy

        self.config = config
        self.notify = notify
        self.policy = load_policy(config.policy_dir)
        self.generation = 0
        self.upstream = Upstream(config.upstream, timeout=config.timeout)
        self.log = DecisionLog(config.decisions_path)
        self.files_dir = config.cache_dir / "files"
        self.tmp_dir = _own_tmp(config.cache_dir / "tmp")
        self._projects: dict[str, _Project] = {}
        self._page_flights: dict[str, asyncio.Task] = {}
        self._file_flights: dict[str, asyncio.Task] = {}
        self._verdicts: dict[tuple[str, int], FileVerdict] = {}
        self._pool: ProcessPoolExecutor | None = None
        self.downloads = 0  # upstream file downloads, for the log and tests
        self.cache_bytes: int | None = None  # size of files_dir (counted at the first store)

    # -- life --------------------------------------------------------------------------------

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            method = "forkserver" if sys.platform.startswith("linux") else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=self.config.jobs,
                mp_context=multiprocessing.get_context(method),
                initializer=_worker_init,
            )
        return self._pool

    def warm(self) -> None:
        from pipvet.serve.inspect import warm

        for _ in range(self.config.jobs):
            self.pool().submit(warm)

    async def cancel_flights(self) -> None:
        """Cancel every download and page fetch in flight (their temporary files go with
        them); the requests waiting on them end at once."""
        tasks = [*self._file_flights.values(), *self._page_flights.values()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.cancel_flights()
        await self.upstream.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def reload_policy(self) -> None:
        from pipvet.core.errors import InputError
        from pipvet.core.policy import load_policy

        try:
            policy = load_policy(self.config.policy_dir)
        except InputError as exc:
            self.notify(f"policy not re-read: {exc.message} (the previous one stays in force)")
            self.log.write(kind="policy", action="error", reason=exc.message)
            return
        self.policy = policy
        self.generation += 1
        self._projects.clear()
        self._verdicts.clear()
        where = ", ".join(policy.sources) or "built-in defaults"
        self.notify(f"policy re-read ({where})")
        self.log.write(kind="policy", action="reloaded", reason=where)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.home)
        app.router.add_get("/simple", self.root)
        app.router.add_get("/simple/", self.root)
        app.router.add_get("/simple/{project}", self.page_redirect)
        app.router.add_get("/simple/{project}/", self.page)
        app.router.add_get("/files/{project}/{filename}", self.file)
        app.router.add_get("/refused/{project}/{filename}", self.refused)
        return app

    # -- helpers -----------------------------------------------------------------------------

    def _error(self, status: int, text: str) -> web.Response:
        phrase = reason_phrase(f"pipvet: {text}")
        return web.Response(status=status, reason=phrase, text=f"{phrase}\n")

    def _record(self, request: web.Request, **fields: object) -> None:
        peer = request.remote or ""
        self.log.write(client=peer, **fields)

    async def project(self, name: str) -> _Project:
        """The upstream page of ``name`` and the gate's decision on it (one fetch at a time per
        name; reused for the page's max-age, at least ``PAGE_TTL_FLOOR`` seconds)."""
        loop = asyncio.get_running_loop()
        known = self._projects.get(name)
        if (
            known is not None
            and known.expires > loop.time()
            and known.generation == self.generation
        ):
            return known
        task = self._page_flights.get(name)
        if task is None:
            task = asyncio.ensure_future(self._fetch_project(name))
            self._page_flights[name] = task
            task.add_done_callback(lambda _t, n=name: self._page_flights.pop(n, None))
        return await asyncio.shield(task)

    async def _fetch_project(self, name: str) -> _Project:
        loop = asyncio.get_running_loop()
        generation = self.generation
        page = await self.upstream.page(name)
        policy = self.policy
        decision = await asyncio.to_thread(
            decide_project,
            name,
            page,
            index_url=self.upstream.url,
            policy=policy,
            min_release_age=self.config.min_release_age,
            db_path=self.config.db_path,
        )
        ttl = max(float(min(page.max_age, 600)), PAGE_TTL_FLOOR)
        known = _Project(page, decision, loop.time() + ttl, generation)
        if generation == self.generation:
            if len(self._projects) >= MAX_PROJECTS:  # forget expired pages (big ones add up)
                now = loop.time()
                for key in [k for k, p in self._projects.items() if p.expires <= now]:
                    del self._projects[key]
            self._projects[name] = known
        return known

    # -- handlers ----------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"pipvet serve: a package firewall in front of {self.upstream.url}\n"
            "point pip or uv at /simple/\n"
        )

    async def root(self, request: web.Request) -> web.Response:
        media = listing.negotiate(request.headers.get("Accept"))
        if media is None:
            return self._error(406, "not acceptable: ask for PEP 691 JSON or HTML")
        return web.Response(body=listing.root_page(media), headers={"Content-Type": media})

    async def page_redirect(self, request: web.Request) -> web.Response:
        name = canonicalize_name(request.match_info["project"])
        raise web.HTTPMovedPermanently(f"/simple/{name}/")

    async def page(self, request: web.Request) -> web.Response:
        raw = request.match_info["project"]
        name = canonicalize_name(raw)
        if raw != name:
            raise web.HTTPMovedPermanently(f"/simple/{name}/")
        media = listing.negotiate(request.headers.get("Accept"))
        if media is None:
            return self._error(406, "not acceptable: ask for PEP 691 JSON or HTML")
        try:
            known = await self.project(name)
        except UpstreamError as exc:
            action = "missing" if exc.status == 404 else "error"
            self._record(request, kind="page", project=name, action=action, status=exc.status,
                         reason=exc.reason)  # fmt: skip
            return self._error(exc.status, exc.reason)
        if known.listed is None:
            known.listed = self._listing(name, known)
        files, held = known.listed
        decision = known.decision
        warnings = [w.message for w in decision.warnings]
        if decision.refused is not None:
            self._record(request, kind="page", project=name, action="blocked", status=200,
                         rule=decision.refused.rule, reason=decision.refused.message)  # fmt: skip
        else:
            self._record(
                request, kind="page", project=name,
                action="warned" if warnings else "allowed", status=200,
                held_back={v: r.message for v, r in held.items()}, warnings=warnings,
            )  # fmt: skip
        versions = list(known.page.versions) or _versions(known.page.entries)
        body = known.bodies.get(media)
        if body is None:  # rendered once per page and media type
            body = listing.render(media, name, files, versions, known.page.page.status)
            known.bodies[media] = body
        return web.Response(
            body=body,
            headers={"Content-Type": media, "Vary": "Accept", "Cache-Control": "no-cache"},
        )

    def _listing(
        self, name: str, known: _Project
    ) -> tuple[list[listing.Listed], dict[str, Refusal]]:
        from pipvet.sources.index import file_version

        decision = known.decision
        out: list[listing.Listed] = []
        held: dict[str, Refusal] = {}
        for e in known.page.entries:
            f = e.file
            v = file_version(f)
            refusal = decision.version_refusal(v)
            common = dict(
                filename=f.filename,
                requires_python=f.requires_python,
                upload_time=f.upload_time,
                size=f.size,
            )
            if refusal is None:
                out.append(
                    listing.Listed(
                        url=listing.file_url(name, f.filename),
                        hashes=e.hashes,
                        yanked=e.yanked,
                        metadata=e.metadata,
                        **common,  # type: ignore[arg-type]
                    )
                )
                continue
            if decision.refused is None:
                held[str(v)] = refusal
            out.append(
                listing.Listed(
                    url=listing.tombstone_url(name, f.filename),
                    hashes={},
                    # a refused version is yanked (skipped unless pinned exactly); a refused
                    # project is not: every request for it ends at the reason
                    yanked=False if decision.refused else reason_phrase(refusal.message),
                    **common,  # type: ignore[arg-type]
                )
            )
        if decision.refused is not None and not out:  # e.g. quarantined: upstream lists nothing
            filename = f"{name.replace('-', '_')}-0-py3-none-any.whl"
            out.append(listing.Listed(filename, listing.tombstone_url(name, filename), {}))
        return out, held

    def _find(self, known: _Project, filename: str) -> Entry | None:
        return known.by_name.get(filename)

    async def refused(self, request: web.Request) -> web.Response:
        name = canonicalize_name(request.match_info["project"])
        filename = request.match_info["filename"]
        try:
            known = await self.project(name)
        except UpstreamError as exc:
            return self._error(exc.status, exc.reason)
        refusal = self._refusal_of(known, filename)
        if refusal is None:
            return self._error(404, f"{filename} is no longer refused: ask for the page again")
        self._record(request, kind="file", project=name, file=filename, action="blocked",
                     status=403, rule=refusal.rule, reason=refusal.message)  # fmt: skip
        return self._error(403, f"refused {filename}: {refusal.message} [{refusal.rule}]")

    def _refusal_of(self, known: _Project, filename: str) -> Refusal | None:
        from pipvet.core.filenames import file_version

        if known.decision.refused is not None:
            return known.decision.refused
        if filename not in known.refusals:
            known.refusals[filename] = known.decision.version_refusal(file_version(filename))
        return known.refusals[filename]

    async def file(self, request: web.Request) -> web.StreamResponse:
        from pipvet.sources.index import file_version

        name = canonicalize_name(request.match_info["project"])
        filename = request.match_info["filename"]
        metadata = filename.endswith(".metadata")
        listed = filename[: -len(".metadata")] if metadata else filename
        try:
            known = await self.project(name)
        except UpstreamError as exc:
            self._record(request, kind="file", project=name, file=filename, action="error",
                         status=exc.status, reason=exc.reason)  # fmt: skip
            return self._error(exc.status, exc.reason)
        entry = self._find(known, listed)
        if entry is None:
            return self._error(404, f"{listed} is not listed by the upstream index for {name}")
        refusal = self._refusal_of(known, listed)
        if refusal is not None:
            self._record(request, kind="file", project=name, file=filename, action="blocked",
                         status=403, rule=refusal.rule, reason=refusal.message)  # fmt: skip
            return self._error(403, f"refused {listed}: {refusal.message} [{refusal.rule}]")
        if metadata:
            return await self._metadata(request, entry)
        sha256 = entry.hashes.get("sha256")
        if not sha256:
            reason = f"refused {listed}: the upstream index lists no sha256, it cannot be verified"
            self._record(request, kind="file", project=name, file=filename, action="blocked",
                         status=403, reason=reason)  # fmt: skip
            return self._error(403, reason)
        version = file_version(entry.file)
        try:
            verdict = await self.vetted(name, str(version or ""), entry, sha256)
        except UpstreamError as exc:
            action = "blocked" if exc.status == 403 else "error"
            self._record(request, kind="file", project=name, file=filename, action=action,
                         status=exc.status, reason=exc.reason, sha256=sha256)  # fmt: skip
            return self._error(exc.status, exc.reason)
        if verdict.blocked or verdict.path is None:
            self._record(request, kind="file", project=name, file=filename, action="blocked",
                         status=403, reason=verdict.reason, sha256=sha256,
                         **verdict.detail)  # fmt: skip
            return self._error(403, f"refused {listed}: {verdict.reason}")
        warned = bool(verdict.detail.get("warnings"))
        self._record(request, kind="file", project=name, file=filename,
                     action="warned" if warned else "allowed", status=200, sha256=sha256,
                     **verdict.detail)  # fmt: skip
        with contextlib.suppress(OSError):
            os.utime(verdict.path)  # last served now: the cache keeps what is used
        return web.FileResponse(verdict.path, headers={"Content-Type": "application/octet-stream"})

    async def _metadata(self, request: web.Request, entry: Entry) -> web.Response:
        if not entry.metadata:
            return self._error(
                404, f"the upstream index serves no metadata for {entry.file.filename}"
            )
        try:
            data = await self.upstream.small_file(entry.file.url + ".metadata")
        except UpstreamError as exc:
            return self._error(exc.status, exc.reason)
        want = entry.metadata.get("sha256") if isinstance(entry.metadata, dict) else None
        if want and hashlib.sha256(data).hexdigest() != want.lower():
            reason = (
                f"refused the metadata of {entry.file.filename}: it does not match the upstream "
                "listing's sha256"
            )
            self._record(request, kind="metadata", file=entry.file.filename, action="blocked",
                         status=403, reason=reason)  # fmt: skip
            return self._error(403, reason)
        return web.Response(body=data, headers={"Content-Type": "application/octet-stream"})

    # -- files -------------------------------------------------------------------------------

    async def vetted(self, name: str, version: str, entry: Entry, sha256: str) -> FileVerdict:
        """The verdict on one file, downloaded and inspected once however many ask at once."""
        known = self._verdicts.get((sha256, self.generation))
        if known is not None and (known.blocked or (known.path and known.path.is_file())):
            return known
        task = self._file_flights.get(sha256)
        if task is None:
            task = asyncio.ensure_future(self._vet(name, version, entry, sha256))
            self._file_flights[sha256] = task
            task.add_done_callback(lambda _t, k=sha256: self._file_flights.pop(k, None))
        return await asyncio.shield(task)

    async def _vet(self, name: str, version: str, entry: Entry, sha256: str) -> FileVerdict:
        generation = self.generation
        from pipvet.core.errors import InputError
        from pipvet.sources.index import safe_filename

        try:
            safe_filename(entry.file.filename)
        except InputError as exc:
            raise UpstreamError(502, exc.message) from None
        final = self.files_dir / sha256[:2] / sha256 / entry.file.filename
        if final.is_file() and await asyncio.to_thread(_sha256_of, final) != sha256:
            final.unlink(missing_ok=True)  # changed on disk: fetch it again
        if not final.is_file():
            self.downloads += 1
            tmp, digest, size = await self.upstream.download(entry, self.tmp_dir)
            if digest != sha256 or (entry.file.size is not None and size != entry.file.size):
                tmp.unlink(missing_ok=True)
                raise UpstreamError(  # 403, not 502: pip retries a 502 and hides the reason
                    403,
                    f"refused {entry.file.filename}: the bytes from upstream do not match "
                    f"upstream's sha256 (listed {sha256[:16]}..., got {digest[:16]}...)",
                )
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            await self._keep_within_limit(size, final)
        from pipvet.serve.inspect import inspect_file

        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self.pool(), inspect_file, name, version, str(final), self.policy,
                self.upstream.url,
            )  # fmt: skip
        except BrokenProcessPool:
            self._pool = None
            result = _failed(final, "scan.worker-died", "the inspecting process died (out of "
                             "memory or killed): not inspected, not served")  # fmt: skip
        except Exception as exc:  # fail closed: what could not be inspected is not served
            result = _failed(final, "gate.scan-error", f"the inspection failed "
                             f"({type(exc).__name__}: {exc}): not served")  # fmt: skip
        detail = {
            "verdict": result["verdict"],
            "score": result["score"],
            "warnings": [w["message"] for w in result["warnings"]],
        }
        if result["blocks"]:
            final.unlink(missing_ok=True)  # never keep what was refused
            detail["rule"] = result["blocks"][0]["rule"]
            verdict = FileVerdict(None, True, _block_reason(result["blocks"]), detail)
        else:
            verdict = FileVerdict(final, False, "", detail)
        if generation == self.generation:
            self._verdicts[(sha256, generation)] = verdict
        return verdict

    async def _keep_within_limit(self, added: int, keep: Path) -> None:
        """Count a stored file; over the limit, delete the least recently served files (not
        ``keep``, nor any served in the last ``RECENT`` seconds) down to 90% of it."""
        limit = self.config.cache_max_bytes
        if self.cache_bytes is None:
            self.cache_bytes = await asyncio.to_thread(_tree_size, self.files_dir)
        else:
            self.cache_bytes += added
        if self.cache_bytes <= limit:
            return
        removed, self.cache_bytes = await asyncio.to_thread(
            _evict, self.files_dir, int(limit * 0.9), keep
        )
        if removed:
            self.notify(f"cache over {limit / 1024**3:.3g} GB: {removed} least recently "
                        "served file(s) deleted")  # fmt: skip


def _listing(root: Path) -> list[tuple[float, int, Path]]:
    """(last used, size, path) of every file under ``root``."""
    files = []
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                st = path.stat()
                files.append((st.st_mtime, st.st_size, path))
    return files


def _tree_size(root: Path) -> int:
    return sum(size for _m, size, _p in _listing(root))


def _evict(root: Path, target: int, keep: Path) -> tuple[int, int]:
    """Delete the least recently used files under ``root`` until at most ``target`` bytes are
    left, sparing ``keep`` and files used in the last ``RECENT`` seconds; (removed, bytes left).
    A verified file deleted is downloaded, checked and inspected again when next asked for."""
    import time

    files = _listing(root)
    total = sum(size for _m, size, _p in files)
    recent = time.time() - RECENT
    removed = 0
    for mtime, size, path in sorted(files, key=lambda f: f[0]):
        if total <= target:
            break
        if path == keep or mtime >= recent:
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            total -= size
            removed += 1
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # <sha256>/ when it held only this file
    return removed, total


def _failed(path: Path, rule: str, message: str) -> dict:
    block = {"rule": rule, "message": message, "file": path.name, "path": "", "line": None}
    return {"blocks": [block], "warnings": [], "allowed": [], "verdict": "suspicious",
            "score": None}  # fmt: skip


def _block_reason(blocks: list[dict]) -> str:
    b = blocks[0]
    where = _at(b)
    text = f"{b['message']}" + (f" ({where})" if where else "") + f" [{b['rule']}]"
    if len(blocks) > 1:
        text += f" (+{len(blocks) - 1} more)"
    return text


def _at(b: dict) -> str:
    if not b.get("path"):
        return ""
    return f"{b['path']}:{b['line']}" if b.get("line") else b["path"]


def _versions(entries) -> list[str]:
    from pipvet.sources.index import file_version

    seen = {str(v) for e in entries if (v := file_version(e.file)) is not None}
    from packaging.version import Version

    return sorted(seen, key=Version)


def _own_tmp(parent: Path) -> Path:
    """A temporary folder for this server's downloads (``parent/<pid>-...``); those of servers
    that are gone (killed) are removed."""
    import tempfile

    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.iterdir():
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- the run loop ------------------------------------------------------------------------------


async def run(config, *, on_ready: Callable[[str], None], notify: Callable[[str], None]) -> int:
    """Serve until SIGINT (exit 130) or SIGTERM (exit 0); SIGHUP re-reads the policy.
    ``on_ready(url)`` is called once listening (``url`` with the real port)."""
    from pipvet.core.errors import InputError

    fw = Firewall(config, notify=notify)
    runner = web.AppRunner(fw.app(), access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        await fw.close()
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise InputError(f"cannot listen on {config.host}:{config.port}: {why}") from None
    port = runner.addresses[0][1]
    host = config.host if ":" not in config.host else f"[{config.host}]"
    fw.warm()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    code = [0]

    def stopping(value: int) -> None:
        if stop.is_set():  # asked twice: stop now, whatever is still running
            os._exit(value)
        code[0] = value
        stop.set()

    loop.add_signal_handler(signal.SIGINT, stopping, 130)
    loop.add_signal_handler(signal.SIGTERM, stopping, 0)
    if hasattr(signal, "SIGHUP"):
        loop.add_signal_handler(signal.SIGHUP, fw.reload_policy)
    fw.log.write(kind="server", action="started", reason=f"http://{host}:{port}/simple/")
    on_ready(f"http://{host}:{port}/simple/")
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
        await fw.cancel_flights()
        await runner.cleanup()
        await fw.close()
        fw.log.write(kind="server", action="stopped", reason=f"exit {code[0]}")
        fw.log.close()
    return code[0]
