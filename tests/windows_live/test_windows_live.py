"""Live suite: harden and audit a real Windows host, then check its state with testinfra's
winrm backend. There is no Windows on the lab machines (LAB.md), so it runs only when a host
is given by environment variables, and is skipped (saying why) otherwise:

  LGSEC_WIN_HOST, LGSEC_WIN_USER, LGSEC_WIN_PASSWORD   required (an administrator of the host, itself a
    member of Administrators and not the built-in Administrator: the suite renames RID 500, and the
    roles refuse to rename the account a run connects as or to remove the group it is admin through)
  LGSEC_WIN_PORT (5986), LGSEC_WIN_TRANSPORT (ntlm), LGSEC_WIN_CERT_VALIDATION (validate|ignore),
  LGSEC_WIN_MGMT_SOURCES (comma separated CIDRs the management path is opened to; default any),
  LGSEC_WIN_IMPORTANCE (the host's 重要性 class, default II)

    LGSEC_WIN_HOST=pc01.example.lg.jp LGSEC_WIN_USER=lgsecadmin LGSEC_WIN_PASSWORD=… \
      .venv/bin/pytest -m windows_live tests/windows_live

The host IS CHANGED (hardened): use a test PC or VM. The password reaches Ansible through the
environment (never written to a file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("LGSEC_WIN_HOST", "LGSEC_WIN_USER", "LGSEC_WIN_PASSWORD")
MISSING = [name for name in REQUIRED if not os.environ.get(name)]
pytestmark = [
    pytest.mark.windows_live,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"no Windows host given (set {', '.join(MISSING)}; see tests/windows_live/test_windows_live.py): "
        "there is no Windows on the lab machines (LAB.md)",
    ),
]
HOST = "lgsec-win-live"
ADMIN_NAME = "lgsec-kanri"
# Controls the roles enforce and that a hardened host must pass whatever its software: audit-only
# controls (PORTS-APPROVED, SW-*, DISK-ENCRYPTED, BACKUP-RECENT) depend on the host, and
# SETTINGS-LOCKED on Defender's tamper protection, which no policy sets.
ENFORCED = (
    "PW-LENGTH",
    "PW-COMPLEXITY",
    "PW-HISTORY",
    "PW-NOSTORE",
    "LOCKOUT",
    "PRIV-MEMBERS",
    "PRIV-DEFAULT-ID",
    "SESSION-LIMIT",
    "SCREEN-LOCK",
    "USB-STORAGE",
    "AUTORUN",
    "LOG-RETENTION",
    "LOG-AUDIT",
    "FW-DEFAULT-DENY",
    "REMOTE-ENCRYPTED",
    "REMOTE-MINIMAL",
)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("win") / "hosts.yml"
    sources = [s.strip() for s in env("LGSEC_WIN_MGMT_SOURCES", "0.0.0.0/0,::/0").split(",") if s.strip()]
    hostvars = {
        "ansible_host": env("LGSEC_WIN_HOST"),
        "ansible_user": env("LGSEC_WIN_USER"),
        "ansible_password": "{{ lookup('ansible.builtin.env', 'LGSEC_WIN_PASSWORD') }}",
        "ansible_connection": "winrm",
        "ansible_port": int(env("LGSEC_WIN_PORT", "5986")),
        "ansible_winrm_scheme": "https",
        "ansible_winrm_transport": env("LGSEC_WIN_TRANSPORT", "ntlm"),
        "ansible_winrm_message_encryption": "always",
        "ansible_winrm_server_cert_validation": env("LGSEC_WIN_CERT_VALIDATION", "validate"),
        "lgsec_priv_members_approved": [env("LGSEC_WIN_USER").split("\\")[-1]],
        "lgsec_priv_default_id_windows_admin_name": ADMIN_NAME,
        "lgsec_remote_minimal_allow_groups": [env("LGSEC_WIN_USER").split("\\")[-1]],
        "lgsec_fw_default_deny_management_sources": sources,
        "lgsec_importance": env("LGSEC_WIN_IMPORTANCE", "II"),  # 第10条 class (II: DISK-ENCRYPTED, BACKUP-RECENT apply)
    }
    path.write_text(json.dumps({"all": {"hosts": {HOST: hostvars}}}), encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=3600, check=False)


def audit(inventory: Path, outdir: Path) -> dict[str, dict]:
    result = run(str(Path(sys.executable).parent / "lgsec"), "audit", "-i", str(inventory), "-o", str(outdir))
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    rows = json.loads((outdir / "report.json").read_text(encoding="utf-8"))["results"]
    assert rows and all(r["platform"] == "windows" and r["source"] == "live" for r in rows)
    return {r["control"]: r for r in rows}


def harden(inventory: Path) -> str:
    result = run(str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "playbooks/harden.yml")
    assert result.returncode == 0, result.stdout[-5000:]
    return result.stdout


def windows_host():
    """testinfra over WinRM (NTLM, HTTPS), as a second, independent connection."""
    import testinfra.host
    from testinfra.backend.winrm import WinRMBackend

    backend = WinRMBackend(
        f"{env('LGSEC_WIN_HOST')}:{env('LGSEC_WIN_PORT', '5986')}",
        no_verify_ssl=env("LGSEC_WIN_CERT_VALIDATION", "validate") == "ignore",
    )
    backend.conn_args.update(username=env("LGSEC_WIN_USER"), password=env("LGSEC_WIN_PASSWORD"))
    return testinfra.host.Host(backend)


def powershell(host, script: str) -> str:
    result = host.run(f'powershell.exe -NoProfile -NonInteractive -Command "{script}"')
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def before(inventory, tmp_path_factory):
    return audit(inventory, tmp_path_factory.mktemp("before"))


@pytest.fixture(scope="module")
def hardened(inventory, before):
    first = harden(inventory)
    second = harden(inventory)
    return first, second


@pytest.fixture(scope="module")
def after(inventory, hardened, tmp_path_factory):
    return audit(inventory, tmp_path_factory.mktemp("after"))


def test_audit_reads_the_host_before_hardening(before):
    assert not [c for c, r in before.items() if r["status"] == "unreachable"]
    errors = {c: r["actual"] for c, r in before.items() if r["status"] == "error" and c in ENFORCED}
    assert not errors, errors


def test_hardening_is_idempotent(hardened):
    _first, second = hardened
    recap = re.search(rf"^{re.escape(HOST)}\s*:.*changed=(\d+)", second, re.M)
    assert recap and recap.group(1) == "0", second[-3000:]


def test_enforced_controls_pass_after_hardening(after):
    failing = {c: after[c]["actual"] for c in ENFORCED if after[c]["status"] != "pass"}
    assert not failing, failing


def test_state_seen_over_a_second_winrm_connection(after):
    """The operator still gets in (lockout guard), and the host says what the audit said."""
    host = windows_host()
    assert env("LGSEC_WIN_USER").split("\\")[-1].lower() in powershell(host, "whoami").lower()
    name = powershell(host, "(Get-LocalUser | Where-Object { $_.SID.Value -like '*-500' }).Name")
    assert name == ADMIN_NAME
    disabled = powershell(
        host, "@(Get-NetFirewallProfile -PolicyStore ActiveStore | Where-Object { -not $_.Enabled }).Count"
    )
    assert disabled == "0"
    key = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
    assert powershell(host, f"(Get-ItemProperty -LiteralPath '{key}').InactivityTimeoutSecs") == "600"
    # Logon {0CCE9215-…} success and failure, read by GUID (auditpol /r prints the language's names)
    row = powershell(
        host, "auditpol /get /subcategory:'{0CCE9215-69AE-11D9-BED3-505054503030}' /r | Select-Object -Last 1"
    )
    assert "0CCE9215" in row.upper()


def test_offline_collection_judges_the_same(inventory, after, tmp_path):
    """The .ps1 staff run by hand gives the verdicts the live gather gave."""
    result = run(
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(inventory),
        "tests/windows_live/collect.yml",
        "-e",
        f"lgsec_fetch_to={tmp_path}",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    evidence = tmp_path / "evidence"
    with zipfile.ZipFile(tmp_path / "evidence.zip") as archive:
        archive.extractall(evidence)
    (computer,) = [p for p in evidence.iterdir() if p.is_dir()]
    computer.rename(evidence / HOST)
    out = tmp_path / "report"
    code = run(
        str(Path(sys.executable).parent / "lgsec"),
        "audit",
        "--evidence",
        str(evidence),
        "-i",
        str(inventory),
        "-o",
        str(out),
    ).returncode
    assert code in (0, 1)
    rows = {r["control"]: r for r in json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]}
    assert all(r["source"] == "evidence" for r in rows.values())
    assert {c: rows[c]["status"] for c in ENFORCED} == {c: after[c]["status"] for c in ENFORCED}
