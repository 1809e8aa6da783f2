"""Build tiny, real, reproducible wheels and sdists in memory (no build tool needed).

Wheels are written with ``zipfile`` (METADATA, WHEEL, RECORD with correct sha256 lines, a small
module). Sdists are ``.tar.gz`` files whose ``pyproject.toml`` names ``tinybuild``, a minimal
PEP 517 backend (itself a wheel built here) that turns them into wheels offline. Every archive
has fixed timestamps, so the same inputs always give the same bytes (and the same hashes).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Mapping

from packaging.utils import canonicalize_name

ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# The tiny PEP 517 backend: reads PKG-INFO from the unpacked sdist and zips the package
# directory into a py3-none-any wheel. Standard library only, so it runs in pip's isolated
# build environment with nothing else installed.
TINYBUILD_SOURCE = '''\
"""tinybuild: a minimal PEP 517 build backend for pipvet's test index."""

import base64
import email.parser
import hashlib
import os
import re
import zipfile


def _meta():
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    msg = email.parser.Parser().parsestr(text)
    return text, msg["Name"], msg["Version"]


def _norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text, name, version = _meta()
    dist = f"{_norm(name)}-{version}"
    info = f"{dist}.dist-info"
    members = []
    pkg = _norm(name)
    for root, _dirs, files in os.walk(pkg):
        for fn in sorted(files):
            full = os.path.join(root, fn)
            with open(full, "rb") as f:
                members.append((full.replace(os.sep, "/"), f.read()))
    members.append((f"{info}/METADATA", text.encode()))
    wheel = "Wheel-Version: 1.0\\nGenerator: tinybuild\\nRoot-Is-Purelib: true\\n"
    wheel += "Tag: py3-none-any\\n"
    members.append((f"{info}/WHEEL", wheel.encode()))
    record = [_record_line(p, d) for p, d in members] + [f"{info}/RECORD,,"]
    members.append((f"{info}/RECORD", ("\\n".join(record) + "\\n").encode()))
    filename = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, data in members:
            zf.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return filename
'''


def dist_name(name: str) -> str:
    """The file-name form of a project name (PEP 427 / PEP 625 escaping)."""
    return canonicalize_name(name).replace("-", "_")


def core_metadata(
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
) -> str:
    """A Metadata-Version 2.1 METADATA / PKG-INFO text."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: {name}, a tiny project of pipvet's test index")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {r}" for r in requires)
    return "\n".join(lines) + "\n\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def build_wheel(
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes | str] | None = None,
) -> tuple[str, bytes, bytes]:
    """Return ``(filename, wheel bytes, METADATA bytes)`` for a tiny real wheel."""
    dist = dist_name(name)
    info = f"{dist}-{version}.dist-info"
    metadata = core_metadata(
        name, version, requires=requires, requires_python=requires_python
    ).encode()
    contents = {f"{dist}/__init__.py": f'__version__ = "{version}"\n'.encode()}
    contents.update({path: _as_bytes(data) for path, data in (files or {}).items()})
    members: list[tuple[str, bytes]] = sorted(contents.items())
    purelib = "true" if tag.split("-")[-1] == "any" else "false"
    wheel_text = (
        f"Wheel-Version: 1.0\nGenerator: pipvet-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    )
    members.append((f"{info}/METADATA", metadata))
    members.append((f"{info}/WHEEL", wheel_text.encode()))
    record = [_record_line(p, d) for p, d in members] + [f"{info}/RECORD,,"]
    members.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in members:
            info_ = zipfile.ZipInfo(path, ZIP_DATE)
            info_.compress_type = zipfile.ZIP_DEFLATED
            info_.external_attr = 0o644 << 16
            zf.writestr(info_, data)
    return f"{dist}-{version}-{tag}.whl", buf.getvalue(), metadata


def build_tinybuild_wheel(version: str = "1.0") -> tuple[str, bytes, bytes]:
    """The ``tinybuild`` backend as a wheel."""
    return build_wheel("tinybuild", version, files={"tinybuild/__init__.py": TINYBUILD_SOURCE})


def build_sdist(
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
    build_requires: Iterable[str] = ("tinybuild",),
    files: Mapping[str, bytes | str] | None = None,
    build_backend: str = "tinybuild",
    backend_path: str | None = None,
) -> tuple[str, bytes]:
    """Return ``(filename, bytes)`` of a real sdist that ``tinybuild`` builds offline
    (or ``build_backend``, found in ``backend_path`` inside the sdist when given)."""
    dist = dist_name(name)
    root = f"{dist}-{version}"
    requires_list = ", ".join(f'"{r}"' for r in build_requires)
    pyproject = f'[build-system]\nrequires = [{requires_list}]\nbuild-backend = "{build_backend}"\n'
    if backend_path is not None:
        pyproject += f'backend-path = ["{backend_path}"]\n'
    members: dict[str, bytes] = {
        "PKG-INFO": core_metadata(
            name, version, requires=requires, requires_python=requires_python
        ).encode(),
        "pyproject.toml": pyproject.encode(),
        f"{dist}/__init__.py": f'__version__ = "{version}"\n'.encode(),
    }
    for path, data in (files or {}).items():
        members[path] = _as_bytes(data)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path in sorted(members):
            data = members[path]
            ti = tarfile.TarInfo(f"{root}/{path}")
            ti.size = len(data)
            ti.mtime = 0
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    import gzip

    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return f"{root}.tar.gz", out.getvalue()
