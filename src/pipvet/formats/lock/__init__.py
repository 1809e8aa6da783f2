"""Output formats of ``pipvet lock``: a hashed requirements file, or PEP 751 ``pylock.toml``."""

from __future__ import annotations

from pipvet.formats.registries import LOCK as FORMATS

__all__ = ["FORMATS"]
