"""The lock: every pinned package with the hashes of every file the index has for its version.

Two on-disk forms carry it: a pip requirements file (``name==version --hash=sha256:...``, accepted
unchanged by ``pip install --require-hashes --no-deps -r``) and PEP 751 ``pylock.toml``.
Reading and writing both lives in ``pipvet.core.lockfile_io`` (pure, no network).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.utils import NormalizedName
from packaging.version import Version

from pipvet.core.models import DistFile, FileHash, PackageId


@dataclass(frozen=True)
class LockedPackage:
    """One pinned package of a lock."""

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...] = ()  # every file known for this version (filename, url, hashes...)
    hashes: tuple[FileHash, ...] = ()  # the hashes the lock accepts (one per file, sorted)
    marker: str | None = None  # environment marker, kept from the requirement
    via: tuple[str, ...] = ()  # what pulled it in: other package names, or "-r FILE"/"pyproject"
    sdist_allowed: bool = False

    @property
    def id(self) -> PackageId:
        return PackageId(self.name, self.version)

    def filename_for(self, digest: str) -> str | None:
        """The filename whose sha256 the lock recorded as ``digest``, when it is known."""
        for f in self.files:
            if f.sha256 == digest:
                return f.filename
        return None


@dataclass(frozen=True)
class Lock:
    """A whole lock: its packages (sorted by name) and where their hashes came from."""

    packages: tuple[LockedPackage, ...]
    index_url: str | None = None
    source_path: str | None = None  # the file it was read from, for messages
    build_packages: tuple[LockedPackage, ...] = field(default=())  # locked build deps of sdists
    index_line: int | None = None  # line of an --index-url option that named index_url, if any

    def get(self, name: str) -> LockedPackage | None:
        from packaging.utils import canonicalize_name

        key = canonicalize_name(name)
        for p in self.packages:
            if p.name == key:
                return p
        return None
