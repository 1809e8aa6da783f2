"""Metadata rules over the whole artifact: names, versions, descriptions and bundled binaries.

Typosquatting is ``pipvet.core.names.check_name`` (the one home of name checks).
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from pipvet.core.analysis.model import Artifact, Finding
from pipvet.core.analysis.rules import finding
from pipvet.core.names import check_name, confusion_version

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
        if v is not None and confusion_version(v, name or None):
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


def bytecode(artifact: Artifact, build_time: frozenset[str] = frozenset()) -> list[Finding]:
    """Compiled Python that Python runs in place of source that was read: in a wheel, a ``.pyc``
    where a module would be (``pkg/mod.pyc``: imported when no ``mod.py`` is there); a
    ``__pycache__`` file for a module of a wheel, or for a module an sdist's build imports
    (``build_time``: what ``setup.py`` imports, the in-tree backend), that is hash-based (PEP 552:
    used unchecked, or whenever the recorded hash is the source's, which whoever built the file
    chose) or, in an sdist, a timestamp one whose recorded time and size are the source member's
    (installers keep a tar's times, so the build imports the bytecode). The scanner does not
    read bytecode: such code is not analysed. In a wheel a timestamp file goes stale when
    installed (installers set new times): not reported."""
    paths = {m.path for m in artifact.members}
    sdist = artifact.kind == "sdist"
    for m in artifact.members:
        low = m.path.lower()
        if not low.endswith(PYC_SUFFIXES) or len(m.data) < 16 or m.data[2:4] != b"\r\n":
            continue  # not bytecode (a disguised file is its own finding)
        folder, _, file = m.path.rpartition("/")
        severity = "high"
        if folder.rsplit("/", 1)[-1] == "__pycache__":
            cached = _CACHE_NAME.fullmatch(file)  # what the import system looks for, no other
            if cached is None:
                continue
            source = f"{folder.rpartition('/')[0]}/{cached.group(1)}.py".lstrip("/")
            version = _cache_tag(cached.group(2))
            flags = int.from_bytes(m.data[4:8], "little")
            if source not in paths or (sdist and source not in build_time):
                continue  # Python looks in __pycache__ only for a source it imports
            if flags == 1:
                why = f"that {version} runs unchecked in place of {source} (unchecked hash)"
            elif flags == 3:
                why = f"that {version} runs in place of {source} when its hash is the source's"
            elif flags == 0 and sdist and _stamp_matches(artifact, m, source):
                why = (
                    f"that {version} runs in place of {source} when it is imported at build (its "
                    "recorded time and size are the source's)"
                )
                severity = "medium"  # one Python version; pyyaml ships one by accident
            else:
                continue  # stale or invalid: Python compiles the source
        elif sdist or f"{m.path[: -len('.pyc')]}.py" in paths:
            continue  # a stale copy beside its source: Python imports the source
        else:
            why = "imported in place of a module that has no source in the wheel"
        return [
            Finding(
                "analysis.bytecode",
                "analysis",
                severity,
                m.path,
                None,
                f"Not fully analysed: compiled Python {why}; bytecode is not read here.",
                file,
            )
        ]
    return []


# ``mod.cpython-313.pyc`` (and ``mod.cpython-313.opt-1.pyc`` under -O): what importlib names a
# cached module; pytest's ``mod.cpython-313-pytest-8.pyc`` is read by pytest alone
_CACHE_NAME = re.compile(r"([^.]+)\.([a-z]+-?\d+)(?:\.opt-\d+)?\.pyc", re.IGNORECASE)


def _cache_tag(tag: str) -> str:
    """``cpython-313`` -> "CPython 3.13" (the only interpreter that uses the file)."""
    m = re.fullmatch(r"cpython-(\d)(\d+)", tag)
    return f"CPython {m.group(1)}.{m.group(2)}" if m else "Python"


def _stamp_matches(artifact: Artifact, pyc, source: str) -> bool:
    """A timestamp ``.pyc``'s recorded source time and size (PEP 552) are the source member's."""
    times = artifact.member_times
    if source not in times:
        return False
    size = next((x.size for x in artifact.members if x.path == source), None)
    stamp = int.from_bytes(pyc.data[8:12], "little")
    recorded = int.from_bytes(pyc.data[12:16], "little")
    if size is None:
        return False
    return stamp == times[source] & 0xFFFFFFFF and recorded == size & 0xFFFFFFFF


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
