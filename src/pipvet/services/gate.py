"""The install gate: names, index facts, known malware and code, checked before pip runs.

Every check takes typed arguments and returns a frozen ``GateReport``; nothing here prints.
``install`` (and ``lock``) call the checks in this order:

1. ``check_names``: each requested name, before anything is downloaded: typosquats of popular
   names, names the index does not know ("did you mean X (rank N)?"), PEP 792 status.
2. ``resolve_with_cooldown``: the resolution, leaving out versions uploaded less than
   ``min-release-age`` days ago (what was held back to which version is in the report).
3. ``check_index_facts``: for every package of the plan, transitive ones included: PEP 792
   status, yanked files, PEP 700 upload times (release age, cooldown of locked versions, new
   projects), number of releases, dependency-confusion style versions, sdist-only releases.
4. ``check_known_malware``: OSV ``MAL-`` records for any package of the set.
5. ``check_indexes``: a name served by more than one index in play is refused unless the
   policy pins it to one.
6. ``inspect_artifacts``: every staged file (after hash verification) read as data by the scan
   service (cached by sha256); ``malicious`` and ``suspicious`` block, ``risky`` warns.

What blocks and what warns comes from ``pipvet.core.policy``; an unexpired allowlist entry is
the only thing that lifts a block.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipvet.core.errors import InputError, PipvetError
from pipvet.core.models import DistFile, PackageId
from pipvet.core.names import confusion_version
from pipvet.core.policy import Policy
from pipvet.core.reports.gate import GateIssue, GateReport, HeldBack, MalwareHit

NEW_PROJECT_DAYS = 30
SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


def _today(now: dt.datetime | None) -> dt.date:
    return (now or dt.datetime.now(dt.timezone.utc)).date()


def _judge(
    policy: Policy,
    *,
    package: str,
    version: str | None,
    selectors: Sequence[str],
    message: str,
    now: dt.datetime | None,
    action: str | None = None,
    **where: object,
) -> GateIssue | None:
    """The issue as the policy treats it (None when ignored); allowlist entries lift blocks."""
    action = action or policy.action(selectors)
    if action not in ("block", "warn"):
        return None
    rule = next((s[5:] for s in selectors if s.startswith("rule:")), selectors[0])
    label = f"{package}=={version}" if version else package
    if action == "block":
        entry = policy.allowed(package, version, selectors, _today(now))
        if entry is not None:
            lifted = f"{entry.origin} ({entry.reason}, until {entry.expires.isoformat()})"
            return GateIssue(label, rule, "allowed", message, allowed_by=lifted, **where)  # type: ignore[arg-type]
    return GateIssue(label, rule, action, message, **where)  # type: ignore[arg-type]


def judge(
    policy: Policy,
    *,
    package: str,
    version: str | None,
    selectors: Sequence[str],
    message: str,
    now: dt.datetime | None = None,
    action: str | None = None,
    **where: object,
) -> GateIssue | None:
    """An issue as the policy treats it (None when ignored; an allowlist entry lifts a block):
    for callers outside this module (the package firewall, ``pipvet serve``)."""
    return _judge(
        policy,
        package=package,
        version=version,
        selectors=selectors,
        message=message,
        now=now,
        action=action,
        **where,
    )


def _issues(*items: GateIssue | None) -> tuple[GateIssue, ...]:
    return tuple(i for i in items if i is not None)


# -- 1. names ----------------------------------------------------------------------------------


def requirement_names(requirements: Iterable[str]) -> list[tuple[str, bool]]:
    """(normalised name, pinned exactly with ``==``) of each requirement string."""
    out = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as e:
            raise InputError(f"malformed requirement {text!r}: {e}") from None
        exact = any(s.operator in ("==", "===") and "*" not in s.version for s in req.specifier)
        out.append((canonicalize_name(req.name), exact))
    return out


def _name_api():
    from pipvet.core import names

    return names


def check_names(
    names: Iterable[str],
    *,
    index_url: str,
    policy: Policy,
    now: dt.datetime | None = None,
    requested: bool = True,
    index=None,  # a SimpleIndex to reuse (its pages); made from index_url when None
    extra_index_urls: Sequence[str] = (),
) -> GateReport:
    """Typosquats, names not on the index, and PEP 792 status of ``names``, before anything
    is downloaded. ``requested``: the user typed these names (a missing one gets a suggestion,
    a typosquat is ``gate.typosquat``); otherwise a package's metadata named them (a typosquat
    is ``gate.typosquat-dependency``: not a slip of the user's fingers, and its code is
    inspected like any other)."""
    from pipvet.sources.index import SimpleIndex

    api = _name_api()
    issues: list[GateIssue | None] = []
    keys = sorted({canonicalize_name(n) for n in names})
    index = index or SimpleIndex(index_url)
    statuses = project_statuses(index, keys)
    for url in extra_index_urls:  # a name missing here may come from another index in play
        lost = [n for n in keys if statuses[n][0] == "missing"]
        if lost:
            statuses.update(project_statuses(SimpleIndex(url), lost))
    for name in keys:
        status, reason = statuses[name]
        if status == "missing":  # nothing to install: the suggestion is the whole answer
            msg = f"{name} is not on the index {index.url}"
            if requested:
                hint = api.suggest(name)
                if hint.typosquat_of:
                    rank = f" (rank {hint.rank})" if hint.rank else ""
                    msg += f": did you mean {hint.typosquat_of}{rank}?"
            issues.append(
                _judge(
                    policy,
                    package=name,
                    version=None,
                    selectors=["rule:gate.not-on-index", "category:names"],
                    message=msg,
                    now=now,
                )
            )
            continue
        check = api.check_name(name)
        if check.typosquat_of:
            rank = f" (rank {check.rank})" if check.rank else ""
            why = check.reason or f"did you mean {check.typosquat_of}{rank}?"
            issues.append(
                _judge(
                    policy,
                    package=name,
                    version=None,
                    selectors=[
                        "rule:gate.typosquat" if requested else "rule:gate.typosquat-dependency",
                        "category:names",
                    ],
                    message=f"{name} looks like a typosquat of {check.typosquat_of}: {why}",
                    now=now,
                )
            )
        issues.append(_status_issue(policy, name, status, reason, now))
    return GateReport(issues=_issues(*issues))


def project_statuses(index, names: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """(PEP 792 status or "missing", reason) of each project, fetched concurrently (the
    first Ctrl-C hangs up on every request in flight)."""
    from pipvet.sources.index import concurrent_map

    def one(name: str) -> tuple[str, str | None]:
        try:
            return index.project_page(name).status
        except InputError as e:
            if "HTTP 404" in e.message:
                return "missing", None
            raise

    if not names:
        return {}
    return dict(zip(names, concurrent_map(one, names, 16), strict=True))


def _status_issue(
    policy: Policy, name: str, status: str, reason: str | None, now: dt.datetime | None
) -> GateIssue | None:
    if status == "active":
        return None
    why = f": {_clean(reason)}" if reason else ""
    if status == "quarantined":
        msg = f"{name} is quarantined on the index (unsafe for use, e.g. malware){why}"
    elif status == "archived":
        msg = f"{name} is archived on the index: no more updates are expected{why}"
    elif status == "deprecated":
        msg = f"{name} is deprecated on the index{why}"
    else:
        msg = f"{name} has an unknown project status {_clean(status)!r} on the index{why}"
        status = "deprecated"  # an unknown status warns like deprecated
    return _judge(
        policy,
        package=name,
        version=None,
        selectors=[f"rule:gate.{status}", "category:index"],
        message=msg,
        now=now,
    )


# -- 2. cooldown -------------------------------------------------------------------------------


def parse_time(text: str | None) -> dt.datetime | None:
    """A PEP 700 ``upload-time`` (ISO 8601, UTC) as an aware datetime; None when unreadable."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", value)
    if m and m.group(2):  # Python < 3.11 takes at most 6 fraction digits
        value = m.group(1) + m.group(2)[:7] + m.group(3)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def release_times(files: Iterable[DistFile]) -> dict[Version, dt.datetime]:
    """The first upload time of each version among a project's files (PEP 700)."""
    from pipvet.sources.index import file_version

    out: dict[Version, dt.datetime] = {}
    for f in files:
        v = file_version(f)
        when = parse_time(f.upload_time)
        if v is None or when is None:
            continue
        if v not in out or when < out[v]:
            out[v] = when
    return out


@dataclass(frozen=True)
class CooldownResult:
    resolution: object  # pipvet.sources.resolver.Resolution
    held_back: tuple[HeldBack, ...] = ()
    notes: tuple[str, ...] = ()


def resolve_with_cooldown(
    requirements: Sequence[str],
    *,
    index_url: str,
    min_age_days: float,
    extra_index_urls: Sequence[str] = (),
    allow_sdist: Iterable[str] = (),
    python: str | None = None,
    now: dt.datetime | None = None,
    max_rounds: int = 6,
    before_sdist=None,
    constraints: Sequence[str] = (),
    **resolve_options: object,  # resolver=, cache_dir= for pipvet.sources.resolver.resolve
) -> CooldownResult:
    """Resolve, leaving out every version uploaded less than ``min_age_days`` ago (as uv's
    ``--exclude-newer`` does): a pin that is too new gets constraints ``name!=V`` for each too
    new version of it, and the resolver runs again, until no pin is too new."""
    from pipvet.sources.index import SimpleIndex
    from pipvet.sources.resolver import resolve

    now = now or dt.datetime.now(dt.timezone.utc)
    cutoff = now - dt.timedelta(days=min_age_days)
    index = SimpleIndex(index_url)
    given = list(constraints)
    constraints: dict[str, list[str]] = {}  # type: ignore[no-redef]
    first: dict[str, Version] = {}
    newest_time: dict[str, dt.datetime] = {}
    no_time: set[str] = set()
    resolution = None
    for _round in range(max_rounds):
        flat = given + [c for cs in constraints.values() for c in cs]
        resolution = resolve(
            requirements,
            index_url=index_url,
            allow_sdist=allow_sdist,
            python=python,
            constraints=flat,
            extra_index_urls=extra_index_urls,
            before_sdist=before_sdist,
            **resolve_options,  # type: ignore[arg-type]
        )
        if not first:
            first = {p.name: p.version for p in resolution.packages}
        too_new = []
        for p in resolution.packages:
            files = (resolution.index_files or {}).get(p.name, [])
            times = release_times(files)
            when = times.get(p.version)
            if when is None:
                if files and not any(f.upload_time for f in files):
                    no_time.add(p.name)
                continue
            if when > cutoff:
                too_new.append(p.name)
        if not too_new or not min_age_days:
            break
        for name in too_new:
            times = release_times(index.project_files(name))
            recent = sorted(v for v, t in times.items() if t > cutoff)
            newest_time[name] = max(times[v] for v in recent)
            constraints[name] = [f"{name}!={v}" for v in recent]
    else:
        raise InputError(
            f"the cooldown of {min_age_days:g} days could not be met after {max_rounds} rounds"
        )
    assert resolution is not None
    held = []
    for p in resolution.packages:
        old = first.get(p.name)
        if p.name in constraints and old is not None and old != p.version:
            when = newest_time[p.name].astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            held.append(HeldBack(p.name, str(old), str(p.version), when))
    notes = ()
    if no_time:
        notes = (
            "the index gives no upload times (PEP 700) for "
            + ", ".join(sorted(no_time))
            + ": the cooldown cannot apply to them",
        )
    return CooldownResult(resolution, tuple(held), notes)


# -- 3. index facts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedPackage:
    """What the facts check needs of one planned package."""

    name: str
    version: Version
    file: DistFile | None = None  # the file chosen for the target
    pinned_exactly: bool = False  # ``==`` by the user, or from a lock
    from_lock: bool = False


def check_index_facts(
    packages: Sequence[PlannedPackage],
    *,
    index_url: str,
    policy: Policy,
    min_age_days: float | None = None,
    now: dt.datetime | None = None,
    index=None,  # a SimpleIndex to reuse (its pages); made from index_url when None
) -> GateReport:
    """PEP 792 status, yanked files, release age and cooldown, releases, 999.x versions and
    sdist-only releases of every planned package (one project page each, fetched concurrently)."""
    from pipvet.sources.index import SimpleIndex, concurrent_map

    now = now or dt.datetime.now(dt.timezone.utc)
    index = index or SimpleIndex(index_url)
    if not packages:
        return GateReport()
    names = [p.name for p in packages]
    pages = concurrent_map(index.project_page, names, 16)
    issues: list[GateIssue | None] = []
    notes: list[str] = []
    for pkg, page in zip(packages, pages, strict=True):
        name, version = pkg.name, str(pkg.version)
        status, reason = page.status
        issues.append(_status_issue(policy, name, status, reason, now))
        mine = page.files(pkg.version)  # that release's rows only (a page can list 15,000)
        chosen = pkg.file or next(iter(mine), None)

        def judge(rule: str, message: str, name=name, version=version, chosen=chosen) -> None:
            issues.append(
                _judge(
                    policy,
                    package=name,
                    version=version,
                    selectors=[f"rule:{rule}", "category:index"],
                    message=message,
                    now=now,
                    file=chosen.filename if chosen else "",
                )
            )

        if chosen is not None and chosen.yanked:
            if pkg.pinned_exactly:
                judge("gate.yanked-pinned", f"{name}=={version} is yanked (pinned exactly)")
            else:
                judge(
                    "gate.yanked",
                    f"{name}=={version} is yanked and was not pinned exactly (pip would skip it)",
                )
        when = release_times(mine).get(pkg.version)
        if min_age_days:
            if when is None:
                judge(
                    "gate.no-upload-time",
                    f"{name}=={version}: the index gives no upload time (PEP 700), "
                    "so the cooldown cannot apply",
                )
            elif when > now - dt.timedelta(days=min_age_days):
                judge("gate.cooldown", cooldown_message(name, version, when, min_age_days, now))
        releases = len(page.versions)
        first = parse_time(page.data.earliest_upload() or None)
        if first is not None and now - first < dt.timedelta(days=NEW_PROJECT_DAYS):
            judge(
                "gate.new-project",
                f"{name} is new: its first upload was {_age(now - first)} ago "
                f"({releases} release(s))",
            )
        if releases == 1:
            judge("gate.few-releases", f"{name} has a single release")
        if confusion_version(pkg.version, name):
            judge(
                "gate.confusion-version",
                f"{name}=={version} has a dependency-confusion style version number",
            )
        if mine and not any(f.is_wheel for f in mine):
            judge("gate.sdist-only", f"{name}=={version} ships only an sdist (built at install)")
    return GateReport(issues=_issues(*issues), notes=tuple(notes))


def cooldown_message(
    name: str, version: str, when: dt.datetime, min_age_days: float, now: dt.datetime
) -> str:
    """What the ``gate.cooldown`` rule says of a version uploaded at ``when``."""
    return (
        f"{name}=={version} was uploaded {_age(now - when)} ago, under the cooldown of "
        f"{min_age_days:g} days"
    )


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{max(hours, 0):.0f} hour(s)"
    return f"{hours / 24:.0f} days"


# -- 4. known malware --------------------------------------------------------------------------


def check_known_malware(
    packages: Iterable[PackageId],
    *,
    policy: Policy,
    db_path: Path | None = None,
    now: dt.datetime | None = None,
) -> GateReport:
    """OSV ``MAL-`` records for any of ``packages`` (transitive ones included): blocks. Without
    a readable advisory index the check cannot vouch for anything: that blocks too."""
    from pipvet.services.audit import known_malware
    from pipvet.sources.advisories.db import AdvisoryDbError

    pkgs = sorted(set(packages))
    try:
        found = known_malware(pkgs, db_path=db_path)
    except AdvisoryDbError as exc:
        issue = _judge(
            policy,
            package="(all)",
            version=None,
            selectors=["rule:gate.known-malware", "category:malware"],
            message=f"known-malware check could not run: {exc.message}",
            now=now,
        )
        return GateReport(issues=_issues(issue))
    issues = []
    hits = []
    for f in found:
        hits.append(MalwareHit(f.package, f.id, f.summary))
        summary = f": {_clean(f.summary)}" if f.summary else ""
        issues.append(
            _judge(
                policy,
                package=f.package.name,
                version=str(f.package.version),
                selectors=["rule:gate.known-malware", "category:malware"],
                message=f"{f.package} is known malware ({f.id}){summary}",
                now=now,
            )
        )
    return GateReport(issues=_issues(*issues), malware=tuple(hits))


# -- 5. more than one index --------------------------------------------------------------------


def config_indexes(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> list[tuple[str, str]]:
    """Indexes that pip's or uv's configuration (variables and files) names, with where: pipvet
    ignores them, and says so, because an extra index is how dependency confusion happens."""
    import configparser
    import os

    env = dict(os.environ if environ is None else environ)
    found: list[tuple[str, str]] = []
    for var in (
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_INDEX",
        "UV_DEFAULT_INDEX",
        "UV_FIND_LINKS",
    ):
        for url in (env.get(var) or "").split():
            found.append((url, var))
    from pipvet.paths import home_dir

    home = Path(env["HOME"]) if env.get("HOME") else home_dir()
    pip_files = [Path("/etc/pip.conf")]
    if env.get("XDG_CONFIG_HOME"):
        pip_files.append(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf")
    if home is not None:
        if not env.get("XDG_CONFIG_HOME"):
            pip_files.append(home / ".config" / "pip" / "pip.conf")
        pip_files.append(home / ".pip" / "pip.conf")
    if env.get("PIP_CONFIG_FILE") and env["PIP_CONFIG_FILE"] != os.devnull:
        pip_files.append(Path(env["PIP_CONFIG_FILE"]))
    if env.get("VIRTUAL_ENV"):
        pip_files.append(Path(env["VIRTUAL_ENV"]) / "pip.conf")
    for path in pip_files:
        if not path.is_file():
            continue
        cp = configparser.ConfigParser(interpolation=None)
        try:
            cp.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in cp.sections():
            for key in ("index-url", "extra-index-url", "find-links"):
                for url in (cp.get(section, key, fallback="") or "").split():
                    found.append((url, f"{path} [{section}] {key}"))
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else None
    if xdg is None and home is not None:
        xdg = home / ".config"
    uv_files = [xdg / "uv" / "uv.toml"] if xdg is not None else []
    for path in (*uv_files, Path(cwd or Path.cwd()) / "uv.toml"):
        found += _uv_toml_indexes(path, ())
    found += _uv_toml_indexes(Path(cwd or Path.cwd()) / "pyproject.toml", ("tool", "uv"))
    return found


def _uv_toml_indexes(path: Path, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    if not path.is_file():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    table: object = doc
    for k in keys:
        table = table.get(k, {}) if isinstance(table, dict) else {}
    if not isinstance(table, dict):
        return []
    out = []
    for key in ("index-url", "extra-index-url", "find-links"):
        value = table.get(key)
        for url in [value] if isinstance(value, str) else value or []:
            if isinstance(url, str):
                out.append((url, f"{path} {key}"))
    for entry in table.get("index", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            out.append((entry["url"], f"{path} [[index]]"))
    return out


def check_indexes(
    names: Iterable[str],
    *,
    index_url: str,
    extra_index_urls: Sequence[str],
    policy: Policy,
    now: dt.datetime | None = None,
    config: Sequence[tuple[str, str]] = (),
) -> tuple[GateReport, dict[str, str]]:
    """Which index serves each name when more than one is in play.

    Returns the report (a name served by several indexes is blocked unless ``index-pins``
    names one of them; each index from pip's or uv's configuration is said, and ignored) and
    ``{name: index URL}`` for every name.
    """
    from pipvet.sources.index import SimpleIndex, concurrent_map

    notes = []
    if config:
        wheres = ", ".join(
            dict.fromkeys(_clean(w.split(" [")[0].split(" ")[0]) for _u, w in config)
        )
        urls_ = ", ".join(dict.fromkeys(_clean(u) for u, _w in config))
        notes.append(
            f"pip's or uv's configuration names other indexes ({urls_}; in {wheres}): "
            "pipvet ignores them and uses only " + " and ".join([index_url, *extra_index_urls])
        )
    keys = sorted({canonicalize_name(n) for n in names})
    urls = list(dict.fromkeys([_slash(index_url), *(_slash(u) for u in extra_index_urls)]))
    origin = {n: urls[0] for n in keys}
    if len(urls) < 2:
        return GateReport(notes=tuple(notes)), origin
    notes.append("more than one index is in play: " + ", ".join(urls))

    def serves(pair: tuple[str, str]) -> bool:
        url, name = pair
        try:
            return bool(SimpleIndex(url).project_files(name))
        except InputError as e:
            if "HTTP 404" in e.message:
                return False
            raise

    pairs = [(u, n) for n in keys for u in urls]
    answers = dict(zip(pairs, concurrent_map(serves, pairs, 16), strict=True))
    issues: list[GateIssue | None] = []
    for name in keys:
        serving = [u for u in urls if answers[(u, name)]]
        pinned = policy.index_pins.get(name)
        if pinned is not None:
            origin[name] = _slash(pinned)
            if _slash(pinned) not in serving:
                issues.append(
                    _judge(
                        policy,
                        package=name,
                        version=None,
                        selectors=["rule:gate.multi-index", "category:index"],
                        message=f"{name} is pinned to {pinned} by the policy, "
                        "but that index does not serve it",
                        now=now,
                        action="block",
                    )
                )
            continue
        if serving:
            origin[name] = serving[0]
        if len(serving) > 1:
            issues.append(
                _judge(
                    policy,
                    package=name,
                    version=None,
                    selectors=["rule:gate.multi-index", "category:index"],
                    message=f"{name} is served by more than one index ({', '.join(serving)}): "
                    "dependency confusion is possible; pin it to one index with "
                    f'index-pins = {{ {name} = "URL" }} in the policy',
                    now=now,
                )
            )
    return GateReport(issues=_issues(*issues), notes=tuple(notes)), origin


def pin_constraints(
    pins: Mapping[str, str], *, index_url: str, extra_index_urls: Sequence[str]
) -> list[str]:
    """Constraints that keep each name of ``index-pins`` to the versions its pinned index
    serves (``name!=V`` for every version only another index in play has)."""
    from pipvet.sources.index import SimpleIndex, file_version

    urls = list(dict.fromkeys([_slash(index_url), *(_slash(u) for u in extra_index_urls)]))
    if len(urls) < 2:
        return []
    out = []
    for name, pinned in sorted(pins.items()):
        versions: dict[str, set[str]] = {}
        for url in urls:
            try:
                files = SimpleIndex(url).project_files(name)
            except InputError as e:
                if "HTTP 404" in e.message:
                    files = []
                else:
                    raise
            versions[url] = {str(v) for f in files if (v := file_version(f)) is not None}
        mine = versions.get(_slash(pinned), set())
        others = set().union(*(v for u, v in versions.items() if u != _slash(pinned)))
        out += [f"{name}!={v}" for v in sorted(others - mine)]
    return out


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# -- 6. code inspection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """A downloaded, hash-verified file to inspect."""

    name: str
    version: str
    path: Path


def inspect_artifacts(
    artifacts: Sequence[Artifact],
    *,
    policy: Policy,
    jobs: int | None = None,
    use_cache: bool = True,
    now: dt.datetime | None = None,
) -> GateReport:
    """Scan every artifact as data (results cached by sha256) and judge each verdict and
    finding by the policy. An artifact the scanner cannot read blocks (fail closed)."""
    from pipvet.services.scan import default_jobs, scan_files

    if not artifacts:
        return GateReport()
    jobs = jobs or min(default_jobs(), len(artifacts))
    paths = [a.path for a in artifacts]
    try:
        reports = scan_files(paths, jobs=jobs, use_cache=use_cache)
        by_path = dict(zip(paths, reports, strict=True))
        errors: dict[Path, str] = {}
    except InputError:
        by_path, errors = {}, {}
        for p in paths:  # find which one could not be read
            try:
                by_path[p] = scan_files([p], use_cache=use_cache)[0]
            except InputError as e:
                errors[p] = e.message
    issues: list[GateIssue | None] = []
    for a in artifacts:
        if a.path in errors:
            issues.append(
                _judge(
                    policy,
                    package=a.name,
                    version=a.version,
                    selectors=["rule:gate.scan-error", "category:scan"],
                    message=f"{a.path.name} could not be read: {_clean(errors[a.path])}",
                    now=now,
                    action="block",
                    file=a.path.name,
                )
            )
            continue
        issues.extend(_judge_scan(a, by_path[a.path], policy, now))
    return GateReport(
        issues=_issues(*issues), scans=tuple(by_path[p] for p in paths if p in by_path)
    )


def _judge_scan(a: Artifact, report, policy: Policy, now) -> list[GateIssue | None]:
    """The artifact's verdict as the policy treats it, plus any finding a rule or category
    selector of the policy names explicitly."""
    out: list[GateIssue | None] = []
    findings = sorted(
        report.findings,
        key=lambda f: -SEVERITY_ORDER.index(f.severity) if f.severity in SEVERITY_ORDER else 0,
    )
    explicit_blocks = _explicit_blocks(policy, findings)
    verdict_action = policy.action([report.verdict]) if report.verdict != "clean" else None
    selectors_all = (
        [report.verdict]
        + [f"rule:{f.rule}" for f in findings]
        + [f"category:{f.category}" for f in findings]
    )
    if explicit_blocks:
        for f in explicit_blocks[:3]:
            out.append(
                _scan_issue(
                    a,
                    report,
                    f,
                    policy,
                    now,
                    "block",
                    [f"rule:{f.rule}", f"category:{f.category}", *selectors_all],
                )
            )
    elif verdict_action in ("block", "warn"):
        top = [f for f in findings if f.severity in ("high", "critical")] or findings[:1]
        limit = 3 if verdict_action == "block" else 1
        for f in top[:limit]:
            out.append(_scan_issue(a, report, f, policy, now, verdict_action, selectors_all))
        if not top:
            out.append(
                _judge(
                    policy,
                    package=a.name,
                    version=a.version,
                    selectors=selectors_all,
                    message=f"{a.path.name} rated {report.verdict} (score {report.score})",
                    now=now,
                    action=verdict_action,
                    file=a.path.name,
                )
            )
    return out


def _explicit_blocks(policy: Policy, findings) -> list:
    """The findings a rule or category selector of the policy blocks (the rule's word first)."""
    return [
        f
        for f in findings
        if (policy.explicit(f"rule:{f.rule}") or policy.explicit(f"category:{f.category}"))
        == "block"
    ]


def _scan_issue(a: Artifact, report, f, policy, now, action: str, selectors) -> GateIssue | None:
    return _judge(
        policy,
        package=a.name,
        version=a.version,
        selectors=[f"rule:{f.rule}", *selectors],
        message=f"{report.verdict} (score {report.score}): {_clean(f.message)}",
        now=now,
        action=action,
        file=a.path.name,
        path=_clean(f.path),
        line=f.line,
    )


# -- long-standing code in an established project ----------------------------------------------

LONG_STANDING_DAYS = 90  # how much older the release compared with must be


def review_long_standing(
    report: GateReport,
    artifacts: Sequence[Artifact],
    *,
    policy: Policy,
    index_for: Callable[[str], object],
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> GateReport:
    """What an update changes, for a ``suspicious`` verdict of a popular project: when the code
    that makes it suspicious was already in a release of the same project uploaded at least
    ``LONG_STANDING_DAYS`` before this one, it is long-standing behaviour of the project, not
    something this release brings (a hijacked update, or malware, brings code its project's
    earlier releases did not have), and the block becomes what ``gate.long-standing`` says (a
    warning by default). The earlier release's file (same kind, same tags when there is one) is
    downloaded from the index that serves the package (``index_for(name)``, a
    ``SimpleIndex``), checked against the index's sha256 and scanned like the candidate.

    Never for ``malicious``, for a block a rule or category selector of the policy asks for, or
    for a project off the popular list; and only when every finding that counts towards the
    verdict (medium and up, with what shares a file with one) is in the earlier release: same
    rule, same file, same code (whitespace and a trailing comment aside), no lower severity,
    and the files that hold them name no host (URL or IP address) the earlier ones did not.
    Anything that cannot be compared (no upload times, no release old enough, a download that
    fails) leaves the block as it is (fail closed), with a note when something failed."""
    action = policy.action(["rule:gate.long-standing"])
    if action == "block" or not report.blocks:
        return report
    from pipvet.core.names import default_index

    scans = {s.filename: s for s in report.scans}
    popular = default_index().rank  # normalised popular name -> rank
    replace: dict[GateIssue, GateIssue | None] = {}
    notes: list[str] = []
    for a in artifacts:
        scan = scans.get(a.path.name)
        if scan is None or scan.verdict != "suspicious":
            continue
        label = f"{a.name}=={a.version}"
        mine = [
            i
            for i in report.blocks
            if i.package == label and i.file == a.path.name and not i.rule.startswith("gate.")
        ]
        if not mine or canonicalize_name(a.name) not in popular:
            continue
        if _explicit_blocks(policy, scan.findings):
            continue
        try:
            earlier, note = _compare_earlier(index_for(a.name), a, scan, now, progress)
        except (PipvetError, OSError) as exc:  # a hash that does not match, the network
            text = exc.message if isinstance(exc, PipvetError) else str(exc)
            notes.append(
                f"{label}: could not compare with an earlier release ({_clean(text)}); the "
                "block stands"
            )
            continue
        if note:
            notes.append(note)
        if earlier is None:
            continue
        for i in mine:
            replace[i] = (
                GateIssue(
                    i.package,
                    i.rule,
                    action,
                    f"{i.message.rstrip('.')}; {earlier}",
                    i.file,
                    i.path,
                    i.line,
                )
                if action in ("warn", "block")
                else None
            )
    if not replace and not notes:
        return report
    issues = tuple(kept for kept in (replace.get(i, i) for i in report.issues) if kept is not None)
    return dataclasses.replace(
        report, issues=issues, notes=tuple(dict.fromkeys(report.notes + tuple(notes)))
    )


def _compare_earlier(
    index, a: Artifact, scan, now: dt.datetime | None, progress: Callable[[str], None] | None
) -> tuple[str | None, str | None]:
    """(the words for a block that an earlier release, uploaded ``LONG_STANDING_DAYS`` or more
    before ``a``'s, already had, or None; a note when the code is the same but the files that
    hold it name new hosts)."""
    import tempfile

    from pipvet.core.analysis.model import SEVERITIES
    from pipvet.core.analysis.verdict import judge as verdict_of
    from pipvet.core.diff import comparison_key, findings_not_in, normalize_path
    from pipvet.services.scan import scan_files
    from pipvet.sources.scan_targets import fetch_verified

    page = index.project_page(a.name)
    files = page.files()
    times = release_times(files)
    when = times.get(Version(a.version))
    if when is None:
        return None, None  # no PEP 700 upload time: "how long" cannot be told
    cutoff = when - dt.timedelta(days=LONG_STANDING_DAYS)
    older = sorted(
        (v for v, t in times.items() if v < Version(a.version) and t <= cutoff), reverse=True
    )
    for version in older:
        chosen = _same_kind(a.path.name, [f for f in page.files(version) if not f.yanked])
        if chosen is not None:
            break
    else:
        return None, None
    if progress is not None:  # a large project's earlier file may take a minute to inspect
        progress(
            f"{a.name}=={a.version} is suspicious: comparing it with {a.name} {version} "
            f"(uploaded {times[version].date().isoformat()}) to see what this update brings"
        )
    with tempfile.TemporaryDirectory(prefix="pipvet-earlier-") as tmp:
        path = fetch_verified(index, chosen, Path(tmp), chosen.hashes, "the index")
        old = scan_files([path], jobs=1)[0]
        if old.verdict not in ("suspicious", "malicious"):
            return None, None
        new_only = findings_not_in(
            scan.findings, scan.kind == "sdist", old.findings, old.kind == "sdist"
        )
        medium = SEVERITIES.index("medium")
        touched = {f.path for f in new_only if SEVERITIES.index(f.severity) >= medium}
        counted = [f for f in scan.findings if f.path in touched] + [
            f for f in new_only if f.path not in touched
        ]
        # every finding counts at its full severity here (none is taken for a test file's)
        verdict, _ = verdict_of(counted, package_code=frozenset(f.path for f in counted))
        if verdict in ("suspicious", "malicious"):
            return None, None
        # the same code pointed somewhere else (an updater's address) is not the same behaviour:
        # the files holding what blocks must name no host the earlier release's did not
        high = SEVERITIES.index("high")
        sdist = scan.kind == "sdist"
        holding = {  # the files with what blocks, lined up between the two (``normalize_path``)
            comparison_key(normalize_path(f.path, sdist))
            for f in scan.findings
            if SEVERITIES.index(f.severity) >= high
        }
        added = _hosts(a.path, sdist, holding) - _hosts(path, old.kind == "sdist", holding)
    if added:
        shown = ", ".join(_clean(h, 60) for h in sorted(added)[:3])
        return None, (
            f"{a.name}=={a.version}: the code that blocks was in {a.name} {version} too, but the "
            f"files that hold it name hosts that release did not ({shown}); the block stands"
        )
    days = (when - times[version]).days
    return (
        f"long-standing: the same code was in {a.name} {version} (uploaded "
        f"{times[version].date().isoformat()}, {days} days before this release), so this "
        "update does not bring it"
    ), None


_HOST = re.compile(  # a host name of an address written in (no template: "https://{host}/")
    r"(?:https?|ftps?|wss?)://(?:[^\s/'\"<>@]*@)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)"
    r"|\b(\d{1,3}(?:\.\d{1,3}){3})\b",
    re.I,
)


def _hosts(path: Path, sdist: bool, files: set[str]) -> set[str]:
    """Host names and IP addresses written in the members of an artifact (read as data) whose
    lined-up path (``comparison_key(normalize_path(...))``) is one of ``files``."""
    from pipvet.core.analysis.archive import read_artifact
    from pipvet.core.diff import comparison_key, normalize_path

    out: set[str] = set()
    for m in read_artifact(path).members:
        if comparison_key(normalize_path(m.path, sdist)) in files:
            text = m.data.decode("utf-8", "replace")
            out |= {(host or ip).lower().rstrip(".") for host, ip in _HOST.findall(text)}
    return out


def _same_kind(filename: str, files: Sequence[DistFile]) -> DistFile | None:
    """The file of another release to compare ``filename`` with: the sdist for an sdist; for a
    wheel, the wheel with the same tags, else a pure one, else any."""
    from pipvet.core.filenames import is_pure_wheel, parse_filename

    if not filename.endswith(".whl"):
        return next((f for f in files if not f.is_wheel and f.sha256), None)
    tags = (parse_filename(filename) or (None, None, None))[2]
    wheels = [f for f in files if f.is_wheel and f.sha256]
    same = [f for f in wheels if (parse_filename(f.filename) or (None, None, None))[2] == tags]
    pure = [f for f in wheels if is_pure_wheel(f.filename)]
    return next(iter(same or pure or wheels), None)


def inspect_sdist_candidate(
    name: str,
    *,
    index_url: str,
    policy: Policy,
    staging: Path,
    specifier: str = "",
    python: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[GateReport, str | None]:
    """Before a resolver may build an allowed sdist's metadata (which runs its build backend):
    download the sdist it would try first (the newest one the specifier allows, not yanked),
    check it against the index's sha256, resolve its ``[build-system].requires`` (wheels
    only) and inspect all of them. Returns the report and the constraint ``name==V`` that keeps
    the resolver on the inspected version (None when there is no sdist to try)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from pipvet.sources.index import SimpleIndex, download_with_digest, file_version
    from pipvet.sources.resolver import resolve
    from pipvet.sources.sdist import build_requires

    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        spec = SpecifierSet()
    sdists = [
        (v, f)
        for f in SimpleIndex(index_url).project_files(name)
        if not f.is_wheel and not f.yanked and (v := file_version(f)) is not None
    ]
    sdists = [(v, f) for v, f in sdists if spec.contains(v, prereleases=True)]
    final = [(v, f) for v, f in sdists if not v.is_prerelease] or sdists
    if not final:
        return GateReport(), None
    version, file = max(final, key=lambda vf: (vf[0], vf[1].filename.endswith(".tar.gz")))
    got = download_with_digest(file, staging)
    if file.sha256 and got.sha256 != file.sha256:
        got.path.unlink(missing_ok=True)
        issue = _judge(
            policy,
            package=name,
            version=str(version),
            selectors=["rule:gate.scan-error", "category:scan"],
            message=f"{file.filename}: the bytes do not match the index's sha256",
            now=now,
            action="block",
            file=file.filename,
        )
        return GateReport(issues=_issues(issue)), f"{name}=={version}"
    artifacts = [Artifact(name, str(version), got.path)]
    requires = build_requires(got.path)
    if requires:
        res = resolve(requires, index_url=index_url, python=python)
        for p in res.packages:
            wheels = [f for f in (res.index_files or {}).get(p.name, []) if f.is_wheel]
            pure = [f for f in wheels if f.filename.endswith("-none-any.whl")]
            for f in pure[:1] or wheels:
                fetched = download_with_digest(f, staging / "build")
                if f.sha256 and fetched.sha256 != f.sha256:
                    raise InputError(f"{f.filename}: the bytes do not match the index's sha256")
                artifacts.append(Artifact(p.name, str(p.version), fetched.path))
    return inspect_artifacts(artifacts, policy=policy, now=now), f"{name}=={version}"


# -- helpers -----------------------------------------------------------------------------------


def _clean(text: str, limit: int = 200) -> str:
    """Text from a package or an index, safe to print on a terminal (control, bidi and
    zero-width characters escaped)."""
    from pipvet.core.text import escape_terminal as printable

    return printable(str(text)[:limit])


def expired_allow_notes(policy: Policy, now: dt.datetime | None = None) -> tuple[str, ...]:
    return tuple(
        f"allowlist entry {e.origin} for {e.package} expired on {e.expires.isoformat()}: "
        "it no longer applies"
        for e in policy.expired_allows(_today(now))
    )
