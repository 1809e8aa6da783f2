"""``pipvet serve``: a local package firewall, so plain pip, uv, poetry and pipx are protected
(the work is ``pipvet.services.serve``; the server is ``pipvet.serve``)."""

from __future__ import annotations

import argparse

from pipvet.core.models import DEFAULT_INDEX_URL

DESCRIPTION = """Run a package index (PEP 503 HTML and PEP 691 JSON) in front of the upstream
index that lists only what the install gate lets through: typosquats, quarantined projects and
known malware are refused, versions younger than the policy's minimum release age are held
back, and every file is downloaded, checked against upstream's sha256 and inspected before it is
served. A refusal is an HTTP 403 whose reason pip and uv print. The policy is the one of pipvet
install (pipvet.toml, [tool.pipvet] in pyproject.toml, the user-level file), re-read on SIGHUP.
Every decision is logged: pipvet serve --decisions prints the log."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="run a local package firewall for pip, uv and poetry", description=DESCRIPTION
    )
    p.add_argument(
        "--upstream",
        metavar="URL",
        help=f"the index to guard (default: policy's, else {DEFAULT_INDEX_URL})",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; anything else is reachable by others)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free one)")
    p.add_argument(
        "--min-release-age",
        type=float,
        metavar="DAYS",
        help="hold back versions uploaded less than DAYS ago (default: the policy's)",
    )
    p.add_argument("--db", metavar="PATH", help="advisory index to read known malware from")
    p.add_argument("--jobs", type=int, metavar="N", help="inspection processes (default 2)")
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="upstream timeout (default 30 s)"
    )
    p.add_argument(
        "--cache-max-gb",
        type=float,
        metavar="GB",
        help="verified files kept for reuse, at most (default 10; the least recently served "
        "are deleted first)",
    )
    p.add_argument(
        "--decisions",
        action="store_true",
        help="print the log of decisions (allowed, blocked, why) and exit",
    )
    p.add_argument(
        "--limit", type=int, metavar="N", help="with --decisions: only the last N decisions"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from pipvet.cli import console
    from pipvet.formats import serve as fmt
    from pipvet.services import serve

    if args.decisions:
        sys.stdout.write(fmt.decisions(serve.decisions(limit=args.limit)))
        return 0
    config = serve.prepare(
        upstream=args.upstream,
        host=args.host,
        port=args.port,
        min_release_age=args.min_release_age,
        db_path=Path(args.db) if args.db else None,
        jobs=args.jobs,
        timeout=args.timeout,
        cache_max_gb=args.cache_max_gb,
    )
    for loud, line in fmt.warnings(config):
        if loud:
            sys.stderr.write(console.style(line, "bold", "red") + "\n")
        else:
            console.warn(line)

    def ready(url: str) -> None:
        sys.stdout.write(fmt.settings(config, url))
        sys.stdout.flush()

    return serve.run(config, on_ready=ready, notify=console.info)
