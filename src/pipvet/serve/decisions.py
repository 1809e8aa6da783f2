"""The firewall's decisions, one JSON object a line, appended to ``serve-decisions.jsonl`` in
pipvet's cache folder: what was asked, what was answered (allowed, blocked, warned, error), why."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

FILENAME = "serve-decisions.jsonl"


def default_path() -> Path:
    from pipvet.paths import cache_dir

    return cache_dir() / FILENAME


class DecisionLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, **record: object) -> None:
        record = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **record}
        line = json.dumps(record, ensure_ascii=True, sort_keys=False) + "\n"
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, line.encode())

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def read(path: Path, limit: int | None = None) -> tuple[list[dict], int]:
    """The records of the log (the last ``limit`` when given) and how many lines were unreadable."""
    if not path.is_file():
        return [], 0
    records, bad = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(rec, dict):
                records.append(rec)
            else:
                bad += 1
    if limit is not None:
        records = records[-limit:] if limit else []
    return records, bad
