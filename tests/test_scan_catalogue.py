"""The rule catalogue lists every rule the engine can emit, once, and the formats read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pipvet.core.analysis as analysis_pkg
from pipvet.core.analysis.catalogue import CATALOGUE, reason, rule
from pipvet.core.analysis.model import SEVERITIES, Finding
from pipvet.formats.scan.sarif import render_sarif
from pipvet.services.scan import ScanReport

ANALYSIS = Path(analysis_pkg.__file__).parent
CATEGORIES = ("capability", "intent", "install-time", "obfuscation", "indicator", "metadata")
# "intent.exfiltration", written out in a rule module
QUALIFIED = re.compile(rf"""["']((?:{"|".join(CATEGORIES)}|analysis|archive)\.[a-z0-9-]+)["']""")
# the archive reader names its rules without the prefix: add_finding("zip-bomb", ...),
# ("path-traversal", "high", ...) tuples, and "symlink"/"hardlink" chosen by a conditional
ARCHIVE_CALL = re.compile(r"""add_finding\(\s*["']([a-z0-9-]+)["']""")
ARCHIVE_TUPLE = re.compile(
    r"""\(\s*["'](?!(?:info|low|medium|high|critical)["'])([a-z0-9-]+)["']\s*,"""
    r"""\s*["'](?:info|low|medium|high|critical)["']"""
)
ARCHIVE_KIND = re.compile(r"""kind\s*=\s*["']([a-z-]+)["']\s*if\s.*?else\s*["']([a-z-]+)["']""")


COMMENT = re.compile(r"\s+#\s[^\n]*")


def emitted_rule_ids() -> set[str]:
    """Every rule id written in the engine's sources (rules/*, engine, archive, verdict...)."""
    ids: set[str] = set()
    # the scan service reports a worker that died (scan.worker-died)
    scan_service = ANALYSIS.parents[1] / "services" / "scan.py"
    ids |= set(re.findall(r"""["'](scan\.[a-z0-9-]+)["']""", scan_service.read_text("utf-8")))
    for path in sorted(ANALYSIS.rglob("*.py")):
        if path.name == "catalogue.py":
            continue
        text = COMMENT.sub("", path.read_text(encoding="utf-8"))  # examples in comments
        ids |= {m.group(1) for m in QUALIFIED.finditer(text)}
        if path.name == "archive.py":
            ids |= {f"archive.{m.group(1)}" for m in ARCHIVE_CALL.finditer(text)}
            ids |= {f"archive.{m.group(1)}" for m in ARCHIVE_TUPLE.finditer(text)}
            for m in ARCHIVE_KIND.finditer(text):
                ids |= {f"archive.{m.group(1)}", f"archive.{m.group(2)}"}
    return ids


def test_every_rule_the_engine_can_emit_is_in_the_catalogue() -> None:
    ids = emitted_rule_ids()
    # the grep finds the rules (a broken pattern must not make this test pass vacuously)
    assert {"intent.exfiltration", "archive.path-traversal", "archive.symlink"} <= ids
    assert len(ids) >= 50
    missing = sorted(ids - set(CATALOGUE))
    assert not missing, f"rules missing from the catalogue: {missing}"


def test_catalogue_lists_no_rule_the_engine_cannot_emit() -> None:
    stale = sorted(set(CATALOGUE) - emitted_rule_ids())
    assert not stale, f"catalogue entries no rule emits: {stale}"


def test_every_entry_is_complete() -> None:
    for entry in CATALOGUE.values():
        assert entry.severity in SEVERITIES, entry.id
        assert entry.id.split(".")[0] in (*CATEGORIES, "analysis", "archive", "scan"), entry.id
        for text in (entry.description, entry.check, entry.false_positive):
            assert text and "\n" not in text and len(text) <= 120, (entry.id, text)


def _report(*findings: Finding, verdict: str = "risky") -> ScanReport:
    return ScanReport("demo-1.0.tar.gz", "demo", "1.0", "0" * 64, "sdist", verdict, 40, findings)


def test_sarif_rule_metadata_comes_from_the_catalogue() -> None:
    f = Finding("intent.exfiltration", "intent", "critical", "demo/x.py", 3, "Sends it.", "post")
    doc = json.loads(render_sarif([_report(f, verdict="malicious")]))
    (descriptor,) = doc["runs"][0]["tool"]["driver"]["rules"]
    entry = rule("intent.exfiltration")
    assert entry is not None
    assert descriptor["id"] == "intent.exfiltration"
    assert descriptor["shortDescription"]["text"] == entry.description
    assert entry.check in descriptor["help"]["text"]
    assert entry.false_positive in descriptor["help"]["text"]
    assert descriptor["properties"]["category"] == entry.category


def test_risky_reason_names_the_strongest_capabilities() -> None:
    findings = (
        Finding("capability.network", "network", "medium", "demo/net.py", 1, "m"),
        Finding("capability.process", "process", "low", "demo/run.py", 1, "m"),
        Finding("capability.dynamic-code", "dynamic-code", "low", "demo/dyn.py", 1, "m"),
        Finding("capability.credential-path", "credentials", "medium", "demo/cfg.py", 1, "m"),
        Finding("metadata.name-mismatch", "metadata", "info", "", None, "m"),
    )
    text = reason("risky", findings)
    assert text.startswith("uses credential access, network access, processes")
    assert "metadata" not in text
    other = reason("risky", (Finding("capability.process", "process", "low", "x.py", 1, "m"),))
    assert other != text and "processes" in other
