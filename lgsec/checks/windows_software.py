"""Windows checks: software (section C) — installed programs from both Uninstall keys (64-bit
and WOW6432Node, `reg export`), the OS build against catalog/eol.yml, the last hotfix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from fnmatch import fnmatchcase

from lgsec import eol
from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import SHOWN, shown
from lgsec.errors import InputError

UNINSTALL = {
    "x64": r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    "x86": r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
}


@dataclass(frozen=True)
class Program:
    name: str
    version: str
    publisher: str
    arch: str
    key: str  # subkey name: the product code {GUID} for MSI installs
    uninstall: str
    quiet_uninstall: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


USER_UNINSTALL = re.compile(r"^HKU\\(S-1-5-21-[\d-]+)\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall$", re.I)
# What programs() reads: the Uninstall keys (machine and each loaded user hive) and the MSIX packages
PROGRAMS_EVIDENCE = (
    "appx.json",
    "profiles.json",
    "registry/09-uninstall.reg",
    "registry/10-uninstall-wow64.reg",
    "registry/*-user-*.reg",
)


def uninstall_keys(ctx: Ctx) -> dict[str, str]:
    """arch -> Uninstall key: the machine's two, and each loaded user hive's own (a per-user
    install — "Install for me only", most ClickOnce/Electron apps — registers under
    HKU\\<SID>\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall: learn.microsoft.com/windows/
    win32/msi/uninstall-registry-key)."""
    keys = dict(UNINSTALL)
    for root in ctx.facts.get("registry_keys") or {}:
        m = USER_UNINSTALL.match(root)
        if m:
            keys[f"user {m.group(1)}"] = root
    return keys


def programs(ctx: Ctx) -> list[Program]:
    """Programs as Apps & features lists them: a DisplayName, not a SystemComponent, not an
    update of another entry (ParentKeyName) — from the machine's and every loaded user's
    Uninstall keys — and the MSIX/Store packages of every user (Get-AppxPackage -AllUsers:
    not frameworks, not resource packages, not the OS's own SignatureKind System packages;
    learn.microsoft.com/powershell/module/appx/get-appxpackage)."""
    out = []
    for arch, key in uninstall_keys(ctx).items():
        for sub, values in win.reg_subkeys(ctx, key).items():

            def val(name: str, values=values) -> str:
                found = values.get(name.casefold())
                return "" if found is None else str(found[1])

            if not val("DisplayName") or val("SystemComponent") == "1" or val("ParentKeyName"):
                continue
            out.append(
                Program(
                    val("DisplayName"),
                    val("DisplayVersion"),
                    val("Publisher"),
                    arch,
                    sub,
                    val("UninstallString"),
                    val("QuietUninstallString"),
                )
            )
    for pkg in win.records(ctx, "appx.json"):
        if win.flag(pkg.get("IsFramework")) or win.flag(pkg.get("IsResourcePackage")):
            continue
        if str(pkg.get("SignatureKind")) in ("System", "4"):
            continue
        name = str(pkg.get("Name") or "")
        if not name:
            raise Unreadable("appx.json: a package without a Name")
        out.append(
            Program(name, str(pkg.get("Version") or ""), str(pkg.get("Publisher") or ""), "msix",
                    str(pkg.get("PackageFullName") or name), "", "")
        )  # fmt: skip
    return sorted(out, key=lambda p: (p.name.casefold(), p.arch))


def unread_profiles(ctx: Ctx) -> list[str]:
    """User profiles whose hive (NTUSER.DAT) was not loaded at collection: their per-user
    installs cannot be read without loading the hive, which the read-only collector does not do."""
    out = []
    for profile in win.records(ctx, "profiles.json"):
        sid = str(profile.get("SID", ""))
        if sid.startswith("S-1-5-21-") and not win.flag(profile.get("Special")) and not win.flag(profile.get("Loaded")):
            out.append(f"{profile.get('LocalPath')} ({sid})")
    return out


def not_read_note(ctx: Ctx) -> str:
    unread = unread_profiles(ctx)
    return f"; per-user installs of {len(unread)} profile(s) not signed in not read: {shown(unread)}" if unread else ""


def name_matches(name: str, patterns: list[str]) -> bool:
    """A display name against shell-style patterns, case-insensitive (the role uses it too)."""
    return any(fnmatchcase(name.casefold(), str(p).casefold()) for p in patterns)


def matches(program: Program, patterns: list[str]) -> bool:
    return name_matches(program.name, patterns)


@check(
    "SW-INVENTORY",
    "windows",
    files=PROGRAMS_EVIDENCE,
)
def sw_inventory(ctx: Ctx) -> Verdict:
    found = programs(ctx)
    details = [{"name": p.name, "version": p.version, "publisher": p.publisher, "arch": p.arch} for p in found]
    expected = "the host's program list can be read (第63条2), every program with its version"
    keys = uninstall_keys(ctx)
    evidence = [f"{keys[a]}: {sum(p.arch == a for p in found)} programs" for a in keys]
    evidence.append(f"appx.json: {sum(p.arch == 'msix' for p in found)} MSIX/Store packages")
    note = not_read_note(ctx)
    unversioned = [p.name for p in found if not p.version]
    if unversioned:
        return Verdict(
            "fail", expected, f"{len(found)} programs; without a version: {shown(unversioned)}{note}", evidence, details
        )
    return Verdict(
        "pass", expected, f"{len(found)} programs (name, version, publisher, arch in details){note}", evidence, details
    )


@check(
    "SW-UNAPPROVED",
    "windows",
    files=PROGRAMS_EVIDENCE,
)
def sw_unapproved(ctx: Ctx) -> Verdict:
    deny, allow = ctx.params["deny"], ctx.params["allow"]
    found = programs(ctx)
    denied = [p for p in found if matches(p, deny)]
    unlisted = [p for p in found if allow and not matches(p, allow) and p not in denied]
    keys = {**uninstall_keys(ctx), "msix": "appx.json"}
    evidence = [f"Uninstall keys (x64, WOW6432Node, loaded user hives) and MSIX packages: {len(found)} programs"]
    evidence += [f"{keys[p.arch]}\\{p.key}: {p.label} (deny-list)" for p in denied[:SHOWN]]
    details = [
        {"name": p.name, "version": p.version, "arch": p.arch, "key": p.key, "reason": "deny-list"} for p in denied
    ]
    details += [
        {"name": p.name, "version": p.version, "arch": p.arch, "key": p.key, "reason": "not in allow-list"}
        for p in unlisted
    ]
    expected = "no program of the deny-list" + (", every program in the allow-list" if allow else "")
    problems = []
    if denied:
        problems.append("denied: " + shown([p.label for p in denied]))
    if unlisted:
        problems.append(f"not in the allow-list ({len(unlisted)}): " + shown([p.label for p in unlisted]))
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence, details)
    return Verdict("pass", expected, f"{len(found)} programs, none denied{not_read_note(ctx)}", evidence)


# Windows editions and their lifecycle: Home/Pro (windows), Enterprise/Education
# (windows-enterprise), LTSC (windows-ltsc), Server (windows-server); the build number is the
# version in catalog/eol.yml.
LTSC_EDITIONS = ("enterprises", "enterprisesn", "iotenterprises", "iotenterprisesk")
ENTERPRISE_EDITIONS = ("enterprise", "enterprisen", "education", "educationn", "iotenterprise", "iotenterprisek")


def lifecycle_id(info: dict) -> str:
    edition = str(info.get("EditionID", "")).casefold()
    if str(info.get("InstallationType", "")).casefold().startswith("server") or edition.startswith("server"):
        return "windows-server"
    if edition in LTSC_EDITIONS:
        return "windows-ltsc"
    if edition in ENTERPRISE_EDITIONS:
        return "windows-enterprise"
    return "windows"


@check("SW-SUPPORTED", "windows", files=("os.json",))
def sw_supported(ctx: Ctx) -> Verdict:
    which, eol_file = ctx.params["support_end"], ctx.params["eol_file"]
    label = "extended support" if which == "lts" else "mainstream support"
    expected = f"the Windows build is listed in {eol_file} and the collection date is within its {label}"
    try:
        data = eol.load_eol(eol_file)
    except InputError as exc:
        raise Unreadable(str(exc)) from exc
    info = win.os_info(ctx)
    build = str(info["CurrentBuild"])
    family = lifecycle_id(info)
    name = (
        f"{info.get('ProductName', 'Windows')} {info.get('DisplayVersion', '')} (build {build}.{info.get('UBR', '?')})"
    )
    today = win.as_of(ctx).date()
    evidence = [
        f"os.json: EditionID {info.get('EditionID')}, InstallationType {info.get('InstallationType')}, "
        f"CurrentBuild {build} -> {family} {build}",
        f"collection date {today}",
    ]
    release = data.find(family, build)
    if release is None:
        return Verdict("fail", expected, f"{name}: {family} build {build} not in {eol_file}", evidence)
    end = release.end(which)
    evidence.append(f"{release.where}: {release.name}, end {end} ({', '.join(release.source)})")
    if today > end:
        return Verdict("fail", expected, f"{name}: {label} ended {end}", evidence)
    return Verdict("pass", expected, f"{name}: {release.name}, supported until {end}", evidence)


def patch_tuesday(year: int, month: int) -> date:
    """The second Tuesday of a month: Microsoft's monthly security update release ("Update
    Tuesday", learn.microsoft.com/windows/deployment/update/release-cycle)."""
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def due_release(at: date, grace: int) -> date:
    """The latest monthly release that is more than `grace` days old at `at`."""
    year, month = at.year, at.month
    while patch_tuesday(year, month) + timedelta(days=grace) > at:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return patch_tuesday(year, month)


@check("SW-PATCHED", "windows", files=("hotfixes.json",))
def sw_patched(ctx: Ctx) -> Verdict:
    """Monthly cadence: the cumulative security update of the latest monthly release older than
    max_pending_days is installed — a "Security Update" hotfix (Get-HotFix Description;
    cumulative updates are listed so) installed on or after that release day. Other updates
    ("Update": servicing stack, .NET, Defender platform) never count, so a recent one cannot
    hide a missing month."""
    limit = ctx.params["max_pending_days"]
    at = win.as_of(ctx)
    fixes = win.records(ctx, "hotfixes.json")
    due = due_release(at.date(), limit)
    expected = f"the monthly security update of {due} (due {limit} days after release) installed"
    dated = [(win.ps_time(f.get("InstalledOn")), f.get("HotFixID"), str(f.get("Description") or "")) for f in fixes]
    security = [(t, i) for t, i, d in dated if t is not None and d.casefold() == "security update"]
    evidence = [
        f"hotfixes.json: {len(fixes)} hotfixes, {len(security)} security updates dated",
        f"monthly release due: {due} (second Tuesday, more than {limit} days before the collection {at.date()})",
    ]
    if not security:
        return Verdict("fail", expected, "no dated security update installed", evidence)
    latest, hotfix = max(security, key=lambda d: d[0])
    evidence.append(f"newest security update {hotfix} installed {win.fmt_time(latest)}")
    others = [i for t, i, d in dated if t is not None and t > latest and d.casefold() != "security update"]
    if others:
        evidence.append(f"installed later, not counted (not a security update): {', '.join(map(str, others))}")
    # InstalledOn is the local date at midnight; the release day counts in the host's day
    if latest.date() < due - timedelta(days=1):
        return Verdict(
            "fail",
            expected,
            f"last security update {hotfix} installed {latest.date()}: the {due} release missing",
            evidence,
        )
    return Verdict(
        "pass", expected, f"security update {hotfix} installed {latest.date()} (release {due} due)", evidence
    )
