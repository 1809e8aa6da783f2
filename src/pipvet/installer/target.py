"""The target interpreter of an install or verify: its prefix, version and wheel tags.

It is started with ``-I -S`` only (no site, so no ``.pth`` file runs). Its tags are computed by
pipvet's own copy of ``packaging.tags`` running in that interpreter, so they are exactly the tags
it supports (platform, glibc, ABI); when that fails, they are computed here from its version.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import packaging
from packaging.tags import Tag, compatible_tags, cpython_tags, platform_tags

from pipvet.core.errors import InputError
from pipvet.sources.environment import default_python

_PROBE = r"""
import json, os, sys
prefix = sys.prefix  # without site, a venv's prefix is not set yet: find its pyvenv.cfg
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
for cand in (exe_dir, os.path.dirname(exe_dir)):
    if os.path.isfile(os.path.join(cand, "pyvenv.cfg")):
        prefix = cand
        break
out = {"prefix": prefix, "version": "%d.%d.%d" % sys.version_info[:3],
       "impl": sys.implementation.name, "executable": sys.executable, "tags": None}
try:
    sys.path.insert(0, sys.argv[1])
    from packaging.tags import sys_tags
    out["tags"] = [str(t) for t in sys_tags()]
    from packaging.markers import default_environment
    out["markers"] = default_environment()
except Exception as exc:
    out["tags_error"] = repr(exc)
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Target:
    """A Python interpreter to install into or verify."""

    python: str
    prefix: str
    version: str  # "3.11.7"
    implementation: str  # "cpython"
    tags: tuple[Tag, ...]  # most preferred first
    markers: dict[str, str] | None = None  # PEP 508 environment, when it could be computed

    @property
    def tag_rank(self) -> dict[Tag, int]:
        return {t: i for i, t in enumerate(self.tags)}


def probe_target(python: str | None = None) -> Target:
    """Ask the interpreter (``default_python``: the active venv unless one is named), started
    with ``-I -S``, for its prefix, version and supported wheel tags."""
    exe = default_python(python)
    pkg_parent = str(Path(packaging.__file__).resolve().parent.parent)
    try:
        proc = subprocess.run(
            [exe, "-I", "-S", "-c", _PROBE, pkg_parent],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        data = json.loads(proc.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise InputError(f"cannot inspect the Python interpreter {exe}: {exc}") from exc
    if data.get("tags"):
        tags = tuple(Tag(*t.split("-")) for t in data["tags"])
    else:
        tags = _tags_from_version(data["version"], data["impl"])
    return Target(
        python=exe,
        prefix=data["prefix"],
        version=data["version"],
        implementation=data["impl"],
        tags=tags,
        markers=data.get("markers"),
    )


def _tags_from_version(version: str, impl: str) -> tuple[Tag, ...]:
    """Fallback: tags for a CPython of this version on this machine's platform."""
    major, minor = (int(x) for x in version.split(".")[:2])
    platforms = list(platform_tags())
    tags: list[Tag] = []
    if impl == "cpython":
        tags += cpython_tags((major, minor), platforms=platforms)
    tags += compatible_tags((major, minor), platforms=platforms)
    return tuple(dict.fromkeys(tags))
