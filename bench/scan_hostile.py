"""Time and peak memory of ``pipvet scan`` on every hostile archive of the test generator.

    python bench/scan_hostile.py [--timeout 300] [CASE ...]

Each case of ``tests/support/hostile.py`` (bombs, huge tar header extensions, more members than
the bound, code hidden behind deep nesting, comments or a codec) is built in a temporary folder
and scanned by ``python -m pipvet scan --no-cache --format json`` in its own process, so the
figures are that process's CPU time and peak resident memory (``RUSAGE_CHILDREN``). The table
gives the verdict, the exit code and the rules of the findings that decided it. Cases are built
in a process of their own too (a peak resident size carries over a fork).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import hostile  # noqa: E402

CASES: dict[str, Callable[[Path], Path]] = {
    "deep-sum": hostile.deep_sum,
    "deep-calls": hostile.deep_calls,
    "comment-flood": hostile.comment_flood,
    "utf-7": hostile.utf7_payload,
    "setup-runs-tooling": hostile.setup_runs_tooling,
    "members-past-the-bound": hostile.many_members,
    "gzip-bomb-member": hostile.gzip_bomb_member,
    "zip-bomb-member": hostile.zip_bomb_member,
    "unknown-type-16GiB": hostile.unknown_type_huge,
    "pax-400000-digits": hostile.pax_digits,
    "pax-256MiB": lambda d: hostile.long_header(d, tarfile.XHDTYPE),
    "gnu-longname-256MiB": lambda d: hostile.long_header(d, tarfile.GNUTYPE_LONGNAME),
    "escapes": hostile.escape_path,
}


# the scan, then the process's own CPU time and peak memory on stderr's last line
_CHILD = """
import json, resource, sys
from pipvet.cli.main import main
code = main(["scan", "--no-cache", "--format", "json", sys.argv[1]])
u = resource.getrusage(resource.RUSAGE_SELF)
sys.stderr.write("\\nRUSAGE " + json.dumps([u.ru_utime + u.ru_stime, u.ru_maxrss]) + "\\n")
sys.exit(code)
"""


def measure(path: Path, timeout: float) -> dict:
    """Scan ``path`` in a child process; its verdict, exit code, CPU seconds and peak RSS."""
    env = dict(os.environ, PIPVET_CACHE_DIR=str(path.parent / "cache"))
    env["PYTHONPATH"] = str(ROOT / "src")
    cmd = [sys.executable, "-c", _CHILD, str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"verdict": "timeout", "code": None, "cpu": timeout, "rss_mib": 0.0, "rules": []}
    cpu, rss_kib = 0.0, 0
    for line in proc.stderr.splitlines():
        if line.startswith("RUSAGE "):
            cpu, rss_kib = json.loads(line[7:])
    try:
        [art] = json.loads(proc.stdout)["artifacts"]
    except (ValueError, KeyError):
        art = {"verdict": "error", "findings": []}
    top = {"high", "critical"} if art["verdict"] in ("suspicious", "malicious") else {"medium"}
    return {
        "verdict": art["verdict"],
        "code": proc.returncode,
        "cpu": cpu,
        "rss_mib": rss_kib / 1024,
        "rules": sorted({f["rule"] for f in art["findings"] if f["severity"] in top}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=", ".join(CASES))
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--build", metavar="DIR", help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.build:  # in a child process, so the parent's memory never counts as the scan's
        print(CASES[args.cases[0]](Path(args.build)))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    print(f"{'case':<22} {'verdict':<11} {'exit':>4} {'cpu s':>7} {'peak MiB':>9}  rules")
    worst = ("", 0.0)
    for name in args.cases or CASES:
        with tempfile.TemporaryDirectory(prefix="pipvet-hostile-") as tmp:
            build = [sys.executable, __file__, name, "--build", tmp]
            path = Path(
                subprocess.run(build, capture_output=True, text=True, check=True).stdout.strip()
            )
            r = measure(path, args.timeout)
        worst = max(worst, (name, r["cpu"]), key=lambda w: w[1])
        print(
            f"{name:<22} {r['verdict']:<11} {r['code']!s:>4} {r['cpu']:>7.2f} "
            f"{r['rss_mib']:>9.0f}  {', '.join(r['rules'])}",
            flush=True,
        )
    print(f"\nworst CPU time: {worst[0]} ({worst[1]:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
