"""Linux checks: software (CONTROLS.md section C — 第63条, 第73条3, 第80条(6), 第91条).

Everything here is judged on what the gather module read without changing the host: the
package database (dpkg-query / rpm), the host's own APT package lists as they are (the
audit never runs apt update: their age is part of the evidence), apt-get's simulation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase

from lgsec import eol, parse
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import DAY, ENABLED_UNITS, SHOWN, enabled_units_if_systemd, shown
from lgsec.errors import InputError

OS_RELEASE = "/etc/os-release"
DPKG = "dpkg-query -W"
RPM = "rpm -qa"
APT_SIM = "apt-get -s dist-upgrade"
APT_CONFIG = "apt-config dump"
APT_TIMES = "apt lists and periodic times"
DNF_SECURITY = "dnf updateinfo list --security"
DNF_TIMES = "dnf metadata times"
AUTO_UPGRADES = "/etc/apt/apt.conf.d/20auto-upgrades"
UU_CONF = "/etc/apt/apt.conf.d/50unattended-upgrades"
DNF_AUTOMATIC = "/etc/dnf/automatic.conf"
UPGRADE_STAMP = "/var/lib/apt/periodic/upgrade-stamp"
UPDATE_STAMP = "/var/lib/apt/periodic/update-stamp"


def day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def days(seconds: float) -> str:
    n = int(seconds // DAY)
    return f"{n} day" if n == 1 else f"{n} days"


def audit_date(ctx: Ctx) -> tuple[float, date]:
    """When the facts were read (the host's clock), as Unix time and UTC date."""
    now = float(ctx.fact("collected_at"))
    return now, datetime.fromtimestamp(now, UTC).date()


def os_release(ctx: Ctx) -> dict[str, parse.Setting]:
    return parse.settings(ctx.file(OS_RELEASE), OS_RELEASE, style="shell")


def family(ctx: Ctx) -> str:
    """`debian` or `rhel` from /etc/os-release ID and ID_LIKE; `other` when neither."""
    values = os_release(ctx)
    ids = {word for key in ("ID", "ID_LIKE") if key in values for word in values[key].value.split()}
    if ids & {"debian", "ubuntu"}:
        return "debian"
    if ids & {"rhel", "fedora", "centos", "rocky", "almalinux"}:
        return "rhel"
    return "other"


def installed(ctx: Ctx) -> tuple[list[parse.Package], str]:
    """Every package the package manager knows, and the command it came from."""
    order = (RPM, DPKG) if family(ctx) == "rhel" else (DPKG, RPM)
    for name in order:
        result = ctx.command(name)
        if result is None:
            continue
        packages = parse.dpkg_packages(result["stdout"]) if name == DPKG else parse.rpm_packages(result["stdout"])
        if not packages:
            raise Unreadable(f"{name}: listed no package")
        return packages, name
    raise Unreadable("neither dpkg-query nor rpm is installed: the package list cannot be read")


# ---- SW-INVENTORY 第63条2 -----------------------------------------------------------------


@check("SW-INVENTORY", "linux", files=("/etc/os-release",), commands=("dpkg-query -W", "rpm -qa"))
def sw_inventory(ctx: Ctx) -> Verdict:
    packages, source = installed(ctx)
    present = sorted((p for p in packages if p.present), key=lambda p: (p.name, p.arch))
    details = [
        {"name": p.name, "version": p.version, "arch": p.arch, **({"state": p.state} if p.state != "installed" else {})}
        for p in present
    ]
    partial = [p for p in present if p.state != "installed"]
    expected = (
        "the host's software list can be read, for licence management (第63条2), every package in it fully installed"
    )
    evidence = [f"{source}: {len(present)} packages present"]
    if partial:
        # An interrupted install or upgrade: the package database does not say reliably what is
        # on the disk (repair: dpkg --configure -a, apt-get -f install).
        evidence += [f"{source} line {p.line}: {p.name} {p.version} {p.state}" for p in partial[:SHOWN]]
        names = shown([f"{p.name} {p.version} ({p.state})" for p in partial])
        actual = f"{len(present)} packages listed; {len(partial)} not fully installed: {names}"
        return Verdict("fail", expected, actual, evidence, details)
    actual = f"{len(present)} packages installed (name, version, arch in details)"
    return Verdict("pass", expected, actual, evidence, details)


# ---- SW-UNAPPROVED 第63条, 第73条3 -----------------------------------------------------------


@check("SW-UNAPPROVED", "linux", files=("/etc/os-release",), commands=("dpkg-query -W", "rpm -qa"))
def sw_unapproved(ctx: Ctx) -> Verdict:
    deny, allow = ctx.params["deny"], ctx.params["allow"]
    packages, source = installed(ctx)
    present = [p for p in packages if p.present]
    expected = f"no deny-listed package installed ({', '.join(deny) or 'deny-list empty'})"
    if allow:
        expected += f"; every installed package matches the allow-list ({len(allow)} patterns)"
    problems, evidence, details = [], [f"{source}: {len(present)} packages present"], []
    denied = [p for p in present if p.name in deny]
    for p in denied:
        problems.append(f"{p.name} {p.version} installed (deny-list)")
        evidence.append(f"{source} line {p.line}: {p.name} {p.version} {p.arch} {p.state}")
        details.append({"name": p.name, "version": p.version, "arch": p.arch, "reason": "deny-list"})
    if allow:
        outside = [p for p in present if not any(fnmatchcase(p.name, pattern) for pattern in allow)]
        if outside:
            names = sorted({p.name for p in outside})
            problems.append(f"{len(names)} packages match no allow-list pattern: {shown(names)}")
            details += [
                {"name": p.name, "version": p.version, "arch": p.arch, "reason": "not in the allow-list"}
                for p in sorted(outside, key=lambda p: p.name)
            ]
        evidence.append(f"allow-list patterns: {', '.join(allow)}")
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence, details)
    ok = f"none of the {len(deny)} deny-listed packages installed"
    if allow:
        ok += f"; all {len(present)} packages match the allow-list"
    return Verdict("pass", expected, ok, evidence)


# ---- SW-SUPPORTED 第80条(6) ----------------------------------------------------------------


@check("SW-SUPPORTED", "linux", files=("/etc/os-release",))
def sw_supported(ctx: Ctx) -> Verdict:
    which, eol_file = ctx.params["support_end"], ctx.params["eol_file"]
    label = "LTS" if which == "lts" else "regular support"
    expected = f"the OS release is listed in {eol_file} and the audit date is within its {label} end"
    try:
        data = eol.load_eol(eol_file)
    except InputError as exc:
        raise Unreadable(str(exc)) from exc
    values = os_release(ctx)
    os_id = values.get("ID")
    version = values.get("VERSION_ID")
    pretty = values["PRETTY_NAME"].value if "PRETTY_NAME" in values else "unknown"
    evidence = [f"{s.where}: {k}={s.value}" for k, s in (("ID", os_id), ("VERSION_ID", version)) if s is not None]
    now, today = audit_date(ctx)
    evidence.append(f"audit date {today} (facts read {day(now)})")
    if os_id is None or version is None:
        missing = " and ".join(k for k, s in (("ID", os_id), ("VERSION_ID", version)) if s is None)
        actual = f"{pretty}: no {missing} in {OS_RELEASE} (testing/unstable or unknown): not in {eol_file}"
        return Verdict("fail", expected, actual, evidence or [f"{OS_RELEASE}: no ID/VERSION_ID"])
    release = data.find(os_id.value, version.value)
    if release is None:
        actual = f"{os_id.value} {version.value} ({pretty}) not in {eol_file}: its end of support is unknown"
        return Verdict("fail", expected, actual, evidence)
    end = release.end(which)
    evidence.append(
        f"{release.where}: {release.id} {release.version} regular_end {release.regular_end}, "
        f"lts_end {release.lts_end} ({', '.join(release.source)})"
    )
    name = f"{pretty} ({release.name})" if release.name not in pretty else pretty
    if today > end:
        actual = f"{name}: {label} ended {end}, {(today - end).days} days before the audit"
        return Verdict("fail", expected, actual, evidence)
    parts = []
    if which == "lts":
        done = today > release.regular_end
        parts.append(f"regular security support {'ended' if done else 'until'} {release.regular_end}")
    parts.append(f"{label} until {end} ({(end - today).days} days left)")
    return Verdict("pass", expected, f"{name}: {'; '.join(parts)}", evidence)


# ---- SW-PATCHED 第91条 ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    name: str
    old: str
    new: str
    releases: str
    line: int

    @property
    def text(self) -> str:
        return f"{self.name} {self.old or '(new)'} → {self.new}"


_INST_RE = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*)\)")


def apt_pending(stdout: str) -> list[Pending]:
    """Upgrades and new packages an `apt-get -s dist-upgrade` would install (its Inst lines)."""
    out = []
    for number, line in enumerate(stdout.splitlines(), 1):
        match = _INST_RE.match(line)
        if match:
            name, old, new, rest = match.groups()
            releases = re.sub(r"\s*\[[^\]]*\]\)?.*$", "", rest).strip()
            out.append(Pending(name, old or "", new, releases, number))
    return out


def times(stdout: str) -> dict[str, float]:
    """`find … -printf '%T@\\t%p\\n'`: path → modification time."""
    out = {}
    for line in stdout.splitlines():
        stamp, _, path = line.partition("\t")
        try:
            out[path] = float(stamp)
        except ValueError:
            continue
    return out


def apt_config(stdout: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`apt-config dump` lines: scalar key → value, list key (`Key::`) → values."""
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        match = re.match(r'^(\S+) "(.*)";$', line.strip())
        if not match:
            continue
        key, value = match.groups()
        if key.endswith("::"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            scalars[key] = value
    return scalars, lists


def cite(ctx: Ctx, key: str, paths: tuple[str, ...]) -> str | None:
    """file:line of the last `Key "value";` line for key in these apt.conf files (best effort:
    apt-config dump gives the effective value, this only says where it is written)."""
    found = None
    pattern = re.compile(rf'^\s*{re.escape(key)}\s+"')
    for path in paths:
        text = ctx.file(path, required=False)
        for number, line in enumerate((text or "").splitlines(), 1):
            if pattern.match(line):
                found = f"{path}:{number}"
    return found


def periodic_ok(value: str | None, limit: int) -> bool:
    """An APT::Periodic interval that runs at least every `limit` days ("always" or 1…limit)."""
    if value is None:
        return False
    if value == "always":
        return True
    return value.isdigit() and 1 <= int(value) <= limit


def debian_automatic(ctx: Ctx, packages: list[parse.Package], limit: int) -> tuple[list[str], list[str]]:
    """What keeps unattended-upgrades from installing security updates: (problems, evidence)."""
    problems, evidence = [], []
    uu = [p for p in packages if p.name == "unattended-upgrades" and p.state == "installed"]
    if uu:
        evidence.append(f"{DPKG} line {uu[0].line}: unattended-upgrades {uu[0].version}")
    else:
        problems.append("unattended-upgrades is not installed")
    config = ctx.command(APT_CONFIG)
    if config is None:
        raise Unreadable(f"{APT_CONFIG}: apt-config is not installed")
    scalars, lists = apt_config(config["stdout"])
    for key in ("APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade"):
        value = scalars.get(key)
        where = cite(ctx, key, (AUTO_UPGRADES, UU_CONF))
        evidence.append(f'{APT_CONFIG}: {key} "{value}"' if value is not None else f"{APT_CONFIG}: {key} unset")
        if where:
            evidence[-1] += f" (written at {where})"
        if not periodic_ok(value, limit):
            problems.append(f'{key} {f"{value!r}" if value is not None else "unset"} (wants "1")')
    origins = [o for key in ("Origins-Pattern", "Allowed-Origins") for o in lists.get(f"Unattended-Upgrade::{key}", [])]
    security = [o for o in origins if "security" in o.lower()]
    if security:
        evidence.append(f"{APT_CONFIG}: Unattended-Upgrade origin {security[0]}")
    else:
        problems.append("no security origin in Unattended-Upgrade::Origins-Pattern / Allowed-Origins")
    units = enabled_units_if_systemd(ctx)
    if units is None:
        evidence.append(f"{ENABLED_UNITS}: systemctl not installed, apt-daily timers not checked")
    else:
        off = [u for u in ("apt-daily.timer", "apt-daily-upgrade.timer") if u not in units]
        if off:
            problems.append(f"not enabled: {', '.join(off)}")
        else:
            evidence.append(f"{ENABLED_UNITS}: apt-daily.timer, apt-daily-upgrade.timer")
    return problems, evidence


def patched_debian(ctx: Ctx) -> Verdict:
    limit, automatic = ctx.params["max_pending_days"], ctx.params["unattended_upgrades"]
    expected = (
        f"security archive in the package lists, read within {limit} days; no security update pending "
        "(except ones listed after unattended-upgrade's last run, itself within "
        f"{limit} days)" + ("; unattended-upgrades installed and on for a security origin" if automatic else "")
    )
    now, _ = audit_date(ctx)
    packages, _ = installed(ctx)
    problems, evidence = [], []
    found = ctx.command(APT_TIMES)
    if found is None:
        raise Unreadable(f"{APT_TIMES}: find is not installed")
    mtimes = times(found["stdout"])
    security_lists = {p: t for p, t in mtimes.items() if "/lists/" in p and "security" in p.rsplit("/", 1)[-1]}
    listed_at = max(security_lists.values(), default=None)  # the newest security Release the host holds
    read_at = max(x for x in (listed_at, mtimes.get(UPDATE_STAMP)) if x is not None) if listed_at else None
    if listed_at is None:
        releases = sorted(p.rsplit("/", 1)[-1] for p in mtimes if "/lists/" in p)
        evidence.append(f"{APT_TIMES}: Release files {', '.join(releases) or 'none'}")
        problems.append(
            "no security archive in the package lists (/var/lib/apt/lists has no *security*Release file: "
            "not in the APT sources, or apt update never ran)"
        )
    else:
        newest = max(security_lists, key=security_lists.get)
        evidence.append(f"{newest}: {day(listed_at)}")
        age = (now - read_at) / DAY
        if age > limit:
            problems.append(f"package lists older than {limit} days (read {day(read_at)}): run apt update")
    auto_problems: list[str] = []
    if automatic:
        auto_problems, auto_evidence = debian_automatic(ctx, packages, limit)
        problems += auto_problems
        evidence += auto_evidence
    else:
        evidence.append("automatic updates not required (lgsec_sw_patched_unattended_upgrades: false)")
    sim = ctx.command(APT_SIM)
    if sim is None:
        raise Unreadable(f"{APT_SIM}: apt-get is not installed")
    pending = apt_pending(sim["stdout"])
    security = [p for p in pending if "security" in p.releases.lower()]
    evidence.append(f"{APT_SIM}: {len(security)} security updates of {len(pending)} pending")
    evidence += [f"{APT_SIM} line {p.line}: Inst {p.text} ({p.releases})" for p in security[:SHOWN]]
    details = [{"name": p.name, "installed": p.old, "candidate": p.new, "from": p.releases} for p in security]
    in_flight = ""
    if security and listed_at is not None:
        ran = mtimes.get(UPGRADE_STAMP)
        since = f"pending since at least {day(listed_at)} ({days(now - listed_at)})"
        names = shown([p.text for p in security])
        if automatic and not auto_problems and ran is not None and ran < listed_at and (now - ran) / DAY <= limit:
            in_flight = (
                f"; {len(security)} security updates listed after unattended-upgrade's last run "
                f"({day(ran)}), to be installed at its next run: {names}"
            )
        else:
            if not automatic or auto_problems:
                why = "automatic security updates are not on"
            elif ran is None:
                why = f"unattended-upgrade has not run yet (no {UPGRADE_STAMP})"
            elif ran >= listed_at:
                why = f"unattended-upgrade ran {day(ran)}, after they were listed, and did not install them"
            else:
                why = f"unattended-upgrade last ran {day(ran)}, more than {limit} days ago"
            problems.append(f"{len(security)} security updates {since}, {why}: {names}")
    elif security:
        problems.append(f"{len(security)} security updates pending: {shown([p.text for p in security])}")
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence, details)
    ok = ([] if security else ["no security update pending"]) + [f"package lists read {day(read_at)}"]
    if automatic:
        ok.append("unattended-upgrades on")
    return Verdict("pass", expected, "; ".join(ok) + in_flight, evidence, details)


def patched_rhel(ctx: Ctx) -> Verdict:
    """RHEL family (code only, not exercised live): dnf's cached metadata, never refreshed here."""
    limit, automatic = ctx.params["max_pending_days"], ctx.params["unattended_upgrades"]
    expected = f"repository metadata read within {limit} days; no security advisory pending" + (
        "; dnf-automatic installs security updates" if automatic else ""
    )
    now, _ = audit_date(ctx)
    packages, _ = installed(ctx)
    problems, evidence = [], []
    found = ctx.command(DNF_TIMES)
    if found is None:
        raise Unreadable(f"{DNF_TIMES}: find is not installed")
    mtimes = times(found["stdout"])
    if not mtimes:
        problems.append("no repository metadata in /var/cache/dnf: run dnf makecache")
    else:
        newest = max(mtimes.values())
        evidence.append(f"/var/cache/dnf repomd.xml newest {day(newest)}")
        if (now - newest) / DAY > limit:
            problems.append(f"repository metadata older than {limit} days (read {day(newest)}): run dnf makecache")
    if automatic:
        if not any(p.name in ("dnf-automatic", "dnf5-plugin-automatic") for p in packages if p.present):
            problems.append("dnf-automatic is not installed")
        text = ctx.file(DNF_AUTOMATIC, required=False)
        conf = parse.settings(text or "", DNF_AUTOMATIC)
        apply = conf.get("apply_updates")
        if apply is None or apply.value.lower() not in ("yes", "true", "1"):
            problems.append(f"{DNF_AUTOMATIC}: apply_updates {apply.value if apply else 'unset'} (wants yes)")
        else:
            evidence.append(f"{apply.where}: apply_updates = {apply.value}")
        units = enabled_units_if_systemd(ctx) or set()
        timers = ("dnf-automatic.timer", "dnf-automatic-install.timer", "dnf5-automatic.timer")
        if not units & set(timers):
            problems.append(f"none of {', '.join(timers)} enabled")
    result = ctx.command(DNF_SECURITY)
    if result is None:
        raise Unreadable(f"{DNF_SECURITY}: dnf is not installed")
    advisories = [line.split() for line in result["stdout"].splitlines() if len(line.split()) >= 3]
    details = [{"advisory": a[0], "severity": a[1], "package": a[2]} for a in advisories]
    if advisories:
        names = shown([f"{a[0]} {a[2]}" for a in advisories])
        problems.append(f"{len(advisories)} security advisories pending (age unknown from the cache): {names}")
    evidence.append(f"{DNF_SECURITY}: {len(advisories)} pending")
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence, details)
    return Verdict("pass", expected, "no security advisory pending", evidence)


@check(
    "SW-PATCHED",
    "linux",
    files=(
        "/etc/os-release",
        "/etc/apt/apt.conf.d/20auto-upgrades",
        "/etc/apt/apt.conf.d/50unattended-upgrades",
        "/etc/dnf/automatic.conf",
    ),
    commands=(
        "dpkg-query -W",
        "rpm -qa",
        "apt-get -s dist-upgrade",
        "apt-config dump",
        "apt lists and periodic times",
        "dnf updateinfo list --security",
        "dnf metadata times",
        "enabled unit files",
    ),
)
def sw_patched(ctx: Ctx) -> Verdict:
    return patched_rhel(ctx) if family(ctx) == "rhel" else patched_debian(ctx)
