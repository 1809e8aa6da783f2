"""A thread pool that stop signals cannot cut in half (apart from ``pip_runner``: importing
``concurrent.futures`` pulls in ``logging``, ~10 ms that ``pipvet lock`` would spend before it
starts uv)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pipvet.installer.pip_runner import stops_deferred


class StoppablePool(ThreadPoolExecutor):
    """A thread pool whose ``submit`` (and so ``map``) a stop signal cannot cut in half
    (``stops_deferred``): every worker it starts is one its shutdown waits for."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        with stops_deferred():
            return super().submit(fn, *args, **kwargs)
