"""The trust-on-first-use store under concurrent installs."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from pipvet.installer.trust_store import TrustStore, TrustStoreError


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


def _saved(path: Path) -> TrustStore:
    store = TrustStore(path)
    store.record("a-1.0-py3-none-any.whl", "1" * 64, "https://one.invalid/")
    store.save()
    return store


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_text("{not json"),
        lambda p: p.write_text("[]"),
        lambda p: p.write_text(p.read_text().replace("1" * 64, "2" * 64)),  # HMAC no longer fits
        lambda p: p.write_text(json.dumps({"a-1.0-py3-none-any.whl": {"sha256": "2" * 64}})),
        lambda p: p.with_name(p.name + ".key").unlink(),
    ],
    ids=["corrupt", "not-an-object", "hash-rewritten", "unsigned-replacement", "key-lost"],
)
def test_damaged_store_is_an_error_never_a_reset(tmp_path: Path, damage) -> None:
    path = tmp_path / "trusted-hashes.json"
    _saved(path)
    damage(path)
    with pytest.raises(TrustStoreError) as err:
        TrustStore(path)
    assert err.value.exit_code == 2
    assert str(path) in err.value.message and "\n" not in err.value.render()
    before = path.read_bytes()
    with pytest.raises(TrustStoreError):
        store = TrustStore.__new__(TrustStore)
        store.path, store.key_path, store._data = path, path.with_name(path.name + ".key"), {}
        store.save()  # a save never writes over a damaged store either
    assert path.read_bytes() == before


def test_store_of_the_first_format_is_read_and_signed_on_save(tmp_path: Path) -> None:
    path = tmp_path / "trusted-hashes.json"
    path.write_text(json.dumps({"a-1.0-py3-none-any.whl": {"sha256": "1" * 64, "index": "x"}}))
    store = TrustStore(path)
    assert store.get("a-1.0-py3-none-any.whl").sha256 == "1" * 64
    store.save()
    assert json.loads(path.read_text())["format"] == 2
    assert TrustStore(path).get("a-1.0-py3-none-any.whl").sha256 == "1" * 64
