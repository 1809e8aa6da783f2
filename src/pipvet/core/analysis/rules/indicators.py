"""Indicators: where code talks to, when the destination itself is a warning sign.

Messenger webhooks (Discord, Telegram), paste and file-drop sites, tunnels and out-of-band callback
services (used by dependency-confusion probes), ``.onion`` hosts and URLs with raw public IPs.
Strings in docstrings are not evidence (DataDog/guarddog#630), so Python is read from its facts.
"""

from __future__ import annotations

import ipaddress
import re

from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import WHEN_CALL, FileContext, finding

WEBHOOK = re.compile(
    r"(discord(?:app)?\.com/api/webhooks/|api\.telegram\.org/bot|hooks\.slack\.com/services/)", re.I
)
PASTE = re.compile(
    r"\b(pastebin\.com|paste\.ee|hastebin\.com|rentry\.(co|org)|ghostbin\.|transfer\.sh|"
    r"anonfiles\.com|file\.io|gofile\.io|bashupload\.com|temp\.sh|termbin\.com|"
    r"cdn\.discordapp\.com/attachments|controlc\.com|dpaste\.|paste\.c-net\.org|"
    r"raw\.githubusercontent\.com/[^\s'\"]+\.(exe|bat|ps1|vbs|scr))",
    re.I,
)
TUNNEL = re.compile(
    r"\b([\w-]+\.)*(ngrok\.io|ngrok-free\.app|ngrok\.app|trycloudflare\.com|serveo\.net|loca\.lt|"
    r"localhost\.run|pipedream\.net|m\.pipedream\.net|burpcollaborator\.net|oastify\.com|"
    r"interact\.sh|oast\.(fun|live|me|online|pro|site)|requestbin\.(net|com)|webhook\.site|"
    r"canarytokens\.com|dnslog\.cn|ceye\.io|beeceptor\.com|requestcatcher\.com|"
    r"herokuapp\.com|repl\.co|glitch\.me|000webhostapp\.com|portmap\.io|bore\.pub)\b",
    re.I,
)
ONION = re.compile(r"\b[a-z2-7]{16,56}\.onion\b", re.I)
IP_URL = re.compile(r"\b(?:https?|ftp|tcp)://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?", re.I)


def _public_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global


def _texts(ctx: FileContext) -> list[tuple[int | None, str]]:
    if ctx.facts is not None:
        return [(line, s) for line, s in ctx.facts.strings if len(s) < 20000]
    return [(i, ln) for i, ln in enumerate(ctx.text.splitlines(), 1) if len(ln) < 20000]


def check(ctx: FileContext) -> list[Finding]:
    out: list[Finding] = []
    early = ctx.file_when != WHEN_CALL
    seen: set[str] = set()
    for line, text in _texts(ctx):
        if "webhook" not in seen and (m := WEBHOOK.search(text)):
            seen.add("webhook")
            out.append(
                finding(
                    "indicator.messenger-webhook",
                    "indicator",
                    "high",
                    ctx,
                    line,
                    "Posts to a Discord, Telegram or Slack webhook: a common exfiltration channel.",
                    m.group(0),
                )
            )
        if "tunnel" not in seen and (m := TUNNEL.search(text)):
            seen.add("tunnel")
            out.append(
                finding(
                    "indicator.tunnel-or-callback",
                    "indicator",
                    "high" if early else "medium",
                    ctx,
                    line,
                    "Talks to a tunnel or callback service used to receive stolen data.",
                    m.group(0),
                )
            )
        if "paste" not in seen and (m := PASTE.search(text)):
            seen.add("paste")
            out.append(
                finding(
                    "indicator.paste-site",
                    "indicator",
                    "medium",
                    ctx,
                    line,
                    "Fetches from or posts to a paste or file-drop site.",
                    m.group(0),
                )
            )
        if "onion" not in seen and (m := ONION.search(text)):
            seen.add("onion")
            out.append(
                finding(
                    "indicator.onion",
                    "indicator",
                    "high",
                    ctx,
                    line,
                    "Names a Tor .onion host.",
                    m.group(0),
                )
            )
        if "ip" not in seen and (m := IP_URL.search(text)) and _public_ip(m.group(1)):
            seen.add("ip")
            out.append(
                finding(
                    "indicator.raw-ip-url",
                    "indicator",
                    "medium",
                    ctx,
                    line,
                    "Connects to a hard-coded public IP address instead of a host name.",
                    m.group(0),
                )
            )
    return out
