"""The Windows roles: a task file for every automated W control, argument specs that validate
the catalog defaults and refuse a wrong type, and the filters through which the roles share
the audit's judgement (members by SID or name, idle accounts, deny-list, audit subcategories)."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, import_path

from lgsec.checks.windows_logs import AUDIT

WIN_ROLES = sorted(p for p in (ROOT / "roles").glob("win_*") if (p / "tasks").is_dir())
FILTERS = import_path("lgsec_windows_filters", ROOT / "filter_plugins" / "lgsec_windows.py")
SID = "S-1-5-21-3623811015-3361044348-30300820"


def test_every_automated_windows_control_has_a_role_task_file(catalog):
    files = {p.stem.upper().replace("_", "-"): p for role in WIN_ROLES for p in (role / "tasks").glob("*.yml")}
    wanted = [
        c.id for c in catalog if "windows" in c.platforms and c.automation == "automated" and c.id != "WIPE-RECORDED"
    ]
    missing = [cid for cid in wanted if cid not in files]
    assert not missing, f"automated W controls without roles/win_*/tasks/<control>.yml: {missing}"
    for cid in wanted:
        text = files[cid].read_text(encoding="utf-8")
        assert f"name: {cid} | " in text and "第" in text, files[cid]


@pytest.mark.parametrize("role", WIN_ROLES, ids=lambda p: p.name)
def test_argument_specs_validate_the_defaults_and_refuse_a_wrong_type(role):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    validator = ArgumentSpecValidator(options)
    assert not validator.validate(defaults).error_messages
    name, spec = next((n, s) for n, s in options.items() if s["type"] in ("int", "list"))
    wrong = {**defaults, name: "five" if spec["type"] == "int" else {"not": "a list"}}
    assert validator.validate(wrong).error_messages, f"{role.name}: {name} accepted a {spec['type']}-less value"


@pytest.mark.parametrize("role", WIN_ROLES, ids=lambda p: p.name)
def test_windows_roles_use_fqcn_windows_modules(role):
    for path in (role / "tasks").glob("*.yml"):
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            # lgsec_win_guard: the project's own read-only module (library/), named like lgsec_validate
            modules = [k for k in task if "." in k or k == "lgsec_win_guard"]
            assert modules, f"{path}: {task.get('name')}"
            modules = [m for m in modules if m != "lgsec_win_guard"]
            assert all(m.split(".")[0] in ("ansible", "community") for m in modules)
            assert not any(
                m.startswith("ansible.builtin.") and m.split(".")[2] in ("command", "shell", "copy") for m in modules
            )


def test_not_approved_matches_like_the_audit():
    members = [
        {"Name": "PC\\Administrator", "SID": f"{SID}-500"},
        {"Name": "PC\\somu-admin", "SID": f"{SID}-1001"},
        {"Name": "PC\\tanaka", "SID": f"{SID}-1002"},
        {"Name": "EXAMPLE\\Domain Admins", "SID": "S-1-5-21-1-2-3-512"},
    ]
    extra = FILTERS.lgsec_win_not_approved(members, ["SOMU-ADMIN", "S-1-5-21-1-2-3-512"])
    assert [m["Name"] for m in extra] == ["PC\\tanaka"]


def test_idle_accounts_like_the_audit():
    users = [
        {"Name": "tanaka", "SID": f"{SID}-1002", "Enabled": True, "IdleDays": 120},
        {"Name": "suzuki", "SID": f"{SID}-1004", "Enabled": True, "IdleDays": 10},
        {"Name": "backup", "SID": f"{SID}-1005", "Enabled": True, "IdleDays": 400},
        {"Name": "old", "SID": f"{SID}-1006", "Enabled": False, "IdleDays": 999},
        {"Name": "never", "SID": f"{SID}-1007", "Enabled": True, "IdleDays": None},
    ]
    assert [u["Name"] for u in FILTERS.lgsec_win_idle(users, 90, ["backup"])] == ["tanaka", "never"]


def test_deny_list_and_audit_table_are_the_audits():
    programs = [{"Name": "TeamViewer"}, {"Name": "7-Zip 24.09 (x64 edition)"}, {"Name": "teamviewer host"}]
    assert FILTERS.lgsec_win_denied(programs, ["TeamViewer*"]) == [programs[0], programs[2]]
    wanted = FILTERS.lgsec_win_audit_wanted(["logon", "privilege_use"])
    assert wanted == {
        **{g: b for g, (_n, b) in AUDIT["logon"].items()},
        **{g: b for g, (_n, b) in AUDIT["privilege_use"].items()},
    }
    with pytest.raises(ValueError, match="nonsense"):
        FILTERS.lgsec_win_audit_wanted(["nonsense"])


def test_management_source_check():
    nets = ["192.0.2.0/24", "2001:db8::/32"]
    assert FILTERS.lgsec_win_in_networks(["192.0.2.10", "::ffff:192.0.2.11", "198.51.100.1", "2001:db8::5"], nets) == [
        "192.0.2.10",
        "::ffff:192.0.2.11",
        "2001:db8::5",
    ]
    assert FILTERS.lgsec_win_in_networks(["198.51.100.1"], ["0.0.0.0/0", "::/0"]) == ["198.51.100.1"]


def test_example_inventory_windows_hosts(catalog):
    """The example Windows hosts: WinRM over HTTPS 5986 with NTLM and message encryption, the
    password vault-encrypted (the example value with the throwaway example password), variables
    valid, platform windows."""
    from lgsec.evaluate import host_platform, validate_hostvars
    from lgsec.inventory import load_inventory

    example = ROOT / "inventories" / "example"
    group = yaml.safe_load(
        (example / "group_vars" / "windows_pcs.yml").read_text(encoding="utf-8").replace("!vault", "")
    )
    assert group["ansible_port"] == 5986 and group["ansible_winrm_scheme"] == "https"
    assert (
        group["ansible_winrm_transport"] in ("ntlm", "kerberos")
        and group["ansible_winrm_message_encryption"] == "always"
    )
    assert group["ansible_password"].startswith("$ANSIBLE_VAULT;1.2;AES256;example")
    assert "validate" in group["ansible_winrm_server_cert_validation"]
    hosts = load_inventory(str(example / "hosts.yml"), "windows_pcs", str(example / "EXAMPLE-ONLY-vault-password.txt"))
    assert set(hosts) == {"somu-pc01", "fs01"}
    for host, hostvars in hosts.items():
        validate_hostvars(catalog, host, hostvars)
        assert host_platform({**hostvars, "ansible_connection": "winrm"}) == "windows"


def test_windows_provisioning_expires_the_temporary_password():
    """PW-TEMP (manual control): new Windows accounts get the vaulted temporary password, expired
    ("must change at next logon"), existing ones are never touched, secrets never logged."""
    plays = yaml.safe_load((ROOT / "playbooks" / "provision_user_windows.yml").read_text(encoding="utf-8"))
    tasks = {t["name"]: t for t in plays[0]["tasks"]}
    create = next(t for n, t in tasks.items() if "create the new accounts" in n)
    user = create["ansible.windows.win_user"]
    assert user["password_expired"] is True and user["update_password"] == "on_create"
    assert create["no_log"] is True and "rejectattr('name', 'in'" in create["loop"]


@pytest.mark.slow
@pytest.mark.parametrize(("value", "failed"), [(600, 0), ("ten", 1)])
def test_ansible_validates_a_windows_role_against_its_specs(tmp_path, value, failed):
    """Ansible itself runs the role's argument spec validation before any task (here on the
    controller, with no task selected by tags): a wrong type stops the play."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    play = tmp_path / "play.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  roles: [win_desktop]\n", encoding="utf-8")
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(play),
            "--tags",
            "NO-SUCH-TAG",
            "-e",
            json.dumps({"lgsec_screen_lock_idle_seconds": value}),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert f"failed={failed}" in result.stdout, result.stdout[-2000:]
    if failed:
        assert "lgsec_screen_lock_idle_seconds" in result.stdout
