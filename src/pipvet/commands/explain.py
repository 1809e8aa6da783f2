"""``pipvet explain [RULE_ID]``: what a rule detects, why it matters, how to check a finding by
hand and when it is a false positive, read from the rule catalogue (``pipvet.services.explain``)."""

from __future__ import annotations

import argparse

from pipvet.formats.registries import EXPLAIN as FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a scan rule (or list them all)",
        description="Explain one rule of the scanner: what it detects, why it matters, how to "
        "check a finding by hand and when it is a false positive. Without RULE_ID, list every "
        "rule with its default severity.",
    )
    p.add_argument(
        "rule_id", nargs="?", metavar="RULE_ID", help="a rule id, e.g. intent.exfiltration"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.errors import EXIT_OK
    from pipvet.services.explain import explain

    report = explain(args.rule_id)
    width = console.width(sys.stdout)
    text = FORMATS.render(
        "text",
        report,
        color=console.use_color(sys.stdout),
        width=width,
        quiet=console.is_quiet(),
        verbose=console.is_verbose(),
    )
    write_output(text, None, fit=True)
    return EXIT_OK
