#!/usr/bin/env python3
"""make bench: what an audit and a hardening run cost on this controller. Prints `name: value`
lines (medians of several runs); where the time goes: docs/benchmark.md.

  audit_one_host_s        `lgsec audit` of one lab host over SSH (pipelining, ControlPersist), as
                          real servers are reached
  audit_one_host_podman_s the same over the podman connection (no pipelining: a copy per module)
  check_mode_s            `ansible-playbook --check playbooks/harden.yml -e lgsec_harden_full=true`
                          on that (stock) host over SSH: a check-mode audit of every control
  audit_vs_check_ratio    check_mode_s / audit_one_host_s (the same host and connection)
  audit_N_hosts_s         `lgsec audit` of N hosts over SSH (LGSEC_BENCH_FLEETS, default 50 and
                          200), forks from ansible.cfg, with the controller's peak memory
  harden_first_s          the first `lgsec harden` of the stock host (audit-driven: every failing
                          control), then the audit must pass
  harden_rerun_s          `lgsec harden` again on the now compliant host: it must change nothing
                          and skip every passing control (the record says so)
  harden_full_rerun_s     `lgsec harden --full` on the compliant host (every task, as before)
  harden_drift_s          one sshd line edited (MaxAuthTries), then `lgsec harden`: it must repair
                          that control, run only it, and the audit must pass after
  harden_drift_pam_s      the same for a PAM line (faillock.conf even_deny_root removed: LOCKOUT)
  module_run_s            one module run on the host as the hardening makes it (SSH + sudo)

Hosts are containers of localhost/lgsec-debian:12 named lgsec-bench-NNN (no other session's
prefix) with sshd published on 127.0.0.1 ports 31000 and up; the audits log in as root with a
key, the hardening runs as the operator lgsecadmin with sudo (as a site runs it: the roles'
lockout guards refuse a root login they would then forbid).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))
from lgsec_lab import CONTAINER_ONLY, container_only, lab_chrony, lab_signatures  # noqa: E402  (tests/lab)

IMAGE = os.environ.get("LGSEC_BENCH_IMAGE", "localhost/lgsec-debian:12")
RUNS = int(os.environ.get("LGSEC_BENCH_RUNS", "5"))
# fleet sizes audited (the largest is started); LGSEC_BENCH_FLEETS="" measures one host only
FLEETS = [int(n) for n in os.environ.get("LGSEC_BENCH_FLEETS", "50,200").split(",") if n.strip()]
FLEET_RUNS = int(os.environ.get("LGSEC_BENCH_FLEET_RUNS", "3"))
CHECK_RUNS = int(os.environ.get("LGSEC_BENCH_CHECK_RUNS", "3"))
# LGSEC_BENCH_HARDEN=0: the audits only (one host and the fleets), no check mode and no hardening
HARDEN = os.environ.get("LGSEC_BENCH_HARDEN", "1") != "0"
HARDEN_RUNS = int(os.environ.get("LGSEC_BENCH_HARDEN_RUNS", "3"))
# container names and ports (two runs at once need two of each)
BASE_PORT = int(os.environ.get("LGSEC_BENCH_PORT", "31000"))
PREFIX = os.environ.get("LGSEC_BENCH_PREFIX", "lgsec-bench-")
OPERATOR_PASSWORD = "Bench-Operator-Pass-2026"  # a throwaway container's


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def podman(*argv: str) -> subprocess.CompletedProcess:
    return sh("podman", *argv)


def timed(argv: list[str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench: {' '.join(argv[:3])} exited {proc.returncode}")
    return elapsed


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants (/proc). RSS counts the pages the forked
    workers share with the main process once per process; PSS shares them out (the real cost)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(stat[1]), []).append(int(entry))
    rss = pss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        values = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:] if line.split()[1:2]}
        rss, pss = rss + values.get("Rss", 0), pss + values.get("Pss", 0)
    return rss, pss


def timed_with_peak_memory(argv: list[str], ok_codes: tuple[int, ...]) -> tuple[float, float, float]:
    """(seconds, peak RSS MB, peak PSS MB) of a command and its processes."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    peak = [0, 0]

    def sample() -> None:
        while proc.poll() is None:
            rss, pss = tree_memory_kb(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode not in ok_codes:
        sys.stderr.write(out[-3000:])
        raise SystemExit(f"bench: {' '.join(argv[:3])} exited {proc.returncode}")
    return elapsed, peak[0] / 1024, peak[1] / 1024


INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")


def other_bench_running() -> bool:
    """Are containers of another bench run (another LGSEC_BENCH_PREFIX) still up?"""
    names = sh("podman", "ps", "--format", "{{.Names}}", check=False).stdout.split()
    own = re.compile(re.escape(PREFIX) + r"\d{3}$")
    return any(n.startswith("lgsec-bench-") and not own.match(n) for n in names)


def start_hosts(first: int, count: int, key: Path) -> list[str]:
    """Containers first … first+count-1, booted, root's key in place; host 0 also gets the
    operator, package lists, signatures and the lab's chrony (it is the one hardened)."""
    # Every container's systemd takes several inotify instances; the kernel's default of 128 per
    # user stops booting the 27th or so (its sshd never starts). Raised for the run, put back after.
    # A second run at once (LGSEC_BENCH_PREFIX) adds its own containers' share.
    if int(INOTIFY.read_text()) < 16 * (first + count):
        INOTIFY.write_text(str(16 * (first + count)))
    elif first == 0 and count == 1:
        INOTIFY.write_text(str(int(INOTIFY.read_text()) + 16))
    names = [f"{PREFIX}{i:03d}" for i in range(first, first + count)]
    for i, name in enumerate(names, start=first):
        sh("podman", "rm", "-f", name, check=False)
        caps = ["--cap-add", "NET_ADMIN"] if i == 0 else []  # host 0 is hardened: nftables needs it
        sh("podman", "run", "-d", "--name", name, "--systemd=always", *caps,
           "-p", f"127.0.0.1:{BASE_PORT + i}:22", IMAGE, "/sbin/init")  # fmt: skip
    pub = key.with_suffix(".pub").read_text()
    for name in names:
        for _ in range(300):
            state = sh("podman", "exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"bench: {name} did not finish booting ({state})")
        sh("podman", "exec", name, "bash", "-c",
           f"install -d -m 700 /root/.ssh && printf '%s' '{pub}' > /root/.ssh/authorized_keys")  # fmt: skip
    if first > 0:
        return names
    # The operator who hardens host 0: a key, sudo with a password.
    sh("podman", "exec", names[0], "bash", "-c",
       "useradd -m -s /bin/bash -G sudo lgsecadmin && install -d -m 700 -o lgsecadmin /home/lgsecadmin/.ssh && "
       f"printf '%s' '{pub}' > /home/lgsecadmin/.ssh/authorized_keys && chown lgsecadmin /home/lgsecadmin/.ssh/* && "
       f"echo 'lgsecadmin:{OPERATOR_PASSWORD}' | chpasswd")  # fmt: skip
    # A real server has its package lists; the lab image ships without them (hardening needs them).
    sh("podman", "exec", names[0], "apt-get", "update", "-qq")
    lab_signatures(podman, names[0], key.parent)
    lab_chrony(podman, names[0])
    return names


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


def harden(inventory_path: Path, log: Path, *extra: str) -> tuple[float, dict]:
    """One `lgsec harden` run (audit-driven unless --full): (seconds, its work record's entry)."""
    command = [str(BIN / "lgsec"), "harden", "-i", str(inventory_path), "--operator", "bench-operator",
               "--confirmed-by", "bench-reviewer", "--log", str(log), *extra]  # fmt: skip
    elapsed = timed(command, (0,))
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    return elapsed, entry


def host_record(entry: dict) -> dict:
    """The one host's part of a work record entry: changed tasks, controls run and skipped."""
    (seen,) = entry["changes"].values()
    return seen


def summary(entry: dict) -> str:
    seen = host_record(entry)
    plan = seen.get("plan") or {"run": {}, "skipped": {}}
    why = list(plan["skipped"].values())
    stats = entry["stats"]
    ok, skipped = sum(stats.get("ok", {}).values()), sum(stats.get("skipped", {}).values())
    return (
        f"{len(seen.get('changed', []))} changed; controls run {len(plan['run'])} "
        f"({', '.join(plan['run']) or 'none'}), skipped {why.count('passing')} passing, "
        f"{why.count('not applicable')} not applicable, {why.count('waived')} waived; "
        f"tasks {ok} ok, {skipped} skipped"
    )


def expect(condition: bool, what: str, entry: dict | None = None) -> None:
    if not condition:
        detail = json.dumps(host_record(entry), ensure_ascii=False)[:3000] if entry else ""
        raise SystemExit(f"bench: {what}\n{detail}")


def audit_passes(audit_command: list[str], out: str, label: str) -> list[str]:
    """The audit of the hardened host: no control fails (exit 0), or the only failing rows are
    those a container cannot show (tests/lab/lgsec_lab.py CONTAINER_ONLY, the end-to-end test's
    list), each failing for that reason alone. It logs in as the operator with sudo: the
    hardening has forbidden root's SSH login (PRIV-DEFAULT-ID)."""
    proc = subprocess.run(audit_command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode == 0:
        say(f"  the audit {label}: every control passes (exit 0)")
        return []
    report = Path(out, "report.json")
    if proc.returncode != 1 or not report.exists():
        raise SystemExit(f"bench: the audit {label} exited {proc.returncode}: {proc.stderr[-2000:]}")
    failing = [r for r in json.loads(report.read_text(encoding="utf-8"))["results"] if r["status"] in ("fail", "error")]
    bad = [f"{r['control']}: {r['status']} {r['actual']}" for r in failing if not container_only(r)]
    if bad:
        raise SystemExit(f"bench: the audit {label} exited 1: " + "; ".join(bad)[:3000])
    say(
        f"  the audit {label}: every control passes but those a container cannot show: "
        f"{', '.join(r['control'] for r in failing)}"
    )
    return sorted(r["control"] for r in failing)


def lab_exceptions(path: Path, host: str, controls: list[str]) -> Path:
    """An exceptions file (docs/exceptions.md) waiving, on the lab host only, the controls a
    container cannot show, with the reason: the rerun on a compliant host is then measured as a
    real one runs (every control passing or waived), not with the container's own fails."""
    today = datetime.now(UTC).date()
    entries = [
        {"reference": f"LAB-{cid}", "control": cid, "hosts": [host], "reason": CONTAINER_ONLY[cid][0],
         "requested_by": "bench-operator", "approved_by": "bench-ciso", "approved_on": str(today),
         "expires_on": str(today + timedelta(days=1))}
        for cid in controls
    ]  # fmt: skip
    path.write_text(json.dumps({"exceptions": entries}, ensure_ascii=False), encoding="utf-8")
    return path


def reruns_only(plan: dict, allowed: list[str]) -> bool:
    """Does a rerun's plan run only allowed controls, the catalog's harden: always ones, and those
    that follow (harden: with) one of these?"""
    ran = set(allowed) | {cid for cid, why in plan["run"].items() if why.startswith("always")}
    grew = True
    while grew:
        follow = {c for c, why in plan["run"].items() if why.startswith("follows ") and c not in ran
                  and set(why.removeprefix("follows ").split(", ")) <= ran}  # fmt: skip
        ran, grew = ran | follow, bool(follow)
    return set(plan["run"]) <= ran


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


def inventory(path: Path, names: list[str], key: Path, connection: str, operator: frozenset = frozenset()) -> Path:
    """connection: ssh (root with the key), operator (lgsecadmin with sudo) or podman; the hosts
    whose index is in operator log in as the operator whatever connection says (the hardened
    host 0 in the fleet: its root may no longer log in over SSH)."""
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
        as_operator = connection == "operator" or i in operator
        user = "lgsecadmin" if as_operator else "root"
        lines += ["      ansible_host: 127.0.0.1", f"      ansible_port: {BASE_PORT + i}",
                  f"      ansible_user: {user}", f"      ansible_ssh_private_key_file: {key}"]  # fmt: skip
        if as_operator:
            lines += ["      ansible_become: true", f"      ansible_become_password: {OPERATOR_PASSWORD}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def harden_figures(names, tmp: Path, one_ssh: float, audit, ssh_one: Path, operator_one: Path, out: str, log: Path):
    """Check mode, the first hardening, the reruns, --full, the drifts; each checked as it runs."""
    playbook = [str(BIN / "ansible-playbook"), "-i", str(operator_one), "playbooks/harden.yml",
                "-e", "lgsec_operator=bench-operator", "-e", "lgsec_confirmed_by=bench-reviewer",
                "-e", f"lgsec_work_log={tmp / 'check-record.jsonl'}"]  # fmt: skip
    if CHECK_RUNS:
        check = [*playbook, "--check", "-e", "lgsec_harden_full=true"]
        check_s = statistics.median(timed(check, (0, 2)) for _ in range(CHECK_RUNS))
        say(f"check_mode_s: {check_s:.2f}")
        say(f"audit_vs_check_ratio: {check_s / one_ssh:.1f}")
    first_s, first = harden(operator_one, log)  # the stock host: installs and configures
    say(f"harden_first_s: {first_s:.2f} ({summary(first)})")
    lab_only = audit_passes(audit(operator_one), out, "after the first hardening")
    # the compliant host as a real one is: the controls a container cannot show waived on it
    waivers = ["--exceptions", str(lab_exceptions(tmp / "lab-exceptions.yml", names[0], lab_only))]
    say(f"  reruns below with {', '.join(lab_only) or 'nothing'} waived on the lab host (tests/lab CONTAINER_ONLY)")
    reruns = [harden(operator_one, log, *waivers) for _ in range(HARDEN_RUNS)]
    rerun_s, rerun = statistics.median(r[0] for r in reruns), reruns[-1][1]
    for _, entry in reruns:
        expect(not host_record(entry)["changed"], "the audit-driven rerun changed something", entry)
        expect(reruns_only(host_record(entry)["plan"], []), "the rerun on a compliant host ran a control", entry)
    say(f"harden_rerun_s: {rerun_s:.2f} ({rerun_s / one_ssh:.1f}x audit_one_host_s; {summary(rerun)})")
    if lab_only:  # the same rerun without the waivers: the container's fails run again, change nothing
        lab_s, lab = harden(operator_one, log)
        expect(not host_record(lab)["changed"], "the rerun of the container-only controls changed something", lab)
        expect(reruns_only(host_record(lab)["plan"], lab_only), "the rerun ran a control that passes", lab)
        say(f"harden_rerun_container_s: {lab_s:.2f} (no waivers: {summary(lab)})")
    full_s, full = harden(operator_one, log, "--full")
    expect(not host_record(full)["changed"], "the --full rerun changed something", full)
    expect(not host_record(full)["plan"]["skipped"], "the --full rerun skipped a control", full)
    say(f"harden_full_rerun_s: {full_s:.2f} ({summary(full)})")
    for label, control, edit in DRIFTS:
        sh("podman", "exec", names[0], "bash", "-c", edit)
        drift_s, drift = harden(operator_one, log, *waivers)
        seen = host_record(drift)
        expect(control in seen["plan"]["run"], f"{label}: {control} did not run", drift)
        expect(reruns_only(seen["plan"], [control]), f"{label}: a control other than {control} ran", drift)
        repaired = [c for c in seen["changed"] if control in c.get("controls", [c["control"]])]
        expect(bool(repaired), f"{label}: {control} not repaired", drift)
        audit_passes(audit(operator_one), out, f"after the {label} repair")
        say(f"{label}: {drift_s:.2f} ({summary(drift)}; the audit passes after)")
    verify = subprocess.run([str(BIN / "lgsec"), "log", "verify", "--log", str(log)], capture_output=True)
    expect(verify.returncode == 0, "the work record does not verify")
    say(f"work_record: {len(log.read_text().splitlines())} entries, chain intact")
    module_s = module_run_s(operator_one, tmp)
    say(f"module_run_s: {module_s:.3f} (ping over SSH with sudo, as the hardening runs each module)")
    empty_s = statistics.median(timed(empty_play(tmp), (0,)) for _ in range(3))
    say(f"ansible_empty_play_s: {empty_s:.2f}")


def say(line: str) -> None:
    """A figure as soon as it is measured (a long run shows its progress)."""
    print(line, flush=True)


def main() -> int:
    forks = os.environ.get("ANSIBLE_FORKS") or "20 (ansible.cfg)"
    say(f"machine: {os.cpu_count()} cores, {sys.platform}, python {sys.version.split()[0]}")
    inotify = INOTIFY.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp, "bench_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        names = start_hosts(0, 1, key)
        try:
            ssh_one = inventory(Path(tmp, "ssh1.yml"), names[:1], key, "ssh")
            podman_one = inventory(Path(tmp, "podman1.yml"), names[:1], key, "podman")
            operator_one = inventory(Path(tmp, "operator1.yml"), names[:1], key, "operator")
            out = str(Path(tmp, "out"))
            log = Path(tmp, "work-record.jsonl")

            def audit(inv: Path) -> list[str]:
                return [str(BIN / "lgsec"), "audit", "-i", str(inv), "-o", out]

            timed(audit(ssh_one), (0, 1))  # warm-up: first run compiles and caches
            one_ssh = statistics.median(timed(audit(ssh_one), (0, 1)) for _ in range(RUNS))
            say(f"audit_one_host_s: {one_ssh:.2f}")
            one_podman = statistics.median(timed(audit(podman_one), (0, 1)) for _ in range(RUNS))
            say(f"audit_one_host_podman_s: {one_podman:.2f}")
            if HARDEN:
                harden_figures(names, Path(tmp), one_ssh, audit, ssh_one, operator_one, out, log)
            if FLEETS:  # the fleet last: the hardening figures are not measured beside 200 containers
                names += start_hosts(1, max(FLEETS) - 1, key)
            hardened = frozenset({0}) if HARDEN else frozenset()  # host 0's root may no longer use SSH
            for count in FLEETS:
                fleet_inv = inventory(Path(tmp, f"ssh{count}.yml"), names[:count], key, "ssh", hardened)
                runs = [timed_with_peak_memory(audit(fleet_inv), (0, 1)) for _ in range(FLEET_RUNS)]
                fleet_s, rss, pss = (
                    statistics.median(r[0] for r in runs),
                    max(r[1] for r in runs),
                    max(r[2] for r in runs),
                )
                say(f"audit_{count}_hosts_s: {fleet_s:.2f} (forks {forks}; controller peak memory {pss:.0f} MB "
                    f"PSS, {rss:.0f} MB RSS summed over its processes; {FLEET_RUNS} run(s))")  # fmt: skip
        finally:
            for name in names:
                sh("podman", "rm", "-f", name, check=False)
            if not other_bench_running():  # never lower the limit under another run's containers
                INOTIFY.write_text(inotify)
    judge_ms, controls = evaluate_ms()
    say(f"evaluate_one_host_ms: {judge_ms:.1f} ({controls} controls)")
    return 0


# one control drifted at a time on the hardened host: (figure, the control, the edit)
DRIFTS = [
    ("harden_drift_s", "REMOTE-ENCRYPTED",
     "sed -i 's/^MaxAuthTries .*/MaxAuthTries 10/' /etc/ssh/sshd_config.d/30-lgsec-remote-encrypted.conf"),
    ("harden_drift_pam_s", "LOCKOUT", "sed -i '/^even_deny_root/d' /etc/security/faillock.conf"),
]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
