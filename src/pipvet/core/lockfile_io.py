"""Writing and reading locks: a hashed pip requirements file and PEP 751 ``pylock.toml``.

The requirements form is accepted unchanged by ``pip install --require-hashes --no-deps -r`` and
``uv pip install --require-hashes``. A requirements file cannot say which file a hash belongs to,
so after each package's ``# via`` line pipvet writes one comment per file,
``#   <filename> sha256:<digest>``, and reads it back: a later mismatch can then name the file the
lock expected (field notes section 5, item 10; pip-tools#414 for why every platform's file is
listed). Pure: no network, no processes.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipvet.core.errors import InputError
from pipvet.core.filenames import sdist_preference
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.models import DistFile, FileHash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STRONG = ("sha256", "sha384", "sha512")
# A "#" at the start or after whitespace starts a comment. pip's own "(^|\s+)#.*$" backtracks
# over every whitespace run (quadratic: 20 s for a 40 KB line of spaces); this is linear.
_COMMENT_RE = re.compile(r"(?<!\S)#.*$")
_FILE_COMMENT_RE = re.compile(r"^#\s+(\S+)\s+(sha256|sha384|sha512):([0-9a-fA-F]+)\s*$")
INDEX_PREFIX = "# index: "
SDIST_PREFIX = "# allowed sdists (building them runs their code): "
BUILD_HEADER = (
    "# Build dependencies of the sdists built from source "
    "(pip ignores these lines; pipvet install checks them):"
)
UPLOAD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# -- requirements-file lines (shared with pipvet.sources.requirements) ---------------------


@dataclass(frozen=True)
class LogicalLine:
    """One logical line of a requirements file: continuations joined, comment split off."""

    lineno: int  # first physical line, 1-based
    text: str  # without the comment; "" for a comment-only or blank line
    comment: str  # the comment, with its "#", or ""


def logical_lines(text: str) -> Iterator[LogicalLine]:
    """Join ``\\`` continuations and split off comments, the way pip reads requirements files.

    As in pip, a comment-only line ends a continuation.
    """
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if re.match(r"^\s*#", line):
            if parts:
                yield LogicalLine(start, " ".join(parts).strip(), "")
                parts = []
            yield LogicalLine(number, "", line.strip())
            continue
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1].strip())
            continue
        parts.append(line.strip())
        joined = " ".join(p for p in parts if p)
        parts = []
        match = _COMMENT_RE.search(joined)
        comment = ""
        if match:
            comment = match.group(0).strip()
            joined = joined[: match.start()]
        yield LogicalLine(start, joined.strip(), comment)
    if parts:
        yield LogicalLine(start, " ".join(p for p in parts if p).strip(), "")


def split_requirement_line(text: str, where: str = "") -> tuple[str, list[str]]:
    """Split a logical line into the requirement part and its option tokens (pip's rule:
    the requirement ends at the first whitespace-separated token that starts with ``-``)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if word.startswith("-"):
            req, opts = " ".join(words[:i]).strip(), " ".join(words[i:])
            return req, split_options(opts, where)
    return text.strip(), []


def split_options(text: str, where: str = "") -> list[str]:
    """Option tokens, quoted as a shell would (``shlex``); an unbalanced quote is an
    ``InputError`` naming ``where``."""
    if not any(c in text for c in "\"'\\"):  # nothing quoted or escaped: plain words
        return _WORDS_RE.findall(text)
    try:
        return shlex.split(text)
    except ValueError as e:  # "No closing quotation", "No escaped character"
        raise InputError(
            f"{where or 'requirement line'}: {str(e).lower()} in {_show(text)}"
        ) from None


_WORDS_RE = re.compile(r"[^ \t\r\n]+")  # shlex's whitespace


def _show(text: str, limit: int = 60) -> str:
    """A short, escaped excerpt of an input line for a one-line message."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def check_text(text: str, source: str) -> None:
    """Refuse text with NUL or other control characters (a binary file, or hidden content),
    naming the first line that has one. Tabs, form feeds and line ends are fine."""
    bad = _CONTROL_RE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    what = "a NUL byte" if bad.group() == "\x00" else f"a control character {bad.group()!r}"
    raise InputError(f"{source}:{line}: {what}; this is not a text requirements file")


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def requirement_error(where: str, text: str, exc: Exception) -> str:
    """One line for a requirement ``packaging`` refused (its message has a caret diagram)."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{where}: malformed requirement {_show(text)}: {reason}"


def parse_hash_options(tokens: list[str], where: str) -> tuple[list[FileHash], list[str]]:
    """Pull ``--hash=alg:hex`` / ``--hash alg:hex`` out of ``tokens``; return hashes and the rest.

    Weak algorithms are kept (as written) so the caller can refuse them with context.
    """
    hashes: list[FileHash] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        value = None
        if tok.startswith("--hash="):
            value = tok[len("--hash=") :]
        elif tok == "--hash":
            if i + 1 >= len(tokens):
                raise InputError(f"{where}: --hash needs a value like sha256:<hex>")
            value = tokens[i + 1]
            i += 1
        if value is None:
            rest.append(tok)
        else:
            alg, sep, digest = value.partition(":")
            if not sep or not digest or not re.fullmatch(r"[0-9a-fA-F]+", digest):
                raise InputError(f"{where}: malformed hash {value!r} (expected sha256:<hex>)")
            hashes.append(FileHash(alg.lower(), digest.lower()))
        i += 1
    return hashes, rest


# -- writing -----------------------------------------------------------------------------


def _comment_block(text: str) -> list[str]:
    return [line if line.startswith("#") else f"# {line}".rstrip() for line in text.splitlines()]


def render_requirements(lock: Lock, *, header: str) -> str:
    """The lock as a hashed pip requirements file: sorted, deterministic, ``# via`` kept."""
    out = _comment_block(header)
    if lock.index_url:
        out.append(f"{INDEX_PREFIX}{lock.index_url}")
    allowed = sorted(p.name for p in lock.packages if p.sdist_allowed)
    if allowed:
        out.append(SDIST_PREFIX + ", ".join(allowed))
    out.append("")
    for pkg in sorted(lock.packages, key=lambda p: p.name):
        out += _package_lines(pkg)
    if lock.build_packages:
        out.append("")
        out.append(BUILD_HEADER)
        for pkg in sorted(lock.build_packages, key=lambda p: p.name):
            out += [
                f"# build: {line.strip()}" if i == 0 else f"#   {line}"
                for i, line in enumerate(_package_lines(pkg, one_line=True))
            ]
    return "\n".join(out) + "\n"


def _package_lines(pkg: LockedPackage, *, one_line: bool = False) -> list[str]:
    out: list[str] = []
    line = f"{pkg.name}=={pkg.version}"
    if pkg.marker:
        line += f" ; {pkg.marker}"
    hashes = sorted({str(h) for h in pkg.hashes if h.algorithm in STRONG})
    if one_line:
        out.append(" ".join([line, *(f"--hash={h}" for h in hashes)]))
    elif hashes:
        out.append(line + " \\")
        for i, h in enumerate(hashes):
            out.append(f"    --hash={h}" + (" \\" if i < len(hashes) - 1 else ""))
    else:
        out.append(line)
    if pkg.via:
        out.append(f"    # via {', '.join(pkg.via)}")
    for f in sorted(pkg.files, key=lambda f: f.filename):
        if f.sha256:
            out.append(f"    #   {f.filename} sha256:{f.sha256}")
    return out


def _upload_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _format_upload(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.strftime(UPLOAD_TIME_FORMAT)


def render_pylock(lock: Lock) -> str:
    """The lock as PEP 751 ``pylock.toml`` (every file's URL, size, hashes, upload time)."""
    import tomli_w
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

    packages = []
    for pkg in sorted(lock.packages, key=lambda p: p.name):
        wheels, sdists = [], []
        for f in sorted(pkg.files, key=lambda f: f.filename):
            hashes = {h.algorithm: h.digest for h in f.hashes if h.algorithm in STRONG}
            if not hashes:
                continue
            kwargs = dict(
                name=f.filename,
                url=f.url or None,
                size=f.size,
                upload_time=_upload_datetime(f.upload_time),
                hashes=hashes,
            )
            if f.is_wheel:
                wheels.append(PackageWheel(**kwargs))
            else:
                sdists.append(PackageSdist(**kwargs))
        # PEP 751 holds one sdist per package; prefer .tar.gz (PEP 625) when there are several.
        sdists.sort(key=lambda s: sdist_preference(s.name))
        tool = {"via": list(pkg.via)} if pkg.via else {}
        if pkg.sdist_allowed:
            tool["sdist-allowed"] = True
        packages.append(
            Package(
                name=pkg.name,
                version=pkg.version,
                marker=Marker(pkg.marker) if pkg.marker else None,
                index=lock.index_url,
                sdist=sdists[0] if sdists else None,
                wheels=wheels or None,
                tool={"pipvet": tool} if tool else None,
            )
        )
    tool = None
    if lock.build_packages:
        tool = {"pipvet": {"build-packages": [_build_entry(p) for p in lock.build_packages]}}
    pylock = Pylock(lock_version=Version("1.0"), created_by="pipvet", packages=packages, tool=tool)
    return tomli_w.dumps(pylock.to_dict())


def _build_entry(pkg: LockedPackage) -> dict:
    files = []
    for f in sorted(pkg.files, key=lambda f: f.filename):
        entry: dict = {"name": f.filename, "url": f.url}
        if f.size is not None:
            entry["size"] = f.size
        if f.upload_time:
            entry["upload-time"] = f.upload_time
        entry["hashes"] = {h.algorithm: h.digest for h in f.hashes if h.algorithm in STRONG}
        files.append(entry)
    out: dict = {"name": pkg.name, "version": str(pkg.version), "via": list(pkg.via)}
    if pkg.marker:
        out["marker"] = pkg.marker
    out["files"] = files
    return out


def _typed(value: object, kind: type | tuple[type, ...], where: str, what: str) -> object:
    """``value`` when it has the type a pylock ``[tool.pipvet]`` field needs, else InputError."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        names = {str: "a string", list: "a list", dict: "a table", bool: "true or false"}
        want = names.get(kind, "a number") if isinstance(kind, type) else "a number"
        got = type(value).__name__
        raise InputError(f"{where}: [tool.pipvet] {what} must be {want}, not {got}")
    return value


def _strings(value: object, where: str, what: str) -> tuple[str, ...]:
    items = _typed(value, list, where, what)
    return tuple(str(_typed(v, str, where, f"{what} entry")) for v in items)  # type: ignore[union-attr]


def _from_build_entry(entry: object, source: str) -> LockedPackage:
    if not isinstance(entry, dict) or "name" not in entry or "version" not in entry:
        raise InputError(f"{source}: malformed [tool.pipvet] build-packages entry")
    name = str(_typed(entry["name"], str, source, "build package name"))
    where = f"{source}: build package {name}"
    files = []
    for f in _typed(entry.get("files", []), list, where, "files"):  # type: ignore[union-attr]
        f = _typed(f, dict, where, "file entry")
        hashes = _typed(f.get("hashes"), dict, where, "hashes")  # type: ignore[union-attr]
        size = f.get("size")  # type: ignore[union-attr]
        upload = f.get("upload-time")  # type: ignore[union-attr]
        files.append(
            DistFile(
                filename=str(_typed(f.get("name"), str, where, "file name")),  # type: ignore[union-attr]
                url=str(_typed(f.get("url", ""), str, where, "file url")),  # type: ignore[union-attr]
                hashes=tuple(
                    FileHash(str(k).lower(), str(_typed(v, str, where, "hash")).lower())
                    for k, v in hashes.items()  # type: ignore[union-attr]
                ),
                size=None if size is None else int(_typed(size, int, where, "size")),  # type: ignore[arg-type]
                upload_time=None
                if upload is None
                else str(_typed(upload, str, where, "upload-time")),
            )
        )
    try:
        version = Version(str(_typed(entry["version"], str, where, "version")))
    except InvalidVersion as e:
        raise InputError(f"{where}: {e}") from None
    marker = entry.get("marker")
    if marker is not None:
        _typed(marker, str, where, "marker")
    return LockedPackage(
        name=canonicalize_name(name),
        version=version,
        files=tuple(files),
        hashes=tuple(sorted({h for f in files for h in f.hashes}, key=str)),
        marker=marker,  # type: ignore[arg-type]
        via=_strings(entry.get("via", []), where, "via"),
    )


# -- reading -----------------------------------------------------------------------------


def is_pylock(path: Path, text: str) -> bool:
    """A ``pylock.toml``/``pylock.*.toml`` by name, or any TOML with a ``lock-version``."""
    name = Path(path).name
    if name == "pylock.toml" or re.fullmatch(r"pylock\.[^.]+\.toml", name):
        return True
    if "lock-version" not in text:
        return False
    try:
        return "lock-version" in tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False


def read_lock(path: Path) -> Lock:
    """Read a lock in either form; ``InputError`` (with file and line) if it is malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read lock {path}: {e}") from None
    if is_pylock(path, text):
        return parse_pylock(text, source=str(path))
    return parse_requirements_lock(text, source=str(path))


def parse_requirements_lock(text: str, *, source: str = "<lock>") -> Lock:
    """Parse a hashed requirements lock (``name==version [; marker] --hash=...``)."""
    check_text(text, source)
    packages: list[dict] = []
    index_url: str | None = None
    index_line: int | None = None
    allowed: set[str] = set()
    build: list[dict] = []
    current: list[dict] = packages
    for line in logical_lines(text):
        where = f"{source}:{line.lineno}"
        if not line.text and line.comment.startswith("# build: "):
            build.append(_parse_pin(line.comment[len("# build: ") :], where, line.lineno))
            current = build
            continue
        if not line.text and current is build and re.match(r"#\s+#", line.comment):
            line = LogicalLine(line.lineno, "", line.comment[1:].strip())
        if not line.text:
            comment = line.comment
            if comment.startswith(INDEX_PREFIX):
                index_url = comment[len(INDEX_PREFIX) :].strip() or None
            elif comment.startswith(SDIST_PREFIX):
                allowed |= {
                    canonicalize_name(n.strip())
                    for n in comment[len(SDIST_PREFIX) :].split(",")
                    if n.strip()
                }
            elif current and comment.startswith("# via "):
                via = comment[len("# via ") :]
                current[-1]["via"] = tuple(v.strip() for v in via.split(", ") if v.strip())
            elif current and (m := _FILE_COMMENT_RE.match(comment)):
                current[-1]["files"].append(
                    DistFile(m.group(1), url="", hashes=(FileHash(m.group(2), m.group(3).lower()),))
                )
            continue
        if line.text.startswith("-"):
            tokens = split_options(line.text, where)
            opt = tokens[0].split("=", 1)[0]
            if opt in ("-i", "--index-url") and (len(tokens) > 1 or "=" in tokens[0]):
                index_url = tokens[0].split("=", 1)[1] if "=" in tokens[0] else tokens[1]
                index_line = line.lineno
                continue
            if opt in ("-e", "--editable"):
                raise InputError(
                    f"{where}: editable requirements cannot be hash-checked (no single file "
                    "to hash; pip#4995)"
                )
            if opt in ("-r", "--requirement", "-c", "--constraint"):
                raise InputError(f"{where}: a lock must list every package itself, not {opt}")
            continue  # other global options (--no-binary, --find-links...) do not change pins
        packages.append(_parse_pin(line.text, where, line.lineno))
        current = packages
    result = _to_locked(packages, allowed, source)
    build_result = _to_locked(build, allowed, source)
    return Lock(
        packages=tuple(result),
        index_url=index_url,
        source_path=source,
        build_packages=tuple(build_result),
        index_line=index_line,
    )


def _parse_pin(text: str, where: str, lineno: int) -> dict:
    req_text, tokens = split_requirement_line(text, where)
    hashes, rest = parse_hash_options(tokens, where)
    if rest:
        raise InputError(f"{where}: unexpected option {_show(rest[0])} in a lock")
    try:
        req = Requirement(req_text)
    except InvalidRequirement as e:
        raise InputError(requirement_error(where, req_text, e)) from None
    if req.url:
        raise InputError(f"{where}: {req.name} is a direct URL; a lock pins index releases")
    pins = [s for s in req.specifier if s.operator in ("==", "===")]
    if len(pins) != 1 or len(req.specifier) != 1 or "*" in pins[0].version:
        raise InputError(
            f"{where}: {req_text!r} is not pinned: a lock needs name==version",
            hint="re-create it with `pipvet lock`",
        )
    try:
        version = Version(pins[0].version)
    except InvalidVersion:
        raise InputError(f"{where}: invalid version in {req_text!r}") from None
    return {
        "name": canonicalize_name(req.name),
        "version": version,
        "hashes": tuple(hashes),
        "marker": str(req.marker) if req.marker else None,
        "via": (),
        "files": [],
        "lineno": lineno,
    }


def _to_locked(packages: list[dict], allowed: set[str], source: str) -> list[LockedPackage]:
    seen: dict[str, int] = {}
    result = []
    for p in packages:
        if p["name"] in seen:
            raise InputError(
                f"{source}:{p['lineno']}: {p['name']} is listed twice "
                f"(first on line {seen[p['name']]})"
            )
        seen[p["name"]] = p["lineno"]
        result.append(
            LockedPackage(
                name=p["name"],
                version=p["version"],
                files=tuple(p["files"]),
                hashes=p["hashes"],
                marker=p["marker"],
                via=p["via"],
                sdist_allowed=p["name"] in allowed,
            )
        )
    result.sort(key=lambda p: p.name)
    return result


def parse_pylock(text: str, *, source: str = "pylock.toml") -> Lock:
    """Parse a PEP 751 lock (validated by ``packaging.pylock``)."""
    from packaging.pylock import Pylock, PylockValidationError

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{source}: not valid TOML: {e}") from None
    try:
        pylock = Pylock.from_dict(data)
    except PylockValidationError as e:
        raise InputError(f"{source}: not a valid PEP 751 lock: {e}") from None
    except (InvalidMarker, InvalidVersion, ValueError) as e:
        raise InputError(f"{source}: not a valid PEP 751 lock: {e}") from None
    packages = []
    index_url = None
    for pkg in pylock.packages:
        if pkg.version is None or (pkg.sdist is None and not pkg.wheels):
            raise InputError(
                f"{source}: package {pkg.name} has no version or no index files "
                "(directories, VCS and archives cannot be hash-checked)"
            )
        files = []
        entries = ([pkg.sdist] if pkg.sdist else []) + list(pkg.wheels or [])
        for entry in entries:
            hashes = tuple(FileHash(k.lower(), v.lower()) for k, v in sorted(entry.hashes.items()))
            files.append(
                DistFile(
                    filename=entry.filename,
                    url=entry.url or entry.path or "",
                    hashes=hashes,
                    size=entry.size,
                    upload_time=_format_upload(entry.upload_time),
                )
            )
        files.sort(key=lambda f: f.filename)
        tool = (pkg.tool or {}).get("pipvet", {}) if isinstance(pkg.tool, dict) else {}
        where = f"{source}: package {pkg.name}"
        tool = _typed(tool, dict, where, "table")
        via = _strings(tool.get("via", []), where, "via")  # type: ignore[union-attr]
        sdist_ok = _typed(tool.get("sdist-allowed", False), bool, where, "sdist-allowed")  # type: ignore[union-attr]
        index_url = index_url or pkg.index
        packages.append(
            LockedPackage(
                name=pkg.name,
                version=pkg.version,
                files=tuple(files),
                hashes=tuple(sorted({h for f in files for h in f.hashes}, key=str)),
                marker=str(pkg.marker) if pkg.marker else None,
                via=via,
                sdist_allowed=bool(sdist_ok),
            )
        )
    packages.sort(key=lambda p: p.name)
    tool = pylock.tool.get("pipvet", {}) if isinstance(pylock.tool, dict) else {}
    tool = _typed(tool, dict, source, "table")
    raw_build = _typed(tool.get("build-packages", []), list, source, "build-packages")  # type: ignore[union-attr]
    build = sorted((_from_build_entry(e, source) for e in raw_build), key=lambda p: p.name)
    return Lock(
        packages=tuple(packages),
        index_url=index_url,
        source_path=source,
        build_packages=tuple(build),
    )
