"""The environment pip and uv run in: the caller's, without anything that could steer them.

Every pip and uv that pipvet starts (resolving for ``lock``, installing for ``install``) gets this
one environment: no ``PIP_*`` or ``UV_*`` variable (they can add indexes and find-links), no pip
config file (``PIP_CONFIG_FILE`` is the null device), and no ``PYTHONPATH`` (a ``pip`` package on
it would replace the real one in ``python -m pip``).
"""

from __future__ import annotations

import os

DROPPED_PREFIXES = ("PIP_", "UV_")
DROPPED = ("PYTHONPATH",)


def scrubbed_env() -> dict[str, str]:
    """A copy of ``os.environ`` fit for running pip or uv on verified inputs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(DROPPED_PREFIXES) and k not in DROPPED
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    from pipvet.paths import cache_dir, home_dir

    if home_dir() is None:  # newer pips refuse to start without a home folder, even unused
        env["HOME"] = str(cache_dir())
    return env
