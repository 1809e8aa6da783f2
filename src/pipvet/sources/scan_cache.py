"""Scan results cached in SQLite, keyed by (artifact sha256, engine version).

The cache lives in ``pipvet.paths.cache_dir()``. A cache that cannot be opened or written (read-only
disk, corrupt file) is simply not used: scanning never fails because of it. Every row carries an
HMAC of (sha256, engine, result) under a random key kept beside the database
(``pipvet.integrity``): a row rewritten outside pipvet (say, to "clean") or damaged does not
verify, is ignored and counted in ``rejected``, and the artifact is scanned again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from pipvet import paths
from pipvet.integrity import load_key, sign, verify

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scan_results (
    sha256 TEXT NOT NULL,
    engine TEXT NOT NULL,
    result TEXT NOT NULL,
    created REAL NOT NULL,
    mac TEXT NOT NULL,
    PRIMARY KEY (sha256, engine)
)
"""


class ScanCache:
    """A small key-value store of JSON scan results, each row signed."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.cache_dir() / "scan-results.sqlite3"
        self.rejected: list[str] = []  # sha256 of rows that failed their integrity check
        self._db: sqlite3.Connection | None = None
        self._key = load_key(self.path.with_name(self.path.name + ".key"))
        if self._key is None:
            return  # no key, no trust in rows: scan everything
        try:
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(scan_results)")}
            if columns and "mac" not in columns:  # rows of an older pipvet: unsigned
                self._db.execute("DROP TABLE scan_results")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.Error:
            self._db = None

    @property
    def usable(self) -> bool:
        return self._db is not None

    def get(self, sha256: str, engine: str) -> dict | None:
        if self._db is None or self._key is None:
            return None
        try:
            row = self._db.execute(
                "SELECT result, mac FROM scan_results WHERE sha256 = ? AND engine = ?",
                (sha256, engine),
            ).fetchone()
            if row is None:
                return None
            if not verify(self._key, row[1], sha256, engine, row[0]):
                self.rejected.append(sha256)
                return None
            result = json.loads(row[0])
            return result if isinstance(result, dict) and result.get("sha256") == sha256 else None
        except (sqlite3.Error, ValueError, TypeError):
            return None

    def put(self, sha256: str, engine: str, result: dict) -> None:
        if self._db is None or self._key is None:
            return
        text = json.dumps(result, sort_keys=True)
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO scan_results VALUES (?, ?, ?, ?, ?)",
                (sha256, engine, text, time.time(), sign(self._key, sha256, engine, text)),
            )
            self._db.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
