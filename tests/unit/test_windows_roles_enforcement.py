"""Windows enforcement that must not lock the operator out or fail on a real host (issue 15).

No Windows here: the guards' and tasks' own Jinja conditions are evaluated with Ansible's templar
and the lgsec filters, on the values a host's read step returns; the WinRM transport is compared
with what Ansible's own WinRM connection plugin chooses; PowerShell is checked as text."""

from __future__ import annotations

import itertools
import os
import re

import pytest
import yaml
from conftest import ROOT, import_path
from hypothesis import given
from hypothesis import strategies as st

from lgsec.catalog import load_catalog
from lgsec.errors import InputError
from lgsec.evaluate import validate_hostvars

FILTERS = import_path("lgsec_windows_filters", ROOT / "filter_plugins" / "lgsec_windows.py")
ROLES = ROOT / "roles"
DOM = "S-1-5-21-1111111111-2222222222-3333333333"  # the domain
PC = "S-1-5-21-3623811015-3361044348-30300820"  # the PC's own accounts


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ansible():
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        from ansible.plugins.loader import init_plugin_loader

        init_plugin_loader()
    finally:
        os.chdir(cwd)
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    def trust(value):
        if isinstance(value, str):
            return trust_as_template(value)
        if isinstance(value, list):
            return [trust(v) for v in value]
        if isinstance(value, dict):
            return {k: trust(v) for k, v in value.items()}
        return value

    def templar(variables):
        return Templar(loader=DataLoader(), variables=trust(variables)), trust_as_template

    return templar


def task(role: str, file: str, starts: str) -> dict:
    found = [t for t in load(ROLES / role / "tasks" / file) if t["name"].startswith(starts)]
    assert len(found) == 1, f"{role}/{file}: no single task {starts!r}"
    return found[0]


def role_vars(role: str, **extra) -> dict:
    variables = dict(load(ROLES / role / "defaults" / "main.yml") or {})
    if (ROLES / role / "vars" / "main.yml").exists():
        variables.update(load(ROLES / role / "vars" / "main.yml") or {})
    variables.update(extra)
    return variables


def asserts_pass(ansible, role: str, the_task: dict, variables: dict) -> bool:
    """Does the assert task pass with these variables (its own vars and when included)?"""
    templar, trust = ansible({**variables, **the_task.get("vars", {})})
    when = the_task.get("when", [])
    for condition in when if isinstance(when, list) else [when]:
        if not templar.evaluate_conditional(trust(condition)):
            return True  # skipped: nothing refused
    that = the_task["ansible.builtin.assert"]["that"]
    passed = all(templar.evaluate_conditional(trust(c)) for c in (that if isinstance(that, list) else [that]))
    if not passed:  # the refusal's message renders (a broken message would hide the reason)
        message = templar.template(trust(the_task["ansible.builtin.assert"]["fail_msg"]))
        assert "Nothing was changed" in message and "{{" not in message, message
    return passed


def render(ansible, variables: dict, expression: str):
    templar, trust = ansible(variables)
    return templar.template(trust("{{ " + expression + " }}"))


# ---- REMOTE-ENCRYPTED: the WinRM transport as the connection plugin chooses it ----------------------

PLUGIN_CASES = [
    {},  # nothing set: HTTPS 5986, ssl = Basic
    {"ansible_port": 5985},  # HTTP: plaintext = Basic, unencrypted
    {"ansible_user": "ope@EXAMPLE.LG.JP"},  # a UPN: kerberos
    {"ansible_winrm_transport": "ntlm"},
    {"ansible_winrm_transport": "kerberos,ssl"},
    {"ansible_winrm_transport": ["credssp"], "ansible_port": 5985},
]


@pytest.mark.parametrize("hostvars", PLUGIN_CASES, ids=str)
def test_transport_filter_chooses_what_the_winrm_plugin_chooses(ansible, hostvars):
    """ansible/plugins/connection/winrm.py _build_winrm_kwargs is the reference: the filter must
    give the same transports for the same host variables."""
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    conn = connection_loader.get("winrm", PlayContext(), "/dev/null")
    direct = {"remote_addr": "pc01", "remote_user": hostvars.get("ansible_user", "lgsec-ope"), "password": "x"}
    if "ansible_port" in hostvars:
        direct["port"] = hostvars["ansible_port"]
    if "ansible_winrm_transport" in hostvars:
        direct["transport"] = hostvars["ansible_winrm_transport"]
    conn.set_options(direct=direct, var_options={"_extras": {}})
    conn._build_winrm_kwargs()
    scheme = "http" if hostvars.get("ansible_port") == 5985 else "https"
    mine = FILTERS.lgsec_win_winrm_transports(
        hostvars.get("ansible_winrm_transport"), scheme, hostvars.get("ansible_user", "lgsec-ope")
    )
    assert conn._winrm_scheme == scheme and mine == conn._winrm_transport


@pytest.mark.parametrize(
    ("hostvars", "survives"),
    [
        ({}, False),  # the issue: unset transport = Basic over HTTPS, AllowBasic 0 cuts the run
        ({"ansible_port": 5985}, False),
        ({"ansible_winrm_transport": "ntlm", "ansible_winrm_message_encryption": "always"}, True),
        ({"ansible_winrm_transport": "kerberos,ssl"}, False),  # may fall back to Basic
        ({"ansible_user": "ope@EXAMPLE.LG.JP"}, True),
        ({"ansible_winrm_transport": "ntlm", "ansible_port": 5985}, True),  # NTLM encrypts messages over HTTP
        ({"ansible_winrm_transport": "ntlm", "ansible_port": 5985, "ansible_winrm_message_encryption": "never"}, False),
        ({"ansible_winrm_transport": "ssl", "ansible_winrm_cert_pem": "/etc/lgsec/ope.pem"}, True),  # certificate
        ({"ansible_winrm_transport": "basic", "lgsec_waived_controls": ["REMOTE-ENCRYPTED"]}, True),  # not enforced
        ({"ansible_connection": "psrp"}, True),  # psrp: negotiate by default
        ({"ansible_connection": "psrp", "ansible_psrp_auth": "basic"}, False),
        ({"ansible_connection": "ssh"}, True),  # OpenSSH: WinRM's settings do not touch the run
    ],
    ids=str,
)
def test_remote_encrypted_guard_refuses_while_the_run_needs_basic_or_cleartext(ansible, hostvars, survives):
    guard = task("win_network_access", "guard.yml", "GUARD | this connection survives REMOTE-ENCRYPTED")
    assert asserts_pass(ansible, "win_network_access", guard, role_vars("win_network_access", **hostvars)) is survives


# ---- PRIV-MEMBERS: effective membership through the token's groups ----------------------------------

ADMINS = [
    {"Name": "PC01\\Administrator", "SID": f"{PC}-500"},
    {"Name": "EXAMPLE\\Domain Admins", "SID": f"{DOM}-512"},
    {"Name": "PC01\\tanaka", "SID": f"{PC}-1002"},
]
# ope is an administrator only through Domain Admins (its own SID is in no local group)
OPE = {"Name": "EXAMPLE\\ope", "SID": f"{DOM}-1105", "Groups": [f"{DOM}-513", f"{DOM}-512", "S-1-5-32-544", "S-1-5-11"]}


def accounts_vars(approved, operator=OPE, users=(), **extra):
    read = {"operator": operator, "groups": [{"Name": "Administrators", "SID": "S-1-5-32-544", "Members": ADMINS}]}
    local = {"result": {"users": list(users), "admin_lockout_supported": True, "lockout_duration": 30, "build": 22631}}
    return role_vars(
        "win_accounts", lgsec_win_acct_guard=read, lgsec_win_local=local, lgsec_priv_members_approved=approved, **extra
    )


@pytest.mark.parametrize(
    ("approved", "operator", "keeps"),
    [
        ([], OPE, False),  # the issue: Domain Admins would be removed under the running connection
        (["EXAMPLE\\Domain Admins"], OPE, True),
        ([f"{DOM}-512"], OPE, True),
        (["tanaka"], {**OPE, "Groups": [f"{DOM}-513"]}, False),  # no way in this guard can see: refused
        (["tanaka"], {"Name": "PC01\\tanaka", "SID": f"{PC}-1002", "Groups": ["S-1-5-32-544"]}, True),
    ],
    ids=["domain-admins-removed", "group-approved", "group-approved-by-sid", "no-visible-path", "own-sid-approved"],
)
def test_priv_members_guard_resolves_the_operators_token_groups(ansible, approved, operator, keeps):
    guard = task("win_accounts", "guard.yml", "GUARD | the connecting account stays an administrator")
    assert asserts_pass(ansible, "win_accounts", guard, accounts_vars(approved, operator)) is keeps


def test_admin_paths_keep_the_run_an_administrator_while_one_path_stays():
    both = {**OPE, "Groups": [*OPE["Groups"], f"{PC}-1002"]}  # token holds tanaka too (a nested group)
    paths = FILTERS.lgsec_win_admin_paths(ADMINS, both, [ADMINS[1]])
    assert [m["Name"] for m in paths["paths"]] == ["EXAMPLE\\Domain Admins", "PC01\\tanaka"]
    assert [m["Name"] for m in paths["kept"]] == ["PC01\\tanaka"]
    assert FILTERS.lgsec_win_admin_paths(ADMINS, {"SID": f"{DOM}-1105", "Groups": []}, [])["paths"] == []


def test_priv_members_removes_by_sid_what_the_guard_judged():
    """Removal by SID (Ansible.ModuleUtils.SID resolves SIDs, orphaned ones too), from the same
    member list the guard judged."""
    removal = task("win_accounts", "priv_members.yml", "PRIV-MEMBERS | members of Administrators")
    assert "map(attribute='SID')" in removal["ansible.windows.win_group_membership"]["members"]
    assert "lgsec_win_extra_admins" in removal["ansible.windows.win_group_membership"]["members"]


# ---- PRIV-DEFAULT-ID: never rename RID 500 under the connection that uses it --------------------------

USERS = [
    {"Name": "Administrator", "SID": f"{PC}-500", "Enabled": True},
    {"Name": "Guest", "SID": f"{PC}-501", "Enabled": False},
    {"Name": "tanaka", "SID": f"{PC}-1002", "Enabled": True},
]
RID500 = {"Name": "PC01\\Administrator", "SID": f"{PC}-500", "Groups": ["S-1-5-32-544"]}


@pytest.mark.parametrize(
    ("operator", "users", "new_name", "allowed"),
    [
        (RID500, USERS, "kanri-adm", False),  # the issue: every later connection would fail
        (RID500, USERS, "ADMINISTRATOR", True),  # same name: nothing renamed
        (RID500, [{**USERS[0], "Name": "kanri-adm"}, *USERS[1:]], "kanri-adm", True),  # already renamed
        (RID500, USERS, "", True),  # not decided: the role leaves it
        ({**OPE, "SID": f"{DOM}-500"}, USERS, "kanri-adm", True),  # the DOMAIN's Administrator: another account
        ({"Name": "PC01\\tanaka", "SID": f"{PC}-1002", "Groups": []}, USERS, "kanri-adm", True),
    ],
    ids=["connected-as-rid500", "same-name", "already-renamed", "undecided", "domain-rid500", "other-admin"],
)
def test_priv_default_id_refuses_to_rename_the_connecting_account(ansible, operator, users, new_name, allowed):
    guard = task("win_accounts", "guard.yml", "GUARD | PRIV-DEFAULT-ID does not rename")
    variables = accounts_vars([f"{DOM}-512"], operator, users, lgsec_priv_default_id_windows_admin_name=new_name)
    assert asserts_pass(ansible, "win_accounts", guard, variables) is allowed
    assert "ansible_user" in guard["ansible.builtin.assert"]["fail_msg"]  # says how to update the inventory


def test_guards_run_before_any_change():
    main = load(ROLES / "win_accounts" / "tasks" / "main.yml")
    assert main[0]["ansible.builtin.import_tasks"] == "guard.yml" and main[0]["tags"] == ["always"]
    guard = load(ROLES / "win_accounts" / "tasks" / "guard.yml")
    modules = {m for t in guard for m in t if "." in m or m == "lgsec_win_guard"}
    assert modules <= {"lgsec_win_guard", "ansible.windows.win_powershell", "ansible.builtin.assert"}


# ---- LOCKOUT: the reset window never above the duration, after each step ------------------------------


def windows_accepts(steps, duration, reset):
    """Windows' rule (security-policy-settings/reset-account-lockout-counter-after): the reset
    window must be <= the lockout duration (0, or -1 in secedit's export = until an administrator
    unlocks; None = lockout never configured)."""
    for key, value in steps:
        if key == "LockoutDuration":
            duration = value
        else:
            reset = value
        if duration not in (None, 0, -1) and reset is not None and reset > duration:
            return False
    return True


@pytest.mark.parametrize(
    ("current", "wanted"), list(itertools.product([None, -1, 0, 5, 15, 30, 60], [60, 900, 1800, 3600])), ids=str
)
def test_lockout_sets_duration_and_window_in_an_order_windows_accepts(ansible, current, wanted):
    """Stock Windows 30/30 lowered to 15 min must set ResetLockoutCount first; raised above the
    current duration, LockoutDuration first. Every current valid pair, every wanted value."""
    the_task = task("win_accounts", "lockout.yml", "LOCKOUT | ResetLockoutCount and LockoutDuration")
    variables = accounts_vars([], lgsec_lockout_unlock_time=wanted)
    variables["lgsec_win_local"]["result"]["lockout_duration"] = current
    order = render(ansible, {**variables, **the_task["vars"]}, the_task["loop"].strip("{} "))
    assert sorted(order) == ["LockoutDuration", "ResetLockoutCount"]
    minutes = -(-wanted // 60)
    reset_now = current if current and current > 0 else None
    assert windows_accepts([(k, minutes) for k in order], current, reset_now), order


def test_lockout_unlock_time_beyond_windows_range_is_input_error_before_anything_runs(catalog):
    validate_hostvars(catalog, "pc01", {"lgsec_lockout_unlock_time": 99999 * 60})
    with pytest.raises(InputError, match="lgsec_lockout_unlock_time"):
        validate_hostvars(catalog, "pc01", {"lgsec_lockout_unlock_time": 99999 * 60 + 60})


# ---- PW-LENGTH: RelaxMinimumPasswordLengthLimits first, and only where Windows has it -------------------


def test_pw_length_relaxes_the_limit_before_setting_a_minimum_above_14():
    names = [t["name"] for t in load(ROLES / "win_accounts" / "tasks" / "pw_length.yml")]
    relax = next(i for i, n in enumerate(names) if "RelaxMinimumPasswordLengthLimits" in n)
    minimum = next(i for i, n in enumerate(names) if "MinimumPasswordLength =" in n)
    assert relax < minimum


@pytest.mark.parametrize(
    ("build", "length", "allowed"),
    [(17763, 15, False), (17763, 14, True), (19041, 15, True), (26100, 20, True)],
    ids=["server2019-15", "server2019-14", "win10-2004-15", "server2025-20"],
)
def test_pw_length_above_14_refused_on_builds_without_the_relax_setting(ansible, build, length, allowed):
    check = task("win_accounts", "pw_length.yml", "PW-LENGTH | a minimum above 14")
    variables = accounts_vars([], lgsec_pw_length_min=length)
    variables["lgsec_win_local"]["result"]["build"] = build
    assert asserts_pass(ansible, "win_accounts", check, variables) is allowed


# ---- ID-UNUSED: a PW-TEMP account waiting for its first logon is not unused ----------------------------

FRESH = {"Name": "suzuki", "SID": f"{PC}-1010", "Enabled": True, "IdleDays": None, "NeverLoggedOn": True}


@pytest.mark.parametrize(
    ("user", "idle"),
    [
        ({**FRESH, "ProvisionedDays": 2}, False),  # provisioned two days ago, never logged on: waiting
        ({**FRESH, "ProvisionedDays": 14}, False),
        ({**FRESH, "ProvisionedDays": 15}, True),  # grace over: unused
        ({**FRESH, "ProvisionedDays": None}, True),  # no record: nobody knows when it was made
        ({**FRESH, "ProvisionedDays": -3}, True),  # a record from the future is no grace
        ({**FRESH, "ProvisionedDays": 2, "NeverLoggedOn": False, "IdleDays": 200}, True),  # logged on once, long ago
    ],
    ids=["2-days", "14-days", "15-days", "no-record", "future-record", "logged-on"],
)
def test_id_unused_spares_freshly_provisioned_accounts(ansible, user, idle):
    variables = accounts_vars([], users=[user], lgsec_id_unused_enforce_lock=True)
    names = [u["Name"] for u in render(ansible, variables, "lgsec_win_idle_users")]
    assert (names == ["suzuki"]) is idle


def test_provisioning_records_what_the_guard_reads():
    """playbooks/provision_user_windows.yml writes HKLM\\SOFTWARE\\lgsec\\Provisioned\\<SID> for every
    account it creates; the win_accounts guard reads that key."""
    play = load(ROOT / "playbooks" / "provision_user_windows.yml")[0]
    record = next(t for t in play["tasks"] if "record each new account" in t["name"])
    reg = record["ansible.windows.win_regedit"]
    assert reg["path"] == "HKLM:\\SOFTWARE\\lgsec\\Provisioned" and reg["name"] == "{{ item.sid }}"
    assert "lgsec_win_created.results" in record["loop"] and "selectattr('changed')" in record["loop"]
    create = next(t for t in play["tasks"] if "create the new accounts" in t["name"])
    assert create["register"] == "lgsec_win_created"
    script = task("win_accounts", "guard.yml", "GUARD | read the local accounts")["ansible.windows.win_powershell"]
    assert "'HKLM:\\SOFTWARE\\lgsec\\Provisioned'" in script["script"] and "ProvisionedDays" in script["script"]


# ---- USB-STORAGE: the allow-list keys rewritten whole, scoped to storage --------------------------------


def usb_lists(ansible, **hostvars):
    return render(ansible, role_vars("win_desktop", **hostvars), "lgsec_win_usb_lists")


def test_usb_allow_lists_are_whole_keys(ansible):
    lists = usb_lists(ansible, lgsec_usb_storage_allowed_devices=["0781:5581", "054c:0bb1"])
    assert lists["AllowDeviceIDs"] == ["USB\\VID_0781&PID_5581", "USB\\VID_054C&PID_0BB1"]
    assert lists["AllowInstanceIDs"] == []
    assert "{50dd5230-ba8a-11d1-bf5d-0000f805f530}" in lists["AllowDeviceClasses"]  # IC card readers
    # a device taken off the list: the key is rewritten from the list, nothing else stays
    assert usb_lists(ansible, lgsec_usb_storage_allowed_devices=["0781:5581"])["AllowDeviceIDs"] == [
        "USB\\VID_0781&PID_5581"
    ]
    # no allow-list at all (Deny_All): every list key is removed
    assert usb_lists(ansible) == {"AllowDeviceIDs": [], "AllowInstanceIDs": [], "AllowDeviceClasses": []}
    one = "USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER_BLADE&REV_1.00\\4C530001230525104464&0"
    assert usb_lists(ansible, lgsec_usb_storage_windows_allowed_instance_ids=[one])["AllowInstanceIDs"] == [one]


def test_usb_list_keys_are_rewritten_by_one_script_with_stale_values_deleted():
    tasks = load(ROLES / "win_desktop" / "tasks" / "usb_storage.yml")
    for t in tasks:  # no value is written into a list key one by one (stale "3" would stay)
        reg = t.get("ansible.windows.win_regedit", {})
        assert not re.search(r"Restrictions\\Allow\w+$", reg.get("path", "")), t["name"]
    rewrite = task("win_desktop", "usb_storage.yml", "USB-STORAGE | the allow-list keys hold exactly")
    script = rewrite["ansible.windows.win_powershell"]["script"]
    assert "Remove-Item -LiteralPath $Path -Recurse -Force" in script and "SupportsShouldProcess" in script
    assert "$have.Count -eq $want.Count" in script and "GetSubKeyNames" in script
    assert rewrite["loop"] == "{{ lgsec_win_usb_lists | dict2items }}" and "when" not in rewrite
    flags = task("win_desktop", "usb_storage.yml", "USB-STORAGE | removable devices denied except")
    names = [item["name"] for item in flags["loop"]]
    assert names == [
        "DenyRemovableDevices",
        "AllowDenyLayered",
        "AllowDeviceIDs",
        "AllowInstanceIDs",
        "AllowDeviceClasses",
    ]
    cleanup = task("win_desktop", "usb_storage.yml", "USB-STORAGE | no device installation restriction left")
    assert cleanup["loop"] == names and cleanup["ansible.windows.win_regedit"]["state"] == "absent"
    assert cleanup["when"] == "not lgsec_win_usb_allow_mode" and flags["when"] == "lgsec_win_usb_allow_mode"


# ---- AV-FULLSCAN: catch-up and not only when idle ------------------------------------------------------


def test_av_fullscan_sets_catch_up_and_not_idle_only():
    scan = task("win_antivirus", "av_fullscan.yml", "AV-FULLSCAN | a missed full scan is caught up")
    reg = scan["ansible.windows.win_regedit"]
    assert reg["path"] == "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Scan"
    assert reg["data"] == 0 and reg["type"] == "dword" and reg["name"] == "{{ item }}"
    assert scan["loop"] == ["DisableCatchupFullScan", "ScanOnlyIfIdle"]


# ---- PW-NOSTORE: a host may keep DisableDomainCreds off, with its reason --------------------------------


@pytest.mark.parametrize(
    ("reason", "data"), [("", 1), ("NAS backup task runs with a stored password (承認 R7-012)", 0)]
)
def test_pw_nostore_keeps_domain_creds_off_only_with_a_reason(ansible, reason, data):
    the_task = task("win_accounts", "pw_nostore.yml", "PW-NOSTORE | Windows keeps no network credentials")
    variables = role_vars("win_accounts", lgsec_pw_nostore_windows_domain_creds_reason=reason)
    assert int(render(ansible, variables, the_task["ansible.windows.win_regedit"]["data"].strip("{} "))) == data


def test_pw_nostore_reason_is_a_typed_catalog_parameter():
    catalog = load_catalog()
    validate_hostvars(catalog, "fs01", {"lgsec_pw_nostore_windows_domain_creds_reason": "NAS backup"})
    with pytest.raises(InputError, match="lgsec_pw_nostore_windows_domain_creds_reason"):
        validate_hostvars(catalog, "fs01", {"lgsec_pw_nostore_windows_domain_creds_reason": ["NAS"]})


# ---- Orphaned SIDs: group members only through the collector's fallback ---------------------------------


def powershell_in_roles_and_playbooks():
    """Every PowerShell text the roles and playbooks run: win_powershell/win_shell scripts."""
    files = [*ROLES.glob("win_*/**/*.yml"), *(ROOT / "playbooks").glob("*.yml")]
    for path in files:
        for text in re.findall(r"(?:script|cmd): \|\n((?:\s{6,}.*\n|\n)+)", path.read_text(encoding="utf-8")):
            yield path, text


def test_no_role_calls_get_localgroupmember_directly():
    found = [
        str(p.relative_to(ROOT)) for p, text in powershell_in_roles_and_playbooks() if "Get-LocalGroupMember" in text
    ]
    assert not found, f"Get-LocalGroupMember throws on an orphaned SID (PowerShell#2996): {found}"
    for role in ("win_accounts", "win_network_access"):
        guard = load(ROLES / role / "tasks" / "guard.yml")
        assert "lgsec_win_guard" in guard[0], role


def test_guard_module_uses_the_collectors_group_reader():
    module = (ROOT / "library" / "lgsec_win_guard.ps1").read_text(encoding="utf-8")
    assert "#Requires -Module Ansible.ModuleUtils.LgsecCollect" in module
    assert "Get-LgsecGroup -Sid" in module and "Get-LocalGroupMember -" not in module
    assert "[System.Security.Principal.WindowsIdentity]::GetCurrent()" in module and "$me.Groups" in module
    psm1 = (ROOT / "tools" / "windows" / "Ansible.ModuleUtils.LgsecCollect.psm1").read_text(encoding="utf-8")
    exported = re.search(r"^Export-ModuleMember -Function (.+?)(?:\s+#.*)?$", psm1, re.M).group(1)
    assert "Get-LgsecGroup" in [f.strip() for f in exported.split(",")]
    assert "catch" in psm1.split("Function Get-LgsecGroup", 1)[1].split("Function ", 1)[0]  # the fallback


def test_ansible_packages_the_guard_module_with_the_collector(ansible):
    """Ansible's module builder resolves #Requires -Module Ansible.ModuleUtils.LgsecCollect
    (ansible.cfg module_utils) and ships the collector, with Get-LgsecGroup, inside the module."""
    import base64
    import json

    from ansible.executor import module_common

    templar, _trust = ansible({})
    module = ROOT / "library" / "lgsec_win_guard.ps1"
    cwd = os.getcwd()
    os.chdir(ROOT)  # ansible.cfg's module_utils paths are relative to the repository
    try:
        built = module_common.modify_module(
            module_name=module.stem, module_path=str(module), module_args={}, templar=templar, task_vars={}
        )
    finally:
        os.chdir(cwd)
    _wrapper, payload = (json.loads(part) for part in built.b_module_data.decode().split("\0\0\0\0"))
    assert "Ansible.ModuleUtils.LgsecCollect.psm1" in payload["actions"][0]["params"]["PowerShellModules"]
    shipped = base64.b64decode(payload["scripts"]["Ansible.ModuleUtils.LgsecCollect.psm1"]["script"]).decode()
    assert "Function Get-LgsecGroup" in shipped


def test_windows_roles_doc_names_every_refusal_and_parameter():
    """docs/windows-roles.md is where a site reads what the roles refuse and what USB-STORAGE cannot do."""
    doc = (ROOT / "docs" / "windows-roles.md").read_text(encoding="utf-8")
    for needed in (
        "lgsec_pw_nostore_windows_domain_creds_reason",
        "lgsec_id_unused_provision_grace_days",
        "lgsec_usb_storage_windows_allowed_instance_ids",
        "lgsec_usb_storage_windows_allowed_device_classes",
        "HKLM\\SOFTWARE\\lgsec\\Provisioned",
        "RelaxMinimumPasswordLengthLimits",
        "DisableCatchupFullScan = 0",
        "ScanOnlyIfIdle = 0",
        "not to\n  devices installed before",
        "ansible/plugins/connection/winrm.py",
        "WindowsIdentity",
        "PowerShell/PowerShell#2996",
        "refused, not deferred",
    ):
        assert needed in doc, needed
    assert "docs/windows-roles.md" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("services", "ok"), [(["RemoteRegistry"], True), (["RemoteRegistry", "winrm"], False)])
def test_svc_unneeded_never_stops_winrm_under_the_run(ansible, services, ok):
    guard = task("win_network_access", "guard.yml", "GUARD | SVC-UNNEEDED does not stop")
    variables = role_vars("win_network_access", lgsec_svc_unneeded_windows_services=services)
    assert asserts_pass(ansible, "win_network_access", guard, variables) is ok


# ---- properties: input these tests did not write -------------------------------------------------------

SIDS = st.sampled_from(
    [f"{PC}-500", f"{PC}-1002", f"{PC}-1003", f"{DOM}-512", f"{DOM}-1105", "S-1-5-32-544", "S-1-5-11"]
)


@given(
    members=st.lists(SIDS, unique=True),
    own=SIDS,
    token=st.lists(SIDS, unique=True),
    removing=st.lists(SIDS, unique=True),
)
def test_admin_paths_property(members, own, token, removing):
    """kept is empty exactly when every member the token can reach is being removed: the guard
    lets a removal through only if the operator still reaches Administrators afterwards."""
    rows = [{"Name": sid, "SID": sid.lower() if i % 2 else sid} for i, sid in enumerate(members)]  # SIDs any case
    paths = FILTERS.lgsec_win_admin_paths(rows, {"SID": own, "Groups": token}, [{"SID": r} for r in removing])
    reach = {own, *token}
    after = [m for m in members if m in reach and m not in removing]
    assert [m["SID"].upper() for m in paths["kept"]] == [m.upper() for m in after]


TRANSPORTS = st.lists(st.sampled_from(["basic", "plaintext", "ssl", "ntlm", "kerberos", "credssp", "certificate"]))


@given(listed=TRANSPORTS, https=st.booleans(), never=st.booleans(), cert=st.booleans(), upn=st.booleans())
def test_winrm_dependence_property(listed, https, never, cert, upn):
    """Whatever the inventory says, the guard passes only if no transport the plugin may try
    authenticates with Basic and, over HTTP, every one encrypts its messages."""
    scheme = "https" if https else "http"
    tried = FILTERS.lgsec_win_winrm_transports(",".join(listed) or None, scheme, "ope@EXAMPLE" if upn else "ope")
    assert tried  # never nothing: the plugin always tries something
    needs = FILTERS.lgsec_win_winrm_dependence(tried, scheme, "never" if never else "auto", "/c.pem" if cert else "")
    basic = {t for t in tried if t in ("basic", "plaintext") or (t == "ssl" and not cert)}
    assert set(needs["basic"]) == basic
    if https:
        assert needs["unencrypted"] == []
    else:
        assert set(needs["unencrypted"]) == {t for t in tried if never or t not in ("ntlm", "kerberos", "credssp")}
