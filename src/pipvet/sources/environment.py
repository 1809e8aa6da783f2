"""Installed distributions of a Python environment, read as data.

The target interpreter is started only with ``-I -S`` to ask for its site directories: ``-S`` keeps
``site`` from running ``.pth`` files, which can execute arbitrary code (the litellm 1.82.8 attack
used one). The ``.dist-info`` folders are then read as files; no package code is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipvet.core.errors import InputError
from pipvet.core.models import InstalledDist

_PROBE = r"""
import json, os, sys, sysconfig
prefix = sys.prefix
venv_cfg = None
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
for cand in (os.path.join(exe_dir, "pyvenv.cfg"),
             os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg")):
    if os.path.isfile(cand):
        venv_cfg = cand
        break
paths = []
include_system = True
if venv_cfg:
    venv = os.path.dirname(venv_cfg)
    with open(venv_cfg, encoding="utf-8") as f:
        cfg = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    cfg = {k.strip(): v.strip() for k, v in cfg.items()}
    include_system = cfg.get("include-system-site-packages", "false").lower() == "true"
    vp = sysconfig.get_paths(vars={"base": venv, "platbase": venv})
    paths += [vp["purelib"], vp["platlib"]]
if not venv_cfg or include_system:
    bp = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    paths += [bp["purelib"], bp["platlib"]]
seen = []
for p in paths:
    if p not in seen:
        seen.append(p)
print(json.dumps({"paths": seen, "version": "%d.%d" % sys.version_info[:2],
                  "executable": sys.executable, "venv": bool(venv_cfg)}))
"""


@dataclass(frozen=True)
class Environment:
    """A Python environment: its interpreter and the site directories to read."""

    python: str
    site_dirs: tuple[str, ...]
    python_version: str
    is_venv: bool


def probe_environment(python: str | None = None) -> Environment:
    """Ask an interpreter (default: the one pipvet runs in) for its site directories, safely."""
    exe = interpreter_path(python)
    try:
        out = subprocess.run(
            [exe, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        data = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise InputError(f"cannot inspect the Python environment at {exe}: {exc}") from exc
    return Environment(
        python=exe,
        site_dirs=tuple(p for p in data["paths"] if os.path.isdir(p)),
        python_version=data["version"],
        is_venv=bool(data["venv"]),
    )


def interpreter_path(python: str | None) -> str:
    """The interpreter file of ``python``: itself, or the one inside a venv folder."""
    exe = python or sys.executable
    if os.path.isdir(exe):
        for cand in ("bin/python", "Scripts/python.exe"):
            if os.path.exists(os.path.join(exe, cand)):
                return os.path.join(exe, cand)
        raise InputError(f"no Python interpreter found in {exe}")
    return exe


# Run pipvet's own pip inside another interpreter started with ``-I -S``. Without ``site`` that
# interpreter neither runs its ``.pth`` files and ``sitecustomize`` nor knows it is a venv, so
# this does what ``site`` would do for a venv, minus the ``.pth`` files: set ``sys.prefix`` from
# ``pyvenv.cfg`` (before ``sysconfig`` is imported: it reads ``sys.prefix`` once) and put the
# site directories on ``sys.path``. pip's ``__pip-runner__.py`` then imports only pip itself from
# pipvet's installation (not the rest of pipvet's site-packages).
_PIP_BOOT = r"""
import os, sys
runner = sys.argv.pop(1)
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
venv = next((d for d in (exe_dir, os.path.dirname(exe_dir))
             if os.path.isfile(os.path.join(d, "pyvenv.cfg"))), None)
system = True
if venv:
    with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8") as f:
        cfg = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    cfg = {k.strip().lower(): v.strip().lower() for k, v in cfg.items()}
    system = cfg.get("include-system-site-packages", "false") == "true"
    sys.prefix = sys.exec_prefix = venv
import sysconfig
dirs = []
if venv:
    paths = sysconfig.get_paths(vars={"base": venv, "platbase": venv})
    dirs += [paths["purelib"], paths["platlib"]]
if system:
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    dirs += [paths["purelib"], paths["platlib"]]
for d in dirs:
    if d not in sys.path and os.path.isdir(d):
        sys.path.append(d)
sys.argv[0] = runner
import runpy
runpy.run_path(runner, run_name="__main__")
"""


def pip_command(python: str | None, *args: str) -> list[str]:
    """``pip <args>`` run by pipvet's own pip inside ``python``, started with ``-I -S`` only
    (``pip --python`` would start it with ``site``, running its ``.pth`` files)."""
    import pip

    runner = Path(pip.__file__).resolve().parent / "__pip-runner__.py"
    return [interpreter_path(python), "-I", "-S", "-c", _PIP_BOOT, str(runner), *args]


def no_site_launcher(python: str | None, folder: Path) -> str:
    """A launcher in ``folder`` that starts ``python`` with ``-I -S``, for tools that start the
    interpreter themselves (``uv --python``). On Windows the interpreter itself is returned."""
    exe = interpreter_path(python)
    if os.name == "nt":  # pragma: no cover
        return exe
    import shlex

    launcher = folder / "python-no-site"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(exe)} -I -S "$@"\n', encoding="utf-8")
    launcher.chmod(0o700)
    return str(launcher)


def _read_metadata(dist_dir: Path) -> tuple[str, str, tuple[str, ...]] | None:
    meta = dist_dir / ("METADATA" if dist_dir.suffix == ".dist-info" else "PKG-INFO")
    try:
        text = meta.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    name = version = None
    requires: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            break  # end of headers; the body is the long description
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "name" and name is None:
            name = value.strip()
        elif key == "version" and version is None:
            version = value.strip()
        elif key == "requires-dist":
            requires.append(value.strip())
    if not name or not version:
        return None
    return name, version, tuple(requires)


def iter_installed(env: Environment) -> Iterator[InstalledDist]:
    """Yield every distribution installed in the environment's site directories (first wins)."""
    seen: set[str] = set()
    for site in env.site_dirs:
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            if not (entry.endswith(".dist-info") or entry.endswith(".egg-info")):
                continue
            path = Path(site) / entry
            if not path.is_dir():
                continue
            meta = _read_metadata(path)
            if meta is None:
                continue
            raw_name, raw_version, requires = meta
            name = canonicalize_name(raw_name)
            if name in seen:
                continue
            try:
                version = Version(raw_version)
            except InvalidVersion:
                continue
            seen.add(name)
            yield InstalledDist(
                name=name,
                version=version,
                display_name=raw_name,
                dist_info=str(path),
                site_dir=site,
                requires=requires,
            )


def installed_distributions(python: str | None = None) -> list[InstalledDist]:
    """All distributions installed for an interpreter, sorted by name."""
    return sorted(iter_installed(probe_environment(python)), key=lambda d: d.name)
