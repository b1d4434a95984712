"""`make molecule` (tools/molecule_all.py): the scenarios two at a time. The real scenarios can run
side by side (no container name, published port or network shared); a clash stops the run before
anything starts; a failed scenario is named, its log printed whole, and the exit status is 1.
Run on a copy of the runner beside made-up scenarios and a stand-in `molecule` on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import import_path

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tools" / "molecule_all.py"
runner = import_path("molecule_all", RUNNER)

FAKE_MOLECULE = """#!/bin/sh
# stand-in for molecule test -s NAME: its step lines (without colours, and with), then the scenario's output
echo "INFO     [$3 > create] Executing"
echo "INFO     [$3 > create] Executed: Successful"
echo "INFO     $3 \u279c converge: Executing"
cat "molecule/$3/output"
exit "$(cat molecule/$3/rc)"
"""


def test_the_real_scenarios_share_no_container_port_or_network():
    scenarios = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
    assert len(scenarios) >= 7
    assert runner.clashes(scenarios) == []
    # named after their scenario: a container in `podman ps` says whose run it is
    names = {s: [str(p["name"]) for p in runner.platforms(s)] for s in scenarios}
    assert all(n.startswith(f"{s}-") for s, listed in names.items() for n in listed), names


def test_the_makefile_runs_every_scenario():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("SCENARIOS ?="))
    listed = line.split("=", 1)[1].split()
    assert sorted(listed) == sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
    assert "tools/molecule_all.py $(SCENARIOS)" in text


def scenario(root: Path, name: str, platforms: list[dict], rc: int = 0, output: str = "") -> None:
    import yaml

    folder = root / "molecule" / name
    folder.mkdir(parents=True)
    (folder / "molecule.yml").write_text(yaml.safe_dump({"platforms": platforms}), encoding="utf-8")
    (folder / "rc").write_text(str(rc), encoding="utf-8")
    (folder / "output").write_text(output, encoding="utf-8")


def run(tmp_path: Path, *scenarios: str) -> subprocess.CompletedProcess:
    (tmp_path / "tools").mkdir(exist_ok=True)
    shutil.copy(RUNNER, tmp_path / "tools" / RUNNER.name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "molecule").write_text(FAKE_MOLECULE, encoding="utf-8")
    (bin_dir / "molecule").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", MOLECULE_JOBS="2")
    argv = [sys.executable, str(tmp_path / "tools" / RUNNER.name), *scenarios]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_a_failed_scenario_is_named_its_log_printed_and_the_exit_status_is_1(tmp_path):
    scenario(tmp_path, "alpha", [{"name": "alpha-d12"}], output="all good\n")
    scenario(tmp_path, "beta", [{"name": "beta-d12"}], rc=2, output="TASK [x]\nfatal: [beta-d12]: FAILED! => boom\n")
    scenario(tmp_path, "gamma", [{"name": "gamma-d12"}], output="fine\n")
    proc = run(tmp_path, "alpha", "beta", "gamma")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "molecule: 2 passed, 1 failed (beta)" in out
    assert "scenario beta FAILED (exit 2)" in out and "scenario alpha passed" in out and "scenario gamma passed" in out
    assert "beta FAILED (exit 2) in 0 s (create 0, converge (unfinished) 0)" in out  # each step's time
    # beta's log, whole and readable, after the summary lines of the run
    log = out[out.index("===== molecule: scenario beta FAILED") :]
    assert "fatal: [beta-d12]: FAILED! => boom" in log and "===== end of the log of scenario beta" in log
    assert "all good" not in out  # a passing scenario's log stays in its file
    assert (tmp_path / "build" / "molecule" / "alpha.log").read_text(encoding="utf-8").count("all good") == 1


def test_all_passing_exits_0(tmp_path):
    scenario(tmp_path, "alpha", [{"name": "alpha-d12"}])
    proc = run(tmp_path, "alpha")
    assert proc.returncode == 0 and "molecule: 1 passed, 0 failed" in proc.stdout


def test_scenarios_that_share_a_container_port_or_network_do_not_start(tmp_path):
    scenario(tmp_path, "alpha", [{"name": "d12", "published_ports": ["127.0.0.1:2212:22"], "network": "n1"}])
    scenario(tmp_path, "beta", [{"name": "d12"}, {"name": "b13", "published_ports": ["127.0.0.1:2212:22"]}])
    scenario(tmp_path, "gamma", [{"name": "g12", "network": "n1"}, {"name": "g13", "network": "n1"}])
    proc = run(tmp_path, "alpha", "beta", "gamma")
    assert proc.returncode == 2
    assert "container d12: alpha and beta" in proc.stderr and "port 127.0.0.1:2212: alpha and beta" in proc.stderr
    assert "network n1: alpha and gamma" in proc.stderr
    assert not (tmp_path / "build").exists()  # nothing started
