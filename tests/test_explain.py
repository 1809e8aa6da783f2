"""``pipvet explain``: rules read from the catalogue, for people (issue 13)."""

from __future__ import annotations

import pytest

from pipvet.cli.main import main
from pipvet.core.analysis.catalogue import CATALOGUE
from pipvet.services.explain import closest_rule_ids


def test_explain_one_rule_gives_the_four_parts_from_the_catalogue(capsys) -> None:
    rule = CATALOGUE["intent.decode-execute"]
    assert main(["explain", "intent.decode-execute"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for title in ("What it detects", "Why it matters", "How to check a finding by hand",
                  "When it is a false positive"):  # fmt: skip
        assert title in out
    for text in (rule.description, rule.why, rule.check, rule.false_positive):
        assert " ".join(text.split()) in flat
    assert "\033[" not in out  # captured output is not a terminal


def test_every_rule_says_why_it_matters() -> None:
    assert all(r.why for r in CATALOGUE.values())


def test_explain_lists_every_rule_one_line_each(capsys) -> None:
    assert main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(CATALOGUE)
    assert lines[-1].startswith(f"{len(CATALOGUE)} rules")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("decode-execute", "intent.decode-execute"), ("intent.decode-exec", "intent.decode-execute")],
)
def test_closest_ids(typed: str, expected: str) -> None:
    assert expected in closest_rule_ids(typed)


def test_unknown_rule_is_one_line_exit_2_with_suggestions(capsys) -> None:
    assert main(["explain", "capability.netwrk"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert len(cap.err.strip().splitlines()) == 1
    assert "unknown rule id" in cap.err and "capability.network" in cap.err


def test_unknown_rule_with_escape_codes_is_escaped(capsys) -> None:
    assert main(["explain", "x\033[2Jy"]) == 2
    assert "\033[2J" not in capsys.readouterr().err
