"""Property-based tests (hypothesis) for the readers of untrusted text: requirements files, both
lock forms, and OSV advisory ingestion.

Two kinds of property: whatever the input, a reader either returns or raises ``InputError`` with
a one-line message (never another exception, never a silent loss); and what pipvet writes, it
reads back unchanged.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipvet.core.errors import InputError
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.lockfile_io import (
    logical_lines,
    parse_pylock,
    parse_requirements_lock,
    render_pylock,
    render_requirements,
)
from pipvet.core.models import DistFile, FileHash
from pipvet.sources.advisories.db import AdvisoryDB, build_db, pypi_names
from pipvet.sources.advisories.ingest import IngestReport, _take
from pipvet.sources.requirements import read_requirements

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- strategies -------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}([-_.][a-z0-9]{1,4}){0,2}", fullmatch=True)
VERSIONS = st.builds(
    lambda parts, post: ".".join(map(str, parts)) + (f".post{post}" if post is not None else ""),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.one_of(st.none(), st.integers(0, 3)),
)
SHA = st.binary(min_size=32, max_size=32).map(bytes.hex)
MARKERS = st.sampled_from(
    [None, 'python_version >= "3.8"', 'sys_platform == "linux"', 'os_name != "nt"']
)
# text that looks like requirements files: their punctuation, quotes, escapes and control bytes
REQ_ALPHABET = st.sampled_from(
    [
        *(string.ascii_letters + string.digits + " \t\\#'\"=<>!~;,[]()-_.:/@$${}\n\r"),
        *("\x00", "\x0b", "\x1b", "é", "\u2028", "--hash=sha256:", "-r ", "-c ", "-e ", "-i "),
    ]
)
REQ_TEXT = st.lists(REQ_ALPHABET, max_size=80).map("".join)


def _one_line(exc: InputError) -> None:
    assert exc.message and "\n" not in exc.message, exc.message
    assert "\x00" not in exc.message


@st.composite
def locks(draw) -> Lock:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique_by=canonicalize_name))
    packages = []
    for name in names:
        name = canonicalize_name(name)
        version = Version(draw(VERSIONS))
        files = []
        for tag in draw(st.lists(st.sampled_from(["py3-none-any", "cp311-cp311-linux_x86_64"]),
                                 min_size=1, max_size=2, unique=True)):  # fmt: skip
            filename = f"{name.replace('-', '_')}-{version}-{tag}.whl"
            url = f"https://files.example/{filename}"
            files.append(DistFile(filename, url, (FileHash("sha256", draw(SHA)),)))
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                files=tuple(files),
                hashes=tuple(sorted({h for f in files for h in f.hashes}, key=str)),
                marker=draw(MARKERS),
            )
        )
    return Lock(packages=tuple(sorted(packages, key=lambda p: p.name)),
                index_url="https://index.example/simple/")  # fmt: skip


# -- requirements files -----------------------------------------------------------------------


@SETTINGS
@given(text=REQ_TEXT)
def test_requirements_reader_returns_or_says_one_line(text, tmp_path_factory):
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    path = folder / "requirements.txt"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        rf = read_requirements(path)
    except InputError as exc:
        _one_line(exc)
        return
    for line in rf.requirements:
        assert line.lineno >= 1 and line.requirement.name


@SETTINGS
@given(
    pins=st.lists(st.tuples(NAMES, VERSIONS, MARKERS), min_size=1, max_size=6),
    spacing=st.sampled_from([" ", "  ", "\t", " \t "]),
    comments=st.booleans(),
)
def test_requirements_written_any_way_read_back_the_same(pins, spacing, comments, tmp_path_factory):
    lines = []
    for name, version, marker in pins:
        line = f"{name}{spacing}=={spacing}{version}"
        if marker:
            line += f"{spacing};{spacing}{marker}"
        if comments:
            line += f"{spacing}# pinned for {name}"
        lines += [line, "# a comment" if comments else ""]
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    path = folder / "requirements.txt"
    path.write_text("\n".join(lines) + "\n")
    got = [(str(r.requirement.name), str(r.requirement.specifier), r.requirement.marker)
           for r in read_requirements(path).requirements]  # fmt: skip
    assert [(n, f"=={v}") for n, v, _m in pins] == [(n, s) for n, s, _m in got]
    assert [m for *_x, m in pins] == [str(m) if m else None for *_x, m in got]


@SETTINGS
@given(text=REQ_TEXT)
def test_logical_lines_keep_every_physical_line(text):
    lines = list(logical_lines(text))
    assert all(line.lineno >= 1 for line in lines)
    assert [line.lineno for line in lines] == sorted(line.lineno for line in lines)


# -- locks ------------------------------------------------------------------------------------


@SETTINGS
@given(text=REQ_TEXT)
def test_requirements_lock_reader_returns_or_says_one_line(text):
    try:
        parse_requirements_lock(text, source="r.lock")
    except InputError as exc:
        _one_line(exc)


@SETTINGS
@given(lock=locks())
def test_requirements_lock_round_trip(lock):
    back = parse_requirements_lock(render_requirements(lock, header="test"), source="r.lock")
    assert [(p.name, p.version, p.hashes, p.marker) for p in back.packages] == [
        (p.name, p.version, p.hashes, p.marker) for p in lock.packages
    ]
    assert back.index_url == lock.index_url


@SETTINGS
@given(lock=locks())
def test_pylock_round_trip(lock):
    back = parse_pylock(render_pylock(lock), source="pylock.toml")
    assert [(p.name, p.version, p.hashes) for p in back.packages] == [
        (p.name, p.version, p.hashes) for p in lock.packages
    ]
    assert [sorted(f.filename for f in p.files) for p in back.packages] == [
        sorted(f.filename for f in p.files) for p in lock.packages
    ]


TOML_VALUES = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-5, 5),
        st.text(string.printable, max_size=8),
        st.just("1.0"),
        st.just("alpha"),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "version",
                    "files",
                    "hashes",
                    "via",
                    "marker",
                    "size",
                    "url",
                    "sha256",
                    "sdist-allowed",
                    "build-packages",
                    "pipvet",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


FILE_ENTRIES = st.one_of(
    TOML_VALUES,
    st.fixed_dictionaries(
        {"name": st.just("t-1.0-py3-none-any.whl")},
        optional={"hashes": TOML_VALUES, "size": TOML_VALUES, "url": TOML_VALUES,
                  "upload-time": TOML_VALUES},
    ),
)  # fmt: skip
BUILD_ENTRIES = st.one_of(
    TOML_VALUES,
    st.fixed_dictionaries(
        {"name": st.one_of(st.just("tinybuild"), TOML_VALUES),
         "version": st.one_of(st.just("1.0"), TOML_VALUES)},
        optional={"files": st.one_of(st.lists(FILE_ENTRIES, max_size=2), TOML_VALUES),
                  "via": TOML_VALUES, "marker": TOML_VALUES},
    ),
)  # fmt: skip
PACKAGE_TOOLS = st.one_of(
    TOML_VALUES,
    st.fixed_dictionaries({}, optional={"via": TOML_VALUES, "sdist-allowed": TOML_VALUES}),
)
TOP_TOOLS = st.one_of(
    TOML_VALUES,
    st.fixed_dictionaries(
        {}, optional={"build-packages": st.one_of(st.lists(BUILD_ENTRIES, max_size=2), TOML_VALUES)}
    ),
)


@SETTINGS
@given(package_tool=PACKAGE_TOOLS, top_tool=TOP_TOOLS)
def test_pylock_reader_returns_or_says_one_line(package_tool, top_tool):
    import tomli_w

    doc = {
        "lock-version": "1.0",
        "created-by": "test",
        "packages": [
            {
                "name": "alpha",
                "version": "1.0",
                "wheels": [
                    {
                        "name": "alpha-1.0-py3-none-any.whl",
                        "url": "https://files.example/alpha-1.0-py3-none-any.whl",
                        "hashes": {"sha256": "0" * 64},
                    }
                ],
                "tool": {"pipvet": package_tool},
            }
        ],
        "tool": {"pipvet": top_tool},
    }
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        assume(False)
    try:
        parse_pylock(text, source="pylock.toml")
    except InputError as exc:
        _one_line(exc)


# -- OSV ingestion --------------------------------------------------------------------------------

JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6),
              st.sampled_from(["0", "1.0", "2.0", "PyPI", "ECOSYSTEM", "SEMVER", "GIT", "demo"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "affected", "package", "name", "ecosystem", "ranges", "type",
                             "events", "introduced", "fixed", "versions", "aliases", "severity",
                             "score", "database_specific", "withdrawn", "last_affected"]),
            inner, max_size=5,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


@st.composite
def osv_records(draw):
    """OSV-shaped records, many of them broken in some field."""
    rec = draw(JSONISH)
    if draw(st.booleans()):
        rec = {
            "id": draw(st.sampled_from(["PYSEC-1", "GHSA-x", "", None, 5])),
            "affected": [{"package": {"name": draw(st.sampled_from(["demo", "Demo_Pkg", 3])),
                                      "ecosystem": "PyPI"},
                          "ranges": draw(JSONISH), "versions": draw(JSONISH)}],
        }  # fmt: skip
    return rec


@SETTINGS
@given(records=st.lists(osv_records(), max_size=5))
def test_osv_ingestion_never_loses_a_record_naming_a_package(records, tmp_path_factory):
    report = IngestReport()
    _take(report, "batch.json", json.dumps(records).encode())
    for raw in records:  # each record is used, skipped (and said), or names no PyPI package
        assert (
            raw in report.records
            or any(w == "batch.json" for w, _ in report.skipped)
            or report.not_pypi
        )
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    unique = {r["id"]: r for r in report.records}
    db_path = folder / "adv.sqlite3"
    build_db(db_path, unique.values(), {"source": "test"})
    db = AdvisoryDB(db_path)
    try:
        names = {n for r in unique.values() for n in pypi_names(r)}
        found, bad = db.advisories_for(names)
        listed = {a.id for advs in found.values() for a in advs} | {b.id for b in bad}
        for raw in records:
            # every record with an id that names a PyPI package is read or reported at audit
            # time, however broken the rest of it is: never silently dropped
            if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
                try:
                    named = pypi_names(raw)
                except (TypeError, AttributeError):
                    named = set()
                if named:
                    assert raw["id"] in listed or raw["id"].strip() in listed, raw
    finally:
        db.close()


@pytest.mark.parametrize("payload", [b"[", b"\x00", b"{}", b'[null, 3, "x"]', b"\xff\xfe"])
def test_osv_ingestion_of_garbage_is_a_skip(payload):
    report = IngestReport()
    _take(report, "x.json", payload)
    assert not report.records


_MARKER_ALPHABET = st.sampled_from(
    [*"pyarmorkeshbinfucatdlxPYARMORK é—\u0130\u0131\u017f\u212a", "pyarmor", "Kramer"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_MARKER_ALPHABET, max_size=30).map("".join))
def test_the_obfuscator_marker_shortcut_answers_as_the_regex_does(text: str) -> None:
    from pipvet.core.analysis.rules.obfuscation import MARKERS, _marker

    assert (_marker(text) is None) == (MARKERS.search(text) is None)


def test_the_obfuscator_marker_shortcut_keeps_case_folded_non_ascii_letters() -> None:
    from pipvet.core.analysis.rules.obfuscation import _marker

    assert _marker("# \u212aramer é") is not None  # KELVIN SIGN folds to k
    assert _marker("x = 'ſpecter' — é") is not None  # LONG S folds to s
    assert _marker("# obfuscated by nobody — é") is not None
    assert _marker("# plain text — é") is None


_SHELL_PIECES = st.sampled_from(
    [
        "curl", "wget", "CURL", "nc", "ncat", "bash", "sh", "python3", "|", " | ", "-i", ">&",
        " ", "\n", "-o x", "&&", "./x", "chmod", "https://h/x.sh", "iex", "IEX", "iwr", "$x",
        "powershell", "-w hidden", "base64", "-d", "socat", "exec:", "/dev/tcp/", "mkfifo /tmp/",
        "func", "once", "é", "\u0130", "\u017fh", "irm", "x", "-e ", "(", "Invoke-Expression",
        "nc -e /bin/sh", "bash -i >& ", "certutil -urlcache", "mshta http:", "[Convert]::",
        "FromBase64String", "Net.WebClient", "openssl enc -d", "xxd -r", "regsvr32 /i:http:",
        "bitsadmin /transfer", "invoke-restmethod", "-outfile", "start-process",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_SHELL_PIECES, max_size=25).map("".join))
def test_a_pattern_tried_only_where_its_beginnings_occur_finds_what_a_search_finds(text: str):
    from pipvet.core.analysis.rules import FileContext
    from pipvet.core.analysis.rules.intent import SHELL_ATTACK, SHELL_BEGINS, SHELL_NEEDLES

    ctx = FileContext("run.sh", "script", text, None)
    whole = ctx.find(SHELL_ATTACK, limit=20, needles=SHELL_NEEDLES)
    anchored = ctx.find(SHELL_ATTACK, limit=20, needles=SHELL_NEEDLES, begins=SHELL_BEGINS)
    assert [(line, m.span(), m.group()) for line, m in whole] == [
        (line, m.span(), m.group()) for line, m in anchored
    ]


# The generated-identifier pattern as first written (a word boundary, then the branches): the
# pattern the scanner uses starts with a character class instead, for speed, and must find the
# same words.
_JUNK_REFERENCE = r"\b(?:[O0lI1_]{10,}|[Il1]{8,}|[O0]{8,}|_0x[0-9a-fA-F]{4,}|_{2}[0-9]{3,})\b"
_JUNK_PIECES = st.sampled_from(
    [*"O0lI1_x9aFé.( \n", "_0x", "__", "0x", "IIII", "OOOO", "llll", "1111", "____", "\u0130"]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_JUNK_PIECES, max_size=40).map("".join))
def test_the_generated_identifier_pattern_finds_what_the_word_boundary_form_finds(text: str):
    import re

    from pipvet.core.analysis.rules.obfuscation import JUNK_IDENT

    assert JUNK_IDENT.findall(text) == re.findall(_JUNK_REFERENCE, text)


_IMPORT_PIECES = st.sampled_from(
    [
        "import", "from", " ", "\t", "\n", "\r\n", ".", "..", "a", "os", "x.y", "(", ")", ",",
        "é", "#", "if x:\n    ", "importlib", "_", "as", "*",
    ]
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(st.lists(_IMPORT_PIECES, max_size=40).map("".join))
@example("import\nimport os")
@example("x = importlib\n\tfrom ..a import (b,\n c)\n  import os.path as p\nimport")
def test_import_lines_tried_where_the_word_occurs_match_as_a_whole_file_search(text: str):
    from pipvet.core.analysis.reach import _IMPORTS, import_matches

    data = text.encode("utf-8")
    assert [(m.span(), m.groups()) for m in import_matches(data)] == [
        (m.span(), m.groups()) for m in _IMPORTS.finditer(data)
    ]


_HINT_PIECES = st.sampled_from(
    ["exec", "execut", "ute", "ut", "eval", "system", "Popen", "spawn", "x", " ", "\n", "\r",
     "\r\n", "é", "(", "os.", "subprocess"]
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(st.lists(_HINT_PIECES, max_size=40).map("".join))
@example("exec\nut\nexecute\nx exec")
def test_sink_hints_found_in_one_pass_are_the_lines_a_search_per_line_finds(text: str):
    from pipvet.core.analysis.facts.python_ast import _SINK_HINT, sink_hint_lines
    from pipvet.core.analysis.facts.syntax import code_lines, code_text

    lines = code_lines(text)
    found = [i for i, ln in enumerate(lines, 1) if _SINK_HINT.search(ln)]
    assert sink_hint_lines(code_text(text)) == found


_WALK_SOURCES = [
    "x = (y := f(a, *b, k=c)) + [z for z in range(3) if (w := z)]\n",
    "match p:\n    case [1, *rest] if rest: g(rest)\n    case {'k': v, **kw}: h(v)\n",
    "async def f(a, /, b=1, *c, d, **e):\n"
    "    async with x() as (p, q):\n        await g(f'{a!r:>{b}}')\n",
    "try:\n    pass\nexcept* ValueError as e:\n    del e\nelse:\n    lambda q=1: -q < q <= q\n",
    "class C(B, metaclass=M):\n    @d(1)\n    def m(self) -> int: return not self or ~self\n",
]


@pytest.mark.parametrize(
    "source", [*_WALK_SOURCES, "ast", "argparse", "tarfile", "typing", "dataclasses"]
)
def test_the_list_walk_is_ast_walk_without_contexts_and_operators(source: str):
    import ast
    import importlib

    from pipvet.core.analysis.facts.python_ast import walk

    if source.isidentifier():  # a standard library module's own source
        source = Path(importlib.import_module(source).__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    skipped = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
    for root in (tree, tree.body[-1]):
        expected = [n for n in ast.walk(root) if not isinstance(n, skipped)]
        assert [id(n) for n in walk(root)] == [id(n) for n in expected]
