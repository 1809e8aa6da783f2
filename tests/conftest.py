"""Shared pytest fixtures. Keep this thin: fixtures live in modules under ``tests/support``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # so `tests.support` imports however pytest is started
    sys.path.insert(0, _ROOT)

from tests.support.index_fixtures import make_index, package_index  # noqa: E402, F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PIPVET_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the internet: set PIPVET_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)
