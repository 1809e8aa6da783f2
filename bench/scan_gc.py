"""Time of ``scan_one`` on a few artifacts with Python's garbage collector on and paused.

    python bench/scan_gc.py FILE [FILE ...] [--repeat 3]

Each measurement runs in a fresh process (no warm caches shared between modes), modes interleaved;
prints the median, min and max wall and CPU time (CPU time is the steadier figure on a busy
machine) and the peak RSS per artifact and mode.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipvet.core.reports.scan import ScanInput
from pipvet.services import scan
mode, path = sys.argv[1], Path(sys.argv[2])
item = ScanInput(path=path, label=path.name, kind="file")
work = scan.scan_one if mode == "paused" else scan.scan_one_gc_on
t, c = time.perf_counter(), time.process_time()
report = work(item)
took, cpu = time.perf_counter() - t, time.process_time() - c
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": took, "cpu": cpu, "rss_mb": rss, "verdict": report["verdict"]}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeat):
        for f in args.files:
            for mode in ("on", "paused"):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, mode, str(f)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                results.setdefault((f.name, mode), []).append(json.loads(out.stdout))
    for (name, mode), runs in results.items():
        times = [r["s"] for r in runs]
        cpu = [r["cpu"] for r in runs]
        print(
            f"{name:45} gc {mode:6} wall median {statistics.median(times):6.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}), CPU median "
            f"{statistics.median(cpu):6.2f} s (min {min(cpu):.2f}, max {max(cpu):.2f}), peak RSS "
            f"{max(r['rss_mb'] for r in runs):.0f} MB, verdict {runs[0]['verdict']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
