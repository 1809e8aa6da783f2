"""One registry of output formats per report kind; ``--format`` choices are read from it.

A format is a function ``render(report, **options) -> str`` named as ``"module:function"`` and
imported only when used, so choosing ``--format text`` never loads the SARIF code. Options a
format does not take are not passed to it (``color`` means nothing to JSON).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping


class FormatRegistry:
    """The formats of one report kind, in the order ``--help`` lists them (the first is the
    default)."""

    def __init__(self, kind: str, formats: Mapping[str, str]) -> None:
        self.kind = kind
        self._formats = dict(formats)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._formats)

    @property
    def default(self) -> str:
        return self.names[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __len__(self) -> int:
        return len(self._formats)

    def __getitem__(self, index: int) -> str:
        return self.names[index]

    def renderer(self, name: str):
        if name not in self._formats:
            raise ValueError(f"unknown {self.kind} format {name!r}")
        module, _, func = self._formats[name].partition(":")
        return getattr(importlib.import_module(module), func)

    def render(self, name: str, report: object, **options: object) -> str:
        """``report`` in format ``name``; ``options`` the format does not take are dropped."""
        fn = self.renderer(name)
        import inspect  # only when rendering: --help needs none of it

        params = inspect.signature(fn).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            options = {k: v for k, v in options.items() if k in params}
        return fn(report, **options)
