"""Secrets never appear in output, logs, reports or the work record (issue 9): an inventory whose
become password and a site token are vault-encrypted; the audit run through lgsec and through
ansible-playbook at the highest verbosity, and a check-mode hardening run with its work record,
all searched for the known secret values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent
SECRETS = {"ansible_become_password": "Bec0me-S3cret-4711", "site_api_token": "T0ken-S3cret-0815"}


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("secrets")
    (tmp / "vault-password").write_text("lgsec-secrets-test", encoding="utf-8")
    lines = ["all:", "  hosts:", "    secrets-lab:", "      ansible_connection: local",
             f"      ansible_python_interpreter: {sys.executable}", "      lgsec_importance: II"]  # fmt: skip
    for name, secret in SECRETS.items():
        encrypted = run(str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file",
                        str(tmp / "vault-password"), secret, "--name", name).stdout  # fmt: skip
        lines += ["      " + line for line in encrypted.splitlines()]
    (tmp / "hosts.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp


def everything_written(lab: Path, *procs: subprocess.CompletedProcess) -> dict[str, bytes]:
    out = {f"output {i}": (p.stdout + p.stderr).encode() for i, p in enumerate(procs)}
    for path in lab.rglob("*"):
        if path.is_file() and path.name not in ("hosts.yml", "vault-password"):
            out[str(path)] = path.read_bytes()
    return out


def test_no_secret_in_audit_output_reports_history_or_work_record(lab):
    vault = ["--vault-password-file", str(lab / "vault-password")]
    inventory = ["-i", str(lab / "hosts.yml")]
    audit = run(str(BIN / "lgsec"), "audit", *inventory, "-o", str(lab / "out"), "-v", *vault)
    playbook = run(str(BIN / "ansible-playbook"), "-vvvv", *inventory, "playbooks/audit.yml", *vault,
                   "-e", f"lgsec_report_dir={lab / 'out-playbook'}")  # fmt: skip
    harden = run(str(BIN / "lgsec"), "harden", *inventory, "--operator", "tanaka", "--confirmed-by", "suzuki",
                 "--check", "--tags", "PW-LENGTH", "--log", str(lab / "worklog.jsonl"), "-v", *vault)  # fmt: skip
    assert audit.returncode in (0, 1), audit.stderr[-2000:]
    assert playbook.returncode == 0, playbook.stdout[-2000:]
    assert harden.returncode in (0, 2), harden.stdout[-2000:]  # check mode on this machine
    written = everything_written(lab, audit, playbook, harden)
    assert (lab / "out" / "report.json").exists() and (lab / "worklog.jsonl").exists()
    assert len(written["output 1"]) > 10000  # -vvvv really was verbose
    leaks = [(where, name) for where, data in written.items() for name, s in SECRETS.items() if s.encode() in data]
    assert not leaks, f"secrets found: {leaks}"
