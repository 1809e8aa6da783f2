"""The SARIF 2.1.0 envelope both ``audit`` and ``scan`` write (one run, pipvet as the driver)."""

from __future__ import annotations

from typing import Any

from pipvet import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    information_uri: str | None = None,
) -> dict[str, Any]:
    """One SARIF run of pipvet with these rules and results."""
    driver: dict[str, Any] = {"name": "pipvet", "version": __version__}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = rules
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
