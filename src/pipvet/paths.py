"""Where pipvet keeps its cache (advisory index, scan results, trust-on-first-use hashes)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    """The user's pipvet cache directory (``PIPVET_CACHE_DIR`` overrides it)."""
    override = os.environ.get("PIPVET_CACHE_DIR")
    if override:
        path = Path(override)
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "pipvet"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Caches" / "pipvet"
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipvet"
    path.mkdir(parents=True, exist_ok=True)
    return path
