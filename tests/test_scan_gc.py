"""The garbage collector is paused while one artifact is analysed, and always put back."""

from __future__ import annotations

import gc
import zipfile
from pathlib import Path

import pytest

from pipvet.core.errors import InputError
from pipvet.services.scan import ScanInput, scan_one


def _wheel(tmp_path: Path) -> Path:
    """A small inert wheel whose code makes the parser allocate many container objects."""
    path = tmp_path / "bulky-1.0-py3-none-any.whl"
    body = "TABLE = [\n" + "".join(f"    ({i}, [{i}], {{'k': {i}}}),\n" for i in range(20000))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bulky/__init__.py", body + "]\n")
        zf.writestr("bulky-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: bulky\n")
        zf.writestr("bulky-1.0.dist-info/RECORD", "")
    return path


def test_no_collection_runs_during_the_analysis_and_gc_is_back_after(tmp_path):
    item = ScanInput(path=_wheel(tmp_path), label="bulky")
    assert gc.isenabled()
    young = gc.get_stats()[0]["collections"]
    report = scan_one(item)
    assert report["verdict"] == "clean", report
    # no automatic collection meanwhile: only the one of the youngest generation after it
    assert gc.get_stats()[0]["collections"] == young + 1
    assert gc.isenabled()
    # the same work with the collector on does trigger collections (the check above can fail)
    from pipvet.services.scan import scan_one_gc_on

    scan_one_gc_on(item)
    assert gc.get_stats()[0]["collections"] > young + 1


def test_gc_is_put_back_when_reading_fails_and_left_off_when_it_was_off(tmp_path):
    bad = ScanInput(path=tmp_path / "missing-1.0-py3-none-any.whl", label="missing")
    with pytest.raises(InputError):
        scan_one(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        scan_one(ScanInput(path=_wheel(tmp_path), label="bulky"))
        assert not gc.isenabled()
    finally:
        gc.enable()
