"""Benchmark `pipvet lock` against `uv pip compile --generate-hashes` and `pip-compile
--generate-hashes` on three real requirement sets, against the public index (needs internet).

    python bench/lock.py [--repeat 3] [--modes warm,cold] [--sets small,medium,large]

It creates a bench venv (default /tmp/pipvet-bench-venv, or $PIPVET_BENCH_VENV) holding uv and
pip-tools; pipvet runs from this interpreter, started by its ``pipvet`` command as users start it
(not ``python -m pipvet``, which adds runpy's start-up), and uses that same uv. Times are
wall-clock: median, min and max. Every tool resolves wheels only (``--only-binary :all:``), as
pipvet does, so they solve the same problem. The tools are interleaved: each round runs every tool
once, in an order rotated from round to round, so a slower network or a busier machine weighs on
all of them alike. Both modes run in one invocation. warm: one untimed warm-up run per tool and set
fills the caches first. cold: every run gets an empty cache directory (XDG_CACHE_HOME, UV_CACHE_DIR
and PIPVET_CACHE_DIR point to a fresh temp dir). Every tool is isolated from pip/uv configuration
(PIP_*/UV_* removed, PIP_CONFIG_FILE=/dev/null). pipvet's own modules are byte-compiled first, as
an installed pipvet is (PYTHONDONTWRITEBYTECODE would otherwise make every run compile them).
Every timed run starts without its output file: uv and pip-compile read an existing output file
as preferences (the versions it pins are kept), so a second run would solve an easier problem than
the first, and than pipvet, which resolves from the inputs alone (its lock is the same bytes for
the same inputs and index, whatever the file held before).
PIPVET_BENCH_BASELINE=DIR adds "baseline (uv)": the pipvet in DIR (a src/ folder, e.g. of an
older commit) run the same way, interleaved with the others. PIPVET_BENCH_TOOLS=a,b keeps only
those tools.
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

INDEX = "https://pypi.org/simple/"
SETS = {
    "small": ["requests", "rich", "click"],
    "medium": [
        "django", "djangorestframework", "gunicorn", "psycopg[binary]", "flask", "sqlalchemy",
        "pydantic", "uvicorn[standard]", "httpx", "redis",
    ],
    "large": [
        "pandas", "scikit-learn", "matplotlib", "seaborn", "jupyterlab", "boto3",
        "google-cloud-storage", "google-cloud-bigquery", "azure-storage-blob", "azure-identity",
        "sqlalchemy", "requests", "pyarrow", "statsmodels", "plotly", "dask[distributed]",
    ],
}  # fmt: skip


def bench_venv() -> Path:
    venv = Path(os.environ.get("PIPVET_BENCH_VENV", "/tmp/pipvet-bench-venv"))
    bindir = venv / "bin"
    if not (bindir / "pip-compile").exists() or not (bindir / "uv").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(bindir / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "uv", "pip-tools"], check=True)
    return bindir


def clean_env(bindir: Path, cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
        env["UV_CACHE_DIR"] = str(cache / "uv")
        env["PIPVET_CACHE_DIR"] = str(cache / "pipvet")
    return env


def pipvet_command() -> list[str]:
    """pipvet as its users start it: the ``pipvet`` console script beside this interpreter
    (``python -m pipvet`` adds runpy's start-up, ~10 ms a run); ``-m`` when there is none."""
    script = Path(sys.executable).with_name("pipvet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipvet"]


def commands(bindir: Path, reqs: Path, out: Path) -> dict[str, list[str]]:
    python = sys.executable
    pipvet = pipvet_command()
    base = []
    if os.environ.get("PIPVET_BENCH_BASELINE"):  # another pipvet's src/, run the same way
        base = ["env", f"PYTHONPATH={os.environ['PIPVET_BENCH_BASELINE']}"]
    found = {
        "pipvet (uv)": [*pipvet, "-q", "lock", "-r", str(reqs), "--index-url",
                        INDEX, "--resolver", "uv", "-o", str(out)],
        "pipvet (pip)": [*pipvet, "-q", "lock", "-r", str(reqs), "--index-url",
                         INDEX, "--resolver", "pip", "-o", str(out)],
        "uv pip compile": [str(bindir / "uv"), "pip", "compile", "--no-config", "-q",
                           "--generate-hashes", "--index-url", INDEX, "--only-binary", ":all:",
                           "--python", python, str(reqs), "-o", str(out)],
        "pip-compile": [str(bindir / "pip-compile"), "-q", "--no-config", "--generate-hashes",
                        "--index-url", INDEX, "--pip-args", "--only-binary=:all:",
                        "--no-strip-extras", str(reqs), "-o", str(out)],
    }  # fmt: skip
    if base:
        found["baseline (uv)"] = [*base, *found["pipvet (uv)"]]
    wanted = os.environ.get("PIPVET_BENCH_TOOLS")
    return {k: v for k, v in found.items() if not wanted or k in wanted.split(",")}


def count(out: Path) -> tuple[int, int]:
    """(pinned packages, hashes) in a requirements lock."""
    text = out.read_text()
    pins = sum(1 for ln in text.splitlines() if "==" in ln and not ln.startswith((" ", "#")))
    return pins, text.count("--hash=sha256:")


def run_once(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="warm,cold", help="warm, cold or both (default)")
    parser.add_argument("--cold", action="store_true", help="cold caches only (--modes cold)")
    parser.add_argument("--sets", default="small,medium,large")
    args = parser.parse_args()
    modes = ["cold"] if args.cold else args.modes.split(",")
    bindir = bench_venv()
    import pipvet

    sources = [str(Path(pipvet.__file__).parent)]
    if os.environ.get("PIPVET_BENCH_BASELINE"):
        sources.append(str(Path(os.environ["PIPVET_BENCH_BASELINE"]) / "pipvet"))
    subprocess.run(  # as installed: byte-compiled once, not at every start
        [sys.executable, "-m", "compileall", "-q", *sources], check=True, capture_output=True
    )
    pip_compile_version = subprocess.run(
        [str(bindir / "pip-compile"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    uv_version = subprocess.run(
        [str(bindir / "uv"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(f"# median of {args.repeat} (min, max); {uv_version}; {pip_compile_version}; {INDEX}")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    header = (
        f"{'mode':<5} {'set':<8} {'tool':<16} {'pkgs':>5} {'hashes':>7} {'median s':>9} "
        f"{'min':>6} {'max':>6}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="pipvet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for mode in modes:
            for set_name in args.sets.split(","):
                bench_set(bindir, tmp, set_name, mode, args.repeat)
    return 0


def bench_set(bindir: Path, tmp: Path, set_name: str, mode: str, repeat: int) -> None:
    cold = mode == "cold"
    warm_cache = tmp / f"warm-cache-{set_name}"
    reqs = tmp / f"{set_name}.in"
    reqs.write_text("\n".join(SETS[set_name]) + "\n")
    tools = list(commands(bindir, reqs, tmp))
    outs = {tool: tmp / f"{set_name}-{i}.out" for i, tool in enumerate(tools)}
    cmds = {t: (commands(bindir, reqs, outs[t])[t], outs[t]) for t in tools}  # own output
    if not cold:
        for cmd, _out in cmds.values():
            run_once(cmd, clean_env(bindir, warm_cache), tmp)  # warm-up
    times: dict[str, list[float]] = {tool: [] for tool in cmds}
    for round_no in range(repeat):
        k = round_no % len(tools)
        for tool in tools[k:] + tools[:k]:  # interleaved, order rotated each round
            cache = warm_cache
            if cold:
                cache = Path(tempfile.mkdtemp(prefix="cache-", dir=tmp))
            cmds[tool][1].unlink(missing_ok=True)  # resolved from scratch: see the docstring
            times[tool].append(run_once(cmds[tool][0], clean_env(bindir, cache), tmp))
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
    results = {}
    for tool, runs in times.items():
        pins, hashes = count(cmds[tool][1])
        med = statistics.median(runs)
        results[tool] = med
        print(
            f"{mode:<5} {set_name:<8} {tool:<16} {pins:>5} {hashes:>7} {med:>9.2f} "
            f"{min(runs):>6.2f} {max(runs):>6.2f}"
        )
    ratios = []
    for tool in ("pipvet (uv)", "baseline (uv)"):
        if tool in results and "uv pip compile" in results:
            ratios.append(f"{tool}/uv = {results[tool] / results['uv pip compile']:.2f}x")
    if "pip-compile" in results and "pipvet (uv)" in results:
        ratios.append(
            f"pip-compile/pipvet(uv) = {results['pip-compile'] / results['pipvet (uv)']:.2f}x"
        )
    print(f"{'':<14} " + "; ".join(ratios))
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
