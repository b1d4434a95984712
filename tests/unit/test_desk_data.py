"""Sections B (desk and device) and H (data at rest, backup) on Linux: the cases beyond each
control's pass/fail fixture pair — USBGuard's allow-list, a desktop-less host, a container's
root, backup jobs in their other states — and the gather module's backup options."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, ROOT, import_path, load_fixture, status_of

gather_module = import_path("lgsec_linux_facts", ROOT / "library" / "lgsec_linux_facts.py")


def fixture(cid: str, kind: str) -> tuple[dict, dict]:
    facts, hostvars, _ = load_fixture(FIXTURES / cid / f"{kind}.yml")
    return facts, hostvars


def cmd(stdout: str, rc: int = 0, stderr: str = "") -> dict:
    return {"rc": rc, "stdout": stdout, "stderr": stderr}


# ---- dconf -------------------------------------------------------------------------------------


def test_screen_lock_on_a_server_is_judged_on_the_keyfiles_and_says_so(catalog):
    facts, hostvars = fixture("SCREEN-LOCK", "pass")
    facts["commands"]["find /etc/dconf"] = cmd(
        "1795637853.6 d /etc/dconf/db/local.d\n1795637853.6 f /etc/dconf/db/local.d/00-lgsec-screensaver\n"
    )
    row = status_of(catalog, facts, "SCREEN-LOCK", hostvars)
    assert row["status"] == "pass"
    assert "no desktop on this host" in row["actual"]


def test_a_desktop_installed_after_the_role_is_not_compiled(catalog):
    facts, hostvars = fixture("SCREEN-LOCK", "pass")
    stdout = facts["commands"]["find /etc/dconf"]["stdout"]
    facts["commands"]["find /etc/dconf"] = cmd(
        "".join(line + "\n" for line in stdout.splitlines() if not line.endswith(" /etc/dconf/db/local"))
    )
    row = status_of(catalog, facts, "SCREEN-LOCK", hostvars)
    assert row["status"] == "fail"
    assert "was never compiled (`dconf update`)" in row["actual"]


def test_a_later_keyfile_overrides_the_lgsec_one(catalog):
    facts, hostvars = fixture("SCREEN-LOCK", "pass")
    facts["files"]["/etc/dconf/db/local.d/99-site"] = "[org/gnome/desktop/session]\nidle-delay=uint32 0\n"
    row = status_of(catalog, facts, "SCREEN-LOCK", hostvars)
    assert row["status"] == "fail"
    assert "idle-delay 0 s (0 = never idle)" in row["actual"]
    assert "/etc/dconf/db/local.d/99-site:2: idle-delay=uint32 0" in row["evidence"]


def test_idle_delay_plus_lock_delay_counts(catalog):
    facts, hostvars = fixture("SCREEN-LOCK", "pass")
    path = "/etc/dconf/db/local.d/00-lgsec-screensaver"
    facts["files"][path] = facts["files"][path].replace("lock-delay=uint32 0", "lock-delay=uint32 120")
    row = status_of(catalog, facts, "SCREEN-LOCK", hostvars)
    assert row["status"] == "fail"
    assert "600 s + lock-delay 120 s = 720 s" in row["actual"]
    hostvars["lgsec_screen_lock_idle_seconds"] = 720
    assert status_of(catalog, facts, "SCREEN-LOCK", hostvars)["status"] == "pass"


def test_profile_without_the_local_database(catalog):
    facts, hostvars = fixture("AUTORUN", "pass")
    facts["files"]["/etc/dconf/profile/user"] = "user-db:user\nsystem-db:site\n"
    row = status_of(catalog, facts, "AUTORUN", hostvars)
    assert row["status"] == "fail"
    assert "does not list system-db:local" in row["actual"]


def test_dconf_listing_unreadable_is_an_error_never_pass(catalog):
    facts, hostvars = fixture("SETTINGS-LOCKED", "pass")
    facts["commands"]["find /etc/dconf"] = cmd("", rc=1, stderr="find: '/etc/dconf/db': Permission denied")
    assert status_of(catalog, facts, "SETTINGS-LOCKED", hostvars)["status"] == "error"


# ---- USB storage -------------------------------------------------------------------------------

USBGUARD_RULES = """\
# Managed by lgsec (roles/desktop)
allow id 0781:5581
block with-interface one-of { 08:*:* }
allow
"""
MEDIA_CONF = "/etc/modprobe.d/lgsec-media.conf"
USBGUARD_ON = "Id=usbguard.service\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n"


@pytest.fixture
def usbguard_host() -> tuple[dict, dict]:
    facts, _ = fixture("USB-STORAGE", "fail")  # modprobe does not block USB storage: USBGuard must
    # FireWire, Thunderbolt and the media file systems stay blocked with USBGuard too (roles/desktop)
    facts["files"]["/etc/modprobe.d/lgsec-media.conf"] = fixture("USB-STORAGE", "pass")[0]["files"][MEDIA_CONF]
    facts["files"]["/etc/modprobe.d/00-site.conf"] = "install usb-storage /sbin/modprobe --ignore-install usb-storage\n"
    facts["files"]["/etc/usbguard/rules.conf"] = USBGUARD_RULES
    facts["files"]["/etc/usbguard/usbguard-daemon.conf"] = (
        "RuleFile=/etc/usbguard/rules.conf\nImplicitPolicyTarget=block\n"
    )
    facts["files"]["/sys/bus/usb/devices/usb1/idVendor"] = "1d6b\n"
    facts["commands"]["systemctl show usbguard"] = cmd(USBGUARD_ON)
    hostvars = {"lgsec_usb_storage_use_usbguard": True, "lgsec_usb_storage_allowed_devices": ["0781:5581"]}
    return facts, hostvars


def test_usbguard_allow_list(catalog, usbguard_host):
    facts, hostvars = usbguard_host
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "pass", row["actual"]
    assert "/etc/usbguard/rules.conf:2: allow id 0781:5581" in row["evidence"]
    assert f"{MEDIA_CONF}:3: install firewire-core /bin/false" in row["evidence"]


def test_usbguard_does_not_cover_firewire_thunderbolt_or_media_file_systems(catalog, usbguard_host):
    """第64条: USBGuard sees USB devices only; FireWire storage, Thunderbolt and an HFS+ stick's file
    system are blocked by modprobe.d in either mode."""
    facts, hostvars = usbguard_host
    del facts["files"][MEDIA_CONF]
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail"
    assert "firewire_sbp2 can load" in row["actual"] and "thunderbolt can load" in row["actual"]
    assert "usb_storage" not in row["actual"]  # USBGuard decides for USB storage
    row = status_of(catalog, facts, "USB-STORAGE", {**hostvars, "lgsec_usb_storage_other_media_modules": []})
    assert row["status"] == "pass", row["actual"]


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ("allow id 0781:5581\nallow id 090c:1000\nblock with-interface one-of { 08:*:* }\n", "allow id 090c:1000"),
        ("allow id 0781:5581\nallow\n", "`allow` may admit USB storage"),
        ("allow id 0781:5581\nallow with-interface one-of { 03:*:* }\n", "one-of { 03:*:* }"),
        ("block with-interface one-of { 08:*:* }\nallow\n", "without an allow rule: 0781:5581"),
        ("allow id 0781:5581\nblock id 1234:5678 with-interface one-of { 08:*:* }\nallow\n", "`allow` may admit"),
    ],
)
def test_usbguard_rules_that_admit_other_storage(catalog, usbguard_host, rules, named):
    facts, hostvars = usbguard_host
    facts["files"]["/etc/usbguard/rules.conf"] = rules
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail"
    assert named in row["actual"]


def test_usbguard_generated_policy_for_hubs_and_keyboards_is_fine(catalog, usbguard_host):
    facts, hostvars = usbguard_host
    facts["files"]["/etc/usbguard/rules.conf"] = (
        'allow id 1d6b:0002 serial "0000:00:14.0" name "xHCI Host Controller" with-interface 09:00:00\n'
        "allow id 046d:c31c with-interface { 03:01:01 03:00:00 }\n"
        "allow id 0781:5581 with-interface 08:06:50\n"
    )
    assert status_of(catalog, facts, "USB-STORAGE", hostvars)["status"] == "pass"


def test_usbguard_rules_d_and_daemon_policy(catalog, usbguard_host):
    facts, hostvars = usbguard_host
    facts["files"]["/etc/usbguard/rules.conf"] = "allow id 0781:5581\n"
    facts["files"]["/etc/usbguard/rules.d/90-vendor.conf"] = "allow id 0951:1666\n"
    facts["files"]["/etc/usbguard/usbguard-daemon.conf"] = "ImplicitPolicyTarget=allow\nPresentDevicePolicy=allow\n"
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail"
    for named in ("allow id 0951:1666", "ImplicitPolicyTarget=allow", "PresentDevicePolicy=allow"):
        assert named in row["actual"]


def test_usbguard_not_running(catalog, usbguard_host):
    facts, hostvars = usbguard_host
    facts["commands"]["systemctl show usbguard"] = cmd(USBGUARD_ON.replace("ActiveState=active", "ActiveState=failed"))
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail"
    assert "usbguard.service is failed" in row["actual"]
    # No USB controller (a container, a VM without USB): the daemon cannot run; configuration judged.
    del facts["files"]["/sys/bus/usb/devices/usb1/idVendor"]
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "pass"
    assert "no USB controller on this host" in row["actual"]


def test_usbguard_not_installed(catalog, usbguard_host):
    facts, hostvars = usbguard_host
    facts["commands"]["systemctl show usbguard"] = cmd("Id=usbguard.service\nLoadState=not-found\n")
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail" and "usbguard is not installed" in row["actual"]


def test_a_same_named_file_in_etc_hides_the_one_in_lib(catalog):
    facts, hostvars = fixture("USB-STORAGE", "pass")
    facts["files"]["/usr/lib/modprobe.d/lgsec-usb-storage.conf"] = "install uas /sbin/modprobe --ignore-install uas\n"
    assert status_of(catalog, facts, "USB-STORAGE", hostvars)["status"] == "pass"
    facts["files"]["/usr/lib/modprobe.d/00-vendor.conf"] = "install uas /sbin/modprobe --ignore-install uas\n"
    row = status_of(catalog, facts, "USB-STORAGE", hostvars)
    assert row["status"] == "fail" and "uas install command" in row["actual"]


# ---- disk encryption ---------------------------------------------------------------------------


def test_container_root_is_not_encrypted(catalog):
    facts, hostvars = fixture("DISK-ENCRYPTED", "fail")
    facts["commands"]["lsblk -J -p"] = cmd('{\n   "blockdevices": [\n\n   ]\n}\n')
    facts["commands"]["findmnt /"] = cmd('{"filesystems": [{"target": "/", "source": "overlay", "fstype": "overlay"}]}')
    row = status_of(catalog, facts, "DISK-ENCRYPTED", hostvars)
    assert row["status"] == "fail"
    assert "/ is overlay from overlay: not on a block device" in row["actual"]


# ---- backup -------------------------------------------------------------------------------------


def test_no_backup_job_declared(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    del hostvars["lgsec_backup_recent_job"]
    row = status_of(catalog, facts, "BACKUP-RECENT", hostvars)
    assert (row["status"], row["actual"]) == ("fail", "no backup job declared for this host")


def test_backup_too_old_and_timer_stopped(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    hostvars["lgsec_backup_recent_max_age_days"] = 1
    timer = facts["commands"]["systemctl show lgsec-backup.timer"]
    timer["stdout"] = timer["stdout"].replace("ActiveState=active", "ActiveState=inactive")
    row = status_of(catalog, facts, "BACKUP-RECENT", hostvars)
    assert row["status"] == "fail"
    assert "last good backup by lgsec-backup.service 2.0 days ago" in row["actual"]
    assert "lgsec-backup.timer not active" in row["actual"]


def test_latest_run_failed_after_an_earlier_success(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    service = facts["commands"]["systemctl show lgsec-backup.service"]
    service["stdout"] = (
        service["stdout"].replace("Result=success", "Result=exit-code").replace("ExecMainStatus=0", "ExecMainStatus=2")
    )
    row = status_of(catalog, facts, "BACKUP-RECENT", hostvars)
    assert row["status"] == "fail"
    assert "the latest run of lgsec-backup.service failed" in row["actual"]


def test_success_in_an_earlier_boot_comes_from_the_journal(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    service = facts["commands"]["systemctl show lgsec-backup.service"]
    service["stdout"] = service["stdout"].replace("=@1795464000", "=").replace("=@1795464081", "=")
    row = status_of(catalog, facts, "BACKUP-RECENT", hostvars)
    assert row["status"] == "pass"
    assert "2.0 days ago" in row["actual"]


def test_job_declared_by_its_timer(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    hostvars["lgsec_backup_recent_job"] = "lgsec-backup.timer"
    assert status_of(catalog, facts, "BACKUP-RECENT", hostvars)["status"] == "pass"


def test_job_not_gathered_is_an_error(catalog):
    facts, hostvars = fixture("BACKUP-RECENT", "pass")
    hostvars["lgsec_backup_recent_job"] = "other-backup"
    assert status_of(catalog, facts, "BACKUP-RECENT", hostvars)["status"] == "error"


@pytest.mark.parametrize(
    ("result", "status", "named"),
    [
        (cmd("1795550481\n"), "pass", "touched 1.0 days ago"),
        (cmd("1794000000\n"), "fail", "days old"),
        (cmd("", 1, "stat: cannot statx '/var/backups/ok': No such file or directory"), "fail", "missing"),
        (cmd("", 1, "stat: cannot statx '/var/backups/ok': Permission denied"), "error", "Permission denied"),
    ],
)
def test_stamp_file(catalog, result, status, named):
    facts, _ = fixture("BACKUP-RECENT", "pass")
    facts["commands"]["stat /var/backups/ok"] = result
    row = status_of(catalog, facts, "BACKUP-RECENT", {"lgsec_backup_recent_stamp_file": "/var/backups/ok"})
    assert row["status"] == status
    assert named in row["actual"]


# ---- the gather module's backup options ------------------------------------------------------------


def test_gather_reads_only_the_declared_job(monkeypatch):
    calls = []
    shown = {
        "lgsec-backup.service": "Id=lgsec-backup.service\nTriggeredBy=lgsec-backup.timer other.path\n",
        "lgsec-backup.timer": "Id=lgsec-backup.timer\nUnit=lgsec-backup.service\n",
    }

    def fake_run(facts, commands=None):
        for name, argv in (commands or {}).items():
            calls.append(argv)
            unit = argv[2] if argv[0] == "systemctl" else None
            facts["commands"][name] = cmd(shown.get(unit, ""))

    monkeypatch.setattr(gather_module, "run_commands", fake_run)
    facts = {"commands": {}, "errors": {}}
    gather_module.read_backup(facts, ["lgsec-backup", "bad;name"], ["/var/backups/stamp", "relative"])
    assert sorted(facts["commands"]) == [
        "journalctl UNIT=lgsec-backup.service JOB_TYPE=start JOB_RESULT=done",
        "stat /var/backups/stamp",
        "systemctl show lgsec-backup.service",
        "systemctl show lgsec-backup.timer",
    ]
    assert facts["errors"] == {
        "systemctl show bad;name": "not a systemd unit name",
        "stat relative": "not an absolute path",
    }
    assert all(argv[0] in ("systemctl", "journalctl", "stat") for argv in calls)
    assert ["stat", "--format=%Y", "--", "/var/backups/stamp"] in calls
    json.dumps(facts)


def test_gather_declared_timer_reads_its_service(monkeypatch):
    shown = {"nightly.timer": "Id=nightly.timer\nUnit=nightly-backup.service\n"}

    def fake_run(facts, commands=None):
        for name, argv in (commands or {}).items():
            facts["commands"][name] = cmd(shown.get(argv[2], "") if argv[0] == "systemctl" else "")

    monkeypatch.setattr(gather_module, "run_commands", fake_run)
    facts = {"commands": {}, "errors": {}}
    gather_module.read_backup(facts, ["nightly.timer"])
    assert "systemctl show nightly-backup.service" in facts["commands"]
    assert "journalctl UNIT=nightly-backup.service JOB_TYPE=start JOB_RESULT=done" in facts["commands"]


def test_pw_nostore_firefox_policy_that_is_not_json_fails_naming_the_file(catalog):
    facts, hostvars = fixture("PW-NOSTORE", "pass")
    facts["files"]["/etc/firefox/policies/policies.json"] = '{"policies": {"PasswordManagerEnabled": false,}}'
    row = status_of(catalog, facts, "PW-NOSTORE", hostvars)
    assert row["status"] == "fail"
    assert "/etc/firefox/policies/policies.json: not valid JSON" in row["actual"]


def test_pw_nostore_only_the_browsers_the_host_names(catalog):
    facts, _ = fixture("PW-NOSTORE", "fail")
    row = status_of(catalog, facts, "PW-NOSTORE", {"lgsec_pw_nostore_browsers": ["chrome"]})
    assert row["status"] == "fail" and "firefox" not in row["actual"] and "chrome: no policy" in row["actual"]


def test_net_snmp_default_communities_only_mode(catalog):
    facts, _ = fixture("NET-SNMP", "fail")
    facts["files"]["/etc/snmp/snmpd.conf"] = "rocommunity <redacted> 10.0.0.0/8\nrouser lgsecmon priv\n"
    assert status_of(catalog, facts, "NET-SNMP")["status"] == "fail"  # v3_only: any community fails
    row = status_of(catalog, facts, "NET-SNMP", {"lgsec_net_snmp_v3_only": False})
    assert row["status"] == "pass"
    assert "rocommunity <redacted>" in " ".join(row["evidence"])  # the secret never reaches the report


def test_net_snmp_no_agent_installed_passes_with_its_evidence(catalog, base12):
    row = status_of(catalog, base12, "NET-SNMP")
    assert row["status"] == "pass" and row["actual"] == "no SNMP agent installed"
