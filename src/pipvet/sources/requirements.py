"""Reading what the user asked for: pip requirements files and ``pyproject.toml``.

Requirements files are read the way pip reads them (``\\`` continuations, comments, nested
``-r``/``-c`` relative to the including file, ``${VAR}`` expansion, ``--hash`` options,
environment markers), but as data: nothing is fetched or executed. Malformed lines are reported
as ``file:line``. Editables and local paths are refused early because they cannot be hash-checked
(pip#4995, field notes section 4 item 1).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipvet.core.errors import InputError
from pipvet.core.lockfile_io import (
    _show,
    check_text,
    logical_lines,
    parse_hash_options,
    requirement_error,
    split_options,
    split_requirement_line,
)
from pipvet.core.models import FileHash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ENV_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# Global options that take a value, and those that do not; pipvet keeps them as written.
_VALUE_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--no-binary": "--no-binary",
    "--only-binary": "--only-binary",
    "--trusted-host": "--trusted-host",
    "--use-feature": "--use-feature",
}
_FLAG_OPTIONS = {"--pre", "--prefer-binary", "--require-hashes", "--no-index"}
_NESTED = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}


@dataclass(frozen=True)
class RequirementLine:
    """One requirement as written, with where it came from."""

    requirement: Requirement
    source: str  # file path as given
    lineno: int
    hashes: tuple[FileHash, ...] = ()
    constraint: bool = False

    @property
    def origin(self) -> str:
        """``-r FILE`` / ``-c FILE``, as pip-compile writes it in ``# via``."""
        return f"{'-c' if self.constraint else '-r'} {self.source}"

    def __str__(self) -> str:
        return str(self.requirement)


@dataclass(frozen=True)
class RequirementsFile:
    """Everything read from one requirements file and the files it includes."""

    requirements: tuple[RequirementLine, ...]
    constraints: tuple[RequirementLine, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    options: tuple[tuple[str, str | None], ...] = ()  # other global options, in order
    index_origin: str | None = None  # "file:line" of the --index-url line, if any
    editables: tuple[str, ...] = ()  # "file:line" of -e lines, kept only when asked to

    def index_notice(self, given: str | None) -> str | None:
        """One line saying that a requirements file names the index (and whether it is used):
        an ``--index-url`` line, perhaps in a nested ``-r`` file, switches where files come
        from, and that must never happen without a word."""
        if not self.index_url:
            return None
        if given and given.rstrip("/") != self.index_url.rstrip("/"):
            return (
                f"{self.index_origin} names the index {self.index_url}; --index-url {given} is "
                "used instead"
            )
        return f"{self.index_origin} names the index {self.index_url}: packages come from there"


def _expand(text: str) -> str:
    return _ENV_RE.sub(lambda m: os.environ.get(m.group(1), m.group(0)), text)


def _display(path: Path, base: Path | None) -> str:
    if base is None:
        return str(path)
    try:
        return os.path.relpath(path, base)
    except ValueError:
        return str(path)


def read_requirements(path: str | Path, *, keep_editables: bool = False) -> RequirementsFile:
    """Read a requirements file and everything it includes (``-r``, ``-c``).

    Editable lines (``-e``) are refused (they cannot be hash-checked), or with ``keep_editables``
    listed in ``editables`` for a caller that only reports them (``scan``)."""
    acc: dict[str, list] = {"req": [], "con": [], "extra": [], "opts": [], "editable": []}
    state: dict[str, str | None] = {
        "index": None,
        "index_origin": None,
        "keep_editables": "1" if keep_editables else None,
    }
    _read(Path(path), False, acc, state, stack=(), label=str(path))
    return RequirementsFile(
        requirements=tuple(acc["req"]),
        constraints=tuple(acc["con"]),
        index_url=state["index"],
        extra_index_urls=tuple(acc["extra"]),
        options=tuple(acc["opts"]),
        index_origin=state["index_origin"],
        editables=tuple(acc["editable"]),
    )


def _read(
    path: Path,
    constraint: bool,
    acc: dict[str, list],
    state: dict[str, str | None],
    *,
    stack: tuple[Path, ...],
    label: str,
) -> None:
    real = path.resolve()
    if real in stack:
        return  # pip reads a file included twice only once; a cycle is not an error
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        where = f"{(stack and label) or path}"
        raise InputError(f"cannot read requirements file {where}: {e}") from None
    check_text(text, label)
    for line in logical_lines(text):
        if not line.text:
            continue
        where = f"{label}:{line.lineno}"
        content = _expand(line.text)
        if content.startswith("-"):
            _option(content, where, path, constraint, acc, state, (*stack, real), label)
            continue
        req_text, tokens = split_requirement_line(content, where)
        hashes, rest = parse_hash_options(tokens, where)
        for tok in rest:
            if not tok.startswith(("--config-settings", "--global-option")):
                raise InputError(f"{where}: unknown option {tok!r} on a requirement line")
        try:
            req = Requirement(req_text)
        except InvalidRequirement as e:
            hint = None
            if req_text.startswith((".", "/", "~")) or req_text.endswith((".whl", ".tar.gz")):
                hint = "local paths cannot be locked from an index; name the project instead"
            raise InputError(requirement_error(where, req_text, e), hint=hint) from None
        item = RequirementLine(req, label, line.lineno, tuple(hashes), constraint)
        acc["con" if constraint else "req"].append(item)


def _option(
    content: str,
    where: str,
    path: Path,
    constraint: bool,
    acc: dict[str, list],
    state: dict[str, str | None],
    stack: tuple[Path, ...],
    label: str,
) -> None:
    tokens = split_options(content, where)
    name, eq, value = tokens[0].partition("=")
    if not eq and len(name) > 2 and name[0] == "-" and name[1] != "-":  # -rfile, -ifoo
        name, value, eq = name[:2], name[2:], "="
    args = tokens[1:]
    if not eq and (name in _NESTED or name in _VALUE_OPTIONS):
        if not args:
            raise InputError(f"{where}: {name} needs a value")
        value, args = args[0], args[1:]
    if name in ("-e", "--editable") and state["keep_editables"]:
        acc["editable"].append(where)
        return
    if name in ("-e", "--editable"):
        raise InputError(
            f"{where}: editable requirements cannot be hash-checked (there is no single file "
            "to hash; pip#4995)",
            hint="install the project itself separately, and lock its dependencies",
        )
    if args:
        raise InputError(f"{where}: unexpected {args[0]!r} after {name}")
    if name in _NESTED:
        try:
            nested = (path.parent / value).resolve() if not os.path.isabs(value) else Path(value)
            found = nested.is_file()
        except (OSError, ValueError) as e:  # a name too long, a folder that cannot be searched
            reason = getattr(e, "strerror", None) or str(e)
            raise InputError(f"{where}: {name} {_show(value)}: {reason}") from None
        if not found:
            raise InputError(f"{where}: {name} {_show(value)}: no such file")
        sub_label = _display(nested, Path.cwd())
        _read(nested, constraint or _NESTED[name], acc, state, stack=stack, label=sub_label)
        return
    if name in _VALUE_OPTIONS:
        canonical = _VALUE_OPTIONS[name]
        if canonical == "--index-url":
            state["index"], state["index_origin"] = value, where
        elif canonical == "--extra-index-url":
            acc["extra"].append(value)
        else:
            acc["opts"].append((canonical, value))
        return
    if name in _FLAG_OPTIONS:
        acc["opts"].append((name, None))
        return
    raise InputError(f"{where}: unsupported option {name!r}")


def read_pyproject(path: str | Path, *, groups: Sequence[str] = ()) -> list[str]:
    """``[project].dependencies`` plus the named optional-dependencies or dependency groups."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML: {e}") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise InputError(f"{path}: no [project] table")
    if "dependencies" in project.get("dynamic", ()):
        raise InputError(
            f"{path}: dependencies are dynamic (computed by the build backend, which would "
            "mean running its code); list them in a requirements file instead"
        )
    out = _string_list(project.get("dependencies", []), f"{path}: [project].dependencies")
    optional = project.get("optional-dependencies", {}) or {}
    dep_groups = data.get("dependency-groups", {}) or {}
    for group in groups:
        key = canonicalize_name(group)
        found = {canonicalize_name(k): k for k in optional}
        if key in found:
            table = f"[project.optional-dependencies].{found[key]}"
            out += _string_list(optional[found[key]], f"{path}: {table}")
            continue
        if key in {canonicalize_name(k) for k in dep_groups}:
            out += _dependency_group(dep_groups, key, path, ())
            continue
        raise InputError(f"{path}: no optional dependencies or dependency group named {group!r}")
    for item in out:
        try:
            Requirement(item)
        except InvalidRequirement as e:
            raise InputError(f"{path}: malformed requirement {item!r}: {e}") from None
    return out


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of strings")
    return list(value)


def _dependency_group(groups: dict, key: str, path: Path, seen: tuple[str, ...]) -> list[str]:
    """PEP 735 group, with ``{include-group = ...}`` followed (cycles refused)."""
    if key in seen:
        raise InputError(f"{path}: dependency group {key!r} includes itself")
    table = {canonicalize_name(k): v for k, v in groups.items()}
    out: list[str] = []
    for item in table.get(key, []):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and "include-group" in item:
            sub = canonicalize_name(str(item["include-group"]))
            if sub not in table:
                raise InputError(f"{path}: dependency group {sub!r} does not exist")
            out += _dependency_group(groups, sub, path, (*seen, key))
        else:
            raise InputError(f"{path}: malformed entry in dependency group {key!r}")
    return out


def exact_pin(req: Requirement) -> Version | None:
    """The version of a ``==X`` / ``===X`` requirement (no wildcard), else None."""
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    try:
        return Version(specs[0].version)
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class GatheredRequirements:
    """What ``lock`` and ``install`` take from the command line and ``-r`` files, read once."""

    requirements: tuple[tuple[str, str], ...]  # (requirement, origin: "(command line)", "-r F")
    constraints: tuple[str, ...] = ()  # from -c files, for the resolver
    index_url: str | None = None  # the first --index-url a file names
    ignored: tuple[str, ...] = ()  # warnings: options pipvet does not apply, an index a file names


def gather_requirements(
    requirements: Sequence[str], files: Sequence[str | Path], *, given_index: str | None = None
) -> GatheredRequirements:
    """Requirement strings and requirements files (includes, constraints, ``${VAR}``, options)
    as ``lock`` and ``install`` both take them. Refused: a malformed requirement, a direct URL
    (nothing on the index to hash-check), ``--extra-index-url`` (dependency confusion). An index
    a file names is said (with whether ``given_index``, the command's ``--index-url``, wins)."""
    from pipvet.core.errors import UsageError

    reqs: list[tuple[str, str]] = []
    for text in requirements:
        try:
            Requirement(text)
        except InvalidRequirement as e:
            raise UsageError(f"malformed requirement {text!r}: {e}") from None
        reqs.append((text, "(command line)"))
    constraints: list[str] = []
    ignored: list[str] = []
    index_url = None
    for path in files:
        rf = read_requirements(path)
        if rf.extra_index_urls:
            raise InputError(
                f"{path}: --extra-index-url is not supported: with two indexes, anyone can "
                "shadow a private name on the public one (dependency confusion); use one index"
            )
        index_url = index_url or rf.index_url
        if notice := rf.index_notice(given_index):
            ignored.append(notice)
        ignored += [
            f"{path}: ignoring {option} (pipvet sets its own options)" for option, _ in rf.options
        ]
        for line in rf.requirements:
            if line.requirement.url:
                raise InputError(
                    f"{line.source}:{line.lineno}: {line.requirement.name} is a direct URL; "
                    "pipvet takes releases from the index"
                )
            reqs.append((str(line.requirement), line.origin))
        constraints += [str(c.requirement) for c in rf.constraints]
    return GatheredRequirements(tuple(reqs), tuple(constraints), index_url, tuple(ignored))
