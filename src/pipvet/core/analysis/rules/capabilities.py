"""Capabilities: what code can do (network, processes, dynamic code, credentials, persistence...).

A capability alone is not intent: honest packages use sockets, subprocess and eval all the time
(DataDog/guarddog#763, #630: noisy rules are what users hate), so severities stay low for code that
only runs when called, and rise with *where* it runs: on install, at interpreter start, on import.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

from pipvet.core.analysis.facts.dataflow import file_name
from pipvet.core.analysis.facts.python_ast import CallFact
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import (
    WHEN_CALL,
    WHEN_IMPORT,
    WHEN_INSTALL,
    WHEN_STARTUP,
    FileContext,
    finding,
)

PROCESS = frozenset(
    [
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "os.execl",
        "os.execle",
        "os.execlp",
        "os.execlpe",
        "os.execv",
        "os.execve",
        "os.execvp",
        "os.execvpe",
        "os.spawnl",
        "os.spawnle",
        "os.spawnlp",
        "os.spawnv",
        "os.spawnve",
        "os.spawnvp",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "subprocess.Popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "commands.getoutput",
        "commands.getstatusoutput",
        "pty.spawn",
        "asyncio.create_subprocess_shell",
        "asyncio.create_subprocess_exec",
        "win32api.ShellExecute",
        "win32api.WinExec",
        "nt.system",
        "posix.system",
    ]
)
NETWORK_PREFIXES = (
    "socket.socket",
    "socket.create_connection",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    # a Request object is only built (a cookie jar computes its header from one); what sends
    # it is urlopen or an opener
    "urllib.request.build_opener",
    "urllib.request.OpenerDirector",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "urllib2.build_opener",
    "urllib3.PoolManager",
    "urllib3.request",
    "requests.",
    "httpx.",
    "aiohttp.ClientSession",
    "aiohttp.request",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "httplib.HTTPConnection",
    "httplib.HTTPSConnection",
    "ftplib.FTP",
    "smtplib.SMTP",
    "telnetlib.Telnet",
    "paramiko.SSHClient",
    "dns.resolver",
    "socket.gethostbyname",
    "socket.getaddrinfo",
    "pycurl.Curl",
    "cloudscraper.create_scraper",
    "websocket.",
    "websockets.connect",
    "discord_webhook.",
    "dhooks.Webhook",
    "webbrowser.open",
    "wget.download",
    "git.Repo.clone_from",  # GitPython: fetches a repository
    "dropbox.Dropbox",  # a cloud drive client: uploads whatever it is given
)
NETWORK_EXCLUDE = frozenset(
    {"requests.exceptions", "requests.adapters.HTTPAdapter", "requests.compat", "requests.utils"}
)
DYNAMIC = frozenset(
    [
        "exec",
        "eval",
        "compile",
        "execfile",
        "__import__",
        "importlib.import_module",
        "marshal.loads",
        "pickle.loads",
        "cPickle.loads",
        "dill.loads",
        "types.FunctionType",
        "types.CodeType",
        "runpy.run_path",
        "runpy.run_module",
        "imp.load_source",
        "imp.load_module",
        "ctypes.CDLL",
        "ctypes.WinDLL",
        "ctypes.windll",
        "ctypes.cdll.LoadLibrary",
    ]
)
CLIPBOARD = ("pyperclip.", "win32clipboard.", "clipboard.", "?.clipboard_get")
SCREEN = ("PIL.ImageGrab.grab", "pyautogui.screenshot", "pynput.keyboard.Listener", "keyboard.")
REGISTRY_WRITE = (
    "winreg.SetValueEx",
    "_winreg.SetValueEx",
    "winreg.CreateKey",
    "_winreg.CreateKey",
)

# Build-time commands honest setup.py files run (and the questions they ask of the system:
# ``uname -m``, ``id -u`` to see whether the build runs as root, ``nvidia-smi`` which GPU)
BUILD_TOOLS = re.compile(
    # a toolchain program, by name or in a system folder of programs (/usr/bin/xcrun)
    r"^\s*(?:/(?:usr/|usr/local/|opt/homebrew/)?s?bin/)?"
    r"(git|hg|svn|gcc|g\+\+|cc|c\+\+|clang|make|cmake|ninja|meson|pkg-config|nvcc|cython|"
    r"cppcheck|clang-tidy|clang-format|ccache|"
    r"python[0-9.]*|sys\.executable|pip|which|where|uname|id|sw_vers|xcrun|xcode-select|ldconfig|"
    r"llvm-config|rustc|cargo|go|java|javac|npm|yarn|node|swig|protoc|pandoc|sphinx-build|"
    # translation catalogues compiled for the package (gettext, Babel)
    r"msgfmt|msgmerge|xgettext|pybabel|"
    r"brew|lsb_release|nproc|sysctl|ar|ld|strip|install_name_tool|patchelf|otool|"
    # the accelerators a build compiles for (GPUs, Intel XPUs): asked, as uname is
    r"nvidia-smi|rocm-smi|rocminfo|hipconfig|xpu-smi|sycl-ls|clinfo|"
    r"mysql_config|pg_config|icu-config|xml2-config|curl-config|gfortran|f2py|autoreconf|"
    r"[\w.+-]+-config|(?:(?:ba)?sh\s+)?(?:\./)?configure|cl|link|lib|nm|readelf|objdump|"
    r"rm|cp|mv|"
    r"mkdir|ln|touch|chmod|cd|echo|tar|unzip|patch|sed|find|test|gzip|rsync|install)(\s|$|\.exe)",
    re.I,
)

# Discord's own folder (its token store) under a user's settings, or with its store inside; not
# a web route, a topic or a user agent named after it ("/webhooks/discord/", "discord/1.0")
DISCORD_FOLDER = (
    r"(?:Roaming|\.config|Application Support|AppData%?|[~%}])[/\\]+discord(?:canary|ptb)?[/\\]|"
    r"(?<![\w ])discord(?:canary|ptb)?[/\\]+(?:Local Storage|leveldb|Cache|Code Cache)"
)
CREDENTIAL_PATHS = re.compile(
    r"(\.ssh[/\\]|id_rsa|id_ed25519|\.aws[/\\]credentials|\.aws[/\\]config|\.kube[/\\]config|"
    r"\.docker[/\\]config\.json|\.git-credentials|\.netrc|\.pypirc|\.npmrc|"
    r"Local Storage[/\\]leveldb|(?-i:Login Data|Web Data|Local State)\b|[/\\]Cookies\b|"
    + DISCORD_FOLDER
    + r"|wallet\.dat|Atomic[/\\]|"
    r"(?<![\w ])(?:Exodus|Electrum)(?![\w ])|"  # as a word of its own: a folder, a key
    r"Ethereum[/\\]keystore|"
    r"nkbihfbeogaeaoehlefnkodbefgpgknn|Metamask|Keychains|login\.keychain|\.gnupg|"
    r"Mozilla[/\\]Firefox[/\\]Profiles|Google[/\\]Chrome[/\\]User Data|BraveSoftware|"
    r"Opera Software|Microsoft[/\\]Edge[/\\]User Data|Yandex[/\\]YandexBrowser|"
    r"/etc/shadow|/etc/passwd|\.bash_history|Telegram Desktop[/\\]tdata|"
    r"FileZilla[/\\]recentservers|Roblox|\.ROBLOSECURITY|Steam[/\\]config)",
    re.I,
)
PERSISTENCE = re.compile(
    r"(CurrentVersion[/\\]+Run|Start Menu[/\\]+Programs[/\\]+Startup|"
    r"\\Startup\\|crontab|/etc/cron|/etc/systemd/system|\.config/systemd|systemctl enable|"
    r"LaunchAgents|LaunchDaemons|launchctl\s+(load|bootstrap|submit)|"
    r"(?<!\w)\.(?:bashrc|bash_profile|zshrc|profile\b)|"
    r"/etc/rc\.local|/etc/init\.d|schtasks|reg add|\.config/autostart|(?:site|user)customize\.py|"
    r"--load-extension)",
    re.I,
)
# Lowercase substrings one of which every match contains (a pre-filter: files without any skip
# the regex). Kept specific ("web data", not "web"): broad words made nearly every file run it.
CREDENTIAL_NEEDLES = (
    ".ssh",
    "id_rsa",
    "id_ed25519",
    ".aws",
    ".kube",
    ".docker",
    ".git-credentials",
    ".netrc",
    ".pypirc",
    ".npmrc",
    "local storage",
    "login data",
    "web data",
    "local state",
    "/cookies",
    "\\cookies",
    "discord",
    "wallet.dat",
    "exodus",
    "electrum",
    "atomic/",
    "atomic\\",
    "keystore",
    "nkbihfbeogaeaoehlefnkodbefgpgknn",
    "metamask",
    "keychain",
    ".gnupg",
    "firefox",
    "user data",
    "bravesoftware",
    "opera software",
    "yandexbrowser",
    "/etc/shadow",
    "/etc/passwd",
    ".bash_history",
    "desktop/tdata",
    "desktop\\tdata",
    "recentservers",
    "roblo",
    "steam/",
    "steam\\",
)
PERSISTENCE_NEEDLES = (
    "currentversion",
    "startup",
    "cron",
    "systemd",
    "systemctl enable",
    "launchagents",
    "launchdaemons",
    "launchctl",
    ".bashrc",
    ".bash_profile",
    ".zshrc",
    ".profile",
    "rc.local",
    "init.d",
    "schtasks",
    "reg add",
    "autostart",
    "sitecustomize.py",
    "usercustomize.py",
    "load-extension",
)
FINGERPRINT = frozenset(
    [
        "socket.gethostname",
        "platform.node",
        "platform.uname",
        "getpass.getuser",
        "os.getlogin",
        "os.uname",
        "uuid.getnode",
        "platform.platform",
        "socket.getfqdn",
    ]
)

PROCESS_SEVERITY = {WHEN_INSTALL: "medium", WHEN_STARTUP: "high", WHEN_IMPORT: "medium"}
# public registries: the package index and a code host's API. Their operators are no one's
# listener (a project's owner sees no log of who read its releases through the API), so a plain
# GET of them (an update check on import: ``requests.get("https://pypi.org/pypi/NAME/json")``; a
# setup.py reading its version from ``api.github.com/repos/OWNER/NAME/releases``) tells no one
# anything
REGISTRY_HOSTS = frozenset({"pypi.org", "api.github.com"})
READ_ONLY_FETCHES = frozenset(
    {"requests.get", "httpx.get", "urllib.request.urlopen", "urllib2.urlopen", "requests.head"}
)
# the keyword arguments of a plain GET
PLAIN_GET_KWARGS = frozenset({"timeout", "allow_redirects", "stream"})
# what may flow into such a GET: what an earlier answer said (a tag to look up), nothing of
# this host
REGISTRY_QUERY_LABELS = frozenset({"download", "fixed-source"})


def asks_a_registry(call: CallFact) -> bool:
    """A plain GET of a public registry (``REGISTRY_HOSTS``): the URL, written into the code up
    to its path, names that host alone (no user part, no port: ``pypi.org@elsewhere`` and
    ``pypi.org.elsewhere`` are elsewhere), nothing from this host flows into the call, and it
    sets nothing but a timeout or redirects."""
    if call.name not in READ_ONLY_FETCHES or not call.labels <= REGISTRY_QUERY_LABELS:
        return False
    if any(key not in PLAIN_GET_KWARGS for key, _value in call.kwargs):
        return False  # headers, credentials, a proxy, parameters: more than a read
    text = call.args[0] if call.args and call.args[0] else call.first_arg_prefix
    try:
        parts = urlsplit((text or "").strip())
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.netloc.lower() in REGISTRY_HOSTS
        and parts.path.startswith("/")
    )


NETWORK_SEVERITY = {WHEN_INSTALL: "high", WHEN_STARTUP: "high", WHEN_IMPORT: "medium"}
DYNAMIC_SEVERITY = {WHEN_INSTALL: "medium", WHEN_STARTUP: "high", WHEN_IMPORT: "low"}
WHEN_TEXT = {
    WHEN_INSTALL: "at install time",
    WHEN_STARTUP: "at every interpreter start",
    WHEN_IMPORT: "on import",
    WHEN_CALL: "when called",
}


# an exception or warning class of a network library (``requests.HTTPError(response=resp)``):
# building one, to raise it, sends nothing
EXCEPTION_CLASS = re.compile(r"\.[A-Z]\w*(Error|Exception|Warning)$")


def is_network(name: str) -> bool:
    if name in NETWORK_EXCLUDE or name.startswith("requests.exceptions"):
        return False
    if EXCEPTION_CLASS.search(name):
        return False
    return name.startswith(NETWORK_PREFIXES) or name.endswith((".urlopen", ".urlretrieve"))


def is_download(name: str) -> bool:
    """Calls that fetch content from the network."""
    return name.endswith((".urlopen", ".urlretrieve")) or name in DOWNLOADS


FIXED_HOST = re.compile(r"https?://[\w.-]+\.[a-z]{2,}(?::\d+)?/", re.I)
# an address naming a release archive, or a project's folder of releases
RELEASE_ADDRESS = re.compile(
    r"\.(?:tar(?:\.(?:gz|bz2|xz))?|tgz|tbz2?|txz|zip)(?:$|[?#])|/(?:archive|releases?|downloads?)/",
    re.I,
)
# what a plain GET may carry without sending anything of the host: the platform chooses a file
FETCH_LABELS = frozenset({"platform"})
# keywords that give a request a body
BODY_KWARGS = frozenset({"data", "json", "files", "body", "content"})


def fetches_sources(call: CallFact, unpacking: set[str | None]) -> bool:
    """``call`` fetches an archive to unpack: a plain download (no body, nothing of the host in
    it) from an address written in the code (a constant, or a constant start naming the host),
    made by a function that opens what it downloaded as an archive (``tarfile.open``,
    ``zipfile.ZipFile``), as builds do that compile a library's released sources."""
    if call.func not in unpacking or not is_download(call.name) or call.labels - FETCH_LABELS:
        return False
    if any(k in BODY_KWARGS for k, _ in call.kwargs):
        return False
    if len(call.args) > 1 and not call.name.endswith(".urlretrieve"):
        return False  # urlopen(url, data), requests.get(url, params)
    address = (call.args[0] if call.args else None) or call.first_arg_prefix
    return bool(FIXED_HOST.match(address or "")) and RELEASE_ADDRESS.search(address) is not None


DOWNLOADS = frozenset(
    [
        "requests.get",
        "requests.request",
        "requests.Session",
        "httpx.get",
        "httpx.stream",
        "httpx.Client",
        "urllib3.PoolManager",
        "urllib3.request",
        "pycurl.Curl",
        "cloudscraper.create_scraper",
        "aiohttp.ClientSession",
        "wget.download",
        "git.Repo.clone_from",
    ]
)
RUNS_FILE = re.compile(
    r"(\.(exe|vbs|vbe|bat|cmd|ps1|scr|hta|msi|jar|pyw|lnk)\b|^\s*start\s|\bstart\s+\S+\.\w+)", re.I
)
QUOTED = re.compile(r"""[rRbBuUfF]{0,2}(['"])(.*?)(?<!\\)\1""")  # a string in a line of code
RUNS_PATH = frozenset({"execfile", "runpy.run_path", "imp.load_source", "runpy.run_module"})
# labels of values that come from somewhere the reader of the code cannot see
HIDDEN_SOURCES = frozenset({"decoded", "download", "remote", "deciphered", "decoded-param"})
EXEC_CODE = frozenset({"exec", "eval", "compile", "marshal.loads", "pickle.loads"})


def command_head(call: CallFact) -> str:
    """The command line a process call runs, or its constant start when only that folds
    (``os.system(f"curl -o {path} {url}")``), or its source with list items joined."""
    cmd = command_text(call)
    if cmd is not None:
        return cmd
    if call.first_arg_prefix:
        return call.first_arg_prefix
    return re.sub(r"""["']\s*,\s*["']""", " ", call.text)


def command_text(call: CallFact) -> str | None:
    """The command line a process call runs, when it folds to text."""
    if call.args and call.args[0] is not None:
        return call.args[0]
    for key, value in call.kwargs:
        if key in ("args", "cmd", "command") and value is not None:
            return value
    return None


def is_build_command(call: CallFact) -> bool:
    cmd = command_text(call)
    if cmd is None:
        return "sys.executable" in call.text or bool(BUILD_TOOLS.search(first_list_item(call)))
    return builds_only(cmd)


# programs that only filter the text given to them (``nvcc --version | grep release``)
TEXT_FILTERS = frozenset(
    {"grep", "egrep", "fgrep", "head", "tail", "cut", "sort", "uniq", "wc", "tr"}
)
# files that describe this machine, read as ``uname`` is asked (``cat /proc/cpuinfo``)
SYSTEM_INFO = re.compile(r"/(?:proc|sys)/[\w./-]+|/etc/[\w-]*release")
SHELL_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "|&", ";;", "(", ")", "\n"})
SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")


def shell_stages(cmd: str) -> list[list[str]] | None:
    """The commands of a shell line, each as its words (quotes read as the shell reads them),
    split at ``;``, ``&&``, ``||``, ``|``, ``&`` and new lines, followed by the commands that
    ``$(...)`` and backticks substitute into it; None when it does not read (an unclosed quote,
    a substitution inside a substitution)."""
    inner: list[str] = []

    def substitute(m: re.Match[str]) -> str:
        inner.append(m[1] if m[1] is not None else m[2])
        return " _ "

    outer = SUBSTITUTION.sub(substitute, cmd)
    if "$(" in outer or "`" in outer:
        return None
    lexer = shlex.shlex(outer.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    stages: list[list[str]] = [[]]
    for token in tokens:
        if token in SHELL_SEPARATORS:
            stages.append([])
        else:
            stages[-1].append(token)
    for part in inner:
        more = shell_stages(part)
        if more is None:
            return None
        stages.extend(more)
    return [stage for stage in stages if stage]


def builds_stage(words: list[str]) -> bool:
    """One command of a shell line is a build tool (``BUILD_TOOLS``), a text filter, or a read
    of the machine's description (``cat /proc/cpuinfo``)."""
    words = _without_settings(words)
    if not words or words[0] in TEXT_FILTERS or BUILD_TOOLS.match(" ".join(words)):
        return True
    paths = [w for w in words[1:] if not w.startswith("-")]
    return words[0] == "cat" and bool(paths) and all(SYSTEM_INFO.fullmatch(w) for w in paths)


def builds_only(cmd: str) -> bool:
    """Every command of a shell line, and every command substituted into it, is a build step
    (``builds_stage``): ``git describe 2>/dev/null || echo unknown``, ``cat /proc/cpuinfo |
    grep cores | head -1``. A build tool at the start does not vouch for what is chained after
    it (``echo building && env | nc ...``)."""
    stages = shell_stages(cmd)
    return stages is not None and all(builds_stage(words) for words in stages)


# variables whose value runs code or loads a library in every shell or program started after:
# setting them is a hijack, not a setting (a PATH put before the system's is one too)
HIJACKING_ENV = frozenset(
    {
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "PROMPT_COMMAND",
        "BASH_ENV",
        "ENV",
        "PS1",
        "PS4",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PYTHONHOME",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "NODE_OPTIONS",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "ZDOTDIR",
        "SHELLOPTS",
        "BASHOPTS",
        "GIT_SSH_COMMAND",
        # Windows: a logon script, a .NET profiler DLL, the folders UAC bypasses redirect
        "USERINITMPRLOGONSCRIPT",
        "COR_PROFILER",
        "COR_PROFILER_PATH",
        "COR_ENABLE_PROFILING",
        "WINDIR",
        "SYSTEMROOT",
        "COMSPEC",
        "PATHEXT",
    }
)


# what may stand around a build script on its command line: the shell or PowerShell that reads
# it, options that only change how it is read, and plain arguments after it ("--release")
SCRIPT_RUNNERS = frozenset(
    {"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "cmd", "cmd.exe", "/c", "call"}
    | {"powershell", "powershell.exe", "pwsh", "pwsh.exe", "-file", "-noprofile", "-nologo"}
    | {"-noninteractive", "-executionpolicy", "bypass", "unrestricted", "remotesigned", "-x"}
)
SCRIPT_ARGUMENT = re.compile(r"[\w.,=:/+-]+")


def runs_build_script(call: CallFact, scripts: frozenset[str]) -> str | None:
    """The shipped script (a path from the sdist's top, ``FileContext.build_scripts``) that a
    process call of setup.py runs, when its command line is that script with at most a shell or
    PowerShell to read it, reading options and plain arguments, and any other command chained
    to it is a build step (``chmod a+x ./build.sh && ./build.sh``); else None (a command that
    is neither, a code option such as ``-c`` or ``-Command``, or a part that does not fold)."""
    if not scripts:
        return None
    cmd = command_text(call)
    if cmd is not None:
        stages = shell_stages(cmd) if is_shell_string(call) else [cmd.split()]
        if stages is None:
            return None
    else:
        m = re.search(r"\(\s*\[([^\]]*)\]", call.text)
        items = re.findall(r"""\s*(['"])([^'"]*)\1\s*(?:,|$)""", m.group(1)) if m else []
        if not m or len(items) != m.group(1).rstrip(", \n").count(",") + 1:
            return None  # a list with a part that is not a literal
        stages = [[item for _, item in items]]
    cwd = next((v for k, v in call.kwargs if k == "cwd"), "")  # None: a folder not named
    runs = [_script_run(words, scripts, cwd) for words in stages]
    if any(run is None and not builds_stage(w) for run, w in zip(runs, stages, strict=True)):
        return None  # a command that is neither the script nor a build step
    return next((run for run in runs if run is not None), None)


def _script_run(words: list[str], scripts: frozenset[str], cwd: str | None) -> str | None:
    """The shipped script one command runs (``bash ./make.sh --jobs 2``), else None."""
    found = None
    for word in _without_settings(words):
        path = word.strip("'\"").replace("\\", "/")
        path = "/".join(p for p in f"{cwd}/{path}".split("/") if p not in ("", "."))
        if found is not None:
            ok = bool(SCRIPT_ARGUMENT.fullmatch(word))
        elif cwd is not None and path in scripts:
            found, ok = path, True
        elif cwd == "" and "/" not in path and (same := _named_alike(path, scripts)):
            # `./make.sh` after os.chdir(into a folder): the sdist's own make.sh, wherever
            # setup.py went, or nothing (then the command fails)
            found, ok = same, True
        else:
            ok = word.lower() in SCRIPT_RUNNERS
        if not ok:
            return None
    return found


_SETTING = re.compile(r"([A-Za-z_]\w*)=[\w.,:/+-]*")


def _without_settings(words: list[str]) -> list[str]:
    """A shell command's words without the variable settings before its program
    (``CAPSTONE_BUILD_CORE_ONLY=yes bash ./make.sh``): constant values of variables that are
    not ``HIJACKING_ENV`` nor a search path (``LD_PRELOAD=... make`` and ``PATH=tools make``
    keep their first word: the program they run is not the one named)."""
    for i, word in enumerate(words):
        m = _SETTING.fullmatch(word)
        if m is None or m[1].upper() in HIJACKING_ENV or m[1].upper().endswith("PATH"):
            return words[i:]
    return []


def _named_alike(name: str, scripts: frozenset[str]) -> str | None:
    """The first shipped script (by path) whose file name is ``name``, or None."""
    return next((s for s in sorted(scripts) if file_name(s) == name), None)


def is_shell_string(call: CallFact) -> bool:
    """A command given as one shell string (os.system, os.popen, shell=True) that folds to text."""
    shell = call.name in ("os.system", "os.popen", "commands.getoutput", "subprocess.getoutput")
    shell = shell or any(k == "shell" for k, _ in call.kwargs) or "shell=True" in call.text
    return shell and command_text(call) is not None


def first_list_item(call: CallFact) -> str:
    """The first item of a call's list or tuple argument when it is a string literal
    (``subprocess.run(["gcloud", ...])``: ``gcloud``), else ""."""
    m = re.search(r"\(\s*[\[(]\s*['\"]([^'\"]+)['\"]", call.text)
    return m.group(1) if m else ""


def _runs_unshipped(ctx: FileContext, call: CallFact) -> str | None:
    """The file a process call of setup.py launches, when it is one the sdist does not ship
    (``FileContext.unshipped``) and setup.py names it nowhere but in the commands that run it
    (nothing of it downloads, writes or copies a file of that name): else None."""
    if not ctx.unshipped or ctx.facts is None:
        return None
    files = frozenset(n for n in ctx.unshipped if n.lower() not in SCRIPT_RUNNERS)
    path = runs_build_script(call, files)  # the whole command: that file, read or run as is
    if path is None:
        return None
    cmd = command_text(call)
    first = cmd.split()[0] if cmd and cmd.split() else first_list_item(call)
    if not re.search(r"[/\\]", first) and first.strip("'\"").lower() == path.lower():
        return None  # a bare program name is looked up on PATH (`calc.exe`): it may well exist
    name = file_name(path)
    in_runs = sum(c.text.count(name) for c in ctx.facts.calls if c.name in PROCESS)
    return name if ctx.text.count(name) == in_runs else None


def check(ctx: FileContext) -> list[Finding]:
    facts = ctx.facts
    if facts is None:
        return []
    out: list[Finding] = []
    payload_lines = ctx.hidden_payload_lines
    for call in facts.calls:
        when = ctx.when(call)
        name = call.name
        if name in PROCESS:
            sev = PROCESS_SEVERITY.get(when, "low")
            message = f"Runs a process or shell command {WHEN_TEXT[when]}."
            script = runs_build_script(call, ctx.build_scripts) if when == WHEN_INSTALL else None
            if script is not None:
                # the sdist's own build script: pipvet reads it, as code that runs at install
                sev = "medium"
                message = (
                    f"Runs its own build script {script} at install time "
                    "(shipped in the sdist; pipvet checks it as install-time code)."
                )
            elif when == WHEN_INSTALL and is_build_command(call):
                sev = "low"
            elif when == WHEN_INSTALL and is_shell_string(call):
                sev = "high"  # an arbitrary shell command line run by installing
            out.append(
                finding("capability.process", "process", sev, ctx, call.line, message, call.text)
            )
            # the command, or the strings written in the call (`[tool, "build.cmd"]`), not its
            # code: `Popen(ext.cmd, shell=True)` names an attribute, not a batch file
            runs = RUNS_FILE.search(command_text(call) or "") or RUNS_FILE.search(
                "\n".join(m.group(2) for m in QUOTED.finditer(call.text))
            )
            if runs and when != WHEN_CALL and script is None:
                missing = _runs_unshipped(ctx, call) if when == WHEN_INSTALL else None
                message = f"Launches an executable or script file {WHEN_TEXT[when]}."
                if missing is not None:
                    # `powershell .\\build.ps1` with no build.ps1 in the sdist: the command
                    # fails, there being nothing to run (a file left out of the release)
                    message = (
                        f"Runs {missing} at install time, a file the sdist does not ship "
                        "(the command fails; nothing of the sdist writes it)."
                    )
                out.append(
                    finding(
                        "install-time.runs-executable",
                        "install-time",
                        "medium" if missing is not None else "high",
                        ctx,
                        call.line,
                        message,
                        runs.group(0),
                    )
                )
        elif is_network(name):
            sev = NETWORK_SEVERITY.get(when, "low")
            message = f"Opens network connections {WHEN_TEXT[when]}."
            if when == WHEN_INSTALL and asks_a_registry(call):
                sev = "medium"  # setup.py reading its version from the registry: no beacon
                message = "Reads from a public registry (PyPI, GitHub's API) at install time."
            if when == WHEN_INSTALL and fetches_sources(call, facts.unpacks_download):
                # a build fetching a library's sources to compile: worth knowing (pipvet cannot
                # see what it fetches), not a beacon or a second stage
                sev = "medium"
                message = (
                    "Downloads an archive from a fixed address at install time and unpacks it "
                    "(a build fetching sources; pipvet cannot inspect what it fetches)."
                )
            out.append(
                finding("capability.network", "network", sev, ctx, call.line, message, call.text)
            )
        elif name in DYNAMIC and (call.computed_first_arg or name.startswith("ctypes")):
            sev = DYNAMIC_SEVERITY.get(when, "low")
            if call.labels <= {"file"} and call.labels and name in EXEC_CODE:
                sev = "low"  # exec(open("pkg/version.py").read()) in setup.py
            elif name in RUNS_PATH and not call.labels & {"decoded", "download"}:
                sev = "low"  # execfile("pkg/release.py"): runs a file of the project
            elif name in EXEC_CODE and when in (WHEN_INSTALL, WHEN_STARTUP):
                # code run by installing: hidden when it comes from decoding, the network or a
                # folded string; an expression the project builds itself (marker evaluation,
                # templates) is worth knowing but not hidden
                hidden = call.labels & HIDDEN_SOURCES or call.line in payload_lines
                sev = "high" if hidden else "medium"
            out.append(
                finding(
                    "capability.dynamic-code",
                    "dynamic-code",
                    sev,
                    ctx,
                    call.line,
                    f"Runs dynamically built code {WHEN_TEXT[when]}.",
                    call.text,
                )
            )
        elif name.startswith(CLIPBOARD) or name.endswith("clipboard_get"):
            out.append(
                finding(
                    "capability.clipboard",
                    "credentials",
                    "medium",
                    ctx,
                    call.line,
                    "Reads or writes the clipboard.",
                    call.text,
                )
            )
        elif name.startswith(SCREEN):
            out.append(
                finding(
                    "capability.screen-keyboard",
                    "credentials",
                    "medium",
                    ctx,
                    call.line,
                    "Captures the screen or the keyboard.",
                    call.text,
                )
            )
        elif name in REGISTRY_WRITE:
            out.append(
                finding(
                    "capability.registry-write",
                    "persistence",
                    "medium",
                    ctx,
                    call.line,
                    "Writes to the Windows registry.",
                    call.text,
                )
            )
        elif name in FINGERPRINT and when in (WHEN_INSTALL, WHEN_STARTUP):
            out.append(
                finding(
                    "capability.fingerprint",
                    "fingerprint",
                    "low",
                    ctx,
                    call.line,
                    f"Reads the user or host identity {WHEN_TEXT[when]}.",
                    call.text,
                )
            )
    out.extend(_string_capabilities(ctx))
    return out


def _string_capabilities(ctx: FileContext) -> list[Finding]:
    """Credential stores and persistence locations named in the code's strings."""
    out: list[Finding] = []
    if ctx.facts is None:
        return out
    for line, m in ctx.find_paths(CREDENTIAL_PATHS, needles=CREDENTIAL_NEEDLES):
        out.append(
            finding(
                "capability.credential-path",
                "credentials",
                "medium",
                ctx,
                line,
                "Names a credential store (SSH keys, cloud or browser secrets, wallets).",
                m.group(0),
            )
        )
    for line, m in ctx.find(PERSISTENCE, needles=PERSISTENCE_NEEDLES):
        out.append(
            finding(
                "capability.persistence-path",
                "persistence",
                "medium",
                ctx,
                line,
                "Names an autostart location (Run key, startup folder, cron, shell rc).",
                m.group(0),
            )
        )
    return out
