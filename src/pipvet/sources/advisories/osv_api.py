"""The OSV API (``--online``): ``POST /v1/querybatch`` then ``GET /v1/vulns/{id}``.

The base URL is ``--osv-url``, else ``PIPVET_OSV_URL``, else https://api.osv.dev. Every request has
a timeout; when the service cannot be reached ``OsvUnavailable`` says so in one line and the caller
carries on with the local index.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from pipvet import __version__
from pipvet.core.errors import InputError
from pipvet.core.matching.osv import Advisory, AdvisoryError, parse_advisory
from pipvet.core.models import PackageId

DEFAULT_OSV_URL = "https://api.osv.dev"
BATCH_SIZE = 1000  # the API's limit per querybatch request


class OsvUnavailable(InputError):
    """The OSV service could not be reached or answered nonsense."""


def osv_base_url(url: str | None = None) -> str:
    return (url or os.environ.get("PIPVET_OSV_URL") or DEFAULT_OSV_URL).rstrip("/")


def _request(url: str, body: Any | None, timeout: float) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", "User-Agent": f"pipvet/{__version__}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise OsvUnavailable(f"OSV at {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OsvUnavailable(f"cannot reach OSV at {url}: {reason}") from None
    except ValueError as exc:
        raise OsvUnavailable(f"OSV at {url} sent invalid JSON: {exc}") from None


def query_ids(
    packages: Sequence[PackageId], *, base_url: str | None = None, timeout: float = 15.0
) -> dict[PackageId, set[str]]:
    """The advisory ids OSV reports for each package (following ``next_page_token``)."""
    base = osv_base_url(base_url)
    out: dict[PackageId, set[str]] = {p: set() for p in packages}
    pending: list[tuple[PackageId, str | None]] = [(p, None) for p in packages]
    while pending:
        batch, pending = pending[:BATCH_SIZE], pending[BATCH_SIZE:]
        queries = []
        for pkg, token in batch:
            q: dict[str, Any] = {
                "package": {"name": pkg.name, "ecosystem": "PyPI"},
                "version": str(pkg.version),
            }
            if token:
                q["page_token"] = token
            queries.append(q)
        answer = _request(f"{base}/v1/querybatch", {"queries": queries}, timeout)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(batch):
            raise OsvUnavailable(f"OSV at {base} sent an unexpected querybatch answer")
        for (pkg, _), res in zip(batch, results, strict=True):
            for v in (res or {}).get("vulns") or []:
                if isinstance(v, dict) and isinstance(v.get("id"), str):
                    out[pkg].add(v["id"])
            token = (res or {}).get("next_page_token")
            if token:
                pending.append((pkg, token))
    return out


def fetch_records(
    ids: Sequence[str], *, base_url: str | None = None, timeout: float = 15.0
) -> tuple[dict[str, Advisory], list[tuple[str, str]]]:
    """Fetch full records by id, 8 at a time; returns records and (id, reason) for failures."""
    base = osv_base_url(base_url)

    def one(vid: str) -> tuple[str, Advisory | None, str]:
        try:
            raw = _request(f"{base}/v1/vulns/{urllib.parse.quote(vid)}", None, timeout)
            return vid, parse_advisory(raw), ""
        except AdvisoryError as exc:
            return vid, None, f"unusable record: {exc}"
        except OsvUnavailable as exc:
            return vid, None, exc.message

    records: dict[str, Advisory] = {}
    failed: list[tuple[str, str]] = []
    from pipvet.sources.index import concurrent_map

    for vid, adv, why in concurrent_map(one, sorted(set(ids)), 8):
        if adv is not None:
            records[vid] = adv
        else:
            failed.append((vid, why))
    return records, failed
