"""Benchmark: `pipvet audit` on a 300-pin lock and a 150-package environment, beside `pip list`.

Everything runs as whole processes, several times each, in the same run (hyperfine-style median).
Inputs, built once under a temporary folder outside the repository:
  * a 300-pin requirements lock: real PyPI names and versions taken from the bundled advisory
    snapshot (each pin a version some advisory lists, so matching does real work); synthetic
    sha256 hashes (audit never downloads);
  * a 150-package environment: a real venv (with pip) plus 150 ``.dist-info`` folders that mimic
    real installs (METADATA, RECORD, INSTALLER, top_level.txt) for the 150 most-downloaded
    projects of ../shared/corpus/benign-top.tsv at their listed versions. No package code.
  * the local advisory index: built from the bundled snapshot once (as a fresh install does).

Usage: python bench/audit.py [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ROOT.parent / "shared" / "corpus" / "benign-top.tsv"
BIN = Path(sys.executable).parent


def make_lock(path: Path, n: int = 300) -> int:
    from packaging.version import InvalidVersion, Version

    from pipvet.sources.advisories.snapshot import read_snapshot

    _, records = read_snapshot()
    pins: dict[str, str] = {}
    for rec in records:
        for a in rec.get("affected", []):
            name = a["package"]["name"].lower()
            for v in reversed(a.get("versions", [])):
                try:
                    Version(v)
                except InvalidVersion:
                    continue
                pins.setdefault(name, v)
                break
        if len(pins) >= n:
            break
    lines = ["# synthetic 300-pin lock for bench/audit.py"]
    for name, version in sorted(pins.items())[:n]:
        digest = hashlib.sha256(f"{name}=={version}".encode()).hexdigest()
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    path.write_text("\n".join(lines) + "\n")
    return len(pins)


def _top_rows() -> list[list[str]]:
    """(rank, name, version) rows of benign-top.tsv that name a version."""
    rows = [ln.split("\t") for ln in TOP.read_text().splitlines() if ln and ln[0] != "#"]
    return [r for r in rows if len(r) == 3 and r[2].strip()]


def make_top_lock(path: Path, n: int = 300) -> int:
    """A realistic lock: the n most-downloaded projects at the versions listed on 2026-11-01."""
    lines = ["# 300 most-downloaded projects, for bench/audit.py"]
    rows = _top_rows()
    for _, name, version in rows[:n]:
        digest = hashlib.sha256(f"{name}=={version}".encode()).hexdigest()
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    path.write_text("\n".join(lines) + "\n")
    return min(n, len(rows))


def make_env(venv: Path, n: int = 150) -> int:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    rows = _top_rows()
    made = 0
    for _, name, version in rows:
        if made >= n or name in ("pip", "setuptools"):
            continue
        mod = name.replace("-", "_").lower()
        d = site / f"{mod}-{version}.dist-info"
        if d.exists():
            continue
        d.mkdir()
        (d / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Summary: {name} (benchmark stand-in)\nRequires-Python: >=3.8\n\n{name}\n"
        )
        (d / "INSTALLER").write_text("pip\n")
        (d / "top_level.txt").write_text(f"{mod}\n")
        (d / "RECORD").write_text(
            f"{mod}/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
            f"{d.name}/METADATA,,\n{d.name}/RECORD,,\n"
        )
        made += 1
    return made


def timed(
    cases: list[tuple[str, list[str]]], runs: int, env: dict[str, str]
) -> dict[str, tuple[list[float], int]]:
    """Run every command once per round, round-robin, so load changes hit all of them alike."""
    for _, cmd in cases:
        subprocess.run(cmd, capture_output=True, env=env)  # warm-up (page cache, .pyc)
    out: dict[str, tuple[list[float], int]] = {label: ([], 0) for label, _ in cases}
    for _ in range(runs):
        for label, cmd in cases:
            t = time.perf_counter()
            code = subprocess.run(cmd, capture_output=True, env=env).returncode
            out[label][0].append(time.perf_counter() - t)
            out[label] = (out[label][0], code)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--keep", type=Path, help="build inputs here and keep them")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="pipvet-bench-audit-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        lock, venv, db = work / "bench.lock", work / "venv", work / "advisories.sqlite"
        n_pins = make_lock(lock)
        top_lock = work / "top.lock"
        make_top_lock(top_lock)
        n_env = make_env(venv) if not venv.exists() else 150
        from pipvet.sources.advisories.snapshot import materialise

        t = time.perf_counter()
        materialise(db)
        first_use = time.perf_counter() - t
        env = {**os.environ, "PIPVET_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1"}
        py = str(venv / "bin" / "python")
        pipvet = str(BIN / "pipvet")
        lock_cmd = [pipvet, "audit", "--lock", str(lock), "--db", str(db)]
        env_cmd = [pipvet, "audit", "--python", py, "--db", str(db)]
        cases = [
            ("pip list (150-package venv)", [py, "-m", "pip", "list"]),
            ("pipvet audit --python venv (150)", env_cmd),
            ("pipvet audit --lock (300 vulnerable)", lock_cmd),
            (
                "pipvet audit --lock (300 top, current)",
                [*lock_cmd[:3], str(top_lock), *lock_cmd[4:]],
            ),
            ("pipvet audit --lock --format json", [*lock_cmd, "--format", "json"]),
            ("pipvet --help (no audit)", [pipvet, "--help"]),
        ]
        print(
            f"inputs: {n_pins}-pin lock, venv with {n_env} mimic dist-info + pip, "
            f"index from bundled snapshot (built once in {first_use * 1000:.0f} ms)"
        )
        print(
            f"runs per command: {args.runs}, round-robin after 1 warm-up; "
            f"python {sys.version.split()[0]}"
        )
        print()
        print(f"| {'command':<38} | median ms | min ms | max ms | exit |")
        print(f"| {'-' * 38} | --------- | ------ | ------ | ---- |")
        results = timed(cases, args.runs, env)
        for label, _ in cases:
            times, code = results[label]
            ms = [x * 1000 for x in times]
            print(
                f"| {label:<38} | {statistics.median(ms):9.0f} | {min(ms):6.0f} | "
                f"{max(ms):6.0f} | {code:>4} |"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
