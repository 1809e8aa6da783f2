"""Intent: combinations that honest code does not make.

Secrets or host identity flowing into a network call (exfiltration), a download flowing into
execution, a decoded blob flowing into execution, a shell command line that downloads and runs,
credential stores read next to network code. Values are followed through assignments by
``python_ast`` and ``dataflow``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from pipvet.core.analysis.facts.dataflow import file_name
from pipvet.core.analysis.facts.python_ast import (
    CREDENTIAL_LABEL,
    DECIPHERED,
    DECODED_PARAM,
    DOWNLOAD_TO_FILE,
    FETCH_PROGRAMS,
    FIXED_SOURCE,
    HIDDEN_CODE_LABELS,
    LOOPBACK,
    MODULE_CALLER,
    CallFact,
    ModuleFacts,
    loopback_address,
    writes_file,
    written_and_run,
)
from pipvet.core.analysis.facts.syntax import code_lines, parse_python
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import (
    ROLE_INIT,
    ROLE_SCRIPT,
    WHEN_CALL,
    WHEN_IMPORT,
    WHEN_INSTALL,
    WHEN_STARTUP,
    FileContext,
    finding,
)
from pipvet.core.analysis.rules.capabilities import (
    BUILD_TOOLS,
    DISCORD_FOLDER,
    DYNAMIC,
    HIJACKING_ENV,
    PERSISTENCE,
    PERSISTENCE_NEEDLES,
    PROCESS,
    REGISTRY_WRITE,
    WHEN_TEXT,
    asks_a_registry,
    command_head,
    command_text,
    is_build_command,
    is_download,
    is_network,
)

# unmarshalling builds a code object without running it: what runs it (exec, FunctionType) is
# the sink, and it sees the decoded label marshal.loads passes on
EXEC_SINKS = (DYNAMIC | PROCESS) - {"marshal.loads"}
CODE_SINKS = frozenset({"exec", "eval", "compile", "execfile"})
DESERIALISERS = frozenset({"pickle.loads", "cPickle.loads", "dill.loads"})
NOT_CODE = frozenset({"ctypes.CDLL", "ctypes.WinDLL"})
IMPORTERS = frozenset({"__import__", "importlib.import_module"})  # a module by its name
REMOTE_SINKS = PROCESS | {"exec", "eval", "compile", "execfile"}
EXECUTABLE_NAME = re.compile(r"\w\.(exe|scr|msi|vbs|bat|ps1|cmd|hta)\b", re.I)
EXECUTABLE_NEEDLES = (".exe", ".scr", ".msi", ".vbs", ".bat", ".ps1", ".cmd", ".hta")

# what a PowerShell line does with a file it downloaded that makes the download a program run:
# starts it, evaluates it, or the file is a program (a download to a file alone is curl -o)
PS_RUNS = (
    r"""(start-process|invoke-item|\biex\b|invoke-expression|\bstart\s|&\s*['"$(]|;\s*\.[\\/]|"""
    r"cmd(\.exe)?\s*/c|\.(exe|scr|bat|cmd|ps1|vbs|hta|msi|dll)\b)"
)
# Shell command lines that fetch and run code (piped into a shell or any interpreter), hide a
# window or open a reverse shell. Gaps are bounded ({0,400}): an unbounded gap makes a
# megabyte-long minified line cost minutes.
SHELL_ATTACK = re.compile(
    r"((curl|wget)\b[^|;&\n]{0,400}\|\s*(sudo\s+)?((ba|z|da|k)?sh|python[0-9.]*|py|perl|ruby|node|php)\b|"
    r"(base64\s+(-d|--decode)|openssl\s+(enc\s+)?-d|xxd\s+-r)[^\n]{0,400}\|\s*(sudo\s+)?((ba|z|da)?sh|python[0-9.]*|py|perl|ruby|node|php)\b|"
    r"(curl|wget)\b[^\n]{0,400}(-\w*[oO]\b|>)\s*\S{1,400}[^\n]{0,400}(&&|;)\s*(chmod|\./|sh\s|bash\s|python|start\s)|"
    # ... or the very file it saved, started by its path (wget -O /tmp/x URL && /tmp/x)
    r"(curl|wget)\b[^\n]{0,400}?(?:\s-\w*[oO]\s*|>\s*)['\"]?(?P<saved>[^\s'\";&|<>]{1,400})"
    r"[^\n]{0,400}?(?:&&|;|\|\|)\s*(?:(?:sudo|nohup|exec|setsid)\s+)?['\"]?(?P=saved)(?:['\"\s;&|]|$)|"
    r"powershell[^\n]{0,400}(-e(nc|ncodedcommand)?\s+[A-Za-z0-9+/=]{16,}|-w(indowstyle)?\s+hidden|"
    r"downloadstring|(downloadfile|invoke-webrequest|\biwr\b)[^\n]{0,400}" + PS_RUNS + "|"
    r"start-process\b[^\n]{0,400}-w(indowstyle)?\s+hidden)|"
    r"certutil[^\n]{0,400}-urlcache|bitsadmin[^\n]{0,400}/transfer|mshta\s+https?:|"
    r"regsvr32[^\n]{0,400}/i:https?:|/dev/tcp/|\bnc(at)?\s+(-\w+\s+)*-e\s|bash\s+-i\s+>&|"
    r"mkfifo\s+/tmp/|\bsocat\b[^\n]{0,400}exec:|\[Convert\]::FromBase64String|"
    r"Net\.WebClient\)?\s*\.\s*DownloadString|Net\.WebClient[^\n]{0,400}" + PS_RUNS + "|"
    r"(invoke-webrequest|\biwr\b)[^\n]{0,400}-outfile\b[^\n]{0,400}"
    r"(start-process\b|\.(exe|scr|bat|cmd|ps1|vbs|hta|msi|dll)\b)|"
    # PowerShell's eval runs fetched or decoded text, or a variable's; dot-sourcing a file the
    # user owns (Invoke-Expression '. profile.ps1') is how shells load their rc files
    r"(\bIEX\b|Invoke-Expression)[^\n]{0,400}(\biwr\b|invoke-webrequest|invoke-restmethod|\birm\b|"
    r"downloadstring|frombase64string|webclient|https?://)|"
    r"(\biwr\b|invoke-webrequest|invoke-restmethod|\birm\b)[^\n]{0,400}\|\s*(\biex\b|invoke-expression)|"
    r"(\bIEX\b|Invoke-Expression)\s*\(?\s*\$|"
    r"(curl|wget|Invoke-WebRequest|Net\.WebClient)[^\n]{0,400}https?://[^\s'\"]{1,400}\.(exe|scr|bat|ps1|vbs|sh|bin|elf)\b)",
    re.I,
)
# Shell command lines that send host data somewhere: curl -d "$(whoami)", nslookup $(hostname).x
SHELL_EXFIL = re.compile(
    r"((curl|wget|nslookup|dig|ping|host)\b[^\n]{0,400}(\$\(|`)\s*(hostname|whoami|id|pwd|uname|cat|ls|env|"
    r"printenv|ifconfig|ip\s)|(curl|wget)\b[^\n]{0,400}(-d|--data[\w-]*|-F|--upload-file|-T)\s+['\"]?@)",
    re.I,
)
# (pattern, rule, what the command does) for command lines a process call runs
SHELL_CHECKS = (
    (SHELL_EXFIL, "intent.exfiltration", "sends host data away"),
    (SHELL_ATTACK, "intent.shell-download-execute", "fetches or hides code"),
)
SHELL_NEEDLES = tuple(
    [
        "curl",
        "wget",
        "powershell",
        "certutil",
        "bitsadmin",
        "mshta",
        "regsvr32",
        "/dev/tcp",
        "nc",
        "ncat",
        "bash",
        "mkfifo",
        "socat",
        "invoke-webrequest",
        "frombase64string",
        "net.webclient",
        "iex",
        "invoke-expression",
        "executionpolicy",
        "base64",
        "openssl",
        "xxd",
    ]
)
# what every SHELL_ATTACK match starts with (lowercase): the pattern is tried only there
SHELL_BEGINS = (
    "curl", "wget", "base64", "openssl", "xxd", "powershell", "certutil", "bitsadmin", "mshta",
    "regsvr32", "/dev/tcp/", "nc", "bash", "mkfifo", "socat", "[convert]", "net.webclient",
    "invoke-webrequest", "iwr", "iex", "invoke-expression", "invoke-restmethod", "irm",
)  # fmt: skip
STRONG_NEEDLES = tuple(
    [
        "local storage",
        "login data",
        "local state",
        "discord",
        "wallet",
        "exodus",
        "electrum",
        "ethereum",
        "nkbihf",
        "tdata",
        "roblosecurity",
    ]
)
SECRET_LABELS = frozenset({"secret", "fingerprint", "env-dump", "home", "wallet-secret"})
STRONG_CREDENTIALS = re.compile(
    # Chrome's files by their exact names ("VM-local state" in a message is prose)
    # (Discord's folder: DISCORD_FOLDER)
    # (wallet apps as a word of their own, a folder or a key: "ELECTRUM NUMB" is a drug's name)
    r"(Local Storage[/\\]leveldb|(?-i:Login Data|Local State)\b|"
    + DISCORD_FOLDER
    + r"|wallet\.dat|(?<![\w ])(?:Exodus|Electrum)(?![\w ])|Ethereum[/\\]keystore|"
    r"nkbihfbeogaeaoehlefnkodbefgpgknn|"
    r"Telegram Desktop[/\\]tdata|\.ROBLOSECURITY)",
    re.I,
)


# the one line a vendor publishes to install its tool: a fetch over HTTPS of an address written
# out in full, piped straight into a shell (curl -LsSf https://astral.sh/uv/install.sh | sh), or
# PowerShell's form (powershell -c "irm https://astral.sh/uv/install.ps1 | iex")
_HTTPS_ADDRESS = r"""['"]?(https://([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})(?:/[\w./~-]*)?)['"]?"""
_INSTALLER_LINES = (
    re.compile(
        r"\s*(?:curl|wget)(?:\s+-{1,2}[a-z][\w.-]*(?:[= ]'=https')?)*\s+"
        + _HTTPS_ADDRESS
        + r"\s*\|\s*(?:sudo\s+)?(?:ba)?sh(?:\s+-s(?:\s+--)?(?:\s+-{0,2}[\w.=-]+)*)?\s*",
        re.I,
    ),
    re.compile(
        r"""\s*powershell(?:\.exe)?(?:\s+-ExecutionPolicy\s+\w+)?\s+-c(?:ommand)?\s+["']?"""
        r"\s*(?:irm|Invoke-RestMethod)\s+" + _HTTPS_ADDRESS + r"\s*\|\s*(?:iex|Invoke-Expression)"
        r"""\s*["']?\s*""",
        re.I,
    ),
)
# hosts of anyone's uploads: a script there is a user's file, not a vendor's installer
_USER_CONTENT = re.compile(r"(^|\.)(githubusercontent\.com|gist\.github\.com)$", re.I)


def _published_installer(cmd: str) -> str | None:
    """The host of a vendor's published install line, when the whole command is one
    (``_INSTALLER_LINES``) from a named host that is not a paste, file-sharing, tunnel or user
    content host; else None (anything more in the line, an IP, plain HTTP)."""
    from pipvet.core.analysis.rules.indicators import FILE_SHARE, PASTE, TUNNEL  # (imports us)

    for line in _INSTALLER_LINES:
        m = line.fullmatch(cmd)
        if m is not None:
            url, host = m.group(1), m.group(2)
            drop = PASTE.search(url) or FILE_SHARE.search(url) or TUNNEL.search(url)
            return None if drop or _USER_CONTENT.search(host) else host.lower()
    return None


def _installer_literal(literals: set[str], matched: str) -> str | None:
    """The host of a vendor's install line (``_published_installer``) written as a whole
    string of the module that holds ``matched``, else None."""
    hosts = (_published_installer(text) for text in literals if matched in text)
    return next((host for host in hosts if host is not None), None)


def _serious(when: str) -> str:
    return "high" if when == WHEN_CALL else "critical"


def _milder(when: str) -> str:
    return "medium" if when == WHEN_CALL else "high"


def check(ctx: FileContext) -> list[Finding]:
    out: list[Finding] = []
    facts = ctx.facts
    if facts is None:
        if ctx.role == ROLE_SCRIPT or ctx.facts is None:
            out.extend(_shell_text(ctx))
        return out
    has_network = False
    exe_scopes: set[str | None] | None = None  # worked out at the first write that needs it
    for call in facts.calls:
        when = ctx.when(call)
        name = call.name
        if name in EXEC_SINKS:
            # pickle.loads(zlib.decompress(...)) is ordinary caching/RPC unless installing runs it
            deserialise = name in DESERIALISERS and when == WHEN_CALL
            decoded = call.labels & {"decoded", DECODED_PARAM, DECIPHERED}
            if decoded == {DECIPHERED} and name not in CODE_SINKS:
                decoded = set()  # str.translate or XOR reaching a process: rarely hidden code
            if decoded and name not in NOT_CODE and not deserialise:
                # a helper decoding its own parameter hides nothing by itself: one level less
                handed = decoded == {DECODED_PARAM}
                # a decoded module *name* (an RPC server's import request) loads code already
                # installed, not the data: one level less (what the module does is its own)
                importer = name in IMPORTERS
                sev = _milder(when) if handed or importer else _serious(when)
                what = "data it is handed" if handed else "hidden data"
                message = f"Decodes {what} and executes it {WHEN_TEXT[when]}."
                if importer:
                    message = f"Imports a module named by decoded data {WHEN_TEXT[when]}."
                out.append(
                    finding(
                        "intent.decode-execute", "intent", sev, ctx, call.line, message, call.text
                    )
                )
            elif "download" in call.labels and not _handles_data(call):
                # a preload/plugin feature runs code from the URL its caller gives, when called:
                # worth a warning; a URL written in, hidden or run on import stays serious
                # (unpickling what the caller's URL serves is the same: autogluon's loader)
                callers = (
                    when == WHEN_CALL
                    and name in CODE_SINKS | DESERIALISERS
                    and (FIXED_SOURCE not in call.labels or _callers_url(facts, call.func))
                )
                # ... and so does running fetched text as a command or a program. A downloaded
                # package handed to the system's installer when called, in the open (an upgrade
                # command: msiexec /i, open, xdg-open), is said; out of sight (every error
                # swallowed, no window, a quiet install) it is not what a user asked to see
                hiding = _in_hiding(call, facts)
                installer = when == WHEN_CALL and _hands_to_installer(call)
                callers = callers or (installer and not hiding)
                # a program named in the code, not a shell or a runner, given fetched values as
                # its arguments (["gcloud", "compute", "instances", "delete", name]): what runs
                # is that program, not what was fetched
                program = _fixed_program(call, facts)
                message = f"Downloads code and executes it {WHEN_TEXT[when]}."
                if hiding:
                    message = f"Downloads code and executes it {WHEN_TEXT[when]}, out of sight."
                if program is not None:
                    message = (
                        f"Runs {program} with downloaded values as its arguments {WHEN_TEXT[when]}."
                    )
                out.append(
                    finding(
                        "intent.download-execute",
                        "intent",
                        _milder(when) if callers or program is not None else _serious(when),
                        ctx,
                        call.line,
                        message,
                        call.text,
                    )
                )
        if name in REMOTE_SINKS and "remote" in call.labels and not _fixed_program(call, facts):
            # (a peer's values given as arguments to a program named in the code, ["zip",
            # "--password", password, ...], run that program, not the peer's commands)
            out.append(
                finding(
                    "intent.reverse-shell",
                    "intent",
                    _serious(when),
                    ctx,
                    call.line,
                    f"Runs commands received from a network peer {WHEN_TEXT[when]}.",
                    call.text,
                )
            )
        if name in PROCESS:
            cmd = command_text(call) or ""
            flat = _flat(call.text)
            for pattern, rule, what in SHELL_CHECKS:
                m = pattern.search(cmd) or pattern.search(flat)
                if m:
                    sev, kind = _serious(when), "intent"
                    message = f"Runs a shell command that {what} {WHEN_TEXT[when]}."
                    host = _published_installer(cmd) if when == WHEN_CALL else None
                    if host is not None and rule == "intent.shell-download-execute":
                        # a tool setting up another on request, by the line its vendor
                        # publishes: a capability to know of, not a sign of intent
                        rule, kind, sev = "capability.vendor-installer", "process", "medium"
                        message = f"Runs the installer script published at {host} when called."
                    out.append(finding(rule, kind, sev, ctx, call.line, message, m.group(0)))
        written = call.labels & DROPPED and writes_file(name)
        if written and not call.labels & {"decoded", "download"}:
            if _runs_after(facts, call, ctx.text):
                # data a caller hands over, decoded, written and run: a task runner's loader
                message = f"Writes data it is handed, decoded, and runs it {WHEN_TEXT[when]}."
                sev = _milder(when)
                out.append(
                    finding(
                        "intent.drop-payload", "intent", sev, ctx, call.line, message, call.text
                    )
                )
        elif written:
            # the dropped file is run when the same code runs something after writing it (an
            # exec elsewhere in the file, say setup.py reading its version, is unrelated)
            runs = _runs_after(facts, call, ctx.text)
            if exe_scopes is None:
                exe_scopes = _executable_scopes(ctx)
            exe = call.func in exe_scopes
            what = "decoded or downloaded content to a file"
            if exe:
                what = "a decoded or downloaded program (.exe, .bat...) to disk"
            if when == WHEN_CALL:
                # on request, a written file is a download or a transfer unless it is run or
                # the file opened for it is named as a program
                sev = "high" if runs or _opens_program(facts.calls, call.func) else "medium"
                if (
                    sev == "medium"
                    and not exe
                    and call.labels & DROPPED == {"download"}
                    and not call.labels & SECRET_LABELS
                    and _opens_data_file(facts.calls, call.func)
                ):
                    sev = "low"  # a table, an image, a document fetched into a cache
                    what = "downloaded content to a data file"
            elif runs:
                sev = "critical"
            else:
                # data fetched at install (fonts, headers, models) and never run is ordinary
                sev = "high" if exe or "decoded" in call.labels else "medium"
            out.append(
                finding(
                    "intent.drop-payload",
                    "intent",
                    sev,
                    ctx,
                    call.line,
                    f"Writes {what} {WHEN_TEXT[when]}.",
                    call.text,
                )
            )
        if name in PROCESS and when in (WHEN_IMPORT, WHEN_STARTUP, WHEN_INSTALL):
            m = PACKAGE_INSTALL.search(command_text(call) or call.text)
            # installing a missing dependency by name from the user's own index when it is
            # missing is a bad habit (it belongs in the package's requirements), not a
            # payload; code from a URL, a VCS, another index or a hidden name is a dropper's
            # second stage (at install too: pip was told where to get the package's own
            # dependencies, and setup.py sends it elsewhere)
            elsewhere = bool(m) and (
                bool(PACKAGE_SOURCE.search(_flat(call.text)))
                or bool(call.labels & {"decoded", DECIPHERED, "download"})
            )
            if m and (elsewhere or when != WHEN_INSTALL):
                # ... and one that only runs on a condition (an old library found, an import
                # failed) repairs an environment; run on every import, it is a second stage
                # kept out of the package's metadata (and out of any install-time check)
                where = "from outside the index" if elsewhere else "by name"
                out.append(
                    finding(
                        "intent.download-execute",
                        "intent",
                        "high" if elsewhere or not ctx.conditional(call) else "medium",
                        ctx,
                        call.line,
                        f"Installs more packages {where} (downloaded code, run) {WHEN_TEXT[when]}.",
                        m.group(0),
                    )
                )
        if is_network(name) or network_command(call):
            has_network = True
            if (
                when == WHEN_IMPORT
                and ctx.role == ROLE_INIT
                and _fixed_host(call)
                and not asks_a_registry(call)
            ):
                # importing a package phones a host written into it: a beacon (dependency
                # confusion probes, install trackers); honest packages wait until asked
                out.append(
                    finding(
                        "indicator.import-beacon",
                        "indicator",
                        "high",
                        ctx,
                        call.line,
                        "Contacts a fixed host as soon as the package is imported.",
                        call.text,
                    )
                )
            leaked = call.labels & SECRET_LABELS
            local = _loopback_only(call, facts)  # a local sidecar's client: nothing leaves
            if local:
                leaked = frozenset()
            sev = _exfil_severity(when, call) if leaked else None
            if not sev and not local and _quiet_credential_send(call):
                hidden = bool(call.labels & {"decoded", DECIPHERED})
                where = "a hidden (encoded) host" if hidden else "a host written into the code"
                out.append(
                    finding(
                        "intent.exfiltration",
                        "intent",
                        _serious(when),
                        ctx,
                        call.line,
                        f"Sends credentials to {where} {WHEN_TEXT[when]}, ignoring the answer "
                        "and every error.",
                        call.text,
                    )
                )
            if leaked and sev:
                what = "environment" if "env-dump" in leaked else "identity or secrets"
                if "wallet-secret" in leaked:
                    what = "wallet keys"
                out.append(
                    finding(
                        "intent.exfiltration",
                        "intent",
                        sev,
                        ctx,
                        call.line,
                        f"Sends host {what} over the network {WHEN_TEXT[when]}.",
                        call.text,
                    )
                )
    fetched = _fetch_and_run(ctx)
    out.extend(fetched or _fetch_and_run_by_helpers(ctx))
    out.extend(_write_then_run(ctx))
    out.extend(_persistence(ctx))
    out.extend(_startup_file(ctx))
    seen = {f.line for f in out}
    out.extend(f for f in _written_fetcher(ctx) if f.line not in seen)
    out.extend(_machine_code(facts, ctx))
    out.extend(_reverse_shell(ctx))
    out.extend(_self_delete(ctx))
    if has_network:
        for line, m in ctx.find_paths(STRONG_CREDENTIALS, needles=STRONG_NEEDLES):
            if m:
                sev = "high" if ctx.file_when != WHEN_CALL else "medium"
                out.append(
                    finding(
                        "intent.credential-theft",
                        "intent",
                        sev,
                        ctx,
                        line,
                        "Reads a credential store in code that also talks to the network.",
                        m.group(0),
                    )
                )
                break
    if facts.calls and any(c.name in PROCESS for c in facts.calls):
        for line, m in ctx.find(SHELL_ATTACK, needles=SHELL_NEEDLES, begins=SHELL_BEGINS):
            if m and not any(f.line == line for f in out):
                # a command line kept in a string is not shown to run unless the function holding
                # it (or module-level code, for a module-level string) also runs a process; it
                # weighs as much as that process call, and a message to the user (printed,
                # raised, logged) is not a command at all
                scope = facts.string_scope.get(line or 0, "?")
                # ... or a function it calls does: run(CMD) with `def run(cmd): Popen(cmd, ...)`
                scopes = _called_from(facts.call_edges, scope)
                runner = next(
                    (c for c in facts.calls if c.name in PROCESS and c.func in scopes), None
                )
                message = _message_line(ctx.text, line, facts.calls)
                intent = runner is not None and not message
                when = ctx.when(runner) if runner is not None else WHEN_CALL
                # an install one-liner shown to a person: said, never a sign of intent
                sev = _serious(when) if intent else "low" if message else "medium"
                rule = "intent.shell-download-execute" if intent else "indicator.shell-command"
                kind = "intent" if intent else "indicator"
                text = "Holds a shell command line that fetches or hides code."
                host = _installer_literal(facts.literals, m.group(0))
                if intent and when == WHEN_CALL and host is not None:
                    # as when the call running it is seen (check's SHELL_CHECKS)
                    rule, kind, sev = "capability.vendor-installer", "process", "medium"
                    text = f"Holds the installer line published at {host}, run when called."
                out.append(
                    finding(
                        rule,
                        kind,
                        sev,
                        ctx,
                        line,
                        text,
                        m.group(0),
                    )
                )
                break
    return out


MESSAGE = re.compile(
    r"(\b(print|warn|echo|exit|abort|fail|error|warning|info|debug|critical|exception|"
    r"write)\s*\(|\braise\b|\b(help|message|msg|hint|instructions?|usage)\s*[=:]\s*)",
    re.I,
)


_LIST_SEPARATOR = re.compile(r"""["']\s*,\s*["']""")


def _flat(text: str) -> str:
    """A call's source with an argument list read as a command line:
    ``["powershell", "-WindowStyle", "Hidden"]`` becomes ``powershell -WindowStyle Hidden``."""
    return _LIST_SEPARATOR.sub(" ", text) if "," in text else text


def _called_from(edges: dict[str, set[str]], scope: str | None) -> set[str | None]:
    """``scope`` (a function, or None for module level) and the local functions it calls,
    directly or through others."""
    seen: set[str | None] = {scope}
    todo = list(edges.get(scope if scope is not None else MODULE_CALLER, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def _message_line(text: str, line: int | None, calls: Sequence[CallFact] = ()) -> bool:
    """The string at ``line`` is (part of) a message shown to a person: printed, raised, logged.
    Lines above count only when the string's line continues a call (starts with the string)."""
    if not line:
        return False
    lines = code_lines(text)
    if not 0 < line <= len(lines):
        return False
    own = lines[line - 1]
    if MESSAGE.search(own):
        return True
    if MESSAGE_NAME.match(own):
        return _only_shown(MESSAGE_NAME.match(own).group(1), calls)
    if _CONTINUED.match(own):
        above = lines[max(0, line - 9) : line - 1]
        if any(MESSAGE.search(ln) for ln in above[-2:]):
            return True
        # install_hint = (\n "...curl ... | sh\n" ...): a text kept under a name for a message
        for ln in reversed(above):
            if not _CONTINUED.match(ln):
                named = MESSAGE_NAME.match(ln)
                return bool(named) and _only_shown(named.group(1), calls)
    return False


def _only_shown(name: str, calls: Sequence[CallFact]) -> bool:
    """The text named ``name`` is never handed to a process (``os.system(message)`` would make
    the name a disguise, not a message)."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    return not any(c.name in PROCESS and word.search(c.text) for c in calls)


_CONTINUED = re.compile(r"""^\s*[rRbBuUfF]{0,2}["']""")
# a name given to text meant for a person: install_instructions = (..., error_message = "..."
MESSAGE_NAME = re.compile(
    r"""^\s*(\w*(?:message|msg|instructions?|hint|help|usage|advice|error|warning|notice)s?)\s*="""
    r"""\s*\(?\s*(?:[rRbBuUfF]{0,2}["'].*)?$""",
    re.I,
)


def _write_then_run(ctx: FileContext) -> list[Finding]:
    """A script or Python code written to a file, then run by the same code."""
    assert ctx.facts is not None
    for line, _text, runner in written_and_run(ctx.facts):
        when = ctx.when(runner)
        return [
            finding(
                "intent.write-execute",
                "intent",
                "medium" if when == WHEN_CALL else "high",
                ctx,
                line,
                f"Writes a script to disk and runs it {WHEN_TEXT[when]}.",
                runner.text,
            )
        ]
    return []


PERSIST_ACTIONS = ("shutil.copy", "shutil.move", "os.rename", "os.replace", "os.symlink", "os.link")
OPEN_CALLS = frozenset({"open", "io.open", "codecs.open", "os.open"})


def _persists(call: CallFact) -> bool:
    """A call that writes, copies or registers something (a file, a link, a command)."""
    name = call.name
    if name in PROCESS or name in REGISTRY_WRITE or name.startswith(PERSIST_ACTIONS):
        return True
    if writes_file(name):
        return True
    return name in OPEN_CALLS and _write_mode(call)


def _persistence(ctx: FileContext) -> list[Finding]:
    """An autostart location (startup folder, Run key, cron, shell rc, LaunchAgents, systemd,
    a browser started with an extension) written to or registered by the code naming it."""
    facts = ctx.facts
    assert facts is not None
    for line, m in ctx.find(PERSISTENCE, limit=5, needles=PERSISTENCE_NEEDLES):
        scope = facts.string_scope.get(line or 0, "?")
        if scope == "?":
            continue  # a folded string (an argument already counted) or a docstring
        users = _constant_users(ctx.text, line or 0) if scope is None else None
        actions = [
            c
            for c in facts.calls
            if (c.func in users if users is not None else scope is None or c.func == scope)
            and _persists(c)
        ]
        if not actions:
            continue
        action = actions[0]
        when = ctx.when(action)
        hijack = "load-extension" in m.group(0).lower()
        # what is written there fetches and runs code: a dropper's autostart, whoever calls it
        fetches = any(
            func == action.func and SHELL_ATTACK.search(text) for _l, func, text in facts.written
        )
        message = f"Installs itself to start automatically ({m.group(0)}) {WHEN_TEXT[when]}."
        if when != WHEN_CALL:
            sev = "critical"
        elif not hijack and not fetches and _sets_environment_only(actions, facts.calls):
            # `export PATH=$PATH:~/.tool/bin` appended to ~/.bashrc: an installer putting its
            # tool on PATH; nothing of it runs a program when a shell starts
            sev = "low"
            message = f"Adds environment settings to {m.group(0)} {WHEN_TEXT[when]}."
        elif hijack and all(c.name in PROCESS for c in actions):
            # a browser it starts itself with an extension (an automation library's session):
            # the flag lives as long as that process; written into a shortcut, a launcher or
            # the registry, it hijacks every browser the user starts
            sev = "medium"
            message = f"Starts a browser with an extension loaded ({m.group(0)}) {WHEN_TEXT[when]}."
        else:
            sev = "high" if hijack or fetches else "medium"
        return [finding("intent.persistence", "intent", sev, ctx, line, message, action.text)]
    return []


CHMODS = frozenset({"os.chmod", "os.fchmod", "?.chmod"})
# copying bytes into memory by address, and what makes such memory run (a shellcode loader:
# VirtualAlloc(..., PAGE_EXECUTE_READWRITE), memmove the bytes in, CreateThread at them)
MEMORY_COPIES = (".memmove", ".RtlMoveMemory", ".WriteProcessMemory")
MEMORY_RUNS = (
    ".VirtualAlloc", ".VirtualAllocEx", ".VirtualProtect", ".CreateThread",
    ".CreateRemoteThread", ".NtCreateThreadEx", ".QueueUserAPC", "ctypes.CFUNCTYPE",
)  # fmt: skip


def _machine_code(facts: ModuleFacts, ctx: FileContext) -> list[Finding]:
    """Downloaded or decoded bytes copied into memory that the same code makes runnable
    (allocated executable, a thread started at it): machine code run without a file."""
    for call in facts.calls:
        hidden = call.labels & {"download", "decoded", DECIPHERED}
        if (
            not hidden
            or not call.name.startswith("ctypes.")
            or not call.name.endswith(MEMORY_COPIES)
        ):
            continue
        if not any(c.func == call.func and c.name.endswith(MEMORY_RUNS) for c in facts.calls):
            continue
        when = ctx.when(call)
        fetched = "download" in hidden
        rule = "intent.download-execute" if fetched else "intent.decode-execute"
        what = "downloaded" if fetched else "decoded"
        message = f"Copies {what} bytes into executable memory and runs them {WHEN_TEXT[when]}."
        return [finding(rule, "intent", _serious(when), ctx, call.line, message, call.text)]
    return []


def _written_fetcher(ctx: FileContext) -> list[Finding]:
    """A shell script that fetches and runs code (``curl ... | sh``), written to a file: a
    dropper's second step, run later by whatever finds the file (a git hook, cron, a login
    shell). Made executable by the code that writes it (``os.chmod``), it is as serious as
    running it; otherwise one level milder (a Dockerfile a tool generates on request)."""
    facts = ctx.facts
    assert facts is not None
    for line, func, text in facts.written[:20]:
        lower = text.lower()
        if not any(n in lower for n in SHELL_NEEDLES) or not SHELL_ATTACK.search(text):
            continue
        write = next((c for c in facts.calls if c.line == line and writes_file(c.name)), None)
        if write is None:
            continue
        when = ctx.when(write)
        executable = any(c.name in CHMODS and c.func == func for c in facts.calls)
        sev = _serious(when) if executable else _milder(when)
        made = ", made executable," if executable else ""
        message = f"Writes a shell script that fetches and runs code{made} {WHEN_TEXT[when]}."
        return [finding("intent.drop-payload", "intent", sev, ctx, line, message, write.text)]
    return []


# a name of a path-configuration file: site.py reads every ``*.pth`` in site-packages at each
# start of the interpreter and runs its lines that begin with ``import``
PTH_NAME = re.compile(r"\.pth$", re.I | re.M)
# where site-packages is found, named in the module (a ``model.pth`` of PyTorch weights is
# written anywhere else)
SITE_DIR = re.compile(
    r"\b(?:getsitepackages|getusersitepackages|USER_SITE|get_python_lib)\b|site-packages|"
    r"\bget_paths?\(\s*\)\s*\[\s*[\"'](?:pure|plat)lib|\bget_path\(\s*[\"'](?:pure|plat)lib"
)
PTH_CODE = re.compile(r"(?:^|[\n;])\s*import\s", re.M)


def _startup_file(ctx: FileContext) -> list[Finding]:
    """A ``.pth`` file written into site-packages: Python runs its ``import`` lines at every
    start, in every program of that environment. Code run by installing or importing that plants
    one is a dropper's autostart (``critical``). On request it is what environment tools do
    (virtualenv's ``_virtualenv.pth``, coverage's start-up hook, editable installs, distribute's
    bootstrap): a ``medium`` capability, not a sign of intent beside others."""
    facts = ctx.facts
    assert facts is not None
    for line, _m in ctx.find(PTH_NAME, limit=5, needles=(".pth",)):
        scope = facts.string_scope.get(line or 0, "?")
        if scope == "?":
            continue
        actions = [c for c in facts.calls if c.func == scope and _persists(c)]
        actions = [c for c in actions if c.name not in PROCESS]
        if not actions or SITE_DIR.search(ctx.text) is None:
            continue
        action = actions[0]
        when = ctx.when(action)
        texts = [text for _l, func, text in facts.written if func == scope]
        code = not texts or any(PTH_CODE.search(t) for t in texts)  # unread: taken as code
        what = "code Python runs at every start" if code else "folders added to every start"
        message = f"Writes a .pth file into site-packages ({what}) {WHEN_TEXT[when]}."
        if when == WHEN_CALL:
            # what environment tools do on request: a capability, not a sign of intent
            rule, kind, sev = "capability.persistence-path", "persistence", "medium"
        else:
            rule, kind, sev = "intent.persistence", "intent", "critical"
        return [finding(rule, kind, sev, ctx, line, message, action.text)]
    return []


_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_]\w*)=(.*)")
_PATH_APPENDED = re.compile(r"""["']?\$\{?(\w+)\}?:""")


def _sets_environment_only(actions: list[CallFact], calls: list[CallFact]) -> bool:
    """Every call of ``actions`` opens a file or writes lines that only set environment
    variables (``export PATH=$PATH:/opt/tool/bin``, comments, blank lines) from values that
    were not fetched or decoded: no command, no substitution, no hijacking variable, and a
    search path only appended to (``$PATH:...``), never put first. On Windows, the same through
    the registry: a value of a variable of the user's ``Environment`` key, the only key its
    function opens."""
    writes = [c for c in actions if c.name not in OPEN_CALLS]
    if not writes:
        return False
    for call in writes:
        if call.name in REGISTRY_WRITE:
            if not _environment_value(call, calls):
                return False
            continue
        if not writes_file(call.name) or call.labels & HIDDEN_CODE_LABELS:
            return False
        text = (call.args[0] if call.args else None) or call.first_arg_prefix
        if not text:
            return False
        for line in text.split("\n"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = _ENV_LINE.fullmatch(line)
            if m is None or m[1].upper() in HIJACKING_ENV or "$(" in m[2] or "`" in m[2]:
                return False
            if m[1].upper().endswith("PATH"):
                appended = _PATH_APPENDED.match(m[2])
                if appended is None or appended[1] != m[1]:
                    return False
    return True


def _environment_value(call: CallFact, calls: list[CallFact]) -> bool:
    """``winreg.SetValueEx(key, "PATH", ...)`` in a function whose every registry key opened is
    ``Environment`` (``HKCU\\Environment``): the user's search path, the one value an installer
    sets there (others hijack: a logon script, a profiler DLL, ``windir`` for a UAC bypass)."""
    name = call.args[1] if call.name.endswith("SetValueEx") and len(call.args) > 1 else None
    if not name or name.upper() != "PATH" or call.labels & HIDDEN_CODE_LABELS:
        return False
    keys = [
        c.args[1] if len(c.args) > 1 else None
        for c in calls
        if c.func == call.func and c.name.rpartition(".")[2] in REGISTRY_KEY_OPENERS
    ]
    return bool(keys) and all(k == "Environment" for k in keys)


REGISTRY_KEY_OPENERS = frozenset({"OpenKey", "OpenKeyEx", "CreateKey", "CreateKeyEx"})


def _constant_users(text: str, line: int) -> set[str | None] | None:
    """Where a module-level constant at ``line`` is used, when it is assigned to a name: the
    functions that read that name (None for module-level code) and the local functions they hand
    it to. A table of shell profiles that one function only reads is not what another function
    of the module writes. None when the constant is not part of a module-level assignment."""
    tree = parse_python(text)
    if tree is None:
        return None
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and (
            stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno)
        ):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            break
    if not names:
        return None

    def reads(node: ast.AST) -> bool:
        return any(
            isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load)
            for n in ast.walk(node)
        )

    users: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and reads(node):
            users.add(node.name)
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and any(map(reads, [*call.args, *call.keywords])):
                    callee = call.func
                    users.add(getattr(callee, "id", None) or getattr(callee, "attr", None))
    if any(
        reads(stmt)
        for stmt in tree.body
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ):
        users.add(None)
    return users


# Commands that unpack, move or check a downloaded file without running it
DATA_TOOLS = re.compile(
    r"^\s*['\"]?(tar|unzip|gunzip|gzip|bunzip2|bzip2|xz|unxz|7z|7za|cp|mv|rm|mkdir|ln|ls|"
    r"sha\d+sum|md5sum|shasum|file|cat|head|install|rsync|gpgv?2?|minisign|signify|cosign)"
    r"(\.exe)?['\"]?(\s|,|$)",
    re.I,
)


def _handles_data(call: CallFact) -> bool:
    """A process call that unpacks, checks or moves downloaded data (tar xf, unzip, gpgv, cp)."""
    if call.name not in PROCESS:
        return False
    cmd = command_text(call)
    if cmd is None:
        # a list (no shell): a fetch tool's arguments are URLs and paths, whatever their source
        m = re.search(r"\(\s*[\[(]\s*([^,\])]+)", call.text)
        cmd = m.group(1) if m else ""
        literal = re.fullmatch(r"\s*(['\"])(.+)\1\s*", cmd)
        fetch = literal is not None and literal.group(2).lower() in FETCH_PROGRAMS
        return fetch or DATA_TOOLS.match(cmd) is not None
    return DATA_TOOLS.match(cmd) is not None


# programs that run (or make runnable) the file they are given, whatever its position
LAUNCHERS = re.compile(
    r"^(sys\.executable|python[0-9.w]*|py|pythonw|sh|bash|zsh|dash|ksh|cmd|powershell|pwsh|"
    r"msiexec|rundll32|regsvr32|wscript|cscript|mshta|start|open|xdg-open|chmod|nohup|"
    r"setsid|sudo|env|exec|node|perl|ruby|osascript|launchctl|schtasks|crontab)(\.exe)?$",
    re.I,
)


# programs that run code, packages or containers they are given as arguments (beside LAUNCHERS)
RUNNERS = re.compile(
    r"^(pip[0-9.]*|uv|uvx|pipx|conda|mamba|npm|npx|yarn|pnpm|bun|deno|java|javaw|wine|mono|"
    r"dotnet|php|lua|luajit|rscript|julia|tclsh|wish|awk|gawk|sed|xargs|find|ssh|docker|podman|"
    r"kubectl|at|systemd-run|script|time|timeout|nice|ionice|strace|gdb|busybox|su|doas|runas|"
    r"install_name_tool|ld|ldd|git|make|cmake|gcc|cc|clang|go|cargo|rustc)(\.exe)?$",
    re.I,
)


# interpreters that `python -m MODULE` names (``_fixed_program``)
PYTHONS = re.compile(r"^(sys\.executable|python[0-9.w]*|py|pythonw)(\.exe)?$", re.I)
# modules that, run with `python -m`, run, install or load code they are given
MODULE_RUNNERS = re.compile(
    r"^(pip|uv|pipx|ensurepip|runpy|code|cProfile|profile|trace|pdb|timeit|pytest|py\.test|"
    r"unittest|doctest|IPython|ipykernel|jupyter\w*|nbconvert|papermill|debugpy|pydevd|idlelib|"
    r"conda|poetry|pdm|hatch|nox|tox|setuptools|distutils|build|installer|twine|celery|"
    r"uvicorn|gunicorn|streamlit|flask|django|fire|invoke|doit|scrapy|locust|py_compile|"
    r"compileall|zipapp|venv|virtualenv|site|sitecustomize|usercustomize)(\.|$)"
)
# a program item named like an interpreter, a shell or a launcher (``py_exe``, ``shell``):
# what it is given to run is the program
RUNNER_NAME = re.compile(
    r"python|interp|executable|launch|runner|shell|\bsh\b|bash|\bcmd\b|powershell|pwsh|"
    r"node|perl|ruby|java|wine",
    re.I,
)


# what makes a command list's program item the thing run: fetched, hidden or sent by a peer
PROGRAM_LABELS = HIDDEN_CODE_LABELS | {"remote"}


# a process started where no one sees it: no console window, detached from the console
HIDDEN_START = re.compile(
    r"CREATE_NO_WINDOW|DETACHED_PROCESS|SW_HIDE|STARTF_USESHOWWINDOW|"
    r"-W(?:indowStyle)?['\"]?\s*,?\s*['\"]?Hidden\b",
    re.I,
)


def _in_hiding(run: CallFact, facts: ModuleFacts) -> bool:
    """Running downloaded code so that nothing shows: the run, or a fetch of its function, is
    fire and forget (its result thrown away and every error swallowed), or its process starts
    without a window or detached."""
    if run.quiet or HIDDEN_START.search(run.text) or QUIET_INSTALL.search(run.text):
        return True
    return any(c.quiet and _fetches(c) for c in facts.calls if c.func == run.func)


# programs that hand a package file to the system's installer, or open a file the way the
# desktop does, showing what they do (not a shell, an interpreter or a runner of text)
INSTALLERS = frozenset({"msiexec", "msiexec.exe", "open", "xdg-open"})
# an installer told to show nothing: msiexec /q, /qn, /quiet, /passive
QUIET_INSTALL = re.compile(r"""['"]/(?:q[nbr]?\+?-?|quiet|passive)['"]""", re.I)


def _hands_to_installer(run: CallFact) -> bool:
    """``run`` starts a program named in the code from ``INSTALLERS`` with a list of arguments
    (no shell), the program item holding nothing fetched: ``["msiexec.exe", "/i", msi_path]``.
    (A quiet install, ``/qn``, is out of sight: ``_in_hiding``.)"""
    if run.name not in PROCESS or command_text(run) is not None or _shell_kwarg(run):
        return False
    return run.program.lower() in INSTALLERS and not run.program_labels & PROGRAM_LABELS


def _shell_kwarg(call: CallFact) -> bool:
    return "shell=True" in call.text.replace(" ", "") or any(k == "shell" for k, _ in call.kwargs)


def _fixed_program(call: CallFact, facts: ModuleFacts) -> str | None:
    """The program a process call starts when its command is a list or tuple (no shell) whose
    program item carries nothing downloaded or decoded: named in the code
    (``subprocess.run(["gcloud", "compute", ...])``) or held in a variable (``[docker_command,
    "login", ...]``, a tool found on PATH). None for a shell string, an interpreter, launcher or
    other runner of what it is given (``LAUNCHERS``, ``RUNNERS``, or a variable named like one),
    or a path to a program (one written where it runs), also a bare name the module saves a file
    to (``urlretrieve(url, "helper.exe")``)."""
    if not call.program or call.name not in PROCESS or command_text(call) is not None:
        return None
    if call.program_labels & PROGRAM_LABELS or _shell_kwarg(call):
        return None  # [path_of_what_was_fetched, ...]: the download is the program
    program = call.program
    interpreter, _, module = program.partition(" -m ")
    if module:
        # `python -m tool ARGS`: the module runs, fetched values are its arguments (a module
        # that runs, installs or loads what it is given, or one saved here, is not this)
        if not PYTHONS.match(interpreter) or MODULE_RUNNERS.match(module):
            return None
        return None if _saved_to(facts, module.split(".")[0] + ".py") else f"{module} (python -m)"
    if not re.fullmatch(r"[\w.+-]+", program) or LAUNCHERS.match(program) or RUNNERS.match(program):
        return None
    if RUNNER_NAME.search(program) or _saved_to(facts, program):
        return None
    return program


def _saved_to(facts: ModuleFacts, name: str) -> bool:
    """The module downloads or writes a file of that name (``urlretrieve(url, name)``,
    ``open(name, "wb")``)."""
    return any(
        (c.name.endswith(DOWNLOAD_TO_FILE) or c.name in OPEN_CALLS)
        and any(a is not None and file_name(a) == name for a in c.args)
        for c in facts.calls
    )


def _given_as_input(run: CallFact, write: CallFact, text: str) -> bool:
    """``run`` hands the file ``write`` wrote to another program, one that is not an interpreter,
    a launcher or a runner of what it is given (``[encoder, "-i", tmp.name, "-o", out]``,
    ``path.write_bytes(proto)`` then ``["protoc", os.fspath(path), ...]``): the file is that
    tool's input.
    ``text`` is the file's source (a call's excerpt is cut short)."""
    handle = re.match(r"\s*([A-Za-z_][\w.]*)\.write(?:lines|_bytes|_text)?\(", write.text)
    if handle is None or run.name not in PROCESS:
        return False
    lines = code_lines(text)
    source = "\n".join(lines[run.line - 1 : run.line + 20])
    names = [handle.group(1)]
    before = "\n".join(lines[max(0, write.line - 30) : write.line])
    opened = _opened_as(names[0], before)
    if opened:
        names.append(opened)  # with open(config_file, "w") as f: f.write(...); [tool, config_file]
    items = re.match(r"[^(]*\(\s*\[([^\]]*)\]", source)
    if items is None:
        command = _shell_template(run, lines)
        if command is None:
            return False
        # a shell command of one tool (no second command, no substitution): its words
        parts = command.split()
    else:
        parts = [p.strip().strip("'\"") for p in items.group(1).split(",") if p.strip()]
    # the handle, or the path written to, as an item or inside one (``os.fspath(path)``)
    word = "|".join(re.escape(n) for n in names)
    mentions = [i for i, p in enumerate(parts) if re.search(rf"(?<![\w.])(?:{word})\b", p)]
    program = parts[0] if parts else ""
    tool = program.rsplit("/", 1)[-1]
    return (
        bool(mentions)
        and 0 not in mentions
        and not LAUNCHERS.match(tool)
        and not RUNNERS.match(tool)  # java -jar FILE, npm install FILE
        and not RUNNER_NAME.search(tool)  # [find_pythonw, path]
        and not run.program_labels & PROGRAM_LABELS  # a hidden program: [b64decode(...), path]
    )


# what joins or nests commands in a shell line: then more than one program runs
SHELL_CONTROL = re.compile(r"[;&|`\n<>]|\$\(")


def _shell_template(run: CallFact, lines: list[str]) -> str | None:
    """The command line a shell call (``os.system``, ``os.popen``, ``shell=True``) runs when it
    is written on one line as a (formatted) string, given directly or through a name assigned
    just before (``command = f'ipynb-py-convert "{src}" "{out}"'``), with its quotes dropped;
    None when it is not, or when it joins commands, redirects or substitutes one."""
    if run.name not in ("os.system", "os.popen") and not _shell_kwarg(run):
        return None
    call = re.escape(run.name.rpartition(".")[2]) + r"\(\s*"
    m = re.search(call + r"([A-Za-z_]\w*)\s*[,)]", run.text)
    literal = r"""[rf]{0,2}(['"])(.*)\1"""
    if m is None:
        written = re.search(call + rf"{literal}\s*[,)]", run.text)
    else:
        assigned = re.compile(rf"\s*{re.escape(m.group(1))}\s*=\s*{literal}\s*$")
        earlier = lines[max(0, run.line - 6) : run.line - 1]
        written = next((a for a in map(assigned.match, reversed(earlier)) if a), None)
    if written is None:
        return None
    command = written.group(2).replace('"', " ").replace("'", " ")
    words = command.split()
    if SHELL_CONTROL.search(command) or not words or not re.fullmatch(r"[\w.+-]+", words[0]):
        return None  # (the program is written in it, not formatted in: ``f"{tool} {path}"``)
    return command


def _opened_as(handle: str, text: str) -> str:
    """The name of the path a file handle was last opened on in ``text`` (``with open(path,
    "w") as handle``, ``handle = open(path, "wb")``), else ""."""
    h = re.escape(handle)
    found = re.findall(
        rf"open\(\s*([A-Za-z_][\w.]*)\s*[,)][^\n]*?\bas\s+{h}\b|"
        rf"(?<![\w.]){h}\s*=\s*(?:io\.)?open\(\s*([A-Za-z_][\w.]*)\s*[,)]",
        text,
    )
    return next((a or b for a, b in reversed(found)), "")


# what a written file may hold that makes it a dropped payload (handed data only when run)
DROPPED = frozenset({"decoded", "download", DECODED_PARAM})


def _runs_after(facts: ModuleFacts, write: CallFact, text: str) -> bool:
    """The function that wrote a file runs something after it (the file, as far as a reader
    can tell), not a tool given the file as its input, nor in another arm of an ``if`` chain
    than the write's. ``text`` is the file's source."""
    return any(
        c.name in EXEC_SINKS
        and c.func == write.func
        and c.line >= write.line
        and not c.excludes(write)
        and not _handles_data(c)
        and not _given_as_input(c, write, text)
        for c in facts.calls
    )


def _opens_program(calls: list[CallFact], func: str | None) -> bool:
    """The function opens a file named as a program (``open(dir + "update.exe", "wb")``)."""
    return any(
        c.name in OPEN_CALLS
        and c.func == func
        and EXECUTABLE_NAME.search(" ".join([c.text, c.args[0] or "" if c.args else ""]))
        for c in calls
    )


# file formats that hold data a program reads, never code anything runs by opening them
# (not pickles, torch checkpoints, archives or notebooks: loading or unpacking those may run code)
DATA_FILE = re.compile(
    r"\.(csv|tsv|json|jsonl|ndjson|xml|ya?ml|txt|md|html?|pdf|png|jpe?g|gif|svg|webp|bmp|tiff?|"
    r"ico|mp3|mp4|wav|flac|ogg|xlsx?|docx|pptx|od[st]|parquet|feather|arrow|h5|hdf5|nc|npy|"
    r"fa(sta)?|fastq|gff3?|gtf|bed|vcf|safetensors|onnx|gguf)$",
    re.I,
)


def _opens_data_file(calls: list[CallFact], func: str | None) -> bool:
    """Every file the function opens for writing has a constant name in a data format
    (``open(os.path.join(cache, "markers.xlsx"), "wb")``), and it opens at least one."""
    names = [
        c.opened_name for c in calls if c.name in OPEN_CALLS and c.func == func and _write_mode(c)
    ]
    return bool(names) and all(DATA_FILE.search(n) for n in names)


def _write_mode(call: CallFact) -> bool:
    """An ``open`` call whose constant mode writes (``"wb"``, ``mode="a"``)."""
    mode = dict(call.kwargs).get("mode") or (call.args[1] if len(call.args) > 1 else None)
    return bool(mode) and any(c in mode for c in "wax+")


def _executable_scopes(ctx: FileContext) -> set[str | None]:
    """The functions (None: module level) whose strings name a Windows program file: a write of
    downloaded or decoded content in one of them writes a program."""
    facts = ctx.facts
    assert facts is not None
    return {
        facts.string_scope.get(line, "?")
        for line, text in facts.strings
        if any(n in text.lower() for n in EXECUTABLE_NEEDLES) and EXECUTABLE_NAME.search(text)
    } - {"?"}


def _fetch_and_run(ctx: FileContext) -> list[Finding]:
    """A download and a process/exec call in the same function (or both at module level)."""
    assert ctx.facts is not None
    groups: dict[tuple[str | None, str], list] = {}
    for call in ctx.facts.calls:
        when = ctx.when(call)
        if (
            when == WHEN_CALL
            and call.name in PROCESS
            and _published_installer(command_text(call) or "")
        ):
            continue  # a vendor's install line, weighed on its own (check's SHELL_CHECKS)
        groups.setdefault((call.func, when), []).append(call)
    for (_func, when), calls in groups.items():
        fetch = next((c for c in calls if _fetches(c)), None)
        first = fetch.line if fetch else 0
        # importing a module by name runs what is installed, not what was fetched, unless the
        # same code writes what it fetched to a file (dropped where the import finds it)
        imports_fetched = any(
            (writes_file(c.name) and "download" in c.labels) or c.name.endswith(DOWNLOAD_TO_FILE)
            for c in calls
        )
        run = next(
            (
                c
                for c in calls
                if _runs(c)
                and c is not fetch
                and c.line >= first
                and (imports_fetched or c.name not in IMPORTS_BY_NAME)
            ),
            None,
        )
        if fetch is not None and run is not None and "download" not in run.labels:
            exe = ctx.find(EXECUTABLE_NAME, needles=EXECUTABLE_NEEDLES)
            return [
                finding(
                    "intent.download-execute",
                    "intent",
                    "high" if when != WHEN_CALL or exe else "medium",
                    ctx,
                    run.line,
                    f"Downloads something, then runs code or a program {WHEN_TEXT[when]}.",
                    fetch.text,
                )
            ]
    return []


IMPORTS_BY_NAME = frozenset({"importlib.import_module", "__import__"})


def _callers_url(facts: ModuleFacts, func: str | None) -> bool:
    """Every download of ``func`` fetches a URL that is neither written in the code (no
    constant, not even a constant start) nor built from anything labelled (decoded, read from
    the host), and no function of the module that calls ``func`` fetches or writes in a URL
    itself: the URL is the one its caller or user gives."""
    if func is None:
        return False
    fetches = [c for c in facts.calls if c.func == func and _fetches(c)]
    callers = {k for k, callees in facts.call_edges.items() if func in callees}
    fed = any(
        c.func in callers and (_fetches(c) or any(URL_HOST.match(a or "") for a in c.args))
        for c in facts.calls
    )
    return (
        bool(fetches)
        and not fed
        and all(
            c.args and c.args[0] is None and not c.first_arg_prefix and not c.labels
            for c in fetches
        )
    )


def _fetches(c: CallFact) -> bool:
    return is_download(c.name) or _fetch_command(c)


def _runs(c: CallFact) -> bool:
    """A call that runs code or a program (not unpickling, a network command or an unpacker)."""
    if c.name in EXEC_CODE_NAMES and c.labels and c.labels <= {"file"}:
        return False  # exec(open("pkg/version.py").read()): the project's own file
    if c.name in PROCESS and _builds(c) and not RUNS_PYTHON.search(c.text):
        return False  # make, cmake, a compiler, git...
    return (
        c.name in EXEC_SINKS
        and c.name not in DESERIALISERS  # unpickling fetched bytes needs a label link
        and not network_command(c)
        and not _handles_data(c)
    )


_FIRST_STRING = re.compile(r"""\(\s*[rbuf]{0,2}["']([^"'\n]{1,200})""", re.I)


def _builds(c: CallFact) -> bool:
    """A build or version-control command, also when its line is formatted (``"git -C %s
    checkout %s" % (...)``): the constant head of the command names the tool."""
    if is_build_command(c):
        return True
    head = c.first_arg_prefix
    if not head and command_text(c) is None:
        m = _FIRST_STRING.search(c.text)
        head = m.group(1) if m else ""
    return bool(head) and BUILD_TOOLS.match(head) is not None


RUNS_PYTHON = re.compile(r"\bpython[0-9.]*\b|sys\.executable", re.I)
EXEC_CODE_NAMES = frozenset({"exec", "eval", "compile", "execfile"})


def _fetch_and_run_by_helpers(ctx: FileContext) -> list[Finding]:
    """Code that runs on import or install calls one local helper that downloads and another
    that runs a program: ``download(url, path)`` then ``execute(path)``."""
    facts = ctx.facts
    assert facts is not None
    # a helper that downloads to disk (a write or urlretrieve next to the fetch), and one that
    # starts a process or executes code (not an import: plugin loaders import by name)
    writers = {
        c.func for c in facts.calls if writes_file(c.name) or c.name.endswith(DOWNLOAD_TO_FILE)
    }
    fetchers = {c.func for c in facts.calls if _fetches(c)} & writers
    runners = {
        c.func: c
        for c in facts.calls
        if _runs(c) and (c.name in PROCESS or c.name in EXEC_CODE_NAMES)
    }
    if not fetchers or not runners:
        return []
    for scope in (None, *sorted(facts.run_on_load)):
        if scope is not None and scope not in facts.call_edges:
            continue
        reach = _called_from(facts.call_edges, scope)
        if len(reach) > 200:
            continue
        fetch_in = reach & fetchers
        run_in = [runners[f] for f in sorted(reach & set(runners), key=str) if f not in fetch_in]
        if fetch_in and run_in:
            run = run_in[0]
            when = ctx.when(run)
            if when == WHEN_CALL:
                continue
            return [
                finding(
                    "intent.download-execute",
                    "intent",
                    "high",
                    ctx,
                    run.line,
                    f"Downloads something, then runs a program through helpers {WHEN_TEXT[when]}.",
                    run.text,
                )
            ]
    return []


def _reverse_shell(ctx: FileContext) -> list[Finding]:
    """A socket wired to a shell in one function (or at module level): the socket's descriptors
    duplicated onto stdin/stdout (dup2) and a shell started, or a shell process fed from it."""
    assert ctx.facts is not None
    groups: dict[str | None, list[CallFact]] = {}
    for c in ctx.facts.calls:
        groups.setdefault(c.func, []).append(c)
    for calls in groups.values():
        if not any(_network_socket(c) for c in calls):
            continue
        shells = (c for c in calls if c.name in SHELL_SPAWN and SHELLS.search(c.text))
        spawn = next(shells, None)
        dup = any(c.name == "os.dup2" for c in calls)
        if spawn is None or not (dup or "stdin" in spawn.text):
            continue
        when = ctx.when(spawn)
        return [
            finding(
                "intent.reverse-shell",
                "intent",
                _serious(when),
                ctx,
                spawn.line,
                f"Connects a shell to a network socket (remote control) {WHEN_TEXT[when]}.",
                spawn.text,
            )
        ]
    return []


def _network_socket(call: CallFact) -> bool:
    """A socket that can reach another host: not ``socketpair()`` (two ends in this machine,
    how a supervisor talks to its child) nor ``socket(fileno=n)`` (a descriptor inherited)."""
    if call.name == "socket.create_connection":
        return True
    return call.name == "socket.socket" and not any(k == "fileno" for k, _ in call.kwargs)


DELETERS = frozenset({"os.remove", "os.unlink", "shutil.rmtree", "pathlib.Path.unlink"})
# the code's own file: __file__ (absolute or its folder), or the script that was started;
# ``under`` when a path below it is built from it (``join(dirname(__file__), "build")``)
OWN_FILE = re.compile(
    r"\(\s*(?:(?:os\.path\.)?(?:abspath|realpath|dirname)\(\s*)*(?:__file__|sys\.argv\[0\])"
    r"(?:\s*\))*(?P<under>\s*[,/+]|\.parent\s*/|\.(?:parent\.)*joinpath\()?"
)
# a file of code named beside it (``join(dirname(__file__), "loader.py")``)
CODE_NAME = re.compile(r"""["'][^"']*\.(?:pyc?|pyw|exe|dll|so|bat|cmd|ps1|sh|vbs|js)["']""", re.I)


def _deletes_own_code(text: str) -> bool:
    """A deleting call's text removes the code's own file or folder, or a file of code beside
    it; a folder or data file below its own folder (setup.py purging ``build/``, a cache file
    next to a module) is not its code."""
    for m in OWN_FILE.finditer(text):
        if m.group("under") is None or CODE_NAME.search(text, m.end()):
            return True
    return False


def _self_delete(ctx: FileContext) -> list[Finding]:
    """Code that deletes its own file (or folder) as it runs: covering its tracks, so that what
    ran cannot be read afterwards. Honest modules never remove themselves."""
    assert ctx.facts is not None
    for call in ctx.facts.calls:
        if call.name in DELETERS and _deletes_own_code(call.text):
            when = ctx.when(call)
            return [
                finding(
                    "intent.self-delete",
                    "intent",
                    _milder(when),
                    ctx,
                    call.line,
                    f"Deletes its own code {WHEN_TEXT[when]} (covers its tracks).",
                    call.text,
                )
            ]
    return []


SHELL_SPAWN = PROCESS | {"pty.spawn"}
SHELLS = re.compile(r"""["'](cmd(\.exe)?|/bin/(ba|z)?sh|(ba|z)?sh|powershell(\.exe)?)["']""", re.I)


def _exfil_severity(when: str, call: CallFact) -> str | None:
    labels = call.labels
    if when != WHEN_CALL:
        return "critical"
    if "env-dump" in labels or "wallet-secret" in labels:
        return "high"
    # Host identity sent only when called is still worth a warning when the destination is
    # hidden (decoded) or written into the code as someone's host: the user does not choose it.
    # (Decoded data sent to where the caller asks is a protocol's: an NTLM handshake.)
    if "fingerprint" in labels and ("decoded" in call.target_labels or _fixed_host(call)):
        return "high"
    # An API client sending a token from the environment, or a user agent with the platform,
    # is ordinary when it only happens on request.
    return None


def _quiet_credential_send(call: CallFact) -> bool:
    """Credentials (a value named as one, or read from the environment) sent fire-and-forget
    (result thrown away, every error swallowed) to a fixed or hidden destination: honest clients
    authenticate with a credential and read the answer; a thief only needs the request out."""
    if not call.quiet or not call.labels & (SECRET_LABELS | {CREDENTIAL_LABEL}):
        return False
    return bool(call.labels & {"decoded", DECIPHERED}) or _fixed_host(call)


ANY_URL = re.compile(r"\b(?:https?|wss?|ftp)://([^/:?#\s'\"{}]+)", re.I)
# a socket address written as a tuple: sock.connect(("127.0.0.1", port))
SOCKET_ADDRESS = re.compile(r"""\(\s*\(?\s*['"]([^'"\s]{1,253})['"]\s*,""")


def _loopback_only(call: CallFact, facts: ModuleFacts) -> bool:
    """Every address written in the call is this machine's own (``http://localhost:{port}``,
    ``sock.connect(("127.0.0.1", port))``), or the address it is given starts so
    (``url = f"http://127.0.0.1:{port}"``, then ``urlopen(_request(f"{url}/healthz"))``): a
    client of a local service sends nothing off the host, whatever settings built the URL."""
    hosts = [m.group(1) for m in ANY_URL.finditer(call.text)]
    hosts += [m.group(1) for m in SOCKET_ADDRESS.finditer(call.text)]
    if hosts:
        return all(LOOPBACK.fullmatch(h) for h in hosts)
    return loopback_address(call.address) and (
        not call.address_via or call.address_via in facts.request_helpers
    )


URL_HOST = re.compile(r"^\s*(?:https?|ftp|wss?)://([^/:?#\s'\"]+)", re.I)
NOT_THIRD_PARTY = re.compile(
    r"(^localhost$|^127\.|^0\.0\.0\.0$|^\[?::1\]?$|(^|\.)example\.(com|org|net)$|\.local$|"
    r"\.test$|\.invalid$|\.localhost$|^\{|^%)",
    re.I,
)


def _fixed_host(call: CallFact) -> bool:
    """The call's destination is a URL (or, for a name lookup, a host name) written into the
    code, not configured by the user."""
    candidates = [call.args[0] if call.args else None, call.first_arg_prefix]
    candidates += [v for k, v in call.kwargs if k in ("url", "host", "address")]
    for text in candidates:
        m = URL_HOST.match(text or "")
        if m and not NOT_THIRD_PARTY.search(m.group(1)):
            return True
    if call.name in NAME_LOOKUPS and call.args and call.args[0]:
        host = call.args[0]
        return HOST_NAME.fullmatch(host) is not None and not NOT_THIRD_PARTY.search(host)
    return False


NAME_LOOKUPS = frozenset(
    {
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.getaddrinfo",
        "dns.resolver.resolve",
        "dns.resolver.query",
    }
)
HOST_NAME = re.compile(r"(?:[\w-]{1,63}\.){1,10}[a-z]{2,24}", re.I)


# Command lines that reach the network: curl, wget, DNS look-ups, package installers
NETWORK_COMMAND = re.compile(
    r"(^|[\s;&|('\"/])(curl|wget|nslookup|dig|host|ping|nc|ncat|Invoke-WebRequest|iwr|"
    r"certutil|bitsadmin)(\.exe)?\b|\bpip[0-9.]*\s+install\b",
    re.I,
)
PACKAGE_INSTALL = re.compile(
    r"\bpip[0-9.]*(\.exe)?['\"]?,?\s+['\"]?install\b[^\n]{0,120}|"
    r"-m['\"]?,?\s+['\"]?pip['\"]?,?\s+['\"]?install\b[^\n]{0,120}",
    re.I,
)


# where a package installer is sent for code other than the user's index: a URL, a VCS, a
# local archive, another index or a trusted (unverified) host
PACKAGE_SOURCE = re.compile(
    r"https?://|\b(git|hg|svn|bzr)\+|\.(whl|zip|tar\.gz|tgz|egg)\b|"
    r"--(extra-)?index-url\b|--find-links\b|--trusted-host\b|(^|[\s'\"])-[if]['\"]?[\s,]",
    re.I,
)


FETCH_COMMAND = re.compile(
    r"\b(curl|wget|Invoke-WebRequest|iwr|bitsadmin|certutil)\b|\bgit\s+clone\b", re.I
)


def _fetch_command(call: CallFact) -> bool:
    """A process call that downloads (curl, wget, git clone...)."""
    return call.name in PROCESS and FETCH_COMMAND.search(command_head(call)) is not None


def network_command(call: CallFact) -> bool:
    """A process call whose command line reaches the network (curl, wget, dig, pip install)."""
    if call.name not in PROCESS:
        return False
    return NETWORK_COMMAND.search(command_head(call)) is not None


def _shell_text(ctx: FileContext) -> list[Finding]:
    """Shell-style attacks in scripts and in Python that did not parse."""
    for lineno, m in ctx.find(SHELL_ATTACK, needles=SHELL_NEEDLES, begins=SHELL_BEGINS):
        if m:
            # scripts shipped in a project (docs builds, CI) are not run by installing it,
            # unless setup.py names them (its build script)
            shipped = ctx.role == ROLE_SCRIPT and not ctx.run_by_setup
            sev = "medium" if shipped else _serious(ctx.file_when)
            return [
                finding(
                    "intent.shell-download-execute",
                    "intent",
                    sev,
                    ctx,
                    lineno,
                    "Runs a shell command that fetches or hides code.",
                    m.group(0),
                )
            ]
    for lineno, m in ctx.find(STRONG_CREDENTIALS, needles=STRONG_NEEDLES):
        if m:
            return [
                finding(
                    "capability.credential-path",
                    "credentials",
                    "medium",
                    ctx,
                    lineno,
                    "Names a credential store (browser secrets, tokens, wallets).",
                    m.group(0),
                )
            ]
    return []
