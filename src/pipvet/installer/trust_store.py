"""Trust on first use: the sha256 of every file pipvet installed without a lock, by filename.

Files on an index must never change once uploaded (PyPI forbids re-uploading a filename), so a
later different hash for a filename seen before is the red flag, whatever the index lists now.
The store is a small JSON file in the user cache dir, written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

STORE_NAME = "trusted-hashes.json"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``lock_path`` (POSIX flock; a no-op where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: os.replace keeps the file whole
        yield
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class TrustedHash:
    filename: str
    sha256: str
    index_url: str
    first_seen: str  # ISO 8601, UTC


class TrustStore:
    """``{filename: {sha256, index, first_seen}}`` in ``<cache>/trusted-hashes.json``."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from pipvet.paths import cache_dir

            path = cache_dir() / STORE_NAME
        self.path = Path(path)
        self._data: dict[str, dict[str, str]] = {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                self._data = {k: v for k, v in raw.items() if isinstance(v, dict)}
        except (OSError, ValueError):
            self._data = {}

    def get(self, filename: str) -> TrustedHash | None:
        entry = self._data.get(filename)
        if not entry or "sha256" not in entry:
            return None
        return TrustedHash(
            filename, entry["sha256"], entry.get("index", ""), entry.get("first_seen", "")
        )

    def record(self, filename: str, sha256: str, index_url: str) -> None:
        """Remember a hash (the first one wins: an existing entry is never overwritten)."""
        if filename in self._data:
            return
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._data[filename] = {"sha256": sha256, "index": index_url, "first_seen": now}

    def save(self) -> None:
        """Merge with what other pipvet processes wrote (first one wins) and write atomically,
        holding a lock so that two concurrent installs cannot drop each other's entries."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path.with_name(self.path.name + ".lock")):
            merged = dict(self._data)
            try:
                on_disk = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(on_disk, dict):
                    merged.update({k: v for k, v in on_disk.items() if isinstance(v, dict)})
            except (OSError, ValueError):
                pass
            fd, tmp = tempfile.mkstemp(prefix=".trust-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(merged, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        self._data = merged

    def describe(self, entry: TrustedHash) -> str:
        """Where an expected hash came from, for mismatch messages."""
        return f"trust store {self.path}, first seen {entry.first_seen} on {entry.index_url}"
