"""`make molecule`: the molecule scenarios, MOLECULE_JOBS (default 2) at a time.

Two scenarios can run side by side because each names its own containers, podman networks and
published ports: checked here first, from the scenarios' molecule.yml (a clash stops the run, exit
2, before any container starts). Each scenario's output goes to its own log file
(build/molecule/<scenario>.log); a line per scenario says when it started and how it ended; the
log of every failed scenario is printed in full at the end, one after another, and the exit status
is 1 when any failed.

On a machine shared with other checkouts (the same scenario names), LGSEC_MOLECULE_WAIT=<seconds>
waits up to that long before starting a scenario while a container of the same name exists or one
of its published ports is taken (another checkout's run of it); 0, the default (CI, a machine of
one's own), does not wait: molecule's first step (destroy) removes what a previous run left.

    python tools/molecule_all.py [SCENARIO ...]
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "build" / "molecule"
# a molecule step starting and ending: "INFO [accounts > converge] Executing" (without colours),
# "accounts ➜ converge: Executing" (with)
STEP = re.compile(r"(?:\[[\w.-]+ > (\w+)\]|\u279c (\w+):) (Executing|Executed)")


def platforms(scenario: str) -> list[dict]:
    path = ROOT / "molecule" / scenario / "molecule.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(f"molecule: {path}: cannot read: {exc}") from exc
    return list(data.get("platforms") or [])


def clashes(scenarios: list[str]) -> list[str]:
    """Container names and published host ports used twice, networks shared by two scenarios."""
    owner: dict[tuple[str, str], str] = {}
    found = []
    for scenario in scenarios:
        for platform in platforms(scenario):
            used = [("container", str(platform.get("name", "")))]
            used += [("port", str(p).rsplit(":", 1)[0]) for p in platform.get("published_ports") or []]
            for kind, name in used:  # 127.0.0.1:2212:22 -> port 127.0.0.1:2212
                if (kind, name) in owner:
                    found.append(f"{kind} {name}: {owner[kind, name]} and {scenario}")
                owner[kind, name] = scenario
            network = platform.get("network")
            if network and owner.setdefault(("network", str(network)), scenario) != scenario:
                found.append(f"network {network}: {owner['network', str(network)]} and {scenario}")
    return found


def port_taken(published: str) -> bool:
    address, _, port = str(published).rsplit(":", 1)[0].rpartition(":")
    with socket.socket() as probe:
        try:
            probe.bind((address or "0.0.0.0", int(port)))
        except OSError:
            return True
    return False


def busy(scenario: str) -> list[str]:
    """This scenario's container names that exist now and host ports taken (another run of it)."""
    found = []
    for platform in platforms(scenario):
        name = str(platform.get("name", ""))
        if subprocess.run(["podman", "container", "exists", name], check=False).returncode == 0:
            found.append(f"container {name}")
        found += [f"port {p}" for p in platform.get("published_ports") or [] if port_taken(p)]
    return found


def run(scenario: str, wait: int, say) -> tuple[str, int, float]:
    deadline = time.monotonic() + wait
    while wait and (names := busy(scenario)) and time.monotonic() < deadline:
        say(f"molecule: scenario {scenario} waits: {', '.join(names)} in use (another run of it)")
        time.sleep(20)
    log = LOGS / f"{scenario}.log"
    say(f"molecule: scenario {scenario} started (log {log.relative_to(ROOT)})")
    start = time.monotonic()
    steps: dict[str, float] = {}  # molecule's steps (create, converge …): seconds each
    env = dict(os.environ, PY_COLORS="0", NO_COLOR="1", ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    argv = ["molecule", "test", "-s", scenario]
    with (
        log.open("w", encoding="utf-8", buffering=1) as out,
        subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        ) as proc,
    ):
        began, current = start, None
        for line in proc.stdout:
            now = time.monotonic()
            out.write(f"[{now - start:6.0f}s] {line}")  # seconds since the scenario started
            step = STEP.search(line)
            name = step and (step.group(1) or step.group(2))
            if step and step.group(3) == "Executing":
                began, current = now, name
            elif step:
                steps[name] = steps.get(name, 0) + now - began
                current = None
        rc = proc.wait()
        if current:  # the step it stopped in
            steps[f"{current} (unfinished)"] = time.monotonic() - began
    took = time.monotonic() - start
    detail = ", ".join(f"{name} {secs:.0f}" for name, secs in steps.items())
    state = "passed" if rc == 0 else f"FAILED (exit {rc})"
    say(f"molecule: scenario {scenario} {state} in {took:.0f} s ({detail})")
    return scenario, rc, took


def main(argv: list[str]) -> int:
    scenarios = argv or sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
    problems = clashes(scenarios)
    if problems:
        print("molecule: scenarios that cannot run side by side:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    jobs = max(1, int(os.environ.get("MOLECULE_JOBS", "2")))
    wait = int(os.environ.get("LGSEC_MOLECULE_WAIT", "0"))
    LOGS.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    start = time.monotonic()
    say(f"molecule: {len(scenarios)} scenarios, {jobs} at a time: {' '.join(scenarios)}")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda s: run(s, wait, say), scenarios))
    failed = [s for s, rc, _ in results if rc != 0]
    for scenario in failed:
        log = LOGS / f"{scenario}.log"
        print(f"\n===== molecule: scenario {scenario} FAILED: its log ({log.relative_to(ROOT)}) =====", flush=True)
        sys.stdout.write(log.read_text(encoding="utf-8", errors="replace"))
        print(f"===== end of the log of scenario {scenario} =====", flush=True)
    total = time.monotonic() - start
    summary = ", ".join(f"{s} {t:.0f} s" for s, _, t in results)
    named = f" ({', '.join(failed)})" if failed else ""
    print(f"molecule: {len(results) - len(failed)} passed, {len(failed)} failed{named}")
    print(f"molecule: {total:.0f} s in all, {jobs} at a time ({summary})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
