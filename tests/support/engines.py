"""The ``installer`` fixture: a safety test runs once with each install engine."""

from __future__ import annotations

import pytest

ENGINES = ("pip", "uv")


@pytest.fixture(params=ENGINES)
def installer(request: pytest.FixtureRequest) -> str:
    """The engine's name, "pip" or "uv", for ``pipvet install --installer``."""
    return request.param
