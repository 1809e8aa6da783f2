"""The ``verify`` service: installed files against their RECORD hashes, and the environment
against a lock.

pip writes RECORD at install time but never checks it (pip#4705). This reads every installed
distribution's RECORD as data (no ``.pth`` file runs, nothing is imported) and lists modified,
missing and unrecorded files. With a lock it also checks that the environment holds exactly the
locked versions. The report model lives in ``pipvet.core.reports.verify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipvet.core.record import check_dist, recorded_paths
from pipvet.core.reports.verify import LockDiff, VerifyReport
from pipvet.installer.target import probe_target
from pipvet.sources.environment import iter_installed, probe_environment

__all__ = ["TOOLS", "LockDiff", "VerifyReport", "VerifyRequest", "verify", "verify_environment"]

TOOLS = frozenset({"pip", "setuptools", "wheel"})  # not reported as extra when the lock omits them


@dataclass(frozen=True)
class VerifyRequest:
    python: str | None = None  # interpreter or venv (default: the active venv, else pipvet's)
    lock: str | None = None  # also compare installed versions with this lock


def verify(request: VerifyRequest) -> VerifyReport:
    """Check every distribution of the environment against its RECORD (and, with a lock, its
    versions against the lock)."""
    return verify_environment(request.python, lock_path=request.lock)


def verify_environment(python: str | None = None, *, lock_path: str | None = None) -> VerifyReport:
    """Check every distribution of the interpreter's environment (and, with a lock, versions)."""

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
