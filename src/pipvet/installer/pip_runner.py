"""Run pip so that it can install nothing but the verified files in the staging directory.

``pip install --require-hashes --no-deps --no-index --find-links STAGING -r <hashed reqs>`` with
``--isolated`` and the environment of ``pipvet.sources.pip_env`` (no ``PIP_*`` variable, no config
file, no ``PYTHONPATH``): pip's config files and variables can add indexes and find-links, and
must not.
pipvet's own pip runs and targets the interpreter with ``--python``, so the target needs no pip.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipvet.installer.staging import StagedFile
from pipvet.sources.pip_env import scrubbed_env

BASE_OPTIONS = ("--isolated", "--disable-pip-version-check", "--no-input")


def pip_command(python: str, *args: str) -> list[str]:
    """``python -m pip --python TARGET <args>`` with pipvet's interpreter and pip."""
    return [sys.executable, "-m", "pip", "--python", python, *args]


def write_requirements(staged: Iterable[StagedFile], path: Path, *, hashes: bool) -> Path:
    """The generated requirements: one ``name==version --hash=sha256:...`` line per package."""
    lines = []
    for s in sorted(staged, key=lambda s: s.name):
        if s.build_dependency:
            continue
        lines.append(f"{s.name}=={s.version}" + (f" --hash=sha256:{s.sha256}" if hashes else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def install_command(
    python: str,
    staging_dir: Path,
    requirements: Path,
    *,
    require_hashes: bool,
    sdists: Sequence[str] = (),
    verbose: bool = False,
) -> list[str]:
    args = [
        "install",
        *BASE_OPTIONS,
        "--no-cache-dir",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(staging_dir),
        "--only-binary",
        ":all:",
    ]
    for name in sdists:  # only these may be built; their build deps come from STAGING too
        args += ["--no-binary", name]
    if require_hashes:
        args.append("--require-hashes")
    if not verbose:
        args.append("-q")
    args += ["-r", str(requirements)]
    return pip_command(python, *args)


def run(cmd: list[str], *, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run a pip command with the scrubbed environment; output captured for messages."""
    return subprocess.run(
        cmd, env=scrubbed_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
