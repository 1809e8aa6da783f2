"""The build requirements of an sdist, read as data: the one reader ``lock`` and ``install`` use.

pip does not hash-check the PEP 517 build requirements it installs into an isolated build env
(pip#11974, pip#13984). pipvet reads ``[build-system].requires`` from the verified sdist (in
memory, never unpacked or run), resolves it (wheels only), and stages those wheels hash-checked
next to the sdist. pip then builds with ``--no-index --find-links STAGING``, which its isolated
build env inherits, so the build can only use verified files.

Not covered: requirements a backend adds dynamically (``get_requires_for_build_wheel``); if one
is missing from the staging directory pip fails and the install is rolled back.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

from pipvet.core.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Without a [build-system] table: PEP 518's default ("setuptools" and "wheel"), with the minimum
# version pip pins (pip builds such an sdist with exactly these, from the staging folder).
LEGACY_REQUIRES = ("setuptools>=40.8.0", "wheel")
MAX_PYPROJECT = 1 << 20  # a larger pyproject.toml is refused, never read in part


def _pyproject_bytes(path: Path) -> bytes | None:
    """The sdist's top-level ``pyproject.toml``, read from the archive in memory."""
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    parts = info.filename.split("/")
                    if len(parts) == 2 and parts[1] == "pyproject.toml":
                        if info.file_size > MAX_PYPROJECT:
                            raise InputError(f"{path.name}: pyproject.toml is too large")
                        return zf.read(info)
            return None
        with tarfile.open(path, "r:*") as tf:
            for member in tf:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "pyproject.toml" and member.isfile():
                    if member.size > MAX_PYPROJECT:
                        raise InputError(f"{path.name}: pyproject.toml is too large")
                    f = tf.extractfile(member)
                    return f.read() if f is not None else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path.name}: cannot read the sdist: {e}") from None
    return None


def build_requires(sdist: Path) -> list[str]:
    """``[build-system].requires`` of an sdist (``LEGACY_REQUIRES`` without a pyproject.toml or
    without that table); ``InputError`` for an unreadable sdist or a malformed or oversized file."""
    sdist = Path(sdist)
    data = _pyproject_bytes(sdist)
    if data is None:
        return list(LEGACY_REQUIRES)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"{sdist.name}: invalid pyproject.toml: {e}") from None
    system = doc.get("build-system")
    if not isinstance(system, dict) or "requires" not in system:
        return list(LEGACY_REQUIRES)
    requires = system["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise InputError(f"{sdist.name}: [build-system].requires must be a list of strings")
    return requires
