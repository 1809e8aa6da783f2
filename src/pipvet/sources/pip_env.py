"""The environment pip and uv run in: the caller's, without anything that could steer them.

Every pip and uv that pipvet starts (resolving for ``lock``, installing for ``install``) gets this
one environment: no ``PIP_*`` or ``UV_*`` variable (they can add indexes and find-links), no pip
config file (``PIP_CONFIG_FILE`` is the null device), no uv config file (``UV_NO_CONFIG``), and no
``PYTHONPATH`` (a ``pip`` package on it would replace the real one in ``python -m pip``).

uv's cache is pipvet's own (``<pipvet cache>/uv``, or the folder the caller gives, e.g. a
temporary one for an install), never the user's: the user's uv cache is not pipvet's to trust or
to fill. uv never downloads a Python, never shows progress bars, and never checks for updates.
"""

from __future__ import annotations

import os
from pathlib import Path

DROPPED_PREFIXES = ("PIP_", "UV_")
DROPPED = ("PYTHONPATH",)


def scrubbed_env(*, uv_cache: Path | None = None) -> dict[str, str]:
    """A copy of ``os.environ`` fit for running pip or uv on verified inputs (``uv_cache``: the
    cache folder uv gets, by default ``uv`` under pipvet's cache)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(DROPPED_PREFIXES) and k not in DROPPED
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    from pipvet.paths import cache_dir, home_dir

    if home_dir() is None:  # newer pips refuse to start without a home folder, even unused
        env["HOME"] = str(cache_dir())
    env["UV_CACHE_DIR"] = str(uv_cache if uv_cache is not None else cache_dir() / "uv")
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    return env
