"""Reading requirements files and pyproject.toml as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipvet.core.errors import InputError
from pipvet.core.models import FileHash
from pipvet.sources.requirements import read_pyproject, read_requirements


def test_nested_files_options_continuations_and_hashes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPVET_TEST_VERSION", "2.0")
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "base.txt").write_text(
        "# base\nbeta[fast] >= 1.0 ; python_version >= '3.8'  # trailing\n-c pins.txt\n"
    )
    (tmp_path / "deps" / "pins.txt").write_text("gamma==1.0\n-r base.txt\n")  # a cycle: fine
    top = tmp_path / "requirements.txt"
    top.write_text(
        "--index-url https://index.example/simple/\n"
        "--extra-index-url=https://other.example/simple/\n"
        "--only-binary :all:\n--pre\n"
        "alpha==${PIPVET_TEST_VERSION} \\\n"
        f"    --hash=sha256:{'a' * 64} \\\n"
        f"    --hash sha256:{'b' * 64}\n"
        "-rdeps/base.txt\n"
    )
    rf = read_requirements(top)
    assert rf.index_url == "https://index.example/simple/"
    assert rf.extra_index_urls == ("https://other.example/simple/",)
    assert rf.options == (("--only-binary", ":all:"), ("--pre", None))
    alpha, beta = rf.requirements
    assert str(alpha.requirement) == "alpha==2.0" and alpha.lineno == 5
    assert alpha.hashes == (FileHash("sha256", "a" * 64), FileHash("sha256", "b" * 64))
    assert alpha.origin == f"-r {top}"
    assert beta.requirement.extras == {"fast"} and str(beta.requirement.marker).startswith("python")
    assert beta.source.endswith("base.txt") and beta.lineno == 2
    assert [str(c) for c in rf.constraints] == ["gamma==1.0"]
    assert rf.constraints[0].origin.startswith("-c ")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("alpha\nbeta >>= 1\n", 2, "malformed requirement"),
        ("-e .\n", 1, "editable"),
        ("\n\n./some/dir\n", 3, "malformed requirement"),
        ("alpha --frobnicate\n", 1, "unknown option"),
        ("--wat\n", 1, "unsupported option"),
        ("-r missing.txt\n", 1, "no such file"),
        ("alpha --hash=sha256\n", 1, "malformed hash"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "r.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_requirements(path)
    assert info.value.message.startswith(f"{path}:{line}:")


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_requirements(tmp_path / "absent.txt")


def test_pyproject_dependencies_extras_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["alpha>=1", "beta"]\n'
        '[project.optional-dependencies]\nFast = ["gamma"]\n'
        '[dependency-groups]\ntest = ["pytest", {include-group = "lint"}]\nlint = ["ruff"]\n'
    )
    assert read_pyproject(path) == ["alpha>=1", "beta"]
    assert read_pyproject(path, groups=["fast"]) == ["alpha>=1", "beta", "gamma"]
    assert read_pyproject(path, groups=["test"]) == ["alpha>=1", "beta", "pytest", "ruff"]
    with pytest.raises(InputError, match="no optional dependencies or dependency group"):
        read_pyproject(path, groups=["nope"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[project]\nname = "x"\ndynamic = ["dependencies"]\n', "dynamic"),
        ("[tool.x]\n", "no \\[project\\] table"),
        ('[project]\ndependencies = ["a >>= 1"]\n', "malformed requirement"),
        ("[project\n", "not valid TOML"),
        ('[project]\ndependencies = "alpha"\n', "list of strings"),
    ],
)
def test_bad_pyproject(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    with pytest.raises(InputError, match=message):
        read_pyproject(path)
