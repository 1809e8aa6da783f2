"""Hash rules and hash-mismatch explanations (pure: reads local files at most).

Strong algorithms only: sha256, sha384, sha512. md5, sha1 and sha224 are refused everywhere,
including ``#md5=`` URL fragments, which pip still accepts "regardless of hash strength"
(field notes section 5, item 9).

A mismatch is classified by its likely cause, so that the harmless ones (a file uploaded after the
lock was made, pip#3996 / pip#11692; a file for another platform, pip-tools#414; another index or
mirror, pip#12424 / pip-tools#1734) read differently from the alarming one: different bytes under
a filename the lock already knows. The message never suggests copying the hash that was just
downloaded into the lock (pip's HashMissing text does, which defeats the check).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from urllib.parse import urlsplit

from pipvet.core.errors import PolicyRefusal, UsageError
from pipvet.core.models import DistFile, FileHash

STRONG_ALGORITHMS = ("sha256", "sha384", "sha512")
WEAK_ALGORITHMS = ("md5", "sha1", "sha224")


class WeakHashError(PolicyRefusal):
    """A weak or unknown hash algorithm was offered as proof of integrity (exit 1)."""


def check_algorithm(algorithm: str, *, where: str = "") -> str:
    """Return the normalised algorithm name, or refuse md5/sha1/sha224 and unknown ones."""
    name = algorithm.strip().lower()
    at = f" ({where})" if where else ""
    if name in WEAK_ALGORITHMS:
        raise WeakHashError(
            f"refused weak hash {name}{at}: only sha256, sha384 or sha512 prove a file's integrity",
            hint="re-create the lock with `pipvet lock`, which records sha256 for every file",
        )
    if name not in STRONG_ALGORITHMS:
        raise UsageError(f"unknown hash algorithm {algorithm!r}{at}")
    return name


def parse_hash(text: str, *, where: str = "") -> FileHash:
    """Parse ``sha256:<hex>`` (a ``--hash`` value) into a checked ``FileHash``."""
    algorithm, sep, digest = text.strip().partition(":")
    if not sep or not digest:
        raise UsageError(f"malformed hash {text!r}{f' ({where})' if where else ''}")
    name = check_algorithm(algorithm, where=where)
    digest = digest.lower()
    expected_len = hashlib.new(name).digest_size * 2
    if len(digest) != expected_len or any(c not in "0123456789abcdef" for c in digest):
        raise UsageError(f"malformed {name} digest {digest!r}{f' ({where})' if where else ''}")
    return FileHash(name, digest)


def hash_from_url(url: str) -> FileHash | None:
    """The hash in a URL fragment (``#sha256=...``); weak ones (``#md5=``) are refused."""
    fragment = urlsplit(url).fragment
    if not fragment or "=" not in fragment:
        return None
    algorithm, _, digest = fragment.partition("=")
    if algorithm.lower() not in (*STRONG_ALGORITHMS, *WEAK_ALGORITHMS):
        return None  # e.g. #egg=name: not a hash
    return parse_hash(f"{algorithm}:{digest}", where=url)


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a local file, read in chunks."""
    h = hashlib.new(check_algorithm(algorithm))
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def matches(path: str | os.PathLike[str], accepted: Iterable[FileHash]) -> FileHash | None:
    """The first accepted hash the file satisfies, or None (each algorithm is computed once)."""
    by_alg: dict[str, str] = {}
    for h in accepted:
        alg = check_algorithm(h.algorithm)
        if alg not in by_alg:
            by_alg[alg] = file_digest(path, alg)
        if by_alg[alg] == h.digest.lower():
            return h
    return None


class MismatchCause(Enum):
    """Why the bytes pipvet got are not the bytes the lock (or trust store) expects."""

    CHANGED_BYTES = "changed-bytes"  # the red flag: same filename, different bytes
    NEW_UPLOAD = "new-upload"  # a file uploaded after the lock was made
    OTHER_PLATFORM = "other-platform"  # the lock only knows files for other platforms
    OTHER_INDEX = "other-index"  # downloaded from another index or mirror than the lock's
    CORRUPT_DOWNLOAD = "corrupt-download"  # bytes differ from what the index itself lists
    UNKNOWN_FILE = "unknown-file"  # a file the lock does not list, for no visible reason


@dataclass(frozen=True)
class HashMismatch:
    """One refused file: what was expected, what arrived, from where, and the likely cause."""

    requirement: str  # "name==version"
    filename: str
    url: str  # where the bytes came from
    expected: tuple[FileHash, ...]  # what the lock or trust store accepts for this package
    actual: FileHash | None  # the digest of the downloaded bytes (None: not downloaded)
    expected_from: str  # "requirements.lock:12", "trust store (~/.cache/pipvet/...)"
    cause: MismatchCause
    listed_only: bool = False  # True: ``actual`` is what the index lists, the file was not fetched

    @property
    def is_red_flag(self) -> bool:
        return self.cause is MismatchCause.CHANGED_BYTES


def _upload_key(f: DistFile) -> datetime | None:
    """PEP 700 upload time as an aware datetime (None when absent or unreadable)."""
    if not f.upload_time:
        return None
    try:
        t = datetime.fromisoformat(f.upload_time.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def classify_mismatch(
    *,
    filename: str,
    locked_files: Sequence[DistFile],
    locked_hashes: Sequence[FileHash],
    actual_sha256: str | None,
    index_files: Sequence[DistFile],
    lock_index_url: str | None,
    index_url: str | None,
    compatible: Iterable[str] = (),
) -> MismatchCause:
    """Explain why ``filename`` (with ``actual_sha256``) is not accepted by the lock.

    ``locked_files`` are the files the lock names for this package, ``index_files`` what the
    index lists now (with upload times, PEP 700), ``compatible`` the filenames that suit the target
    interpreter. Order of checks: another index first (a mirror may rebuild files), then the red
    flag, then the harmless causes.
    """
    if lock_index_url and index_url and _norm_index(lock_index_url) != _norm_index(index_url):
        return MismatchCause.OTHER_INDEX
    now = {f.filename: f for f in index_files}.get(filename)
    listed = now.sha256 if now is not None else None
    locked_names = {f.filename for f in locked_files}
    if filename in locked_names:
        # same name, other bytes: even when the index still lists the locked hash (a tampered
        # mirror or CDN serving other bytes), this is what the red flag is for
        return MismatchCause.CHANGED_BYTES
    if actual_sha256 and listed and listed != actual_sha256:
        return MismatchCause.CORRUPT_DOWNLOAD
    locked_digests = {h.digest for h in locked_hashes if h.algorithm == "sha256"}
    locked_times = [
        _upload_key(f)
        for f in index_files
        if f.filename in locked_names or f.sha256 in locked_digests
    ]
    newest_locked = max((t for t in locked_times if t is not None), default=None)
    uploaded = _upload_key(now) if now is not None else None
    if uploaded and newest_locked and uploaded > newest_locked:
        return MismatchCause.NEW_UPLOAD
    compatible_set = set(compatible)
    if locked_names and compatible_set and not (locked_names & compatible_set):
        return MismatchCause.OTHER_PLATFORM
    return MismatchCause.UNKNOWN_FILE


def _norm_index(url: str) -> str:
    return url.rstrip("/").lower()


_CAUSE_TEXT = {
    MismatchCause.CHANGED_BYTES: (
        "RED FLAG (re-upload): the index now serves different bytes under a filename whose hash"
        " was already recorded (in the lock or the trust store)."
        " Files on an index must never change; this may be tampering."
    ),
    MismatchCause.NEW_UPLOAD: (
        "likely harmless: this file was uploaded after the lock was made, so the lock has no hash"
        " for it."
    ),
    MismatchCause.OTHER_PLATFORM: (
        "likely harmless: the lock only has hashes for files of other platforms or Pythons."
    ),
    MismatchCause.OTHER_INDEX: (
        "the file comes from another index or mirror than the lock's; mirrors may rebuild files"
        " with different bytes."
    ),
    MismatchCause.CORRUPT_DOWNLOAD: (
        "the bytes do not match the hash the index itself lists: a broken or altered download."
    ),
    MismatchCause.UNKNOWN_FILE: "the lock does not list this file.",
}

_TODO_TEXT = {
    MismatchCause.CHANGED_BYTES: (
        "do not install it; check the project's release page and report it to the index if the"
        " file really changed."
    ),
    MismatchCause.NEW_UPLOAD: (
        "re-lock with `pipvet lock` to review and record the new file, or stay on the locked files."
    ),
    MismatchCause.OTHER_PLATFORM: (
        "re-lock with `pipvet lock`, which records every file of each version, on any platform."
    ),
    MismatchCause.OTHER_INDEX: (
        "install from the lock's index (--index-url), or re-lock against this index."
    ),
    MismatchCause.CORRUPT_DOWNLOAD: "retry; if it persists, do not use this index.",
    MismatchCause.UNKNOWN_FILE: "re-lock with `pipvet lock` to review and record it.",
}


def render_mismatch(m: HashMismatch) -> str:
    """At most five lines: file and requirement, expected, actual, cause, what to do.

    It never tells the user to copy the downloaded hash into the lock.
    """
    expected = " or ".join(str(h) for h in m.expected[:2]) or "(none)"
    if len(m.expected) > 2:
        expected += f" (+{len(m.expected) - 2} more)"
    actual = str(m.actual) if m.actual else "(unknown)"
    origin = "listed by" if m.listed_only else "bytes from"
    lines = [
        f"{m.filename} for {m.requirement}: hash mismatch, refused",
        f"  expected {expected} (from {m.expected_from})",
        f"  got      {actual} ({origin} {_short_url(m.url)})",
        f"  cause: {_CAUSE_TEXT[m.cause]}",
        f"  to do: {_TODO_TEXT[m.cause]}",
    ]
    return "\n".join(lines)


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(fragment="", query="").geturl()
