"""The ``lock`` service: resolve (pip's or uv's resolver, wheels only), then record the sha256 of
every file of every pinned version, and lock the build requirements of allowed sdists too.

``lock(LockRequest)`` returns a ``LockReport`` holding the ``Lock``; rendering it (requirements or
pylock form) is ``pipvet.formats.lock``'s job, writing it the command's. ``audit --fix`` calls
this service directly to re-lock with upgrades.

uv's first run starts before the requirements are parsed when they are plain and everything it
depends on is already known (``_early_uv``): packaging, the requirements parser and the index
client are therefore imported inside the functions here, once uv runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipvet.core.defaults import DEFAULT_INDEX_URL
from pipvet.core.errors import InputError, PipvetError, PolicyRefusal, UsageError
from pipvet.core.progress import Level, Progress, silent

if TYPE_CHECKING:  # loaded once uv runs: packaging, the index client (see ``_early_uv``)
    from pipvet.core.lockfile import Lock, LockedPackage
    from pipvet.core.policy import Policy
    from pipvet.core.reports.lock import LockReport
    from pipvet.sources.resolver_run import EarlyRun

__all__ = ["LockRequest", "lock"]


class LockRequest(NamedTuple):
    """What to lock, against which index, for which interpreter. (A NamedTuple: it is made
    before uv starts, and ``dataclasses`` costs ~7 ms to import.)"""

    requirements: tuple[str, ...] = ()  # requirement strings ("rich>=13")
    files: tuple[str, ...] = ()  # requirements files (-r)
    pyproject: str | None = None
    groups: tuple[str, ...] = ()  # with pyproject: extras or dependency groups
    index_url: str | None = None  # default: a -r file's --index-url, else PyPI
    allow_sdist: tuple[str, ...] = ()
    python: str | None = None  # resolve for this interpreter (default: active venv, else pipvet's)
    refresh: bool = False  # do not reuse cached index pages
    resolver: str = "auto"  # "auto", "pip" or "uv"
    min_release_age: float | None = None  # days: newer versions are left out (default: policy's)
    previous: str | None = None  # the lock this one replaces: a re-uploaded file is refused
    color: bool = False  # a gate summary in colour (the caller's terminal shows colour)


def _inputs(
    request: LockRequest, progress: Progress
) -> tuple[list[tuple[str, str]], list[str], str | None]:
    """(requirement, origin) pairs, constraints, and an index URL named by a -r file."""
    from pipvet.sources.requirements import gather_requirements, read_pyproject

    gathered = gather_requirements(
        request.requirements, request.files, given_index=request.index_url
    )
    for text in gathered.ignored:
        progress(Level.WARN, text)
    reqs = list(gathered.requirements)
    if request.pyproject:
        for text in read_pyproject(request.pyproject, groups=request.groups):
            reqs.append((text, request.pyproject))
    elif request.groups:
        raise UsageError("--group needs --pyproject")
    if not reqs:
        raise UsageError("nothing to lock: give requirements, -r FILE or --pyproject PATH")
    return reqs, list(gathered.constraints), gathered.index_url


def _index_url(request: LockRequest, file_index: str | None, policy: Policy) -> str:
    """The one index of the lock: the command's, a -r file's, the policy's, else PyPI."""
    index_url = request.index_url or file_index or policy.index_url or DEFAULT_INDEX_URL
    return index_url if index_url.endswith("/") else index_url + "/"


def _python(request: LockRequest) -> tuple[str, str | None]:
    """The interpreter resolved for (the active venv's unless one is named), and the resolver's
    ``python`` argument for it (None: pipvet's own)."""
    from pipvet.sources.environment import default_python

    python = default_python(request.python)
    return python, None if python == sys.executable else python


def lock(request: LockRequest, *, progress: Progress = silent) -> LockReport:
    """Resolve, fetch every file's hash from the index (concurrently), build the Lock.

    Allowed sdists that must be built get their ``[build-system].requires`` (read from the
    hash-checked sdist as data) resolved and locked too, as ``Lock.build_packages``: pip does not
    hash-check build dependencies (pip#11974, pip#13984), pipvet install does.

    uv's first run may start before the requirements are parsed (``_early_uv``); whatever
    happens after that, it is adopted by the resolver or stopped before this returns. SIGTERM
    (and SIGHUP) stop a lock as Ctrl-C does: the resolver is stopped, not left running.
    """
    from pipvet.core.policy import load_policy
    from pipvet.installer.pip_runner import interruptible

    if request.min_release_age is not None and request.min_release_age < 0:
        raise UsageError("--min-release-age must be a number of days (>= 0)")
    policy = load_policy(Path.cwd())  # the gate's policy: index, allowed sdists, cooldown
    min_age = request.min_release_age
    if min_age is None:
        min_age = policy.min_release_age_days
    early = None
    with interruptible():
        try:
            early = _early_uv(request, policy, min_age)
            if early is not None:
                progress(
                    Level.DETAIL, "uv started early: the requirements are plain, the index known"
                )
            from pipvet.sources.page_cache import page_scope

            with page_scope():  # each index page is asked for once per operation
                return _lock(request, policy, min_age, early, progress)
        finally:
            if early is not None:
                early.close()  # not adopted, or adopted and not collected: stopped and reaped


# A requirement that can only be a name, extras and version specifiers: no marker, URL, path,
# option, variable, comment or continuation. It only decides whether uv may start early; what a
# line means is the requirements parser's (sources.requirements) alone.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_SPEC = r"(?:~=|===?|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9][A-Za-z0-9.*+!_-]*"
_PLAIN = re.compile(
    rf"(?P<name>{_NAME})[ \t]*(?:\[[ \t]*{_NAME}(?:[ \t]*,[ \t]*{_NAME})*[ \t]*\])?"
    rf"[ \t]*(?:{_SPEC}(?:[ \t]*,[ \t]*{_SPEC})*)?"
)
# pip reads a line that names an existing file with an archive's ending as that file
_ARCHIVE_ENDS = (
    ".whl", ".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".xz", ".txz", ".tlz", ".lz", ".lzma",
)  # fmt: skip


def _plain(text: str) -> bool:
    """Whether ``text`` is a plain requirement (``_PLAIN``), its name not a file's name."""
    m = _PLAIN.fullmatch(text)
    return m is not None and not m.group("name").lower().endswith(_ARCHIVE_ENDS)


def _plain_inputs(request: LockRequest) -> list[str] | None:
    """The requirements as uv would be given them if each is read as written: the command
    line's, then each -r file's lines, when every one is plain and every other line of the files
    is blank or a comment (no option: no nested file, no index); else None."""
    out = []
    for text in request.requirements:
        if not _plain(text):
            return None
        out.append(text)
    for path in request.files:
        try:  # a regular file only: a pipe (-r <(...)) or a device can be read but once
            if not Path(path).is_file():
                return None
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeError, ValueError):
            return None  # said by the requirements parser
        for raw in text.splitlines():  # the lines the parser reads (lockfile_io.logical_lines)
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not _plain(line):
                return None
            out.append(line)
    return out or None


def _early_uv(request: LockRequest, policy: Policy, min_age: float | None) -> EarlyRun | None:
    """uv's first run, started now when all it depends on is certainly known before the
    requirements are parsed (and packaging and the index client loaded): plain requirements
    (``_plain_inputs``), no --pyproject, no cooldown, the index of the command or the policy
    (no file names one), pipvet's own interpreter, and uv as the resolver. Never for another
    index than the lock's: that would tell it the names of private projects.

    The resolver adopts it only when the first run it would start has exactly this command line
    and input (``EarlyRun.adopt``); otherwise it is stopped. None: nothing was started."""
    if request.pyproject or request.groups or min_age or request.resolver not in ("auto", "uv"):
        return None
    if policy.extra_index_urls or policy.index_pins:
        return None
    texts = _plain_inputs(request)
    if texts is None:
        return None
    from pipvet.sources.resolver_run import EarlyRun, find_uv, own_python_as_is

    try:
        _, python_arg = _python(request)
    except PipvetError:
        return None  # said by the normal path, after what it says before
    if not own_python_as_is(python_arg):
        return None
    uv = find_uv()
    if uv is None:
        return None
    try:
        return EarlyRun(uv, texts, _index_url(request, None, policy))
    except OSError:
        return None  # the resolver meets the same, and says it


def _lock(
    request: LockRequest,
    policy: Policy,
    min_age: float | None,
    early: EarlyRun | None,
    progress: Progress,
) -> LockReport:
    """``lock``'s work once the policy is read (and uv perhaps started early)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from pipvet.core.lockfile import Lock
    from pipvet.core.reports.lock import LockReport
    from pipvet.services.install_gate import sdist_check
    from pipvet.sources.page_cache import refresh_pages
    from pipvet.sources.resolver import resolve

    reqs, constraints, file_index = _inputs(request, progress)
    early_work = _WhileResolving(request.previous)  # the lock it replaces, read while uv runs
    python, python_arg = _python(request)
    index_url = _index_url(request, file_index, policy)
    allowed = {canonicalize_name(n) for n in request.allow_sdist} | set(policy.allow_sdist)
    cache = None
    if request.refresh:
        refresh_pages()
    else:
        from pipvet.paths import cache_dir

        cache = cache_dir() / "simple"
    # install gate: an allowed sdist is inspected before the resolver may build it (runs code)
    before_sdist = sdist_check(
        [r for r, _ in reqs],
        index_url=index_url,
        policy=policy,
        python=python_arg,
        progress=progress,
        color=request.color,
    )
    progress(Level.STATUS, f"resolving {len(reqs)} requirement(s) against {index_url}")
    if min_age:  # install gate: versions uploaded more recently are left out, and said
        from pipvet.services import gate

        cooled = gate.resolve_with_cooldown(
            [r for r, _ in reqs],
            index_url=index_url,
            min_age_days=min_age,
            allow_sdist=allowed,
            python=python_arg,
            constraints=constraints,
            resolver=request.resolver,
            cache_dir=cache,
            before_sdist=before_sdist,
            on_start=early_work.start,
        )
        resolution = cooled.resolution
        for h in cooled.held_back:
            progress(
                Level.INFO, f"cooldown: {h.name} held back to {h.chosen} ({h.newest} is too new)"
            )
        for note in cooled.notes:
            progress(Level.WARN, note)
    else:
        resolution = resolve(
            [r for r, _ in reqs],
            index_url=index_url,
            allow_sdist=allowed,
            python=python_arg,
            resolver=request.resolver,
            constraints=constraints,
            cache_dir=cache,
            before_sdist=before_sdist,
            on_start=early_work.start,
            early=early,
        )
    for name in resolution.sdists:
        progress(
            Level.WARN,
            f"{name} has no usable wheel and will be built from source: building an sdist "
            "runs its code (allowed by --allow-sdist)",
        )
    origins: dict[str, set[str]] = {}
    for text, origin in reqs:
        origins.setdefault(canonicalize_name(Requirement(text).name), set()).add(origin)
    progress(Level.STATUS, f"reading the file hashes of {len(resolution.packages)} package(s)")
    packages = _locked(resolution, index_url, origins, allowed, progress)
    build: list = []
    if resolution.sdists:
        build_reqs = _build_requirements(packages, resolution.sdists)
        build_resolution = resolve(
            sorted({r for r, _ in build_reqs}),
            index_url=index_url,
            allow_sdist=allowed,
            python=python_arg,
            resolver=request.resolver,
            cache_dir=cache,
        )
        build_origins: dict[str, set[str]] = {}
        for text, origin in build_reqs:
            build_origins.setdefault(canonicalize_name(Requirement(text).name), set()).add(origin)
        build = _locked(build_resolution, index_url, build_origins, allowed, progress)
    if early is not None:
        used = "used" if early.adopted else "stopped, not used (the resolver's input differs)"
        progress(Level.DETAIL, f"uv's early start: {used}")
    why = f" ({resolution.reason})" if resolution.reason else ""
    progress(
        Level.DETAIL, f"resolved with {resolution.resolver}{why} for {python} against {index_url}"
    )
    result = Lock(packages=tuple(packages), index_url=index_url, build_packages=tuple(build))
    _gate_lock(result, policy, progress, color=request.color)
    _refuse_reuploads(result, request.previous, early_work.previous(), progress)
    return LockReport(lock=result, resolver=resolution.resolver)


def _gate_lock(lock: Lock, policy, progress: Progress, *, color: bool = False) -> None:
    """Refuse a lock that pins a known-malware version (OSV ``MAL-``), direct or transitive,
    before the lock is written. (A quarantined project serves no files: resolving it fails and
    says that word.)"""
    from pipvet.formats.gate_text import render_summary
    from pipvet.services import gate

    pkgs = [*lock.packages, *lock.build_packages]
    report = gate.check_known_malware([p.id for p in pkgs], policy=policy)
    blocks = report.blocks
    if not blocks:
        return
    progress(Level.RESULT, render_summary(report, plan=None, color=color))
    raise PolicyRefusal(
        f"lock refused by the gate ({len(blocks)} block(s)); nothing was written",
        hint="a block is lifted only by an allowlist entry with a reason and an expiry date",
    )


class _WhileResolving:
    """Work that needs no resolution, done in a thread once the resolver's process runs
    (``start``, the resolver's ``on_start``; the main thread only waits for it then): read the
    lock about to be replaced, and import what the gate's known-malware check needs."""

    def __init__(self, previous: str | None) -> None:
        import threading

        self._path = previous
        self._old: Lock | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pipvet-lock-early", daemon=True)

    def start(self) -> None:
        """Begin (once; a resolver that runs again, for the cooldown, calls this again)."""
        if self._thread.ident is None:  # not started yet
            self._thread.start()

    def _run(self) -> None:
        try:
            import pipvet.core.diff
            import pipvet.formats.gate_text
            import pipvet.services.audit
            import pipvet.services.gate
            import pipvet.sources.advisories.snapshot  # noqa: F401
            from pipvet.core.lockfile_io import read_lock

            if self._path and Path(self._path).is_file():
                self._old = read_lock(Path(self._path))
        except InputError:
            pass  # not a lock: nothing recorded to compare with
        except BaseException as exc:  # raised where the answer is needed, never lost
            self._error = exc

    def previous(self) -> Lock | None:
        """The lock being replaced, read (None when there is none, or it is not a lock)."""
        self.start()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._old


def _refuse_reuploads(
    lock: Lock, previous: str | None, old: Lock | None, progress: Progress
) -> None:
    """The lock about to be replaced (``previous``, read as ``old``) recorded other bytes for a
    file of the same version: a re-upload. Refused (the old lock stays) unless the index changed,
    which only warns."""
    from pipvet.core.diff import lock_reuploads, render_reupload

    if old is None:
        return
    found = lock_reuploads(old.packages, lock.packages)
    if not found:
        return
    text = "\n".join(render_reupload(p.name, str(p.version), r) for p, r in found)
    same_index = (old.index_url or "").rstrip("/") == (lock.index_url or "").rstrip("/")
    if not same_index:
        progress(
            Level.WARN, text + "\n(the previous lock used another index; mirrors may rebuild files)"
        )
        return
    raise PolicyRefusal(
        text,
        hint=f"{previous} is left unchanged. Check the project's release page; if the change is "
        "known and trusted, remove the old lock first.",
    )


def _locked(
    resolution,
    index_url: str,
    origins: dict[str, set[str]],
    allowed: set[str],
    progress: Progress,
) -> list[LockedPackage]:
    """LockedPackages with every sha256-hashed file of each pinned version."""
    from pipvet.core.filenames import file_version
    from pipvet.core.lockfile import LockedPackage
    from pipvet.core.models import FileHash
    from pipvet.sources.index import SimpleIndex

    names = [p.name for p in resolution.packages]
    files = dict(resolution.index_files)
    missing = [n for n in names if n not in files]
    if missing:
        files.update(SimpleIndex(index_url).many(missing))
    packages = []
    for pkg in resolution.packages:
        mine = [f for f in files[pkg.name] if file_version(f.filename) == pkg.version]
        if not mine:
            raise InputError(f"the index lists no files for {pkg.name}=={pkg.version}")
        strong = sorted((f for f in mine if f.sha256), key=lambda f: f.filename)
        for f in mine:
            if not f.sha256:
                algs = ", ".join(h.algorithm for h in f.hashes) or "none"
                progress(Level.WARN, f"{f.filename}: the index gives no sha256 ({algs}); left out")
        if not strong:
            raise PolicyRefusal(
                f"{pkg.name}=={pkg.version}: the index gives no sha256 for any file; "
                "pipvet does not lock md5, sha1 or sha224 hashes"
            )
        via = sorted(origins.get(pkg.name, set())) if pkg.requested else []
        packages.append(
            LockedPackage(
                name=pkg.name,
                version=pkg.version,
                files=tuple(strong),
                hashes=tuple(sorted({FileHash("sha256", f.sha256 or "") for f in strong}, key=str)),
                marker=pkg.marker,
                via=(*via, *pkg.parents),
                sdist_allowed=pkg.name in allowed,
            )
        )
    return packages


def _build_requirements(packages: list, sdists) -> list[tuple[str, str]]:
    """(requirement, sdist name) for the build requirements of each sdist to be built: the
    sdist is downloaded, checked against the index's sha256 and read as data (never run)."""
    import tempfile

    from pipvet.core.filenames import sdist_preference
    from pipvet.sources.index import download_with_digest
    from pipvet.sources.sdist import build_requires

    out: list[tuple[str, str]] = []
    by_name = {p.name: p for p in packages}
    with tempfile.TemporaryDirectory(prefix="pipvet-sdist-") as tmp:
        for name in sdists:
            candidates = [f for f in by_name[name].files if not f.is_wheel]
            candidates.sort(key=lambda f: sdist_preference(f.filename))
            sdist = candidates[0]
            got = download_with_digest(sdist, Path(tmp))
            if got.sha256 != sdist.sha256:
                raise PolicyRefusal(
                    f"{sdist.filename}: downloaded bytes (sha256 {got.sha256}) differ from the "
                    f"index's listed sha256 {sdist.sha256}; not reading it"
                )
            out += [(r, name) for r in build_requires(got.path)]
    return out
