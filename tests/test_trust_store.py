"""The trust-on-first-use store under concurrent installs."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from pipvet.installer.trust_store import TrustStore


def _record_many(path: str, worker: int, rounds: int) -> None:
    for i in range(rounds):
        store = TrustStore(Path(path))
        store.record(f"w{worker}-{i}.whl", f"{worker:02d}{i:062d}", "https://index.invalid/")
        store.save()


def test_concurrent_saves_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "trusted-hashes.json"
    workers, rounds = 4, 40
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(str(path), w, rounds)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = TrustStore(path)
    missing = [
        (w, i) for w in range(workers) for i in range(rounds) if store.get(f"w{w}-{i}.whl") is None
    ]
    assert missing == []


def test_first_hash_wins_and_is_described(tmp_path: Path) -> None:
    path = tmp_path / "trusted-hashes.json"
    first = TrustStore(path)
    first.record("a-1.0-py3-none-any.whl", "1" * 64, "https://one.invalid/")
    first.save()
    second = TrustStore(path)
    second.record("a-1.0-py3-none-any.whl", "2" * 64, "https://two.invalid/")
    second.save()
    entry = TrustStore(path).get("a-1.0-py3-none-any.whl")
    assert entry is not None and entry.sha256 == "1" * 64
    assert "https://one.invalid/" in TrustStore(path).describe(entry)
