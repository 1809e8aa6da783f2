"""The bundled advisory snapshot and choosing which database an audit reads.

The snapshot (``pipvet/data/advisories.jsonl.xz``, made by ``scripts/make_advisory_snapshot.py``)
is xz-compressed JSON lines: a header ``{"source", "commit", "date", "record_count"}`` then one
reduced OSV record per line. On first use it is turned into an SQLite index in the cache, so a
fresh install audits offline; this module is only imported by commands that audit.
"""

from __future__ import annotations

import json
import lzma
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipvet.core.errors import InputError
from pipvet.sources.advisories.db import AdvisoryDB, AdvisoryDbError, build_db, default_db_path

SNAPSHOT_PATH = Path(__file__).resolve().parents[2] / "data" / "advisories.jsonl.xz"


def reduce_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Drop what matching and reports never read (git ranges, most references, purls)."""
    out = {
        k: raw[k]
        for k in (
            "id",
            "aliases",
            "summary",
            "details",
            "modified",
            "published",
            "withdrawn",
            "severity",
            "database_specific",
        )
        if raw.get(k)
    }
    refs = [r for r in raw.get("references") or [] if r.get("type") == "ADVISORY"][:1]
    if refs:
        out["references"] = refs
    affected = []
    for a in raw.get("affected") or []:
        entry = {"package": {k: v for k, v in a.get("package", {}).items() if k != "purl"}}
        ranges = [r for r in a.get("ranges") or [] if r.get("type") == "ECOSYSTEM"]
        for key, value in (("ranges", ranges), ("versions", a.get("versions"))):
            if value:
                entry[key] = value
        for key in ("severity", "database_specific"):
            if a.get(key):
                entry[key] = a[key]
        affected.append(entry)
    out["affected"] = affected
    return out


def write_snapshot(path: Path, records: list[Mapping[str, Any]], header: Mapping[str, Any]) -> None:
    """Write records (reduced) and a header as xz-compressed JSON lines."""
    with lzma.open(path, "wt", encoding="utf-8", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(json.dumps({**header, "record_count": len(records)}) + "\n")
        for rec in sorted(records, key=lambda r: r["id"]):
            f.write(json.dumps(reduce_record(rec), separators=(",", ":")) + "\n")


def read_snapshot(path: Path = SNAPSHOT_PATH) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The snapshot's header and an iterator over its records."""
    try:
        f = lzma.open(path, "rt", encoding="utf-8")  # noqa: SIM115 (closed by the iterator)
        header = json.loads(f.readline())
    except (OSError, lzma.LZMAError, ValueError) as exc:
        raise InputError(f"the bundled advisory snapshot {path} is unreadable: {exc}") from None

    def records() -> Iterator[dict[str, Any]]:
        with f:
            for line in f:
                if line.strip():
                    yield json.loads(line)

    return header, records()


def materialise(target: Path, snapshot: Path = SNAPSHOT_PATH) -> None:
    """Build an SQLite index at ``target`` from the bundled snapshot."""
    header, records = read_snapshot(snapshot)
    build_db(
        target,
        records,
        {
            "source": header.get("source"),
            "commit": header.get("commit"),
            "date": header.get("date"),
            "origin": "snapshot",
            "skipped_count": 0,
        },
    )


@dataclass(frozen=True)
class OpenedDb:
    """The database an audit reads and anything worth telling the user about the choice."""

    db: AdvisoryDB
    notes: tuple[str, ...] = ()


def open_db(path: Path | None = None, *, snapshot: Path = SNAPSHOT_PATH) -> OpenedDb:
    """Open ``path`` (``--db``), or the cache database, made from the bundled snapshot if needed.

    An explicit path must exist and be readable (else ``AdvisoryDbError``). The cache database is
    rebuilt from the snapshot when missing, unreadable, or made from an older bundled snapshot.
    """
    if path is not None:
        return OpenedDb(AdvisoryDB(Path(path)))
    target = default_db_path()
    notes: list[str] = []
    if target.exists():
        try:
            db = AdvisoryDB(target)
        except AdvisoryDbError as exc:
            notes.append(f"{exc.message}; using the bundled snapshot instead")
        else:
            info = db.info()
            if info.origin != "snapshot" or info.commit == _snapshot_commit(snapshot):
                return OpenedDb(db, tuple(notes))
            db.close()
    materialise(target, snapshot)
    return OpenedDb(AdvisoryDB(target), tuple(notes))


def _snapshot_commit(snapshot: Path) -> str | None:
    header, records = read_snapshot(snapshot)
    records.close()
    return header.get("commit")
