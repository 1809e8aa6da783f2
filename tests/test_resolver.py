"""The resolver wrapper: pip's and uv's choices, the via/marker graph, isolation from config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version
from tests.support.index_server import TestIndex
from tests.support.processes import HAS_PROC, children

from pipvet.core.errors import InputError
from pipvet.sources.pip_env import scrubbed_env
from pipvet.sources.resolver import (
    _Node,
    build_graph,
    find_uv,
    parse_uv_output,
    resolve,
)
from pipvet.sources.resolver_run import EarlyRun

RESOLVERS = ["pip", pytest.param("uv", marks=pytest.mark.skipif(not find_uv(), reason="no uv"))]


def _node(version: str, *requires: str) -> _Node:
    return _Node(version=Version(version), requires=requires)


def test_graph_combines_parent_and_edge_markers() -> None:
    env = dict(default_environment())
    env["python_version"] = "3.11"
    env["sys_platform"] = "linux"
    nodes = {
        "app": _node("1", 'lib; sys_platform == "linux"', 'extra-only; extra == "fast"', "shared"),
        "lib": _node("1", 'deep; python_version >= "3.8"', "shared"),
        "deep": _node("1"),
        "shared": _node("1"),
        "extra-only": _node("1"),
        "skipped": _node("1"),
    }
    top = [Requirement("app[fast]"), Requirement('skipped; python_version < "3"')]
    got = {p.name: p for p in build_graph(top, nodes, env)}  # type: ignore[arg-type]
    assert got["app"].requested and got["app"].marker is None
    assert got["lib"].marker == 'sys_platform == "linux"'
    assert got["deep"].marker == 'python_version >= "3.8" and sys_platform == "linux"'
    assert got["deep"].parents == ("lib",)
    assert got["shared"].marker is None and got["shared"].parents == ("app", "lib")
    assert got["extra-only"].parents == ("app",) and got["extra-only"].marker is None
    assert not got["skipped"].requested  # its marker is false here


def test_graph_marks_or_of_two_conditional_paths() -> None:
    env = dict(default_environment(), python_version="3.11", sys_platform="linux")
    nodes = {
        "a": _node("1", 'c; sys_platform == "linux"'),
        "b": _node("1", 'c; python_version >= "3.9"'),
        "c": _node("1"),
    }
    got = {p.name: p for p in build_graph([Requirement("a"), Requirement("b")], nodes, env)}  # type: ignore[arg-type]
    assert got["c"].marker == 'python_version >= "3.9" or sys_platform == "linux"'


def test_uv_output_parsing() -> None:
    text = "alpha==2.0\n    # via -r -\nbeta==1.1\n    # via\n    #   alpha\n    #   zed\n"
    assert parse_uv_output(text) == {
        "alpha": (Version("2.0"), ()),
        "beta": (Version("1.1"), ("alpha", "zed")),
    }


def test_config_is_scrubbed(monkeypatch) -> None:
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://evil.example/simple/")
    monkeypatch.setenv("UV_INDEX", "https://evil.example/simple/")
    env = scrubbed_env()
    assert "PIP_EXTRA_INDEX_URL" not in env and "UV_INDEX" not in env
    assert env["PIP_CONFIG_FILE"] == os.devnull


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_user_config_cannot_add_an_index(
    package_index: TestIndex, make_index, tmp_path: Path, monkeypatch, resolver: str
) -> None:
    """A newer alpha on an 'attacker' index named by pip/uv config must not be chosen."""
    evil = make_index()
    evil.add_wheel("alpha", "9.0")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = {evil.url}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", evil.url)
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", evil.url)
    monkeypatch.setenv("UV_INDEX", evil.url)
    res = resolve(["alpha"], index_url=package_index.url, resolver=resolver)
    assert res.get("alpha").version == Version("2.0")  # type: ignore[union-attr]
    assert evil.requests == []


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_constraints_and_conflicts(package_index: TestIndex, resolver: str) -> None:
    res = resolve(
        ["alpha"], index_url=package_index.url, resolver=resolver, constraints=["alpha<2"]
    )
    assert [(p.name, str(p.version)) for p in res.packages] == [("alpha", "1.0")]
    assert res.resolver == resolver
    with pytest.raises(InputError, match=r"could not resolve|no version"):
        resolve(["alpha>=2", "beta<1"], index_url=package_index.url, resolver=resolver)


def test_resolving_for_another_interpreter(package_index: TestIndex, tmp_path: Path) -> None:
    import subprocess
    import sys

    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    res = resolve(
        ["beta"], index_url=package_index.url, resolver="pip", python=str(venv / "bin/python")
    )
    assert [p.name for p in res.packages] == ["beta", "gamma"]


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="malformed"):
        resolve(["a >>= 1"], index_url="http://127.0.0.1:1/simple/")
    with pytest.raises(InputError, match="nothing to resolve"):
        resolve([], index_url="http://127.0.0.1:1/simple/")
    with pytest.raises(InputError, match="unknown resolver"):
        resolve(["a"], index_url="http://127.0.0.1:1/simple/", resolver="poetry")


def test_own_interpreter_is_given_to_uv_as_it_is_another_through_the_launcher(
    tmp_path: Path,
) -> None:
    """pipvet's own interpreter already ran its site (its .pth files) at pipvet's start: uv may
    start it as it is (and reuse what it learned about it); another interpreter only through the
    no-site launcher (test_install_faults checks that its .pth files never run)."""
    import subprocess
    import sys

    from pipvet.sources.resolver_run import _uv_python

    assert _uv_python(None, tmp_path) == sys.executable
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    launcher = _uv_python(str(venv), tmp_path)
    assert launcher != str(venv / "bin/python")
    assert "-I -S" in Path(launcher).read_text()


@pytest.mark.skipif(not find_uv() or not HAS_PROC, reason="uv, Linux")
def test_uv_runs_while_the_caller_works_and_is_stopped_when_the_caller_fails(make_index) -> None:
    """uv starts before the rest of the resolution is set up (``on_start`` is called while it
    runs); when anything after its start fails, it is stopped, not left running."""
    index = make_index(standard=True)
    index.drip = 0.5  # this index stalls: uv is still running when on_start is called
    before = children()
    seen: list[set[int]] = []

    def on_start() -> None:
        seen.append(children() - before)
        raise RuntimeError("the caller's own work failed")

    with pytest.raises(RuntimeError, match="own work failed"):
        resolve(["alpha"], index_url=index.url, resolver="uv", on_start=on_start)
    assert seen and seen[0], "uv was not running when on_start was called"
    assert not (children() & seen[0]), "uv was left running"
    for pid in seen[0]:
        assert not Path(f"/proc/{pid}").exists(), "uv was not reaped"


@pytest.mark.skipif(not find_uv() or not HAS_PROC, reason="uv, Linux")
def test_an_early_uv_run_is_taken_only_for_the_same_command_line_and_input(make_index) -> None:
    """uv's first run, started by the caller before the requirements were parsed, is the
    resolver's first run only when that run would be the very same; otherwise it is stopped and
    reaped before a new one starts, and the resolution is the same."""
    index, other = make_index(standard=True), make_index(standard=True)
    uv = find_uv()
    assert uv is not None
    same = EarlyRun(uv, ["alpha"], index.url)
    try:
        got = resolve(["alpha"], index_url=index.url, resolver="uv", early=same)
    finally:
        same.close()
    assert same.adopted and same.run.waited
    pins = [(p.name, p.version) for p in got.packages]
    assert pins == [("alpha", Version("2.0")), ("beta", Version("1.1")), ("gamma", Version("1.0"))]
    for early, text in (
        (EarlyRun(uv, ["alpha >= 1.0"], index.url), "alpha >= 1.0"),  # uv is given "alpha>=1.0"
        (EarlyRun(uv, ["alpha"], other.url), "alpha"),  # another index
    ):
        try:
            again = resolve([text], index_url=index.url, resolver="uv", early=early)
            assert not early.adopted and early.run.done and not early.run.waited
            assert not Path(f"/proc/{early.run.pid}").exists(), "the early run was not reaped"
        finally:
            early.close()
        assert [(p.name, p.version) for p in again.packages] == pins
