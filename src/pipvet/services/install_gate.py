"""The install gate in the install and lock services: the steps, in order, each a call there.

1. ``before_resolving(args)``: the policy (its defaults applied to the arguments) and the name
   checks of what the user asked for, before anything is downloaded.
2. ``resolve(...)``: the resolution under the cooldown, with extra indexes and allowed sdists
   inspected before the resolver may build them.
3. ``before_download(args, plan, policy, early)``: index facts, typosquats among the transitive
   names, known malware and more than one index, for every planned package.
4. ``before_pip(...)``: the hook of ``installer.run.install``: code inspection of every staged,
   verified file (a suspicious verdict of a popular project compared with an earlier release:
   ``gate.review_long_standing``), the summary screen, the refusal or the question.

The checks themselves are ``pipvet.services.gate`` (typed arguments, frozen reports, no output);
this module strings them together for one install: ``state`` is the install's options (a
namespace the install service makes from its request, with the policy's defaults applied), the
summary goes to ``progress``, and the question before installing what only warns goes to
``confirm`` (the command's; none when no one can answer).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pipvet.core.models import DEFAULT_INDEX_URL as DEFAULT_INDEX
from pipvet.core.progress import Level, Progress, silent


def before_resolving(args: argparse.Namespace, progress: Progress = silent):
    """The policy (its defaults applied to ``args``), and the name checks of what the user asked
    for: typosquats, names not on the index, quarantined projects. Refuses at once on a block."""
    from pathlib import Path

    from pipvet.core.policy import load_policy
    from pipvet.services import gate
    from pipvet.services.install import _is_hashed as is_hashed

    policy = load_policy(Path.cwd())
    args._gate_policy = policy
    args.allow_sdist = sorted(set(args.allow_sdist) | set(policy.allow_sdist))
    if args.min_release_age is None:
        args.min_release_age = policy.min_release_age_days
    elif args.min_release_age < 0:
        from pipvet.core.errors import UsageError

        raise UsageError("--min-release-age must be a number of days (>= 0)")
    args.extra_index_url = list(dict.fromkeys([*args.extra_index_url, *policy.extra_index_urls]))
    if not args.index_url and policy.index_url:
        args.index_url = policy.index_url
    report = gate.GateReport(notes=gate.expired_allow_notes(policy))
    lock_path = args.lock or (
        args.requirement[0]
        if len(args.requirement) == 1 and is_hashed(args.requirement[0])
        else None
    )
    if lock_path:  # a quarantined project's page lists no files: say that word, not "no files"
        from pipvet.core.lockfile_io import read_lock

        lock = read_lock(lock_path)
        index_url = args.index_url or lock.index_url or DEFAULT_INDEX
        locked = {p.name for p in lock.packages}
        # what the lock's inputs asked for (a "# via" that is not another locked package)
        direct = [p.name for p in lock.packages if not p.via or set(p.via) - locked]
        deps = sorted(locked - set(direct))
        pages = _pages(args, index_url)
        gate.project_statuses(pages, sorted(locked))  # every page at once (then read from memo)
        report = report.merge(
            gate.check_names(direct, index_url=index_url, policy=policy, index=pages)
        )
        report = report.merge(
            gate.check_names(deps, index_url=index_url, policy=policy, requested=False, index=pages)
        )
        args._gate_checked = locked
        _refuse_if_blocked(report, progress, color=args.color)
    elif args.packages or args.requirement:
        from pipvet.sources.requirements import read_requirements

        texts = list(args.packages)
        file_index = None
        for path in args.requirement:
            rf = read_requirements(path)
            texts += [str(r.requirement) for r in rf.requirements]
            file_index = file_index or rf.index_url
        names = [n for n, _exact in gate.requirement_names(texts)]
        args._gate_checked = set(names)
        index_url = args.index_url or file_index or DEFAULT_INDEX
        report = report.merge(
            gate.check_names(
                names,
                index_url=index_url,
                policy=policy,
                extra_index_urls=args.extra_index_url,
                index=_pages(args, index_url),
            )
        )
        _refuse_if_blocked(report, progress, color=args.color)
    return policy, report


def _pages(args, url: str):
    """The install's client of one index: inside the install (``page_cache.page_scope``) the name
    checks before resolving and the index facts before downloading read each page once."""
    from pipvet.sources.index import SimpleIndex

    clients = args.__dict__.setdefault("_gate_pages", {})
    key = url.rstrip("/")
    if key not in clients:
        clients[key] = SimpleIndex(url)
    return clients[key]


def before_download(args, plan, policy, early, progress: Progress = silent):
    """Index facts, typosquats among the transitive names, known malware and more than one
    index, for every planned package; refuses before anything is downloaded on a block."""
    from pathlib import Path

    from pipvet.core.models import PackageId
    from pipvet.services import gate

    exact = {n for n, e in gate.requirement_names(args.packages) if e} if not args.lock else set()
    from_lock = plan.lock_path is not None
    packages = [
        gate.PlannedPackage(
            pf.name, pf.version, pf.file, pinned_exactly=from_lock or pf.name in exact
        )
        for pf in plan.files
    ]
    indexes, origin = gate.check_indexes(
        [p.name for p in packages],
        index_url=plan.index_url,
        extra_index_urls=args.extra_index_url,
        policy=policy,
        config=gate.config_indexes(),
    )
    args._gate_origin = origin  # which index serves each package (for ``before_pip``)
    report = early
    for url in sorted(set(origin.values())):  # each package's facts from the index serving it
        mine = [p for p in packages if origin.get(p.name) == url]
        pages = _pages(args, url)
        checked = getattr(args, "_gate_checked", set())
        report = report.merge(
            gate.check_names(
                [p.name for p in mine if p.name not in checked],
                index_url=url,
                policy=policy,
                requested=False,
                index=pages,
            )
        )
        report = report.merge(
            gate.check_index_facts(
                mine,
                index_url=url,
                policy=policy,
                min_age_days=args.min_release_age if from_lock else None,
                index=pages,
            )
        )
    if not args.no_audit:
        report = report.merge(
            gate.check_known_malware(
                [PackageId(p.name, p.version) for p in packages],
                policy=policy,
                db_path=Path(args.db) if args.db else None,
            )
        )
    report = report.merge(indexes).merge(getattr(args, "_gate_held", gate.GateReport()))
    _refuse_if_blocked(report, progress, color=args.color)
    return report


def before_pip(
    args,
    plan,
    policy,
    early,
    staged,
    progress: Progress = silent,
    confirm: Callable[[str], bool] | None = None,
) -> None:
    """Inspect every staged, verified file; show the summary; refuse on a block; ask
    ``confirm`` before installing anything that warns (``--yes`` answers it)."""
    from pipvet.core.errors import PolicyRefusal
    from pipvet.formats.gate_text import render_summary
    from pipvet.services import gate

    artifacts = [gate.Artifact(s.name, str(s.version), s.path) for s in staged]
    progress(Level.STATUS, f"inspecting {len(artifacts)} file(s) as data (never run)")
    report = gate.inspect_artifacts(artifacts, policy=policy)
    origin = getattr(args, "_gate_origin", {})
    report = early.merge(
        gate.review_long_standing(
            report,
            artifacts,
            policy=policy,
            index_for=lambda name: _pages(args, origin.get(name, plan.index_url)),
            progress=lambda text: progress(Level.INFO, text),
        )
    )
    audit_line = getattr(args, "_audit_line", None)
    wanted = [s.requirement for s in staged if not s.build_dependency]
    ask = bool(report.warnings) and not (args.yes or args.dry_run or confirm is None)
    # a block, and what a question is about, are shown even under -q
    level = Level.RESULT if report.blocked or ask else Level.INFO
    color = args.color
    progress(level, render_summary(report, plan=wanted, audit_line=audit_line, color=color))
    _refuse_if_blocked(report, progress, shown=True)
    if not ask:
        return
    if not confirm("install anyway? [y/N] "):
        raise PolicyRefusal("not installed: the answer was no; nothing was changed")


def _refuse_if_blocked(
    report, progress: Progress = silent, *, shown: bool = False, color: bool = False
) -> None:
    from pipvet.core.errors import PolicyRefusal
    from pipvet.formats.gate_text import render_summary

    if not report.blocked:
        return
    if all(b.rule == "gate.not-on-index" for b in report.blocks):  # bad input, not a refusal
        from pipvet.core.errors import InputError

        raise InputError("\n".join(b.message for b in report.blocks))
    if not shown:
        progress(Level.RESULT, render_summary(report, plan=None, color=color))
    n = len(report.blocks)
    raise PolicyRefusal(
        f"install refused by the gate ({n} block{'s' if n != 1 else ''}); nothing was installed",
        hint="a block is lifted only by an allowlist entry with a reason and an expiry date "
        "([[tool.pipvet.allow]] in pyproject.toml, or [[allow]] in pipvet.toml)",
    )


def sdist_check(
    requirements,
    *,
    index_url: str,
    policy,
    python: str | None,
    progress: Progress = silent,
    color: bool = False,
):
    """The resolver's ``before_sdist`` hook: an allowed sdist is inspected (with its build
    dependencies) before the resolver may build its metadata, which runs its code; a block is
    shown and refused; the resolver is then held to the inspected version."""
    import tempfile
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    specs = {}
    for text in requirements:
        req = Requirement(text)
        specs[canonicalize_name(req.name)] = str(req.specifier)

    def before_sdist(name: str) -> list[str]:
        from pipvet.services import gate

        with tempfile.TemporaryDirectory(prefix="pipvet-sdist-check-") as tmp:
            report, pin = gate.inspect_sdist_candidate(
                name,
                index_url=index_url,
                policy=policy,
                staging=Path(tmp),
                specifier=specs.get(name, ""),
                python=python,
            )
        _refuse_if_blocked(report, progress, color=color)
        return [pin] if pin else []

    return before_sdist


def resolve(args, requirements, index_url: str, target, *, constraints=(), progress=silent):
    """Resolution under the cooldown (versions newer than --min-release-age left out, and said)
    and with --extra-index-url (files of each name taken from the one index that serves it)."""
    from pipvet.services import gate
    from pipvet.sources.index import SimpleIndex

    policy = args._gate_policy
    progress(Level.STATUS, f"resolving {len(requirements)} requirement(s) against {index_url}")
    before_sdist = sdist_check(
        requirements,
        index_url=index_url,
        policy=policy,
        python=target.python,
        progress=progress,
        color=args.color,
    )

    result = gate.resolve_with_cooldown(
        requirements,
        index_url=index_url,
        extra_index_urls=args.extra_index_url,
        min_age_days=args.min_release_age or 0,
        allow_sdist=args.allow_sdist,
        python=target.python,
        before_sdist=before_sdist,
        constraints=[
            *constraints,
            *gate.pin_constraints(
                policy.index_pins, index_url=index_url, extra_index_urls=args.extra_index_url
            ),
        ],
    )
    res = result.resolution
    args._gate_held = gate.GateReport(held_back=result.held_back, notes=result.notes)
    pins = [(p.name, p.version) for p in res.packages]
    listings = dict(res.index_files or {})
    if args.extra_index_url:
        report, origin = gate.check_indexes(
            [n for n, _v in pins],
            index_url=index_url,
            extra_index_urls=args.extra_index_url,
            policy=args._gate_policy,
        )
        # before files are chosen from one index or another
        _refuse_if_blocked(report, progress, color=args.color)
        for name, url in origin.items():
            if url.rstrip("/") != index_url.rstrip("/"):
                listings[name] = SimpleIndex(url).project_files(name)
    return pins, listings
