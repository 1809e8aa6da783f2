"""Resolve requirements with pip's own resolver (or uv's), never running package code.

pipvet does not resolve by itself: it asks ``pip install --dry-run --ignore-installed --report``
(or ``uv pip compile`` when ``uv`` is installed) for wheels only (``--only-binary :all:``), so that
no ``setup.py`` or build backend runs while locking. Both run isolated from the user's
configuration: pip with ``--isolated``, uv with ``--no-config``, both in the environment of
``pipvet.sources.pip_env`` (no ``PIP_*``/``UV_*`` variable, no config file, no ``PYTHONPATH``).
A config file or variable could otherwise add an index or find-links location.

Allowed sdists follow pip's FormatControl: ``--no-binary NAME`` *forces* a source build of NAME
even when a wheel exists, so pipvet first resolves wheels only and adds ``--no-binary NAME`` only
for an allowed NAME that turned out to have no usable wheel.

The graph for ``# via`` and the markers come from each resolved distribution's Requires-Dist (in
pip's report; for uv, from the index's PEP 658 metadata files). A package's marker is the ``or``
over its incoming edges of (parent's marker ``and`` the edge's marker).

The processes themselves (finding uv, its command line and input, one run within the deadline)
are ``pipvet.sources.resolver_run``'s, a module light enough to start uv before ``packaging``
is loaded.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipvet.core.errors import InputError, PipvetError, PolicyRefusal
from pipvet.core.models import DistFile
from pipvet.sources.environment import pip_command
from pipvet.sources.resolver_run import (
    EarlyRun,
    ResolverRun,
    find_uv,
    requirements_text,
    start_uv,
    write_constraints,
)

if TYPE_CHECKING:  # loaded once uv runs (an index client is not needed to start it)
    from pipvet.sources.index import Prefetcher

MAX_CLAUSES = 16
_NO_DIST_RE = re.compile(r"No matching distribution found for (.+)")
_UV_NO_WHEEL_RE = re.compile(r"Wheels are required for `([^`]+)`")
_UV_NO_VERSIONS_RE = re.compile(r"there (?:are|is) no versions? of ([A-Za-z0-9._-]+)")
_UV_NO_WHEEL_RE2 = re.compile(r"Because ([A-Za-z0-9._-]+)(?:[=<>!~][^ ]*)? has no usable wheels")


@dataclass(frozen=True)
class ResolvedPackage:
    """One pinned package of a resolution."""

    name: NormalizedName
    version: Version
    requested: bool = False  # named by a top-level requirement
    parents: tuple[NormalizedName, ...] = ()  # packages whose dependencies pulled it in
    marker: str | None = None  # when it is needed; None means always
    from_sdist: bool = False  # resolved from an sdist (only for allowed names)
    requires: tuple[str, ...] = ()  # its Requires-Dist, as resolved


@dataclass(frozen=True)
class Resolution:
    """What the resolver chose, sorted by name."""

    packages: tuple[ResolvedPackage, ...]
    resolver: str  # "pip" or "uv"
    sdists: tuple[NormalizedName, ...] = ()  # names resolved from source (allowed by the user)
    index_files: dict[NormalizedName, list[DistFile]] = field(default_factory=dict, compare=False)
    reason: str = field(default="", compare=False)  # why this resolver ("uv not found", ...)

    def get(self, name: str) -> ResolvedPackage | None:
        key = canonicalize_name(name)
        return next((p for p in self.packages if p.name == key), None)


@dataclass(frozen=True)
class _Node:
    version: Version
    requires: tuple[str, ...]
    extras: frozenset[str] = frozenset()
    from_sdist: bool = False
    via_hint: tuple[str, ...] = ()  # uv's own annotation, used when metadata is unavailable


# -- environments ------------------------------------------------------------------------------


def marker_environment(python: str | None) -> dict[str, str]:
    """The PEP 508 marker environment of ``python`` (this interpreter when None), from the one
    interpreter probe (``pipvet.sources.environment.probe``)."""
    if python is None:
        return dict(default_environment())
    from pipvet.sources.environment import probe

    return dict(probe(python).markers)


# -- the graph ---------------------------------------------------------------------------------


def _applies(marker: Marker, env: dict[str, str], extras: Collection[str]) -> bool:
    if "extra" not in str(marker):
        return marker.evaluate(env)
    return any(marker.evaluate({**env, "extra": e}) for e in extras)


def _render(clauses: set[frozenset[str]]) -> str | None:
    if not clauses or frozenset() in clauses:
        return None
    parts = []
    for clause in sorted(clauses, key=lambda c: sorted(c)):
        atoms = [f"({a})" if " or " in a else a for a in sorted(clause)]
        text = " and ".join(atoms)
        parts.append(f"({text})" if len(clauses) > 1 and len(atoms) > 1 else text)
    return str(Marker(" or ".join(parts)))


def build_graph(
    top: Sequence[Requirement], nodes: dict[NormalizedName, _Node], env: dict[str, str]
) -> tuple[ResolvedPackage, ...]:
    """Parents and markers of every resolved node, from the top-level requirements and each
    node's Requires-Dist evaluated in ``env``."""
    from pipvet.sources.index import parsed_requirement

    marks: dict[str, set[frozenset[str]]] = {n: set() for n in nodes}
    extras: dict[str, set[str]] = {n: set(nodes[n].extras) for n in nodes}
    parents: dict[str, set[str]] = {n: set() for n in nodes}
    requested: set[str] = set()
    for req in top:
        key = canonicalize_name(req.name)
        if key not in nodes or (req.marker and not req.marker.evaluate(env)):
            continue
        requested.add(key)
        marks[key].add(frozenset([str(req.marker)]) if req.marker else frozenset())
        extras[key] |= set(req.extras)
    # only requirements naming another resolved node can be edges: most Requires-Dist lines
    # (extras' test and doc tools) name packages the set does not hold, and parsing is the cost
    parsed = {
        n: [parsed_requirement(r) for r in nodes[n].requires if _may_name(r, nodes, n)]
        for n in nodes
    }
    for _ in range(len(nodes) + 2):
        changed = False
        for name in sorted(nodes):
            for req in parsed[name]:
                if req is None:
                    continue
                child = canonicalize_name(req.name)
                if child not in nodes or child == name:
                    continue
                if req.marker and not _applies(req.marker, env, extras[name]):
                    continue
                edge = str(req.marker) if req.marker and "extra" not in str(req.marker) else None
                before = (len(marks[child]), len(extras[child]), len(parents[child]))
                parents[child].add(name)
                extras[child] |= set(req.extras)
                for clause in list(marks[name]):
                    marks[child].add(clause | {edge} if edge else clause)
                if frozenset() in marks[child] or len(marks[child]) > MAX_CLAUSES:
                    marks[child] = {frozenset()}
                changed |= before != (len(marks[child]), len(extras[child]), len(parents[child]))
        if not changed:
            break
    out = []
    for name in sorted(nodes):
        node = nodes[name]
        via = set(parents[name]) or {canonicalize_name(v) for v in node.via_hint}
        out.append(
            ResolvedPackage(
                name=name,  # type: ignore[arg-type]
                version=node.version,
                requested=name in requested,
                parents=tuple(sorted(via)),  # type: ignore[arg-type]
                marker=_render(marks[name]) if marks[name] else None,
                from_sdist=node.from_sdist,
                requires=node.requires,
            )
        )
    return tuple(out)


_REQ_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _may_name(text: str, nodes: Collection[str], own: str) -> bool:
    """Whether a Requires-Dist line may name a node other than ``own`` (its PEP 508 name is
    read without parsing the rest; a line that does not start with a name is parsed)."""
    m = _REQ_NAME.match(text)
    if m is None:
        return True
    key = canonicalize_name(m.group(1))
    return key in nodes and key != own


# -- running the resolvers ---------------------------------------------------------------------


def _tail(text: str, n: int = 8) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _run_pip(
    reqs: Sequence[str],
    index_url: str,
    sdists: Sequence[str],
    python: str | None,
    tmp: Path,
    constraints: Sequence[str] = (),
    extra_index_urls: Sequence[str] = (),
) -> tuple[subprocess.CompletedProcess[str], Path]:
    reqfile = tmp / "requirements.in"
    reqfile.write_text(requirements_text(reqs), encoding="utf-8")
    report = tmp / "report.json"
    cmd = pip_command(python, "install") if python else [sys.executable, "-m", "pip", "install"]
    cmd += [
        "--dry-run", "--ignore-installed", "--report", str(report),
        "--isolated", "--disable-pip-version-check", "--no-input", "--quiet",
        "--index-url", index_url, "--only-binary", ":all:",
    ]  # fmt: skip
    cmd += [f"--extra-index-url={url}" for url in extra_index_urls]
    cmd += [f"--no-binary={name}" for name in sdists]
    cmd += [*write_constraints(constraints, tmp), "-r", str(reqfile)]
    return ResolverRun(cmd, index_url).wait(), report


def _nodes_from_report(report: Path) -> tuple[dict[NormalizedName, _Node], dict[str, str]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    nodes: dict[NormalizedName, _Node] = {}
    for item in data.get("install", []):
        meta = item["metadata"]
        url = item.get("download_info", {}).get("url", "")
        nodes[canonicalize_name(meta["name"])] = _Node(
            version=Version(meta["version"]),
            requires=tuple(meta.get("requires_dist", []) or ()),
            extras=frozenset(item.get("requested_extras", []) or ()),
            from_sdist=not url.split("#")[0].endswith(".whl"),
        )
    env = data.get("environment") or dict(default_environment())
    return nodes, env


def parse_uv_output(text: str) -> dict[NormalizedName, tuple[Version, tuple[str, ...]]]:
    """Pins and ``# via`` parents from ``uv pip compile`` output (split annotations)."""
    pins: dict[NormalizedName, tuple[Version, tuple[str, ...]]] = {}
    current: NormalizedName | None = None
    via: list[str] = []

    def flush() -> None:
        if current is not None:
            pins[current] = (pins[current][0], tuple(v for v in via if not v.startswith("-")))

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not raw.startswith((" ", "#")) and "==" in line:
            flush()
            req = Requirement(line.split(" \\")[0])
            current = canonicalize_name(req.name)
            pins[current] = (Version(next(iter(req.specifier)).version), ())
            via = []
        elif line.startswith("# via") and current is not None:
            rest = line[len("# via") :].strip()
            if rest:
                via.append(rest)
        elif line.startswith("#   ") and current is not None:
            via.append(line[1:].strip())
    flush()
    return pins


def _no_wheel_name(stderr: str, tool: str) -> str | None:
    if tool == "uv":
        m = _UV_NO_WHEEL_RE.search(stderr) or _UV_NO_WHEEL_RE2.search(stderr)
        return canonicalize_name(m.group(1)) if m else None
    m = _NO_DIST_RE.search(stderr)
    if not m:
        return None
    from pipvet.sources.index import parsed_requirement

    req = parsed_requirement(m.group(1).split(" (from ")[0].strip())
    return canonicalize_name(req.name) if req else None


def _quarantine_refusal(name: str, index_url: str, reason: str | None) -> PolicyRefusal:
    safe = "".join(c if c.isprintable() else "?" for c in (reason or "")[:200])  # index text
    why = f": {safe}" if safe else ""
    return PolicyRefusal(f"{name} is quarantined on the index {index_url} (unsafe for use){why}")


def _quarantined(name: str, index_url: str) -> PolicyRefusal | None:
    from pipvet.sources.index import SimpleIndex

    try:
        status, reason = SimpleIndex(index_url).project_page(name).status
    except InputError:
        return None
    return _quarantine_refusal(name, index_url, reason) if status == "quarantined" else None


def _explain_missing(name: str, index_url: str, tool: str, stderr: str) -> PipvetError:
    from pipvet.sources.index import SimpleIndex

    try:
        page = SimpleIndex(index_url).project_page(name)
        files = page.files()
    except InputError as e:
        if "HTTP 404" not in e.message:
            return e  # the index itself is unreachable or broken
        files, page = [], None
    if page is not None and page.status[0] == "quarantined":  # PEP 792: no files are served
        return _quarantine_refusal(name, index_url, page.status[1])
    if not files:
        return InputError(f"{name} is not on the index {index_url}")
    if not any(f.is_wheel for f in files) or tool == "uv":
        return InputError(
            f"{name} has no wheel that fits this Python and platform, only a source distribution",
            hint=f"to build it from source, add --allow-sdist {name} "
            "(building an sdist runs its code on this machine)",
        )
    return InputError(f"no version of {name} fits the requirements:\n{_tail(stderr)}")


def resolve(
    requirements: Sequence[str],
    *,
    index_url: str,
    allow_sdist: Collection[str] = (),
    python: str | None = None,
    resolver: str = "auto",
    constraints: Sequence[str] = (),
    cache_dir: Path | None = None,
    extra_index_urls: Sequence[str] = (),
    before_sdist: Callable[[str], Sequence[str]] | None = None,
    on_start: Callable[[], None] | None = None,
    early: EarlyRun | None = None,
) -> Resolution:
    """Resolve ``requirements`` against ``index_url``: wheels only, except allowed sdists.

    ``python`` is the path of the interpreter to resolve for (this one when None).
    ``resolver`` is "pip", "uv" or "auto" (uv, pipvet's dependency; pip only where uv is not
    installed); the resolution says which and why (``reason``).
    ``constraints`` are requirement strings passed as a constraints file (``-c``).
    ``cache_dir`` keeps fetched project pages for as long as the index allows.
    ``extra_index_urls`` are more indexes the resolver may take versions from (the install
    gate refuses a name that more than one of them serves).
    ``before_sdist(name)`` is called before the resolver is let to build an allowed sdist's
    metadata (which runs its build backend and build dependencies): the install gate inspects
    the sdist there, refuses by raising, and returns constraints (``name==V``) that keep the
    resolver on the inspected version.
    ``on_start()`` is called once the resolver's process has started (pip's: just before), so a
    caller's work that needs no resolution runs beside it.
    ``early`` is uv's first run, started by the caller before the requirements were parsed: it
    is taken as the first run when its command line and input are exactly that run's, else
    stopped (``EarlyRun.adopt``); the caller closes it in any case.
    """
    top = []
    for text in requirements:
        try:
            top.append(Requirement(text))
        except InvalidRequirement as e:
            raise InputError(f"malformed requirement {text!r}: {e}") from None
    if not top:
        raise InputError("nothing to resolve: give requirements, -r FILE or --pyproject PATH")
    uv = find_uv() if resolver in ("auto", "uv") else None
    if resolver == "uv" and uv is None:
        raise InputError("--resolver uv: uv is not installed")
    if resolver not in ("auto", "uv", "pip"):
        raise InputError(f"unknown resolver {resolver!r} (use auto, pip or uv)")
    tool = "uv" if uv else "pip"
    reason = (
        f"--resolver {resolver}"
        if resolver != "auto"
        else ("the default" if uv else "uv not found")
    )
    allowed = {canonicalize_name(n) for n in allow_sdist}
    with tempfile.TemporaryDirectory(prefix="pipvet-resolve-") as tmp_name:
        tmp = Path(tmp_name)
        # uv starts first: the marker environment and the index client are made while it runs
        first = None
        if uv:
            first = start_uv(
                uv, [str(r) for r in top], index_url, (), python, tmp, constraints,
                extra_index_urls, early=early,
            )  # fmt: skip
        elif early is not None:
            early.stop()  # pip resolves: uv's early run is not this resolution's
        try:
            if on_start is not None:
                on_start()
            from pipvet.sources.index import Prefetcher, SimpleIndex

            env = marker_environment(python)
            prefetch = Prefetcher(SimpleIndex(index_url, cache_dir=cache_dir), env)
            try:  # from the first page asked for: an interruption must not leave one fetching
                for req in top:  # fetch pages while the resolver runs (their hashes are needed)
                    prefetch.add(req)
                resolution = _resolve(
                    top,
                    uv,
                    tool,
                    index_url,
                    allowed,
                    python,
                    constraints,
                    env,
                    prefetch,
                    tmp,
                    first,
                    extra_index_urls,
                    before_sdist,
                )
                return dataclasses.replace(resolution, reason=reason)
            except (KeyboardInterrupt, SystemExit):
                prefetch.abort()  # the first Ctrl-C ends the run: no page fetch keeps it alive
                raise
            finally:
                prefetch.close()
        finally:
            if first is not None:
                first.stop()  # never waited for (something above failed): it ends here


def _resolve(
    top: Sequence[Requirement],
    uv: str | None,
    tool: str,
    index_url: str,
    allowed: set[str],
    python: str | None,
    constraints: Sequence[str],
    env: dict[str, str],
    prefetch: Prefetcher,
    tmp: Path,
    first: ResolverRun | None,
    extra_index_urls: Sequence[str] = (),
    before_sdist: Callable[[str], Sequence[str]] | None = None,
) -> Resolution:
    """Run the resolver (``first``: uv's first run, already started) until it resolves, letting
    allowed sdists be built one by one; then the graph from the pins and their metadata."""
    from pipvet.sources.index import SimpleIndex

    sdists: list[str] = []
    constraints = list(constraints)
    reqs = [str(r) for r in top]
    while True:
        if uv:
            run = first or start_uv(
                uv, reqs, index_url, sdists, python, tmp, constraints, extra_index_urls
            )
            first = None
            proc = run.wait()
        else:
            proc, report = _run_pip(
                reqs, index_url, sdists, python, tmp, constraints, extra_index_urls
            )
        if proc.returncode == 0:
            break
        missing = _no_wheel_name(proc.stderr, tool)
        if missing and missing in allowed and missing not in sdists:
            if before_sdist is not None:  # inspected before its build code can run
                constraints += before_sdist(missing)
            sdists.append(missing)  # no usable wheel: build this one from source
            continue
        if missing:
            raise _explain_missing(missing, index_url, tool, proc.stderr)
        for m in _UV_NO_VERSIONS_RE.finditer(proc.stderr):  # quarantined: no files served
            refusal = _quarantined(canonicalize_name(m.group(1)), index_url)
            if refusal is not None:
                raise refusal
        try:  # an unreachable index reads better in one line than in a resolver's words
            SimpleIndex(index_url, timeout=10).project_files(top[0].name)
        except InputError as e:
            if "HTTP 404" not in e.message:
                raise
        raise InputError(f"{tool} could not resolve the requirements:\n{_tail(proc.stderr)}")
    if uv:
        return _finish_uv(proc.stdout, top, sdists, env, prefetch, bool(extra_index_urls))
    nodes, report_env = _nodes_from_report(report)
    files, _ = prefetch.finish(
        {n: node.version for n, node in nodes.items()},
        metadata=False,
        missing_ok=bool(extra_index_urls),
    )
    packages = build_graph(top, nodes, report_env)
    return Resolution(packages, "pip", tuple(sorted(sdists)), index_files=files)  # type: ignore[arg-type]


def _finish_uv(
    stdout: str,
    top: Sequence[Requirement],
    sdists: Sequence[str],
    env: dict[str, str],
    prefetch: Prefetcher,
    missing_ok: bool = False,
) -> Resolution:
    pins = parse_uv_output(stdout)
    files, requires = prefetch.finish(
        {n: v for n, (v, _) in pins.items()}, metadata=True, missing_ok=missing_ok
    )
    nodes = {
        name: _Node(
            version=version,
            requires=tuple(requires.get(name, ())),
            from_sdist=name in sdists,
            via_hint=via if name not in requires else (),
        )
        for name, (version, via) in pins.items()
    }
    packages = build_graph(top, nodes, env)  # type: ignore[arg-type]
    return Resolution(packages, "uv", tuple(sorted(sdists)), index_files=files)  # type: ignore[arg-type]


def parse_core_metadata(data: bytes) -> list[str]:
    """Requires-Dist lines of a METADATA / PKG-INFO file."""
    import email.parser

    msg = email.parser.BytesParser().parsebytes(data, headersonly=True)
    return [str(v) for v in msg.get_all("Requires-Dist") or []]
