"""An OSV-compatible API on loopback for ``--online`` tests: querybatch, vulns/{id}, paging.

It answers from a static table built by the test (package, version) -> ids, so it does not share
matching code with pipvet: the client's own matching is then checked against those records.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from packaging.utils import canonicalize_name


@dataclass
class OsvState:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    page_size: int = 1000  # ids per result before a next_page_token is sent
    requests: list[str] = field(default_factory=list)
    fail_vulns: set[str] = field(default_factory=set)  # ids answered with HTTP 500


class _Handler(BaseHTTPRequestHandler):
    state: OsvState

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.state.requests.append(f"POST {self.path}")
        if self.path != "/v1/querybatch":
            self._send(404, {"message": "not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        results = []
        for q in body.get("queries", []):
            key = (canonicalize_name(q["package"]["name"]), q["version"])
            ids = self.state.hits.get(key, [])
            start = int(q.get("page_token") or 0)
            page = ids[start : start + self.state.page_size]
            res: dict[str, Any] = {
                "vulns": [{"id": i, "modified": "2024-01-01T00:00:00Z"} for i in page]
            }
            if start + self.state.page_size < len(ids):
                res["next_page_token"] = str(start + self.state.page_size)
            results.append(res if page else {})
        self._send(200, {"results": results})

    def do_GET(self) -> None:
        self.state.requests.append(f"GET {self.path}")
        prefix = "/v1/vulns/"
        vid = self.path[len(prefix) :] if self.path.startswith(prefix) else None
        if vid in self.state.fail_vulns:
            self._send(500, {"message": "boom"})
        elif vid and vid in self.state.records:
            self._send(200, self.state.records[vid])
        else:
            self._send(404, {"code": 5, "message": "Bug not found."})


@contextmanager
def serve_osv(
    records: Mapping[str, Mapping[str, Any]],
    hits: Mapping[tuple[str, str], list[str]],
    **kw: Any,
) -> Iterator[tuple[str, OsvState]]:
    """Serve records on 127.0.0.1; yields (base URL, state)."""
    state = OsvState(
        records=dict(records),
        hits={(canonicalize_name(n), v): list(ids) for (n, v), ids in hits.items()},
        **kw,
    )
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
