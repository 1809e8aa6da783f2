"""Benchmark `pipvet install --lock` (with its gate) against `uv pip install --require-hashes -r`
and `pip install --require-hashes -r` of the same ~40-package lock of real PyPI wheels.

    python bench/install.py [--repeat 3] [--work DIR] [--only warm|cold]

Every run installs into a fresh venv (made untimed, without pip). The lock is made once with
``pipvet lock`` from ``REQUIREMENTS`` (kept in the work folder, default
~/.cache/pipvet-bench/install). Times are wall-clock: median, min and max of ``--repeat`` runs. The
commands are interleaved: each round runs every command once, in an order rotated from round to
round, so a busier machine or a slower network weighs on all of them alike.

warm: caches filled by one untimed run of each command first. pipvet's rows: the default (uv,
.pyc compiled as pip does), ``--no-compile`` (what plain uv does), ``--installer pip``, and the
default with a cold inspection cache (the scan results deleted before each run, downloads
cached). uv's rows: plain and with ``--compile-bytecode`` (what pip does).
cold: every run gets empty caches (pipvet's, uv's, pip's: downloads, index pages, inspection
results; pipvet's advisory database, made by the warm runs, is copied in).

Goals (issue 15): pipvet with a warm inspection cache within 2x of uv; pipvet faster than pip even
with a cold inspection cache. Every tool is isolated from pip/uv configuration (PIP_*/UV_*
removed, PIP_CONFIG_FILE=/dev/null, uv --no-config).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/simple/"
REQUIREMENTS = [
    "requests", "rich", "httpx", "pydantic", "fastapi", "jinja2", "click", "sqlalchemy",
    "python-dateutil", "pyyaml", "attrs", "packaging", "flask", "tqdm", "pytz", "markdown",
]  # fmt: skip


def uv_binary() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def clean_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["XDG_CACHE_HOME"] = str(cache)
    env["PIP_CACHE_DIR"] = str(cache / "pip")
    env["UV_CACHE_DIR"] = str(cache / "uv")
    env["PIPVET_CACHE_DIR"] = str(cache / "pipvet")
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def make_lock(work: Path) -> Path:
    lock = work / "requirements.lock"
    if not lock.exists():
        reqs = work / "requirements.in"
        reqs.write_text("\n".join(REQUIREMENTS) + "\n")
        cmd = [sys.executable, "-m", "pipvet", "-q", "lock", "-r", str(reqs), "-o", str(lock)]
        subprocess.run(cmd, check=True, env=clean_env(work / "cache"))
    return lock


def pinned(lock: Path) -> int:
    return sum(1 for ln in lock.read_text().splitlines() if "==" in ln and ln[:1].isalnum())


def commands(lock: Path, venv: str) -> dict[str, list[str]]:
    py, uv = sys.executable, uv_binary()
    pipvet = [py, "-m", "pipvet", "-q", "install", "--lock", str(lock), "--python", venv, "-y"]
    uv_install = [uv, "pip", "install", "--no-config", "-q", "--require-hashes", "-r", str(lock),
                  "--python", f"{venv}/bin/python"]  # fmt: skip
    pip_install = [py, "-m", "pip", "--python", f"{venv}/bin/python", "install", "-q",
                   "--disable-pip-version-check", "--require-hashes", "-r", str(lock)]  # fmt: skip
    return {
        "pipvet install --lock": pipvet,
        "pipvet install --lock, cold inspection cache": pipvet,
        "pipvet install --lock --no-compile": [*pipvet, "--no-compile"],
        "pipvet install --lock --installer pip": [*pipvet, "--installer", "pip"],
        "uv pip install --require-hashes -r": uv_install,
        "uv pip install --require-hashes -r --compile-bytecode": [
            *uv_install,
            "--compile-bytecode",
        ],
        "pip install --require-hashes -r": pip_install,
    }


COLD_ROWS = (
    "pipvet install --lock",
    "uv pip install --require-hashes -r",
    "pip install --require-hashes -r",
)


def run_once(cmd: list[str], env: dict[str, str], work: Path) -> float:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    cmd = [c.replace("{venv}", str(venv)) for c in cmd]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout[-1500:]}{proc.stderr[-2000:]}")
    return elapsed


def advisories(work: Path) -> Path | None:
    """pipvet's advisory database (made from the bundled snapshot by the warm runs), copied into
    every cold pipvet cache, as an installed pipvet has it after its first run."""
    db = work / "warm-cache" / "pipvet" / "advisories.sqlite"
    return db if db.exists() else None


def bench(kind: str, rows: list[str], cmds: dict, repeat: int, work: Path) -> dict[str, list]:
    warm_cache = work / "warm-cache"
    times: dict[str, list[float]] = {r: [] for r in rows}
    if kind == "warm":
        for row in rows:  # fill the caches
            run_once(cmds[row], clean_env(warm_cache), work)
    for i in range(repeat):
        order = rows[i % len(rows) :] + rows[: i % len(rows)]
        for row in order:
            if kind == "warm":
                env = clean_env(warm_cache)
                if "cold inspection" in row:
                    scans = warm_cache / "pipvet" / "scan-results.sqlite3"
                    for p in scans.parent.glob(scans.name + "*"):
                        p.unlink()
            else:
                cache = Path(tempfile.mkdtemp(prefix="cold-", dir=work))
                env = clean_env(cache)
                db = advisories(work)
                if db is not None:
                    (cache / "pipvet").mkdir(parents=True)
                    shutil.copy(db, cache / "pipvet" / "advisories.sqlite")
            times[row].append(run_once(cmds[row], env, work))
            if kind == "cold":
                shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
            print(f"  {kind} {row}: {times[row][-1]:.2f} s", file=sys.stderr, flush=True)
    return times


def table(kind: str, times: dict[str, list[float]], n: int) -> str:
    lines = [
        f"\n## {kind} caches: install of a {n}-package lock into a fresh venv\n",
        "| command | median | min | max |",
        "| --- | --- | --- | --- |",
    ]
    for row, ts in times.items():
        med = statistics.median(ts)
        lines.append(f"| {row} | {med:.2f} s | {min(ts):.2f} s | {max(ts):.2f} s |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=str(Path.home() / ".cache" / "pipvet-bench" / "install"))
    ap.add_argument("--only", choices=("warm", "cold"))
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    lock = make_lock(work)
    n = pinned(lock)
    cmds = commands(lock, "{venv}")
    print(f"# bench/install.py: {n} packages, median of {args.repeat}, interleaved")
    print(f"lock: {lock} (from {' '.join(REQUIREMENTS)})")
    results = {}
    for kind in ("warm", "cold"):
        if args.only and kind != args.only:
            continue
        rows = list(cmds) if kind == "warm" else list(COLD_ROWS)
        results[kind] = bench(kind, rows, cmds, args.repeat, work)
        print(table(kind, results[kind], n), flush=True)
    if "warm" in results:
        w = {r: statistics.median(t) for r, t in results["warm"].items()}
        uv, uvc = (
            w["uv pip install --require-hashes -r"],
            w["uv pip install --require-hashes -r --compile-bytecode"],
        )
        pip = w["pip install --require-hashes -r"]
        print("\n## goals (warm medians)\n")
        print(f"- pipvet --no-compile / uv: {w['pipvet install --lock --no-compile'] / uv:.2f}x")
        print(f"- pipvet / uv --compile-bytecode: {w['pipvet install --lock'] / uvc:.2f}x")
        cold_scan = w["pipvet install --lock, cold inspection cache"]
        print(f"- pipvet with a cold inspection cache / pip: {cold_scan / pip:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
