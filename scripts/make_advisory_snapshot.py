"""Generate the bundled advisory snapshot (src/pipvet/data/advisories.jsonl.xz).

Usage: python scripts/make_advisory_snapshot.py [SOURCE_DIR] [--commit SHA] [--date ISO]
    [--source-url URL] [--out PATH]

SOURCE_DIR defaults to ../shared/advisories/pypa-advisory-database. The commit and its date are
read from the folder when it is a git checkout; otherwise pass them (the shared copy is commit
3ccb6125 of 2024-10-10).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipvet.sources.advisories.ingest import git_commit, latest_modified, read_source
from pipvet.sources.advisories.snapshot import SNAPSHOT_PATH, write_snapshot

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 5 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "source", nargs="?", default=str(ROOT.parent / "shared/advisories/pypa-advisory-database")
    )
    ap.add_argument("--commit", help="commit of the source (when it is not a git checkout)")
    ap.add_argument("--date", help="date of that commit, ISO 8601")
    ap.add_argument("--source-url", default="https://github.com/pypa/advisory-database")
    ap.add_argument("--out", type=Path, default=SNAPSHOT_PATH)
    args = ap.parse_args(argv)
    src = Path(args.source)
    commit, date = git_commit(src)
    commit = commit or args.commit
    report = read_source(str(src / "vulns") if (src / "vulns").is_dir() else str(src))
    date = date or args.date or latest_modified(report.records)
    if not commit:
        print("warning: no commit known; pass --commit", file=sys.stderr)
    write_snapshot(
        args.out, report.records, {"source": args.source_url, "commit": commit, "date": date}
    )
    size = args.out.stat().st_size
    print(
        f"{args.out}: {len(report.records)} records, {len(report.skipped)} skipped, "
        f"{size / 1e6:.2f} MB, commit {commit}, date {date}"
    )
    for where, why in report.skipped:
        print(f"  skipped {where}: {why}", file=sys.stderr)
    if size > MAX_BYTES:
        print(f"error: snapshot is over {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
