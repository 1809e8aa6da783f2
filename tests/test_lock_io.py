"""Writing and reading locks in both forms (requirements file and PEP 751 pylock.toml)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.version import Version

from pipvet.core.errors import InputError
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.lockfile_io import (
    logical_lines,
    parse_requirements_lock,
    read_lock,
    render_pylock,
    render_requirements,
)
from pipvet.core.models import DistFile, FileHash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def _file(name: str, digest: str, size: int = 10) -> DistFile:
    return DistFile(
        name,
        f"https://files.example/{name}",
        (FileHash("sha256", digest),),
        size=size,
        upload_time="2025-01-01T00:01:00.000000Z",
    )


def _sample() -> Lock:
    gamma_files = (_file("gamma-1.0-py3-none-any.whl", H2), _file("gamma-1.0.tar.gz", H3))
    return Lock(
        packages=(
            LockedPackage(
                name="gamma",
                version=Version("1.0"),
                files=gamma_files,
                hashes=tuple(f.hashes[0] for f in gamma_files),
                marker='python_version >= "3.8"',
                via=("beta",),
                sdist_allowed=True,
            ),
            LockedPackage(
                name="alpha",
                version=Version("2.0"),
                files=(_file("alpha-2.0-py3-none-any.whl", H1),),
                hashes=(FileHash("sha256", H1),),
                via=("-r requirements.in",),
            ),
        ),
        index_url="https://index.example/simple/",
    )


def test_requirements_form_is_sorted_and_names_each_file() -> None:
    text = render_requirements(_sample(), header="made by a test\n  pipvet lock alpha")
    assert text == (
        "# made by a test\n"
        "#   pipvet lock alpha\n"
        "# index: https://index.example/simple/\n"
        "# allowed sdists (building them runs their code): gamma\n"
        "\n"
        f"alpha==2.0 \\\n    --hash=sha256:{H1}\n"
        "    # via -r requirements.in\n"
        f"    #   alpha-2.0-py3-none-any.whl sha256:{H1}\n"
        f'gamma==1.0 ; python_version >= "3.8" \\\n'
        f"    --hash=sha256:{H2} \\\n    --hash=sha256:{H3}\n"
        "    # via beta\n"
        f"    #   gamma-1.0-py3-none-any.whl sha256:{H2}\n"
        f"    #   gamma-1.0.tar.gz sha256:{H3}\n"
    )


def test_requirements_round_trip_keeps_hashes_marker_via_and_files(tmp_path: Path) -> None:
    path = tmp_path / "requirements.lock"
    path.write_text(render_requirements(_sample(), header="x"))
    lock = read_lock(path)
    assert lock.index_url == "https://index.example/simple/"
    assert [p.name for p in lock.packages] == ["alpha", "gamma"]
    gamma = lock.get("Gamma")
    assert gamma is not None
    assert gamma.marker == 'python_version >= "3.8"' and gamma.via == ("beta",)
    assert gamma.sdist_allowed and not lock.get("alpha").sdist_allowed  # type: ignore[union-attr]
    assert {str(h) for h in gamma.hashes} == {f"sha256:{H2}", f"sha256:{H3}"}
    assert gamma.filename_for(H3) == "gamma-1.0.tar.gz"
    assert render_requirements(lock, header="x") == path.read_text()


def test_pylock_form_validates_and_round_trips(tmp_path: Path) -> None:
    text = render_pylock(_sample())
    doc = tomllib.loads(text)
    Pylock.from_dict(doc)  # valid PEP 751
    gamma = next(p for p in doc["packages"] if p["name"] == "gamma")
    assert gamma["sdist"]["name"] == "gamma-1.0.tar.gz" and gamma["sdist"]["size"] == 10
    assert gamma["wheels"][0]["hashes"] == {"sha256": H2}
    assert gamma["wheels"][0]["upload-time"].year == 2025
    assert gamma["marker"] == 'python_version >= "3.8"'
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    lock = read_lock(path)
    assert [(p.name, str(p.version)) for p in lock.packages] == [("alpha", "2.0"), ("gamma", "1.0")]
    assert lock.get("gamma").via == ("beta",)  # type: ignore[union-attr]
    assert lock.get("gamma").filename_for(H2) == "gamma-1.0-py3-none-any.whl"  # type: ignore[union-attr]
    assert lock.packages[1].files[1].upload_time == "2025-01-01T00:01:00.000000Z"
    assert render_pylock(lock) == text
    other = tmp_path / "whatever.lock"  # recognised by content too
    other.write_text(text)
    assert read_lock(other).packages == lock.packages


def test_reading_keeps_unhashed_and_weak_lines_for_the_caller_to_refuse() -> None:
    lock = parse_requirements_lock(
        f"alpha==1.0\nbeta==1.0 --hash=md5:{'0' * 32}\ngamma==1.0 --hash sha256:{H1}\n"
    )
    assert lock.get("alpha").hashes == ()  # type: ignore[union-attr]
    assert lock.get("beta").hashes == (FileHash("md5", "0" * 32),)  # type: ignore[union-attr]
    assert lock.get("gamma").hashes == (FileHash("sha256", H1),)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("alpha==1.0\nbeta>=1.0 --hash=sha256:" + H1 + "\n", 2, "not pinned"),
        ("# c\n\nalpha==1.0 ; bogus >= 1\n", 3, "malformed requirement"),
        ("alpha==1.0 \\\n  --hash=sha256:zz\n", 1, "malformed hash"),
        ("alpha==1.0 --frob\n", 1, "unexpected option"),
        ("-e ./src\n", 1, "editable"),
        ("alpha==1.0\nalpha==1.0\n", 2, "listed twice"),
        ("alpha @ https://x.example/a.whl\n", 1, "direct URL"),
    ],
)
def test_malformed_lock_lines_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "req.lock"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_lock(path)
    assert info.value.message.startswith(f"{path}:{line}:")


def test_logical_lines_join_continuations_and_split_comments() -> None:
    text = "a==1 \\\n  --hash=sha256:x \\\n  --hash=sha256:y  # trailing\n# alone\nb==2\n"
    lines = list(logical_lines(text))
    assert [(ln.lineno, ln.text, ln.comment) for ln in lines] == [
        (1, "a==1 --hash=sha256:x --hash=sha256:y", "# trailing"),
        (4, "", "# alone"),
        (5, "b==2", ""),
    ]


def test_broken_pylock_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "Not Normal"\n')
    with pytest.raises(InputError, match="PEP 751"):
        read_lock(path)
    path.write_text("lock-version = \n")
    with pytest.raises(InputError, match="TOML"):
        read_lock(path)
