"""``pipvet serve``: the package firewall's settings, its run, and its decisions log.

``prepare`` checks the arguments and the policy and returns a frozen ``ServeConfig``;
``run`` serves until stopped (the server itself is ``pipvet.serve.app``, which imports aiohttp:
only this command pays for it) and returns the exit code (0 on SIGTERM, 130 on Ctrl-C);
``decisions`` reads the log that every decision is appended to.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipvet.core.errors import UsageError
from pipvet.core.models import DEFAULT_INDEX_URL

DEFAULT_CACHE_MAX_GB = 10.0


@dataclass(frozen=True)
class ServeConfig:
    upstream: str
    host: str
    port: int
    policy_dir: Path  # where pipvet.toml / pyproject.toml are read (as for pipvet install)
    policy_sources: tuple[str, ...]
    min_release_age: float | None  # None: the policy's
    effective_min_release_age: float | None
    db_path: Path | None
    cache_dir: Path  # verified files, temporary downloads
    cache_max_bytes: int  # verified files kept at most (the least recently served go first)
    decisions_path: Path
    jobs: int
    timeout: float
    exposed: bool  # listening beyond loopback
    other_indexes: tuple[tuple[str, str], ...]  # indexes pip's or uv's config name besides


@dataclass(frozen=True)
class DecisionsReport:
    path: Path
    records: tuple[dict, ...]
    unreadable: int


def prepare(
    *,
    upstream: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    min_release_age: float | None = None,
    db_path: Path | None = None,
    jobs: int | None = None,
    timeout: float = 30.0,
    policy_dir: Path | None = None,
    cache_max_gb: float | None = None,  # None: DEFAULT_CACHE_MAX_GB
) -> ServeConfig:
    """The settings of one server; a wrong argument or policy is a ``UsageError`` (exit 2)."""
    from pipvet import paths
    from pipvet.core.policy import load_policy
    from pipvet.serve.decisions import default_path
    from pipvet.services.gate import config_indexes

    start = Path(policy_dir or Path.cwd())
    policy = load_policy(start)
    url = upstream or policy.index_url or DEFAULT_INDEX_URL
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise UsageError(f"--upstream must be an http(s) index URL, not {url!r}")
    url = url if url.endswith("/") else url + "/"
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    if min_release_age is not None and min_release_age < 0:
        raise UsageError("--min-release-age must be a number of days (>= 0)")
    if timeout <= 0:
        raise UsageError("--timeout must be a number of seconds (> 0)")
    if cache_max_gb is None:
        cache_max_gb = DEFAULT_CACHE_MAX_GB
    if not cache_max_gb > 0:
        raise UsageError("--cache-max-gb must be a number of gigabytes (> 0)")
    if db_path is not None and not Path(db_path).is_file():
        raise UsageError(f"--db {db_path}: no such advisory index")
    mine = f"{host}:{port}"
    others = tuple((u, w) for u, w in config_indexes() if mine not in u)
    return ServeConfig(
        upstream=url,
        host=host,
        port=port,
        policy_dir=start,
        policy_sources=policy.sources,
        min_release_age=min_release_age,
        effective_min_release_age=(
            min_release_age if min_release_age is not None else policy.min_release_age_days
        ),
        db_path=Path(db_path) if db_path else None,
        cache_dir=paths.cache_dir() / "serve",
        cache_max_bytes=int(cache_max_gb * 1024**3),
        decisions_path=default_path(),
        jobs=jobs or max(1, min(2, os.cpu_count() or 1)),
        timeout=timeout,
        exposed=not _is_loopback(host),
        other_indexes=others,
    )


def run(
    config: ServeConfig, *, on_ready: Callable[[str], None], notify: Callable[[str], None]
) -> int:
    """Serve until stopped; the exit code (0 on SIGTERM, 130 on Ctrl-C)."""
    import asyncio

    from pipvet.serve.app import run as serve

    return asyncio.run(serve(config, on_ready=on_ready, notify=notify))


def decisions(limit: int | None = None, path: Path | None = None) -> DecisionsReport:
    from pipvet.serve.decisions import default_path, read

    where = path or default_path()
    records, bad = read(where, limit)
    return DecisionsReport(where, tuple(records), bad)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
