"""Report models: what each operation returns (frozen dataclasses, enums), printed by ``formats``.

One module per kind: ``scan``, ``audit``, ``verify``, ``lock``, ``install``, ``db``. Services build
them, formatters read them; nothing here does I/O.
"""
