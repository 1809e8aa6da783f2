"""The ``db`` service: build the local advisory index from OSV data, and describe it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipvet.core.errors import InputError
from pipvet.core.progress import Level, Progress, silent
from pipvet.core.reports.db import DbInfoReport, DbUpdateReport

__all__ = ["DbInfoReport", "DbUpdateReport", "DbUpdateRequest", "db_info", "update_db"]


@dataclass(frozen=True)
class DbUpdateRequest:
    source: str | None = None  # folder, zip, OSV file or http(s) URL (default: the OSV export)
    db: str | None = None  # database to write (default: the cache)


def update_db(request: DbUpdateRequest, *, progress: Progress = silent) -> DbUpdateReport:
    """Read OSV records and rebuild the index from them; ``InputError`` if none is usable."""
    from pipvet.sources.advisories.db import build_db, default_db_path
    from pipvet.sources.advisories.ingest import (
        DEFAULT_OSV_EXPORT,
        git_commit,
        latest_modified,
        read_source,
    )

    source = request.source or DEFAULT_OSV_EXPORT
    progress(Level.INFO, f"reading advisories from {source}")
    progress(Level.STATUS, f"reading advisories from {source}")
    read = read_source(source)
    if not read.records:
        raise InputError(
            f"no usable PyPI advisories in {source}"
            + (f" ({len(read.skipped)} records skipped)" if read.skipped else "")
        )
    commit = date = None
    if not source.startswith(("http://", "https://")) and Path(source).is_dir():
        commit, date = git_commit(Path(source))
    target = Path(request.db) if request.db else default_db_path()
    meta = {
        "source": source if "://" in source else str(Path(source).resolve()),
        "commit": commit,
        "date": date or latest_modified(read.records),
        "origin": "update",
        "skipped_count": len(read.skipped),
    }
    progress(Level.STATUS, f"indexing {len(read.records)} advisories")
    info = build_db(target, read.records, meta)
    return DbUpdateReport(
        source=source,
        target=str(target),
        record_count=info.record_count,
        not_pypi=read.not_pypi,
        skipped=tuple(read.skipped),
    )


def db_info(db: str | None = None) -> DbInfoReport:
    """The index's source, record count and age (the cache's, made from the snapshot if need be)."""
    from pipvet.sources.advisories.snapshot import open_db

    opened = open_db(Path(db) if db else None)
    try:
        info = opened.db.info()
    finally:
        opened.db.close()
    return DbInfoReport(
        path=str(info.path),
        origin=info.origin,
        source=info.source,
        commit=info.commit,
        date=info.date,
        age_days=info.age_days(),
        record_count=info.record_count,
        skipped_count=info.skipped_count,
        built_at=info.built_at,
        notes=tuple(opened.notes),
    )
