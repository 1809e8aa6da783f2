"""Pytest fixtures for the loopback test index: ``make_index`` and ``package_index``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.support.index_server import TestIndex


@pytest.fixture
def make_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., TestIndex]]:
    """Factory: ``make_index()`` gives an empty index, ``make_index(standard=True)`` the
    standard projects (alpha, beta, gamma, onlysdist, tinybuild). Stopped after the test."""
    made: list[TestIndex] = []

    def factory(*, standard: bool = False) -> TestIndex:
        idx = TestIndex(tmp_path_factory.mktemp("index-files"))
        if standard:
            idx.add_standard_projects()
        made.append(idx)
        return idx

    yield factory
    for idx in made:
        idx.stop()


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIndex]:
    """A session-wide standard index. Read-only: never tamper with it (use ``make_index``)."""
    idx = TestIndex(tmp_path_factory.mktemp("package-index"))
    idx.add_standard_projects()
    yield idx
    idx.stop()
