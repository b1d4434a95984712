#!/usr/bin/env python3
"""make bench: time `lgsec audit` of one lab host against a check-mode run of the hardening
roles on the same host (the usual way of "auditing" with Ansible). Prints `name: value` lines.

The host is a container of localhost/lgsec-debian:12 reached with the podman connection.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NAME = "lgsec-bench-d12"
IMAGE = os.environ.get("LGSEC_BENCH_IMAGE", "localhost/lgsec-debian:12")
RUNS = int(os.environ.get("LGSEC_BENCH_RUNS", "5"))


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def timed(argv: list[str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench: {argv[0]} exited {proc.returncode}")
    return elapsed


def start_host() -> None:
    sh("podman", "rm", "-f", NAME, check=False)
    sh("podman", "run", "-d", "--name", NAME, "--systemd=always", IMAGE, "/sbin/init")
    for _ in range(50):
        state = sh("podman", "exec", NAME, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.2)
    # A real server has its package lists; the lab image ships without them (check mode needs them).
    sh("podman", "exec", NAME, "apt-get", "update", "-qq")


def main() -> int:
    start_host()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = Path(tmp, "hosts.yml")
            inventory.write_text(
                f"all:\n  hosts:\n    {NAME}:\n      ansible_connection: containers.podman.podman\n"
                "      ansible_python_interpreter: /usr/bin/python3\n"
                "      lgsec_importance: II\n"
                "      lgsec_priv_members_approved: [root]\n"
            )
            audit = [str(BIN / "lgsec"), "audit", "-i", str(inventory), "-o", str(Path(tmp, "out"))]
            check = [str(BIN / "ansible-playbook"), "-i", str(inventory), "--check", "playbooks/harden.yml"]
            timed(audit, (0, 1))  # warm-up: first run compiles and caches
            audits = [timed(audit, (0, 1)) for _ in range(RUNS)]
            checks = [timed(check, (0, 2)) for _ in range(max(3, RUNS // 2))]
    finally:
        sh("podman", "rm", "-f", NAME, check=False)
    audit_s, check_s = statistics.median(audits), statistics.median(checks)
    print(f"machine: {os.cpu_count()} cores, {sys.platform}, python {sys.version.split()[0]}")
    print(f"audit_one_host_s: {audit_s:.2f}")
    print(f"check_mode_s: {check_s:.2f}")
    print(f"audit_vs_check_ratio: {check_s / audit_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
