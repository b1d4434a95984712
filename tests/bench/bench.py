#!/usr/bin/env python3
"""make bench: what an audit and a hardening run cost on this controller. Prints `name: value`
lines (medians of several runs):

  audit_one_host_s        `lgsec audit` of one lab host over SSH (pipelining, ControlPersist), as
                          real servers are reached
  audit_one_host_podman_s the same over the podman connection (no pipelining: a copy per module)
  check_mode_s            `ansible-playbook --check playbooks/harden.yml` on that host over SSH
  audit_vs_check_ratio    check_mode_s / audit_one_host_s (the same host and connection)
  audit_50_hosts_s        `lgsec audit` of LGSEC_BENCH_HOSTS (50) hosts over SSH, forks from ansible.cfg
  controller_peak_rss_mb  peak memory of the controller's processes during that audit
  harden_rerun_s          a second, idempotent `playbooks/harden.yml` run on that host over SSH
                          (it stops when that run changes anything), with its tasks and results
  module_run_s            one module run on the host as the hardening makes it (SSH + sudo)

Hosts are containers of localhost/lgsec-debian:12 with sshd published on 127.0.0.1 ports; the
audits log in as root with a key, the hardening runs as the operator lgsecadmin with sudo (as a
site runs it: the roles' lockout guards refuse a root login they would then forbid).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IMAGE = os.environ.get("LGSEC_BENCH_IMAGE", "localhost/lgsec-debian:12")
RUNS = int(os.environ.get("LGSEC_BENCH_RUNS", "5"))
HOSTS = int(os.environ.get("LGSEC_BENCH_HOSTS", "50"))
BASE_PORT = 31000
PREFIX = "lgsec-bench-"
OPERATOR_PASSWORD = "Bench-Operator-Pass-2026"  # a throwaway container's


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def timed(argv: list[str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench: {' '.join(argv[:3])} exited {proc.returncode}")
    return elapsed


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (/proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[1]), []).append(int(entry))
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        rss[int(entry)] = int(line.split()[1])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def timed_with_peak_rss(argv: list[str], ok_codes: tuple[int, ...]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode not in ok_codes:
        sys.stderr.write(out[-3000:])
        raise SystemExit(f"bench: {' '.join(argv[:3])} exited {proc.returncode}")
    return elapsed, peak[0] / 1024


INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")


def start_hosts(count: int, key: Path) -> list[str]:
    # Every container's systemd takes several inotify instances; the kernel's default of 128 per
    # user stops booting the 27th or so (its sshd never starts). Raised for the run, put back after.
    if int(INOTIFY.read_text()) < 16 * count:
        INOTIFY.write_text(str(16 * count))
    names = [f"{PREFIX}{i:02d}" for i in range(count)]
    for i, name in enumerate(names):
        sh("podman", "rm", "-f", name, check=False)
        caps = ["--cap-add", "NET_ADMIN"] if i == 0 else []  # host 0 is hardened: nftables needs it
        sh("podman", "run", "-d", "--name", name, "--systemd=always", *caps,
           "-p", f"127.0.0.1:{BASE_PORT + i}:22", IMAGE, "/sbin/init")  # fmt: skip
    pub = key.with_suffix(".pub").read_text()
    for name in names:
        for _ in range(150):
            state = sh("podman", "exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"bench: {name} did not finish booting ({state})")
        sh("podman", "exec", name, "bash", "-c",
           f"install -d -m 700 /root/.ssh && printf '%s' '{pub}' > /root/.ssh/authorized_keys")  # fmt: skip
    # The operator who hardens host 0: a key, sudo with a password.
    sh("podman", "exec", names[0], "bash", "-c",
       "useradd -m -s /bin/bash -G sudo lgsecadmin && install -d -m 700 -o lgsecadmin /home/lgsecadmin/.ssh && "
       f"printf '%s' '{pub}' > /home/lgsecadmin/.ssh/authorized_keys && chown lgsecadmin /home/lgsecadmin/.ssh/* && "
       f"echo 'lgsecadmin:{OPERATOR_PASSWORD}' | chpasswd")  # fmt: skip
    # A real server has its package lists; the lab image ships without them (hardening needs them).
    sh("podman", "exec", names[0], "apt-get", "update", "-qq")
    seed_signatures(names[0], key.parent)
    lab_chrony(names[0])
    return names


def lab_chrony(name: str) -> None:
    """A container has no CAP_SYS_TIME, so chrony.service's condition would skip it and every run
    would start it again (never idempotent). As in molecule/logging: chronyd runs with -x (never
    sets the clock) once lgsec's sources (127.0.0.1, the inventory's) exist."""
    folder = "/etc/systemd/system/chrony.service.d"
    dropin = (
        "[Unit]\nConditionCapability=\nConditionPathExists=/etc/chrony/sources.d/lgsec.sources\n"
        "[Service]\nExecStart=\nExecStart=!/usr/sbin/chronyd -x $DAEMON_OPTS\n"
    )
    sh("podman", "exec", name, "bash", "-c", f"mkdir -p {folder} && printf '{dropin}' > {folder}/lab-container.conf")


def seed_signatures(name: str, tmp: Path) -> None:
    """No signature mirror is reachable from the lab: host 0 gets the database the antivirus
    scenario builds (molecule/antivirus/files/lab_sigdb.py), as the union's private mirror would
    deliver it, and Debian's clamd units accept its unsigned .cud files (as in that scenario)."""
    files = ROOT / "molecule" / "antivirus" / "files"
    sh("podman", "exec", name, "mkdir", "-p", "/var/lib/clamav",
       "/etc/systemd/system/clamav-daemon.service.d", "/etc/systemd/system/clamav-daemon.socket.d")  # fmt: skip
    for db in ("main", "daily"):
        sh(sys.executable, str(files / "lab_sigdb.py"), str(tmp / f"{db}.cud"), str(files / "lab-sample.txt"))
        sh("podman", "cp", str(tmp / f"{db}.cud"), f"{name}:/var/lib/clamav/{db}.cud")
    dropin = (
        "[Unit]\nConditionPathExistsGlob=\nConditionPathExistsGlob=/var/lib/clamav/main.{c[vl]d,cud}\n"
        "ConditionPathExistsGlob=/var/lib/clamav/daily.{c[vl]d,cud}\n"
    )
    for unit in ("service", "socket"):
        path = f"/etc/systemd/system/clamav-daemon.{unit}.d/lgsec-lab-unsigned-db.conf"
        sh("podman", "exec", name, "bash", "-c", f"printf '{dropin}' > {path}")


def evaluate_ms() -> tuple[float, int]:
    """The controller's judging cost for one host (every Linux control, recorded Debian 12 facts)."""
    sys.path.insert(0, str(ROOT))
    from lgsec.catalog import load_catalog
    from lgsec.evaluate import evaluate_host

    catalog = load_catalog()
    facts = json.loads((ROOT / "tests/fixtures/linux/base-debian12.json").read_text(encoding="utf-8"))
    rows = evaluate_host(catalog, "bench", facts, {"lgsec_importance": "II"})
    start = time.perf_counter()
    for _ in range(50):
        evaluate_host(catalog, "bench", facts, {"lgsec_importance": "II"})
    return (time.perf_counter() - start) / 50 * 1000, len(rows)


def rerun(playbook: list[str]) -> tuple[float, dict]:
    """An idempotent hardening run: (seconds, its PLAY RECAP counts, and `results`: the ok and
    changed lines, one per task or loop item that ran — each a module run on the host or a step
    on the controller)."""
    start = time.perf_counter()
    out = subprocess.run(playbook, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    elapsed = time.perf_counter() - start
    recap = out.rsplit("PLAY RECAP", 1)[1].splitlines()[1]
    counts = {k: int(v) for k, v in (f.split("=") for f in recap.split(":", 1)[1].split())}
    if counts["changed"]:
        raise SystemExit(f"bench: the hardening rerun changed {counts['changed']} things: not idempotent")
    counts["results"] = sum(line.startswith(("ok: [", "changed: [")) for line in out.splitlines())
    return elapsed, counts


def module_run_s(inventory_path: Path, tmp: Path) -> float:
    """One module run on the host as the hardening makes it (SSH, pipelining, sudo with a password):
    the extra time of 20 ansible.builtin.ping runs."""
    play = tmp / "ping.yml"
    runs = []
    for count in (0, 20):
        play.write_text(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
            f"      loop: {list(range(count))}\n"
        )
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory_path), str(play)]
        runs.append(statistics.median(timed(command, (0,)) for _ in range(3)))
    return (runs[1] - runs[0]) / 20


def empty_play(tmp: Path) -> list[str]:
    """Ansible's own cost of one run: a play with one task on the controller."""
    play = tmp / "empty.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.meta: noop\n")
    return [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play)]


def inventory(path: Path, names: list[str], key: Path, connection: str) -> Path:
    lines = ["all:", "  vars:", "    lgsec_importance: II", "    lgsec_priv_members_approved: [lgsecadmin]",
             "    lgsec_time_sync_servers: [127.0.0.1]",
             "    lgsec_remote_minimal_allow_groups: [sudo]",
             "    lgsec_av_current_mirror: http://127.0.0.1:9", "    lgsec_av_current_private_mirror: true",
             "    ansible_python_interpreter: /usr/bin/python3", "  hosts:"]  # fmt: skip
    for i, name in enumerate(names):
        lines.append(f"    {name}:")
        if connection == "podman":
            lines.append("      ansible_connection: containers.podman.podman")
            continue
        user = "lgsecadmin" if connection == "operator" else "root"
        lines += ["      ansible_host: 127.0.0.1", f"      ansible_port: {BASE_PORT + i}",
                  f"      ansible_user: {user}", f"      ansible_ssh_private_key_file: {key}"]  # fmt: skip
        if connection == "operator":
            lines += ["      ansible_become: true", f"      ansible_become_password: {OPERATOR_PASSWORD}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    env_note = f"machine: {os.cpu_count()} cores, {sys.platform}, python {sys.version.split()[0]}"
    inotify = INOTIFY.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp, "bench_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        names = start_hosts(HOSTS, key)
        try:
            ssh_all = inventory(Path(tmp, "ssh.yml"), names, key, "ssh")
            ssh_one = inventory(Path(tmp, "ssh1.yml"), names[:1], key, "ssh")
            podman_one = inventory(Path(tmp, "podman1.yml"), names[:1], key, "podman")
            operator_one = inventory(Path(tmp, "operator1.yml"), names[:1], key, "operator")
            out = str(Path(tmp, "out"))

            def audit(inv: Path) -> list[str]:
                return [str(BIN / "lgsec"), "audit", "-i", str(inv), "-o", out]

            timed(audit(ssh_one), (0, 1))  # warm-up: first run compiles and caches
            one_ssh = statistics.median(timed(audit(ssh_one), (0, 1)) for _ in range(RUNS))
            one_podman = statistics.median(timed(audit(podman_one), (0, 1)) for _ in range(RUNS))
            fleet = [timed_with_peak_rss(audit(ssh_all), (0, 1)) for _ in range(3)]
            fleet_s = statistics.median(f[0] for f in fleet)
            peak_mb = max(f[1] for f in fleet)
            playbook = [str(BIN / "ansible-playbook"), "-i", str(operator_one), "playbooks/harden.yml"]
            check_s = statistics.median(timed([*playbook, "--check"], (0, 2)) for _ in range(3))
            timed(playbook, (0,))  # first hardening run: installs and configures
            rerun_s, recap = rerun(playbook)
            module_s = module_run_s(operator_one, Path(tmp))
            empty_s = statistics.median(timed(empty_play(Path(tmp)), (0,)) for _ in range(3))
        finally:
            for name in names:
                sh("podman", "rm", "-f", name, check=False)
            INOTIFY.write_text(inotify)
    judge_ms, controls = evaluate_ms()
    print(env_note)
    print(f"audit_one_host_s: {one_ssh:.2f}")
    print(f"audit_one_host_podman_s: {one_podman:.2f}")
    print(f"check_mode_s: {check_s:.2f}")
    print(f"audit_vs_check_ratio: {check_s / one_ssh:.1f}")
    print(f"audit_{HOSTS}_hosts_s: {fleet_s:.2f}")
    print(f"controller_peak_rss_mb: {peak_mb:.0f}")
    print(f"harden_rerun_s: {rerun_s:.2f}")
    print(f"harden_rerun_tasks: {recap['ok'] + recap['skipped']} ({recap['ok']} ran, {recap['skipped']} skipped)")
    print(f"harden_rerun_results: {recap['results']} (tasks and loop items that ran)")
    print(f"module_run_s: {module_s:.3f} (ping over SSH with sudo, as the hardening runs each module)")
    print(f"ansible_empty_play_s: {empty_s:.2f}")
    print(f"evaluate_one_host_ms: {judge_ms:.1f} ({controls} controls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
