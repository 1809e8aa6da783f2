"""Shared pytest fixtures. Keep this thin: fixtures live in modules under ``tests/support``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # so `tests.support` imports however pytest is started
    sys.path.insert(0, _ROOT)

from tests.support.engines import installer  # noqa: E402, F401
from tests.support.index_fixtures import make_index, package_index  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _private_caches(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own cache and config folders: pipvet's, pip's and uv's caches and
    config never touch (or read) the user's real ones. A test may still set its own."""
    home = tmp_path_factory.mktemp("home")
    cache = home / ".cache"
    for name, value in {
        "HOME": home,
        "XDG_CACHE_HOME": cache,
        "XDG_CONFIG_HOME": home / ".config",
        "PIPVET_CACHE_DIR": cache / "pipvet",
        "PIP_CACHE_DIR": cache / "pip",
        "UV_CACHE_DIR": cache / "uv",
        "PIP_CONFIG_FILE": os.devnull,
        "UV_NO_CONFIG": "1",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)  # the default environment: pipvet's own
    return home


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PIPVET_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the internet: set PIPVET_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)
