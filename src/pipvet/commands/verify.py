"""`pipvet verify`: check installed files against their RECORD hashes, and the env against a lock.

pip writes RECORD at install time but never checks it (pip#4705). This reads every installed
distribution's RECORD as data (no ``.pth`` file runs, nothing is imported) and lists modified,
missing and unrecorded files. With ``--lock`` it also checks that the environment holds exactly
the locked versions.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

TOOLS = frozenset({"pip", "setuptools", "wheel"})  # not reported as extra when the lock omits them


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check installed files against their RECORD hashes (and a lock)",
        description="Check every installed distribution's files against the hashes in its RECORD "
        "and list modified, missing and unrecorded files. With --lock, also check that the "
        "environment holds exactly the locked versions. Exit 1 when anything is wrong.",
    )
    p.add_argument("--python", metavar="PATH", help="interpreter or venv (default: the active one)")
    p.add_argument("--lock", metavar="FILE", help="also compare installed versions with this lock")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from pipvet.cli import console
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY

    report = verify_environment(args.python, lock_path=args.lock)
    if args.format == "json":
        print(json.dumps(report_to_json(report), indent=2, sort_keys=True))
    else:
        _print_text(report, console)
    return EXIT_OK if report.ok else EXIT_POLICY


# --- the work, callable from other parts -------------------------------------------------------


@dataclass(frozen=True)
class LockDiff:
    """How an environment differs from a lock."""

    missing: tuple[str, ...]  # "name==version" locked, not installed
    extra: tuple[str, ...]  # "name==version" installed, not locked
    other_version: tuple[tuple[str, str, str], ...]  # (name, installed, locked)
    lock_path: str

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.other_version)


@dataclass(frozen=True)
class VerifyReport:
    python: str
    prefix: str
    checks: tuple  # tuple[DistCheck, ...]
    unverifiable: tuple[str, ...]  # egg-info installs: no RECORD hashes to check against
    lock: LockDiff | None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and (self.lock is None or self.lock.ok)


def verify_environment(python: str | None = None, *, lock_path: str | None = None) -> VerifyReport:
    """Check every distribution of the interpreter's environment (and, with a lock, versions)."""
    from pathlib import Path

    from pipvet.core.record import check_dist, recorded_paths
    from pipvet.installer.target import probe_target
    from pipvet.sources.environment import iter_installed, probe_environment

    target = probe_target(python)
    env = probe_environment(target.python)
    dists = sorted(iter_installed(env), key=lambda d: d.name)
    lock_diff = _compare_lock(dists, lock_path, target.markers) if lock_path else None
    with_record = [d for d in dists if d.dist_info.endswith(".dist-info")]
    recorded = {d.name: frozenset(recorded_paths(d.dist_info, d.site_dir)) for d in with_record}
    everything: frozenset[Path] = frozenset().union(*recorded.values()) if recorded else frozenset()
    checks = tuple(
        check_dist(
            name=d.display_name,
            version=str(d.version),
            dist_info=d.dist_info,
            site_dir=d.site_dir,
            prefix=target.prefix,
            recorded_elsewhere=everything - recorded[d.name],
        )
        for d in with_record
    )
    unverifiable = tuple(f"{d.display_name}=={d.version}" for d in dists if d not in with_record)
    return VerifyReport(target.python, target.prefix, checks, unverifiable, lock_diff)


def _compare_lock(dists: list, lock_path: str, markers: dict[str, str] | None) -> LockDiff:
    from packaging.markers import InvalidMarker, Marker

    from pipvet.core.lockfile_io import read_lock

    lock = read_lock(lock_path)
    installed = {d.name: d for d in dists}
    missing: list[str] = []
    other: list[tuple[str, str, str]] = []
    locked_names = set()
    for pkg in lock.packages:
        if pkg.marker and markers is not None:
            try:
                if not Marker(pkg.marker).evaluate(dict(markers)):
                    continue  # not meant for this environment
            except InvalidMarker:
                pass
        locked_names.add(pkg.name)
        have = installed.get(pkg.name)
        if have is None:
            missing.append(f"{pkg.name}=={pkg.version}")
        elif have.version != pkg.version:
            other.append((pkg.name, str(have.version), str(pkg.version)))
    every_locked = {p.name for p in lock.packages}
    extra = tuple(
        f"{d.name}=={d.version}"
        for d in dists
        if d.name not in every_locked and d.name not in TOOLS
    )
    return LockDiff(tuple(missing), extra, tuple(other), lock_path)


def report_to_json(report: VerifyReport) -> dict:
    out: dict = {
        "python": report.python,
        "ok": report.ok,
        "distributions": [
            {
                "name": c.name,
                "version": c.version,
                "ok": c.ok,
                "files_checked": c.checked,
                "unhashed_entries": c.unhashed,
                "ignored_pycache": c.ignored_pycache,
                "problems": [
                    {"problem": p.problem.value, "path": p.path, "detail": p.detail}
                    for p in c.problems
                ],
            }
            for c in report.checks
        ],
        "unverifiable": list(report.unverifiable),
    }
    if report.lock is not None:
        out["lock"] = {
            "path": report.lock.lock_path,
            "ok": report.lock.ok,
            "missing": list(report.lock.missing),
            "extra": list(report.lock.extra),
            "other_version": [
                {"name": n, "installed": i, "locked": v} for n, i, v in report.lock.other_version
            ],
        }
    return out


def _print_text(report: VerifyReport, console) -> None:
    files = sum(c.checked for c in report.checks)
    bad = [c for c in report.checks if not c.ok]
    problems = sum(len(c.problems) for c in bad)
    for c in bad:
        for p in c.problems:
            detail = f" ({p.detail})" if p.detail else ""
            print(f"{c.name} {c.version}: {p.problem.value} {p.path}{detail}")
    if report.lock is not None:
        for m in report.lock.missing:
            print(f"lock: missing {m}")
        for n, have, want in report.lock.other_version:
            print(f"lock: {n} is {have}, locked {want}")
        for e in report.lock.extra:
            print(f"lock: extra {e} (not in the lock)")
    ignored = sum(c.ignored_pycache for c in report.checks)
    unhashed = sum(c.unhashed for c in report.checks)
    console.info(f"environment: {report.prefix} ({report.python})")
    console.detail(
        f"{unhashed} RECORD entries carry no hash (RECORD itself, .pyc files): existence checked"
    )
    if report.unverifiable:
        console.warn(
            f"{len(report.unverifiable)} installed without RECORD (egg-info), not verifiable: "
            + ", ".join(report.unverifiable[:5])
        )
    summary = f"verified {len(report.checks)} distributions, {files} files"
    if ignored:
        summary += f" (ignored {ignored} unrecorded __pycache__/*.pyc the interpreter wrote)"
    if report.ok:
        console.info(f"{summary}: all match")
    else:
        lock_n = 0
        if report.lock is not None:
            lock_n = (
                len(report.lock.missing) + len(report.lock.extra) + len(report.lock.other_version)
            )
        parts = []
        if problems:
            parts.append(f"{problems} file problem(s) in {len(bad)} distribution(s)")
        if lock_n:
            parts.append(f"{lock_n} difference(s) from the lock")
        console.error(f"{summary}: " + ", ".join(parts))
