"""The local advisory index: an SQLite file of OSV records keyed by id, indexed by package name.

Schema (``SCHEMA_VERSION``):
  meta(key, value)          source, commit, date, record_count, skipped_count, origin, built_at
  records(id, modified, json)   one OSV record (as ingested, reduced) per id
  packages(name, id)        PEP 503 name -> record id, for every PyPI ``affected`` entry

Rebuilds write a temporary file next to the target and ``os.replace`` it, so a reader never sees
half a database and a failed update leaves the old one in place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from pipvet.core.errors import InputError
from pipvet.core.matching.osv import PYPI, Advisory, AdvisoryError, parse_advisory

SCHEMA_VERSION = "1"
DB_FILENAME = "advisories.sqlite"


class AdvisoryDbError(InputError):
    """The advisory database is missing, corrupt, truncated or of another schema."""


@dataclass(frozen=True)
class DbInfo:
    """What a database holds and where its data came from."""

    path: str
    source: str
    commit: str | None
    date: str | None  # when the data was taken (ISO 8601)
    record_count: int
    skipped_count: int
    origin: str  # "snapshot" (bundled) or "update" (pipvet db update)
    built_at: str | None

    def age_days(self, now: dt.datetime | None = None) -> int | None:
        """Whole days since the data was taken, or None if unknown."""
        if not self.date:
            return None
        try:
            when = dt.datetime.fromisoformat(self.date.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        now = now or dt.datetime.now(dt.timezone.utc)
        return max(0, (now - when).days)

    def describe(self) -> str:
        """One line: source, commit and age, for the end of an audit."""
        age = self.age_days()
        when = (
            f"{self.date[:10]}, {age} days old" if self.date and age is not None else "date unknown"
        )
        commit = f" @ {self.commit[:8]}" if self.commit else ""
        kind = "bundled snapshot of " if self.origin == "snapshot" else ""
        stale = "; refresh with `pipvet db update`" if age is not None and age > 30 else ""
        return (
            f"advisory data: {kind}{self.source}{commit} "
            f"({when}; {self.record_count} records{stale})"
        )


@dataclass(frozen=True)
class BadRecord:
    """A stored record that could not be read back; reported, never silently dropped."""

    id: str
    reason: str


def default_db_path() -> Path:
    from pipvet.paths import cache_dir

    return cache_dir() / DB_FILENAME


def pypi_names(raw: Mapping[str, Any]) -> set[str]:
    """The PEP 503 names of every PyPI package a raw OSV record affects."""
    names = set()
    for a in raw.get("affected") or []:
        pkg = a.get("package") if isinstance(a, Mapping) else None
        if (
            isinstance(pkg, Mapping)
            and isinstance(pkg.get("name"), str)
            and str(pkg.get("ecosystem", "")).split(":", 1)[0] == PYPI
        ):
            names.add(canonicalize_name(pkg["name"]))
    return names


def build_db(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> DbInfo:
    """Write a new database at ``path`` atomically from raw OSV records; return its info."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".advisories-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        with contextlib.closing(con):
            con.executescript(
                """
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE records(id TEXT PRIMARY KEY, modified TEXT, json TEXT NOT NULL);
                CREATE TABLE packages(name TEXT NOT NULL, id TEXT NOT NULL);
                """
            )
            count = 0
            for raw in records:
                rid = raw["id"]
                cur = con.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                    (rid, str(raw.get("modified", "")), json.dumps(raw, separators=(",", ":"))),
                )
                if cur.rowcount:
                    con.execute("DELETE FROM packages WHERE id = ?", (rid,))
                con.executemany(
                    "INSERT INTO packages VALUES (?, ?)", [(n, rid) for n in pypi_names(raw)]
                )
            count = con.execute("SELECT count(*) FROM records").fetchone()[0]
            con.execute("CREATE INDEX packages_name ON packages(name)")
            full = {
                "schema": SCHEMA_VERSION,
                "record_count": str(count),
                "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                **{k: str(v) for k, v in meta.items() if v is not None},
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(full.items()))
            con.commit()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return AdvisoryDB(path).info()


class AdvisoryDB:
    """A read-only view of one database file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise AdvisoryDbError(
                f"no advisory database at {self.path}",
                hint="create it with: pipvet db update [--from PATH_OR_URL]",
            )
        try:
            self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._meta = dict(self._con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        if self._meta.get("schema") != SCHEMA_VERSION:
            raise AdvisoryDbError(
                f"advisory database {self.path} has schema {self._meta.get('schema')!r}, "
                f"expected {SCHEMA_VERSION}",
                hint="rebuild it with: pipvet db update",
            )

    def _corrupt(self, exc: Exception) -> AdvisoryDbError:
        return AdvisoryDbError(
            f"advisory database {self.path} is unreadable ({exc})",
            hint="rebuild it with: pipvet db update (or delete the file to use the bundled data)",
        )

    def close(self) -> None:
        self._con.close()

    def info(self) -> DbInfo:
        m = self._meta
        return DbInfo(
            path=str(self.path),
            source=m.get("source", "unknown"),
            commit=m.get("commit"),
            date=m.get("date"),
            record_count=int(m.get("record_count", 0)),
            skipped_count=int(m.get("skipped_count", 0)),
            origin=m.get("origin", "update"),
            built_at=m.get("built_at"),
        )

    def advisories_for(
        self, names: Iterable[str]
    ) -> tuple[dict[str, list[Advisory]], list[BadRecord]]:
        """Every advisory naming each package (PEP 503 names), and records that failed to load."""
        keys = sorted({canonicalize_name(n) for n in names})
        out: dict[str, list[Advisory]] = {k: [] for k in keys}
        bad: list[BadRecord] = []
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._con.execute(
                    f"SELECT p.name, r.id, r.json FROM packages p JOIN records r ON r.id = p.id "
                    f"WHERE p.name IN ({marks})",
                    chunk,
                ).fetchall()
                for name, rid, text in rows:
                    try:
                        out[name].append(parse_advisory(json.loads(text)))
                    except (ValueError, AdvisoryError) as exc:
                        bad.append(BadRecord(rid, f"stored record unreadable: {exc}"))
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        return out, bad

    def get(self, vid: str) -> Advisory | None:
        try:
            row = self._con.execute("SELECT json FROM records WHERE id = ?", (vid,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        return parse_advisory(json.loads(row[0])) if row else None
