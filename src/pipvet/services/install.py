"""The ``install`` service: plan, audit, download and verify every file, then let pip install
them.

Steps, in order:
1. plan: from a lock (or a fully hashed ``-r`` file), or by resolving (hashes trusted on first use);
   allowed sdists get their build dependencies added (read from the verified sdist as data);
2. audit the planned set (before anything is downloaded); ``fail_on`` refuses;
3. ``pipvet.installer.run.install``: stage and verify every file, then ``before_install(staged)``,
   then uv or pip (``--require-hashes --no-deps --no-index --find-links STAGING``), rolled back
   if it fails.

The install gate (``pipvet.services.install_gate`` over ``pipvet.services.gate``) runs at each
step: names before anything is downloaded, the cooldown while resolving, index facts and known
malware before downloading, and code inspection of the staged, verified files before pip runs. A
block raises ``PolicyRefusal`` with the environment untouched; what only warns is put to
``confirm`` (when given). ``before_install`` is one more hook at that last point.
Nothing here prints: messages go to ``progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.errors import InputError, PolicyRefusal, UsageError
from pipvet.core.models import DEFAULT_INDEX_URL
from pipvet.core.progress import Level, Progress, silent
from pipvet.core.reports.audit import AuditReport
from pipvet.core.reports.install import InstallReport, PlannedItem
from pipvet.installer.plan import InstallPlan
from pipvet.installer.staging import StagedFile
from pipvet.sources.page_cache import one_fetch_per_page, refresh_pages
from pipvet.sources.sdist import build_requires

__all__ = ["InstallReport", "InstallRequest", "audit_plan", "install"]

BeforeInstall = Callable[[list[StagedFile]], None]


@dataclass(frozen=True)
class InstallRequest:
    """What to install, from where, into which environment."""

    packages: tuple[str, ...] = ()  # requirement strings
    requirement: tuple[str, ...] = ()  # requirements files (a fully hashed one is a lock)
    lock: str | None = None
    python: str | None = None  # target interpreter or venv (default: active venv, else pipvet's)
    index_url: str | None = None  # default: the lock's, else PyPI
    allow_sdist: tuple[str, ...] = ()
    verify_hashes: bool = True
    dry_run: bool = False
    fail_on: str = "none"  # audit threshold that refuses the install
    db: str | None = None  # advisory database
    audit: bool = True
    verbose: bool = False  # pip's own output
    min_release_age: float | None = None  # days (default: the policy's)
    extra_index_urls: tuple[str, ...] = ()
    yes: bool = False  # install what only warns without asking (a block is never lifted)
    installer: str = "auto"  # the final step's engine: "auto" (uv, else pip), "uv" or "pip"
    compile: bool = True  # write .pyc files as pip does by default
    color: bool = False  # the gate's summary in colour (the caller's terminal shows colour)
    refresh: bool = False  # ask the index again for every page (else reused while it allows)


@one_fetch_per_page  # each index page is asked for once per operation
def install(
    request: InstallRequest,
    *,
    progress: Progress = silent,
    before_install: BeforeInstall | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> InstallReport:
    """Plan, audit, stage and verify, then install (see the module's steps)."""
    from pipvet.installer.run import install as run_install
    from pipvet.installer.target import probe_target
    from pipvet.services import install_gate

    if not request.packages and not request.requirement and not request.lock:
        raise UsageError("nothing to install: name packages, -r FILE or --lock FILE")
    if request.refresh:
        refresh_pages()
    if not request.verify_hashes:
        progress(
            Level.WARN,
            "hash checking is OFF (--no-verify-hashes): nothing proves the files are "
            "the ones you meant to install",
        )
    state = _gate_state(request)
    policy, early = install_gate.before_resolving(state, progress)  # gate: names, policy
    for name in state.allow_sdist:
        progress(
            Level.WARN, f"--allow-sdist {name}: building an sdist runs its code on this machine"
        )
    target = probe_target(request.python)
    plan, trust = build_install_plan(state, target, verify=request.verify_hashes, progress=progress)
    if any(pf.is_sdist for pf in plan.files) and not plan.build_locked:
        plan, trust = add_build_dependencies(plan, trust, progress)
    # gate: index facts, known malware, indexes, before anything is downloaded
    early = install_gate.before_download(state, plan, policy, early, progress)
    for text in plan.warnings:
        progress(Level.WARN, text)
    n = len([f for f in plan.files if not f.build_dependency])
    progress(
        Level.INFO,
        f"plan: {n} package(s) for Python {target.version} ({target.tags[0]}) at {target.prefix}",
    )
    for pf in plan.files:
        extra = " (build dependency)" if pf.build_dependency else ""
        progress(Level.DETAIL, f"  {pf.requirement}: {pf.file.filename}{extra}")
    audit = None
    if request.audit:
        names = len({pf.name for pf in plan.files})
        progress(Level.STATUS, f"auditing {names} package(s) for known vulnerabilities")
        audit = audit_plan(plan, fail_on=request.fail_on, db_path=request.db, progress=progress)
        state._audit_line = audit_line(audit) if audit is not None else "not checked"

    def gate_hook(staged: list[StagedFile]) -> None:  # gate: the code of every verified file
        install_gate.before_pip(state, plan, policy, early, staged, progress, confirm)
        if before_install is not None:
            before_install(staged)

    result = run_install(
        plan,
        trust=trust,
        before_install=gate_hook,
        dry_run=request.dry_run,
        verbose=request.verbose,
        on_phase=lambda text: progress(Level.INFO, text),
        on_detail=lambda text: progress(Level.DETAIL, text),
        installer=request.installer,
        compile=request.compile,
        on_status=lambda text: progress(Level.STATUS, text),
    )
    return InstallReport(
        python=target.python,
        prefix=target.prefix,
        python_version=target.version,
        platform_tag=str(target.tags[0]),
        planned=tuple(
            PlannedItem(pf.requirement, pf.file.filename, pf.build_dependency) for pf in plan.files
        ),
        changed=result.changed,
        unchanged=result.unchanged,
        dry_run=result.dry_run,
        audit=audit,
    )


def _gate_state(request: InstallRequest):
    """The install's options as the gate steps read (and complete with the policy's defaults)."""
    from types import SimpleNamespace

    if request.min_release_age is not None and request.min_release_age < 0:
        raise UsageError("--min-release-age must be a number of days (>= 0)")
    return SimpleNamespace(
        packages=list(request.packages),
        requirement=list(request.requirement),
        lock=request.lock,
        index_url=request.index_url,
        allow_sdist=list(request.allow_sdist),
        min_release_age=request.min_release_age,
        extra_index_url=list(request.extra_index_urls),
        no_audit=not request.audit,
        db=request.db,
        yes=request.yes,
        dry_run=request.dry_run,
        color=request.color,
    )


def audit_line(report: AuditReport) -> str:
    """The audit's summary and the date of the data it rests on, for install's audit line; data
    over 30 days old adds the command that refreshes it (one line, not two)."""
    from pipvet.core.reports.audit import (
        REFRESH_COMMAND,
        data_date_text,
        stale_warning,
        summary_line,
    )

    stale = f"; refresh it with `{REFRESH_COMMAND}`" if stale_warning(report) else ""
    return f"{summary_line(report)} ({data_date_text(report)}{stale})"


def audit_plan(
    plan: InstallPlan, *, fail_on: str, db_path: str | None, progress: Progress = silent
) -> AuditReport | None:
    """Audit the planned set (build dependencies included) before anything is downloaded.

    Shows one line per vulnerable package and the npm-audit style summary; refuses (exit 1) when a
    finding reaches ``fail_on``. Without readable advisory data the audit says so, and refuses only
    if a threshold was asked for (an audit that could not run cannot vouch for anything).
    """
    from pipvet.core.models import PackageId
    from pipvet.core.reports.audit import stale_warning
    from pipvet.core.text import escape_terminal
    from pipvet.services.audit import audit_packages, load_ignores
    from pipvet.sources.advisories.db import AdvisoryDbError

    packages = sorted({PackageId(pf.name, pf.version) for pf in plan.files})
    try:
        report = audit_packages(
            packages,
            db_path=Path(db_path) if db_path else None,
            ignores=load_ignores(Path.cwd()),
            source="install plan",
        )
    except AdvisoryDbError as exc:
        if fail_on != "none":
            raise PolicyRefusal(
                f"vulnerability audit could not run: {exc.message}",
                hint="refresh the advisory index with `pipvet db update`, or drop --fail-on",
            ) from None
        progress(Level.WARN, f"vulnerability audit skipped: {exc.message}")
        return None
    for m in report.malware:
        summary = escape_terminal(m.summary)
        progress(Level.WARN, f"  {m.package}  known malware  {escape_terminal(m.id)}: {summary}")
    if report.malware:
        raise PolicyRefusal(
            f"audit: {audit_line(report)}; refused: known malware is never installed",
            hint="details: `pipvet audit` on the same inputs",
        )
    if not report.findings:
        stale = stale_warning(report) is not None  # then the audit line itself is a warning
        progress(Level.WARN if stale else Level.INFO, f"audit: {audit_line(report)}")
        return report
    for pkg in report.vulnerable():
        found = [f for f in report.findings if f.package == pkg]
        worst = max(f.severity for f in found)
        fix = report.fix_for(pkg)
        fix_text = f"fix: {pkg.name}=={fix.version}" if fix and fix.version else "no fix yet"
        ids = ", ".join(f.id for f in found[:3]) + (f" +{len(found) - 3}" if len(found) > 3 else "")
        progress(Level.INFO, f"  {pkg}  {worst.label}  {ids}  ({fix_text})")
    line = f"audit: {audit_line(report)}"
    if report.fails(fail_on):
        raise PolicyRefusal(
            f"{line}; refused by --fail-on {fail_on}",
            hint="details: `pipvet audit` on the same inputs; upgrade to the fix versions above",
        )
    progress(Level.WARN, f"{line} (details: `pipvet audit`; refuse such installs with --fail-on)")
    return report


def add_build_dependencies(plan, trust, progress: Progress = silent):
    """Stage the sdists once to read their ``[build-system].requires`` (as data), resolve those
    (wheels only) and add them to the plan, hash-checked on first use like any other file."""
    import dataclasses
    import tempfile

    from pipvet.installer.plan import plan_from_pins
    from pipvet.installer.staging import stage
    from pipvet.installer.trust_store import TrustStore
    from pipvet.sources.index import SimpleIndex

    sdists = tuple(pf for pf in plan.files if pf.is_sdist)
    requires: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pipvet-sdist-") as tmp:
        for staged in stage(dataclasses.replace(plan, files=sdists), Path(tmp)):
            requires += [r for r in build_requires(staged.path) if r not in requires]
    if not requires:
        return plan, trust
    progress(
        Level.INFO,
        f"build dependencies of {', '.join(pf.requirement for pf in sdists)}: "
        + ", ".join(requires),
    )
    pins, listings = resolve_pins(
        requires, index_url=plan.index_url, allow_sdist=(), python=plan.target.python
    )
    missing = [n for n, _v in pins if n not in listings]
    if missing:
        listings = {**listings, **SimpleIndex(plan.index_url).many(missing)}
    trust = trust or TrustStore()
    build = plan_from_pins(
        pins,
        listings,
        plan.target,
        trust,
        index_url=plan.index_url,
        verify_hashes=plan.verify_hashes,
        build_dependency=True,
    )
    return dataclasses.replace(plan, files=plan.files + build.files), trust


def build_install_plan(args: InstallRequest, target, *, verify: bool, progress: Progress = silent):
    """The plan for the command's inputs: from a lock, a fully hashed -r file, or by resolving."""
    from pipvet.core.lockfile_io import read_lock

    lock_path = args.lock
    if not lock_path and len(args.requirement) == 1 and _is_hashed(args.requirement[0]):
        lock_path = args.requirement[0]  # a fully hashed requirements file is a lock
    if lock_path:
        if args.requirement and lock_path not in args.requirement:
            raise UsageError("give either --lock FILE or -r FILE, not both")
        lock = read_lock(lock_path)
        return _plan_from_lock(args, target, lock, verify=verify), None
    return _plan_by_resolving(args, target, verify=verify, progress=progress)


def _is_hashed(path: str) -> bool:
    """True when a requirements file pins anything with --hash (it is then read as a lock)."""
    try:
        with open(path, encoding="utf-8") as f:
            return "--hash" in f.read()
    except OSError:
        return False


def _plan_from_lock(args, target, lock, *, verify: bool):
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from pipvet.installer.plan import plan_from_lock
    from pipvet.sources.index import SimpleIndex

    names = None
    if args.packages:
        wanted = set()
        for text in args.packages:
            try:
                req = Requirement(text)
            except InvalidRequirement as e:
                raise InputError(f"malformed requirement {text!r}: {e}") from None
            pkg = lock.get(req.name)
            if pkg is None:
                raise UsageError(f"{req.name} is not in the lock {lock.source_path}")
            if req.specifier and not req.specifier.contains(pkg.version, prereleases=True):
                raise UsageError(f"{text}: the lock pins {pkg.name}=={pkg.version}")
            wanted.add(canonicalize_name(req.name))
        names = _closure(lock, wanted)
    index_url = args.index_url or lock.index_url or DEFAULT_INDEX_URL
    index = SimpleIndex(index_url, other_hosts=False)  # a lock is in force
    pins = [p for p in lock.packages if names is None or p.name in names]
    pins += list(lock.build_packages)
    listings = index.release_files([(p.name, p.version) for p in pins])
    return plan_from_lock(
        lock,
        listings,
        target,
        index_url=index.url,
        allow_sdist=args.allow_sdist,
        verify_hashes=verify,
        names=names,
    )


def _closure(lock, wanted: set[str]) -> set[str]:
    """The named packages and everything the lock says they pulled in (``# via``)."""
    names = set(wanted)
    changed = True
    while changed:
        changed = False
        for p in lock.packages:
            if p.name not in names and any(v in names for v in p.via):
                names.add(p.name)
                changed = True
    return names


def _plan_by_resolving(args, target, *, verify: bool, progress: Progress = silent):
    from packaging.utils import canonicalize_name

    from pipvet.installer.plan import plan_from_pins
    from pipvet.installer.trust_store import TrustStore
    from pipvet.services import install_gate
    from pipvet.sources.index import SimpleIndex
    from pipvet.sources.requirements import gather_requirements

    gathered = gather_requirements(args.packages, args.requirement, given_index=args.index_url)
    for text in gathered.ignored:
        progress(Level.WARN, text)
    index_url = args.index_url or gathered.index_url or DEFAULT_INDEX_URL
    pins, listings = install_gate.resolve(  # under the gate's cooldown and indexes
        args,
        [text for text, _origin in gathered.requirements],
        index_url,
        target,
        constraints=gathered.constraints,
        progress=progress,
    )
    index = SimpleIndex(index_url)
    missing = [canonicalize_name(n) for n, _v in pins if canonicalize_name(n) not in listings]
    if missing:
        listings = {**listings, **index.many(missing)}
    trust = TrustStore()
    plan = plan_from_pins(
        pins,
        listings,
        target,
        trust,
        index_url=index.url,
        allow_sdist=args.allow_sdist,
        verify_hashes=verify,
    )
    return plan, trust


def resolve_pins(requirements, *, index_url: str, allow_sdist, python: str, constraints=()):
    """Resolve with pip's (or uv's) resolver: ``([(name, Version)], listings already fetched)``."""
    from pipvet.sources.resolver import resolve

    resolution = resolve(
        requirements,
        index_url=index_url,
        allow_sdist=allow_sdist,
        python=python,
        constraints=constraints,
    )
    pins = [(p.name, p.version) for p in resolution.packages]
    return pins, dict(resolution.index_files or {})
