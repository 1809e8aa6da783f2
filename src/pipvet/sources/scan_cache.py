"""Scan results cached in SQLite, keyed by (artifact sha256, engine version).

The cache lives in ``pipvet.paths.cache_dir()``. A cache that cannot be opened or written (read-only
disk, corrupt file) is simply not used: scanning never fails because of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from pipvet import paths

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scan_results (
    sha256 TEXT NOT NULL,
    engine TEXT NOT NULL,
    result TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (sha256, engine)
)
"""


class ScanCache:
    """A small key-value store of JSON scan results."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.cache_dir() / "scan-results.sqlite3"
        self._db: sqlite3.Connection | None = None
        try:
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.Error:
            self._db = None

    @property
    def usable(self) -> bool:
        return self._db is not None

    def get(self, sha256: str, engine: str) -> dict | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT result FROM scan_results WHERE sha256 = ? AND engine = ?",
                (sha256, engine),
            ).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def put(self, sha256: str, engine: str, result: dict) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO scan_results VALUES (?, ?, ?, ?)",
                (sha256, engine, json.dumps(result, sort_keys=True), time.time()),
            )
            self._db.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
