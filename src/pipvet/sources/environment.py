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


def default_python(python: str | None = None) -> str:
    """The interpreter a command works on: ``python`` (a file or a venv folder) when given, else
    the active venv (``VIRTUAL_ENV``), else the Python pipvet runs in. Every command that reads or
    changes an environment asks this function, and names the result."""
    if python is None:
        python = os.environ.get("VIRTUAL_ENV") or sys.executable
    if os.path.isdir(python):
        for cand in ("bin/python", "Scripts/python.exe"):
            if os.path.exists(os.path.join(python, cand)):
                return os.path.join(python, cand)
        raise InputError(f"no Python interpreter found in {python}")
    return python


def probe_environment(python: str | None = None) -> Environment:
    """Ask an interpreter (``default_python``) for its site directories, safely."""
    exe = default_python(python)
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
    """All distributions installed for an interpreter (``default_python``), sorted by name."""
    return sorted(iter_installed(probe_environment(python)), key=lambda d: d.name)
