"""Bad input (issue 9's matrix): each gives one clear message naming the file and the field,
exit code 2, and nothing runs on any host. Rows covered elsewhere: malformed catalog
(test_catalog.py), unknown --controls id, empty inventory, no importance class (test_cli.py),
unknown host in an exception (test_exceptions.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from lgsec.cli import main
from lgsec.errors import EXIT_INPUT

VAULT_PASSWORD = "lgsec-test-vault-password"


def write_inventory(tmp_path: Path, hostvars: dict | str) -> Path:
    path = tmp_path / "hosts.yml"
    if isinstance(hostvars, str):
        path.write_text(hostvars, encoding="utf-8")
    else:
        host = {"ansible_connection": "local", "lgsec_importance": "II", **hostvars}
        path.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}}}), encoding="utf-8")
    return path


def vaulted(tmp_path: Path, name: str, secret: str) -> str:
    """`ansible-vault encrypt_string` output for name, as an operator pastes it into an inventory."""
    password_file = tmp_path / "vault-password"
    password_file.write_text(VAULT_PASSWORD, encoding="utf-8")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-vault"), "encrypt_string", "--vault-password-file",
         str(password_file), secret, "--name", name],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout


@pytest.mark.parametrize(
    ("inventory", "field", "why"),
    [
        ("all:\n  hosts:\n    web01: {lgsec_importance: II\n", "-", "cannot parse inventory"),
        ({"lgsec_pw_length_min": 0}, "lgsec_pw_length_min", "must be at least"),
        ({"lgsec_log_retention_days": -1}, "lgsec_log_retention_days", "must be at least"),
        ({"lgsec_pw_length_min": "twelve"}, "lgsec_pw_length_min", "must be int"),
        ({"lgsec_controls": ["PW-LENGHT"]}, "lgsec_controls", "unknown control id(s) PW-LENGHT"),
        ({"lgsec_pw_nostore_browsers": ["edge"]}, "lgsec_pw_nostore_browsers", "elements must be of"),
    ],
    ids=["malformed-yaml", "password-length-0", "retention-minus-1", "wrong-type", "unknown-control", "bad-choice"],
)
def test_bad_inventory_is_refused_naming_file_and_field(tmp_path, capsys, inventory, field, why):
    path = write_inventory(tmp_path, inventory)
    assert main(["audit", "-i", str(path), "-o", str(tmp_path / "out")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert str(path) in err and field in err and why in err, err
    assert not (tmp_path / "out").exists()  # nothing ran: no report either


def test_missing_or_wrong_vault_password_is_refused_before_anything_runs(tmp_path):
    """Run as the operator runs it (a process of its own: Ansible's vault context is process-wide)."""
    path = write_inventory(
        tmp_path,
        "all:\n  hosts:\n    web01:\n      ansible_connection: local\n      lgsec_importance: II\n      "
        + vaulted(tmp_path, "ansible_become_password", "s3cret-become").replace("\n", "\n      "),
    )
    lgsec = [str(Path(sys.executable).parent / "lgsec"), "audit", "-i", str(path), "-o", str(tmp_path / "out")]
    proc = subprocess.run(lgsec, capture_output=True, text=True, check=False)
    assert proc.returncode == EXIT_INPUT
    assert "ansible_become_password: is vault-encrypted: give --vault-password-file" in proc.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password", encoding="utf-8")
    proc = subprocess.run([*lgsec, "--vault-password-file", str(wrong)], capture_output=True, text=True, check=False)
    assert proc.returncode == EXIT_INPUT
    assert "ansible_become_password: cannot be decrypted" in proc.stderr and "s3cret" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_harden_with_a_bad_variable_touches_no_host(tmp_path):
    """harden.yml's first play validates every host; a bad value stops the run there: the hardening
    play never starts, so not even a connection is made to the (unreachable) host."""
    path = write_inventory(
        tmp_path,
        {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9, "lgsec_lockout_deny": "five"},
    )
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(path), "playbooks/harden.yml"],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )  # fmt: skip
    assert proc.returncode != 0
    assert "lgsec input error" in proc.stdout and "lgsec_lockout_deny" in proc.stdout
    assert "Harden Linux hosts" not in proc.stdout and "UNREACHABLE" not in proc.stdout
