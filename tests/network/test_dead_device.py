"""A network device that does not answer is `unreachable` (exit 3), as an SSH or WinRM host is:
network_cli reports a refused connection as a failed task, and the audit must not call it an
error of the device (nor ever pass). No lab needed: a port on 127.0.0.1 nothing listens on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens on it


def test_a_dead_network_cli_device_is_unreachable_exit_3(tmp_path):
    host = {
        "ansible_host": "127.0.0.1",
        "ansible_port": closed_port(),
        "ansible_user": "netadmin",
        "ansible_password": "lgsec-lab-only",
        "ansible_connection": "ansible.netcommon.network_cli",
        "ansible_network_os": "cisco.ios.ios",
        "ansible_connect_timeout": 5,
        "lgsec_importance": "II",
    }
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"sw-dead": host}}}), encoding="utf-8")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(BIN / "lgsec"), "audit", "-i", str(inventory), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    rows = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["results"]
    assert rows and {r["status"] for r in rows} == {"unreachable"}
    assert "connection refused" in rows[0]["actual"].lower()
