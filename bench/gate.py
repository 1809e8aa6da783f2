"""The install gate without pip: benign dependency sets from PyPI, and the malicious corpus
served from a loopback index (as bytes, never installed, built or run).

    python bench/gate.py benign [--sample N] [--set top|more|both] [--out FILE]
    python bench/gate.py malicious [--sample N] [--out FILE]
    python bench/gate.py speed

benign: for each project of ``../shared/corpus/benign-top.tsv`` / ``benign-more.tsv`` (a fixed
sample with ``--sample``), its dependency set is resolved from PyPI with pipvet's resolver (the
versions of both lists as constraints, so the artifacts already fetched by
``scripts/fetch_benign.py`` into ``~/.cache/pipvet-bench/benign`` are the ones inspected; nothing
is downloaded again). Then the gate runs on every package of the set: names, PEP 792 status and
the other index facts, known malware (the bundled advisory snapshot), and code inspection of the
package's cached artifact (its wheel; the sdist when it ships no wheel), and for a suspicious
verdict of a popular project, the comparison with its release of 90 days or more before (that
file downloaded from PyPI, as install does). Reported: sets blocked,
sets warned, and each block with its rule, file and line. Goal: no honest project blocked.

malicious: every artifact of ``../shared/corpus/malicious`` is listed on a loopback index
(``tests/support``; files linked, never copied), then the gate runs as an install with the sdist
allowed would run it, up to the moment pip would start: names, index facts, known malware,
download with hash check, inspection. Reported: the share blocked (goal >= 97%), and by what.

speed: ``pipvet install --lock`` of a ~40-package lock (from PyPI) into a fresh venv, first with
a cold scan cache, then warm, beside ``pip install --require-hashes --no-deps -r`` of the lock.

Scan results are cached by sha256 in the bench's own cache (``~/.cache/pipvet-bench/gate``),
so a second run is fast; the first one scans everything.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "scripts"))
from fetch_benign import benign_dir  # noqa: E402  (the fetcher's folder: $PIPVET_BENIGN_DIR)

BENIGN_DIR = benign_dir()
BENCH_CACHE = Path.home() / ".cache" / "pipvet-bench" / "gate"
PYPI = "https://pypi.org/simple/"

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from pipvet.core.analysis.facts.syntax import newer_interpreters  # noqa: E402


def read_tsv(path: Path) -> list[tuple[int, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rank, name, version = line.split("\t")[:3]
        if rank.strip().isdigit():
            rows.append((int(rank), name.strip(), version.strip()))
    return rows


def sample(rows: list, n: int | None, seed: int = 9) -> list:
    if not n or n >= len(rows):
        return rows
    return sorted(random.Random(seed).sample(rows, n))


class MemoIndex:
    """A SimpleIndex whose project pages are fetched once per run (PyPI pages can be MBs)."""

    def __init__(self, url: str) -> None:
        from pipvet.sources.index import SimpleIndex

        self._index = SimpleIndex(url)
        self.url = self._index.url

    @functools.cache  # noqa: B019 - one instance per run
    def project_page(self, name: str):
        return self._index.project_page(name)

    def project_files(self, name: str):
        return self.project_page(name).files()


# interpreters newer than this one on the machine, oldest first: a release that ships wheels only
# for newer Pythons resolves with the first that has them
NEWER_PYTHONS = tuple(reversed(newer_interpreters()))


def resolve_set(req: str, constraints: list[str]):
    """``req``'s dependency set (both lists' versions as constraints when they fit), for this
    Python, else for the first newer one that has wheels of it."""
    from pipvet.core.errors import PipvetError
    from pipvet.sources.resolver import resolve

    last: PipvetError | None = None
    for python in (None, *NEWER_PYTHONS):  # sdists are never resolved: that would build them
        try:
            try:
                return resolve([req], index_url=PYPI, constraints=constraints, python=python)
            except PipvetError:
                return resolve([req], index_url=PYPI, python=python)
        except PipvetError as e:  # requires a newer Python, or has wheels only for one
            last = e
    assert last is not None
    raise last


def cached_version(name: str) -> str:
    """The version of ``name`` in the benign cache ("" when none or several)."""
    from packaging.utils import canonicalize_name

    from pipvet.sources.index import _filename_version

    folder = BENIGN_DIR / canonicalize_name(name)
    versions = {str(_filename_version(p.name)) for p in folder.iterdir()} if folder.is_dir() else ()
    return next(iter(versions)) if len(versions) == 1 else ""


def cached_artifact(name: str, version: str) -> Path | None:
    """The benign cache's wheel for name==version (its sdist when there is no wheel)."""
    from packaging.utils import canonicalize_name

    from pipvet.sources.index import _filename_version

    folder = BENIGN_DIR / canonicalize_name(name)
    if not folder.is_dir():
        return None
    found = sorted(
        (p for p in folder.iterdir() if str(_filename_version(p.name)) == version),
        key=lambda p: (not p.name.endswith(".whl"), p.name),
    )
    return found[0] if found else None


def issue_text(i) -> str:
    where = " ".join(x for x in (i.file, f"{i.path}:{i.line}" if i.path else "") if x)
    return f"{i.package} [{i.rule}] {i.message}" + (f" at {where}" if where else "")


# -- benign ------------------------------------------------------------------------------------


def run_benign(args) -> dict:
    from packaging.utils import canonicalize_name

    from pipvet.core.errors import PipvetError
    from pipvet.core.models import PackageId
    from pipvet.core.policy import Policy
    from pipvet.services import gate

    rows = []
    if args.set in ("top", "both"):
        rows += [("top", *r) for r in read_tsv(SHARED / "benign-top.tsv")]
    if args.set in ("more", "both"):
        rows += [("more", *r) for r in read_tsv(SHARED / "benign-more.tsv")]
    # a list that leaves a version blank: the one version fetched into the benign cache
    rows = [(w, r, n, v or cached_version(n)) for w, r, n, v in rows]
    pins = {canonicalize_name(n): v for _s, _r, n, v in rows if v}
    rows = sample(rows, args.sample)
    if args.only:
        only = {canonicalize_name(x) for x in args.only.split(",")}
        rows = [r for r in rows if canonicalize_name(r[2]) in only]
    policy = Policy()
    index = MemoIndex(PYPI)
    constraints = [f"{n}=={v}" for n, v in sorted(pins.items())]
    results = []
    t0 = time.time()
    resolve_time = gate_time = 0.0
    for k, (which, rank, name, version) in enumerate(rows, 1):
        entry = {"set": which, "rank": rank, "project": f"{name}=={version}"}
        t = time.time()
        req = f"{name}=={version}" if version else name
        try:
            res = resolve_set(req, constraints)
        except PipvetError as e:
            entry["error"] = f"resolution failed: {e.message.splitlines()[0][:200]}"
            results.append(entry)
            print(f"[{k}/{len(rows)}] {name}: {entry['error']}", file=sys.stderr)
            continue
        resolve_time += time.time() - t
        t = time.time()
        pkgs = [
            gate.PlannedPackage(p.name, p.version, pinned_exactly=p.requested) for p in res.packages
        ]
        report = gate.check_names(
            [name], index_url=PYPI, policy=policy, index=index, requested=True
        )
        report = report.merge(
            gate.check_names(
                [p.name for p in pkgs if p.name != canonicalize_name(name)],
                index_url=PYPI,
                policy=policy,
                index=index,
                requested=False,
            )
        )
        report = report.merge(
            gate.check_index_facts(pkgs, index_url=PYPI, policy=policy, index=index)
        )
        report = report.merge(
            gate.check_known_malware([PackageId(p.name, p.version) for p in pkgs], policy=policy)
        )
        arts, missing = [], []
        for p in pkgs:
            path = cached_artifact(p.name, str(p.version))
            if path is None:
                missing.append(f"{p.name}=={p.version}")
            else:
                arts.append(gate.Artifact(p.name, str(p.version), path))
        inspected = gate.inspect_artifacts(arts, policy=policy, jobs=args.jobs)
        report = report.merge(
            gate.review_long_standing(inspected, arts, policy=policy, index_for=lambda _name: index)
        )
        gate_time += time.time() - t
        entry.update(
            packages=len(pkgs),
            inspected=len(arts),
            not_inspected=missing,
            blocks=[issue_text(i) for i in report.blocks],
            warnings=[issue_text(i) for i in report.warnings],
        )
        results.append(entry)
        state = "BLOCKED" if report.blocked else ("warned" if report.warnings else "ok")
        print(
            f"[{k}/{len(rows)}] {name}=={version}: {len(pkgs)} packages, "
            f"{len(arts)} inspected, {state}",
            file=sys.stderr,
        )
        for b in entry["blocks"]:  # as they happen: a long run stopped early still tells
            print(f"    block: {b}", file=sys.stderr)
    done = [r for r in results if "error" not in r]
    blocked = [r for r in done if r["blocks"]]
    warned = [r for r in done if r["warnings"] and not r["blocks"]]
    rules = collections.Counter(
        w.split(" [", 1)[1].split("]", 1)[0] for r in done for w in r["warnings"]
    )
    summary = {
        "sets": len(rows),
        "resolved": len(done),
        "errors": len(results) - len(done),
        "blocked": len(blocked),
        "warned": len(warned),
        "packages": sum(r["packages"] for r in done),
        "inspected": sum(r["inspected"] for r in done),
        "not_inspected": sum(len(r["not_inspected"]) for r in done),
        "resolve_s": round(resolve_time, 1),
        "gate_s": round(gate_time, 1),
        "wall_s": round(time.time() - t0, 1),
        "warning_rules": dict(rules.most_common()),
        "blocks": {r["project"]: r["blocks"] for r in blocked},
    }
    print_benign(summary)
    return {"summary": summary, "results": results}


def print_benign(s: dict) -> None:
    print("\n## gate on benign dependency sets (no pip)\n")
    print(
        "| sets | resolved | blocked | warned | packages | inspected | not in cache "
        "| gate s | resolve s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {s['sets']} | {s['resolved']} | {s['blocked']} | {s['warned']} | {s['packages']} "
        f"| {s['inspected']} | {s['not_inspected']} | {s['gate_s']} | {s['resolve_s']} |"
    )
    if s["warning_rules"]:
        print("\nwarnings by rule: " + ", ".join(f"{k} {v}" for k, v in s["warning_rules"].items()))
    for project, blocks in s["blocks"].items():
        print(f"\nBLOCKED {project}:")
        for b in blocks:
            print(f"  {b}")
    if s["errors"]:
        print(f"\n{s['errors']} set(s) could not be resolved (see --out)")


# -- malicious ---------------------------------------------------------------------------------


def run_malicious(args) -> dict:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version
    from tests.support.index_server import TestIndex

    from pipvet.core.errors import PipvetError
    from pipvet.core.models import PackageId
    from pipvet.core.policy import Policy
    from pipvet.services import gate
    from pipvet.sources.index import SimpleIndex, download_with_digest

    items = []
    for path in sorted((SHARED / "malicious").glob("*/*/*")):
        if path.is_file():
            items.append((path.parts[-3], path.parts[-2], path))
    items = sample(items, args.sample)
    policy = Policy()
    results = []
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="pipvet-gate-bench-") as tmp:
        index = TestIndex(Path(tmp) / "files")
        listed = []
        for name, version, path in items:
            try:
                Version(version)
            except InvalidVersion:
                version = "0"
            try:
                filename = index.add_file(name, version, path)
            except (ValueError, OSError) as e:
                results.append({"artifact": str(path.relative_to(SHARED)), "error": str(e)})
                continue
            listed.append((canonicalize_name(name), version, filename, path))
        si = SimpleIndex(index.url)
        staging = Path(tmp) / "staging"
        # fill the scan cache in parallel first (the loop below then reads results by sha256)
        from pipvet.services.scan import scan_files

        t = time.time()
        scan_files([p for *_x, p in listed], jobs=args.jobs)
        print(f"scanned {len(listed)} artifacts in {time.time() - t:.0f}s", file=sys.stderr)
        for k, (name, version, filename, path) in enumerate(listed, 1):
            entry = {"artifact": str(path.relative_to(SHARED))}
            try:
                files = [f for f in si.project_files(name) if f.filename == filename]
                report = gate.check_names([name], index_url=index.url, policy=policy, index=si)
                pkg = gate.PlannedPackage(name, Version(version), files[0] if files else None)
                report = report.merge(
                    gate.check_index_facts([pkg], index_url=index.url, policy=policy, index=si)
                )
                report = report.merge(
                    gate.check_known_malware([PackageId(name, Version(version))], policy=policy)
                )
                got = download_with_digest(files[0], staging)
                if got.sha256 != files[0].sha256:
                    raise PipvetError(f"{filename}: hash mismatch on loopback")
                art = gate.Artifact(name, version, got.path)
                inspected = gate.inspect_artifacts([art], policy=policy, jobs=1)
                report = report.merge(  # as install does (no corpus name is a popular one)
                    gate.review_long_standing(
                        inspected, [art], policy=policy, index_for=lambda _name: si
                    )
                )
                got.path.unlink(missing_ok=True)
            except PipvetError as e:
                entry["error"] = e.message[:200]
                results.append(entry)
                continue
            except Exception as e:  # a crash is counted, never hidden
                entry["error"] = f"crash: {type(e).__name__}: {e}"[:200]
                results.append(entry)
                continue
            rules = sorted({i.rule for i in report.blocks})
            entry.update(
                blocked=report.blocked,
                by=sorted({_kind(r) for r in rules}),
                rules=rules,
                verdict=report.scans[0].verdict if report.scans else None,
            )
            results.append(entry)
            if k % 100 == 0:
                print(f"[{k}/{len(listed)}] {time.time() - t0:.0f}s", file=sys.stderr)
        index.stop()
    done = [r for r in results if "error" not in r]
    blocked = [r for r in done if r["blocked"]]
    by = collections.Counter(k for r in blocked for k in r["by"])
    only = collections.Counter("+".join(r["by"]) for r in blocked)
    rules = collections.Counter(x for r in blocked for x in r["rules"])
    # without --allow-sdist (the default), anything but a wheel is refused before pip as well
    default = [r for r in done if r["blocked"] or not r["artifact"].endswith(".whl")]
    summary = {
        "artifacts": len(results),
        "gated": len(done),
        "errors": len(results) - len(done),
        "blocked": len(blocked),
        "share": round(100 * len(blocked) / len(done), 2) if done else 0.0,
        "share_default_no_sdist": round(100 * len(default) / len(done), 2) if done else 0.0,
        "by": dict(by.most_common()),
        "combinations": dict(only.most_common()),
        "rules": dict(rules.most_common(15)),
        "passed": [r["artifact"] for r in done if not r["blocked"]][:50],
        "wall_s": round(time.time() - t0, 1),
    }
    print_malicious(summary)
    return {"summary": summary, "results": results}


def _kind(rule: str) -> str:
    if rule in ("gate.typosquat", "gate.not-on-index"):
        return "names"
    if rule == "gate.known-malware":
        return "known-malware"
    if rule.startswith("gate.") and rule != "gate.scan-error":
        return "index-facts"
    return "code"


def print_malicious(s: dict) -> None:
    print("\n## gate on the malicious corpus (loopback index, before pip)\n")
    print(
        "| artifacts | gated | blocked (sdist allowed) | share | share, default policy | errors |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {s['artifacts']} | {s['gated']} | {s['blocked']} | {s['share']}% "
        f"| {s['share_default_no_sdist']}% | {s['errors']} |"
    )
    print("\n(default policy: no --allow-sdist, so an sdist or loose file is refused too)")
    print(f"wall time {s['wall_s']} s")
    print("\nblocked by: " + ", ".join(f"{k} {v}" for k, v in s["by"].items()))
    print("combinations: " + ", ".join(f"{k} {v}" for k, v in s["combinations"].items()))
    print("top rules: " + ", ".join(f"{k} {v}" for k, v in s["rules"].items()))
    if s["passed"]:
        print(f"\nnot blocked (first {len(s['passed'])}):")
        for a in s["passed"]:
            print(f"  {a}")


# -- install speed -----------------------------------------------------------------------------

SPEED_REQUIREMENTS = ["requests", "rich", "httpx", "pydantic", "fastapi", "jinja2", "click",
                      "sqlalchemy", "python-dateutil", "pyyaml", "attrs", "packaging"]  # fmt: skip


def run_speed(args) -> dict:
    """``pipvet install --lock`` of a ~40-package lock into a fresh venv (cold, then warm scan
    cache) beside ``pip install --require-hashes --no-deps -r`` of the same lock."""
    import shutil

    work = BENCH_CACHE / "speed"
    work.mkdir(parents=True, exist_ok=True)
    lock = work / "requirements.lock"
    env = dict(os.environ)
    py = sys.executable
    if not lock.exists():
        subprocess.run(
            [py, "-m", "pipvet", "lock", *SPEED_REQUIREMENTS, "-o", str(lock)], check=True, env=env
        )
    n = sum(1 for ln in lock.read_text().splitlines() if ln and ln[0].isalnum())

    def fresh_venv() -> Path:
        v = work / "venv"
        shutil.rmtree(v, ignore_errors=True)
        subprocess.run([py, "-m", "venv", "--without-pip", str(v)], check=True)
        return v

    def timed(cmd: list[str], extra_env: dict | None = None) -> float:
        v = fresh_venv()
        cmd = [c.replace("{venv}", str(v)) for c in cmd]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env={**env, **(extra_env or {})}, capture_output=True)
        return time.perf_counter() - t

    pip_cmd = [py, "-m", "pip", "--python", "{venv}/bin/python", "install", "--require-hashes",
               "--no-deps", "--disable-pip-version-check", "-q", "-r", str(lock)]  # fmt: skip
    pipvet_cmd = [py, "-m", "pipvet", "install", "--lock", str(lock), "--python", "{venv}", "-y"]
    timed(pip_cmd)  # warms pip's cache
    pip_s = min(timed(pip_cmd) for _ in range(2))
    cold_cache = work / "cold-cache"
    shutil.rmtree(cold_cache, ignore_errors=True)
    cold_cache.mkdir()
    adv = BENCH_CACHE / "advisories.sqlite"
    if adv.exists():
        shutil.copy(adv, cold_cache / adv.name)
    cold_s = timed(pipvet_cmd, {"PIPVET_CACHE_DIR": str(cold_cache)})
    warm_s = min(timed(pipvet_cmd, {"PIPVET_CACHE_DIR": str(cold_cache)}) for _ in range(2))
    summary = {
        "packages": n,
        "pip_s": round(pip_s, 2),
        "pipvet_cold_scan_cache_s": round(cold_s, 2),
        "pipvet_warm_s": round(warm_s, 2),
        "ratio_warm": round(warm_s / pip_s, 2),
    }
    print(f"\n## install --lock of a {n}-package lock into a fresh venv\n")
    print("| pip --require-hashes (warm) | pipvet, cold scan cache | pipvet, warm | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| {pip_s:.2f} s | {cold_s:.2f} s | {warm_s:.2f} s | {warm_s / pip_s:.2f}x |")
    return {"summary": summary}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("part", choices=("benign", "malicious", "speed"))
    ap.add_argument("--sample", type=int, help="a fixed sample of N projects / artifacts")
    ap.add_argument("--only", help="benign: only these projects (comma-separated names)")
    ap.add_argument("--set", choices=("top", "more", "both"), default="both")
    ap.add_argument("--jobs", type=int, default=2, help="scan processes")
    ap.add_argument("--out", help="write every result as JSON here")
    args = ap.parse_args()
    os.environ.setdefault("PIPVET_CACHE_DIR", str(BENCH_CACHE))
    os.environ.setdefault("PIPVET_CONFIG_DIR", str(BENCH_CACHE / "no-user-policy"))
    run = {"benign": run_benign, "malicious": run_malicious, "speed": run_speed}[args.part]
    data = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
