"""Core data models shared by every command."""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipvet.core.defaults import DEFAULT_INDEX_URL as DEFAULT_INDEX_URL  # re-exported


@dataclass(frozen=True, order=True)
class PackageId:
    """A distribution identified by its normalised (PEP 503) name and exact version."""

    name: NormalizedName
    version: Version

    @classmethod
    def of(cls, name: str, version: str | Version) -> PackageId:
        v = version if isinstance(version, Version) else Version(version)
        return cls(canonicalize_name(name), v)

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class FileHash:
    """One hash of one file: algorithm name (hashlib spelling) and lowercase hex digest."""

    algorithm: str
    digest: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest}"


@dataclass(frozen=True)
class DistFile:
    """One file (wheel or sdist) of a release, as an index lists it."""

    filename: str
    url: str
    hashes: tuple[FileHash, ...] = ()
    size: int | None = None
    upload_time: str | None = None  # ISO 8601, from PEP 700
    requires_python: str | None = None
    yanked: bool = False

    @property
    def sha256(self) -> str | None:
        for h in self.hashes:
            if h.algorithm == "sha256":
                return h.digest
        return None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True)
class InstalledDist:
    """A distribution found installed in an environment (read as data from its .dist-info)."""

    name: NormalizedName
    version: Version
    display_name: str
    dist_info: str  # path of the .dist-info (or .egg-info) directory
    site_dir: str  # the directory that holds it
    requires: tuple[str, ...] = field(default=())

    @property
    def id(self) -> PackageId:
        return PackageId(self.name, self.version)


@dataclass(frozen=True)
class Skipped:
    """Something that was not audited, and why (shown to the user, never dropped silently)."""

    subject: str
    reason: str
