"""Which files of an sdist installing uses, read from its layout and build configuration.

An sdist carries more than it installs: release scripts, CI helpers, benchmarks, vendored test
suites. Code that is neither installed nor run by the build weighs like tests and docs. A file is
the project's own tooling when it sits in a top-level folder that

- the build backend's configuration excludes: flit installs one module (``tool.flit.module`` or
  the project name, next to pyproject.toml or in ``src/``), hatchling its ``packages`` or the
  folder named after the project, maturin its ``python-source`` folder (or the ``module-name``
  folder), scikit-build-core its ``wheel.packages``, setuptools the ``packages`` of
  ``[tool.setuptools]`` (a list, or ``packages.find``'s ``where`` and ``include``) when setup.py
  and setup.cfg leave that choice to it; or
- holds no package (no ``__init__.py`` below it) and no build configuration names it.

Without such a configuration, ``src/`` and other usual package roots always count as installed;
so does anything ``setup.py`` or ``setup.cfg`` names, since they may map folders in code. A file a
CMake or meson build names (it may run it while building) is never tooling.
"""

from __future__ import annotations

import configparser
import fnmatch
import functools
import io
import re
import sys
import tokenize
from collections.abc import Iterable

from pipvet.core.analysis.facts.dataflow import file_name
from pipvet.core.analysis.model import Artifact, Member
from pipvet.core.analysis.rules import SDIST_TOP

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PACKAGE_ROOTS = frozenset({"src", "lib", "python", "source"})  # usual package_dir folders
BUILD_CONFIGS = ("setup.py", "setup.cfg", "pyproject.toml")
BUILD_TOOLS = ("setuptools", "hatch", "flit", "poetry", "pdm", "scikit-build", "maturin")
PY_SUFFIXES = (".py", ".pyw")


def pth_package_data(artifact: Artifact) -> set[str]:
    """``.pth`` files of an sdist inside a package's folder (``pkg/assets/model.pth``, PyTorch
    weights installed as package data): a build puts them in that package, where ``site`` never
    reads them, unless its configuration can put them elsewhere. So not when setup.py, setup.cfg
    or pyproject.toml names ``.pth`` other than as package data (setuptools' ``package-data``
    installs into the package) or lists ``data_files``, nor outside a package."""
    pths = [
        m.path
        for m in artifact.members
        if m.path.lower().endswith(".pth") and "!/" not in m.path and m.path.count("/") >= 2
    ]
    if not pths or artifact.kind in ("wheel", "installed"):
        return set()  # (a wheel's own layout says where each lands: role_of)
    config = "\n".join(
        _without_package_data(name, f.data.decode("utf-8", "replace")).lower()
        for name in BUILD_CONFIGS
        if (f := _top_file(artifact, name)) is not None
    )
    if not config or ".pth" in config or "data_files" in config or "data-files" in config:
        return set()
    packages = {
        m.path.rpartition("/")[0] for m in artifact.members if m.path.endswith("/__init__.py")
    }
    return {
        path
        for path in pths
        if any("/".join(path.split("/")[:i]) in packages for i in range(2, path.count("/") + 1))
    }


# setuptools' package data, which installs files into their package's folder only
PACKAGE_DATA_KEYS = ("package-data", "exclude-package-data")
PACKAGE_DATA_SECTIONS = ("options.package_data", "options.exclude_package_data")


def _without_package_data(name: str, text: str) -> str:
    """A build configuration's text without its setuptools package-data settings
    (pyproject.toml's ``[tool.setuptools.package-data]``, setup.cfg's
    ``[options.package_data]``); setup.py, or a file that does not parse, whole."""
    if name == "pyproject.toml":
        table = _load_toml(text)
        setuptools = (table or {}).get("tool", {}).get("setuptools")
        if not isinstance(setuptools, dict) or not any(k in setuptools for k in PACKAGE_DATA_KEYS):
            return text
        kept = {k: v for k, v in setuptools.items() if k not in PACKAGE_DATA_KEYS}
        tools = {**table["tool"], "setuptools": kept}
        return repr({**table, "tool": tools})  # every other string, as text
    if name == "setup.cfg":
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except (configparser.Error, UnicodeError, ValueError):
            return text
        return "\n".join(
            f"[{section}]\n" + "\n".join(f"{k} = {v}" for k, v in parser.items(section, raw=True))
            for section in parser.sections()
            if section.lower() not in PACKAGE_DATA_SECTIONS
        )
    return text


def sdist_tooling(artifact: Artifact) -> list[str]:
    """Python files of an sdist that installing neither installs nor runs (see module doc)."""
    folders: dict[str, list[str]] = {}
    configs: dict[str, str] = {}
    build_scripts: list[str] = []  # CMake and meson files: what they name may run at build
    top_modules: list[str] = []  # Python files next to the build configuration
    for m in artifact.members:
        parts = m.path.split("/")
        if len(parts) < 2 or not SDIST_TOP.match(parts[0]):
            continue
        if parts[-1] in NATIVE_BUILD_FILES or parts[-1].endswith(".cmake"):
            text = m.data.decode("utf-8", "replace")
            build_scripts.append(_HASH_COMMENT.sub("", text))  # "see scripts/x.py" runs nothing
        if len(parts) == 2:
            if parts[1] in BUILD_CONFIGS:
                configs[parts[1]] = m.data.decode("utf-8", "replace")
            elif parts[1].endswith(".py"):
                top_modules.append(m.path)
            continue
        folders.setdefault(parts[1], []).append(m.path)
    if not configs:
        return []  # not an sdist (a zip of some tree): keep every role
    pyproject = _load_toml(configs.get("pyproject.toml", ""))
    selects = "setup.py" in configs and _setup_selects(
        configs["setup.py"], configs.get("setup.cfg")
    )
    installed = None if selects else _backend_installs(pyproject, folders)
    build = _build_text(pyproject) if pyproject is not None else configs["pyproject.toml"]
    named = "\n".join([configs.get("setup.py", ""), configs.get("setup.cfg", ""), build])
    native = "\n".join(build_scripts)
    out: list[str] = []
    if installed is not None:
        # a module file beside pyproject.toml is installed only when the build names it (a
        # setuptools ``py-modules`` entry, flit's module, a hatch ``packages`` entry): else it
        # is the project's own tool (``install.py`` setting up a developer's environment)
        modules = _setuptools_modules(pyproject)
        for path in top_modules:
            stem = path.rpartition("/")[2].removesuffix(".py")
            if stem in ("setup", "conftest") or stem in installed or f"{stem}.py" in installed:
                continue
            if stem not in modules and path.rpartition("/")[2] not in native:
                out.append(path)
    for folder, paths in folders.items():
        if installed is not None:
            if folder in installed:
                continue
        elif folder.lower() in PACKAGE_ROOTS:
            if not _packages_need_init(pyproject, selects, named):
                continue  # a folder without __init__.py may be a (namespace) package
            paths = _outside_packages(paths, named)  # src/cpp/scripts/x.py beside src/pkg/
        elif _names(named, folder) or (_holds_package(paths) and not _docs_root(paths)):
            continue  # (a documentation source is not installed for the packages it shows)
        out.extend(
            p
            for p in paths
            if p.endswith(PY_SUFFIXES) and p.rpartition("/")[2] not in native  # run by a build
        )
    return out


def _setuptools_modules(pyproject: dict | None) -> set[str]:
    """``[tool.setuptools] py-modules``: single-file modules setuptools installs."""
    tool = pyproject.get("tool") if isinstance(pyproject, dict) else None
    conf = tool.get("setuptools") if isinstance(tool, dict) else None
    listed = conf.get("py-modules") if isinstance(conf, dict) else None
    return {str(name) for name in listed} if isinstance(listed, list) else set()


def _packages_need_init(pyproject: dict | None, selects: bool, named: str) -> bool:
    """Whether the build installs only folders with an ``__init__.py`` under ``src/``: a backend
    other than setuptools whose own rules are not modelled (scikit-build-core's default is the
    project's package), or setuptools told which packages (``packages=find_packages(...)``).
    Not setuptools' automatic discovery (a namespace search under ``src/``), nor any
    configuration that asks for namespace packages."""
    if "namespace" in named:
        return False
    system = pyproject.get("build-system") if isinstance(pyproject, dict) else None
    backend = str(system.get("build-backend", "")) if isinstance(system, dict) else ""
    return selects or (bool(backend) and backend not in SETUPTOOLS_BACKENDS)


def _outside_packages(paths: list[str], named: str) -> list[str]:
    """Of the files under a package root (``src/``): those in a folder of it that holds no
    package anywhere below it (no ``__init__.py``) and that the build configuration does not
    name (``src/cpp/include/scripts/bench.py`` of a C++ library's sources). A module right in
    the root (``src/mod.py``) and a namespace package the configuration names stay installed.
    Only where the backend's own rules are not known (``_backend_installs``) and it installs
    no folder without ``__init__.py`` (``_packages_need_init``)."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        parts = p.split("/")
        if len(parts) > 3:  # <sdist>/<root>/<folder>/...
            groups.setdefault(parts[2], []).append(p)
    return [
        p
        for folder, group in groups.items()
        if not _holds_package(group) and not _names(named, folder)
        for p in group
    ]


# files of a native build (scikit-build's CMake, meson-python's meson) that can run Python
# scripts while the sdist is built
NATIVE_BUILD_FILES = frozenset({"CMakeLists.txt", "meson.build"})
_HASH_COMMENT = re.compile(r"#[^\n]*")  # CMake's and meson's line comments
# setup.py or setup.cfg choosing what to install themselves (pyproject.toml's table then yields)
_SETUP_SELECTS = re.compile(r"\b(packages|py_modules|package_dir|ext_package)\b|\*\*")
_CFG_SELECTS = re.compile(r"^\s*(packages|py_modules|package_dir)\s*=", re.M)


def _setup_selects(setup_py: str, setup_cfg: str | None) -> bool:
    """Whether setup.py or setup.cfg may choose the installed files themselves (any mention of
    the keywords that do, or ``setup(**options)``): then pyproject.toml's own rules do not decide
    alone."""
    return bool(_SETUP_SELECTS.search(setup_py)) or bool(
        setup_cfg and _CFG_SELECTS.search(setup_cfg)
    )


def _docs_root(paths: list[str]) -> bool:
    """A top-level folder of an sdist that is a Sphinx documentation source: its own
    ``conf.py`` beside an ``index.rst``, ``index.md`` or ``index.txt`` (``Web/conf.py``,
    ``Web/index.rst``). Its Python runs when the documentation is built, never on install."""
    root = {p.split("/", 2)[2] for p in paths if p.count("/") == 2}
    return "conf.py" in root and bool(root & {"index.rst", "index.md", "index.txt"})


def _holds_package(paths: list[str]) -> bool:
    return any(p.endswith("/__init__.py") for p in paths)


def _names(text: str, folder: str) -> bool:
    """``folder`` in ``text`` as a name of its own: not inside a longer word, dotted name or
    hyphenated name (``(?<![\\w.-])folder(?![\\w-])``, without compiling a pattern per folder)."""
    at, size = text.find(folder), len(folder)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + size] if at + size < len(text) else " "
        if not _in_name(before, "_.-") and not _in_name(after, "_-"):
            return True
        at = text.find(folder, at + 1)
    return False


def _in_name(char: str, extra: str) -> bool:
    """``char`` is a word character (``\\w``: alphanumeric or ``_``) or one of ``extra``."""
    return char.isalnum() or char in extra


@functools.lru_cache(maxsize=16)
def _load_toml(text: str) -> dict | None:
    """pyproject.toml's table (read by the layout and by the backend lookup: parsed once; the
    callers only read it), ``{}`` for none, None when it does not parse."""
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeError, ValueError):
        return None  # unreadable: no backend knowledge, every mention counts


def _build_text(pyproject: dict) -> str:
    """The parts of pyproject.toml that tell a build what to install, as text (linter and test
    settings name folders too, but never make them part of the install)."""
    tools = pyproject.get("tool", {})
    parts = [pyproject.get("build-system"), pyproject.get("project")]
    if isinstance(tools, dict):
        parts.extend(tools.get(name) for name in BUILD_TOOLS)
    return repr([p for p in parts if p])


def _backend_installs(pyproject: dict | None, folders: Iterable[str]) -> set[str] | None:
    """Top-level folders the build backend installs, when its rules are known; else None."""
    if not pyproject:
        return None
    try:
        return _known_backend_installs(pyproject, set(folders))
    except (AttributeError, TypeError):
        return None  # a table where a value was expected: configuration not understood


def _known_backend_installs(pyproject: dict, folders: set[str]) -> set[str] | None:
    backend = str(pyproject.get("build-system", {}).get("build-backend", ""))
    project = pyproject.get("project", {})
    tool = pyproject.get("tool", {})
    if not isinstance(project, dict) or not isinstance(tool, dict):
        return None
    own = str(project.get("name", "")).lower().replace("-", "_").replace(".", "_")
    if backend in FLIT_BACKENDS:  # the module, next to pyproject.toml or in src/
        flit = tool.get("flit", {})
        # ``[tool.flit.module] name``, or flit's older ``[tool.flit.metadata] module``
        module = flit.get("module", {}).get("name") or flit.get("metadata", {}).get("module")
        module = str(module or own)
        return {module.split(".")[0], "src"} if module else None
    if backend in SETUPTOOLS_BACKENDS:
        return _setuptools_installs(tool.get("setuptools", {}), folders)
    if backend == "scikit_build_core.build":
        # wheel.packages: the package folders the wheel holds (without it, a discovery that is
        # not modelled); the CMake build installs compiled files, and what it runs is kept
        listed = tool.get("scikit-build", {}).get("wheel", {}).get("packages")
        if isinstance(listed, list) and listed:
            return {str(p).strip("/").split("/")[0] for p in listed}
        return None
    if backend == "hatchling.build":
        wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
        listed = wheel.get("packages") or wheel.get("only-include")
        if isinstance(listed, list) and listed:
            return {str(p).strip("/").split("/")[0] for p in listed}
        if wheel or tool.get("hatch", {}).get("build"):
            return None  # other selection settings: not modelled, keep every folder
        return {own} if own in {f.lower() for f in folders} else None
    if backend == "maturin":
        # a Rust extension: Python comes from ``python-source`` when set, else from the folder
        # of ``module-name`` next to pyproject.toml; Rust crates are compiled, never installed
        maturin = tool.get("maturin", {})
        source = str(maturin.get("python-source", "")).strip("/").split("/")[0]
        module = str(maturin.get("module-name", "") or own).split(".")[0]
        if source:
            return {source}
        return {module} if module in folders else None
    return None


FLIT_BACKENDS = frozenset({"flit_core.buildapi", "flit.buildapi"})
SETUPTOOLS_BACKENDS = frozenset({"", "setuptools.build_meta", "setuptools.build_meta:__legacy__"})


def _setuptools_installs(conf: dict, folders: set[str]) -> set[str] | None:
    """Top-level folders setuptools installs by ``[tool.setuptools]``: a ``packages`` list, or
    ``packages.find`` (``where``, ``include``), through ``package-dir``. None for its automatic
    discovery (not modelled: every folder is kept)."""
    packages = conf.get("packages")
    roots = conf.get("package-dir", {})
    if not isinstance(roots, dict):
        return None
    out = {_top(roots[""])} if "" in roots else set()
    if isinstance(packages, list):
        for name in packages:
            top = str(name).split(".")[0]
            out.add(_top(roots[top]) if top in roots else _top(roots.get("", top)))
        return out - {""}
    find = packages.get("find") if isinstance(packages, dict) else None
    if not isinstance(find, dict):
        return None
    include = [str(p).split(".")[0] for p in find.get("include", ["*"])]
    for where in find.get("where", ["."]):
        top = _top(str(where))
        if top:
            out.add(top)
        else:  # the project's own folder: the top-level folders the patterns take
            out |= {f for f in folders if any(fnmatch.fnmatchcase(f, p) for p in include)}
    return out - {""}


def _top(path: str) -> str:
    """The first folder of a path relative to pyproject.toml (``./src/`` -> ``src``; ``.``: "")."""
    path = str(path).strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/").split("/")[0] if path.strip("/.") else ""


# `[sys.executable, "path"]`, `sys.executable + " path"`, f"{sys.executable} path"
_RUN_WITH_PYTHON = re.compile(
    r"""sys\.executable\b[^\n]{0,40}?['"]\s*(?:-u\s+)?([\w./\\-]+\w)['"\s]"""
)
_RUN_MODULE = re.compile(  # sys.executable, "-m", "pkg.mod" (a list or one command line)
    r"""sys\.executable\b[^\n]{0,40}?-m['"]?\s*(?:,\s*)?['"]?([A-Za-z_][\w.]*\w)"""
)


def _top_file(artifact: Artifact, name: str) -> Member | None:
    """The sdist's top-level ``name`` (``demo-1.0/setup.py``), or None."""
    return next(
        (
            m
            for m in artifact.members
            if m.path.count("/") == 1
            and m.path.endswith(f"/{name}")
            and SDIST_TOP.match(m.path.split("/")[0])
        ),
        None,
    )


def run_by_setup(artifact: Artifact) -> set[str]:
    """Members that the sdist's ``setup.py`` runs with the Python interpreter
    (``subprocess.call([sys.executable, "tools/post"])``), whatever their suffix: they run at
    install, as Python."""
    setup = _top_file(artifact, "setup.py")
    if setup is None:
        return set()
    top = setup.path.split("/")[0]
    text = setup.data.decode("utf-8", "replace")
    wanted = {
        f"{top}/{m.group(1).replace(chr(92), '/').removeprefix('./')}"
        for m in _RUN_WITH_PYTHON.finditer(text)
        if not m.group(1).startswith("-")
    }
    for m in _RUN_MODULE.finditer(text):  # python -m pkg.tool: pkg/tool.py or its __main__
        rel = m.group(1).replace(".", "/")
        for root in ("", "src/"):
            wanted |= {f"{top}/{root}{rel}.py", f"{top}/{root}{rel}/__main__.py"}
    return {m.path for m in artifact.members if m.path in wanted and m.path != setup.path}


# scripts for a shell, cmd or PowerShell that setup.py may start by their path
SHELL_SUFFIXES = (".sh", ".bash", ".bat", ".cmd", ".ps1")


def scripts_named_by_setup(artifact: Artifact) -> set[str]:
    """Shell, batch and PowerShell scripts of an sdist that its ``setup.py`` names, by their
    path from the sdist's top (``build.sh``, ``./tools/make.sh``, ``.\\build.ps1``), by their
    name alone as a string, or as a command runs a script of the folder it is in (``./make.sh``,
    ``bash make.sh``: setup.py may have gone to any folder), in its code (not its comments and
    docstrings): they may run at install, so they are judged as code that does (fail closed:
    named is enough)."""
    setup = _top_file(artifact, "setup.py")
    if setup is None:
        return set()
    top = setup.path.split("/")[0]
    raw = setup.data.decode("utf-8", "replace")
    text = None
    named = set()
    for m in artifact.members:
        rel = m.path[len(top) + 1 :]
        if not m.path.startswith(f"{top}/") or not rel.lower().endswith(SHELL_SUFFIXES):
            continue
        if rel.rsplit("/", 1)[-1] not in raw:  # most sdists: no script named at all
            continue
        if text is None:
            text = without_prose(raw)
        if b"\x00" in m.data:
            continue  # a program named like a script: not text pipvet can read as one
        parts = [re.escape(p) for p in rel.split("/")]
        path = r"(?<![\w.-])(?:\.[/\\]{1,2})?" + r"[/\\]{1,2}".join(parts) + r"(?![\w-])"
        alone = r"""['"]""" + parts[-1] + r"""['"]"""  # os.path.join(here, "tools", "make.sh")
        # `./make.sh`, `bash make.sh`: in whatever folder setup.py went to (os.chdir)
        here = r"(?:(?<![\w.-])\.[/\\]{1,2}|\b(?:ba|z)?sh\s+)" + parts[-1] + r"(?![\w-])"
        if re.search(path, text) or re.search(alone, text) or re.search(here, text):
            named.add(m.path)
    return named


_LINE_STARTS = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING})


def without_prose(text: str) -> str:
    """Python ``text`` with its comments and bare string statements (docstrings) blanked out:
    what they name (``Use ci/install-tools.sh --dev``) is advice to a developer, not a command
    of the code. Unchanged when the code reads a docstring (``__doc__``) or does not tokenize."""
    if "__doc__" in text:
        return text
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        tokens = [
            t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type != tokenize.NL
        ]
    except (tokenize.TokenError, SyntaxError):
        return text
    for i, tok in enumerate(tokens):
        bare = (  # a string that is a whole statement (a docstring)
            tok.type == tokenize.STRING
            and (i == 0 or tokens[i - 1].type in _LINE_STARTS)
            and i + 1 < len(tokens)
            and tokens[i + 1].type in (tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.COMMENT)
        )
        if tok.type == tokenize.COMMENT or bare:
            spans.append((tok.start, tok.end))
    if not spans:
        return text
    starts = [0]
    for line in io.StringIO(text).readlines():  # the lines the tokenizer numbered
        starts.append(starts[-1] + len(line))
    out = list(text)
    for (row, col), (end_row, end_col) in spans:
        for at in range(starts[row - 1] + col, starts[end_row - 1] + end_col):
            if out[at] not in "\r\n":
                out[at] = " "
    return "".join(out)


# a script or program file named by its relative path in a command (``.\\build.ps1``,
# ``tools/make.bat``): what RUNS_FILE calls launching a file
_NAMED_FILE = re.compile(
    r"(?<![\w$%~/\\.-])(?:\.[/\\]{1,2})?((?:[\w-]+[/\\]{1,2})*[\w.-]+"
    r"\.(?:ps1|bat|cmd|exe|vbs|vbe|hta|scr|msi))\b",
    re.I,
)


def scripts_not_shipped(artifact: Artifact) -> frozenset[str]:
    """Script and program files that the sdist's ``setup.py`` names by a relative path
    (``.\\build.ps1``, as ``build.ps1``; ``tools\\make.bat`` as ``tools/make.bat``) whose
    name no member of the artifact has (nested archives' members included) and no other member
    names (a helper or a build script could write it): a command running one fails, there being
    nothing to run."""
    setup = _top_file(artifact, "setup.py")
    if setup is None:
        return frozenset()
    text = setup.data.decode("utf-8", "replace")
    named = {re.sub(r"/+", "/", m.group(1).replace("\\", "/")) for m in _NAMED_FILE.finditer(text)}
    if not named:
        return frozenset()
    have = {file_name(m.path).lower() for m in artifact.members}
    missing = {n for n in named if file_name(n).lower() not in have}
    for m in artifact.members:  # named by another file (a helper, a build script): it may make it
        if missing and m is not setup:
            missing = {n for n in missing if file_name(n).encode() not in m.data}
    return frozenset(missing)


# the hooks a build frontend (pip, uv, build) calls in a PEP 517 backend
PEP517_HOOKS = frozenset(
    {
        "build_wheel",
        "build_sdist",
        "build_editable",
        "get_requires_for_build_wheel",
        "get_requires_for_build_sdist",
        "get_requires_for_build_editable",
        "prepare_metadata_for_build_wheel",
        "prepare_metadata_for_build_editable",
    }
)


def in_tree_backend(artifact: Artifact) -> set[str]:
    """Members of an sdist that make up its own build backend (PEP 517 ``backend-path``): the
    backend module and the packages above it. A frontend imports them and calls their hooks to
    build the sdist, so they run at install, wherever they sit (``tools/``, ``_build/``)."""
    config = _top_file(artifact, "pyproject.toml")
    if config is None:
        return set()
    system = (_load_toml(config.data.decode("utf-8", "replace")) or {}).get("build-system")
    if not isinstance(system, dict):
        return set()
    backend, paths = system.get("build-backend"), system.get("backend-path")
    if not isinstance(backend, str) or not isinstance(paths, list):
        return set()
    parts = [p.strip() for p in backend.split(":")[0].split(".")]
    top = config.path.split("/")[0]
    wanted: set[str] = set()
    for base in paths:
        if not isinstance(base, str):
            continue
        folder = base.replace("\\", "/").strip("/").removeprefix("./").strip("/")
        prefix = f"{top}/{folder}/" if folder not in ("", ".") else f"{top}/"
        path = prefix + "/".join(parts)
        wanted |= {f"{path}.py", f"{path}/__init__.py"}
        wanted |= {prefix + "/".join(parts[:i]) + "/__init__.py" for i in range(1, len(parts))}
    return {m.path for m in artifact.members if m.path in wanted}
