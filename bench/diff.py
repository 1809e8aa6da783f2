"""Benchmark `pipvet diff` on two real locks of about 150 packages (needs the public index).

    python bench/diff.py [--workdir DIR] [--keep-locks]

Both locks come from `pipvet lock` of the same requirement set (bench/lock.py's large set): the old
one with upper bounds on the top-level projects and a few common dependencies (an older
resolution), the new one without. Then `pipvet diff OLD NEW` runs twice with a fresh temporary
PIPVET_CACHE_DIR: cold (empty inspection cache: every changed package is downloaded, hash-checked
and scanned) and warm (same cache: scan results and metadata come from the cache by sha256;
files are downloaded again, since pipvet keeps no artifact cache). The summary part of the
markdown output is printed at the end. Locks are kept in --workdir (default a temp dir) and
reused when they exist there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INDEX = "https://pypi.org/simple/"
NEW = [
    "pandas", "scikit-learn", "matplotlib", "seaborn", "jupyterlab", "boto3",
    "google-cloud-storage", "google-cloud-bigquery", "azure-storage-blob", "azure-identity",
    "sqlalchemy", "requests", "pyarrow", "statsmodels", "plotly", "dask[distributed]",
]  # fmt: skip
OLD = [
    "pandas<2.1", "scikit-learn<1.4", "matplotlib<3.8", "seaborn<0.13", "jupyterlab<4.1",
    "boto3<1.30", "google-cloud-storage<2.12", "google-cloud-bigquery<3.12",
    "azure-storage-blob<12.18", "azure-identity<1.15", "sqlalchemy<2.0.20", "requests<2.31",
    "pyarrow<14", "statsmodels<0.14.1", "plotly<5.17", "dask[distributed]<2023.9",
    "numpy<1.26", "scipy<1.11", "urllib3<2", "protobuf<4.24", "tornado<6.4", "jinja2<3.1.3",
]  # fmt: skip


def env_with(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIPVET_CACHE_DIR"] = str(cache)
    return env


def make_lock(reqs: list[str], out: Path, work: Path) -> None:
    if out.exists():
        return
    src = work / (out.stem + ".in")
    src.write_text("\n".join(reqs) + "\n")
    cmd = [sys.executable, "-m", "pipvet", "-q", "lock", "-r", str(src), "--index-url", INDEX]
    cmd += ["-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env_with(work / "lock-cache"))
    if proc.returncode != 0:
        raise SystemExit(f"lock failed: {proc.stderr[-2000:]}")


def pins(path: Path) -> int:
    return sum(1 for ln in path.read_text().splitlines() if "==" in ln and ln[:1].isalnum())


def timed_diff(old: Path, new: Path, cache: Path, fmt: str) -> tuple[float, int, str, str]:
    cmd = [sys.executable, "-m", "pipvet", "diff", str(old), str(new), "--format", fmt]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env_with(cache))
    return time.perf_counter() - start, proc.returncode, proc.stdout, proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None, help="keep locks here (reused if present)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pipvet-bench-diff-"))
    work.mkdir(parents=True, exist_ok=True)
    old, new = work / "old.lock", work / "new.lock"
    make_lock(OLD, old, work)
    make_lock(NEW, new, work)
    with tempfile.TemporaryDirectory(prefix="pipvet-diff-cache-") as cache_name:
        cache = Path(cache_name)
        cold = timed_diff(old, new, cache, "markdown")
        warm = timed_diff(old, new, cache, "markdown")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {INDEX}")
    print(f"# old lock {pins(old)} pins, new lock {pins(new)} pins ({work})")
    print(f"{'run':<6} {'seconds':>8} {'exit':>5}")
    for label, (secs, code, _, err) in (("cold", cold), ("warm", warm)):
        print(f"{label:<6} {secs:>8.1f} {code:>5}")
        if code not in (0, 1) or not (cold[2] if label == "cold" else warm[2]).strip():
            print(err[-2000:])
    summary = cold[2].split("<details>", 1)[0].rstrip()
    print("\n# summary part of the markdown output (cold run)\n")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
