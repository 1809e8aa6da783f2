"""Services: the operations, one module each (lock, install, verify, audit, scan, db).

Each takes a typed request (a frozen dataclass), returns a frozen report from
``pipvet.core.reports`` and prints nothing: messages go to an optional ``progress`` callback
(``pipvet.core.progress``). Commands, the install gate and other callers use them as a library.
"""
