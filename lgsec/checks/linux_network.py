"""Linux checks: network and remote access (CONTROLS.md section F, 第57条, 第71条, 第84条, 第89条)."""

from __future__ import annotations

import ipaddress
import json
import re

from lgsec import parse
from lgsec.catalog import ROOT
from lgsec.checks import Ctx, Unreadable, Verdict, check, linux_desk, linux_software
from lgsec.checks.common import ENABLED_UNITS as UNITS
from lgsec.checks.common import enabled_units, verdict
from lgsec.checks.linux_accounts import sysctl_effective, sysctl_files  # shared with PW-NOSTORE (fs.suid_dumpable)
from lgsec.parse_logs import systemctl_blocks

NFT = "nft -j list ruleset"
SS = "ss -H -tulpn"
DPKG = "dpkg-query -W"
RPM = "rpm -qa"
PROC_SYS_MOUNT = "findmnt /proc/sys/net"
AIDE_FILES = "find lgsec-web aide files"
SSHD = "sshd -T"
BANNER_FILE = "/etc/issue.net"  # roles/network_access writes the banner here and names it in sshd's Banner
ISSUE = "/etc/issue"

# What roles/web_integrity installs (its vars/main.yml names the same paths).
AIDE_CONF = "/etc/aide/lgsec-web.conf"
AIDE_DB = "/var/lib/aide/lgsec-web.db"
AIDE_DEFAULTS = "/etc/default/lgsec-web-aide"
AIDE_TIMER = "/etc/systemd/system/lgsec-web-aide.timer"
AIDE_TIMER_UNIT = "lgsec-web-aide.timer"
AIDE_SERVICE_UNIT = "lgsec-web-aide.service"
AIDE_SCRIPT = "/usr/local/sbin/lgsec-web-aide"
AIDE_SCRIPT_MODE = "find lgsec-web-aide script"
AIDE_UNITS = "systemctl show lgsec-web-aide units"
# the check script exactly as the role copies it (its files/), and the one command its service runs
AIDE_SCRIPT_SOURCE = ROOT / "roles" / "web_integrity" / "files" / "lgsec-web-aide.sh"
AIDE_EXEC = f"{AIDE_SCRIPT} check"
# /etc/default/lgsec-web-aide is sourced by the script: only plain assignments of its three names
AIDE_DEFAULTS_LINE = re.compile(r"""^(CONFIG|DATABASE|MAILTO)=("[^"`$\\]*"|'[^']*'|[^\s"'`$;&|<>()\\]*)$""")
# The distribution's own AIDE (Debian aide-common): its configuration, the file in which
# roles/web_integrity adds the web roots to it, and its database.
AIDE_DISTRO_CONF = "/etc/aide/aide.conf"
AIDE_DISTRO_DIR = "/etc/aide/aide.conf.d"
AIDE_DISTRO_RULES = "/etc/aide/aide.conf.d/99_lgsec_web"
AIDE_DISTRO_DB = "/var/lib/aide/aide.db"

# KERNEL-NET forwarding: both are 0 unless the host is a router (第89条)
FORWARDING = ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding")

# Algorithm names that are weak whatever the allowed lists say (第71条3-4): CBC and RC4
# ciphers, MD5/SHA-1/64-bit MACs, SHA-1 key exchange.
WEAK_SSH = (
    "-cbc",
    "arcfour",
    "3des",
    "blowfish",
    "cast128",
    "rijndael",
    "hmac-md5",
    "hmac-sha1",
    "hmac-ripemd160",
    "umac-64",
    "diffie-hellman-group1-",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
)


# ---- shared readers ------------------------------------------------------------------------


def installed_packages(ctx: Ctx) -> tuple[dict[str, str], str]:
    """Installed packages (name -> version) and the command they were read from."""
    dpkg = ctx.command(DPKG)
    if dpkg is not None:
        out = {}
        for line in dpkg["stdout"].splitlines():
            fields = line.split("\t")
            # ${db:Status-Abbrev}: desired, status, error; status n (not installed) and
            # c (config-files only) mean the package is gone.
            if len(fields) >= 3 and len(fields[0]) >= 2 and fields[0][1] not in "nc":
                out[fields[1]] = fields[2]
        return out, DPKG
    rpm = ctx.command(RPM)
    if rpm is not None:
        return {f[0]: f[1] for f in (line.split("\t") for line in rpm["stdout"].splitlines()) if len(f) >= 2}, RPM
    raise Unreadable("no package database: neither dpkg-query nor rpm is installed")


def sshd_config(ctx: Ctx) -> dict[str, str] | None:
    """`sshd -T` as keyword -> value; None when no SSH server is installed."""
    result = ctx.command(SSHD)
    return None if result is None else parse.sshd_t(result["stdout"])


def proc_sys_readonly(ctx: Ctx) -> bool:
    result = ctx.facts.get("commands", {}).get(PROC_SYS_MOUNT) or {}
    if result.get("rc") != 0:
        return False
    fields = result["stdout"].split()
    return len(fields) >= 2 and "ro" in fields[1].split(",")


# ---- FW-DEFAULT-DENY -------------------------------------------------------------------------

# Statements that do not narrow which packets a rule applies to.
_NON_MATCHING = {"counter", "log", "limit", "accept", "drop", "reject", "comment"}
_VERDICTS = ("accept", "drop", "reject")


def _rule_verdict(rule: dict) -> str | None:
    for expr in rule.get("expr", []):
        for name in _VERDICTS:
            if name in expr:
                return name
    return None


def _unconditional(rule: dict) -> bool:
    """A rule with no match: every packet that reaches it gets its verdict."""
    return all(set(expr) <= _NON_MATCHING - {"limit"} for expr in rule.get("expr", []))


def _render(value) -> str:
    if isinstance(value, dict):
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "set" in value:
            return "{" + ", ".join(_render(v) for v in value["set"]) + "}"
        if "range" in value:
            return "-".join(_render(v) for v in value["range"])
        if "payload" in value:
            p = value["payload"]
            return f"{p.get('protocol', '')} {p.get('field', '')}".strip()
        if "meta" in value:
            return value["meta"]["key"]
        if "ct" in value:
            return f"ct {value['ct']['key']}"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return ",".join(_render(v) for v in value)
    return str(value)


def describe_rule(rule: dict) -> str:
    """One nft rule from its JSON form, readable enough for evidence."""
    parts = []
    for expr in rule.get("expr", []):
        if "match" in expr:
            m = expr["match"]
            op = "" if m.get("op") in ("==", "in") else f"{m.get('op')} "
            parts.append(f"{_render(m['left'])} {op}{_render(m['right'])}")
        else:
            parts.extend(name for name in expr if name in _VERDICTS)
    return " ".join(parts) or "(empty rule)"


@check(
    "FW-DEFAULT-DENY", "linux", files=("/proc/sys/net/ipv6/*",), commands=("nft -j list ruleset", "enabled unit files")
)
def fw_default_deny(ctx: Ctx) -> Verdict:
    expected = (
        "nftables input-hook filter chain that drops by default (policy drop or a final drop/reject) "
        "for IPv4 and IPv6, no accept-all rule; the ruleset loaded at boot (nftables.service enabled)"
    )
    result = ctx.command(NFT)
    if result is None:
        evidence = [f"{NFT}: nft not installed"]
        return Verdict("fail", expected, "nftables (nft) is not installed: no host firewall", evidence)
    items = json.loads(result["stdout"] or "{}").get("nftables", [])
    chains = [i["chain"] for i in items if "chain" in i]
    rules: dict[tuple, list[dict]] = {}
    for item in items:
        if "rule" in item:
            r = item["rule"]
            rules.setdefault((r["family"], r["table"], r["chain"]), []).append(r)
    problems, evidence, covered = [], [], set()
    inputs = [c for c in chains if c.get("hook") == "input" and c.get("type", "filter") == "filter"]
    for chain in inputs:
        key = (chain["family"], chain["table"], chain["name"])
        name = f"{chain['family']} {chain['table']} {chain['name']}"
        chain_rules = rules.get(key, [])
        policy = chain.get("policy", "accept")
        last = chain_rules[-1] if chain_rules else None
        final_deny = last is not None and _unconditional(last) and _rule_verdict(last) in ("drop", "reject")
        accept_all = [r for r in chain_rules if _unconditional(r) and _rule_verdict(r) == "accept"]
        evidence.append(f"{NFT}: table {name} hook input policy {policy}, {len(chain_rules)} rule(s)")
        for rule in chain_rules:
            if _rule_verdict(rule) == "accept":
                evidence.append(f"  {name} accepts: {describe_rule(rule)}")
        if accept_all:
            problems.append(f"{name}: rule {accept_all[0].get('handle')} accepts every packet")
            continue
        if policy == "drop" or final_deny:
            covered |= {"inet": {"IPv4", "IPv6"}, "ip": {"IPv4"}, "ip6": {"IPv6"}}.get(chain["family"], set())
    ipv6_on = any(p.startswith("/proc/sys/net/ipv6/") for p in ctx.facts.get("files", {}))
    needed = ["IPv4", "IPv6"] if ipv6_on else ["IPv4"]
    if not inputs:
        problems.append("no input-hook chain: every inbound packet is accepted")
    else:
        problems += [f"{fam} inbound not denied by default" for fam in needed if fam not in covered]
    units = enabled_units(ctx)
    persistent = sorted(units & {"nftables.service", "firewalld.service"})
    state = ", ".join(persistent) + " enabled" if persistent else "nftables.service not enabled"
    evidence.append(f"{UNITS}: {state}")
    if not persistent:
        problems.append("nftables.service not enabled: the ruleset is not loaded at boot")
    ok = f"inbound default deny ({', '.join(sorted(covered))}); {', '.join(persistent)} enabled"
    return verdict(problems, expected, ok, evidence)


# ---- PORTS-APPROVED --------------------------------------------------------------------------

_PROCESS_RE = re.compile(r'\("([^"]+)",pid=(\d+)')


def listeners(stdout: str) -> list[dict]:
    """`ss -H -tulpn` lines: protocol, address, port, processes, loopback or not."""
    out = []
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
            continue
        addr, _, port = fields[4].rpartition(":")
        addr = addr.strip("[]").split("%", 1)[0]
        try:
            loopback = addr not in ("*", "") and ipaddress.ip_address(addr).is_loopback
        except ValueError:
            loopback = False
        if addr.startswith("::ffff:127."):
            loopback = True
        procs = [f"{name} pid {pid}" for name, pid in _PROCESS_RE.findall(line)]
        out.append({"proto": fields[0], "addr": addr or "*", "port": port, "loopback": loopback, "procs": procs})
    return out


@check("PORTS-APPROVED", "linux", commands=("ss -H -tulpn",))
def ports_approved(ctx: Ctx) -> Verdict:
    allowed = {str(p).lower() for p in ctx.params["allowed"]}
    expected = "sockets listening beyond loopback only on " + (", ".join(sorted(allowed)) or "nothing")
    result = ctx.command(SS)
    if result is None:
        raise Unreadable(f"{SS}: ss (iproute2) is not installed: listening sockets unknown")
    problems, evidence, exposed = [], [], []
    for sock in listeners(result["stdout"]):
        key = f"{sock['proto']}/{sock['port']}"
        who = ", ".join(sock["procs"]) or "process unknown (gathered without root?)"
        where = f"[{sock['addr']}]:{sock['port']}" if ":" in sock["addr"] else f"{sock['addr']}:{sock['port']}"
        if sock["loopback"]:
            evidence.append(f"{SS}: {key} on {where} ({who}) loopback only, not counted")
            continue
        evidence.append(f"{SS}: {key} on {where} ({who})")
        exposed.append(key)
        if key not in allowed:
            problems.append(f"{key} on {where} ({who}) not approved")
    if not evidence:
        evidence.append(f"{SS}: no listening socket")
    # one socket per address family: report each port once
    problems = list(dict.fromkeys(problems))
    ok = "listening: " + (", ".join(sorted(set(exposed))) or "none beyond loopback")
    return verdict(problems, expected, ok, evidence)


# ---- SVC-UNNEEDED ----------------------------------------------------------------------------


@check("SVC-UNNEEDED", "linux", commands=("dpkg-query -W", "rpm -qa", "enabled unit files"))
def svc_unneeded(ctx: Ctx) -> Verdict:
    deny = list(ctx.params["deny"])
    expected = "not installed, no unit enabled: " + ", ".join(deny)
    packages, source = installed_packages(ctx)
    units = enabled_units(ctx)
    problems, evidence = [], []
    for name in deny:
        if name in packages:
            problems.append(f"{name} installed")
            evidence.append(f"{source}: {name} {packages[name]} installed")
    for unit in sorted(units):
        stem, _, kind = unit.rpartition(".")
        if stem in deny and kind in ("service", "socket", "timer"):
            problems.append(f"{unit} enabled")
            evidence.append(f"{UNITS}: {unit} enabled")
    if not problems:
        evidence.append(f"{source}: none of the {len(deny)} listed packages installed ({len(packages)} packages)")
        evidence.append(f"{UNITS}: none of their units enabled")
    return verdict(problems, expected, "none installed or enabled", evidence)


# ---- REMOTE-ENCRYPTED, REMOTE-MINIMAL (sshd) ----------------------------------------------


def weak(name: str) -> bool:
    return any(marker in name for marker in WEAK_SSH)


@check("REMOTE-ENCRYPTED", "linux", commands=("sshd -T",))
def remote_encrypted(ctx: Ctx) -> Verdict:
    p = ctx.params
    expected = (
        "sshd (protocol 2) with Ciphers, MACs and KexAlgorithms only from the allowed lists and none weak; "
        f"MaxAuthTries <= {p['max_auth_tries']}; PermitEmptyPasswords no"
        + ("" if p["password_authentication"] else "; PasswordAuthentication no, KbdInteractiveAuthentication no")
    )
    conf = sshd_config(ctx)
    if conf is None:
        return Verdict("not_applicable", expected, "no SSH server installed", [f"{SSHD}: sshd not installed"])
    problems, evidence = [], []
    for keyword, label, param in (
        ("ciphers", "Ciphers", "ciphers"),
        ("macs", "MACs", "macs"),
        ("kexalgorithms", "KexAlgorithms", "kex"),
    ):
        names = [n for n in conf.get(keyword, "").split(",") if n]
        evidence.append(f"{SSHD}: {keyword} {','.join(names)}")
        if not names:
            problems.append(f"{label} not shown by sshd -T")
            continue
        bad = [n for n in names if weak(n)]
        other = [n for n in names if n not in p[param] and n not in bad]
        if bad:
            problems.append(f"{label} weak: {', '.join(bad)}")
        if other:
            problems.append(f"{label} not in the allowed list: {', '.join(other)}")
    if "1" in conf.get("protocol", "2").split(","):
        problems.append(f"Protocol {conf['protocol']}")
    tries = int(conf.get("maxauthtries", "6"))
    if tries > p["max_auth_tries"]:
        problems.append(f"MaxAuthTries {tries}")
    empty = conf.get("permitemptypasswords", "no")
    if empty != "no":
        problems.append(f"PermitEmptyPasswords {empty}")
    password = conf.get("passwordauthentication", "yes")
    kbd = conf.get("kbdinteractiveauthentication", conf.get("challengeresponseauthentication", "yes"))
    if not p["password_authentication"]:
        if password != "no":
            problems.append(f"PasswordAuthentication {password} (keys only required)")
        if kbd != "no":
            problems.append(f"KbdInteractiveAuthentication {kbd} (keys only required)")
    evidence.append(
        f"{SSHD}: maxauthtries {tries}, permitemptypasswords {empty}, passwordauthentication {password}, "
        f"kbdinteractiveauthentication {kbd}"
    )
    ok = f"allowed algorithms only; MaxAuthTries {tries}; PasswordAuthentication {password}; PermitEmptyPasswords no"
    return verdict(problems, expected, ok, evidence)


@check("REMOTE-MINIMAL", "linux", files=("/etc/issue", "/etc/issue.net"), commands=("sshd -T",))
def remote_minimal(ctx: Ctx) -> Verdict:
    approved = list(ctx.params["allow_groups"])
    expected = (
        (
            "sshd AllowGroups set, only of: "
            + (", ".join(approved) or "(none decided: lgsec_remote_minimal_allow_groups)")
        )
        + "; PermitRootLogin no; X11Forwarding no; "
        + options_text(ctx.params["sshd_options"])
    )
    expected += "; the union's warning in sshd Banner and /etc/issue" if ctx.params["banner"].strip() else ""
    conf = sshd_config(ctx)
    if conf is None:
        return Verdict("not_applicable", expected, "no SSH server installed", [f"{SSHD}: sshd not installed"])
    groups = conf.get("allowgroups", "").split()
    root, x11 = conf.get("permitrootlogin", ""), conf.get("x11forwarding", "no")
    evidence = [f"{SSHD}: allowgroups {' '.join(groups) or '(unset)'}"]
    if conf.get("allowusers"):
        evidence.append(f"{SSHD}: allowusers {conf['allowusers']}")
    evidence.append(f"{SSHD}: permitrootlogin {root}, x11forwarding {x11}")
    problems = []
    if not approved:
        problems.append("no approved remote-login groups decided (lgsec_remote_minimal_allow_groups is empty)")
    if not groups:
        problems.append("AllowGroups not set: every account with a password or key may log in")
    else:
        extra = [g for g in groups if g not in approved]
        if extra and approved:
            problems.append(f"AllowGroups has unapproved {', '.join(extra)}")
    if root != "no":
        problems.append(f"PermitRootLogin {root}")
    if x11 != "no":
        problems.append(f"X11Forwarding {x11}")
    options = sshd_options(conf, ctx.params["sshd_options"], problems, evidence)
    banner(ctx, conf, ctx.params["banner"], problems, evidence)
    ok = f"AllowGroups {' '.join(groups)}; PermitRootLogin no; X11Forwarding no; {options}"
    return verdict(problems, expected, ok, evidence)


def sshd_options(conf: dict[str, str], wanted: dict, problems: list[str], evidence: list[str]) -> str:
    """REMOTE-MINIMAL's further keywords on `sshd -T` (lower-case keys): a number is a maximum
    of at least 1 (LoginGraceTime 0 = no limit), anything else is matched case-insensitively."""
    for key, want in wanted.items():
        got = conf.get(key.lower())
        evidence.append(f"{SSHD}: {key.lower()} {got if got is not None else '(not printed)'}")
        if isinstance(want, int) and not isinstance(want, bool):
            if got is None or not got.isdigit() or not 1 <= int(got) <= want:
                problems.append(f"{key} {got if got is not None else 'unset'} (wants 1 to {want})")
        elif got is None or got.lower() != str(want).lower():
            problems.append(f"{key} {got if got is not None else 'unset'} (wants {want})")
    return options_text(wanted)


def banner(ctx: Ctx, conf: dict[str, str], text: str, problems: list[str], evidence: list[str]) -> None:
    """The union's warning (第71条) in sshd's Banner file and the console's /etc/issue, compared with
    runs of white space as one; a Banner file lgsec does not read is an error, never a pass."""
    want = " ".join(text.split())
    if not want:
        evidence.append("no login banner required (lgsec_remote_minimal_banner is empty)")
        return
    path = conf.get("banner", "none")
    evidence.append(f"{SSHD}: banner {path}")
    if path == "none":
        problems.append("sshd Banner none (no warning before login)")
    for name in dict.fromkeys([p for p in (path, ISSUE, BANNER_FILE) if p != "none"]):
        body = ctx.file(name, required=False)
        if body is None or want not in " ".join(body.split()):
            problems.append(f"{name} does not carry the union's warning" + (" (absent)" if body is None else ""))
        else:
            evidence.append(f"{name}: the union's warning")


def options_text(wanted: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in wanted.items())


# ---- KERNEL-NET --------------------------------------------------------------------------------


@check(
    "KERNEL-NET",
    "linux",
    files=(
        "/etc/sysctl.conf",
        "/etc/sysctl.d/*.conf",
        "/run/sysctl.d/*.conf",
        "/usr/local/lib/sysctl.d/*.conf",
        "/usr/lib/sysctl.d/*.conf",
        "/etc/modprobe.d/*.conf",
        "/run/modprobe.d/*.conf",
        "/usr/local/lib/modprobe.d/*.conf",
        "/lib/modprobe.d/*.conf",
        "/usr/lib/modprobe.d/*.conf",
        "/proc/sys/net/ipv4/*",
        "/proc/sys/net/ipv6/*",
    ),
    commands=("findmnt /proc/sys/net",),
)
def kernel_net(ctx: Ctx) -> Verdict:
    forward = int(ctx.params["forwarding"])  # IP forwarding only on a router (roles/network_access writes the same)
    sysctls = {**ctx.params["sysctls"], **dict.fromkeys(FORWARDING, forward)}
    wanted = {k: " ".join(str(v).split()) for k, v in sysctls.items()}
    protocols = ctx.params["blocked_protocols"]
    expected = (
        "in the sysctl files and the running kernel: "
        + ", ".join(f"{k} = {v}" for k, v in wanted.items())
        + (f"; protocols never loaded (modprobe.d install /bin/false): {', '.join(protocols)}" if protocols else "")
    )
    effective = sysctl_effective(sysctl_files(ctx), list(wanted))
    files, missing, errors = (ctx.facts.get(k, d) for k, d in (("files", {}), ("missing", []), ("errors", {})))
    problems, evidence, unread = [], [], []
    for key, want in wanted.items():
        setting = effective.get(key)
        if setting is None:
            problems.append(f"{key} not set in the sysctl files")
        else:
            evidence.append(f"{setting.where}: {key} = {setting.value}")
            if setting.value != want:
                problems.append(f"{key} = {setting.value} ({setting.where})")
        proc = "/proc/sys/" + key.replace(".", "/")
        if proc in files:
            live = " ".join(files[proc].split())
            evidence.append(f"{proc}: {live}")
            if live != want:
                problems.append(f"{key} running value {live}")
        elif proc in errors:
            unread.append(f"{key} ({errors[proc]})")
        elif proc in missing:
            unread.append(f"{key} (not in this kernel)")
        else:
            unread.append(f"{key} (outside the set lgsec reads)")
    if unread:
        evidence.append("running value not judged for: " + ", ".join(unread))
    if any("running value" in p for p in problems) and proc_sys_readonly(ctx):
        evidence.append(
            f"{PROC_SYS_MOUNT}: /proc/sys is read-only here (a container): its running net values are set "
            "by the container engine, not by this host's sysctl files"
        )
    blocked = linux_desk.modprobe_blocks(ctx, problems, evidence, protocols)
    ok = f"{len(wanted)} settings in the files and the running kernel"
    if protocols:
        ok += f"; {', '.join(blocked)} blocked (modprobe.d)"
    return verdict(problems, expected, ok, evidence)


# ---- WEB-TAMPER --------------------------------------------------------------------------------


def aide_selections(text: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]], dict[str, parse.Setting]]:
    """AIDE config: watched paths (regex prefixes unescaped), excluded paths, and settings."""
    watched, excluded, settings = [], [], {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("@@"):
            continue
        if line[0] in "/=!":
            # "/re" watches a tree, "!re" excludes one, "=re" watches one entry only (not a tree)
            regex = line[1:].split()[0] if line[0] in "=!" else line.split()[0]
            path = re.sub(r"\\(.)", r"\1", regex).rstrip("$")
            if line[0] != "=":
                (excluded if line[0] == "!" else watched).append((path, number))
        elif "=" in line:
            key, _, value = line.partition("=")
            settings[key.strip()] = parse.Setting(value.strip(), AIDE_CONF, number)
    return watched, excluded, settings


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def aide_distribution(ctx: Ctx, paths: list[str], mtimes: dict[str, float]) -> tuple[list[str], list[str]]:
    """Debian's own AIDE: its configuration includes aide.conf.d, where lgsec's rules watch the
    web roots, and its database was initialised after them. (problems, evidence)"""
    if linux_software.family(ctx) != "debian":
        return [], ["the distribution's AIDE configuration is judged on Debian only (RHEL family: code only)"]
    problems, evidence = [], []
    conf = ctx.file(AIDE_DISTRO_CONF, required=False)
    if conf is None:
        problems.append(f"no distribution AIDE configuration {AIDE_DISTRO_CONF} (aide-common not installed)")
        evidence.append(f"{AIDE_DISTRO_CONF}: not present")
        return problems, evidence
    include = re.compile(rf"^\s*@@(?:x_)?include\s+{re.escape(AIDE_DISTRO_DIR)}/?(\s|$)")
    lines = [n for n, line in enumerate(conf.splitlines(), 1) if include.match(line)]
    if lines:
        evidence.append(f"{AIDE_DISTRO_CONF}:{lines[-1]}: includes {AIDE_DISTRO_DIR}")
    else:
        problems.append(f"{AIDE_DISTRO_CONF} does not include {AIDE_DISTRO_DIR}")
    rules = ctx.file(AIDE_DISTRO_RULES, required=False)
    watched, excluded, _ = aide_selections(rules or "")
    for path in paths:
        cover = [(w, n) for w, n in watched if _under(path, w)]
        cut = [(x, n) for x, n in excluded if _under(path, x)]
        if rules is None or not cover or cut:
            problems.append(f"{path} not in the distribution's AIDE configuration ({AIDE_DISTRO_RULES})")
        else:
            evidence.append(f"{AIDE_DISTRO_RULES}:{cover[0][1]}: watches {cover[0][0]} (covers {path})")
    evidence.append(f"{AIDE_DISTRO_DIR}: only {AIDE_DISTRO_RULES} read (the other rule files are the package's)")
    if AIDE_DISTRO_DB not in mtimes:
        problems.append(f"no distribution AIDE database {AIDE_DISTRO_DB} (never initialised)")
        evidence.append(f"{AIDE_FILES}: {AIDE_DISTRO_DB} absent")
    elif AIDE_DISTRO_RULES in mtimes and mtimes[AIDE_DISTRO_DB] < mtimes[AIDE_DISTRO_RULES]:
        db, rules_at = mtimes[AIDE_DISTRO_DB], mtimes[AIDE_DISTRO_RULES]
        problems.append(f"database {AIDE_DISTRO_DB} older than {AIDE_DISTRO_RULES} (web roots added, not renewed)")
        evidence.append(f"{AIDE_FILES}: {AIDE_DISTRO_DB} mtime {db:.0f} < {rules_at:.0f}")
    else:
        evidence.append(f"{AIDE_FILES}: {AIDE_DISTRO_DB} mtime {mtimes[AIDE_DISTRO_DB]:.0f}")
    return problems, evidence


def exec_argv(value: str) -> str:
    """The command line of one Exec* value of systemctl show ({ path=… ; argv[]=… ; …})."""
    match = re.search(r"\bpath=(\S*) ; argv\[\]=(.*?) ; ignore_errors=", value)
    return match.group(2) if match and match.group(2).split(" ", 1)[0] == match.group(1) else value


def aide_check_job(ctx: Ctx, db_path: str) -> tuple[list[str], list[str]]:
    """What the timer really runs: the service it starts (systemd's own view: drop-ins, the loaded
    state), the one command of that service, the check script as the role writes it (text, owner,
    mode), and the defaults file the script sources. (problems, evidence)"""
    problems, evidence = [], []
    units = systemctl_blocks((ctx.command(AIDE_UNITS) or {}).get("stdout", ""))
    timer, service = units.get(AIDE_TIMER_UNIT), units.get(AIDE_SERVICE_UNIT)
    if timer is None or service is None:
        raise Unreadable(f"{AIDE_UNITS}: no {AIDE_TIMER_UNIT if timer is None else AIDE_SERVICE_UNIT} in its output")
    for unit, props in ((AIDE_TIMER_UNIT, timer), (AIDE_SERVICE_UNIT, service)):
        state, dropins = props.get("LoadState", [""])[0], " ".join(props.get("DropInPaths", [])).split()
        if state != "loaded":
            problems.append(f"{unit} {state or 'not loaded'}")
        if dropins:
            problems.append(f"{unit} changed by drop-ins the role does not write: {', '.join(dropins)}")
        if props.get("NeedDaemonReload", ["no"])[0] != "no":
            problems.append(f"{unit} changed on disk since systemd loaded it (daemon-reload pending)")
        evidence.append(f"{AIDE_UNITS}: {unit} {state}, from {props.get('FragmentPath', [''])[0] or 'no file'}")
    started = timer.get("Unit", [""])[0]
    evidence.append(f"{AIDE_UNITS}: {AIDE_TIMER_UNIT} starts {started or 'nothing'}")
    if started != AIDE_SERVICE_UNIT:
        problems.append(f"{AIDE_TIMER_UNIT} starts {started or 'nothing'}, not {AIDE_SERVICE_UNIT}")
    steps = ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost")
    runs = [exec_argv(v) for key in steps for v in service.get(key, []) if v]
    evidence += [f"{AIDE_UNITS}: {AIDE_SERVICE_UNIT} runs {cmd}" for cmd in runs]
    if runs != [AIDE_EXEC]:
        problems.append(f"{AIDE_SERVICE_UNIT} runs {'; '.join(runs) or 'nothing'}, not {AIDE_EXEC} alone")
    script = ctx.file(AIDE_SCRIPT, required=False)
    if script is None:
        problems.append(f"no check script {AIDE_SCRIPT}")
    elif script != AIDE_SCRIPT_SOURCE.read_text(encoding="utf-8"):
        problems.append(f"{AIDE_SCRIPT} differs from the script roles/web_integrity installs")
    else:
        evidence.append(f"{AIDE_SCRIPT}: the script roles/web_integrity installs")
    found = (ctx.command(AIDE_SCRIPT_MODE) or {}).get("stdout", "").rstrip("\n").split("\t")
    if script is not None and len(found) == 4 and re.fullmatch(r"[0-7]{3,4}", found[1]):
        _, mode, owner, group = found
        evidence.append(f"{AIDE_SCRIPT_MODE}: {AIDE_SCRIPT} mode {mode} {owner}:{group}")
        if owner != "root" or group != "root" or int(mode, 8) & 0o022 or not int(mode, 8) & 0o100:
            problems.append(f"{AIDE_SCRIPT} mode {mode} {owner}:{group}, not root's alone to change and run")
    elif script is not None:
        raise Unreadable(f"{AIDE_SCRIPT_MODE}: {AIDE_SCRIPT} not listed with its mode, owner and group")
    defaults = ctx.file(AIDE_DEFAULTS, required=False) or ""
    for number, line in enumerate(defaults.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#") and not AIDE_DEFAULTS_LINE.match(line):
            problems.append(f"{AIDE_DEFAULTS}:{number}: not a plain CONFIG, DATABASE or MAILTO (the script sources it)")
    values = parse.settings(defaults, AIDE_DEFAULTS, style="shell")
    for key, want in (("CONFIG", AIDE_CONF), ("DATABASE", db_path)):
        if key in values and values[key].value != want:
            problems.append(f"{values[key].where}: the script checks {key}={values[key].value}, not {want}")
    return problems, evidence


@check(
    "WEB-TAMPER",
    "linux",
    files=(
        "/etc/os-release",
        "/etc/aide/lgsec-web.conf",
        "/etc/aide/aide.conf",
        "/etc/aide/aide.conf.d/99_lgsec_web",
        "/etc/default/lgsec-web-aide",
        "/etc/systemd/system/lgsec-web-aide.timer",
        AIDE_SCRIPT,
    ),
    commands=(
        "dpkg-query -W",
        "rpm -qa",
        "find lgsec-web aide files",
        "enabled unit files",
        AIDE_UNITS,
        AIDE_SCRIPT_MODE,
    ),
)
def web_tamper(ctx: Ctx) -> Verdict:
    paths, schedule, mail_to = (ctx.params[k] for k in ("paths", "schedule", "mail_to"))
    expected = (
        f"AIDE baseline of {', '.join(paths) or '(no web root)'} ({AIDE_CONF}), database newer than its "
        f"configuration, {AIDE_TIMER_UNIT} enabled ({schedule}), reports to {', '.join(mail_to) or 'the journal'}; "
        f"the distribution's AIDE ({AIDE_DISTRO_CONF}) watches them too, its database {AIDE_DISTRO_DB} initialised; "
        f"the timer starts {AIDE_SERVICE_UNIT}, which runs {AIDE_EXEC} alone, the script as the role installs it"
    )
    if not paths:
        return Verdict("not_applicable", expected, "no web root declared for this host", ["lgsec_web_tamper_paths: []"])
    problems, evidence = [], []
    packages, source = installed_packages(ctx)
    if "aide" not in packages:
        problems.append("aide not installed")
        evidence.append(f"{source}: aide not installed")
    conf = ctx.file(AIDE_CONF, required=False)
    if conf is None:
        problems.append(f"no AIDE configuration for the web roots ({AIDE_CONF})")
        evidence.append(f"{AIDE_CONF}: not present")
        db_path = AIDE_DB
    else:
        watched, excluded, settings = aide_selections(conf)
        db_setting = settings.get("database_in") or settings.get("database")
        db_path = db_setting.value.removeprefix("file:") if db_setting else AIDE_DB
        for path in paths:
            cover = [(w, n) for w, n in watched if _under(path, w)]
            cut = [(x, n) for x, n in excluded if _under(path, x)]
            if not cover or cut:
                problems.append(f"{path} not watched" + (f" (excluded at {AIDE_CONF}:{cut[0][1]})" if cut else ""))
            else:
                evidence.append(f"{AIDE_CONF}:{cover[0][1]}: watches {cover[0][0]} (covers {path})")
    found = ctx.command(AIDE_FILES)
    mtimes = {}
    for line in (found or {}).get("stdout", "").splitlines():
        path, _, when = line.partition("\t")
        try:
            mtimes[path] = float(when)
        except ValueError:
            continue
    if db_path not in mtimes:
        problems.append(f"no AIDE database {db_path} (baseline never initialised)")
        evidence.append(f"{AIDE_FILES}: {db_path} absent")
    elif AIDE_CONF in mtimes and mtimes[db_path] < mtimes[AIDE_CONF]:
        problems.append(f"database {db_path} older than {AIDE_CONF} (configuration changed, baseline not renewed)")
        evidence.append(f"{AIDE_FILES}: {db_path} mtime {mtimes[db_path]:.0f} < {AIDE_CONF} {mtimes[AIDE_CONF]:.0f}")
    else:
        evidence.append(f"{AIDE_FILES}: {db_path} mtime {mtimes[db_path]:.0f}, newer than its configuration")
    distro_problems, distro_evidence = aide_distribution(ctx, paths, mtimes)
    problems += distro_problems
    evidence += distro_evidence
    job_problems, job_evidence = aide_check_job(ctx, db_path)
    problems += job_problems
    evidence += job_evidence
    if AIDE_TIMER_UNIT not in enabled_units(ctx):
        problems.append(f"{AIDE_TIMER_UNIT} not enabled (no scheduled check)")
        evidence.append(f"{UNITS}: {AIDE_TIMER_UNIT} not enabled")
    else:
        evidence.append(f"{UNITS}: {AIDE_TIMER_UNIT} enabled")
        timer = parse.settings(ctx.file(AIDE_TIMER), AIDE_TIMER)
        calendar = timer.get("OnCalendar")
        if calendar is None or calendar.value != schedule:
            problems.append(f"check runs {calendar.value if calendar else 'never'}, not {schedule}")
        if calendar is not None:
            evidence.append(f"{calendar.where}: OnCalendar={calendar.value}")
    defaults = parse.settings(ctx.file(AIDE_DEFAULTS, required=False) or "", AIDE_DEFAULTS, style="shell")
    mail = defaults.get("MAILTO")
    got = mail.value.split() if mail else []
    if mail is not None:
        evidence.append(f"{mail.where}: MAILTO={mail.value}")
    missing_to = [m for m in mail_to if m not in got]
    if missing_to:
        problems.append(f"changes not reported to {', '.join(missing_to)}")
    return verdict(problems, expected, f"{', '.join(paths)} watched, checked {schedule}", evidence)


# ---- NET-SNMP (第84条(2)) --------------------------------------------------------------------

SNMPD_CONF = "/etc/snmp/snmpd.conf"
SNMPD_DIR = "/etc/snmp/snmpd.conf.d/"
SNMPD_PACKAGES = ("snmpd", "net-snmp")  # Debian, RHEL
# snmpd.conf(5) directives that grant SNMPv1/v2c access by community, and the position of the
# community among their arguments (after com2sec's optional -Cn CONTEXT); the trap directives
# send with a community. The gather blanks every community but public/private (a secret).
SNMP_ACCESS = {"rocommunity": 0, "rwcommunity": 0, "rocommunity6": 0, "rwcommunity6": 0, "com2sec": 2, "com2sec6": 2}
SNMP_TRAPS = {"trapcommunity": 0, "trapsink": 1, "trap2sink": 1, "informsink": 1}
SNMP_DEFAULTS = ("public", "private")


def snmp_communities(path: str, text: str) -> list[tuple[str, str, str]]:
    """(where, directive, community) of every community directive in force in one file."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        directive = words[0].lower() if words else ""
        at = {**SNMP_ACCESS, **SNMP_TRAPS}.get(directive)
        if at is None:
            continue
        args = words[1:]
        at += 2 if args[:1] == ["-Cn"] else 0
        if len(args) > at:  # a trap sink without one uses trapcommunity, judged on its own line
            out.append((f"{path}:{number}", directive, args[at]))
    return out


@check(
    "NET-SNMP",
    "linux",
    files=("/etc/snmp/snmpd.conf", "/etc/snmp/snmpd.conf.d/*.conf"),
    commands=("dpkg-query -W", "rpm -qa"),
)
def net_snmp(ctx: Ctx) -> Verdict:
    v3_only = ctx.params["v3_only"]
    expected = "SNMPv3 only: no community directive" if v3_only else "no community named public or private"
    packages, source = installed_packages(ctx)
    agent = [f"{p} {packages[p]}" for p in SNMPD_PACKAGES if p in packages]
    files = {SNMPD_CONF: ctx.file(SNMPD_CONF, required=False), **ctx.files(SNMPD_DIR)}
    files = {p: t for p, t in files.items() if t is not None}
    if not agent and not files:
        return Verdict("pass", expected, "no SNMP agent installed", [f"{source}: no {' or '.join(SNMPD_PACKAGES)}"])
    evidence = [f"{source}: " + (", ".join(agent) or "no snmpd package, but its configuration is present")]
    problems = []
    for path in sorted(files):
        for where, directive, community in snmp_communities(path, files[path]):
            default = community.lower() in SNMP_DEFAULTS
            evidence.append(f"{where}: {directive} {community}")
            if default:
                problems.append(f"{where}: {directive} with the default community {community!r}")
            elif v3_only and directive in SNMP_ACCESS:
                problems.append(f"{where}: {directive} grants SNMPv1/v2c access")
    if len(evidence) == 1:
        evidence.append(f"{', '.join(sorted(files))}: no community directive")
    return verdict(problems, expected, "SNMPv3 only" if v3_only else "no default community", evidence)
