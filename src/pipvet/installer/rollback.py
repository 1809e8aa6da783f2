"""Put the target environment back exactly as it was when pip fails part-way.

Before pip or uv runs: list every file under the environment (a venv's whole prefix; otherwise its
site directories and scripts folder) and copy aside every file the installer may remove or
overwrite: the files of installed distributions the install replaces (from their RECORD, with the
``.pyc`` files of their modules, recorded or not) and existing files at the paths the staged wheels
would write. On failure: delete what is new, copy back what was saved.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.errors import InputError
from pipvet.core.record import recorded_paths
from pipvet.installer.staging import StagedFile


@dataclass(frozen=True)
class Snapshot:
    roots: tuple[Path, ...]
    files: frozenset[Path]
    dirs: frozenset[Path]
    backup_dir: Path
    saved: tuple[Path, ...]  # original paths copied into backup_dir


def _walk(roots: Iterable[Path]) -> tuple[set[Path], set[Path]]:
    files: set[Path] = set()
    dirs: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        dirs.add(root)
        for dirpath, dirnames, filenames in os.walk(root):
            base = Path(dirpath)
            dirs.update(base / d for d in dirnames)
            files.update(base / f for f in filenames)
    return files, dirs


def roots_for(prefix: str, site_dirs: Iterable[str]) -> tuple[Path, ...]:
    p = Path(prefix)
    if (p / "pyvenv.cfg").is_file():
        return (p,)
    roots = [Path(s) for s in site_dirs]
    roots += [p / "bin", p / "Scripts"]
    return tuple(dict.fromkeys(r for r in roots if r.is_dir()))


def _script_names(zf: zipfile.ZipFile, names: list[str]) -> set[str]:
    """Console and GUI script names from the wheel's ``entry_points.txt`` (pip writes them)."""
    import configparser

    ep = next((n for n in names if re.fullmatch(r"[^/]+\.dist-info/entry_points\.txt", n)), None)
    if ep is None:
        return set()
    cp = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        cp.read_string(zf.read(ep).decode("utf-8", "replace"))
    except (configparser.Error, OSError, zipfile.BadZipFile, RuntimeError):
        return set()
    out: set[str] = set()
    for section in ("console_scripts", "gui_scripts"):
        if cp.has_section(section):
            out.update(k.strip() for k in cp[section] if k.strip() and "/" not in k)
    return out


def _wheel_destinations(wheel: Path, site: Path, prefix: Path) -> set[Path]:
    """Every path installing ``wheel`` may write (so an existing file there is saved first)."""
    out: set[Path] = set()
    bins = (prefix / "bin", prefix / "Scripts")
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            scripts = _script_names(zf, names)
    except (OSError, zipfile.BadZipFile):
        return out
    project = wheel.name.split("-")[0]
    for script in scripts:
        out.update(b / name for b in bins for name in (script, f"{script}.exe"))
    for n in names:
        parts = n.split("/")
        if len(parts) >= 3 and parts[0].endswith(".data"):
            kind, rest = parts[1], parts[2:]
            if kind in ("purelib", "platlib"):
                out.add(site.joinpath(*rest))
            elif kind == "scripts":
                out.update(b.joinpath(*rest) for b in bins)
            elif kind == "data":
                out.add(prefix.joinpath(*rest))
            elif kind == "headers":  # pip: <prefix>/include/site/pythonX.Y/<project>/
                for inc in (prefix / "include" / "site").glob("python*"):
                    out.update(inc.joinpath(name, *rest) for name in {project, project.lower()})
        elif n and not n.endswith("/"):
            out.add(site.joinpath(*parts))
    return out


def _compiled(recorded: set[Path]) -> set[Path]:
    """The ``__pycache__/*.pyc`` files of the recorded ``.py`` files, in RECORD or not (uv and the
    interpreter write them outside RECORD; an uninstall removes them all the same)."""
    stems: dict[Path, set[str]] = {}
    for p in recorded:
        if p.suffix == ".py":
            stems.setdefault(p.parent / "__pycache__", set()).add(p.stem)
    out: set[Path] = set()
    for cache, names in stems.items():
        try:
            entries = os.listdir(cache)
        except OSError:
            continue
        out.update(cache / e for e in entries if e.endswith(".pyc") and e.split(".")[0] in names)
    return out


def take_snapshot(
    *,
    prefix: str,
    site_dirs: Iterable[str],
    replaced: Iterable[tuple[str, str]],  # (dist_info, site_dir) of distributions pip may replace
    staged: Iterable[StagedFile],
    backup_dir: Path,
) -> Snapshot:
    """Record the environment's files and save those pip may remove or overwrite."""
    site_dirs = list(site_dirs)
    roots = roots_for(prefix, site_dirs)
    files, dirs = _walk(roots)
    at_risk: set[Path] = set()
    for dist_info, site in replaced:
        recorded = {Path(os.path.realpath(p)) for p in recorded_paths(dist_info, site)}
        at_risk |= recorded | _compiled(recorded)
    if site_dirs:
        site = Path(site_dirs[0])
        for s in staged:
            if s.path.suffix == ".whl":
                at_risk |= _wheel_destinations(s.path, site, Path(prefix))
    saved = []
    for path in sorted(at_risk):
        if path.is_file() and not path.is_symlink():
            dest = backup_dir / str(len(saved))
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
            except OSError as e:
                raise InputError(
                    f"cannot save {path} before pip runs ({e.strerror or e}); nothing was installed"
                ) from None
            saved.append(path)
    return Snapshot(roots, frozenset(files), frozenset(dirs), backup_dir, tuple(saved))


def restore(snap: Snapshot) -> list[str]:
    """Delete files that are new since the snapshot and copy back the saved ones.

    Returns the problems it could not fix (empty when the environment is as it was).
    """
    problems: list[str] = []
    now_files, now_dirs = _walk(snap.roots)
    for path in sorted(now_files - snap.files):
        try:
            path.unlink()
        except OSError as e:
            problems.append(f"cannot remove {path}: {e}")
    for i, path in enumerate(snap.saved):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or (path.exists() and not path.is_file()):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            shutil.copy2(snap.backup_dir / str(i), path)
        except OSError as e:
            problems.append(f"cannot restore {path}: {e}")
    for d in sorted(now_dirs - snap.dirs, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()
    missing = sorted(p for p in snap.files - set(_walk(snap.roots)[0]))
    problems += [f"not restored: {p}" for p in missing[:20]]
    return problems
