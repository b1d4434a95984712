"""Windows checks: the desk and the device (section B), data at rest and backup (section H)."""

from __future__ import annotations

from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import verdict

CV_SYSTEM = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
CV_EXPLORER = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer"
REMOVABLE = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices"
DEVICE_INSTALL = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions"


def device_id(vid_pid: str) -> str:
    """0781:5581 -> USB\\VID_0781&PID_5581 (the hardware id Windows' device installation policy matches)."""
    vid, _, pid = vid_pid.partition(":")
    return f"USB\\VID_{vid.upper()}&PID_{pid.upper()}"


@check("SCREEN-LOCK", "windows", files=("registry/02-cv-policies.reg",))
def screen_lock(ctx: Ctx) -> Verdict:
    # "Interactive logon: Machine inactivity limit" = InactivityTimeoutSecs under
    # HKLM\...\CurrentVersion\Policies\System (learn.microsoft.com security-policy-settings;
    # DISA STIG V-92961). It locks every session, whatever the user's screen saver.
    limit = ctx.params["idle_seconds"]
    value = win.reg_value(ctx, CV_SYSTEM, "InactivityTimeoutSecs")
    evidence = [
        win.reg_where(CV_SYSTEM, "InactivityTimeoutSecs", value),
        "per-user screen saver settings are not judged (the machine limit applies to every session)",
    ]
    shown = "absent" if value is None else value
    problems = [] if isinstance(value, int) and 0 < value <= limit else [f"InactivityTimeoutSecs = {shown}"]
    return verdict(problems, f"InactivityTimeoutSecs 1..{limit}", f"InactivityTimeoutSecs = {shown}", evidence)


@check("SETTINGS-LOCKED", "windows", files=("defender.json", "os.json", "registry/02-cv-policies.reg"))
def settings_locked(ctx: Ctx) -> Verdict:
    """Standard users cannot change security settings: UAC on (EnableLUA = 1) and their elevation
    requests refused (ConsentPromptBehaviorUser = 0, "Automatically deny elevation requests");
    Defender's tamper protection on when Defender is the anti-malware product."""
    evidence, problems = [], []
    for name, want in (("EnableLUA", 1), ("ConsentPromptBehaviorUser", 0)):
        value = win.reg_value(ctx, CV_SYSTEM, name)
        evidence.append(win.reg_where(CV_SYSTEM, name, value))
        if value != want:
            problems.append(f"{name} = {value if value is not None else 'absent'}")
    # Tamper protection: on Windows 10/11 set in Windows Security or Intune; on Windows Server
    # 2012 R2-2022 only through Microsoft Defender for Endpoint (learn.microsoft.com/defender-
    # endpoint/prevent-changes-to-security-settings-with-tamper-protection): not judged there.
    status = win.optional_data(ctx, "defender.json")
    if status is None:
        evidence.append("defender.json: Microsoft Defender not installed (tamper protection not applicable)")
    elif not isinstance(status, dict):
        raise Unreadable("defender.json: not a Get-MpComputerStatus object")
    elif win.flag(status.get("AntivirusEnabled")):
        tamper = win.flag(status.get("IsTamperProtected"))
        evidence.append(f"defender.json: IsTamperProtected {status.get('IsTamperProtected')}")
        if win.is_server(ctx):
            evidence.append("Windows Server: tamper protection is set only through Microsoft Defender for Endpoint")
        elif not tamper:
            problems.append("Defender tamper protection off")
    else:
        evidence.append("defender.json: Defender antivirus not active (another product protects: AV-RESIDENT)")
    expected = "EnableLUA = 1, ConsentPromptBehaviorUser = 0, Defender tamper protection on"
    return verdict(problems, expected, "UAC on, standard users' elevation denied", evidence)


@check("USB-STORAGE", "windows", files=("registry/03-policies.reg",))
def usb_storage(ctx: Ctx) -> Verdict:
    """No allow-list (allowed_devices and windows_allowed_instance_ids empty): "All Removable
    Storage classes: Deny all access" = Deny_All 1 (RemovableStorage.admx). Allow-list mode
    (either list set), as roles/win_desktop writes it: "Prevent installation of removable
    devices" (DenyRemovableDevices 1), layered evaluation (AllowDenyLayered 1), and each of
    AllowDeviceIDs (USB\\VID_xxxx&PID_yyyy), AllowInstanceIDs (device instance paths) and
    AllowDeviceClasses (setup class GUIDs) on with exactly the configured list in its subkey, off
    with none — DeviceInstallation.admx, learn.microsoft.com policy-csp-deviceinstallation. A device
    or class allowed on the host but not configured (a stale entry) fails, and so does a
    configured one missing. Deny_All 1 passes in either mode (it refuses every stick at access)."""
    wanted = {
        "AllowDeviceIDs": {device_id(d).casefold() for d in ctx.params["allowed_devices"]},
        "AllowInstanceIDs": {str(i).strip().casefold() for i in ctx.params["windows_allowed_instance_ids"]},
        "AllowDeviceClasses": {str(c).strip().casefold() for c in ctx.params["windows_allowed_device_classes"]},
    }
    allow_mode = bool(wanted["AllowDeviceIDs"] or wanted["AllowInstanceIDs"])
    deny_all = win.reg_value(ctx, REMOVABLE, "Deny_All")
    evidence = [win.reg_where(REMOVABLE, "Deny_All", deny_all)]
    if allow_mode:
        lists = "; ".join(f"{name}: {', '.join(sorted(ids)) or 'none'}" for name, ids in wanted.items())
        expected = f"Deny_All = 1, or removable devices denied (layered) except {lists}"
    else:
        expected = "Deny_All = 1 (no device allowed)"
    if deny_all == 1:
        return Verdict("pass", expected, "all removable storage denied", evidence)
    if not allow_mode:
        return Verdict("fail", expected, f"Deny_All = {deny_all if deny_all is not None else 'absent'}", evidence)
    problems = []
    for name in ("DenyRemovableDevices", "AllowDenyLayered"):
        value = win.reg_value(ctx, DEVICE_INSTALL, name)
        evidence.append(win.reg_where(DEVICE_INSTALL, name, value))
        if value != 1:
            problems.append(f"{name} = {value if value is not None else 'absent'}")
    for name, want in wanted.items():
        switch = win.reg_value(ctx, DEVICE_INSTALL, name)
        evidence.append(win.reg_where(DEVICE_INSTALL, name, switch))
        listed = win.reg_key(ctx, f"{DEVICE_INSTALL}\\{name}") or {}
        have = {str(v[1]).strip().casefold() for v in listed.values()}
        evidence.append(f"{DEVICE_INSTALL}\\{name}: {', '.join(sorted(have)) or 'empty'}")
        if want and switch != 1:
            problems.append(f"{name} = {switch if switch is not None else 'absent'}")
        if have - want:
            problems.append(f"{name} allows beyond the list: " + ", ".join(sorted(have - want)))
        if want - have and switch == 1:
            problems.append(f"{name} misses: " + ", ".join(sorted(want - have)))
    return verdict(problems, expected, "removable devices denied except the allow-lists", evidence)


@check("AUTORUN", "windows", files=("registry/02-cv-policies.reg",))
def autorun(ctx: Ctx) -> Verdict:
    # "Turn off Autoplay" on all drives = NoDriveTypeAutoRun 0xFF; "Set the default behavior for
    # AutoRun: Do not execute any autorun commands" = NoAutorun 1 (AutoPlay.admx, machine part).
    evidence, problems = [], []
    for name, want in (("NoDriveTypeAutoRun", 255), ("NoAutorun", 1)):
        value = win.reg_value(ctx, CV_EXPLORER, name)
        evidence.append(win.reg_where(CV_EXPLORER, name, value))
        if value != want:
            problems.append(f"{name} = {value if value is not None else 'absent'}")
    return verdict(problems, "NoDriveTypeAutoRun = 255, NoAutorun = 1", "autoplay and autorun off", evidence)


# Win32_LogicalDisk.DriveType 2 removable, 3 local disk (learn.microsoft.com/windows/win32/cimwin32prov/
# win32-logicaldisk); Get-Volume DriveType Removable / Fixed (MSFT_Volume).
FIXED = ("3", "Fixed")
REMOVABLE_TYPES = ("2", "Removable")


@check("DISK-ENCRYPTED", "windows", files=("bitlocker.json",))
def disk_encrypted(ctx: Ctx) -> Verdict:
    """Every fixed volume (the OS volume and fixed data volumes) protected by BitLocker.
    Get-BitLockerVolume's VolumeType is OperatingSystem or Data only — a USB stick or SD card
    is `Data` too (learn.microsoft.com/powershell/module/bitlocker/get-bitlockervolume) — so a
    data volume is judged by its drive type (the collector adds DriveType from
    Win32_LogicalDisk, or Get-Volume for a volume without a letter): removable ones are
    USB-STORAGE's concern; a data volume of unknown type is an error, never skipped."""
    volumes = win.records(ctx, "bitlocker.json")
    if not volumes:
        raise Unreadable("bitlocker.json: no volume listed")
    evidence, problems = [], []
    for v in volumes:
        kind, drive = str(v.get("VolumeType")), str(v.get("DriveType"))
        where = f"{v.get('MountPoint')} {kind}, DriveType {v.get('DriveType')}"
        if kind not in ("OperatingSystem", "0"):
            if drive in REMOVABLE_TYPES:
                evidence.append(f"bitlocker.json: {where}: removable, not judged (USB-STORAGE)")
                continue
            if drive not in FIXED:
                raise Unreadable(
                    f"bitlocker.json: {v.get('MountPoint')} {kind} without a drive type (fixed or removable?)"
                )
        protection = str(v.get("ProtectionStatus"))
        status = str(v.get("VolumeStatus"))
        evidence.append(f"bitlocker.json: {where}: {status}, protection {protection}")
        if protection not in ("On", "1") or status not in ("FullyEncrypted", "1"):
            problems.append(f"{v.get('MountPoint')}: {status}, protection {protection}")
    return verdict(
        problems, "every fixed volume BitLocker-encrypted, protection on", "all fixed volumes encrypted", evidence
    )


@check("BACKUP-RECENT", "windows", files=("tasks.json", "stamps.json"))
def backup_recent(ctx: Ctx) -> Verdict:
    """The declared scheduled task (\\Path\\Name) last ran with result 0, and/or the stamp file's
    modification time, within max_age_days of the collection. tasks.json holds the tasks outside
    \\Microsoft\\ and those under \\Microsoft\\Windows\\Backup\\ (Windows Server Backup's
    "Microsoft-Windows-WindowsBackup" task, learn.microsoft.com/windows-server/administration/
    windows-commands/wbadmin-enable-backup)."""
    job, stamp = ctx.params["job"], ctx.params["stamp_file"]
    limit = ctx.params["max_age_days"]
    expected = f"the declared backup succeeded within {limit} days"
    if not job and not stamp:
        return Verdict("fail", expected, "no backup job or stamp file declared", ["lgsec_backup_recent_job unset"])
    now = win.as_of(ctx)
    evidence, problems = [], []
    if job:
        path = job if job.startswith("\\") else "\\" + job
        tasks = {
            f"{t.get('TaskPath', '')}{t.get('TaskName', '')}".casefold(): t for t in win.records(ctx, "tasks.json")
        }
        task = tasks.get(path.casefold())
        if task is None:
            problems.append(f"scheduled task {path} not found")
        else:
            last = win.ps_time(task.get("LastRunTime"))
            result = task.get("LastTaskResult")
            evidence.append(f"tasks.json: {path} LastRunTime {win.fmt_time(last)}, LastTaskResult {result}")
            if result != 0:
                problems.append(f"{path} last result {result}")
            if last is None or win.days_between(now, last) > limit:
                problems.append(f"{path} last ran {win.fmt_time(last)}")
    if stamp:
        found = {str(s.get("Path", "")).casefold(): s for s in win.records(ctx, "stamps.json")}
        entry = found.get(stamp.casefold())
        moment = win.ps_time(entry.get("LastWriteTimeUtc")) if entry else None
        evidence.append(f"stamps.json: {stamp} modified {win.fmt_time(moment)}")
        if moment is None or win.days_between(now, moment) > limit:
            problems.append(f"{stamp} modified {win.fmt_time(moment)}")
    return verdict(problems, expected, "last backup within the limit", evidence)
