"""`pipvet install`: hash-checked installs, on by default.

pipvet downloads every file itself, checks its hash against the lock (or, without a lock, against
the index's hash, remembered on first use), and only then lets pip install exactly those files:
``pip install --require-hashes --no-deps --no-index --find-links STAGING``, isolated from pip's
config files and ``PIP_*`` variables. Wheels only, unless ``--allow-sdist NAME``.
"""

from __future__ import annotations

import argparse

from pipvet.core.models import DEFAULT_INDEX_URL as DEFAULT_INDEX


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "install",
        help="install packages, every file hash-checked before pip sees it",
        description="Download every file, check its hash against the lock (or the index's hash, "
        "remembered on first use), then let pip install only those files. Wheels only unless "
        "--allow-sdist. Exit 1 when a file is refused, 2 on bad input or an unreachable index.",
    )
    p.add_argument("packages", nargs="*", metavar="PKG", help="requirements, e.g. 'requests>=2'")
    p.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        help="requirements file (a fully hashed one is used as a lock)",
    )
    p.add_argument("--lock", metavar="FILE", help="install exactly what this lock pins")
    p.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter or venv to install into "
        "(default: the active venv, else pipvet's own Python)",
    )
    p.add_argument(
        "--index-url",
        metavar="URL",
        help=f"package index (default: the lock's, else {DEFAULT_INDEX})",
    )
    p.add_argument(
        "--allow-sdist",
        action="append",
        default=[],
        metavar="NAME",
        help="allow building NAME from source (runs its code at install time)",
    )
    p.add_argument(
        "--no-verify-hashes",
        action="store_true",
        help="do not check hashes (not recommended; prints a warning)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="download and verify everything, install nothing"
    )
    audit = p.add_argument_group("vulnerability audit (runs before anything is downloaded)")
    audit.add_argument(
        "--fail-on",
        choices=("unknown", "low", "moderate", "high", "critical", "none"),
        default="none",
        help="refuse the install if a known vulnerability is at least this severe "
        "(default: none = show the summary, do not refuse; unknown = any vulnerability)",
    )
    audit.add_argument("--db", metavar="PATH", help="advisory database (default: the cache)")
    audit.add_argument("--no-audit", action="store_true", help="skip the vulnerability audit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.core.errors import UsageError
    from pipvet.installer.run import install
    from pipvet.installer.target import probe_target

    if not args.packages and not args.requirement and not args.lock:
        raise UsageError("nothing to install: name packages, -r FILE or --lock FILE")
    verify = not args.no_verify_hashes
    if not verify:
        console.warn(
            "hash checking is OFF (--no-verify-hashes): nothing proves the files are "
            "the ones you meant to install"
        )
    for name in args.allow_sdist:
        console.warn(f"--allow-sdist {name}: building an sdist runs its code on this machine")
    target = probe_target(args.python)
    plan, trust = build_install_plan(args, target, verify=verify)
    if any(pf.is_sdist for pf in plan.files):
        plan, trust = add_build_dependencies(plan, trust)
    for text in plan.warnings:
        console.warn(text)
    n = len([f for f in plan.files if not f.build_dependency])
    console.info(
        f"plan: {n} package(s) for Python {target.version} ({target.tags[0]}) at {target.prefix}"
    )
    for pf in plan.files:
        extra = " (build dependency)" if pf.build_dependency else ""
        console.detail(f"  {pf.requirement}: {pf.file.filename}{extra}")
    if not args.no_audit:
        audit_plan(plan, fail_on=args.fail_on, db_path=args.db)
    result = install(
        plan,
        trust=trust,
        dry_run=args.dry_run,
        verbose=console.is_verbose(),
        on_phase=console.info,
        on_detail=console.detail,
    )
    if result.dry_run:
        console.info(
            f"dry run: would install {len(result.changed)}, "
            f"{len(result.unchanged)} already there; nothing installed"
        )
    else:
        done, kept = len(result.changed), len(result.unchanged)
        console.info(f"done: {done} installed, {kept} already there")
    for req in result.changed:
        console.detail(f"  {req}")
    return 0


def audit_plan(plan, *, fail_on: str, db_path: str | None) -> None:
    """Audit the planned set (build dependencies included) before anything is downloaded.

    Shows one line per vulnerable package and the npm-audit style summary; refuses (exit 1) when a
    finding reaches ``fail_on``. Without readable advisory data the audit says so, and refuses only
    if a threshold was asked for (an audit that could not run cannot vouch for anything).
    """
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.core.errors import PolicyRefusal
    from pipvet.core.models import PackageId
    from pipvet.services.audit import audit_packages, load_ignores, summary_line
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
        console.warn(f"vulnerability audit skipped: {exc.message}")
        return
    if not report.findings:
        console.info(f"audit: {summary_line(report)}")
        return
    for pkg in report.vulnerable():
        found = [f for f in report.findings if f.package == pkg]
        worst = max(f.severity for f in found)
        fix = report.fix_for(pkg)
        fix_text = f"fix: {pkg.name}=={fix.version}" if fix and fix.version else "no fix yet"
        ids = ", ".join(f.id for f in found[:3]) + (f" +{len(found) - 3}" if len(found) > 3 else "")
        console.info(f"  {pkg}  {worst.label}  {ids}  ({fix_text})")
    line = f"audit: {summary_line(report)}"
    if report.fails(fail_on):
        raise PolicyRefusal(
            f"{line}; refused by --fail-on {fail_on}",
            hint="details: `pipvet audit` on the same inputs; upgrade to the fix versions above",
        )
    console.warn(f"{line} (details: `pipvet audit`; refuse such installs with --fail-on)")


def add_build_dependencies(plan, trust):
    """Stage the sdists once to read their ``[build-system].requires`` (as data), resolve those
    (wheels only) and add them to the plan, hash-checked on first use like any other file."""
    import dataclasses
    import tempfile
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.installer.plan import plan_from_pins
    from pipvet.installer.staging import stage
    from pipvet.installer.trust_store import TrustStore
    from pipvet.sources.index import SimpleIndex
    from pipvet.sources.sdist import build_requires

    sdists = tuple(pf for pf in plan.files if pf.is_sdist)
    requires: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pipvet-sdist-") as tmp:
        for staged in stage(dataclasses.replace(plan, files=sdists), Path(tmp)):
            requires += [r for r in build_requires(staged.path) if r not in requires]
    if not requires:
        return plan, trust
    console.info(
        f"build dependencies of {', '.join(pf.requirement for pf in sdists)}: "
        + ", ".join(requires)
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


def build_install_plan(args: argparse.Namespace, target, *, verify: bool):
    """The plan for the command's inputs: from a lock, a fully hashed -r file, or by resolving."""
    from pipvet.core.lockfile_io import read_lock

    lock_path = args.lock
    if not lock_path and len(args.requirement) == 1 and _is_hashed(args.requirement[0]):
        lock_path = args.requirement[0]  # a fully hashed requirements file is a lock
    if lock_path:
        if args.requirement and lock_path not in args.requirement:
            from pipvet.core.errors import UsageError

            raise UsageError("give either --lock FILE or -r FILE, not both")
        lock = read_lock(lock_path)
        return _plan_from_lock(args, target, lock, verify=verify), None
    return _plan_by_resolving(args, target, verify=verify)


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

    from pipvet.core.errors import InputError, UsageError
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
    index_url = args.index_url or lock.index_url or DEFAULT_INDEX
    index = SimpleIndex(index_url)
    todo = [p.name for p in lock.packages if names is None or p.name in names]
    listings = index.many(todo)
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


def _plan_by_resolving(args, target, *, verify: bool):
    from packaging.utils import canonicalize_name

    from pipvet.installer.plan import plan_from_pins
    from pipvet.installer.trust_store import TrustStore
    from pipvet.sources.index import SimpleIndex

    requirements, index_from_file = _requirements(args)
    index_url = args.index_url or index_from_file or DEFAULT_INDEX
    pins, listings = resolve_pins(
        requirements, index_url=index_url, allow_sdist=args.allow_sdist, python=target.python
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


def _requirements(args) -> tuple[list[str], str | None]:
    from packaging.requirements import InvalidRequirement, Requirement

    from pipvet.core.errors import InputError
    from pipvet.sources.requirements import read_requirements

    reqs: list[str] = []
    for text in args.packages:
        try:
            Requirement(text)
        except InvalidRequirement as e:
            raise InputError(f"malformed requirement {text!r}: {e}") from None
        reqs.append(text)
    index_url = None
    for path in args.requirement:
        rf = read_requirements(path)
        reqs += [str(r.requirement) for r in rf.requirements]
        index_url = index_url or rf.index_url
    return reqs, index_url


def resolve_pins(requirements, *, index_url: str, allow_sdist, python: str):
    """Resolve with pip's (or uv's) resolver: ``([(name, Version)], listings already fetched)``."""
    from pipvet.sources.resolver import resolve

    resolution = resolve(requirements, index_url=index_url, allow_sdist=allow_sdist, python=python)
    pins = [(p.name, p.version) for p in resolution.packages]
    return pins, dict(resolution.index_files or {})
