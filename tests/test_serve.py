"""``pipvet serve`` end to end: the real server in a subprocess on a free loopback port, in front
of the loopback test index, with real pip and real uv installing into fresh temporary venvs.

Each refusal checks that the reason is in pip's and uv's own output and that the venv is exactly
as it was (every file and its sha256). The malicious samples are the inert ones of
``tests/test_gate.py``: inspected as data and, when the firewall works, never installed or built.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests.support.index_server import TestIndex, uploaded_ago
from tests.test_gate import ENV_TO_NETWORK, RUN_SETUP_BACKEND, SELF_UPDATE, setup_py
from tests.test_install import tree

from pipvet.sources.advisories.db import build_db
from pipvet.sources.resolver import find_uv

UV = find_uv()
MAL = {
    "id": "MAL-2099-11",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "malpkg 1.1 steals credentials",
    "details": "A test malware record.",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "malpkg"}, "versions": ["1.1"]}],
    "database_specific": {"malicious-packages-origins": [{"source": "test"}]},
}
MAL_ALL = {
    **MAL,
    "id": "MAL-2099-12",
    "summary": "allmal is malware",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "allmal"}, "versions": ["1.0"]}],
}


class Server:
    """A ``pipvet serve`` subprocess; ``url`` is its /simple/ URL."""

    def __init__(self, upstream: str, home: Path, *args: str, cwd: Path | None = None) -> None:
        self.home = home
        self.cache = home / "cache"
        self.env = {
            **os.environ,
            "PIPVET_CACHE_DIR": str(self.cache),
            "PIPVET_CONFIG_DIR": str(home / "config"),
            "HOME": str(home),
            "PYTHONUNBUFFERED": "1",
        }
        self.cwd = cwd or home / "project"
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipvet", "serve", "--upstream", upstream, "--port", "0", *args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        threading.Thread(
            target=self._drain, args=(self.proc.stderr, self.stderr), daemon=True
        ).start()
        end = time.monotonic() + 30
        self.url = ""
        while time.monotonic() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.stdout.append(line)
            if line.startswith("pipvet serve: package firewall on "):
                self.url = line.split(" on ", 1)[1].strip()
                break
        assert self.url, "".join(self.stdout + self.stderr)
        threading.Thread(
            target=self._drain, args=(self.proc.stdout, self.stdout), daemon=True
        ).start()

    @staticmethod
    def _drain(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    def get(self, path: str, *, accept: str | None = None, timeout: float = 30):
        req = urllib.request.Request(self.url.replace("/simple/", "/") + path.lstrip("/"))
        if accept:
            req.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.reason, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.reason, e.headers, e.read()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def pip_install(env: Path, url: str, *reqs: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
         "--isolated", "--no-cache-dir", "--disable-pip-version-check", "--index-url", url,
         *reqs],
        capture_output=True, text=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        timeout=120,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def uv_install(env: Path, url: str, *reqs: str, cache: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [UV, "pip", "install", "--python", str(env / "bin" / "python"), "--index-url", url,
         "--cache-dir", str(cache), *reqs],
        capture_output=True, text=True, env={**os.environ, "UV_NO_CONFIG": "1"}, timeout=120,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """One upstream index with a clean set and every bad case, one server in front of it."""
    root = tmp_path_factory.mktemp("serve")
    index = TestIndex(root / "index-files")
    index.add_standard_projects()
    index.add_wheel("reqeusts", "1.0")  # a typosquat of requests
    index.add_wheel("evilpkg", "1.0")
    index.set_status("evilpkg", "quarantined", "malware reported")
    index.add_wheel("malpkg", "1.0")
    index.add_wheel("malpkg", "1.1")  # MAL-2099-11
    index.add_wheel("allmal", "1.0")  # every version is malware
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    index.add_wheel("envsend", "1.0", files={"envsend/__init__.py": ENV_TO_NETWORK})
    # a self-updater in a popular project: long-standing in tqdm, brought by an update in rich
    for name, old in (("tqdm", SELF_UPDATE), ("rich", "VERSION = 1\n")):
        index.add_wheel(
            name, "1.0", files={f"{name}/up.py": old}, upload_time=uploaded_ago(days=200)
        )
        index.add_wheel(
            name, "1.1", files={f"{name}/up.py": SELF_UPDATE}, upload_time=uploaded_ago(days=10)
        )
    marker = root / "MARKER-setup-py-ran"
    index.add_sdist(
        "setupmark", "1.0",
        files={"setup.py": setup_py(marker, send=True), "_backend.py": RUN_SETUP_BACKEND},
        build_backend="_backend", backend_path=".",
    )  # fmt: skip
    db = root / "advisories.sqlite"
    build_db(db, [MAL, MAL_ALL], {"source": "test records", "date": "2026-01-01T00:00:00Z"})
    server = Server(index.url, root / "home", "--min-release-age", "7", "--db", str(db))
    yield {"index": index, "server": server, "marker": marker, "root": root}
    server.stop()
    index.stop()


def file_requests(index: TestIndex, filename: str) -> int:
    return sum(1 for r in index.requests if r == f"/files/{filename}")


# -- what it serves -----------------------------------------------------------------------------


def test_pages_json_and_html_with_pep_700_fields_hashes_and_metadata(world):
    server, index = world["server"], world["index"]
    status, _, headers, body = server.get(
        "simple/alpha/", accept="application/vnd.pypi.simple.v1+json"
    )
    assert status == 200 and headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    doc = json.loads(body)
    assert doc["meta"]["api-version"] == "1.1" and doc["versions"] == ["1.0", "2.0", "3.0"]
    files = {f["filename"]: f for f in doc["files"]}
    ok = files["alpha-2.0-py3-none-any.whl"]
    listed = index.listed("alpha-2.0-py3-none-any.whl")
    assert ok["url"] == "../../files/alpha/alpha-2.0-py3-none-any.whl"
    assert ok["hashes"] == {"sha256": listed.sha256} and ok["size"] == listed.size
    assert ok["upload-time"] == listed.upload_time and ok["core-metadata"]["sha256"]
    assert ok["yanked"] is False
    young = files["alpha-3.0-py3-none-any.whl"]  # under the cooldown: a yanked tombstone
    assert young["url"].startswith("../../refused/") and young["hashes"] == {}
    assert "under the cooldown of 7 days" in young["yanked"]
    status, _, headers, body = server.get("simple/alpha/", accept="text/html")
    html = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert f'href="../../files/alpha/alpha-2.0-py3-none-any.whl#sha256={listed.sha256}"' in html
    assert 'data-core-metadata="sha256=' in html and "data-yanked=" in html
    status, _, headers, body = server.get("simple/Alpha/")  # PEP 503 normalisation
    assert status == 200 and b"alpha-2.0" in body
    status, _, _, body = server.get("files/alpha/alpha-2.0-py3-none-any.whl.metadata")
    assert status == 200 and b"Name: alpha" in body


@pytest.mark.parametrize(
    "tool", ["pip", pytest.param("uv", marks=pytest.mark.skipif(not UV, reason="no uv"))]
)
def test_clean_set_installs(world, tmp_path, tool):
    env = _venv(tmp_path / "venv")
    url = world["server"].url
    if tool == "pip":
        rc, out = pip_install(env, url, "alpha", "malpkg")
    else:
        rc, out = uv_install(env, url, "alpha", "malpkg", cache=tmp_path / "uv-cache")
    assert rc == 0, out
    names = {p.name.split("-")[0] for p in (env / "lib").glob("python3*/site-packages/*.dist-info")}
    assert names == {"alpha", "beta", "gamma", "malpkg"}
    # the cooldown held alpha back to 2.0, the known-malware malpkg 1.1 was left for 1.0
    site = next((env / "lib").glob("python3*/site-packages"))
    assert (site / "alpha-2.0.dist-info").is_dir() and (site / "malpkg-1.0.dist-info").is_dir()


REFUSED = [
    ("reqeusts", "reqeusts looks like a typosquat of requests"),
    ("evilpkg", "evilpkg is quarantined on the index (unsafe for use, e.g. malware): malware"),
    ("malpkg==1.1", "malpkg==1.1 is known malware (MAL-2099-11)"),
    ("allmal", "every version of allmal is known malware"),
    ("alpha==3.0", "alpha==3.0 was uploaded 1 hour(s) ago, under the cooldown of 7 days"),
    ("envsend", "envsend-1.0-py3-none-any.whl: malicious (score"),
    ("setupmark", "setupmark-1.0.tar.gz: malicious (score"),
    ("rich==1.1", "rich-1.1-py3-none-any.whl: suspicious (score"),
]  # fmt: skip


@pytest.mark.parametrize(("requirement", "reason"), REFUSED, ids=[r for r, _ in REFUSED])
def test_refused_with_the_reason_in_pips_output(world, tmp_path, requirement, reason):
    env = _venv(tmp_path / "venv")
    before = tree(env)
    rc, out = pip_install(env, world["server"].url, requirement)
    assert rc != 0, out
    text = one_line(out)
    assert "403 Client Error: pipvet: refused" in text and reason in text, out
    assert tree(env) == before
    assert not world["marker"].exists()


@pytest.mark.skipif(not UV, reason="no uv")
@pytest.mark.parametrize(("requirement", "reason"), REFUSED, ids=[r for r, _ in REFUSED])
def test_refused_with_the_reason_in_uvs_output(world, tmp_path, requirement, reason):
    env = _venv(tmp_path / "venv")
    before = tree(env)
    rc, out = uv_install(env, world["server"].url, requirement, cache=tmp_path / "uv-cache")
    assert rc != 0, out
    text = one_line(out)
    assert "(403 pipvet: refused" in text and reason in text, out
    after = tree(env)
    after.pop(".lock", None)  # uv's own lock file on the environment, empty
    assert after == before
    assert not world["marker"].exists()


def test_long_standing_code_of_a_popular_project_is_served_with_a_warning(world, tmp_path):
    env = _venv(tmp_path / "venv")
    rc, out = pip_install(env, world["server"].url, "tqdm==1.1")
    assert rc == 0, out
    assert (next((env / "lib").glob("python3*/site-packages")) / "tqdm-1.1.dist-info").is_dir()
    assert file_requests(world["index"], "tqdm-1.0-py3-none-any.whl") == 1  # compared with it


def test_exfiltrating_wheel_reason_names_rule_file_and_line(world):
    status, reason, _, _ = world["server"].get("files/envsend/envsend-1.0-py3-none-any.whl")
    assert status == 403
    assert "(envsend/__init__.py:" in reason and "[intent." in reason, reason
    assert not list((world["server"].cache / "serve" / "files").rglob("envsend-*"))


def test_decisions_are_logged_and_printed_escaped(world, tmp_path):
    index, server = world["index"], world["server"]
    index.add_wheel("evil2", "1.0")
    index.set_status("evil2", "quarantined", "bad \x1b[31mred\x1b[0m")
    status, _, _, _ = server.get("refused/evil2/evil2-0-py3-none-any.whl")
    assert status == 403
    assert server.get("files/gamma/gamma-1.0-py3-none-any.whl")[0] == 200
    proc = subprocess.run(
        [sys.executable, "-m", "pipvet", "serve", "--decisions"],
        capture_output=True, text=True, env=server.env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "BLOCKED  file   evil2-0-py3-none-any.whl  (HTTP 403)" in proc.stdout
    assert "\x1b" not in proc.stdout and "\\x1b[31m" in proc.stdout
    assert "ALLOWED  file   gamma-1.0-py3-none-any.whl  (HTTP 200)" in proc.stdout


# -- faults --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory):
    """An upstream index that misbehaves in several ways, one server in front of it."""
    root = tmp_path_factory.mktemp("serve-faults")
    index = TestIndex(root / "index-files")
    index.add_standard_projects()
    index.yank("gamma-1.0-py3-none-any.whl", "broken build")
    index.replace_bytes("beta-1.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18)
    index.add_wheel("broken", "1.0")
    index.page_override["broken"] = b'{"files": [{"filename": 3}]'
    big = {f"big/m{i}.py": f"VALUE_{i} = {i}\n" * 2000 for i in range(20)}
    index.add_wheel("bigone", "1.0", files=big)
    server = Server(index.url, root / "home")
    yield index, server
    assert server.stop() == 0
    index.stop()


def test_yanked_marker_is_kept(faulty):
    _, server = faulty
    _, _, _, body = server.get("simple/gamma/", accept="application/vnd.pypi.simple.v1+json")
    files = {f["filename"]: f for f in json.loads(body)["files"]}
    assert files["gamma-1.0-py3-none-any.whl"]["yanked"] == "broken build"
    assert files["gamma-1.0.tar.gz"]["yanked"] is False


def test_bytes_that_do_not_match_upstreams_hash_are_never_served(faulty, tmp_path):
    _, server = faulty
    status, reason, _, body = server.get("files/beta/beta-1.0-py3-none-any.whl")
    assert status == 403 and "do not match upstream's sha256" in reason
    assert b"PK" not in body
    env = _venv(tmp_path / "venv")
    before = tree(env)
    rc, out = pip_install(env, server.url, "beta==1.0")
    assert rc != 0 and "do not match upstream's sha256" in one_line(out), out
    assert tree(env) == before
    assert not list((server.cache / "serve").rglob("beta-1.0*"))


def test_malformed_upstream_page_is_a_502_not_a_crash(faulty):
    _, server = faulty
    status, reason, _, _ = server.get(
        "simple/broken/", accept="application/vnd.pypi.simple.v1+json"
    )
    assert status == 502 and "malformed upstream page" in reason
    assert server.get("simple/alpha/")[0] == 200


def test_ten_clients_at_once_one_download(faulty):
    index, server = faulty
    filename = "bigone-1.0-py3-none-any.whl"
    barrier = threading.Barrier(10)
    results: list = []

    def fetch() -> None:
        barrier.wait()
        results.append(server.get(f"files/bigone/{filename}"))

    threads = [threading.Thread(target=fetch) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    data = (index.files_dir / filename).read_bytes()
    assert [r[0] for r in results] == [200] * 10
    assert all(r[3] == data for r in results)
    assert file_requests(index, filename) == 1
    log = (server.cache / "serve-decisions.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in log]
    allowed = [r for r in records if r.get("file") == filename and r["action"] == "allowed"]
    assert len(allowed) == 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_upstream_down_is_a_quick_502_and_slow_a_504(tmp_path):
    # listening beyond loopback needs --host and is said loudly
    down = Server(
        f"http://127.0.0.1:{_free_port()}/simple/", tmp_path / "down", "--host", "0.0.0.0"
    )
    listener = socket.socket()  # accepts connections, never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    slow = Server(
        f"http://127.0.0.1:{listener.getsockname()[1]}/simple/", tmp_path / "slow",
        "--timeout", "1",
    )  # fmt: skip
    try:
        assert down.url.startswith("http://0.0.0.0:")
        start = time.monotonic()
        status, reason, _, _ = down.get("simple/alpha/")
        assert status == 502 and "cannot reach the upstream index" in reason
        assert time.monotonic() - start < 5
        start = time.monotonic()
        status, reason, _, _ = slow.get("simple/alpha/")
        assert status == 504 and "did not answer in time" in reason
        assert time.monotonic() - start < 10
    finally:
        assert down.stop() == 0 and slow.stop() == 0
        listener.close()
    assert any("WARNING: listening on 0.0.0.0, not loopback" in x for x in down.stderr)
    assert not any("WARNING" in x for x in slow.stderr)


def test_sighup_rereads_the_policy_client_gone_and_ctrl_c_leave_nothing(tmp_path):
    index = TestIndex(tmp_path / "files")
    index.add_standard_projects()
    index.add_wheel("alpha", "3.0", requires=["beta>=1.0"], upload_time=uploaded_ago(hours=1))
    server = Server(index.url, tmp_path / "home")
    try:
        _, _, _, body = server.get("simple/alpha/")
        assert b"../../files/alpha/alpha-3.0-py3-none-any.whl" in body
        (server.cwd / "pipvet.toml").write_text("min-release-age = 7\n")
        server.proc.send_signal(signal.SIGHUP)
        wait_for(server.stderr, "policy re-read")
        _, _, _, body = server.get("simple/alpha/")
        assert b"../../refused/alpha/alpha-3.0-py3-none-any.whl" in body
        (server.cwd / "pipvet.toml").write_text("min-release-age = -1\n")
        server.proc.send_signal(signal.SIGHUP)  # a wrong policy: said, the old one stays
        wait_for(server.stderr, "policy not re-read")
        assert any("min-release-age" in x for x in server.stderr)
        assert b"../../refused/alpha/" in server.get("simple/alpha/")[3]

        index.drip = 0.01  # the page is known; the wheel now takes ~9 s
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /files/alpha/alpha-1.0-py3-none-any.whl HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        sock.close()  # the client goes away mid-download
        time.sleep(0.3)
        assert list((server.cache / "serve" / "tmp").rglob(".part-*"))  # still downloading
        start = time.monotonic()
        assert server.stop(signal.SIGINT) == 130
        assert time.monotonic() - start < 8
        assert not list((server.cache / "serve").rglob(".part-*"))
        assert not list((server.cache / "serve" / "files").rglob("*.whl"))
    finally:
        index.drip = 0
        server.stop()
        index.stop()


def wait_for(lines: list[str], text: str, seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while not any(text in x for x in lines):
        assert time.monotonic() < end, "".join(lines)
        time.sleep(0.05)


def test_bad_arguments_and_a_taken_port_are_one_line_and_exit_2(tmp_path, capsys):
    from pipvet.cli.main import main

    assert main(["serve", "--upstream", "ftp://example.invalid/simple/"]) == 2
    assert "--upstream must be an http(s) index URL" in capsys.readouterr().err
    assert main(["serve", "--min-release-age", "-1"]) == 2
    assert "--min-release-age must be" in capsys.readouterr().err
    assert main(["serve", "--cache-max-gb", "0"]) == 2
    assert "--cache-max-gb must be" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        assert main(["serve", "--upstream", "http://127.0.0.1:9/simple/", "--port", port]) == 2
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
    assert errors == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_decisions_without_a_log_say_so(capsys):
    from pipvet.cli.main import main

    assert main(["serve", "--decisions"]) == 0
    assert "no decisions logged yet" in capsys.readouterr().out


def test_content_negotiation():
    from pipvet.serve.listing import HTML_TYPE, JSON_TYPE, negotiate

    assert negotiate(None) == HTML_TYPE
    assert negotiate("application/vnd.pypi.simple.latest+json") == JSON_TYPE
    assert negotiate(f"{JSON_TYPE};q=0.1, text/html") == "text/html"
    assert negotiate("image/png") is None


def test_reason_phrase_is_one_printable_ascii_line():
    from pipvet.serve.app import reason_phrase

    assert reason_phrase("bad \x1b[31mred\r\nnext ü") == "bad \\x1b[31mred next \\xfc"
    assert len(reason_phrase("x" * 5000)) == 400


def test_the_file_cache_keeps_to_its_limit_least_recently_served_first(tmp_path):
    index = TestIndex(tmp_path / "index-files")
    index.add_standard_projects()
    server = Server(index.url, tmp_path / "home", "--cache-max-gb", "0.000001")  # ~1 KB
    try:
        files = server.cache / "serve" / "files"
        alpha, beta, gamma = (f"{n}-1.0-py3-none-any.whl" for n in ("alpha", "beta", "gamma"))
        assert server.get(f"files/alpha/{alpha}")[0] == 200
        (kept,) = files.rglob(alpha)
        hour_ago = time.time() - 3600
        os.utime(kept, (hour_ago, hour_ago))  # last served an hour ago
        assert server.get(f"files/gamma/{gamma}")[0] == 200
        assert not list(files.rglob(alpha)), "the least recently served file stays"
        assert list(files.rglob(gamma)), "the file just stored is evicted"
        # asked again: downloaded, checked and inspected again, the same bytes
        status, _, _, body = server.get(f"files/alpha/{alpha}")
        assert status == 200 and body == (index.files_dir / alpha).read_bytes()
        assert file_requests(index, alpha) == 2
        # files served in the last minutes are never evicted, even over the limit
        assert server.get(f"files/beta/{beta}")[0] == 200
        assert list(files.rglob(alpha)) and list(files.rglob(gamma)) and list(files.rglob(beta))
    finally:
        assert server.stop() == 0
        index.stop()
