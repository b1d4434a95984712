"""After hardening, the audit passes on Windows (issue 15): what roles/win_* write, rendered from the
role's own tasks and variables with Ansible's templar and laid on a base as `reg export` writes it,
is judged by the audit's check with the same host variables. A host that differs from what the role
writes (a stale allowed device, a record past its grace) fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import status_of
from test_windows_roles_enforcement import FILTERS, PC, ansible, render, role_vars, task  # noqa: F401
from windows_fixtures import materialise, read_evidence

from lgsec import windows as win

RESTRICTIONS = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions"
REMOVABLE = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices"
STICK = "USB\\VID_0781&PID_5581\\4C530001230525104464"
DISK = "USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER_BLADE&REV_1.00\\4C530001230525104464&0"
COLLEGUE = "USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER_BLADE&REV_1.00\\4C530001110309117254&0"


def reg_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def usb_as_the_role_writes(ansible, hostvars: dict, extra: dict | None = None) -> str:  # noqa: F811
    """registry/03-policies.reg lines for what roles/win_desktop/tasks/usb_storage.yml writes with
    these host variables (extra: values the host holds beyond them, e.g. a stale list entry)."""
    variables = role_vars("win_desktop", **hostvars)
    if not render(ansible, variables, "lgsec_win_usb_allow_mode"):
        return f'[{REMOVABLE}]\n"Deny_All"=dword:00000001\n'
    flags = task("win_desktop", "usb_storage.yml", "USB-STORAGE | removable devices denied except the allow-lists")
    text = f"[{RESTRICTIONS}]\n"
    for item in flags["loop"]:
        data = item["data"]
        data = int(render(ansible, variables, data.strip("{} ")) if isinstance(data, str) else data)
        text += f'"{item["name"]}"=dword:{data:08x}\n'
    for key, values in render(ansible, variables, "lgsec_win_usb_lists").items():
        values = [*values, *(extra or {}).get(key, [])]
        if values:  # the role's script: values "1".."n", the key removed when the list is empty
            text += f"\n[{RESTRICTIONS}\\{key}]\n"
            text += "".join(f'"{n}"={reg_string(v)}\n' for n, v in enumerate(values, 1))
    return text


def judged(catalog, tmp_path, overlay: dict, control: str, hostvars: dict, base: str = "base-win11-en") -> dict:
    target = tmp_path / f"pc-{control}-{len(list(tmp_path.glob('pc-*')))}"
    return status_of(catalog, read_evidence(materialise({"base": base, **overlay}, target)), control, hostvars)


USB_CASES = [
    {},  # no allow-list: Deny_All
    {"lgsec_usb_storage_allowed_devices": ["0781:5581"]},
    {"lgsec_usb_storage_windows_allowed_instance_ids": [STICK, DISK]},  # one stick, no model-wide id
    {"lgsec_usb_storage_allowed_devices": ["054c:0bb1"], "lgsec_usb_storage_windows_allowed_instance_ids": [DISK]},
    {"lgsec_usb_storage_allowed_devices": ["0781:5581"], "lgsec_usb_storage_windows_allowed_device_classes": []},
]


@pytest.mark.parametrize("hostvars", USB_CASES, ids=["deny-all", "device-ids", "instance-ids", "both", "no-classes"])
def test_usb_storage_passes_after_the_role(catalog, tmp_path, ansible, hostvars):  # noqa: F811
    text = usb_as_the_role_writes(ansible, hostvars)
    row = judged(catalog, tmp_path, {"append": {"registry/03-policies.reg": text}}, "USB-STORAGE", hostvars)
    assert row["status"] == "pass", row


ONE_STICK = {"lgsec_usb_storage_windows_allowed_instance_ids": [STICK, DISK]}
ONE_MODEL = {"lgsec_usb_storage_allowed_devices": ["0781:5581"]}
WPD = "{eec5ad98-8080-425f-922a-dabf3de3f69a}"  # Portable Devices: phones and cameras as storage


@pytest.mark.parametrize(
    ("hostvars", "extra", "named"),
    [
        # a second stick left in AllowInstanceIDs from an earlier list: it is still allowed
        (ONE_STICK, {"AllowInstanceIDs": [COLLEGUE]}, "4c530001110309117254"),
        (ONE_MODEL, {"AllowDeviceClasses": [WPD]}, "eec5ad98"),  # a class added by hand
        (ONE_MODEL, {"AllowDeviceIDs": ["USB\\VID_090C&PID_1000"]}, "vid_090c"),
    ],
    ids=["stale-instance", "extra-class", "extra-device"],
)
def test_usb_storage_fails_on_a_device_the_list_does_not_name(catalog, tmp_path, ansible, hostvars, extra, named):  # noqa: F811
    text = usb_as_the_role_writes(ansible, hostvars, extra)
    row = judged(catalog, tmp_path, {"append": {"registry/03-policies.reg": text}}, "USB-STORAGE", hostvars)
    assert row["status"] == "fail" and named in row["actual"], row


def test_usb_storage_fails_when_a_configured_list_is_not_on_the_host(catalog, tmp_path, ansible):  # noqa: F811
    """Configured instance ids while the host holds only the device-id list of an older run."""
    old = usb_as_the_role_writes(ansible, {"lgsec_usb_storage_allowed_devices": ["0781:5581"]})
    hostvars = {
        "lgsec_usb_storage_allowed_devices": ["0781:5581"],
        "lgsec_usb_storage_windows_allowed_instance_ids": [DISK],
    }
    row = judged(catalog, tmp_path, {"append": {"registry/03-policies.reg": old}}, "USB-STORAGE", hostvars)
    assert row["status"] == "fail" and "AllowInstanceIDs = 0" in row["actual"], row


LSA_CREDS = '"disabledomaincreds"=dword:'
REASON = "NAS backup task runs with a stored password (承認 R7-012)"


@pytest.mark.parametrize("reason", ["", REASON], ids=["no-reason", "reason"])
def test_pw_nostore_passes_after_the_role(catalog, tmp_path, ansible, reason):  # noqa: F811
    hostvars = {"lgsec_pw_nostore_windows_domain_creds_reason": reason}
    variables = role_vars("win_accounts", **hostvars)
    creds = task("win_accounts", "pw_nostore.yml", "PW-NOSTORE | Windows keeps no network credentials")
    data = int(render(ansible, variables, creds["ansible.windows.win_regedit"]["data"].strip("{} ")))
    browsers = task("win_accounts", "pw_nostore.yml", "PW-NOSTORE | Edge and Chrome")
    policies = "".join(
        f'[{p.replace("HKLM:", "HKEY_LOCAL_MACHINE")}]\n"PasswordManagerEnabled"=dword:00000000\n\n'
        for p in browsers["loop"]
    )
    overlay = {
        "replace": {"registry/01-lsa.reg": [[f"{LSA_CREDS}00000000", f"{LSA_CREDS}{data:08x}"]]},
        "append": {"registry/03-policies.reg": policies},
    }
    row = judged(catalog, tmp_path, overlay, "PW-NOSTORE", hostvars)
    assert row["status"] == "pass", row
    assert any(REASON in e for e in row["evidence"]) is bool(reason)
    # the same host without the reason: DisableDomainCreds 0 is storing network credentials
    if reason:
        assert judged(catalog, tmp_path, overlay, "PW-NOSTORE", {})["status"] == "fail"


# ---- ID-UNUSED: the role's lgsec_win_idle and the audit's check apply one rule ----------------------

COLLECTED = datetime(2026, 11, 20, 1, 15, tzinfo=UTC)  # base-win11-provisioned's manifest
FIRST = "2026-11-19T05:30:12Z"
RECORDED = f'"S-1-5-21-3623811015-3361044348-30300820-1010"="{FIRST}"'


@pytest.mark.parametrize(
    ("days", "grace", "limit"),
    [(0.8, 14, 90), (13.9, 14, 90), (14.6, 14, 90), (40, 14, 90), (40, 60, 30), (20, 60, 30), (2, 0, 90)],
)
def test_id_unused_check_and_role_agree_on_a_provisioned_account(catalog, tmp_path, days, grace, limit):
    """suzuki (never logged on, PW-TEMP) recorded `days` before the collection; the role (the
    guard's ProvisionedDays, to three decimals) locks it exactly when the audit reports it idle."""
    at = (COLLECTED - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    overlay = {"replace": {"registry/11-lgsec-provisioned.reg": [[RECORDED, RECORDED.replace(FIRST, at)]]}}
    hostvars = {"lgsec_id_unused_provision_grace_days": grace, "lgsec_id_unused_max_idle_days": limit}
    row = judged(catalog, tmp_path, overlay, "ID-UNUSED", hostvars, base="base-win11-provisioned")
    user = {"Name": "suzuki", "SID": f"{PC}-1010", "Enabled": True, "IdleDays": None, "NeverLoggedOn": True,
            "ProvisionedDays": round(days, 3)}  # fmt: skip
    locked = bool(FILTERS.lgsec_win_idle([user], limit, [], grace))
    expect_idle = days > min(grace, limit)
    assert locked is expect_idle
    assert row["status"] == ("fail" if expect_idle else "pass"), row
    assert ("suzuki" in row["actual"]) is expect_idle


def test_id_unused_uses_the_collection_time_not_now(catalog, tmp_path):
    """The provisioned base read 5 days after its collection (within evidence_max_age_days): the
    record is judged as of the collection (0.8 days old, within a grace of 2), not the audit's moment."""
    folder = materialise({"base": "base-win11-provisioned"}, tmp_path / "pc")
    facts = read_evidence(folder, read_at=(COLLECTED + timedelta(days=5)).timestamp())
    row = status_of(catalog, facts, "ID-UNUSED", {"lgsec_id_unused_provision_grace_days": 2})
    assert row["status"] == "pass" and any("waiting for the first logon" in e for e in row["evidence"]), row


def test_id_unused_unreadable_record_is_an_error(catalog, tmp_path):
    overlay = {"replace": {"registry/11-lgsec-provisioned.reg": [["2026-11-19T05:30:12Z", "19.11.2026 05:30"]]}}
    row = judged(catalog, tmp_path, overlay, "ID-UNUSED", {}, base="base-win11-provisioned")
    assert row["status"] == "error" and "Provisioned" in row["actual"] + " ".join(row["evidence"]), row


def test_id_unused_provisioned_key_not_collected_is_an_error(catalog, tmp_path):
    """Evidence of an older collector (no HKLM\\SOFTWARE\\lgsec\\Provisioned in registry_keys):
    a never-logged-on account cannot be judged, never "not idle"."""
    keys = read_evidence(materialise({"base": "base-win11-provisioned"}, tmp_path / "a"))["registry_keys"]
    keys = {k: v for k, v in keys.items() if k != win.PROVISIONED}
    overlay = {"remove": ["registry/11-lgsec-provisioned.reg"], "manifest": {"registry_keys": keys}}
    row = judged(catalog, tmp_path, overlay, "ID-UNUSED", {}, base="base-win11-provisioned")
    assert row["status"] == "error", row
