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


# Issue 16: input that crashed (a traceback, exit 1) is exit 2 naming the file, the entry and the field.
EXCEPTION = {
    "reference": "R-1",
    "control": "USB-STORAGE",
    "hosts": ["web01"],
    "reason": "障害対応",
    "requested_by": "山田",
    "approved_by": "佐藤",
    "approved_on": "2026-10-01",
    "expires_on": "2027-03-31",
}


def exceptions_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exceptions.yml"
    path.write_text(text, encoding="utf-8")
    return path


def raw_entry(**change) -> str:
    """One exception as an operator types it (dates unquoted, as YAML reads them)."""
    entry = {**EXCEPTION, **change}
    return "exceptions:\n" + as_typed(entry)


def as_typed(entry: dict) -> str:
    """A YAML list item of one mapping, its text values unquoted (as a person types them)."""
    flow = {k: v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True, allow_unicode=True).strip()
            for k, v in entry.items()}  # fmt: skip
    return "".join(f"  {'- ' if i == 0 else '  '}{k}: {v}\n" for i, (k, v) in enumerate(flow.items()))


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"expires_on": "2027-02-30"}, "expires_on", "2027-02-30 does not exist"),
        ({"approved_on": "2026-10-01 10:00:00"}, "approved_on", "must be a date YYYY-MM-DD"),
        ({"expires_on": "2026-W40-1"}, "expires_on", "must be a date YYYY-MM-DD"),
        ({"expires_on": "20261001"}, "expires_on", "must be a date YYYY-MM-DD"),
        ({"control": ["NET-SNMP"]}, "control", "must be text, not list"),
        ({"approved_by": ["佐藤"]}, "approved_by", "must be text, not list"),
        ({"expires_on": "2030-10-02"}, "expires_on", "more than 3 years after the approval"),
        ({"approved_by": "ｙａｍａｄａ", "requested_by": "Yamada  "}, "approved_by", "must not be the requester"),
        ({"approved_by": "山田\u3000太郎", "requested_by": "山田 太郎"}, "approved_by", "must not be the requester"),
    ],
    ids=["no-such-day", "a-time", "week-date", "basic-format", "list-control", "list-approver", "too-long",
         "full-width-name", "ideographic-space"],
)  # fmt: skip
def test_bad_exception_is_exit_2_naming_file_entry_and_field(tmp_path, capsys, change, field, why):
    inventory = write_inventory(tmp_path, {})
    path = exceptions_file(tmp_path, raw_entry(**change))
    code = main(["audit", "-i", str(inventory), "-o", str(tmp_path / "out"), "--exceptions", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert f"{path}: exception 1 (R-1): {field}: " in err and why in err, err
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_is_refused_at_once(tmp_path, capsys):
    """653 bytes that expand to 10^9 values: refused, naming the line, before anything walks it."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
    bomb = "\n".join(levels) + "\nexceptions: [*i]\n"
    assert len(bomb) < 700
    inventory = write_inventory(tmp_path, {})
    path = exceptions_file(tmp_path, bomb)
    code = main(["audit", "-i", str(inventory), "-o", str(tmp_path / "out"), "--exceptions", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and f"{path}: line " in err and "YAML aliases" in err, err


def test_a_huge_file_is_refused_unread(tmp_path, monkeypatch):
    from lgsec import safeyaml
    from lgsec.errors import InputError

    monkeypatch.setattr(safeyaml, "MAX_BYTES", 1000)
    path = exceptions_file(tmp_path, "exceptions:\n" + "# padding\n" * 200)
    with pytest.raises(InputError, match="larger than 1000 bytes"):
        safeyaml.load(path, "exceptions file", max_bytes=safeyaml.MAX_BYTES)


@pytest.mark.parametrize(
    ("hostvars", "field", "why"),
    [
        ("lgsec_sw_patched_security_mirror: 2026-02-30", "line 6", "'2026-02-30' is not a date of the calendar"),
        ("lgsec_net_snmp_default_communities: [public, 1]", "lgsec_net_snmp_default_communities",
         "elements must be text, got int 1"),
        ("lgsec_pw_lenght_min: 14", "lgsec_pw_lenght_min", "did you mean lgsec_pw_length_min?"),
        ("lgsec_importanse: II", "lgsec_importanse", "did you mean lgsec_importance?"),
        ("lgsec_mobile: 'no'", "lgsec_mobile", "must be true or false"),
        ("lgsec_controls: [[PW-LENGTH]]", "lgsec_controls", "must be a list of control ids"),
        ("lgsec_extra_platforms: [{mail: 1}]", "lgsec_extra_platforms", "must be a list of"),
        ("lgsec_platforms: [mail]", "lgsec_platforms", "renamed: use lgsec_extra_platforms (the platforms a host"),
        ("lgsec_importance: [II]", "lgsec_importance", "must be one of I, II, III, IV"),
        ("ansible_network_os: arista.eos.eos", "ansible_network_os", "lgsec reads no configuration of"),
    ],
    ids=["no-such-day", "list-element-int", "misspelt-param", "misspelt-own", "quoted-no", "nested-list",
         "unhashable-platform", "renamed-platforms", "list-class", "unknown-network-os"],
)  # fmt: skip
def test_bad_inventory_value_is_exit_2_naming_the_variable(tmp_path, capsys, hostvars, field, why):
    path = write_inventory(
        tmp_path,
        f"all:\n  hosts:\n    web01:\n      ansible_connection: local\n      lgsec_importance: II\n      {hostvars}\n",
    )
    for command in (["audit", "-i", str(path)], ["harden", "-i", str(path), "--operator", "a", "--confirmed-by", "b"]):
        code = main([*command, "-o" if command[0] == "audit" else "--log", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == EXIT_INPUT, err
        assert str(path) in err and f"{field}: " in err and why in err, err
    assert not (tmp_path / "out").exists()


# Issue 18: the input checks that lived in role tasks (USB device ids on Linux and Windows, the
# firewall's sources and ports) are the catalog's formats: the audit refuses them too, and the
# Windows host's ids, which only its role's assert checked (the audit split them unchecked), alike.
WINRM = "ansible_connection: winrm\n      lgsec_platform: windows"


@pytest.mark.parametrize(
    ("connection", "hostvars", "field", "why"),
    [
        ("ansible_connection: local", "lgsec_usb_storage_allowed_devices: [0781:5581, SanDisk]",
         "lgsec_usb_storage_allowed_devices", "a USB vendor:product id of four hex digits each (0781:5581), got 'San"),
        (WINRM, "lgsec_usb_storage_allowed_devices: ['0781-5581']",
         "lgsec_usb_storage_allowed_devices", "got '0781-5581'"),
        (WINRM, "lgsec_usb_storage_windows_allowed_device_classes: [Keyboard]",
         "lgsec_usb_storage_windows_allowed_device_classes", "a device setup class GUID in braces"),
        (WINRM, "lgsec_usb_storage_windows_allowed_instance_ids: [' ']",
         "lgsec_usb_storage_windows_allowed_instance_ids", "text that is not blank"),
        ("ansible_connection: local", "lgsec_fw_default_deny_management_sources: [10.0.0.0/33]",
         "lgsec_fw_default_deny_management_sources", "an IPv4 or IPv6 network or address"),
        (WINRM, "lgsec_fw_default_deny_open_ports: [tcp443]",
         "lgsec_fw_default_deny_open_ports", "tcp or udp with a port or a low-high range of 1-65535"),
        ("ansible_connection: local", "lgsec_fw_default_deny_open_ports: [udp/61000-60000]",
         "lgsec_fw_default_deny_open_ports", "got 'udp/61000-60000'"),
    ],
    ids=["linux-usb-id", "windows-usb-id", "windows-class-guid", "windows-blank-instance", "linux-cidr",
         "windows-port", "linux-port-range"],
)  # fmt: skip
def test_a_malformed_id_or_address_is_exit_2_before_any_host(tmp_path, capsys, connection, hostvars, field, why):
    path = write_inventory(
        tmp_path, f"all:\n  hosts:\n    web01:\n      {connection}\n      lgsec_importance: II\n      {hostvars}\n"
    )
    for command in (["audit", "-i", str(path)], ["harden", "-i", str(path), "--operator", "a", "--confirmed-by", "b"]):
        code = main([*command, "-o" if command[0] == "audit" else "--log", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == EXIT_INPUT, err
        assert str(path) in err and "host web01" in err and f"{field}: " in err and why in err, err
    assert not (tmp_path / "out").exists()


def test_well_formed_ids_and_addresses_are_accepted():
    from lgsec.catalog import load_catalog
    from lgsec.evaluate import validate_hostvars

    hostvars = {
        "lgsec_importance": "II",
        "lgsec_usb_storage_allowed_devices": ["0781:5581", "054C:0bb1"],
        "lgsec_usb_storage_windows_allowed_device_classes": ["{4D36E96B-E325-11CE-BFC1-08002BE10318}"],
        "lgsec_usb_storage_windows_allowed_instance_ids": ["USBSTOR\\DISK&VEN_SANDISK\\4C5300&0"],
        "lgsec_fw_default_deny_management_sources": ["192.0.2.0/24", "2001:db8::/32", "192.0.2.10"],
        "lgsec_fw_default_deny_open_ports": ["tcp/443", "udp/60000-61000"],
    }
    validate_hostvars(load_catalog(), "web01", hostvars, require_class=False)


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"status": ["partial"]}, "status", "must be text, not list"),
        ({"attested_on": "2026-02-30"}, "attested_on", "2026-02-30 does not exist"),
        ({"attested_on": "2026-11-01 09:00:00"}, "attested_on", "must be a date YYYY-MM-DD"),
        ({"article": ["第42条"]}, "article", "must be text, not list"),
    ],
)
def test_bad_attestation_is_exit_2(tmp_path, capsys, change, field, why):
    item = {"article": "第42条", "topic": "研修", "status": "done", "attested_by": "課長",
            "attested_on": "2026-11-01", "evidence": "記録", **change}  # fmt: skip
    path = tmp_path / "attestations.yml"
    path.write_text("attestations:\n" + as_typed(item), encoding="utf-8")
    report = tmp_path / "report.json"
    report.write_text('{"run": {}, "results": []}', encoding="utf-8")
    code = main(
        ["report", "self-inspection", "--attestations", str(path), "--report", str(report), "-o", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert f"{path}: attestation 1: {field}: " in err and why in err, err


def test_every_variable_the_repository_sets_is_known():
    """The inventories, the molecule scenarios' hosts and the roles' defaults set only variables
    lgsec knows (lgsec/variables.py): the refusal of misspelt ones refuses none of lgsec's own."""
    import re

    from lgsec import variables
    from lgsec.catalog import load_catalog

    catalog = load_catalog()
    places = [*ROOT.glob("inventories/**/*.yml"), *ROOT.glob("molecule/*/molecule.yml"),
              *ROOT.glob("roles/*/defaults/main.yml"), *ROOT.glob("tests/fixtures/**/inventory.yml")]  # fmt: skip
    assert len(places) > 10
    refused = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in places
        for name in re.findall(r"^\s*(lgsec_\w+):", path.read_text(encoding="utf-8"), re.M)
        if variables.unknown(catalog, name)
    }
    assert not refused
    assert (
        variables.unknown(catalog, "lgsec_pw_lenght_min") == "unknown lgsec variable: did you mean lgsec_pw_length_min?"
    )


def test_every_variable_a_playbook_or_the_cli_passes_is_known():
    """What a user or lgsec itself passes as an extra variable reaches the validation of every
    host: each `lgsec_x | default(…)` a playbook reads and each variable the CLI passes is known
    (lgsec/variables.py), unless the repository sets it itself (register, set_fact)."""
    import re

    from lgsec import variables
    from lgsec.catalog import load_catalog

    catalog = load_catalog()
    yaml_files = [*ROOT.glob("playbooks/*.yml"), *ROOT.glob("roles/*/tasks/*.yml")]
    own_facts = set()
    for path in yaml_files:
        text = path.read_text(encoding="utf-8")
        own_facts |= set(re.findall(r"register:\s*(lgsec_\w+)", text))
        own_facts |= set(re.findall(r"^\s+(lgsec_\w+):", text, re.M))  # set_fact keys and task vars
    passed = set()
    for path in yaml_files:
        passed |= set(re.findall(r"\b(lgsec_\w+)\s*\|\s*default", path.read_text(encoding="utf-8")))
    passed |= set(re.findall(r'"(lgsec_\w+)":', (ROOT / "lgsec" / "cli.py").read_text(encoding="utf-8")))
    assert {"lgsec_operator", "lgsec_confirmed_by", "lgsec_report_dir"} <= passed
    refused = {name for name in passed - (own_facts - variables.OWN) if variables.unknown(catalog, name)}
    assert not refused
