"""Download every planned file into a staging directory and verify its bytes before pip sees it.

Downloads run concurrently; each file's sha256 is computed while it streams. A file whose bytes
do not match is deleted at once and the whole install is refused (nothing reaches pip).

Verified files are kept in a content-addressed cache (``<cache_dir>/files/sha256/ab/cd/<digest>``)
so a re-install downloads nothing. A cached file is re-hashed while it is copied into staging and
used only when its bytes still have the expected sha256; a damaged or tampered entry is deleted and
the file downloaded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from pipvet.core.errors import NetworkError, PolicyRefusal
from pipvet.core.hashes import HashMismatch, classify_mismatch, matches, render_mismatch
from pipvet.core.models import FileHash
from pipvet.installer.plan import InstallPlan, PlannedFile


@dataclass(frozen=True)
class StagedFile:
    """A downloaded file whose bytes were verified (or not, under ``--no-verify-hashes``)."""

    name: NormalizedName
    version: Version
    path: Path
    sha256: str
    size: int
    url: str
    verified_against: FileHash | None  # None only when hash checking is off
    build_dependency: bool = False

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def stage(
    plan: InstallPlan,
    staging_dir: Path,
    *,
    workers: int = 8,
    on_file: Callable[[], None] | None = None,
) -> list[StagedFile]:
    """Download and verify every file of the plan into ``staging_dir``; ``on_file()`` after
    each one (from the downloading threads).

    Raises ``InputError`` when the index cannot be reached or a download is cut short, and
    ``PolicyRefusal`` (with each mismatch in at most five lines) when bytes do not match.
    """
    from pipvet.sources.index import concurrent_map, download_with_digest

    staging_dir.mkdir(parents=True, exist_ok=True)

    cache = files_cache_dir() if plan.verify_hashes else None

    def fetch(pf: PlannedFile) -> tuple[PlannedFile, StagedFile | HashMismatch]:
        got = _fetch(pf)
        if on_file is not None:
            on_file()
        return got

    def _fetch(pf: PlannedFile) -> tuple[PlannedFile, StagedFile | HashMismatch]:
        if cache is not None and not pf.unhashed:
            hit = _from_cache(pf, cache, staging_dir)
            if hit is not None:
                return pf, hit
        got = download_with_digest(pf.file, staging_dir, other_hosts=plan.lock_path is None)
        if not plan.verify_hashes or pf.unhashed:
            return pf, _staged(pf, got.path, got.sha256, got.size, None)
        sha = [h for h in pf.expected if h.algorithm == "sha256"]
        ok = next((h for h in sha if h.digest == got.sha256), None)
        if ok is None and len(sha) < len(pf.expected):
            ok = matches(got.path, [h for h in pf.expected if h.algorithm != "sha256"])
        if ok is not None:
            if cache is not None:
                _into_cache(got.path, got.sha256, cache)
            return pf, _staged(pf, got.path, got.sha256, got.size, ok)
        cut = incomplete_archive(got.path)
        got.path.unlink(missing_ok=True)
        if cut:
            raise NetworkError(
                f"{pf.file.filename}: incomplete download ({got.size} bytes, {cut}); the "
                "connection was probably cut, retry (the hash did not match, so nothing was "
                "installed)"
            )
        cause = classify_mismatch(
            filename=pf.file.filename,
            locked_files=pf.locked_files,
            locked_hashes=pf.expected,
            actual_sha256=got.sha256,
            index_files=pf.index_files,
            lock_index_url=plan.lock_index_url,
            index_url=plan.index_url,
        )
        if not pf.locked_files and pf.tofu:
            cause = classify_mismatch(  # no lock: the index's own listing is the reference
                filename=pf.file.filename,
                locked_files=(),
                locked_hashes=(),
                actual_sha256=got.sha256,
                index_files=pf.index_files,
                lock_index_url=None,
                index_url=None,
            )
        return pf, HashMismatch(
            requirement=pf.requirement,
            filename=pf.file.filename,
            url=pf.file.url,
            expected=pf.expected,
            actual=FileHash("sha256", got.sha256),
            expected_from=pf.expected_from,
            cause=cause,
        )

    files = list(plan.files)
    if not files:
        return []
    results = concurrent_map(fetch, files, workers)
    mismatches = [r for _pf, r in results if isinstance(r, HashMismatch)]
    if mismatches:
        for _pf, r in results:
            if isinstance(r, StagedFile):
                r.path.unlink(missing_ok=True)
        text = "\n".join(render_mismatch(m) for m in mismatches[:5])
        if len(mismatches) > 5:
            text += f"\n... and {len(mismatches) - 5} more files refused"
        raise PolicyRefusal(text)
    return [r for _pf, r in results if isinstance(r, StagedFile)]


def _staged(pf: PlannedFile, path: Path, sha256: str, size: int, ok: FileHash | None) -> StagedFile:
    return StagedFile(
        name=pf.name,
        version=pf.version,
        path=path,
        sha256=sha256,
        size=size,
        url=pf.file.url,
        verified_against=ok,
        build_dependency=pf.build_dependency,
    )


def files_cache_dir() -> Path:
    """The content-addressed cache of verified downloads (under pipvet's cache folder)."""
    from pipvet.paths import cache_dir

    return cache_dir() / "files" / "sha256"


def _cache_path(cache: Path, sha256: str) -> Path:
    return cache / sha256[:2] / sha256[2:4] / sha256


def _from_cache(pf: PlannedFile, cache: Path, staging_dir: Path) -> StagedFile | None:
    """Copy a cached file with an expected sha256 into staging, hashing it on the way; None when
    there is none or its bytes no longer have that sha256 (the entry is then deleted)."""
    from pipvet.sources.index import _safe_filename

    for expected in pf.expected:
        if expected.algorithm != "sha256":
            continue
        src = _cache_path(cache, expected.digest.lower())
        dest = staging_dir / _safe_filename(pf.file.filename)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(src, "rb") as fin, open(dest, "wb") as fout:
                while chunk := fin.read(1 << 20):
                    digest.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
        except FileNotFoundError:
            dest.unlink(missing_ok=True)
            continue
        except OSError:
            dest.unlink(missing_ok=True)
            return None  # an unreadable cache or a full staging disk: download as usual
        if digest.hexdigest() != expected.digest.lower():
            dest.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                src.unlink()  # damaged or tampered: never used, fetched again
            return None
        return _staged(pf, dest, digest.hexdigest(), size, expected)
    return None


def _into_cache(path: Path, sha256: str, cache: Path) -> None:
    """Keep a verified file under its sha256 (best effort: a cache that cannot be written is
    only slower)."""
    dest = _cache_path(cache, sha256)
    if dest.is_file():
        return
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError:
        pass


def incomplete_archive(path: Path) -> str | None:
    """Why a downloaded wheel or sdist is cut short (its archive has no proper end), or None.

    A file that starts as its archive kind should (zip, gzip, bz2, xz magic) but has no proper
    end (a zip's end-of-central-directory record, the end of the compressed stream) was cut
    short. Anything else with other bytes is not "incomplete": it is a mismatch."""
    import bz2
    import gzip
    import lzma
    import zipfile
    import zlib

    name = path.name.lower()
    magic = {
        ".whl": b"PK\x03\x04",
        ".zip": b"PK\x03\x04",
        ".tar.gz": b"\x1f\x8b",
        ".tgz": b"\x1f\x8b",
        ".tar.bz2": b"BZh",
        ".tar.xz": b"\xfd7zXZ\x00",
    }
    want = next((m for ext, m in magic.items() if name.endswith(ext)), None)
    try:
        with open(path, "rb") as f:
            if want is None or f.read(len(want)) != want:
                return None
        if name.endswith((".whl", ".zip")):
            return None if zipfile.is_zipfile(path) else "the zip archive has no end record"
        opener = None
        if name.endswith((".tar.gz", ".tgz")):
            opener = gzip.open
        elif name.endswith(".tar.bz2"):
            opener = bz2.open
        elif name.endswith(".tar.xz"):
            opener = lzma.open
        if opener is None:
            return None
        with opener(path, "rb") as f:
            for _ in range(256):  # at most 256 MiB inflated: a bomb is not read to its end
                if not f.read(1 << 20):
                    break
    except EOFError:
        return "the compressed stream ends early"
    except (OSError, zlib.error, lzma.LZMAError, ValueError):
        return None  # not readable at all: other bytes, not a shorter copy
    return None
