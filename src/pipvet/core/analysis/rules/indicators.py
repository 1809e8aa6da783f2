"""Indicators: where code talks to, when the destination itself is a warning sign.

Messenger webhooks (Discord, Telegram), paste and file-drop sites, tunnels and out-of-band callback
services (used by dependency-confusion probes), ``.onion`` hosts and URLs with raw public IPs.
Strings in docstrings are not evidence (DataDog/guarddog#630), so Python is read from its facts.
"""

from __future__ import annotations

import ipaddress
import re

from pipvet.core.analysis.facts.python_ast import SINK_BUILTINS
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import (
    WHEN_CALL,
    WHEN_IMPORT,
    WHEN_INSTALL,
    WHEN_STARTUP,
    FileContext,
    finding,
)
from pipvet.core.analysis.rules.capabilities import (
    CREDENTIAL_NEEDLES,
    CREDENTIAL_PATHS,
    PROCESS,
    is_network,
)
from pipvet.core.analysis.rules.intent import network_command

WEBHOOK = re.compile(
    r"(?<![\w-])(discord(?:app)?\.com/api/webhooks/|api\.telegram\.org/bot|"
    r"hooks\.slack\.com/services/)",
    re.I,
)
# A webhook with its id and token written into the code: someone else's channel, baked in.
# (A library that posts to the user's own bot, like tqdm.contrib.telegram, formats the token in.)
HARDCODED_WEBHOOK = re.compile(
    r"(?<![\w-])(discord(?:app)?\.com/api/webhooks/\d{6,}/[\w-]{20,}|"
    r"api\.telegram\.org/bot\d{6,}:[\w-]{20,}|hooks\.slack\.com/services/T\w+/B\w+/\w{10,})",
    re.I,
)
# Documentation placeholders: ids of zeros, tokens of one repeated character (XXXX..., 0000...).
PLACEHOLDER_WEBHOOK = re.compile(r"/(T0+|0{6,})/|/(\w)\2{9,}\b|bot0+:|your|example|token", re.I)
# A Telegram bot token (bot id, a colon, the secret) kept as a string of its own: the code posts
# to a channel written into it even when the URL is built from a variable. Documentation's
# example tokens have short ids (``123456:ABC-DEF...``).
BOT_TOKEN = re.compile(r"\d{8,12}:[A-Za-z0-9_-]{34,}")
INSTALL_ONLY = frozenset(
    {"indicator.cloud-metadata", "indicator.messenger-webhook", "indicator.executable-url"}
)
PASTE = re.compile(
    r"\b(pastebin\.com|paste\.ee|hastebin\.com|rentry\.(co|org)|ghostbin\.|transfer\.sh|"
    r"anonfiles\.com|file\.io|gofile\.io|bashupload\.com|temp\.sh|termbin\.com|"
    r"cdn\.discordapp\.com/attachments|controlc\.com|dpaste\.|paste\.c-net\.org|"
    r"raw\.githubusercontent\.com/[^\s'\"]{1,2048}\.(exe|bat|ps1|vbs|scr))",
    re.I,
)
TUNNEL = re.compile(
    r"\b(?:[\w-]{1,63}\.){0,8}(ngrok\.io|ngrok-free\.app|ngrok\.app|trycloudflare\.com|serveo\.net|loca\.lt|"
    r"localhost\.run|pipedream\.net|m\.pipedream\.net|burpcollaborator\.net|oastify\.com|"
    r"interact\.sh|oast\.(fun|live|me|online|pro|site)|requestbin\.(net|com)|webhook\.site|"
    r"canarytokens\.com|dnslog\.cn|ceye\.io|beeceptor\.com|requestcatcher\.com|"
    r"herokuapp\.com|repl\.co|glitch\.me|000webhostapp\.com|portmap\.io|bore\.pub)\b",
    re.I,
)
MINER = re.compile(
    r"(stratum\+(tcp|ssl)://|\bxmrig\b|--donate-level|\bnicehash\b|minexmr|nanopool\.org|"
    r"supportxmr|moneroocean|\bdero1q[0-9a-z]{20,})",
    re.I,
)
EXE_URL = re.compile(r"\bhttps?://[^\s'\"]{1,2048}\.(exe|scr|msi|vbs|hta|ps1|bat|dll)\b", re.I)
CLOUD_METADATA = re.compile(
    r"\b(169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200)\b"
)
ONION = re.compile(r"\b[a-z2-7]{16,56}\.onion\b", re.I)
TOR_ROUTE = re.compile(
    r"socks5h?://|socks4a?://|:9050\b|:9150\b|\b(?:torpy|stem\.control|TorController|torrequest)\b",
    re.I,
)
IP_URL = re.compile(r"\b(?:https?|ftp|tcp)://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?", re.I)


def _public_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global


WEBHOOK_NEEDLES = ("webhooks", "telegram", "hooks.slack")
TUNNEL_NEEDLES = tuple(
    [
        "ngrok",
        "trycloudflare",
        "serveo",
        "loca.lt",
        "localhost.run",
        "pipedream",
        "burpcollaborator",
        "oastify",
        "interact.sh",
        "oast.",
        "requestbin",
        "webhook.site",
        "canarytokens",
        "dnslog",
        "ceye.io",
        "beeceptor",
        "requestcatcher",
        "herokuapp",
        "repl.co",
        "glitch.me",
        "000webhostapp",
        "portmap",
        "bore.pub",
    ]
)
PASTE_NEEDLES = tuple(
    [
        "paste",
        "hastebin",
        "rentry",
        "ghostbin",
        "transfer.sh",
        "anonfiles",
        "file.io",
        "gofile",
        "bashupload",
        "temp.sh",
        "termbin",
        "discordapp",
        "controlc",
        "raw.githubusercontent",
    ]
)
SPECS = (
    (
        WEBHOOK,
        WEBHOOK_NEEDLES,
        "indicator.messenger-webhook",
        "high",
        "medium",
        "Posts to a Discord, Telegram or Slack webhook: a common exfiltration channel.",
    ),
    (
        TUNNEL,
        TUNNEL_NEEDLES,
        "indicator.tunnel-or-callback",
        "high",
        "medium",
        "Talks to a tunnel or callback service used to receive stolen data.",
    ),
    (
        PASTE,
        PASTE_NEEDLES,
        "indicator.paste-site",
        "medium",
        "medium",
        "Fetches from or posts to a paste or file-drop site.",
    ),
    (
        CLOUD_METADATA,
        ("169.254.169.254", "metadata.google.internal", "100.100.100.200"),
        "indicator.cloud-metadata",
        "high",
        "low",
        "Queries the cloud instance metadata service, where machine credentials live.",
    ),
    (ONION, (".onion",), "indicator.onion", "medium", "medium", "Names a Tor .onion host."),
    (
        MINER,
        ("stratum", "xmrig", "donate", "nicehash", "minexmr", "nanopool", "xmr", "dero1q"),
        "indicator.cryptominer",
        "high",
        "high",
        "Names a crypto-mining pool or miner.",
    ),
    (
        EXE_URL,
        (".exe", ".scr", ".msi", ".vbs", ".hta", ".ps1", ".bat", ".dll"),
        "indicator.executable-url",
        "high",
        "medium",
        "Downloads a Windows executable or script.",
    ),
)


def _fetched_here(ctx: FileContext, line: int | None) -> bool:
    """True when the function (or module level) holding ``line`` also makes a network call."""
    if ctx.facts is None:
        return False
    scope = ctx.facts.string_scope.get(line or 0, "?")
    return any(c.func == scope and is_network(c.name) for c in ctx.facts.calls)


def check(ctx: FileContext) -> list[Finding]:
    out: list[Finding] = []
    early = ctx.file_when != WHEN_CALL
    install = ctx.file_when in (WHEN_INSTALL, WHEN_STARTUP)
    for pattern, needles, rule, sev_early, sev_late, message in SPECS:
        for line, m in _named(ctx, pattern, needles):
            sev = sev_early if early else sev_late
            if _in_pattern(m):
                # a regular expression that looks for the name (a scanner's or a filter's rule)
                out.append(finding(rule, "indicator", "low", ctx, line, DETECTOR, m.group(0)))
                continue
            if rule in INSTALL_ONLY and not install:
                sev = sev_late  # SDKs use these endpoints; only install-time use is alarming
            if rule == "indicator.messenger-webhook":
                baked = HARDCODED_WEBHOOK.finditer(m.string)
                token = "telegram" in m.group(0).lower() and _bot_token_written(ctx)
                if token or any(not PLACEHOLDER_WEBHOOK.search(b.group(0)) for b in baked):
                    sev = "high"
            if rule == "indicator.onion" and (
                _fetched_here(ctx, line) or TOR_ROUTE.search(ctx.text)
            ):
                # reached: the code holding it talks to the network, or the file routes through
                # Tor (a SOCKS proxy, Tor's ports, a Tor library); a site's onion mirror listed
                # as data (a downloader's supported addresses) is only a name
                sev = "high"
            if (
                rule == "indicator.executable-url"
                and early
                and _fetched_here(ctx, line)
                and (install or _runs_on_load(ctx, line) or _file_drop(m.group(0)))
            ):
                # the code holding the URL also downloads, at install, on import, or from a
                # paste or file-drop site or a bare IP: it fetches a program (one a function
                # fetches when asked from a project's own releases is judged below)
                sev = "high"
            elif (
                rule in REACHED_ON_LOAD
                and ctx.file_when == WHEN_IMPORT
                and not _contacted_on_load(ctx, line)
                and not _names_secrets(ctx)
            ):
                # in a module, such an address is alarming when loading it contacts the network
                # (a beacon on import) or beside the places secrets are kept (where to take them
                # from, where to send them); a service the package's functions call when asked
                # (a telemetry endpoint, an installer's download link) is worth a look, not a block
                sev = sev_late
            out.append(finding(rule, "indicator", sev, ctx, line, message, m.group(0)))
    for line, m in ctx.find(IP_URL, limit=20, needles=("://",)):
        if _public_ip(m.group(1)):
            if _contacted_on_load(ctx, line):
                sev, message = "high", "Contacts a hard-coded public IP address on import."
            else:
                sev = "medium"
                message = "Connects to a hard-coded public IP address instead of a host name."
            rule = "indicator.raw-ip-url"
            out.append(finding(rule, "indicator", sev, ctx, line, message, m.group(0)))
            break
    return out


# syntax only a regular expression has (never a path or a command line): a group flag, an
# escaped dot inside a name, a repeated class
REGEX_SYNTAX = re.compile(r"\(\?[:!=<]|\w\\\.\w|\\[dswDSW][+*?{]|\[[^\]\s]{1,40}\][+*?{]")
DETECTOR = "Names it only in a regular expression that looks for it (a detector's rule)."


def _in_pattern(m: re.Match) -> bool:
    """The match sits in a string written as a regular expression (``r"\\b(?:xmrig|miner)"``)."""
    blob = m.string
    start = blob.rfind("\n", 0, m.start()) + 1
    end = blob.find("\n", m.end())
    return REGEX_SYNTAX.search(blob, start, end if end >= 0 else len(blob)) is not None


def _named(ctx: FileContext, pattern: re.Pattern[str], needles: tuple[str, ...]) -> list:
    """The first match of ``pattern`` in the file's strings outside a regular expression, else
    the first one inside one (at most a few looked at)."""
    found = ctx.find(pattern, needles=needles)
    if not found or not _in_pattern(found[0][1]):
        return found
    more = ctx.find(pattern, limit=16, needles=needles)
    return [next((f for f in more if not _in_pattern(f[1])), found[0])]


def _bot_token_written(ctx: FileContext) -> bool:
    """The file holds a Telegram bot token as a string of its own (not a placeholder)."""
    texts = [t for _, t in ctx.facts.strings] if ctx.facts is not None else ctx.text.split()
    return any(
        BOT_TOKEN.fullmatch(t.strip(" '\"")) and not PLACEHOLDER_WEBHOOK.search(t)
        for t in texts
        if ":" in t and len(t) < 120
    )


# file-sharing services whose links are a person's upload, not a project's release
FILE_SHARE = re.compile(
    r"(dropbox\.com/(s|scl)/|dropboxusercontent\.com|mediafire\.com|mega\.nz|"
    r"drive\.google\.com|docs\.google\.com/uc|1drv\.ms|onedrive\.live\.com|sendspace\.com|"
    r"catbox\.moe|pixeldrain\.com|anonfile|bayfiles|filebin\.net|uploadfiles\.io|"
    r"workupload\.com|krakenfiles\.com|cdn\.discordapp\.com|media\.discordapp\.net)",
    re.I,
)


def _file_drop(url: str) -> bool:
    """A link on a paste or file-sharing site (``cdn.discordapp.com/attachments``, a Dropbox
    share) or a bare IP: someone's upload, not a project's release."""
    if PASTE.search(url) is not None or FILE_SHARE.search(url) is not None:
        return True
    ip = IP_URL.search(url)
    return ip is not None and _public_ip(ip.group(1))


def _runs_on_load(ctx: FileContext, line: int | None) -> bool:
    """The string at ``line`` sits in code that runs on import (or install): module level or a
    function module-level code calls."""
    facts = ctx.facts
    if facts is None or ctx.file_when == WHEN_CALL:
        return False
    scope = facts.string_scope.get(line or 0, "?")
    return scope != "?" and (scope is None or scope in facts.run_on_load)


def _contacted_on_load(ctx: FileContext, line: int | None) -> bool:
    """The string at ``line`` sits in code that runs on import (or install), in a file whose
    network calls run then too: honest packages do not phone a bare IP address while loading."""
    facts = ctx.facts
    if facts is None or not _runs_on_load(ctx, line):
        return False
    return any(
        (is_network(c.name) or network_command(c)) and ctx.when(c) != WHEN_CALL for c in facts.calls
    )


def _names_secrets(ctx: FileContext) -> bool:
    """The file names a credential store (``capability.credential-path``'s paths) and handles
    files, processes or the network, or runs code it builds (which may do any of those): a table
    of names that does none of it (an attack tool's settings, its payload strings holding
    ``/etc/passwd``) takes nothing from anywhere."""
    if not ctx.find_paths(CREDENTIAL_PATHS, needles=CREDENTIAL_NEEDLES):
        return False
    facts = ctx.facts
    return facts is None or any(_takes_or_sends(c.name) for c in facts.calls)


# calls that read, copy, list or pack files (the last part of a call's name)
FILE_HANDLING = frozenset(
    {"open", "read_text", "read_bytes", "copy", "copy2", "copyfile", "copytree", "listdir"}
    | {"scandir", "walk", "glob", "iglob", "rglob", "iterdir", "ZipFile", "make_archive"}
)


def _takes_or_sends(name: str) -> bool:
    return (
        is_network(name)
        or name in PROCESS
        or name in SINK_BUILTINS
        or name.rpartition(".")[2] in FILE_HANDLING
    )


# addresses that block in a module only when loading it contacts the network (see ``check``)
REACHED_ON_LOAD = frozenset({"indicator.tunnel-or-callback", "indicator.executable-url"})
