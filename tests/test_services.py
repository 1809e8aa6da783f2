"""The services as a library: typed requests in, frozen reports out, nothing printed, messages
through the progress callback; and the layers they sit between (issue 8)."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import index_builder as builder
from tests.support.index_server import TestIndex

from pipvet.cli.main import build_parser
from pipvet.core.errors import PolicyRefusal
from pipvet.core.progress import Level
from pipvet.core.reports.scan import Verdict
from pipvet.core.severity import Severity
from pipvet.formats import registries
from pipvet.sources.advisories.db import build_db

SRC = Path(__file__).resolve().parents[1] / "src" / "pipvet"


class Heard:
    """A progress callback that keeps what it hears."""

    def __init__(self) -> None:
        self.messages: list[tuple[Level, str]] = []

    def __call__(self, level: Level, message: str) -> None:
        self.messages.append((level, message))

    def text(self) -> str:
        return "\n".join(m for _, m in self.messages)


def _frozen(report: object) -> None:
    field = dataclasses.fields(report)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(report, field, None)


def test_scan_service_returns_verdicts_and_prints_nothing(tmp_path: Path, capsys) -> None:
    from pipvet.services.scan import ScanRequest, scan

    name, data, _meta = builder.build_wheel("demo", "1.0")
    wheel = tmp_path / name
    wheel.write_bytes(data)
    heard = Heard()
    run = scan(ScanRequest(targets=(str(wheel),), use_cache=False), progress=heard)
    assert capsys.readouterr() == ("", "")
    (report,) = run.reports
    assert report.verdict is Verdict.CLEAN and report.verdict == "clean"
    assert report.to_dict()["verdict"] == "clean"
    assert (Level.DETAIL, f"clean      {name}") in heard.messages
    _frozen(run)
    _frozen(report)


def test_audit_service_names_its_source_through_progress(tmp_path: Path, capsys) -> None:
    from pipvet.services.audit import AuditRequest, audit

    db = tmp_path / "adv.sqlite"
    build_db(db, [], {"source": "test", "date": "2024-06-01T00:00:00Z"})
    req = tmp_path / "r.txt"
    req.write_text("alpha==1.0\n")
    heard = Heard()
    report = audit(AuditRequest(requirements=str(req), db=str(db)), progress=heard)
    assert capsys.readouterr() == ("", "")
    assert [str(p) for p in report.packages] == ["alpha==1.0"] and report.findings == ()
    assert f"auditing 1 packages from requirements {req}" in heard.text()
    _frozen(report)


def test_lock_service_returns_the_lock(package_index: TestIndex, capsys) -> None:
    from pipvet.services.lock import LockRequest, lock

    report = lock(LockRequest(requirements=("alpha",), index_url=package_index.url))
    assert capsys.readouterr() == ("", "")
    assert "alpha" in [p.name for p in report.lock.packages]
    assert report.file_count == sum(len(p.files) for p in report.lock.packages) > 0
    _frozen(report)


def test_install_service_gate_sees_verified_files_before_pip(
    make_index, tmp_path: Path, capsys
) -> None:
    from pipvet.formats.lock.forms import requirements_form
    from pipvet.services.install import InstallRequest, install
    from pipvet.services.lock import LockRequest, lock

    index = make_index(standard=True)
    lock_path = tmp_path / "requirements.lock"
    made = lock(LockRequest(requirements=("alpha",), index_url=index.url))
    lock_path.write_text(requirements_form(made, header="test"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    seen: list[str] = []

    def gate(staged) -> None:
        seen.extend(s.path.name for s in staged if s.path.is_file() and s.sha256)
        raise PolicyRefusal("refused by the test gate")

    request = InstallRequest(lock=str(lock_path), python=str(venv), audit=False)
    with pytest.raises(PolicyRefusal, match="test gate"):
        install(request, before_install=gate)
    pins = sorted(f"{p.name}=={p.version}" for p in made.lock.packages)
    assert len(seen) == len(pins) and all(name.endswith(".whl") for name in seen)
    assert not list(venv.glob("lib/python*/site-packages/alpha*"))  # the gate refused: untouched
    report = install(request)
    assert sorted(report.changed) == pins and report.prefix == str(venv)
    assert capsys.readouterr() == ("", "")


def test_one_severity_scale_for_audit_and_scan() -> None:
    assert Severity.from_label("medium") is Severity.from_label("moderate") is Severity.MODERATE
    assert Severity.from_label("info") is Severity.NONE
    assert [s.scan_label for s in sorted(Severity) if s is not Severity.UNKNOWN] == [
        "info",
        "low",
        "medium",
        "high",
        "critical",
    ]
    assert Severity.HIGH.label == Severity.HIGH.scan_label == "high"


def test_format_choices_come_from_the_registries() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command, registry in (
        ("audit", registries.AUDIT),
        ("scan", registries.SCAN),
        ("verify", registries.VERIFY),
        ("lock", registries.LOCK),
    ):
        fmt = next(a for a in sub.choices[command]._actions if a.dest == "format")
        assert tuple(fmt.choices) == registry.names and fmt.default == registry.default
        for name in registry.names:
            assert callable(registry.renderer(name))


LOWER = ("core", "sources", "formats", "installer")
UPPER = ("pipvet.services", "pipvet.cli", "pipvet.commands")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("layer", LOWER)
def test_no_import_runs_back_up_a_layer(layer: str) -> None:
    bad = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in sorted((SRC / layer).rglob("*.py"))
        for module in _imports(path)
        if module.startswith(UPPER)
        or (layer == "core" and module.startswith(("pipvet.sources", "pipvet.installer")))
    ]
    assert bad == []
