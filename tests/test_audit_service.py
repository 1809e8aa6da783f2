"""The audit service: summary line, ignore expiry, data age, update from a URL, lazy imports."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.core.models import PackageId
from pipvet.services.audit import Ignore, audit_packages, summary_line
from pipvet.sources.advisories.db import AdvisoryDB, build_db


def rec(vid: str, name: str, fixed: str, score: str | None = None) -> dict:
    r = {
        "id": vid,
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    if score:
        r["severity"] = [{"type": "CVSS_V3", "score": score}]
    return r


CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOW = "CVSS:3.0/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "a.sqlite"
    records = [rec("X-1", "one", "2", CRIT), rec("X-2", "one", "2", LOW), rec("X-3", "two", "5")]
    build_db(path, records, {"source": "s", "date": "2026-11-01T00:00:00Z"})
    return path


def test_summary_line_counts_and_plurals(db: Path) -> None:
    pkgs = [PackageId.of("one", "1"), PackageId.of("two", "1"), PackageId.of("three", "1")]
    report = audit_packages(pkgs, db_path=db)
    assert summary_line(report) == "3 vulnerabilities (1 critical, 1 low, 1 unknown) in 2 packages"
    report = audit_packages([PackageId.of("two", "1")], db_path=db)
    assert summary_line(report) == "1 vulnerability (1 unknown) in 1 package"
    report = audit_packages([PackageId.of("two", "5")], db_path=db)
    assert summary_line(report) == "no known vulnerabilities in 1 package"
    assert not report.fails("unknown")


def test_ignore_applies_through_its_expiry_day(db: Path) -> None:
    pkgs = [PackageId.of("two", "1")]
    ign = Ignore("X-3", "reviewed", dt.date(2026, 11, 21))
    on_day = audit_packages(pkgs, db_path=db, ignores=[ign], today=dt.date(2026, 11, 21))
    after = audit_packages(pkgs, db_path=db, ignores=[ign], today=dt.date(2026, 11, 22))
    assert on_day.findings == () and len(on_day.ignored) == 1
    assert len(after.findings) == 1 and after.expired_ignores == (ign,)


def test_data_age_is_reported(db: Path) -> None:
    info = AdvisoryDB(db).info()
    assert info.age_days(dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)) == 20
    assert "(2026-11-01, " in info.describe() and "3 records" in info.describe()


def test_db_update_from_url(tmp_path: Path, capsys) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("X-9.json", json.dumps(rec("X-9", "nine", "1.0")))
    body = buf.getvalue()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            code = 200 if self.path == "/PyPI/all.zip" else 404
            self.send_response(code)
            self.send_header("Content-Length", str(len(body) if code == 200 else 0))
            self.end_headers()
            if code == 200:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        out = tmp_path / "u.sqlite"
        assert main(["db", "update", "--from", f"{base}/PyPI/all.zip", "--db", str(out)]) == 0
        assert AdvisoryDB(out).info().record_count == 1
        assert main(["db", "update", "--from", f"{base}/missing.zip", "--db", str(out)]) == 2
        assert "cannot download" in capsys.readouterr().err
        assert AdvisoryDB(out).info().record_count == 1  # the old index is untouched
    finally:
        server.shutdown()
        server.server_close()


def test_commands_that_do_not_audit_do_not_load_advisory_code() -> None:
    code = (
        "import sys; from pipvet.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.startswith(('pipvet.sources.advisories', "
        "'pipvet.core.matching', 'pipvet.services.audit', 'pipvet.formats.audit', 'cvss'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
