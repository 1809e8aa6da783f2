"""``pipvet check-names``: are these project names typosquats of popular projects? (offline)"""

from __future__ import annotations

import argparse

DESCRIPTION = """Check project names before anything is downloaded: a name close to a much more
popular project's (a letter doubled, left out, replaced or swapped, look-alike characters, other
separators, py/python/digit affixes) and not popular itself is flagged with the name it imitates.
Exit 1 when a name is flagged. Works offline from the popular-names list pipvet ships."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-names", help="flag typosquats of popular project names", description=DESCRIPTION
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="project names to check")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.errors import EXIT_OK, EXIT_POLICY
    from pipvet.formats.names import render
    from pipvet.services.names import check_project_names

    report = check_project_names(args.names)
    text = render(report, args.format, quiet=console.is_quiet(), verbose=console.is_verbose())
    write_output(text, None, fit=args.format == "text")
    return EXIT_POLICY if report.flagged else EXIT_OK
