"""Metadata rules over the whole artifact: names, versions, descriptions and bundled binaries.

Typosquatting is ``pipvet.core.names.check_name`` (the one home of name checks).
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from pipvet.core.analysis.model import Artifact, Finding
from pipvet.core.analysis.rules import finding
from pipvet.core.names import check_name

PLACEHOLDERS = frozenset(
    {
        "",
        "unknown",
        "none",
        "test",
        "tests",
        "a",
        "description",
        "my package",
        "a small example package",
        "package",
        "todo",
        "aa",
        "x",
        "hello",
        "demo",
    }
)
MAGIC = {
    b"\x7fELF": "ELF",
    b"MZ": "PE",
    b"\xcf\xfa\xed\xfe": "Mach-O",
    b"\xfe\xed\xfa\xcf": "Mach-O",
}
MAGIC_FAT = b"\xca\xfe\xba\xbe"


def _first(meta: dict[str, list[str]], key: str) -> str:
    for k, v in meta.items():
        if k.lower() == key and v:
            return v[0]
    return ""


def check_artifact(artifact: Artifact) -> list[Finding]:
    out: list[Finding] = []
    name = artifact.name or _first(artifact.metadata, "name")
    version = artifact.version or _first(artifact.metadata, "version")
    if version:
        try:
            v = Version(version)
        except InvalidVersion:
            v = None
        if v is not None and v.major >= 99 and not 1990 <= v.major <= 2100 and v.major < 19000000:
            out.append(
                finding(
                    "metadata.dependency-confusion-version",
                    "metadata",
                    "medium",
                    None,
                    None,
                    "Unusually high version, typical of dependency-confusion packages.",
                    version,
                )
            )
    if name:
        check = check_name(name)
        if check.flagged:
            out.append(
                finding(
                    "metadata.typosquat",
                    "metadata",
                    "medium",
                    None,
                    None,
                    f"Name imitates the popular project '{check.typosquat_of}': {check.reason}",
                    name,
                )
            )
    if artifact.metadata:
        summary = _first(artifact.metadata, "summary").strip().lower()
        body = _first(artifact.metadata, "description").strip()
        if summary in PLACEHOLDERS and len(body) < 40:
            out.append(
                finding(
                    "metadata.empty-description",
                    "metadata",
                    "info",
                    None,
                    None,
                    "Empty or placeholder description.",
                    summary,
                )
            )
    if artifact.kind == "sdist":
        for m in artifact.members:
            head = m.data[:4]
            kind = next((k for magic, k in MAGIC.items() if head.startswith(magic)), None)
            if head == MAGIC_FAT and m.data[4:8] < b"\x00\x00\x00\x20":
                kind = "Mach-O"
            if kind:
                out.append(
                    Finding(
                        "metadata.bundled-binary",
                        "metadata",
                        "low",
                        m.path,
                        None,
                        f"The source distribution ships a compiled {kind} binary.",
                        kind,
                    )
                )
                break
    out.extend(_disguised(artifact))
    if artifact.kind == "wheel":
        out.extend(_bytecode(artifact))
    if name and artifact.kind in ("sdist", "wheel") and not _ships_module_like(artifact, name):
        out.append(
            finding(
                "metadata.name-mismatch",
                "metadata",
                "info",
                None,
                None,
                "The project name matches no module it ships.",
                name,
            )
        )
    return out


# Python bytecode starts with a two-byte version magic and "\r\n" (every version since 1.x)
PYC_SUFFIXES = (".pyc", ".pyo")
MIN_DISGUISED = 64  # bytes: smaller files hide nothing worth a warning


def _disguised(artifact: Artifact) -> list[Finding]:
    """Files whose name claims one thing and whose bytes are another: "bytecode" that is no
    Python bytecode, a typing marker (``py.typed``, empty or a word) holding binary data. Both
    are ways to ship an encrypted or packed payload that a loader elsewhere unpacks."""
    for m in artifact.members:
        low = m.path.lower().rsplit("!/", 1)[-1]
        if m.size < MIN_DISGUISED or len(m.data) < 4:
            continue
        what = ""
        if low.endswith(PYC_SUFFIXES) and m.data[2:4] != b"\r\n":
            what = "Python bytecode"
        elif low.endswith(".typed") and not _text_like(m.data[:4096]):
            what = "a typing marker"
        if what:
            return [
                Finding(
                    "metadata.disguised-file",
                    "metadata",
                    "high",
                    m.path,
                    None,
                    f"Named as {what} but holds other binary data (a hidden payload).",
                    m.data[:8].hex(),
                )
            ]
    return []


def _bytecode(wheel: Artifact) -> list[Finding]:
    """Compiled Python a wheel installs, which Python can run without its source being what was
    read: a ``.pyc`` where a module would be (``pkg/mod.pyc``: imported when no ``mod.py`` is
    there) or one in ``__pycache__`` marked to be used unchecked (PEP 552, flags 1). The scanner
    does not read bytecode, so such code is not analysed (a timestamp ``__pycache__`` file is
    recompiled or ignored once the installed source's time differs: not reported)."""
    paths = {m.path for m in wheel.members}
    for m in wheel.members:
        low = m.path.lower()
        if not low.endswith(PYC_SUFFIXES) or len(m.data) < 16 or m.data[2:4] != b"\r\n":
            continue  # not bytecode (a disguised file is its own finding)
        folder, _, file = m.path.rpartition("/")
        if folder.rsplit("/", 1)[-1] == "__pycache__":
            if int.from_bytes(m.data[4:8], "little") != 1:
                continue
            why = "marked to run without checking its source (an unchecked-hash .pyc)"
        elif f"{m.path[: -len('.pyc')]}.py" in paths:
            continue  # a stale copy beside its source: Python imports the source
        else:
            why = "imported in place of a module that has no source in the wheel"
        return [
            Finding(
                "analysis.bytecode",
                "analysis",
                "high",
                m.path,
                None,
                f"Not fully analysed: compiled Python {why}; bytecode is not read here.",
                file,
            )
        ]
    return []


def _text_like(data: bytes) -> bool:
    """No NUL byte and UTF-8 but for a character cut at the end of a prefix."""
    return b"\x00" not in data and data.decode("utf-8", "replace").count("\ufffd") <= 1


def _squash(text: str) -> str:
    return re.sub(r"[-_.]", "", text.lower())


def _ships_module_like(artifact: Artifact, name: str) -> bool:
    """True when a shipped top-level module or package resembles the project name."""
    want = _squash(name)
    skip_first = artifact.kind == "sdist"
    modules: set[str] = set()
    for m in artifact.members:
        parts = m.path.split("/")[1:] if skip_first else m.path.split("/")
        if parts and parts[0] == "src":
            parts = parts[1:]
        if not parts or not parts[-1].endswith((".py", ".so", ".pyd")):
            continue
        top = parts[0] if len(parts) > 1 else parts[0].split(".")[0]
        if top.endswith((".dist-info", ".data", ".egg-info")) or top in ("setup", "tests"):
            continue
        modules.add(_squash(top))
    if not modules:
        return True  # nothing to compare (metadata-only or non-Python artifacts)
    return any(want in mod or mod in want for mod in modules if len(mod) >= 2)
