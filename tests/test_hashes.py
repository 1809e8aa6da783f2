"""Hash rules and mismatch classification (pipvet.core.hashes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipvet.core.errors import PolicyRefusal, UsageError
from pipvet.core.hashes import (
    HashMismatch,
    MismatchCause,
    classify_mismatch,
    file_digest,
    hash_from_url,
    matches,
    parse_hash,
    render_mismatch,
)
from pipvet.core.models import DistFile, FileHash

A = "a" * 64
B = "b" * 64
C = "c" * 64


@pytest.mark.parametrize("alg", ["md5", "sha1", "sha224", "MD5"])
def test_weak_algorithms_are_refused(alg: str) -> None:
    digest = hashlib.new(alg.lower(), b"x").hexdigest()
    with pytest.raises(PolicyRefusal, match="weak hash"):
        parse_hash(f"{alg}:{digest}")


def test_weak_url_fragment_is_refused() -> None:
    with pytest.raises(PolicyRefusal):
        hash_from_url("https://x/demo-1.0.tar.gz#md5=" + hashlib.md5(b"x").hexdigest())
    assert hash_from_url("https://x/demo-1.0.tar.gz#sha256=" + A) == FileHash("sha256", A)
    assert hash_from_url("https://x/demo-1.0.tar.gz#egg=demo") is None
    assert hash_from_url("https://x/demo-1.0.tar.gz") is None


@pytest.mark.parametrize(
    "text", ["sha256", "sha256:", "sha256:abc", "blake2b:" + A, "sha256:" + "g" * 64]
)
def test_malformed_hashes_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_hash(text)


def test_strong_hash_round_trip_and_matching(tmp_path: Path) -> None:
    f = tmp_path / "f.bin"
    f.write_bytes(b"payload")
    sha = hashlib.sha256(b"payload").hexdigest()
    sha512 = hashlib.sha512(b"payload").hexdigest()
    assert file_digest(f) == sha
    assert parse_hash("SHA256:" + sha.upper()) == FileHash("sha256", sha)
    assert matches(f, [FileHash("sha256", A), FileHash("sha512", sha512)]) == FileHash(
        "sha512", sha512
    )
    assert matches(f, [FileHash("sha256", A)]) is None


def _f(name: str, digest: str, when: str | None = None) -> DistFile:
    return DistFile(
        name, f"http://127.0.0.1/{name}", (FileHash("sha256", digest),), upload_time=when
    )


WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
NEW = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"


def test_same_filename_different_bytes_is_the_red_flag() -> None:
    cause = classify_mismatch(
        filename=WHEEL,
        locked_files=[_f(WHEEL, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(WHEEL, B, "2024-01-01T00:00:00Z")],
        lock_index_url="http://127.0.0.1:1/simple",
        index_url="http://127.0.0.1:1/simple/",
    )
    assert cause is MismatchCause.CHANGED_BYTES


def test_bytes_that_disagree_with_the_index_listing() -> None:
    same_name = classify_mismatch(
        filename=WHEEL,
        locked_files=[_f(WHEEL, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(WHEEL, A)],  # the index still lists the locked hash
        lock_index_url=None,
        index_url=None,
    )
    assert same_name is MismatchCause.CHANGED_BYTES
    unknown = classify_mismatch(
        filename=NEW,
        locked_files=[_f(WHEEL, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(WHEEL, A), _f(NEW, C)],
        lock_index_url=None,
        index_url=None,
    )
    assert unknown is MismatchCause.CORRUPT_DOWNLOAD


def test_file_uploaded_after_the_lock() -> None:
    cause = classify_mismatch(
        filename=NEW,
        locked_files=[_f(SDIST, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(SDIST, A, "2024-01-01T00:00:00Z"), _f(NEW, B, "2024-03-01T10:00:00.5Z")],
        lock_index_url=None,
        index_url=None,
    )
    assert cause is MismatchCause.NEW_UPLOAD


def test_lock_for_other_platform_only() -> None:
    mac = "demo-1.0-cp311-cp311-macosx_11_0_arm64.whl"
    cause = classify_mismatch(
        filename=NEW,
        locked_files=[_f(mac, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(mac, A, "2024-01-01T00:00:00Z"), _f(NEW, B, "2024-01-01T00:00:00Z")],
        lock_index_url=None,
        index_url=None,
        compatible=[NEW],
    )
    assert cause is MismatchCause.OTHER_PLATFORM


def test_other_index_or_mirror() -> None:
    cause = classify_mismatch(
        filename=WHEEL,
        locked_files=[_f(WHEEL, A)],
        locked_hashes=[FileHash("sha256", A)],
        actual_sha256=B,
        index_files=[_f(WHEEL, B)],
        lock_index_url="https://pypi.org/simple",
        index_url="https://www.piwheels.org/simple",
    )
    assert cause is MismatchCause.OTHER_INDEX


def test_render_is_short_names_everything_and_never_suggests_pasting() -> None:
    m = HashMismatch(
        requirement="demo==1.0",
        filename=WHEEL,
        url=f"http://127.0.0.1:9/files/{WHEEL}#sha256={B}",
        expected=(FileHash("sha256", A), FileHash("sha256", C), FileHash("sha256", "d" * 64)),
        actual=FileHash("sha256", B),
        expected_from="requirements.lock:7",
        cause=MismatchCause.CHANGED_BYTES,
    )
    text = render_mismatch(m)
    lines = text.splitlines()
    assert len(lines) <= 5
    assert WHEEL in lines[0] and "demo==1.0" in lines[0]
    assert A in text and B in text and "requirements.lock:7" in text
    assert f"http://127.0.0.1:9/files/{WHEEL}" in text and "#sha256" not in text
    assert "RED FLAG" in text
    lowered = text.lower()
    for bad in ("add lines like", "add the hash", "paste", "--hash="):
        assert bad not in lowered
    harmless = render_mismatch(
        HashMismatch(
            "demo==1.0", NEW, "u", (FileHash("sha256", A),), None, "x:1", MismatchCause.NEW_UPLOAD
        )
    )
    assert "RED FLAG" not in harmless and "uploaded after the lock" in harmless
