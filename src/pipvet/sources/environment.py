"""Interpreters and their environments: the one probe, the default target, installed
distributions read as data.

The target interpreter is started only with ``-I -S`` to ask for its site directories: ``-S`` keeps
``site`` from running ``.pth`` files, which can execute arbitrary code (the litellm 1.82.8 attack
used one). The ``.dist-info`` folders are then read as files; no package code is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipvet.core.errors import InputError

if TYPE_CHECKING:  # packaging is loaded where it is used: ``default_python`` needs none of it
    from pipvet.core.models import InstalledDist

VENV_PYTHONS = ("bin/python", "Scripts/python.exe")  # a venv's interpreter, POSIX and Windows

_PROBE = r"""
import json, os, platform, sys, sysconfig
prefix = sys.prefix  # without site, a venv's prefix is not set yet: find its pyvenv.cfg
venv_cfg = None
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
for cand in (exe_dir, os.path.dirname(exe_dir)):
    if os.path.isfile(os.path.join(cand, "pyvenv.cfg")):
        venv_cfg = os.path.join(cand, "pyvenv.cfg")
        prefix = cand
        break
paths = []
include_system = True
if venv_cfg:
    with open(venv_cfg, encoding="utf-8") as f:
        cfg = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    cfg = {k.strip(): v.strip() for k, v in cfg.items()}
    include_system = cfg.get("include-system-site-packages", "false").lower() == "true"
    vp = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
    paths += [vp["purelib"], vp["platlib"]]
if not venv_cfg or include_system:
    bp = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    paths += [bp["purelib"], bp["platlib"]]
seen = []
for p in paths:
    if p not in seen:
        seen.append(p)
def full(info):
    v = "%d.%d.%d" % (info.major, info.minor, info.micro)
    return v if info.releaselevel == "final" else v + info.releaselevel[0] + str(info.serial)
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": full(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
out = {"prefix": prefix, "paths": seen, "version": "%d.%d.%d" % sys.version_info[:3],
       "impl": sys.implementation.name, "executable": sys.executable, "venv": bool(venv_cfg),
       "markers": markers, "tags": None}
if len(sys.argv) > 1:  # wheel tags asked for: pipvet's own packaging computes exactly this one's
    try:
        sys.path.insert(0, sys.argv[1])
        from packaging.tags import sys_tags
        out["tags"] = [str(t) for t in sys_tags()]
    except Exception as exc:
        out["tags_error"] = repr(exc)
print(json.dumps(out))
"""


class Interpreter(NamedTuple):
    """What one start of an interpreter (``-I -S``: no site, no ``.pth`` file) told about it.
    (A NamedTuple, as ``Environment``: ``pipvet lock`` asks ``default_python`` before it starts
    uv, and ``dataclasses`` costs ~7 ms to import.)"""

    python: str  # the path it was started by
    prefix: str  # its environment (a venv's folder)
    version: str  # "3.11.7"
    implementation: str  # "cpython"
    site_dirs: tuple[str, ...]  # where its distributions are installed (existing folders)
    is_venv: bool
    markers: dict[str, str]  # its PEP 508 environment
    tags: tuple[str, ...] | None  # the wheel tags it supports, best first (None: not computed)


class Environment(NamedTuple):
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
        for cand in VENV_PYTHONS:
            if os.path.exists(os.path.join(python, cand)):
                return os.path.join(python, cand)
        raise InputError(f"no Python interpreter found in {python}")
    return python


def probe(python: str | None = None, *, tags: bool = False) -> Interpreter:
    """Start the interpreter (``default_python``) once with ``-I -S`` and read what it says:
    the one probe behind install targets, environments read as data and resolver markers.
    ``tags``: also compute its wheel tags (with pipvet's own ``packaging``; slower)."""
    import json

    import packaging

    exe = default_python(python)
    extra = [str(Path(packaging.__file__).resolve().parent.parent)] if tags else []
    try:
        out = subprocess.run(
            [exe, "-I", "-S", "-c", _PROBE, *extra],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        data = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise InputError(f"cannot inspect the Python interpreter {exe}: {exc}") from exc
    return Interpreter(
        python=exe,
        prefix=data["prefix"],
        version=data["version"],
        implementation=data["impl"],
        site_dirs=tuple(p for p in data["paths"] if os.path.isdir(p)),
        is_venv=bool(data["venv"]),
        markers=dict(data["markers"]),
        tags=tuple(data["tags"]) if data.get("tags") else None,
    )


def probe_environment(python: str | None = None) -> Environment:
    """The environment of an interpreter (``default_python``): its site directories, safely."""
    info = probe(python)
    return Environment(
        python=info.python,
        site_dirs=info.site_dirs,
        python_version=".".join(info.version.split(".")[:2]),
        is_venv=info.is_venv,
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
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    from pipvet.core.models import InstalledDist

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


def interpreter_path(python: str | None) -> str:
    """The interpreter file of ``python`` (itself, or the one inside a venv folder); pipvet's
    own Python when None (``default_python`` is the choice of a command's target)."""
    return default_python(python) if python else sys.executable


# Run pipvet's own pip (or uv's own Python snippets) inside another interpreter started with
# ``-I -S``. Without ``site`` that interpreter neither runs its ``.pth`` files and
# ``sitecustomize`` nor knows it is a venv, so ``_VENV_BOOT`` does what ``site`` would do for a
# venv, minus the ``.pth`` files: set ``sys.prefix`` from ``pyvenv.cfg`` (before ``sysconfig`` is
# imported: it reads ``sys.prefix`` once) and put the site directories on ``sys.path``. pip's
# ``__pip-runner__.py`` then imports only pip itself from pipvet's installation (not the rest of
# pipvet's site-packages).
_VENV_BOOT = r"""
import os, sys
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
"""
_PIP_BOOT = (
    _VENV_BOOT
    + r"""
runner = sys.argv.pop(1)
sys.argv[0] = runner
import runpy
runpy.run_path(runner, run_name="__main__")
"""
)
# What a launcher runs for a tool that starts the interpreter itself with its own options
# (uv: ``python -I -B -c CODE``): the venv set up as above, then the command line as Python would
# read it; ``-B`` is kept, the other options are what ``-I -S`` already are or change nothing here.
_LAUNCH_BOOT = (
    _VENV_BOOT
    + r"""
args = sys.argv[1:]
while args and args[0].startswith("-") and args[0] not in ("-", "-c", "-m"):
    if "B" in args[0][1:] and not args[0].startswith("--"):
        sys.dont_write_bytecode = True
    args.pop(0)
import runpy
if args[:1] == ["-c"]:
    sys.argv = ["-c", *args[2:]]
    exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
elif args[:1] == ["-m"]:
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)
elif args and args[0] != "-":
    sys.argv = args
    runpy.run_path(args[0], run_name="__main__")
else:
    sys.argv = args or [""]
    exec(compile(sys.stdin.read(), "<stdin>", "exec"), {"__name__": "__main__"})
"""
)


def pip_command(python: str | None, *args: str) -> list[str]:
    """``pip <args>`` run by pipvet's own pip inside ``python``, started with ``-I -S`` only
    (``pip --python`` would start it with ``site``, running its ``.pth`` files)."""
    import pip

    runner = Path(pip.__file__).resolve().parent / "__pip-runner__.py"
    return [interpreter_path(python), "-I", "-S", "-c", _PIP_BOOT, str(runner), *args]


def no_site_launcher(python: str | None, folder: Path) -> str:
    """A launcher in ``folder`` for tools that start the interpreter themselves (``uv
    --python``): it starts ``python`` with ``-I -S`` (so no ``.pth`` file or ``sitecustomize`` of
    the target runs), sets up its venv as ``site`` would, then runs the tool's command line. On
    Windows the interpreter itself is returned."""
    exe = interpreter_path(python)
    if os.name == "nt":  # pragma: no cover
        return exe
    import shlex

    launcher = folder / "python-no-site"
    launcher.write_text(
        f'#!/bin/sh\nexec {shlex.quote(exe)} -I -S -c {shlex.quote(_LAUNCH_BOOT)} "$@"\n',
        encoding="utf-8",
    )
    launcher.chmod(0o700)
    return str(launcher)
