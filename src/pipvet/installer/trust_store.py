"""Trust on first use: the sha256 of every file pipvet installed without a lock, by filename.

Files on an index must never change once uploaded (PyPI forbids re-uploading a filename), so a
later different hash for a filename seen before is the red flag, whatever the index lists now.
The store is a small JSON file in the user cache dir, written atomically, with an HMAC over its
entries under a key kept beside it (``pipvet.integrity``). A store that does not read back whole
(corrupt JSON, malformed entries, a missing or wrong HMAC) is a loud error, never a silent reset:
a reset would let a file whose hash changed install as if seen for the first time.
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

from pipvet.core.errors import InputError
from pipvet.integrity import load_key, sign, verify

STORE_NAME = "trusted-hashes.json"
FORMAT = 2
_HEX64 = frozenset("0123456789abcdef")


class TrustStoreError(InputError):
    """The trust store is corrupt or was changed outside pipvet (exit 2)."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"trust store {path} {why}; check it (a changed hash there is the red flag), then "
            f"move it aside to start over"
        )


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
        self.key_path = self.path.with_name(self.path.name + ".key")
        self._data: dict[str, dict[str, str]] = self._load()

    def _load(self) -> dict[str, dict[str, str]]:
        """Entries on disk ({} when there is no store yet); TrustStoreError when not intact."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeError) as exc:
            raise TrustStoreError(self.path, f"cannot be read ({exc})") from None
        try:
            raw = json.loads(text)
        except ValueError:
            raise TrustStoreError(self.path, "is corrupt (not valid JSON)") from None
        if not isinstance(raw, dict):
            raise TrustStoreError(self.path, "is corrupt (not a JSON object)")
        key = load_key(self.key_path, create=False)
        if raw.get("format") == FORMAT:
            entries = raw.get("entries")
            if not isinstance(entries, dict) or not isinstance(raw.get("hmac"), str):
                raise TrustStoreError(self.path, "is corrupt (no entries or no HMAC)")
            if key is None:
                raise TrustStoreError(self.path, f"has lost its key ({self.key_path})")
            if not verify(key, raw["hmac"], _canonical(entries)):
                raise TrustStoreError(self.path, "was changed outside pipvet (HMAC mismatch)")
        elif key is not None:
            # once pipvet has signed a store, an unsigned one is someone else's
            raise TrustStoreError(self.path, "is unsigned although its key exists")
        else:
            entries = raw  # the first format: {filename: entry}, signed on the next save
        _check_entries(self.path, entries)
        return entries

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
            merged.update(self._load())  # what other processes wrote; never over a bad store
            key = load_key(self.key_path)
            if key is None:
                raise TrustStoreError(self.path, f"cannot be signed ({self.key_path} unusable)")
            doc = {"format": FORMAT, "entries": merged, "hmac": sign(key, _canonical(merged))}
            fd, tmp = tempfile.mkstemp(prefix=".trust-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        self._data = merged

    def describe(self, entry: TrustedHash) -> str:
        """Where an expected hash came from, for mismatch messages."""
        return f"trust store {self.path}, first seen {entry.first_seen} on {entry.index_url}"


def _canonical(entries: dict) -> str:
    return json.dumps(entries, sort_keys=True, separators=(",", ":"))


def _check_entries(path: Path, entries: dict) -> None:
    for name, entry in entries.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _HEX64:
            raise TrustStoreError(path, f"is corrupt (entry {name[:80]!r} has no valid sha256)")
