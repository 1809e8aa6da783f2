"""Read an artifact as data: members one at a time, in memory, never extracted, never followed.

``read_artifact`` / ``read_artifact_bytes`` handle wheels, zips, eggs, tarballs (gz, bz2, xz, plain)
and loose files; ``read_tree`` / ``read_files`` handle an unpacked source tree or an installed
distribution. Source-like members keep their full bytes (up to a cap); everything else keeps only a
prefix (enough for ELF/PE/Mach-O magic), so a 100 MB wheel is read in bounded memory.

Anything hostile or broken (traversal, absolute paths, links, devices, bombs, truncation,
encryption, duplicate names) becomes a ``Finding`` in category ``archive``; no exception escapes
for bad content.
Only an unreadable input path raises (``InputError``).
"""

from __future__ import annotations

import bz2
import email.parser
import email.policy
import functools
import gzip
import hashlib
import io
import lzma
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from struct import error as struct_error
from typing import BinaryIO

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pipvet.core.analysis.model import Artifact, Finding, Member
from pipvet.core.errors import InputError

CATEGORY = "archive"


@dataclass(frozen=True)
class Limits:
    """Bounds on what reading one artifact may cost."""

    # regular files read; more is reported and ignored (homeassistant's wheel holds 58,144:
    # read whole in 57 s and 573 MB)
    max_members: int = 100_000
    max_total_size: int = 4 * 1024**3  # sum of declared uncompressed sizes
    max_member_size: int = 1024**3  # one member; larger ones keep a prefix only
    max_ratio: float = 200.0  # uncompressed / compressed, checked above ratio_min_size
    ratio_min_size: int = 16 * 1024**2
    max_nesting: int = 2  # archives inside archives read this deep
    max_nested_size: int = 64 * 1024**2  # nested archives larger than this are not opened
    # full bytes kept for source-like members up to this (generated API clients reach 21 MB in
    # one module: pydo's _operations.py, read whole in parts by the engine)
    max_source_size: int = 32 * 1024**2
    max_text_size: int = 1024**2  # .txt/.md/.json/no-extension/text-looking files up to this
    max_kept_total: int = 256 * 1024**2  # all full bytes kept for one artifact
    # full bytes kept for members of archives nested in it (data installers never unpack): their
    # own budget, so that a large bundled data archive cannot leave the package's code unread
    max_nested_kept: int = 64 * 1024**2
    # full bytes kept for text found by its content (C headers, CUDA sources, data tables): their
    # own budget, so that thousands of compile inputs cannot leave the Python that runs unread
    max_data_text_kept: int = 128 * 1024**2
    prefix_size: int = 4096  # what binaries keep
    max_tar_header: int = 64 * 1024  # PAX headers and GNU long names larger are refused
    max_zip_entries: int = 200_000  # a zip's central directory listing more is not parsed
    max_entries: int = 200_000  # tar entries of any kind (folders, links...) read
    max_findings_per_rule: int = 50  # more findings of one kind are counted, not kept
    max_strings_bytes: int = 8 * 1024**2  # one binary's bytes searched for indicator strings
    max_strings_total: int = 24 * 1024**2  # all binaries of one artifact, together
    max_strings_kept: int = 200  # indicator strings kept per binary


DEFAULT_LIMITS = Limits()

# Always kept in full (up to max_source_size): code, install hooks, packaging metadata.
_SOURCE_EXTS = frozenset(
    [
        ".py",
        ".pyw",
        ".pth",
        ".pyi",
        ".pyx",
        ".pxd",
        ".sh",
        ".bash",
        ".zsh",
        ".bat",
        ".cmd",
        ".ps1",
        ".psm1",
        ".vbs",
        ".vbe",
        ".js",
        ".mjs",
        ".cjs",
        ".cfg",
        ".toml",
        ".ini",
        ".in",
        ".spec",
        ".pl",
        ".rb",
        ".php",
    ]
)
_SOURCE_NAMES = frozenset(
    [
        "PKG-INFO",
        "METADATA",
        "RECORD",
        "WHEEL",
        "entry_points.txt",
        "top_level.txt",
        "requires.txt",
        "SOURCES.txt",
        "setup.cfg",
        "pyproject.toml",
        "Makefile",
        "Dockerfile",
    ]
)
# Kept in full when small (max_text_size).
_TEXT_EXTS = frozenset(
    [
        ".json",
        ".txt",
        ".md",
        ".rst",
        ".yml",
        ".yaml",
        ".xml",
        ".html",
        ".htm",
        ".csv",
        ".c",
        ".h",
        ".cpp",
        ".cc",
        ".hpp",
        ".rs",
        ".go",
        ".java",
    ]
)
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".zip",
    ".egg",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar",
)
_TREE_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".mypy_cache"})


# Binaries whose strings are searched for network indicators (URLs, webhooks, hosts): native
# modules, executables and bytecode are otherwise kept as a prefix only.
_STRINGS_SUFFIXES = (".so", ".pyd", ".dll", ".exe", ".bin", ".pyc", ".pyo", ".dylib", ".elf")
_BINARY_MAGIC = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xca\xfe\xba\xbe")
# what every indicator string holds (ASCII), found with bytes.find before anything is decoded
# (URLs of webhooks, pools and paste sites carry their scheme; hosts may be written without one)
_STRING_NEEDLES = (b"://", b"discord", b".onion")
_WIDE_NEEDLES = (b":\x00/\x00/\x00",)
_MAX_STRING = 600  # characters kept of one string around its needle
_PRINTABLE = frozenset(range(0x20, 0x7F))


def _wants_strings(path: str, head: bytes) -> bool:
    return path.lower().endswith(_STRINGS_SUFFIXES) or head.startswith(_BINARY_MAGIC)


def _run_around(buf: bytes, at: int, end: int, step: int) -> str:
    """The printable run (ASCII, or UTF-16LE when ``step`` is 2) holding ``buf[at:end]``."""

    def printable(i: int) -> bool:
        return buf[i] in _PRINTABLE and (step == 1 or buf[i + 1] == 0)

    start = at
    while start - step >= 0 and at - start < _MAX_STRING * step and printable(start - step):
        start -= step
    stop = end
    while stop + step <= len(buf) and stop - end < _MAX_STRING * step and printable(stop):
        stop += step
    raw = buf[start:stop]
    return raw.decode("utf-16-le" if step == 2 else "ascii", "replace")


def indicator_strings(buf: bytes, found: dict[str, None], limit: int) -> None:
    """Add to ``found`` the printable strings of ``buf`` (ASCII and UTF-16LE) that hold one of
    the indicator needles, at most ``limit`` in all."""
    needles = [*((n, 1) for n in _STRING_NEEDLES), *((n, 2) for n in _WIDE_NEEDLES)]
    for pattern, step in needles:
        pos = buf.find(pattern)
        while pos >= 0 and len(found) < limit:
            text = _run_around(buf, pos, pos + len(pattern), step)
            if len(text) >= 8:
                found.setdefault(text)
            pos = buf.find(pattern, pos + len(pattern))


class _Stop(Exception):
    """A limit was reached: stop reading this artifact (the finding is already recorded)."""


class _HeaderLimit(Exception):
    """A tar header extension over the bound, or malformed (raised before tarfile parses it).

    Not a ``tarfile.TarError``: ``TarFile.next`` re-raises other exceptions unchanged."""


# what installing could run may sit in what was not read: fail closed
_UNREAD = "the rest was not read, and code there could run at install"


def _finding(rule: str, severity: str, path: str, message: str, evidence: str = "") -> Finding:
    return Finding(f"archive.{rule}", CATEGORY, severity, path, None, message, evidence[:200])


def _looks_text(prefix: bytes) -> bool:
    """True when the first bytes look like text (no NUL, few control bytes)."""
    if not prefix:
        return True
    if b"\x00" in prefix:
        return False
    control = sum(1 for b in prefix if b < 32 and b not in (9, 10, 12, 13, 27, 8))
    return control <= len(prefix) // 50


def _full_cap(path: str, limits: Limits) -> int | None:
    """Bytes to keep in full for a member, by its name (None: decide by its content)."""
    base = path.rsplit("/", 1)[-1]
    suffix = os.path.splitext(base)[1].lower()
    if suffix in _SOURCE_EXTS or base in _SOURCE_NAMES:
        return limits.max_source_size
    if suffix in _TEXT_EXTS or not suffix:
        return limits.max_text_size
    return None


def _is_data_text(path: str) -> bool:
    """Text that is not Python, a script or packaging metadata: C and other languages' sources
    (JavaScript, Perl, Ruby, PHP: a web bundle, a JS package that jsii loads), documents, data
    tables (a known text suffix, or an unknown one recognised by content). A file without a
    suffix is not: it may be a script."""
    base = path.rsplit("/", 1)[-1]
    suffix = os.path.splitext(base)[1].lower()
    if suffix in _OTHER_LANGUAGES:
        return True
    return bool(suffix) and suffix not in _SOURCE_EXTS and base not in _SOURCE_NAMES


# sources kept in full as code is (``_SOURCE_EXTS``) that neither pip nor Python runs: they draw on
# the budget of data text, so that 300 MB of JavaScript cannot leave the Python after it unread
_OTHER_LANGUAGES = frozenset({".js", ".mjs", ".cjs", ".pl", ".rb", ".php"})


def _is_archive_name(path: str) -> bool:
    return path.lower().endswith(_ARCHIVE_SUFFIXES)


_CONTROL_CHARS = re.compile(r"[\x00-\x1f]")


def _check_path(raw: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Normalise a stored member name to '/'-separated; return problems as (rule, sev, message)."""
    path = raw.replace("\\", "/")
    problems: list[tuple[str, str, str]] = []
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        problems.append(("absolute-path", "high", "member has an absolute path"))
    if ".." in path.split("/"):
        problems.append(("path-traversal", "high", "member path climbs out of the archive (..)"))
    if _CONTROL_CHARS.search(path):
        problems.append(("control-chars", "medium", "member path contains control characters"))
    return path, problems


def _outside(member_path: str, target: str) -> tuple[int, list[str]] | None:
    """Where a link target lands from the archive's root: how many folders above it, and the
    names it then goes down into (``(0, [])`` when it stays inside); None when absolute."""
    target = target.replace("\\", "/")
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return None
    inside = list(PurePosixPath(member_path).parent.parts)
    beyond = 0  # folders climbed above the archive's root
    below: list[str] = []  # names gone down into after leaving it
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            (below if beyond else inside).append(part)
        elif below:
            below.pop()
        elif inside:
            inside.pop()
        else:
            beyond += 1
    return beyond, below


def _near_file_outside(member_path: str, target: str) -> bool:
    """A relative link target that leaves the archive by at most two folders and names one file
    there (``LICENSE -> ../../LICENSE``: a monorepo's shared file). A target that climbs further
    or then goes down into folders (``../../../../root/.bashrc``) aims at a known place on the
    machine; one that names a folder can take writes."""
    where = _outside(member_path, target)
    return where is not None and 0 < where[0] <= 2 and len(where[1]) == 1


def _link_escapes(member_path: str, target: str) -> bool:
    """True when a link target is absolute or resolves outside the archive root."""
    where = _outside(member_path, target)
    return where is None or where[0] > 0


def _detect_format(head: bytes, filename: str) -> str:
    """'zip', 'tar' (any compression) or 'file', from magic bytes first, then the name."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "tar"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    lower = filename.lower()
    if lower.endswith((".whl", ".zip", ".egg")):
        return "zip"
    if lower.endswith(_ARCHIVE_SUFFIXES):
        return "tar"
    return "file"


def _kind_for(filename: str, fmt: str) -> str:
    lower = filename.lower()
    if fmt == "file":
        return "file"
    if lower.endswith(".whl"):
        return "wheel"
    if fmt == "tar" or lower.endswith(".zip"):
        return "sdist"
    return "zip"


class _Reader:
    """Collects members and findings for one artifact, enforcing one shared budget."""

    def __init__(self, limits: Limits, nested: bool = False) -> None:
        self.limits = limits
        self.nested = nested  # reads an archive inside the artifact (its own kept budget)
        self.kept_limit = limits.max_nested_kept if nested else limits.max_kept_total
        self.nested_kept = 0  # kept bytes of the nested archives read by this (outer) reader
        self.members: list[Member] = []
        self.findings: list[Finding] = []
        self.total = 0  # declared bytes of every archive read so far (the shared budget)
        self.own_total = 0  # declared bytes of this archive alone (for its compression ratio)
        self.kept = 0
        self.names: Counter[str] = Counter()
        self._kept_warned = False
        self.entries = 0  # tar entries of any kind seen
        self.dropped: Counter[str] = Counter()  # findings over max_findings_per_rule, by rule
        self._per_rule: Counter[str] = Counter()
        self.strings_read = 0  # bytes of binaries searched for indicator strings
        self.data_text_kept = 0  # kept bytes of text recognised by content (max_data_text_kept)
        self.times: dict[str, int] = {}  # tar .py/.pyc member -> modification time (seconds)
        # link path -> index of its finding: a relative link out of the archive that no member
        # has been written through yet (``link``, ``through_link``)
        self._outside_links: dict[str, int] = {}
        self._data_text_warned = False

    def add_finding(self, rule: str, severity: str, path: str, message: str, evidence: str = ""):
        self._per_rule[rule] += 1
        if self._per_rule[rule] > self.limits.max_findings_per_rule:
            self.dropped[rule] += 1  # a million links are one kind of problem, said once more
            return
        self.findings.append(_finding(rule, severity, path, message, evidence))

    def link(self, path: str, target: str, symbolic: bool, escapes: bool) -> None:
        """Report a link member. One that leaves the archive is ``high``, except a symbolic link
        to one file just outside it (``LICENSE -> ../../LICENSE``, a monorepo's shared file:
        ``_near_file_outside``): ``medium`` until a later member's path goes through it
        (``through_link``), which is how an extraction writes outside its folder."""
        kind = "symlink" if symbolic else "hardlink"
        what = ("symbolic" if symbolic else "hard") + " link"
        if not escapes:
            self.add_finding(kind, "low", path, what, target)
            return
        if not symbolic or not _near_file_outside(path, target):
            self.add_finding(kind, "high", path, f"{what} pointing outside the archive", target)
            return
        message = f"{what} pointing outside the archive (no member is written through it)"
        before = len(self.findings)
        self.add_finding(kind, "medium", path, message, target)
        if len(self.findings) > before:  # (not dropped over the per-rule bound)
            self._outside_links[path] = before

    def through_link(self, path: str) -> None:
        """A member at ``path``: when it goes through a relative link out of the archive read
        before it, that link is how this member lands outside the extraction folder (high)."""
        for link, index in list(self._outside_links.items()):
            if path.startswith(f"{link}/"):
                old = self.findings[index]
                message = (
                    f"symbolic link pointing outside the archive; {path} is written through it"
                )
                self.findings[index] = _finding("symlink", "high", old.path, message, old.evidence)
                del self._outside_links[link]

    def entry(self, path: str) -> None:
        """Count one tar entry of any kind; raise _Stop past the bound (each costs memory)."""
        self.entries += 1
        if self.entries > self.limits.max_entries:
            self.add_finding(
                "limit-members",
                "high",
                path,
                f"more than {self.limits.max_entries} entries; {_UNREAD}",
            )
            raise _Stop

    # -- budget ---------------------------------------------------------------------------------
    def admit(self, path: str, size: int, archive_size: int) -> None:
        """Account for one regular member before reading it; raise _Stop past a hard limit."""
        lim = self.limits
        if len(self.members) >= lim.max_members:
            self.add_finding(
                "limit-members",
                "high",
                path,
                f"more than {lim.max_members} files; {_UNREAD}",
            )
            raise _Stop
        self.spend(path, size, archive_size)

    def spend(self, path: str, size: int, archive_size: int) -> None:
        """Account for ``size`` bytes to unpack (any member: a tar stream must unpack even what
        it skips), before unpacking them; raise _Stop past the total or the ratio bound."""
        lim = self.limits
        new_total = self.total + max(size, 0)
        own = self.own_total + max(size, 0)
        if own > lim.ratio_min_size and own > lim.max_ratio * max(archive_size, 1):
            self.add_finding(
                "zip-bomb",
                "high",
                path,
                f"unpacks to over {lim.max_ratio:.0f}x its size (decompression bomb); {_UNREAD}",
                f"{own} bytes from {archive_size}",
            )
            raise _Stop
        if new_total > lim.max_total_size:
            self.add_finding(
                "limit-total-size",
                "high",
                path,
                f"unpacked size exceeds {lim.max_total_size // 1024**2} MiB; {_UNREAD}",
            )
            raise _Stop
        self.total, self.own_total = new_total, own

    def keep_cap(self, path: str, size: int, prefix: bytes) -> int:
        """How many bytes of this member to keep (prefix_size when only a prefix is kept)."""
        lim = self.limits
        cap = _full_cap(path, lim)
        if cap is None:
            cap = lim.max_text_size if _looks_text(prefix) else 0
        if cap > lim.prefix_size and _is_data_text(path):
            want = min(size, cap) if size >= 0 else cap
            if self.data_text_kept + want > lim.max_data_text_kept:
                if not self._data_text_warned:
                    self._data_text_warned = True
                    self.add_finding(
                        "limit-kept-size",
                        "low",
                        path,
                        f"over {lim.max_data_text_kept // 1024**2} MiB of text files that are "
                        "not Python or scripts (C headers, data); later ones were only partly read",
                    )
                return lim.prefix_size
            self.data_text_kept += want
            return cap
        if cap <= lim.prefix_size:
            return lim.prefix_size
        want = min(size, cap) if size >= 0 else cap
        if self.kept + want > self.kept_limit:
            if not self._kept_warned:
                self._kept_warned = True
                self.add_finding(
                    "limit-kept-size",
                    "medium",
                    path,
                    f"over {self.kept_limit // 1024**2} MiB of source; "
                    "later files were only partly read",
                )
            return lim.prefix_size
        return cap

    def add_member(
        self, path: str, size: int, data: bytes, truncated: bool, strings: tuple[str, ...] = ()
    ) -> None:
        self.names[path] += 1
        if self.names[path] == 2:
            self.add_finding(
                "duplicate-name",
                "medium",
                path,
                "the archive holds this name more than once; installers may pick either copy",
            )
        if len(data) > self.limits.prefix_size and not _is_data_text(path):
            self.kept += len(data)  # (data text is counted in data_text_kept by keep_cap)
        self.members.append(Member(path, size, data, truncated, strings))

    def binary_strings(self, head: bytes, stream: BinaryIO) -> tuple[tuple[str, ...], bool]:
        """Indicator strings of a binary whose ``head`` was read: the rest of ``stream`` is
        searched in chunks, up to the per-binary and per-artifact bounds. Returns the strings
        and whether bytes past ``head`` were seen."""
        lim = self.limits
        budget = min(lim.max_strings_bytes, lim.max_strings_total - self.strings_read)
        found: dict[str, None] = {}
        indicator_strings(head, found, lim.max_strings_kept)
        seen, tail, more = len(head), head[-2 * _MAX_STRING :], False
        while budget > seen and len(found) < lim.max_strings_kept:
            chunk = stream.read(min(1024**2, budget - seen))
            if not chunk:
                break
            more = True
            indicator_strings(tail + chunk, found, lim.max_strings_kept)
            seen += len(chunk)
            tail = chunk[-2 * _MAX_STRING :]
        self.strings_read += seen
        return tuple(found), more

    # -- one member's bytes -----------------------------------------------------------------------
    def read_stream(
        self, path: str, size: int, stream: BinaryIO, depth: int, prefix_path: str
    ) -> None:
        """Read one regular member from a stream: full bytes or a prefix, nested archives too."""
        lim = self.limits
        head = stream.read(lim.prefix_size)
        if depth < lim.max_nesting and _is_archive_name(path) and size <= lim.max_nested_size:
            rest = stream.read(lim.max_nested_size + 1 - len(head))
            data = head + rest
            self.add_member(path, size, data[: lim.prefix_size], len(data) > lim.prefix_size)
            self.read_nested(path, data, depth + 1, prefix_path)
            return
        if size >= 0 and size > lim.max_member_size:
            self.add_finding(
                "limit-member-size",
                "medium",
                path,
                f"file is over {lim.max_member_size // 1024**2} MiB; only its start was read",
            )
            self.add_member(path, size, head, True)
            return
        cap = self.keep_cap(path, size, head)
        if cap <= lim.prefix_size and len(head) == lim.prefix_size and _wants_strings(path, head):
            strings, more = self.binary_strings(head, stream)
            truncated = size > len(head) if size >= 0 else more
            self.add_member(path, size, head, truncated, strings)
            return
        if cap <= lim.prefix_size or len(head) < lim.prefix_size:
            more = b"" if len(head) < lim.prefix_size else stream.read(1)
            if len(head) < lim.prefix_size and 0 <= len(head) < size:
                self.add_finding(
                    "truncated", "medium", path, f"file holds {len(head)} of its {size} bytes"
                )
            strings: tuple[str, ...] = ()
            if _wants_strings(path, head):
                found: dict[str, None] = {}
                indicator_strings(head, found, lim.max_strings_kept)
                strings = tuple(found)
            self.add_member(path, size, head, bool(more), strings)
            return
        rest = stream.read(cap + 1 - len(head))
        data = head + rest
        truncated = len(data) > cap
        if size >= 0 and len(data) < min(size, cap):
            self.add_finding(
                "truncated", "medium", path, f"file holds {len(data)} of its {size} bytes"
            )
        self.add_member(path, size if size >= 0 else len(data), data[:cap], truncated)

    def read_nested(self, path: str, data: bytes, depth: int, prefix_path: str) -> None:
        fmt = _detect_format(data[:512], path)
        if fmt == "file":
            return
        nested_prefix = f"{prefix_path}{path}!/"
        sub = _Reader(self.limits, nested=True)
        sub.total, sub.strings_read = self.total, self.strings_read
        sub.data_text_kept, sub._data_text_warned = self.data_text_kept, self._data_text_warned
        sub.kept = self.kept if self.nested else self.nested_kept
        sub._kept_warned = self.nested and self._kept_warned
        _read_archive_into(sub, io.BytesIO(data), len(data), fmt, path, depth)
        self.total, self.strings_read = sub.total, sub.strings_read
        self.data_text_kept, self._data_text_warned = sub.data_text_kept, sub._data_text_warned
        if self.nested:
            self.kept, self._kept_warned = sub.kept, sub._kept_warned
        else:
            self.nested_kept = sub.kept
        self.dropped.update(sub.dropped)
        for m in sub.members:
            self.members.append(
                Member(nested_prefix + m.path, m.size, m.data, m.truncated, m.strings)
            )
        for f in sub.findings:
            where = nested_prefix + f.path if f.path else f"{prefix_path}{path}"
            severity, message = f.severity, f.message
            if not f.path and f.rule in ("archive.malformed", "archive.truncated"):
                # broken archives inside packages are mostly test fixtures: worth a note only
                severity, message = "low", "an archive inside the package is not readable"
            self.findings.append(
                Finding(f.rule, f.category, severity, where, f.line, message, f.evidence)
            )


def _zip_entries(fileobj: BinaryIO) -> int:
    """Entries a zip's end record declares (0 when it has none), read before parsing them."""
    try:
        start = fileobj.tell()
        endrec = zipfile._EndRecData(fileobj)  # type: ignore[attr-defined]
        fileobj.seek(start)
    except (OSError, ValueError, struct_error):
        return 0
    return int(endrec[zipfile._ECD_ENTRIES_TOTAL]) if endrec else 0  # type: ignore[attr-defined]


def _read_zip(r: _Reader, fileobj: BinaryIO, archive_size: int, depth: int) -> None:
    lim = r.limits
    entries = _zip_entries(fileobj)
    if entries > lim.max_zip_entries:
        r.add_finding(
            "limit-members",
            "high",
            "",
            f"the zip lists {entries} entries (over {lim.max_zip_entries}); not read, and code "
            "there could run at install",
        )
        return
    zf = zipfile.ZipFile(fileobj)
    infos = zf.infolist()
    for info in infos:
        path, problems = _check_path(info.filename)
        r.through_link(path)
        if info.is_dir():
            continue
        for rule, sev, msg in problems:
            r.add_finding(rule, sev, path, msg, info.filename)
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.create_system == 3 and stat.S_ISLNK(mode):
            target = (
                zf.read(info)[:1024].decode("utf-8", "replace") if info.file_size < 4096 else ""
            )
            r.link(path, target, True, _link_escapes(path, target))
            continue
        if info.create_system == 3 and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            r.add_finding("special-file", "high", path, "device, fifo or socket entry")
            continue
        if info.flag_bits & 0x1:
            r.add_finding("encrypted", "medium", path, "encrypted member; its content is hidden")
            continue
        bomb = info.file_size > lim.ratio_min_size and info.file_size > lim.max_ratio * max(
            info.compress_size, 1
        )
        if bomb or info.file_size > lim.max_member_size:
            # a zip is read at random: what follows is still reached, at the cost of a prefix
            r.admit(path, lim.prefix_size, archive_size)
            r.add_finding(
                "zip-bomb" if bomb else "limit-member-size",
                "high" if bomb else "medium",
                path,
                (
                    f"member unpacks to over {lim.max_ratio:.0f}x its compressed size"
                    if bomb
                    else f"file is over {lim.max_member_size // 1024**2} MiB"
                )
                + "; only its start was read",
                f"{info.file_size} bytes from {info.compress_size}",
            )
            with zf.open(info) as fh:
                r.add_member(path, info.file_size, fh.read(lim.prefix_size), True)
            continue
        r.admit(path, info.file_size, archive_size)
        try:
            with zf.open(info) as fh:
                r.read_stream(path, info.file_size, fh, depth, "")
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            NotImplementedError,
            lzma.LZMAError,
            ValueError,
            RuntimeError,
        ) as exc:
            r.add_finding("malformed", "medium", path, f"member could not be read: {exc}"[:200])


def _decompressed(fileobj: BinaryIO) -> BinaryIO:
    """The tar stream inside a compressed file; these raise EOFError when it is cut short
    (tarfile's own stream mode would silently stop instead)."""
    start = fileobj.tell()
    magic = fileobj.read(6)
    fileobj.seek(start)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(fileobj, mode="rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(fileobj, mode="rb")
    return fileobj


_PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_PAX_RECORD = re.compile(rb"(\d{1,12}) ")


def _check_pax(buf: bytes) -> None:
    """Walk PAX records (``LEN KEY=VALUE\n``) in linear time; raise _HeaderLimit when malformed
    (CPython's own parser is quadratic on some malformed records)."""
    pos = 0
    while pos < len(buf) and buf[pos] != 0:
        m = _PAX_RECORD.match(buf, pos)
        length = int(m.group(1)) if m else 0
        end = pos + length
        if not m or length <= len(m.group(0)) or end > len(buf) or buf[end - 1] != 0x0A:
            raise _HeaderLimit(f"a malformed PAX header record at byte {pos}")
        if b"=" not in buf[m.end() : end]:
            raise _HeaderLimit(f"a malformed PAX header record at byte {pos}")
        pos = end


class _Replay:
    """A stream that first returns ``buf``, then reads on from ``raw`` (what was read to check a
    header, given back to tarfile)."""

    def __init__(self, buf: bytes, raw) -> None:
        self._buf, self._raw = buf, raw

    def read(self, size: int = -1) -> bytes:
        if not self._buf:
            return self._raw.read(size)
        if size < 0 or size >= len(self._buf):
            out, self._buf = self._buf, b""
            return out + (self._raw.read(size - len(out)) if size > len(out) else b"")
        out, self._buf = self._buf[:size], self._buf[size:]
        return out

    def tell(self) -> int:
        return self._raw.tell() - len(self._buf)

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses PAX headers and GNU long names over a bound, and malformed PAX records, before
    tarfile reads or parses them."""

    max_header = DEFAULT_LIMITS.max_tar_header

    def _proc_member(self, tarfile_):  # type: ignore[override]
        extension = self.type in _PAX_TYPES or self.type in _LONG_TYPES
        if extension and self.size > self.max_header:
            raise _HeaderLimit(
                f"a tar header extension of {self.size} bytes (over {self.max_header})"
            )
        if self.type in _PAX_TYPES:
            buf = tarfile_.fileobj.read(self._block(self.size))
            _check_pax(buf[: self.size])
            raw = tarfile_.fileobj
            tarfile_.fileobj = _Replay(buf, raw)
            try:
                return super()._proc_member(tarfile_)
            finally:
                tarfile_.fileobj = raw
        return super()._proc_member(tarfile_)


@functools.lru_cache(maxsize=8)
def _bounded_tarinfo(max_header: int) -> type[_BoundedTarInfo]:
    """``_BoundedTarInfo`` with its bound (one class per bound, not one per archive read)."""
    return type("_TarInfo", (_BoundedTarInfo,), {"max_header": max_header})


def _read_tar(r: _Reader, fileobj: BinaryIO, archive_size: int, depth: int) -> None:
    bounded = _bounded_tarinfo(r.limits.max_tar_header)
    with tarfile.open(fileobj=_decompressed(fileobj), mode="r|", tarinfo=bounded) as tf:
        for ti in tf:
            path, problems = _check_path(ti.name)
            r.entry(path)
            r.through_link(path)
            if not ti.isreg() and ti.size > 0:
                r.spend(path, ti.size, archive_size)  # skipping its data unpacks it too
            if ti.isdir():
                continue
            for rule, sev, msg in problems:
                r.add_finding(rule, sev, path, msg, ti.name)
            if ti.issym() or ti.islnk():
                escapes = (ti.issym() and _link_escapes(path, ti.linkname)) or (
                    ti.islnk() and (_check_path(ti.linkname)[1] != [])
                )
                r.link(path, ti.linkname, ti.issym(), escapes)
                continue
            if ti.ischr() or ti.isblk() or ti.isfifo():
                r.add_finding("special-file", "high", path, "device or fifo entry", ti.name)
                continue
            if not ti.isreg():
                continue  # GNU long-name, sparse or unknown types: nothing to read
            r.admit(path, ti.size, archive_size)
            if path.endswith((".py", ".pyc")) and not r.nested:
                r.times[path] = int(ti.mtime)
            fh = tf.extractfile(ti)
            if fh is None:
                continue
            r.read_stream(path, ti.size, fh, depth, "")


def _read_archive_into(
    r: _Reader, fileobj: BinaryIO, archive_size: int, fmt: str, filename: str, depth: int
) -> None:
    """Read a zip or tar into ``r``, turning every failure into a finding."""
    try:
        if fmt == "zip":
            _read_zip(r, fileobj, archive_size, depth)
        else:
            _read_tar(r, fileobj, archive_size, depth)
    except _Stop:
        pass
    except _HeaderLimit as exc:
        r.add_finding("limit-header", "high", "", f"{exc}; {_UNREAD}", str(exc))
    except (EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        r.add_finding(
            "truncated",
            "medium",
            "",
            f"archive is truncated or corrupt; reading stopped ({type(exc).__name__})",
            str(exc),
        )
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        UnicodeError,
        KeyError,
        IndexError,
        OverflowError,
    ) as exc:
        if isinstance(exc, tarfile.ReadError) and ("unexpected end" in str(exc) or r.members):
            r.add_finding(
                "truncated", "medium", "", "archive is truncated; reading stopped", str(exc)
            )
        else:
            r.add_finding(
                "malformed",
                "medium",
                "",
                f"{filename} is not a readable archive: {exc}"[:200],
                str(exc),
            )
    except MemoryError:
        r.add_finding("malformed", "high", "", "archive needs too much memory to read")
    except RecursionError:
        r.add_finding("malformed", "medium", "", "archive structure is too deeply nested")


# -- metadata and identity ---------------------------------------------------------------------


def parse_metadata(data: bytes) -> dict[str, list[str]]:
    """Email-style core metadata (PKG-INFO/METADATA) as lowercase header -> values.

    The body, when present, is stored under ``description`` (unless a header already gave one).
    """
    text = data.decode("utf-8", "replace")
    try:
        msg = email.parser.Parser(policy=email.policy.compat32).parsestr(text)
    except Exception:  # hostile input must not escape as an exception
        return {}
    out: dict[str, list[str]] = {}
    for key, value in msg.items()[:2000]:
        out.setdefault(key.lower(), []).append(str(value))
    body = msg.get_payload()
    if isinstance(body, str) and body.strip() and "description" not in out:
        out["description"] = [body]
    return out


def _metadata_member(members: Iterable[Member], kind: str) -> Member | None:
    best: tuple[int, Member] | None = None
    for m in members:
        if "!/" in m.path:
            continue
        parts = m.path.strip("/").split("/")
        base = parts[-1]
        rank: int | None = None
        if (
            kind == "wheel"
            and base == "METADATA"
            and len(parts) == 2
            and parts[0].endswith(".dist-info")
        ):
            rank = 0
        elif (base == "PKG-INFO" and len(parts) <= 2 and not parts[0].endswith(".egg-info")) or (
            base == "PKG-INFO" and parts[0] == "EGG-INFO"
        ):
            rank = 1
        elif (
            base in ("METADATA", "PKG-INFO")
            and len(parts) >= 2
            and parts[-2].endswith((".dist-info", ".egg-info"))
        ):
            rank = 2 + len(parts)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, m)
    return best[1] if best else None


def _name_version_from_filename(filename: str) -> tuple[str | None, str | None]:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        name, version = parse_sdist_filename(filename)
        return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        pass
    stem = filename
    for suffix in (*_ARCHIVE_SUFFIXES, ".tar.gz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    m = re.match(r"^(.+?)-(\d[^-]*)(?:-.*)?$", stem)
    if m:
        return m.group(1), m.group(2)
    return (stem or None), None


def _kind_from_members(members: Iterable[Member], guess: str) -> str:
    """Refine an archive's kind by what it holds (a wheel misnamed .tar.gz is still a wheel)."""
    tops: set[str] = set()
    for m in members:
        parts = m.path.strip("/").split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "WHEEL":
            return "wheel"
        if len(parts) == 2 and parts[0] == "EGG-INFO":
            return "zip"
        if len(parts) <= 2:
            tops.add(parts[-1])
    if tops & {"setup.py", "PKG-INFO", "pyproject.toml", "setup.cfg"}:
        return "sdist"
    return guess


def _rank(f: Finding) -> int:
    return ("info", "low", "medium", "high", "critical").index(f.severity)


def _finish(
    r: _Reader, filename: str, kind: str, sha256: str | None, fallback_name: bool = True
) -> Artifact:
    if kind in ("wheel", "sdist", "zip"):
        kind = _kind_from_members(r.members, kind)
    for rule, n in sorted(r.dropped.items()):
        worst = max((f for f in r.findings if f.rule == f"archive.{rule}"), key=_rank, default=None)
        r.findings.append(
            _finding(
                rule,
                worst.severity if worst else "medium",
                "",
                f"{n} more findings of this kind (only the first {r.limits.max_findings_per_rule} "
                "are listed)",
            )
        )
    meta_member = _metadata_member(r.members, kind)
    metadata = parse_metadata(meta_member.data) if meta_member else {}
    name = (metadata.get("name") or [None])[0]
    version = (metadata.get("version") or [None])[0]
    if fallback_name and (not name or not version):
        fn_name, fn_version = _name_version_from_filename(filename)
        name = name or fn_name
        version = version or fn_version
    return Artifact(
        filename=filename,
        kind=kind,
        name=name.strip() if name else None,
        version=version.strip() if version else None,
        sha256=sha256,
        members=tuple(r.members),
        archive_findings=tuple(r.findings),
        metadata=metadata,
        member_times=r.times,
    )


# -- public entry points -----------------------------------------------------------------------


def read_artifact_bytes(data: bytes, filename: str, *, limits: Limits = DEFAULT_LIMITS) -> Artifact:
    """Read an artifact held in memory (an archive or a loose file)."""
    filename = os.path.basename(filename) or filename
    sha = hashlib.sha256(data).hexdigest()
    fmt = _detect_format(data[:512], filename)
    kind = _kind_for(filename, fmt)
    r = _Reader(limits)
    if fmt == "file":
        r.read_stream(filename, len(data), io.BytesIO(data), limits.max_nesting, "")
    else:
        _read_archive_into(r, io.BytesIO(data), len(data), fmt, filename, 0)
    return _finish(r, filename, kind, sha, fallback_name=fmt != "file")


def read_artifact(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Artifact:
    """Read an artifact file from disk, streaming (the file is never loaded whole)."""
    path = Path(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            head = fh.read(512)
            digest.update(head)
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
        fmt = _detect_format(head, path.name)
        kind = _kind_for(path.name, fmt)
        r = _Reader(limits)
        with path.open("rb") as fh:
            if fmt == "file":
                r.read_stream(path.name, st.st_size, fh, limits.max_nesting, "")
            else:
                _read_archive_into(r, fh, st.st_size, fmt, path.name, 0)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return _finish(r, path.name, kind, digest.hexdigest(), fallback_name=fmt != "file")


def read_files(
    root: Path,
    relpaths: Iterable[str],
    *,
    filename: str,
    kind: str = "installed",
    allowed_root: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Artifact:
    """Read listed files under ``root`` (e.g. an installed distribution's RECORD entries).

    A path that resolves outside ``allowed_root`` (default ``root``) or is a link is reported,
    never read; fifos and devices are never opened.
    """
    root = Path(root)
    fence = Path(allowed_root or root).resolve()
    r = _Reader(limits)
    try:
        for rel in relpaths:
            _read_one_file(r, root, rel, fence)
    except _Stop:
        pass
    return _finish(r, filename, kind, None, fallback_name=False)


def _read_one_file(r: _Reader, root: Path, rel: str, fence: Path) -> None:
    path, problems = _check_path(rel)
    full = root / rel
    try:
        st = full.lstat()
    except OSError:
        return  # listed but missing: nothing to read
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(full)
        except OSError:
            target = ""
        inside = _is_within(full.parent.resolve() / target, fence)
        r.add_finding(
            "symlink",
            "low" if inside else "high",
            path,
            "symbolic link" + ("" if inside else " pointing outside the tree"),
            target,
        )
        return
    if not _is_within(full.resolve(), fence):
        for rule, sev, msg in problems:
            r.add_finding(rule, sev, path, msg, rel)
        r.add_finding("outside-tree", "medium", path, "file lies outside the tree; not read")
        return
    if stat.S_ISDIR(st.st_mode):
        return
    if not stat.S_ISREG(st.st_mode):
        r.add_finding("special-file", "high", path, "device, fifo or socket in the tree")
        return
    r.admit(path, st.st_size, st.st_size)
    try:
        with full.open("rb") as fh:
            r.read_stream(path, st.st_size, fh, r.limits.max_nesting, "")
    except OSError as exc:
        r.add_finding("unreadable", "low", path, f"could not read: {exc.strerror or exc}")


def _is_within(path: Path, fence: Path) -> bool:
    try:
        path.resolve().relative_to(fence)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def read_tree(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Artifact:
    """Read an unpacked source tree; links are reported and never followed out of the tree."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _TREE_SKIP_DIRS)
        # symlinked folders are not descended (followlinks=False) but are still reported
        linked = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames) + linked:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            rels.append(rel.replace(os.sep, "/"))
    art = read_files(root, rels, filename=root.resolve().name, kind="tree", limits=limits)
    name, version = art.name, art.version
    if not name:
        name, version = _pyproject_identity(art)
    if not name:
        name, version = _name_version_from_filename(root.resolve().name)
    return Artifact(
        filename=art.filename,
        kind="tree",
        name=name or root.resolve().name,
        version=version,
        sha256=None,
        members=art.members,
        archive_findings=art.archive_findings,
        metadata=art.metadata,
    )


def _pyproject_identity(art: Artifact) -> tuple[str | None, str | None]:
    for m in art.members:
        if m.path == "pyproject.toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            try:
                project = tomllib.loads(m.data.decode("utf-8", "replace")).get("project", {})
            except Exception:
                return None, None
            if isinstance(project, dict):
                name, version = project.get("name"), project.get("version")
                return (
                    name if isinstance(name, str) else None,
                    version if isinstance(version, str) else None,
                )
    return None, None


__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "parse_metadata",
    "read_artifact",
    "read_artifact_bytes",
    "read_files",
    "read_tree",
]
