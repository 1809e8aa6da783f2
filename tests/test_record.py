"""RECORD parsing and checking (pipvet.core.record), on files in a temporary site directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipvet.core.record import Problem, check_dist, parse_record, record_digest


def test_parse_record_rows() -> None:
    text = (
        "demo/__init__.py,sha256=AAAA,12\n"
        "demo-1.0.dist-info/RECORD,,\n"
        '"odd,name.py",sha256=BBBB,3\n'
        "\n"
        "demo/x.pyc,,\n"
        "demo/bad.py,sha256=CCCC,notanumber\n"
    )
    rows = parse_record(text)
    assert [r.path for r in rows] == [
        "demo/__init__.py",
        "demo-1.0.dist-info/RECORD",
        "odd,name.py",
        "demo/x.pyc",
        "demo/bad.py",
    ]
    assert rows[0].algorithm == "sha256" and rows[0].digest == "AAAA" and rows[0].size == 12
    assert rows[1].algorithm is None and rows[1].size is None
    assert rows[4].size is None


def test_record_digest_is_urlsafe_unpadded() -> None:
    digest = record_digest(b"hello", "sha256")
    assert "=" not in digest and "+" not in digest and "/" not in digest
    import base64

    assert base64.urlsafe_b64decode(digest + "=") == hashlib.sha256(b"hello").digest()


def _install(prefix: Path, files: dict[str, bytes], record_extra: str = "") -> tuple[Path, Path]:
    site = prefix / "lib" / "site-packages"
    dist_info = site / "demo-1.0.dist-info"
    dist_info.mkdir(parents=True)
    rows = []
    for rel, data in files.items():
        p = (site / rel).resolve()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        rows.append(f"{rel},sha256={record_digest(data, 'sha256')},{len(data)}")
    rows.append("demo-1.0.dist-info/RECORD,,")
    (dist_info / "RECORD").write_text("\n".join(rows) + "\n" + record_extra)
    return site, dist_info


def test_clean_then_each_problem_reported(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    site, dist_info = _install(
        prefix,
        {
            "demo/__init__.py": b"x = 1\n",
            "demo/util.py": b"y = 2\n",
            "demo/same_size.py": b"abc\n",
            "../../bin/demo": b"#!python\n",
        },
    )
    kw = {"name": "demo", "version": "1.0", "dist_info": dist_info, "site_dir": site}
    ok = check_dist(prefix=prefix, **kw)
    assert ok.ok and ok.checked == 4 and ok.unhashed == 1  # RECORD itself

    (site / "demo" / "util.py").write_bytes(b"y = 3; import os\n")  # size changes
    (site / "demo" / "same_size.py").write_bytes(b"abd\n")  # same size, other bytes
    (site / "demo" / "__init__.py").unlink()
    (site / "demo" / "evil.py").write_bytes(b"boom\n")
    (site / "demo" / "__pycache__").mkdir()
    (site / "demo" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\0")
    (dist_info / "entry_points.txt").write_text("[x]\n")
    res = check_dist(prefix=prefix, **kw)
    got = {(p.problem, p.path) for p in res.problems}
    assert got == {
        (Problem.MODIFIED, "demo/util.py"),
        (Problem.MODIFIED, "demo/same_size.py"),
        (Problem.MISSING, "demo/__init__.py"),
        (Problem.UNRECORDED, "demo/evil.py"),
        (Problem.UNRECORDED, "demo-1.0.dist-info/entry_points.txt"),
    }
    assert res.ignored_pycache == 1


def test_paths_escaping_the_environment_are_not_read(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    site, dist_info = _install(
        prefix,
        {"demo/__init__.py": b""},
        record_extra="../../../secret.txt,sha256=AAAA,11\n/etc/hostname,sha256=AAAA,1\n",
    )
    res = check_dist(name="demo", version="1.0", dist_info=dist_info, site_dir=site, prefix=prefix)
    outside = {p.path for p in res.problems if p.problem is Problem.OUTSIDE}
    assert outside == {"../../../secret.txt", "/etc/hostname"}
    assert not [p for p in res.problems if p.problem is Problem.MODIFIED]


def test_weak_record_hash_and_missing_record(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    data = b"x\n"
    md5 = record_digest(data, "md5")
    site, dist_info = _install(prefix, {}, record_extra=f"demo/m.py,md5={md5},2\n")
    (site / "demo").mkdir()
    (site / "demo" / "m.py").write_bytes(data)
    res = check_dist(name="demo", version="1.0", dist_info=dist_info, site_dir=site, prefix=prefix)
    assert [p.problem for p in res.problems] == [Problem.WEAK_HASH]
    (dist_info / "RECORD").unlink()
    res = check_dist(name="demo", version="1.0", dist_info=dist_info, site_dir=site, prefix=prefix)
    assert [p.problem for p in res.problems] == [Problem.NO_RECORD]
