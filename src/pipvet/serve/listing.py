"""The pages the firewall serves: PEP 503 HTML or PEP 691 JSON (chosen by the Accept header),
with PEP 700 fields (``versions``, ``upload-time``, ``size``), PEP 592 ``yanked`` and PEP 658/714
metadata markers as upstream gives them, file URLs pointing at the firewall, upstream's hashes.

A refused file cannot just be left out: pip and uv would then say only "no matching
distribution", and never why. It is listed as a *tombstone* whose URL answers 403 with the
reason as the HTTP reason phrase, which both pip and uv print. A refused version (known malware,
too young) is a yanked tombstone, its reason the PEP 592 yank reason: resolvers skip it unless it
is pinned exactly (then pip prints the yank reason, and the download says the rest). A refused
project's tombstones are not yanked: any request for it ends at the refusal, with the reason.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from urllib.parse import quote

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
API_VERSION = "1.1"


@dataclass(frozen=True)
class Listed:
    """One file as the firewall lists it."""

    filename: str
    url: str  # relative to the project page
    hashes: dict[str, str]
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str | None = None
    size: int | None = None
    metadata: dict[str, str] | bool = False


def negotiate(accept: str | None) -> str | None:
    """PEP 691 content negotiation: JSON, HTML (the v1 or the legacy text/html type), or None
    when nothing offered is acceptable (406)."""
    if not accept:
        return HTML_TYPE
    best, best_q = None, 0.0
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media, q = fields[0].lower(), 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if media in ("application/*", "*/*"):
            media = JSON_TYPE if media == "application/*" else HTML_TYPE
        media = media.replace(".simple.latest+", ".simple.v1+")  # PEP 691 aliases
        if media in (JSON_TYPE, HTML_TYPE, "text/html") and q > best_q:
            best, best_q = media, q
    return best


def file_url(project: str, filename: str) -> str:
    return f"../../files/{quote(project)}/{quote(filename)}"


def tombstone_url(project: str, filename: str) -> str:
    return f"../../refused/{quote(project)}/{quote(filename)}"


def render(
    media: str,
    project: str,
    files: list[Listed],
    versions: list[str],
    status: tuple[str, str | None],
) -> bytes:
    if media == JSON_TYPE:
        items = []
        for f in files:
            item: dict[str, object] = {
                "filename": f.filename,
                "url": f.url,
                "hashes": f.hashes,
                "requires-python": f.requires_python,
                "yanked": f.yanked,
            }
            if f.upload_time:
                item["upload-time"] = f.upload_time
            if f.size is not None:
                item["size"] = f.size
            if f.metadata:
                item["core-metadata"] = f.metadata
                item["dist-info-metadata"] = f.metadata
            items.append(item)
        doc: dict[str, object] = {
            "meta": {"api-version": API_VERSION},
            "name": project,
            "versions": versions,
            "files": items,
        }
        if status[0] != "active":
            doc["project-status"] = {
                "status": status[0],
                **({"reason": status[1]} if status[1] else {}),
            }
        return json.dumps(doc).encode()
    anchors = []
    for f in files:
        digest = f.hashes.get("sha256")
        href = f.url + (f"#sha256={digest}" if digest else "")
        attrs = [f'href="{html.escape(href)}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
        if f.metadata:
            meta = f.metadata
            value = (
                "=".join(next(iter(meta.items()))) if isinstance(meta, dict) and meta else "true"
            )
            attrs.append(f'data-dist-info-metadata="{html.escape(value)}"')
            attrs.append(f'data-core-metadata="{html.escape(value)}"')
        if f.yanked:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{html.escape(reason)}"')
        anchors.append(f"<a {' '.join(attrs)}>{html.escape(f.filename)}</a><br/>")
    head = f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
    if status[0] != "active":
        head += f'<meta name="pypi:project-status" content="{html.escape(status[0])}">\n'
        if status[1]:
            head += f'<meta name="pypi:project-status-reason" content="{html.escape(status[1])}">\n'
    title = html.escape(f"Links for {project}")
    body = "\n".join(anchors)
    return (
        f"<!DOCTYPE html>\n<html>\n<head>\n{head}<title>{title}</title>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    ).encode()


def root_page(media: str) -> bytes:
    """The index root: empty (the firewall answers project pages; it does not list upstream)."""
    if media == JSON_TYPE:
        return json.dumps({"meta": {"api-version": API_VERSION}, "projects": []}).encode()
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
        "<title>pipvet serve</title>\n</head>\n<body>\n"
        "<!-- pipvet serve: ask for /simple/NAME/ -->\n</body>\n</html>\n"
    ).encode()
