"""Windows checks: software (section C) — installed programs from both Uninstall keys (64-bit
and WOW6432Node, `reg export`), the OS build against catalog/eol.yml, the last hotfix."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from lgsec import eol
from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.linux_software import SHOWN, shown
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


def programs(ctx: Ctx) -> list[Program]:
    """Programs as Apps & features lists them: a DisplayName, not a SystemComponent, not an
    update of another entry (ParentKeyName)."""
    out = []
    for arch, key in UNINSTALL.items():
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
    return sorted(out, key=lambda p: (p.name.casefold(), p.arch))


def name_matches(name: str, patterns: list[str]) -> bool:
    """A display name against shell-style patterns, case-insensitive (the role uses it too)."""
    return any(fnmatchcase(name.casefold(), str(p).casefold()) for p in patterns)


def matches(program: Program, patterns: list[str]) -> bool:
    return name_matches(program.name, patterns)


@check("SW-INVENTORY", "windows")
def sw_inventory(ctx: Ctx) -> Verdict:
    found = programs(ctx)
    details = [{"name": p.name, "version": p.version, "publisher": p.publisher, "arch": p.arch} for p in found]
    expected = "the host's program list can be read (第63条2), every program with its version"
    evidence = [f"{UNINSTALL[a]}: {sum(p.arch == a for p in found)} programs" for a in UNINSTALL]
    unversioned = [p.name for p in found if not p.version]
    if unversioned:
        return Verdict(
            "fail", expected, f"{len(found)} programs; without a version: {shown(unversioned)}", evidence, details
        )
    return Verdict(
        "pass", expected, f"{len(found)} programs (name, version, publisher, arch in details)", evidence, details
    )


@check("SW-UNAPPROVED", "windows")
def sw_unapproved(ctx: Ctx) -> Verdict:
    deny, allow = ctx.params["deny"], ctx.params["allow"]
    found = programs(ctx)
    denied = [p for p in found if matches(p, deny)]
    unlisted = [p for p in found if allow and not matches(p, allow) and p not in denied]
    evidence = [f"Uninstall keys (x64, WOW6432Node): {len(found)} programs"]
    evidence += [f"{UNINSTALL[p.arch]}\\{p.key}: {p.label} (deny-list)" for p in denied[:SHOWN]]
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
    return Verdict("pass", expected, f"{len(found)} programs, none denied", evidence)


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


@check("SW-SUPPORTED", "windows")
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
    today = win.now(ctx).date()
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


@check("SW-PATCHED", "windows")
def sw_patched(ctx: Ctx) -> Verdict:
    """The newest hotfix (Get-HotFix InstalledOn) at most max_pending_days before the collection."""
    limit = ctx.params["max_pending_days"]
    fixes = win.records(ctx, "hotfixes.json")
    dated = [(win.ps_time(f.get("InstalledOn")), f.get("HotFixID")) for f in fixes]
    dated = [(t, i) for t, i in dated if t is not None]
    expected = f"a hotfix installed within {limit} days of the audit"
    if not dated:
        return Verdict("fail", expected, "no dated hotfix installed", [f"hotfixes.json: {len(fixes)} entries"])
    latest, hotfix = max(dated, key=lambda d: d[0])
    age = win.days_between(win.now(ctx), latest)
    evidence = [f"hotfixes.json: {len(fixes)} hotfixes, newest {hotfix} installed {win.fmt_time(latest)}"]
    actual = f"last hotfix {hotfix} {int(age)} days before the audit"
    return Verdict("pass" if age <= limit else "fail", expected, actual, evidence)
