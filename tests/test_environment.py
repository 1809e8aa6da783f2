"""Reading installed distributions as data, without running .pth files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipvet.sources.environment import installed_distributions, probe_environment


def test_reads_own_environment() -> None:
    names = {d.name for d in installed_distributions(sys.executable)}
    assert {"pip", "packaging", "pipvet"} <= names


def test_probe_does_not_run_pth_files(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = probe_environment(str(venv / "bin" / "python"))
    site = Path(env.site_dirs[0])
    marker = tmp_path / "ran"
    (site / "evil.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    (site / "demo-1.0.dist-info").mkdir()
    meta = "Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\n"
    (site / "demo-1.0.dist-info" / "METADATA").write_text(meta)
    dists = installed_distributions(str(venv / "bin" / "python"))
    assert [(d.name, str(d.version)) for d in dists] == [("demo", "1.0")]
    assert not marker.exists()
