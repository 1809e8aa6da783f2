"""The install itself: stage and verify, call the gates, let uv (or pip) install, roll back on
failure.

The engine of the final step is uv by default (``installer="auto"``), pip when asked
(``installer="pip"``) or where uv cannot serve (not installed; a target older than Python 3.8; on
Windows, where uv could not start the target without its ``site``); the choice and the reason go
to ``on_detail`` (shown with ``-v``). Either engine gets only the verified staged files
(``pipvet.installer.pip_runner``). Bytecode is compiled like pip does by default
(``compile=True``); with uv pipvet compiles the installed modules itself, the target started
without ``site``.

Hook point for the audit and scan gates: ``install(plan, before_install=gate)`` calls
``gate(staged_files)`` after every file is downloaded and verified and before pip runs; the gate
refuses by raising ``PolicyRefusal`` (the environment is then untouched).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.errors import InputError, PipvetError
from pipvet.installer import pip_runner
from pipvet.installer.envlock import locked
from pipvet.installer.pip_runner import interruptible
from pipvet.installer.plan import InstallPlan
from pipvet.installer.staging import StagedFile, stage

BeforeInstall = Callable[[list[StagedFile]], None]


@dataclass(frozen=True)
class InstallResult:
    staged: tuple[StagedFile, ...]
    changed: tuple[str, ...]  # "name==version" newly installed or replaced
    unchanged: tuple[str, ...]  # already installed at that version (pip left them)
    dry_run: bool = False
    installer: str = ""  # "uv" or "pip": the engine that ran (empty: none ran)


@dataclass(frozen=True)
class Engine:
    """The installer of the final step, and why it was chosen."""

    name: str  # "uv" or "pip"
    reason: str
    uv: str | None = None  # uv's path, when name is "uv"


INSTALLERS = ("auto", "uv", "pip")


def choose_engine(installer: str, target_version: str) -> Engine:
    """uv unless ``installer`` is "pip" or uv cannot serve this target (then pip, and why);
    ``installer="uv"`` where uv cannot serve is an ``InputError``."""
    from pipvet.sources.resolver import find_uv

    if installer not in INSTALLERS:
        raise InputError(f"unknown installer {installer!r} (use auto, uv or pip)")
    if installer == "pip":
        return Engine("pip", "--installer pip")
    why_not = None
    uv = find_uv()
    if uv is None:
        why_not = "uv not found"
    elif os.name == "nt":  # pragma: no cover - no launcher that keeps uv from running site
        why_not = "uv would start the target interpreter with its site on Windows"
    else:
        try:
            if tuple(int(x) for x in target_version.split(".")[:2]) < (3, 8):
                why_not = f"uv cannot install into Python {target_version}"
        except ValueError:
            pass
    if why_not is None:
        return Engine("uv", "--installer uv" if installer == "uv" else "the default", uv)
    if installer == "uv":
        raise InputError(f"--installer uv: {why_not}")
    return Engine("pip", why_not)


def install(
    plan: InstallPlan,
    *,
    before_install: BeforeInstall | None = None,
    dry_run: bool = False,
    trust=None,  # pipvet.installer.trust_store.TrustStore, for plans made without a lock
    staging_dir: Path | None = None,
    verbose: bool = False,
    on_phase: Callable[[str], None] | None = None,
    on_detail: Callable[[str], None] | None = None,
    installer: str = "auto",
    compile: bool = True,
    on_status: Callable[[str], None] | None = None,
) -> InstallResult:
    """Stage and verify every file, run ``before_install``, then install with uv or pip
    (``installer``: "auto", "uv" or "pip"; ``compile``: write ``.pyc`` files as pip does).

    Nothing is written to the target before pip runs; if pip fails part-way, the target is put
    back as it was (``pipvet.installer.rollback``) and ``InputError`` says what pip reported.
    """
    from pipvet.core.progress import Counter

    phase = on_phase or (lambda _msg: None)
    detail = on_detail or (lambda _msg: None)
    status = on_status or (lambda _msg: None)
    engine = choose_engine(installer, plan.target.version)
    if not dry_run and staging_dir is None:
        with locked(plan.target.prefix, on_wait=phase):  # not while another install writes
            done = _already_installed(plan)
        if done is not None:
            phase(
                f"already installed: all {len(done)} package(s) at the planned versions in "
                f"{plan.target.prefix}; nothing downloaded, {engine.name} not run"
            )
            return InstallResult((), (), done)
    # SIGTERM stops the downloads and the gate as Ctrl-C does: the staging folder is removed,
    # the scan's workers stopped, and the command says it was interrupted
    with interruptible(), tempfile.TemporaryDirectory(prefix="pipvet-staging-") as tmp:
        staging = Path(staging_dir) if staging_dir else Path(tmp) / "files"
        n = len(plan.files)
        fetched = Counter(lambda _level, msg: status(msg), f"downloading {n} file(s)", n)
        staged = stage(plan, staging, on_file=fetched.advance)
        if plan.verify_hashes:
            phase(f"verified {len(staged)} file(s) against {_sources(plan)}")
        else:
            phase(f"downloaded {len(staged)} file(s) (hashes NOT checked)")
        if trust is not None:
            tofu = {pf.file.filename for pf in plan.files if pf.tofu}
            for s in staged:
                if s.path.name in tofu:
                    trust.record(s.path.name, s.sha256, plan.index_url)
            trust.save()
        if before_install is not None:
            before_install(list(staged))
        wanted = [s for s in staged if not s.build_dependency]
        if dry_run:
            before = _installed(plan)
            unchanged, changed = _split(wanted, before)
            return InstallResult(tuple(staged), changed, unchanged, dry_run=True)
        detail(f"installer: {engine.name} ({engine.reason})")
        with locked(plan.target.prefix, on_wait=phase), interruptible():
            before = _installed(plan)
            unchanged, changed = _split(wanted, before)
            status(
                f"{engine.name} installs {len(changed)} verified package(s) into "
                f"{plan.target.prefix}"
            )
            output = _run_installer(
                engine, plan, staged, staging, Path(tmp), before, verbose=verbose, compile=compile
            )
        if output.strip():
            detail(output.rstrip())
        phase(f"installed {len(changed)} package(s) into {plan.target.prefix}")
        return InstallResult(tuple(staged), changed, unchanged, installer=engine.name)


def _already_installed(plan: InstallPlan) -> tuple[str, ...] | None:
    """Every package of the plan as ``name==version`` when the target already holds each one at
    that version (pip would leave them all alone), else None."""
    wanted = [pf for pf in plan.files if not pf.build_dependency]
    if not wanted:
        return None
    before = _installed(plan)
    if any(before.get(pf.name, (None,))[0] != str(pf.version) for pf in wanted):
        return None
    return tuple(dict.fromkeys(pf.requirement for pf in wanted))


def _split(
    wanted: list[StagedFile], before: dict[str, tuple[str, str, str]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(already installed at that version, to install or replace) as ``name==version``."""
    unchanged = tuple(
        s.requirement for s in wanted if before.get(s.name, (None,))[0] == str(s.version)
    )
    return unchanged, tuple(s.requirement for s in wanted if s.requirement not in unchanged)


class InstallInterrupted(PipvetError):
    """Ctrl-C or SIGTERM while pip ran: pip was stopped and the environment restored."""

    exit_code = 130


def _sources(plan: InstallPlan) -> str:
    if plan.lock_path:
        return plan.lock_path
    return "the index's hashes (trust on first use)"


def _installed(plan: InstallPlan) -> dict[str, tuple[str, str, str]]:
    from pipvet.sources.environment import iter_installed, probe_environment

    env = probe_environment(plan.target.python)
    return {d.name: (str(d.version), d.dist_info, d.site_dir) for d in iter_installed(env)}


def _run_installer(
    engine: Engine,
    plan: InstallPlan,
    staged: list[StagedFile],
    staging: Path,
    tmp: Path,
    before: dict[str, tuple[str, str, str]],
    *,
    verbose: bool,
    compile: bool,
) -> str:
    """Run the engine (and, after uv, the bytecode compile); return its output, or restore the
    environment and raise if it failed or was stopped."""
    from pipvet.installer.rollback import restore, take_snapshot
    from pipvet.sources.environment import probe_environment

    env = probe_environment(plan.target.python)
    # back up only what the engine will change: a package already at its staged version is left
    changing = [
        s for s in staged if s.build_dependency or before.get(s.name, (None,))[0] != str(s.version)
    ]
    names = {s.name for s in changing if not s.build_dependency}
    replaced = [(v[1], v[2]) for n, v in before.items() if n in names]
    snap = take_snapshot(
        prefix=plan.target.prefix,
        site_dirs=env.site_dirs,
        replaced=replaced,
        staged=[s for s in changing if not s.build_dependency],
        backup_dir=tmp / "backup",
    )
    reqs = tmp / "requirements.txt"
    pip_runner.write_requirements(staged, reqs, hashes=plan.verify_hashes)
    sdists = sorted({s.name for s in staged if s.path.suffix != ".whl" and not s.build_dependency})
    constraints = _build_constraints(staged, tmp)
    if engine.name == "uv":
        assert engine.uv is not None
        cmd = pip_runner.uv_install_command(
            engine.uv,
            plan.target.python,
            staging,
            reqs,
            tmp=tmp,
            require_hashes=plan.verify_hashes,
            sdists=sdists,
            build_constraints=constraints,
            verbose=verbose,
        )
        cache: Path | None = tmp / "uv-cache"
    else:
        cmd = pip_runner.install_command(
            plan.target.python,
            staging,
            reqs,
            require_hashes=plan.verify_hashes,
            sdists=sdists,
            verbose=verbose,
            compile=compile,
        )
        cache = None
    what, note = engine.name, ""
    try:
        proc = pip_runner.run(cmd, build_constraints=constraints, uv_cache=cache)
        if proc.returncode == 0 and engine.name == "uv" and compile:
            what = "the bytecode compile"
            note = _compile(plan, names)
    except KeyboardInterrupt as exc:  # the engine's process group is already stopped
        with pip_runner.signals_held():
            problems = restore(snap)
        how = f"stopped by {exc.args[0]}" if exc.args else "interrupted"
        raise InstallInterrupted(f"{how} while {what} ran; {_state(problems)}") from None
    except subprocess.TimeoutExpired as exc:
        with pip_runner.signals_held():
            problems = restore(snap)
        raise InputError(
            f"{what} did not finish within {exc.timeout:.0f} s; {_state(problems)}"
        ) from None
    if proc.returncode == 0:
        return (proc.stdout or "") + (proc.stderr or "") + note
    with pip_runner.signals_held():
        problems = restore(snap)
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
    raise InputError(f"{what} failed (exit {proc.returncode}); {_state(problems)}\n{tail}")


def _compile(plan: InstallPlan, names: set[str]) -> str:
    """Compile the ``.py`` files the install just wrote for ``names`` (from their RECORD, those
    inside the site directory, as pip compiles them), the target started without ``site``.
    Returns a note when the compile could not run (the packages are installed all the same)."""
    from pipvet.core.record import recorded_paths

    paths: list[str] = []
    for name, (_version, dist_info, site) in _installed(plan).items():
        if name not in names:
            continue
        root = Path(os.path.realpath(site))
        for path in sorted(recorded_paths(dist_info, site)):
            if path.suffix == ".py" and path.is_relative_to(root):
                paths.append(str(path))
    if not paths:
        return ""
    proc = pip_runner.run_group(
        pip_runner.compile_command(plan.target.python),
        env=pip_runner.scrubbed_env(),
        timeout=1800,
        input="\n".join(paths) + "\n",
    )
    if proc.returncode != 0:  # the packages are installed; only their .pyc files are missing
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        return f"\nbytecode compile failed (exit {proc.returncode}), .pyc files not written\n{tail}"
    return ""


def _build_constraints(staged: list[StagedFile], tmp: Path) -> Path | None:
    """``name==version`` of every staged build dependency, for pip's isolated build env: it may
    then take only those versions, even when the staging folder holds another one."""
    pins = sorted({s.requirement for s in staged if s.build_dependency})
    if not pins:
        return None
    path = tmp / "build-constraints.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path


def _state(problems: list[str]) -> str:
    if not problems:
        return "the environment was restored as it was"
    return "could not fully restore the environment:\n  " + "\n  ".join(problems[:5])
