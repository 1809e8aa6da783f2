"""``pipvet report NAME[==VERSION] | ARTIFACT``: a suspicious package's evidence as a report for
PyPI (text) or for the OpenSSF malicious-packages database (an OSV ``MAL-`` record); the work is
``pipvet.services.report``. It prints where to send each form and sends nothing."""

from __future__ import annotations

import argparse

from pipvet.formats.registries import REPORT as FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a malware report for a suspicious package (sends nothing)",
        description="Inspect a package (as data, never run; results cached by sha256) and write "
        "its evidence as a report: text for PyPI's malware report or security@pypi.org, an OSV "
        "MAL- record for github.com/ossf/malicious-packages, or JSON. Prints where to send "
        "each; sends nothing.",
    )
    p.add_argument("target", metavar="NAME[==VERSION] | ARTIFACT", help="what to report")
    p.add_argument("--index-url", metavar="URL", help="index to fetch NAME from (default: PyPI)")
    p.add_argument("--format", choices=FORMATS.names, default=FORMATS.default, help="output form")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipvet.cli import console
    from pipvet.cli.output import write_output
    from pipvet.core.errors import EXIT_OK
    from pipvet.core.models import DEFAULT_INDEX_URL
    from pipvet.formats.report.text import how_to_send
    from pipvet.services.report import ReportRequest, build_report

    report = build_report(
        ReportRequest(target=args.target, index_url=args.index_url or DEFAULT_INDEX_URL),
        progress=console.progress,
    )
    write_output(FORMATS.render(args.format, report), args.output)
    if args.output:
        console.info(f"wrote {args.output}")
    if report.verdict in ("clean", "risky"):
        console.warn(
            f"the inspection found no sign of malice ({report.verdict}): check before reporting"
        )
    for line in how_to_send(report, output_format=args.format):
        console.info(line)
    return EXIT_OK
