"""Text of ``pipvet serve``: the settings to use it (printed once listening) and the decisions
log (``pipvet serve --decisions``), everything from outside escaped for the terminal."""

from __future__ import annotations

from pipvet.core.text import escape_terminal as clean


def settings(config, url: str) -> str:
    """What to set so that pip, uv, poetry and pipx go through the firewall at ``url``."""
    age = config.effective_min_release_age
    policy = ", ".join(config.policy_sources) or "built-in defaults (no pipvet.toml found)"
    lines = [
        f"pipvet serve: package firewall on {url}",
        f"  upstream:          {config.upstream}",
        f"  policy:            {policy} (re-read on SIGHUP: kill -HUP {_pid()})",
        f"  min release age:   {f'{age:g} days' if age else 'none'}",
        f"  decisions log:     {config.decisions_path} (pipvet serve --decisions)",
        "",
        "Use it from this shell:",
        f"  export PIP_INDEX_URL={url}",
        f"  export UV_DEFAULT_INDEX={url}",
        f"  export UV_INDEX_URL={url}        # uv before 0.4.23",
        "  export PIP_TIMEOUT=120 UV_HTTP_TIMEOUT=120  # big files are inspected before sending",
        "",
        "or for every pip (~/.config/pip/pip.conf, or /etc/pip.conf for the whole machine):",
        "  [global]",
        f"  index-url = {url}",
        "  timeout = 120",
        "",
        "and every uv (~/.config/uv/uv.toml, or /etc/uv/uv.toml):",
        "  [[index]]",
        f'  url = "{url}"',
        "  default = true",
        "",
        "poetry (in the project):",
        f"  poetry source add --priority=primary pipvet {url}",
        f"pipx: PIP_INDEX_URL above applies (or pipx install --index-url {url} PKG)",
        "",
        "Ctrl-C stops the server.",
    ]
    return "\n".join(lines) + "\n"


def warnings(config) -> list[tuple[bool, str]]:
    """(loud, line): a loud line is the exposed address; the others are ordinary warnings."""
    out = []
    if config.exposed:
        out.append(
            (
                True,
                f"WARNING: listening on {config.host}, not loopback: ANY machine that can reach "
                "this address can use this firewall (no authentication); bind 127.0.0.1 unless "
                "you mean it",
            )
        )
    for url, where in config.other_indexes:
        out.append(
            (
                False,
                f"{clean(where)} names another index ({clean(url)}): pip or uv may fetch "
                "from it around the firewall; remove it",
            )
        )
    return out


def decisions(report) -> str:
    if not report.records:
        return f"no decisions logged yet ({report.path})\n"
    lines = []
    for r in report.records:
        kind = str(r.get("kind", ""))
        action = str(r.get("action", "")).upper()
        what = r.get("file") or r.get("project") or ""
        status = r.get("status")
        line = f"{r.get('time', '')}  {action:<8} {kind:<6} {what}"
        if status:
            line += f"  (HTTP {status})"
        reason = r.get("reason")
        if reason:
            line += f": {reason}"
        held = r.get("held_back")
        if isinstance(held, dict) and held:
            line += "; held back: " + "; ".join(f"{v}: {m}" for v, m in held.items())
        warns = r.get("warnings")
        if isinstance(warns, list) and warns:
            line += "; warnings: " + "; ".join(str(w) for w in warns)
        lines.append(clean(line))
    if report.unreadable:
        lines.append(f"({report.unreadable} unreadable line(s) skipped)")
    return "\n".join(lines) + "\n"


def _pid() -> int:
    import os

    return os.getpid()
