"""Hash-checked installs: plan, stage (download and verify), then let pip install only those files.

Pieces: ``plan`` (a file per package for the target, and the hashes it must have), ``target`` (the
interpreter), ``staging``, ``pip_runner``, ``run`` (stage, gate, pip, roll back), ``rollback`` and
``trust_store``. The install service (``pipvet.services.install``) puts them in order.
"""
