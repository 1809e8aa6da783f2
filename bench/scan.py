"""Benchmark of ``pipvet scan``: detection quality on both sets, speed beside GuardDog, bandit and
the floor, and peak memory.

    python bench/scan.py [--sample 100] [--guarddog-sample 100] [--jobs 2] [--skip-quality]

1. Quality: every artifact of ``../shared/corpus/malicious`` and of the benign cache
   (``scripts/fetch_benign.py``), via ``bench/scan_quality.py``: recall, FP rate, rules behind FPs.
2. Speed on a deterministic sample of N artifacts per side: pipvet (``--no-cache``, one process and
   ``--jobs``), GuardDog (``guarddog pypi scan FILE``, one process per artifact as users run it),
   bandit (``bandit -r`` once over a copy of each artifact's ``.py`` files, written as data from
   pipvet's reader into a temp dir OUTSIDE the repository: bandit only parses, it never runs code),
   and the floor (read, decompress and ``ast.parse`` every ``.py`` of the same artifacts, with the
   garbage collector paused as pipvet's scan pauses it). The one-process scan and the floor are
   timed in alternating slices of the sample (``ROUNDS``), so that the machine's drift over
   minutes does not favour either, after one untimed artifact each (one-time set-up is start-up,
   which the CLI row counts); ``--passes`` passes (3), the one of median ratio reported (all ratios
   in the summary). The floor with the collector on (the floor of the figures
   before 2026-11-27: collections during parsing made it 10-25% slower) is printed beside it.
3. Peak RSS of one scan of the largest artifacts and of a synthetic 100 MB wheel.

GuardDog and bandit are installed into a separate venv (``~/.cache/pipvet-bench/venv``).
Malicious samples are only read as bytes, except bandit's data copy of their ``.py`` files.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import gc
import io
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import scan_quality  # noqa: E402

BENCH_HOME = Path.home() / ".cache" / "pipvet-bench"
TOOLS_VENV = BENCH_HOME / "venv"
PY = sys.executable
SUMMARY: list[str] = []  # one line per timed side: pipvet's speed relative to GuardDog


# -- helpers -----------------------------------------------------------------------------------


def ensure_tools() -> Path:
    """A venv with guarddog and bandit, created on first use."""
    bindir = TOOLS_VENV / "bin"
    if not (bindir / "guarddog").exists() or not (bindir / "bandit").exists():
        print(f"installing guarddog and bandit into {TOOLS_VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run([str(bindir / "pip"), "install", "-q", "guarddog", "bandit"], check=True)
    return bindir


ROUNDS = 10  # slices of the sample timed alternately for pipvet (one process) and the floor
PASSES = 3  # passes over the sample; the pass of median ratio is reported (one pass over the
# small malicious artifacts, ~2 s, varied by +-15% from pass to pass on a shared 2-CPU machine)


def sample(paths: Sequence[Path], n: int, seed: int = 7) -> list[Path]:
    """A deterministic sample of ``n`` archives (no loose files)."""
    arch = [p for p in paths if p.name.endswith((".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2"))]
    if len(arch) <= n:
        return list(arch)
    return sorted(random.Random(seed).sample(arch, n))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def floor(paths: Sequence[Path]) -> int:
    """``floor_one`` over ``paths`` with the garbage collector paused, as pipvet scans: the floor
    is then the parser's own cost, not a collection of whatever the process holds."""
    gc.disable()
    try:
        return sum(floor_one(p) for p in paths)
    finally:
        gc.enable()


def floor_one(path: Path) -> int:
    """Read, decompress and ``ast.parse`` every .py file of one artifact; returns files parsed."""
    n = 0

    def parse(data: bytes) -> None:
        nonlocal n
        n += 1
        with contextlib.suppress(SyntaxError, ValueError):
            ast.parse(data)

    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".py") and not info.is_dir():
                    parse(zf.read(info))
    else:
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r|*") as tf:
                for ti in tf:
                    if ti.isreg() and ti.name.endswith(".py"):
                        fh = tf.extractfile(ti)
                        if fh:
                            parse(fh.read())
        except (tarfile.TarError, EOFError, OSError):
            pass
    return n


def write_py_copy(path: Path, dest: Path) -> None:
    """Write an artifact's .py members (as read by pipvet, links and traversal dropped) under
    ``dest`` for bandit. Paths are sanitised: nothing lands outside ``dest``."""
    from pipvet.core.analysis.archive import read_artifact

    art = read_artifact(path)
    for m in art.members:
        if not m.path.endswith(".py") or m.truncated:
            continue
        parts = [p for p in m.path.replace("!/", "/").split("/") if p not in ("", ".", "..")]
        if not parts:
            continue
        target = dest.joinpath(*parts)
        if not target.resolve().is_relative_to(dest.resolve()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(m.data)


def peak_rss_of_scan(path: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of scanning one artifact in a fresh process, no cache.

    The peak is the process's own VmHWM: ``ru_maxrss`` survives exec on Linux, so a child of a
    large bench process would report the bench's own peak.
    """
    code = (
        "import resource, sys, time\n"
        "from pathlib import Path\n"
        "from pipvet.services.scan import scan_files\n"
        "t = time.perf_counter()\n"
        "scan_files([Path(sys.argv[1])], use_cache=False)\n"
        "el = time.perf_counter() - t\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kib = int(hwm[0].split()[1]) if hwm else rss\n"
        "print(el, kib / 1024)\n"
    )
    out = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True, check=True)
    secs, rss = out.stdout.split()
    return float(secs), float(rss)


def synthetic_wheel(dest: Path, size_mb: int = 100) -> Path:
    """A ~100 MB wheel: incompressible binary blobs plus a few thousand Python modules."""
    rnd = random.Random(1)
    path = dest / "bigpkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3000):
            body = "".join(
                f"def f{i}_{j}(x):\n    return x * {j} + {rnd.randint(0, 10**6)}\n"
                for j in range(200)
            )
            zf.writestr(f"bigpkg/mod{i}.py", body)
        blob = 0
        while path.stat().st_size < (size_mb - 2) * 1024**2 and blob < 200:
            zf.writestr(f"bigpkg/lib{blob}.so", b"\x7fELF" + os.urandom(8 * 1024**2))
            blob += 1
            zf.fp.flush()  # type: ignore[union-attr]
        zf.writestr(
            "bigpkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: bigpkg\nVersion: 1.0\n"
        )
        zf.writestr("bigpkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    return path


# -- the parts ---------------------------------------------------------------------------------


def quality(jobs: int) -> None:
    mal = scan_quality.malicious_artifacts()
    ben = scan_quality.benign_artifacts()
    print(f"## quality: {len(mal)} malicious, {len(ben)} benign artifacts (jobs={jobs})\n")
    elapsed, metrics = timed(lambda: scan_quality.evaluate(mal, ben, jobs))
    print(scan_quality.report(metrics, elapsed))
    print()


def speed(
    side: str,
    paths: list[Path],
    bindir: Path | None,
    jobs: int,
    gd_n: int,
    passes_wanted: int = PASSES,
) -> list[str]:
    from pipvet.services.scan import scan_files

    rows = []
    n = len(paths)
    # pipvet in one process and the floor, interleaved in ROUNDS slices of the sample (the
    # order alternating): a machine whose speed drifts over minutes weighs on both alike. Both
    # are warmed up on one artifact first, untimed: the engine's one-time set-up (its modules,
    # compiled patterns, the popular-names index: ~0.2 s) is start-up, counted in the CLI row
    # below, as the floor's imports (ast, zipfile, tarfile) were done before any timing.
    scan_files(paths[:1], jobs=1, use_cache=False)
    floor(paths[:1])
    passes = []  # PASSES passes over the sample; the one of median ratio is reported
    for _ in range(passes_wanted):
        spent = {"pipvet": 0.0, "floor": 0.0, "floor, collector on": 0.0}
        size = max(1, -(-n // ROUNDS))
        for i, start in enumerate(range(0, n, size)):
            part = paths[start : start + size]
            steps = [
                ("pipvet", lambda part=part: scan_files(part, jobs=1, use_cache=False)),
                ("floor", lambda part=part: floor(part)),
                ("floor, collector on", lambda part=part: sum(floor_one(p) for p in part)),
            ]
            for what, step in steps if i % 2 == 0 else reversed(steps):
                secs, _ = timed(step)
                spent[what] += secs
        passes.append(spent)
    passes.sort(key=lambda sp: sp["pipvet"] / sp["floor"])
    spent = passes[len(passes) // 2]
    each = ", ".join(f"{sp['pipvet'] / sp['floor']:.2f}x" for sp in passes)
    t_pipvet, t_floor = spent["pipvet"], spent["floor"]
    t_jobs, _ = timed(lambda: scan_files(paths, jobs=jobs, use_cache=False))
    t_cli, _ = timed(
        lambda: subprocess.run(
            [
                PY,
                "-m",
                "pipvet",
                "scan",
                "--no-cache",
                "--jobs",
                str(jobs),
                "--format",
                "json",
                *map(str, paths),
            ],
            capture_output=True,
            check=False,
        )
    )
    rows.append(_row(side, "floor (read+decompress+ast.parse .py)", n, t_floor, t_floor))
    t_gc = spent["floor, collector on"]
    rows.append(_row(side, "floor, collector on (earlier figures)", n, t_gc, t_floor))
    rows.append(_row(side, "pipvet scan, 1 process", n, t_pipvet, t_floor))
    SUMMARY.append(
        f"{side}: pipvet in one process is {t_pipvet / t_floor:.2f}x the floor "
        f"({t_pipvet / t_gc:.2f}x the floor with the collector on); passes: {each}"
    )
    rows.append(_row(side, f"pipvet scan, --jobs {jobs}", n, t_jobs, t_floor))
    rows.append(_row(side, f"pipvet CLI, --jobs {jobs} (with startup)", n, t_cli, t_floor))
    if bindir is None:
        return rows
    with tempfile.TemporaryDirectory(prefix="pipvet-bench-bandit-") as tmp:
        for i, p in enumerate(paths):
            write_py_copy(p, Path(tmp) / f"a{i}")
        t_bandit, _ = timed(
            lambda: subprocess.run(
                [str(bindir / "bandit"), "-r", "-q", "-f", "json", "-o", os.devnull, tmp],
                capture_output=True,
                check=False,
            )
        )
    rows.append(_row(side, "bandit -r (one run over .py copies)", n, t_bandit, t_floor))
    gd = paths[:: max(1, len(paths) // gd_n)][:gd_n]  # spread over the sample, not its first N
    t_gd, _ = timed(
        lambda: [
            subprocess.run(
                [str(bindir / "guarddog"), "pypi", "scan", str(p)],
                capture_output=True,
                check=False,
                timeout=600,
            )
            for p in gd
        ]
    )
    per = t_gd / max(len(gd), 1)
    rows.append(
        _row(side, f"guarddog pypi scan FILE (x{len(gd)})", n, per * n, t_floor, measured=len(gd))
    )
    SUMMARY.append(
        f"{side}: pipvet is {per * n / t_cli:.1f}x GuardDog's speed as a command "
        f"(--jobs {jobs}, with startup), {per * n / t_jobs:.1f}x in-process with --jobs {jobs}, "
        f"{per * n / t_pipvet:.1f}x in one process; {t_cli / t_floor:.1f}x the floor as a command; "
        f"GuardDog itself is {per * n / t_floor:.1f}x the floor"
    )
    return rows


def _row(side: str, tool: str, n: int, secs: float, floor: float, measured: int = 0) -> str:
    per = secs / max(n, 1) * 1000
    note = f"  (measured on {measured}, scaled)" if measured and measured != n else ""
    return f"| {side:<9} | {tool:<42} | {secs:>9.2f} | {per:>9.1f} | {secs / floor:>8.1f}x |{note}"


def memory(paths: Sequence[Path], n: int = 5) -> list[str]:
    rows = []
    largest = sorted(paths, key=lambda p: p.stat().st_size, reverse=True)[:n]
    for p in largest:
        secs, rss = peak_rss_of_scan(p)
        rows.append(
            f"| {p.name[:48]:<48} | {p.stat().st_size / 1024**2:>8.1f} | {secs:>7.2f} "
            f"| {rss:>8.0f} |"
        )
    with tempfile.TemporaryDirectory(prefix="pipvet-bench-big-") as tmp:
        big = synthetic_wheel(Path(tmp))
        secs, rss = peak_rss_of_scan(big)
        rows.append(
            f"| {'synthetic ' + big.name:<48} | {big.stat().st_size / 1024**2:>8.1f} "
            f"| {secs:>7.2f} | {rss:>8.0f} |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=100, help="artifacts per side for timing")
    ap.add_argument(
        "--guarddog-sample",
        type=int,
        default=None,
        help="run GuardDog on only N artifacts spread over the sample and scale (default: all)",
    )
    ap.add_argument(
        "--guarddog-benign-sample",
        type=int,
        default=None,
        help="the same for the benign side only (large honest packages take GuardDog minutes)",
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-tools", action="store_true", help="no GuardDog/bandit")
    ap.add_argument("--sides", default="malicious,benign", help="which sides to time")
    ap.add_argument("--largest", type=int, default=5, help="peak RSS of the N largest artifacts")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument(
        "--passes", type=int, default=PASSES, help="timed passes per side (median reported)"
    )
    args = ap.parse_args(argv)

    if not args.skip_quality:
        quality(args.jobs)

    bindir = None if args.skip_tools else ensure_tools()
    gd_n = args.guarddog_sample or args.sample
    mal = sample(scan_quality.malicious_artifacts(), args.sample)
    ben = sample(scan_quality.benign_artifacts(), args.sample)
    print(
        f"## speed: {len(mal)} malicious + {len(ben)} benign artifacts, "
        f"{os.cpu_count()} CPUs, no cache\n"
    )
    print(f"| {'side':<9} | {'tool':<42} | {'total s':>9} | {'ms/artif':>9} | {'vs floor':>9} |")
    print(f"|{'-' * 11}|{'-' * 44}|{'-' * 11}|{'-' * 11}|{'-' * 11}|")
    for side, paths in (("malicious", mal), ("benign", ben)):
        if side in args.sides.split(","):
            n_gd = args.guarddog_benign_sample or gd_n if side == "benign" else gd_n
            for row in speed(side, paths, bindir, args.jobs, n_gd, args.passes):
                print(row, flush=True)
    if SUMMARY:
        print()
        print("\n".join(SUMMARY))
    if args.skip_memory:
        return 0
    print("\n## peak RSS of one scan (fresh process, no cache)\n")
    print(f"| {'artifact':<48} | {'MiB':>8} | {'secs':>7} | {'RSS MiB':>8} |")
    print(f"|{'-' * 50}|{'-' * 10}|{'-' * 9}|{'-' * 10}|")
    everything = scan_quality.malicious_artifacts() + scan_quality.benign_artifacts()
    for row in memory(everything, args.largest):
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
