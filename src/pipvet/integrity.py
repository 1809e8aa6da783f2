"""Integrity checks for what pipvet keeps on disk (scan results, trusted hashes).

Each store has its own random key in a file beside it (created once, readable by its owner only);
every record carries an HMAC-SHA256 of its content under that key, so a record edited or rewritten
outside pipvet (or damaged) no longer verifies. Someone who can read the key can forge records:
this detects tampering with the data, it does not protect against the account that owns it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def load_key(path: Path, *, create: bool = True) -> bytes | None:
    """The key in ``path``; created (owner-only) when absent and ``create``. None when absent
    and not created, or unreadable."""
    try:
        key = path.read_bytes()
        return key if len(key) == KEY_BYTES else None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    key = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        os.link(tmp, path)  # atomic, and never over a key another process made first
    except FileExistsError:
        return load_key(path, create=False)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return key


def sign(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 (hex) of ``parts``, each length-prefixed so no two tuples collide."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        mac.update(len(data).to_bytes(8, "big"))
        mac.update(data)
    return mac.hexdigest()


def verify(key: bytes, signature: str, *parts: str) -> bool:
    return hmac.compare_digest(sign(key, *parts), signature or "")


__all__ = ["load_key", "sign", "verify"]
