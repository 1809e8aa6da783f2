"""Typosquat name checks: each kind of likeness flags a squat and leaves an honest name alone, no
popular name is ever flagged, ``suggest`` for unknown names, and ``pipvet check-names``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from pipvet.cli.main import main
from pipvet.core.names import NameIndex, check_name, popular_rows, suggest

ROOT = Path(__file__).resolve().parents[1]
SHARED_TSV = ROOT.parent / "shared" / "corpus" / "top-pypi-15000.tsv"


@pytest.mark.parametrize(
    ("name", "target", "words"),
    [
        ("pythondateutil", "python-dateutil", "the same letters with other separators"),
        ("rnatplotlib", "matplotlib", "look-alike characters (rn for m)"),
        ("c1ick", "click", "look-alike characters (1 for l)"),
        ("fIask", "flask", "look-alike characters (I for l)"),
        ("python-requests", "requests", "'python' added in front"),
        ("pyrequests", "requests", "'py' added in front"),
        ("requests-py", "requests", "'py' added at the end"),
        ("requests2", "requests", "'2' added at the end"),
        ("dateutil", "python-dateutil", "'python' left out"),
        ("reqeusts", "requests", "two neighbouring letters swapped (eu for ue)"),
        ("requestss", "requests", "one letter doubled (s)"),
        ("reqiests", "requests", "one letter replaced by a keyboard neighbour (i for u)"),
        ("requepts", "requests", "one letter replaced (p for s)"),
        ("requestsx", "requests", "one letter added (x)"),
        ("requets", "requests", "one letter left out (s)"),
        ("beautifulsop", "beautifulsoup4", "two letters changed"),
    ],
)
def test_each_kind_flags_a_squat(name: str, target: str, words: str) -> None:
    found = check_name(name)
    rank = dict((n, r) for r, n in popular_rows())[target]
    assert (found.name, found.typosquat_of, found.rank) == (name, target, rank)
    assert found.reason == f"{words}: did you mean {target} (rank {rank})?"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("requests", "popular itself"),
        ("Requests", "the same project (PEP 503 folds case)"),
        ("python_dateutil", "the same project (PEP 503 folds separators)"),
        ("pytest-mpi", "a lowercase i passes for no l"),
        ("pypolyline", "py affix of a name below the top 1,000 (polyline)"),
        ("pkginfo2", "digit affix of a name below the top 100 (pkginfo)"),
        ("ulid", "affix left out of a name below the top 100 (python-ulid)"),
        ("enmrekar", "swap in a name below the top 10,000 (enmerkar)"),
        ("chekov", "letter left out of a name below the top 1,000 (checkov)"),
        ("checkiv", "keyboard slip in a name below the top 1,000 (checkov)"),
        ("sixx", "one edit of a name shorter than five letters (six)"),
        ("xequests", "a replaced first letter"),
        ("requ3ests", "an added digit"),
        ("zzqxv-unrelated", "nothing like it"),
    ],
)
def test_honest_names_are_left_alone(name: str, why: str) -> None:
    found = check_name(name)
    assert found.typosquat_of is None and found.rank is None and found.reason == "", why


def test_shared_segments_and_digits_do_not_make_a_squat() -> None:
    rows = [(1, "django-axes"), (2, "types-boto3-ec2"), (3, "cupy-cuda12x"), (4, "flask-login")]
    index = NameIndex(rows)
    assert not index.check("django-ace").flagged  # two edits in a short part after "django-"
    assert not index.check("types-boto3-ecs").flagged  # a digit replaced
    assert not index.check("cupy-cuda11x").flagged
    assert index.check("flask-logni").flagged  # a swap is a squat wherever it is


def test_no_popular_name_is_flagged() -> None:
    rows = popular_rows()
    assert len(rows) > 14000
    assert [n for _, n in rows if check_name(n).flagged] == []


def test_honest_names_below_a_cut_list_are_rarely_flagged() -> None:
    """Not 0 by construction: names ranked 10,001+ checked against the list cut at 10,000 are
    honest projects the cut list does not know; under 0.5% may be flagged (bench/names.py)."""
    rows = popular_rows()
    index = NameIndex([r for r in rows if r[0] <= 10000])
    below = [n for r, n in rows if r > 10000]
    flagged = [n for n in below if index.check(n).flagged]
    assert len(flagged) < 0.005 * len(below), flagged


def test_rank_aware_popular_names_rarely_look_like_squats() -> None:
    """Without the exemption, each limit scales with the name's own rank: few popular names are
    near a *much* more popular one (pyaml, rank ~1,600, is; pyyaml, rank 15, is not)."""
    index = NameIndex(popular_rows())
    rows = popular_rows()
    flagged = [n for _, n in rows if index.check(n, exempt_popular=False).flagged]
    assert len(flagged) < 0.005 * len(rows), flagged
    assert index.check("pyaml", exempt_popular=False).typosquat_of == "pyyaml"
    assert not index.check("pyyaml", exempt_popular=False).flagged
    assert not index.check("pyaml").flagged  # the product never flags a popular name


def test_letters_of_other_scripts_are_look_alikes() -> None:
    cyrillic_e = "r\u0435quests"
    fullwidth = "\uff52\uff45\uff51\uff55\uff45\uff53\uff54\uff53"
    for name in (cyrillic_e, fullwidth):
        found = check_name(name)
        assert found.typosquat_of == "requests"
        assert found.reason.startswith("look-alike characters (letters of another script)")


def test_suggest_names_the_closest_popular_name() -> None:
    assert suggest("reqeusts") == check_name("reqeusts")
    far = suggest("customtkintr")  # a letter left out of a name ranked below 1,000: no squat
    assert not check_name("customtkintr").flagged
    assert far.typosquat_of == "customtkinter"
    assert far.reason.startswith("one letter left out (e): did you mean customtkinter (rank ")
    assert suggest("zzqxvunrelated").typosquat_of is None
    assert suggest("requests").typosquat_of is None  # on the list: nothing to suggest


def test_popular_names_file_matches_its_generator() -> None:
    if not SHARED_TSV.is_file():
        pytest.skip("../shared is not here")
    spec = importlib.util.spec_from_file_location("mpn", ROOT / "scripts" / "make_popular_names.py")
    assert spec and spec.loader
    mpn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mpn)
    shipped = (ROOT / "src" / "pipvet" / "data" / "popular_names.txt").read_text("utf-8")
    header, rows = mpn.read_ranking(SHARED_TSV)
    import datetime as dt

    fresh = mpn.render(SHARED_TSV.name, header, rows, dt.date(2000, 1, 1))
    drop_date = [ln for ln in shipped.splitlines() if not ln.startswith("# Generated by")]
    assert drop_date == [ln for ln in fresh.splitlines() if not ln.startswith("# Generated by")]
    assert shipped.splitlines()[1].startswith("# Source: top-pypi-15000.tsv (")
    assert "6\trequests" in shipped.splitlines()


# -- pipvet check-names ----------------------------------------------------------------------


def test_check_names_json_and_exit_code(capsys) -> None:
    assert main(["check-names", "reqeusts", "numpy", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "names": [
            {
                "name": "reqeusts",
                "typosquat_of": "requests",
                "reason": "two neighbouring letters swapped (eu for ue): "
                "did you mean requests (rank 6)?",
            },
            {"name": "numpy", "typosquat_of": None, "reason": ""},
        ]
    }


def test_check_names_text_clean_exits_0(capsys) -> None:
    assert main(["check-names", "requests", "flask"]) == 0
    out = capsys.readouterr().out
    assert "requests: ok" in out and "no typosquats among 2 names" in out


def test_check_names_text_flagged(capsys) -> None:
    assert main(["check-names", "pandaa"]) == 1
    out = capsys.readouterr().out
    assert "pandaa: typosquat? " in out and "did you mean pandas (rank " in out


@pytest.mark.parametrize("bad", ["requests==2.0", "-x-", "two words"])
def test_check_names_rejects_what_is_not_a_name(capsys, bad: str) -> None:
    assert main(["check-names", "requests", "--", bad]) == 2
    cap = capsys.readouterr()
    assert f"name #2 {bad!r} is not a valid project name" in cap.err and cap.out == ""


def test_odd_input_is_clean_and_cheap() -> None:
    import time

    start = time.perf_counter()
    for name in ("", "-", "x" * 5000, "requests" * 300):
        assert not check_name(name).flagged and not suggest(name).flagged
    assert time.perf_counter() - start < 2.0
