"""The advisory index: ingest from folders/zips/files, atomic rebuilds, info, corrupt files."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.sources.advisories.db import AdvisoryDB, AdvisoryDbError, build_db
from pipvet.sources.advisories.ingest import read_source
from pipvet.sources.advisories.snapshot import SNAPSHOT_PATH, open_db, read_snapshot

VULNS = Path(__file__).resolve().parents[2] / "shared/advisories/pypa-advisory-database/vulns"


def record(vid: str, name: str = "demo", fixed: str = "2.0", **extra) -> dict:
    return {
        "id": vid,
        "modified": "2024-05-01T00:00:00Z",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        **extra,
    }


@pytest.fixture
def osv_folder(tmp_path: Path) -> Path:
    root = tmp_path / "osv"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "A-1.json").write_text(json.dumps(record("A-1", x_future={"k": 1})))
    (root / "other").mkdir()
    (root / "other" / "B-1.yaml").write_text(
        "id: B-1\nmodified: 2024-06-01T00:00:00Z\naffected:\n- package: {name: Other_Pkg, "
        "ecosystem: PyPI}\n  versions: ['1.0']\n"
    )
    (root / "bad.json").write_text("{not json")
    (root / "noid.json").write_text(json.dumps({"affected": []}))
    (root / "npm.json").write_text(
        json.dumps({"id": "N-1", "affected": [{"package": {"name": "x", "ecosystem": "npm"}}]})
    )
    return root


def test_ingest_folder_counts_and_reports_bad_records(osv_folder: Path) -> None:
    rep = read_source(str(osv_folder))
    assert sorted(r["id"] for r in rep.records) == ["A-1", "B-1"]
    assert rep.not_pypi == 1
    reasons = dict(rep.skipped)
    assert set(reasons) == {"bad.json", "noid.json"}
    assert "no id" in reasons["noid.json"]


def test_ingest_zip_export(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(3):
            zf.writestr(f"PYSEC-{i}.json", json.dumps(record(f"PYSEC-{i}")))
        zf.writestr("broken.json", "[")
    path = tmp_path / "all.zip"
    path.write_bytes(buf.getvalue())
    rep = read_source(str(path))
    assert len(rep.records) == 3 and len(rep.skipped) == 1


def test_build_and_query(tmp_path: Path, osv_folder: Path) -> None:
    rep = read_source(str(osv_folder))
    db_path = tmp_path / "a.sqlite"
    info = build_db(db_path, rep.records, {"source": "test", "date": "2024-06-01T00:00:00Z"})
    assert info.record_count == 2 and info.source == "test"
    db = AdvisoryDB(db_path)
    found, bad = db.advisories_for(["demo", "other-pkg", "missing"])
    assert [a.id for a in found["demo"]] == ["A-1"]
    assert [a.id for a in found["other-pkg"]] == ["B-1"]  # PEP 503: Other_Pkg
    assert found["missing"] == [] and bad == []
    assert not list(tmp_path.glob(".advisories-*"))  # the temp file was renamed away


def test_failed_rebuild_keeps_old_database(tmp_path: Path) -> None:
    db_path = tmp_path / "a.sqlite"
    build_db(db_path, [record("A-1")], {"source": "old"})

    def explode():
        yield record("B-1")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        build_db(db_path, explode(), {"source": "new"})
    assert AdvisoryDB(db_path).info().source == "old"
    assert not list(tmp_path.glob(".advisories-*"))


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_corrupt_or_truncated_database_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    db_path = tmp_path / "a.sqlite"
    build_db(db_path, [record(f"A-{i}", details="x" * 4000) for i in range(50)], {"source": "t"})
    data = db_path.read_bytes()
    if damage == "garbage":
        db_path.write_bytes(b"this is not sqlite" * 100)
    else:
        db_path.write_bytes(data[: len(data) // 3])
    with pytest.raises(AdvisoryDbError) as exc:
        db = AdvisoryDB(db_path)
        db.advisories_for([f"demo{i}" for i in range(5)] + ["demo"])
    assert str(db_path) in exc.value.message
    assert "pipvet db update" in (exc.value.hint or "")


def test_stored_record_that_fails_to_parse_is_reported(tmp_path: Path) -> None:
    db_path = tmp_path / "a.sqlite"
    build_db(db_path, [record("A-1"), record("A-2")], {"source": "t"})
    con = sqlite3.connect(db_path)
    con.execute("UPDATE records SET json = '{\"id\": 5' WHERE id = 'A-2'")
    con.commit()
    con.close()
    found, bad = AdvisoryDB(db_path).advisories_for(["demo"])
    assert [a.id for a in found["demo"]] == ["A-1"]
    assert [b.id for b in bad] == ["A-2"]


def test_bundled_snapshot_is_small_and_describes_itself() -> None:
    assert SNAPSHOT_PATH.stat().st_size < 5 * 1024 * 1024
    header, records = read_snapshot()
    ids = [r["id"] for r in records]
    assert header["commit"].startswith("3ccb6125")
    assert header["record_count"] == len(ids) > 2000
    assert header["date"].startswith("2024-10-10")


def test_fresh_cache_uses_snapshot_and_corrupt_cache_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path))
    opened = open_db()
    assert opened.db.info().origin == "snapshot" and opened.notes == ()
    opened.db.close()
    (tmp_path / "advisories.sqlite").write_bytes(b"\0" * 300)
    opened = open_db()
    assert opened.db.info().record_count > 2000
    assert "unreadable" in opened.notes[0] and "bundled snapshot" in opened.notes[0]


def test_explicit_missing_db_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDbError, match="no advisory database"):
        open_db(tmp_path / "nope.sqlite")


def test_db_update_and_info_commands(
    tmp_path: Path, osv_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "x.sqlite"
    assert main(["db", "update", "--from", str(osv_folder), "--db", str(db_path)]) == 0
    err = capsys.readouterr().err
    assert "indexed 2 advisories" in err
    assert "skipped 2 unusable record(s)" in err and "bad.json" in err
    assert main(["db", "info", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "records:    2" in out and "skipped:    2" in out and str(osv_folder) in out
    assert main(["db", "info", "--db", str(tmp_path / "missing.sqlite")]) == 2


@pytest.mark.skipif(not VULNS.is_dir(), reason="shared advisory database missing")
def test_ingest_real_pypa_folder(tmp_path: Path) -> None:
    rep = read_source(str(VULNS))
    assert len(rep.records) == len(list(VULNS.rglob("*.yaml"))) and not rep.skipped
    db_path = tmp_path / "pypa.sqlite"
    build_db(db_path, rep.records, {"source": "pypa"})
    found, _ = AdvisoryDB(db_path).advisories_for(["jinja2"])
    assert {"PYSEC-2014-8", "PYSEC-2019-217"} <= {a.id for a in found["jinja2"]}
