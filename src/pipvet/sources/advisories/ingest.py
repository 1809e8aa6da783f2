"""Reading OSV records for ``pipvet db update --from``: a folder, a zip export, a file or a URL.

Accepted: a folder of OSV ``.yaml``/``.yml``/``.json`` files (searched recursively), the OSV
ecosystem export ``PyPI/all.zip`` (a local path or an http(s) URL), or one JSON/YAML file. Unknown
fields are kept and ignored; records that cannot be used are skipped, counted and reported.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipvet.core.errors import InputError, NetworkError
from pipvet.core.matching.osv import AdvisoryError, parse_advisory
from pipvet.sources.advisories.db import pypi_names

_SUFFIXES = (".json", ".yaml", ".yml")
DEFAULT_OSV_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"


@dataclass
class IngestReport:
    """What an ingestion read: usable records, and each skipped item with its reason."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    not_pypi: int = 0  # valid records that name no PyPI package


def _decode(name: str, data: bytes) -> Any:
    if name.endswith(".json"):
        return json.loads(data)
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster
    return yaml.load(data, Loader=loader)


def _jsonable(obj: Any) -> Any:
    # YAML turns unquoted timestamps into datetimes; OSV stores them as strings.
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat().replace("+00:00", "Z")
    return obj


def _take(report: IngestReport, where: str, data: bytes) -> None:
    try:
        raw = _jsonable(_decode(where, data))
    except Exception as exc:  # JSON/YAML decoders raise many types
        report.skipped.append((where, f"not valid {Path(where).suffix[1:].upper()}: {exc}"))
        return
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        try:
            parse_advisory(item)
        except AdvisoryError as exc:
            report.skipped.append((where, str(exc)))
            if _names_pypi_package(item):
                # kept, so that auditing a package it names says the record could not be read
                # (dropping it would make that package look free of known vulnerabilities)
                report.records.append(item)
            continue
        if not pypi_names(item):
            report.not_pypi += 1
            continue
        report.records.append(item)


def _names_pypi_package(item: Any) -> bool:
    """A record with an id that names a PyPI package, however broken the rest of it is."""
    try:
        return isinstance(item, dict) and isinstance(item.get("id"), str) and bool(pypi_names(item))
    except (TypeError, AttributeError, ValueError):
        return False


def _from_zip(report: IngestReport, zf: zipfile.ZipFile, label: str) -> None:
    for info in zf.infolist():
        if info.is_dir() or not info.filename.endswith(_SUFFIXES):
            continue
        _take(report, f"{label}:{info.filename}", zf.read(info))


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        error = NetworkError if exc.code >= 500 else InputError
        raise error(f"cannot download advisories from {url}: {exc}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot download advisories from {url}: {exc}") from None


def read_source(source: str, *, timeout: float = 60.0) -> IngestReport:
    """Read every OSV record from a folder, zip, file or URL."""
    report = IngestReport()
    if source.startswith(("http://", "https://")):
        data = _download(source, timeout)
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                _from_zip(report, zf, source)
        else:
            _take(report, source if source.endswith(_SUFFIXES) else source + ".json", data)
        return report
    path = Path(source)
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.suffix in _SUFFIXES and file.is_file() and ".git" not in file.parts:
                _take(report, str(file.relative_to(path)), file.read_bytes())
        return report
    if not path.is_file():
        raise InputError(f"no such file or folder: {source}")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                _from_zip(report, zf, path.name)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"cannot read zip {source}: {exc}") from None
        return report
    if path.suffix not in _SUFFIXES:
        raise InputError(f"{source}: expected a folder, a .zip, or an OSV .json/.yaml file")
    _take(report, path.name, path.read_bytes())
    return report


def git_commit(folder: Path) -> tuple[str | None, str | None]:
    """(commit, commit date) of a git checkout, or (None, None) when it is not one."""
    if not (Path(folder) / ".git").exists():
        return None, None
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "log", "-1", "--format=%H %cI"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (out[0], out[1]) if len(out) == 2 else (None, None)


def latest_modified(records: list[Mapping[str, Any]]) -> str | None:
    """The newest ``modified`` timestamp among records: a fair date for data without a commit."""
    dates = [str(r.get("modified")) for r in records if r.get("modified")]
    return max(dates) if dates else None
