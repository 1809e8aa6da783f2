"""``pipvet serve`` under load: 10 clients at once installing a ~40-package set through the
firewall, beside the same installs straight from the mirror, and the server's peak memory while
it serves a ~100 MB wheel to 10 clients at once.

    python bench/serve.py [--clients 10] [--rounds 3] [--tool pip|uv|both] [--out FILE]

The mirror: the wheels of ``requirements.in`` (requests, rich, httpx, pydantic, fastapi, flask,
pytest... about 40 with their dependencies) downloaded once from PyPI by ``pip download
--only-binary :all:`` into ``~/.cache/pipvet-bench/serve-mirror/wheels`` (``--fetch`` only does
that), served from a loopback index (``tests/support``: PEP 691/503, sha256, PEP 700 fields).

Measured, in one run:
- direct: each client installs the set into a fresh venv straight from the mirror (no cache);
- cold: the same through a new ``pipvet serve`` with an empty cache (every file downloaded,
  hashed and inspected once, while 10 clients ask at once);
- warm: again through the same server (the inspection cache and verified files warm);
  goal: warm within 1.2x of direct;
- memory: a generated inert ~100 MB wheel (incompressible data, no code) fetched by 10 clients
  at once through a new server: peak RSS (VmHWM) of the server process, and of its inspection
  workers; goal: the server under 300 MB.
Wall-clock times of all clients together. Direct and warm rounds (``--rounds``, default 3) are
interleaved, their order swapped each round, after the cold one; the median of each is compared
(every round's time is in ``--out``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIRROR = Path.home() / ".cache" / "pipvet-bench" / "serve-mirror"
REQUIREMENTS = ["requests", "rich", "httpx", "pydantic", "fastapi", "jinja2", "click",
                "sqlalchemy", "python-dateutil", "pyyaml", "attrs", "packaging", "flask",
                "pytest", "tqdm", "six"]  # fmt: skip
PY = sys.executable


def fetch() -> Path:
    wheels = MIRROR / "wheels"
    if wheels.is_dir() and any(wheels.glob("*.whl")):
        return wheels
    wheels.mkdir(parents=True, exist_ok=True)
    (MIRROR / "requirements.in").write_text("\n".join(REQUIREMENTS) + "\n")
    subprocess.run(
        [PY, "-m", "pip", "download", "--isolated", "--only-binary", ":all:", "-q",
         "--disable-pip-version-check", "-d", str(wheels), *REQUIREMENTS],
        check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    return wheels


class Mirror:
    """A fast loopback index of the wheels (aiohttp in its own thread: PEP 691 JSON and PEP 503
    HTML pages with sha256, size and upload time; files sent with sendfile, Range honoured), so
    that "straight from the mirror" is not slowed by a toy server."""

    def __init__(self, wheels: list[Path]) -> None:
        import asyncio

        self.files: dict[str, Path] = {}
        self.projects: dict[str, list[dict]] = {}
        for w in wheels:
            self.add(w)
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(30)
        self.url = f"http://127.0.0.1:{self.port}/simple/"

    def add(self, wheel: Path) -> None:
        import hashlib

        from packaging.utils import canonicalize_name, parse_wheel_filename

        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        digest = hashlib.sha256()
        with open(wheel, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        self.files[wheel.name] = wheel
        self.projects.setdefault(name, []).append({
            "filename": wheel.name, "url": f"../../files/{wheel.name}",
            "hashes": {"sha256": digest.hexdigest()}, "size": wheel.stat().st_size,
            "upload-time": "2025-01-01T00:00:00.000000Z", "requires-python": None,
            "yanked": False,
        })  # fmt: skip

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        from aiohttp import web

        async def page(request):
            self.requests += 1
            name = request.match_info["name"]
            files = self.projects.get(name)
            if files is None:
                raise web.HTTPNotFound()
            if "json" in request.headers.get("Accept", ""):
                doc = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
                return web.Response(body=json.dumps(doc).encode(),
                                    content_type="application/vnd.pypi.simple.v1+json")  # fmt: skip
            links = "".join(
                f'<a href="{f["url"]}#sha256={f["hashes"]["sha256"]}">{f["filename"]}</a>\n'
                for f in files
            )
            return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")

        async def file(request):
            self.requests += 1
            path = self.files.get(request.match_info["filename"])
            if path is None:
                raise web.HTTPNotFound()
            return web.FileResponse(path)

        app = web.Application()
        app.router.add_get("/simple/{name}/", page)
        app.router.add_get("/files/{filename}", file)
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def big_wheel(path: Path, size_mb: int = 100) -> Path:
    """An inert wheel: one incompressible data file, metadata, no code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        with z.open("bigdata/blob.bin", "w", force_zip64=True) as f:
            for _ in range(size_mb):
                f.write(os.urandom(1 << 20))
        z.writestr("bigdata/__init__.py", "")
        di = "bigdata-1.0.dist-info"
        z.writestr(f"{di}/METADATA", "Metadata-Version: 2.1\nName: bigdata\nVersion: 1.0\n")
        z.writestr(f"{di}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n")  # fmt: skip
        z.writestr(f"{di}/RECORD", "")
    tmp.rename(path)
    return path


class Serve:
    def __init__(self, upstream: str, cache: Path, cwd: Path) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PIPVET_CACHE_DIR": str(cache),
                    "PIPVET_CONFIG_DIR": str(cache / "no-user-policy")}  # fmt: skip
        db = Path.home() / ".cache" / "pipvet-bench" / "gate" / "advisories.sqlite"
        extra = ["--db", str(db)] if db.exists() else []
        self.proc = subprocess.Popen(
            [PY, "-m", "pipvet", "serve", "--upstream", upstream, "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env, cwd=cwd,
        )  # fmt: skip
        self.url = ""
        for line in self.proc.stdout:
            if line.startswith("pipvet serve: package firewall on "):
                self.url = line.split(" on ", 1)[1].strip()
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        assert self.url, "pipvet serve did not start"

    def hwm(self) -> dict:
        """Peak resident memory (MB) of the server and of its child processes."""

        def peak(pid: int) -> float:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
            except OSError:
                pass
            return 0.0

        children = []
        try:
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                                 capture_output=True, text=True).stdout.split()  # fmt: skip
            pids = [int(p) for p in out]
            for p in list(pids):  # the forkserver's children are the workers
                more = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p)],
                                      capture_output=True, text=True).stdout.split()  # fmt: skip
                pids += [int(x) for x in more]
            children = [peak(p) for p in pids]
        except (OSError, ValueError):
            pass
        return {"server_mb": round(peak(self.proc.pid), 1),
                "largest_worker_mb": round(max(children, default=0.0), 1)}  # fmt: skip

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def install_all(tool: str, url: str, clients: int, work: Path) -> float:
    """Wall-clock seconds for ``clients`` installs of the set at once, each into a fresh venv."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    venvs = []
    for i in range(clients):
        v = work / f"venv{i}"
        subprocess.run([PY, "-m", "venv", "--without-pip", str(v)], check=True)
        venvs.append(v)

    def one(v: Path) -> None:
        if tool == "pip":
            cmd = [PY, "-m", "pip", "--python", str(v / "bin" / "python"), "install", "-q",
                   "--isolated", "--no-cache-dir", "--disable-pip-version-check",
                   "--only-binary", ":all:", "--index-url", url, *REQUIREMENTS]  # fmt: skip
            env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_TIMEOUT": "120"}
        else:
            from pipvet.sources.resolver import find_uv

            cmd = [find_uv() or "uv", "pip", "install", "-q", "--python",
                   str(v / "bin" / "python"), "--no-cache", "--only-binary", ":all:",
                   "--index-url", url, *REQUIREMENTS]  # fmt: skip
            env = {**os.environ, "UV_NO_CONFIG": "1", "UV_HTTP_TIMEOUT": "120"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed: {proc.stderr[-2000:]}")

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, venvs))
    took = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    return took


def memory(index, base: Path, clients: int) -> dict:
    wheel = big_wheel(MIRROR / "big" / "bigdata-1.0-py3-none-any.whl")
    index.add(wheel)
    serve = Serve(index.url, base / "mem-cache", base / "mem-project")
    try:
        url = serve.url.replace("/simple/", "/files/bigdata/") + wheel.name
        sizes = []

        def get() -> None:
            n = 0
            with urllib.request.urlopen(url, timeout=600) as resp:
                while chunk := resp.read(1 << 20):
                    n += len(chunk)
            sizes.append(n)

        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda _: get(), range(clients)))
        took = time.perf_counter() - start
        mem = serve.hwm()
    finally:
        serve.stop()
    assert sizes == [wheel.stat().st_size] * clients, sizes
    return {"wheel_mb": round(wheel.stat().st_size / 1024**2, 1), "seconds": round(took, 2),
            **mem}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tool", choices=("pip", "uv", "both"), default="both")
    ap.add_argument("--fetch", action="store_true", help="only download the mirror's wheels")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    wheels = fetch()
    if args.fetch:
        return 0
    base = Path(tempfile.mkdtemp(prefix="pipvet-bench-serve-"))
    results: dict = {"wheels": len(list(wheels.glob("*.whl"))), "clients": args.clients}
    index = Mirror(sorted(wheels.glob("*.whl")))
    try:
        tools = ["pip", "uv"] if args.tool == "both" else [args.tool]
        for tool in tools:
            serve = Serve(index.url, base / f"cache-{tool}", base / "project")
            try:
                cold = install_all(tool, serve.url, args.clients, base / "w")
                # direct and warm rounds interleaved (the order swapped each round), so that
                # what the machine is doing meanwhile (disk write-back of the last venvs) weighs
                # on both alike; the median of each
                times: dict[str, list[float]] = {"direct": [], "warm": []}
                for r in range(args.rounds):
                    order = [("direct", index.url), ("warm", serve.url)]
                    for kind, url in order[:: -1 if r % 2 else 1]:
                        times[kind].append(install_all(tool, url, args.clients, base / "w"))
            finally:
                serve.stop()
            direct, warm = (statistics.median(times[k]) for k in ("direct", "warm"))
            results[tool] = {"direct_s": round(direct, 2), "cold_s": round(cold, 2),
                             "warm_s": round(warm, 2), "warm_ratio": round(warm / direct, 2),
                             "cold_ratio": round(cold / direct, 2),
                             "direct_runs": [round(t, 2) for t in times["direct"]],
                             "warm_runs": [round(t, 2) for t in times["warm"]]}  # fmt: skip
            print(json.dumps({tool: results[tool]}), flush=True)
        results["memory"] = memory(index, base, args.clients)
        print(json.dumps({"memory": results["memory"]}), flush=True)
    finally:
        index.stop()
        shutil.rmtree(base, ignore_errors=True)
    n = results["wheels"]
    print(f"\n## pipvet serve: {args.clients} clients at once, a {n}-wheel set\n")
    print("| tool | direct from the mirror | through serve, cold | through serve, warm | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for tool in ("pip", "uv"):
        if tool in results:
            r = results[tool]
            print(f"| {tool} | {r['direct_s']} s | {r['cold_s']} s | {r['warm_s']} s | "
                  f"{r['warm_ratio']}x |")  # fmt: skip
    m = results["memory"]
    print(f"\n{args.clients} clients fetching a {m['wheel_mb']} MB wheel at once: "
          f"{m['seconds']} s; peak RSS of the server {m['server_mb']} MB, "
          f"largest inspection worker {m['largest_worker_mb']} MB")  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
