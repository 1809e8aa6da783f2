"""Where pipvet keeps its cache (advisory index, scan results, trust-on-first-use hashes).

When that folder cannot be used (a read-only home or cache folder, no home at all because ``HOME``
is unset and the user has no passwd entry, a full disk), pipvet says so once and uses a private
temporary folder for this run instead of crashing: nothing it keeps there outlives the run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_fallback: Path | None = None


def home_dir() -> Path | None:
    """The user's home folder, or None when there is none (``HOME`` unset and no passwd entry)."""
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


def _preferred() -> Path:
    override = os.environ.get("PIPVET_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "pipvet"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "pipvet"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipvet"


def cache_dir() -> Path:
    """The user's pipvet cache directory (``PIPVET_CACHE_DIR`` overrides it), or, when it cannot
    be created or written, a temporary one for this run (with one warning on stderr)."""
    if _fallback is not None:
        return _fallback
    where = "the cache folder"
    try:
        path = _preferred()
        where = str(path)
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # writable? (root ignores permission bits)
            pass
        return path
    except (OSError, RuntimeError, KeyError) as exc:  # RuntimeError/KeyError: no home folder
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return _temporary(f"cannot use {where} ({reason})")


def _temporary(reason: str) -> Path:
    global _fallback
    _fallback = Path(tempfile.mkdtemp(prefix="pipvet-cache-"))
    atexit.register(shutil.rmtree, _fallback, True)
    sys.stderr.write(
        f"warning: {reason}; using a temporary cache for this run: hashes seen on first use "
        "and the advisory index are not kept (set PIPVET_CACHE_DIR to a writable folder)\n"
    )
    return _fallback
