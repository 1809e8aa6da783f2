"""Download the benign benchmark set: for each project of benign-top.tsv, its pinned version's
sdist and one wheel, sha256-verified while downloading, into a cache outside the repository.

    python scripts/fetch_benign.py [--sample N | --every N] [--jobs 8] [--dest DIR]

Default destination: ``$PIPVET_BENIGN_DIR`` or ``~/.cache/pipvet-bench/benign/<name>/<file>``.
Resumable: files already present with the index's sha256 are kept. Nothing is unpacked or run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

INDEX = "https://pypi.org/simple"
ACCEPT = "application/vnd.pypi.simple.v1+json"
DEFAULT_TSV = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "benign-top.tsv"


def benign_dir() -> Path:
    env = os.environ.get("PIPVET_BENIGN_DIR")
    return Path(env) if env else Path.home() / ".cache" / "pipvet-bench" / "benign"


def read_projects(tsv: Path) -> list[tuple[int, str, str]]:
    rows = []
    for line in tsv.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rank, name, version = line.split("\t")[:3]
        rows.append((int(rank), name.strip(), version.strip()))
    return rows


def sample_projects(rows: list[tuple[int, str, str]], n: int | None) -> list[tuple[int, str, str]]:
    """A deterministic subset (the same N projects every time)."""
    if not n or n >= len(rows):
        return rows
    return sorted(random.Random(4).sample(rows, n))


def _wheel_rank(filename: str) -> int | None:
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    tagset = {str(t) for t in tags}
    if any(t.endswith("-none-any") and t.startswith("py3") for t in tagset):
        return 0
    if any(t.startswith("cp311-") and "manylinux" in t and t.endswith("x86_64") for t in tagset):
        return 1
    if any(t.endswith("-none-any") for t in tagset):
        return 2
    if any("manylinux" in t and t.endswith("x86_64") for t in tagset):
        return 3
    return 4


def latest_version(files: list[dict]) -> str | None:
    """The newest final release with a non-yanked file (for rows whose version is blank)."""
    versions = set()
    for f in files:
        if f.get("yanked"):
            continue
        try:
            fn = f["filename"]
            v = parse_wheel_filename(fn)[1] if fn.endswith(".whl") else parse_sdist_filename(fn)[1]
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        if not v.is_prerelease:
            versions.add(v)
    return str(max(versions)) if versions else None


def choose_files(files: list[dict], version: str) -> list[dict]:
    """The pinned version's sdist and its best wheel, from a PEP 691 file list
    (a blank version means the latest release)."""
    version = version or latest_version(files) or ""
    want = canonicalize_version(version)
    sdists, wheels = [], []
    for f in files:
        fn = f["filename"]
        if "sha256" not in f.get("hashes", {}):
            continue
        try:
            if fn.endswith(".whl"):
                v = parse_wheel_filename(fn)[1]
                if canonicalize_version(v) == want:
                    wheels.append(((_wheel_rank(fn), fn), f))
            elif fn.endswith((".tar.gz", ".zip")):
                v = parse_sdist_filename(fn)[1]
                if canonicalize_version(v) == want:
                    sdists.append(((0 if fn.endswith(".tar.gz") else 1, fn), f))
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    chosen = []
    if sdists:
        chosen.append(min(sdists, key=lambda x: x[0])[1])
    if wheels:
        chosen.append(min(wheels, key=lambda x: x[0])[1])
    return chosen


def _get(url: str, accept: str | None = None, timeout: float = 60):
    req = urllib.request.Request(url, headers={"User-Agent": "pipvet-bench/0.1"})
    if accept:
        req.add_header("Accept", accept)
    return urllib.request.urlopen(req, timeout=timeout)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def download(file: dict, dest: Path) -> str:
    """Download one file, verifying sha256 while streaming; returns 'kept' or 'fetched'."""
    target = dest / file["filename"]
    expected = file["hashes"]["sha256"]
    if target.exists() and _sha256_file(target) == expected:
        return "kept"
    dest.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    h = hashlib.sha256()
    for attempt in range(3):
        try:
            with _get(file["url"], timeout=120) as resp, part.open("wb") as out:
                h = hashlib.sha256()
                while chunk := resp.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
            break
        except OSError:
            if attempt == 2:
                raise
            time.sleep(2 * (attempt + 1))
    if h.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise ValueError(f"{file['filename']}: sha256 mismatch")
    part.replace(target)
    return "fetched"


def fetch_project(name: str, version: str, root: Path) -> tuple[str, list[str], str]:
    """Fetch one project's pinned files; returns (name, filenames, problem or '')."""
    try:
        with _get(f"{INDEX}/{canonicalize_name(name)}/", ACCEPT) as resp:
            files = json.load(resp)["files"]
        chosen = choose_files(files, version)
        if not chosen:
            return name, [], f"no files for {version}"
        dest = root / canonicalize_name(name)
        for f in chosen:
            download(f, dest)
        return name, [f["filename"] for f in chosen], ""
    except Exception as exc:  # report and continue with the other projects
        return name, [], f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tsv", type=Path, default=DEFAULT_TSV)
    ap.add_argument("--dest", type=Path, default=None)
    ap.add_argument("--sample", type=int, default=None, help="a deterministic subset of N projects")
    ap.add_argument(
        "--every",
        type=int,
        default=None,
        help="every N-th project in sorted name order (the sample the scan-quality test reads)",
    )
    ap.add_argument("--jobs", type=int, default=8)
    args = ap.parse_args(argv)
    root = args.dest or benign_dir()
    root.mkdir(parents=True, exist_ok=True)
    rows = sample_projects(read_projects(args.tsv), args.sample)
    if args.every:
        picked = set(sorted({canonicalize_name(n) for _, n, _ in rows})[:: args.every])
        rows = [r for r in rows if canonicalize_name(r[1]) in picked]
    problems, nfiles = [], 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = [pool.submit(fetch_project, name, ver, root) for _, name, ver in rows]
        for i, fut in enumerate(as_completed(futs), 1):
            name, fns, problem = fut.result()
            nfiles += len(fns)
            if problem:
                problems.append(f"{name}: {problem}")
            if i % 25 == 0:
                print(f"{i}/{len(rows)} projects, {nfiles} files", file=sys.stderr)
    took = time.monotonic() - start
    print(f"{len(rows)} projects, {nfiles} files in {root} ({took:.0f}s)")
    for p in problems:
        print(f"  problem: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
