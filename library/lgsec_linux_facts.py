#!/usr/bin/python
# lgsec — gather, in one run, every fact the Linux controls need. Read-only.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_linux_facts
short_description: Read, in one run, every fact lgsec's Linux controls need
description:
  - Reads the configuration files, account databases and read-only command outputs that the
    lgsec catalog's Linux controls are judged on, and returns them as C(lgsec_facts).
  - Changes nothing on the host. The judging happens on the controller (lgsec.evaluate).
  - Files are returned as text with their path so every verdict can cite file and line.
    C(/etc/shadow) is parsed on the host and only the state of each password (set, empty,
    locked, none) and its dates leave the host, never a hash.
  - A file or command that cannot be read is reported under C(errors) with the reason, so
    the controls that need it are judged C(error), never C(pass).
version_added: "0.1.0"
author: lgsec
options:
  extra_files:
    description: More files to return as text (absolute paths), for site-specific controls.
    type: list
    elements: str
    default: []
  backup_units:
    description:
      - BACKUP-RECENT (section H) the host's declared backup job(s), systemd units (C(name.service),
        C(name.timer); a name without a suffix is a service). For each, C(systemctl show) of the
        service and of the timers that trigger it, and the journal's last successful start job of
        the service, are returned under C(commands). Only the units named here are queried.
    type: list
    elements: str
    default: []
  stamp_files:
    description:
      - BACKUP-RECENT (section H) files a backup job touches on success (absolute paths); their
        modification time is returned under C(commands) as C(stat PATH).
    type: list
    elements: str
    default: []
  mail:
    description:
      - The host is a mail server (C(lgsec_extra_platforms) names C(mail)); then it also reads section G and
        AV-GATEWAY's facts (area M below), Postfix's effective configuration through C(postconf),
        its alias maps as Postfix sees them (C(postalias -s)/C(postmap -s)) and users' C(.forward)
        files, returned under C(mail), C(commands) and C(files).
    type: bool
    default: false
notes:
  - Supports check mode; it never changes anything.
  - Root is needed to read /etc/shadow, sudoers and C(sshd -T); without it those facts are errors.
"""

EXAMPLES = r"""
- name: Gather lgsec facts
  lgsec_linux_facts:
  register: lgsec_gather

- name: Gather lgsec facts, with the host's declared backup job
  lgsec_linux_facts:
    backup_units: [backup-etc.service]
    stamp_files: [/var/backups/last-success]
  register: lgsec_gather
"""

RETURN = r"""
lgsec_facts:
  description: The facts, keyed by kind.
  returned: always
  type: dict
  contains:
    schema: {description: Format version of these facts, type: int}
    platform: {description: Always C(linux), type: str}
    os: {description: /etc/os-release as a dict, type: dict}
    collected_at: {description: Unix time on the host when read, type: int}
    files: {description: Path to text of every configuration file read, type: dict}
    missing: {description: Paths looked for and not present, type: list}
    shadow: {description: User to password state and dates (no hashes), type: dict}
    lastlog: {description: User to last login Unix time (absent = never), type: dict}
    commands: {description: Name to rc, stdout, stderr of read-only commands, type: dict}
    errors: {description: What could not be read, and why, type: dict}
    mail: {description: "Mail servers only: the homes searched for .forward files, the alias maps listed", type: dict}
"""

import glob
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

SCHEMA = 1
APT_SIMULATION = "apt-get -s dist-upgrade"  # SW-PATCHED on Debian
APT_CACHE = "/var/cache/apt/pkgcache.bin"

# PRIV-MEMBERS (第69条1): what grants privileged operations is root's alone.
PRIVILEGED_PATHS = "find privileged paths"
PRIVILEGED_FILES = (
    "/etc/crontab",
    *(f"/etc/cron.{d}" for d in ("d", "hourly", "daily", "weekly", "monthly")),
    "/etc/cron.allow",
    "/etc/at.allow",
    "/etc/ssh/sshd_config",
)

# What is read, by area of CONTROLS.md. Each area adds its own lines to its own block.
# Files returned as text (Debian and RHEL 9 family paths).
FILES = (
    # A. accounts and passwords
    "/etc/os-release",
    "/etc/passwd",
    "/etc/group",
    "/etc/login.defs",
    "/etc/default/useradd",
    "/etc/security/pwquality.conf",
    "/etc/security/pwhistory.conf",
    "/etc/security/faillock.conf",
    "/etc/pam.d/common-auth",
    "/etc/pam.d/common-account",
    "/etc/pam.d/common-password",
    "/etc/pam.d/system-auth",
    "/etc/pam.d/password-auth",
    "/etc/sudoers",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/bashrc",
    "/etc/pam.d/su",  # PRIV-MEMBERS: su limited to a group by pam_wheel (第69条1)
    *(f"/etc/{tool}.{kind}" for tool in ("cron", "at") for kind in ("allow", "deny")),  # PRIV-MEMBERS
    # B. desk and device
    "/etc/security/limits.conf",  # PW-NOSTORE: core dumps off (第70条)
    "/etc/systemd/coredump.conf",  # PW-NOSTORE: systemd-coredump keeps no dump
    "/etc/dconf/profile/user",
    "/etc/firefox/policies/policies.json",  # PW-NOSTORE: Firefox's system-wide enterprise policy
    "/etc/usbguard/rules.conf",
    "/etc/usbguard/usbguard-daemon.conf",
    # C. software (apt.conf.d: only these two files, others may hold proxy credentials)
    "/etc/apt/apt.conf.d/20auto-upgrades",
    "/etc/apt/apt.conf.d/50unattended-upgrades",
    "/etc/dnf/automatic.conf",
    # D. malware (ClamAV: Debian /etc/clamav, RHEL 9 family /etc/clamd.d; freshclam.conf is read
    # by read_clamav, which blanks a proxy password)
    "/etc/clamav/clamd.conf",
    "/etc/clamd.d/scan.conf",
    "/etc/cron.d/clamav-freshclam",
    # E. logs and time
    "/etc/systemd/journald.conf",
    "/etc/logrotate.conf",
    "/etc/rsyslog.conf",
    "/etc/chrony/chrony.conf",
    "/etc/chrony.conf",
    # F. network and remote access
    "/etc/snmp/snmpd.conf",  # NET-SNMP (secrets redacted, see redact_snmpd)
    "/etc/sysctl.conf",
    "/etc/issue",  # REMOTE-MINIMAL: the warning before login (console)
    "/etc/issue.net",  # and over the network (sshd Banner)
    "/etc/aide/lgsec-web.conf",
    "/etc/aide/aide.conf",  # WEB-TAMPER: the distribution's AIDE configuration (Debian aide-common)
    "/etc/aide/aide.conf.d/99_lgsec_web",  # roles/web_integrity's web roots in it
    "/etc/default/lgsec-web-aide",
    "/etc/systemd/system/lgsec-web-aide.timer",
    "/usr/local/sbin/lgsec-web-aide",  # WEB-TAMPER: the check script the timer's service runs
    # KERNEL-NET: running values of this network namespace, for a fixed set of net sysctls
    # (the catalog defaults and the usual hardening keys; others are judged on their files only)
    *(
        f"/proc/sys/net/ipv4/{key}"
        for key in ("tcp_syncookies", "icmp_echo_ignore_broadcasts", "icmp_ignore_bogus_error_responses", "ip_forward")
    ),
    *(
        f"/proc/sys/net/ipv4/conf/{scope}/{key}"
        for scope in ("all", "default")
        for key in ("rp_filter", "accept_redirects", "secure_redirects", "send_redirects", "accept_source_route")
    ),
    *(f"/proc/sys/net/ipv4/conf/{scope}/log_martians" for scope in ("all", "default")),
    *(
        f"/proc/sys/net/ipv6/conf/{scope}/{key}"
        for scope in ("all", "default")
        for key in ("accept_redirects", "accept_source_route", "accept_ra", "forwarding")
    ),
    # H. data at rest and backup
    "/etc/crypttab",
)
GLOBS = (
    # A. accounts and passwords
    "/etc/security/pwquality.conf.d/*.conf",
    "/etc/sudoers.d/*",
    "/etc/profile.d/*.sh",
    # B. desk and device
    "/etc/security/limits.d/*.conf",  # PW-NOSTORE: pam_limits reads them after limits.conf
    *(f"{d}/systemd/coredump.conf.d/*.conf" for d in ("/etc", "/run", "/usr/local/lib", "/usr/lib")),
    "/etc/dconf/db/local.d/*",
    "/etc/dconf/db/local.d/locks/*",
    "/etc/chromium/policies/managed/*.json",  # PW-NOSTORE: Chromium (Debian) managed policies
    "/etc/opt/chrome/policies/managed/*.json",  # PW-NOSTORE: Google Chrome managed policies
    "/etc/modprobe.d/*.conf",
    "/run/modprobe.d/*.conf",
    "/usr/local/lib/modprobe.d/*.conf",
    "/lib/modprobe.d/*.conf",
    "/usr/lib/modprobe.d/*.conf",
    "/etc/usbguard/rules.d/*.conf",
    "/sys/bus/usb/devices/usb*/idVendor",  # root hubs: the host has a USB controller
    # C. software
    # D. malware
    # E. logs and time
    "/usr/lib/systemd/journald.conf.d/*.conf",
    "/run/systemd/journald.conf.d/*.conf",
    "/etc/systemd/journald.conf.d/*.conf",
    "/etc/logrotate.d/*",
    "/etc/audit/rules.d/*.rules",
    "/etc/rsyslog.d/*.conf",
    "/etc/chrony/conf.d/*.conf",
    "/etc/chrony/sources.d/*.sources",
    "/run/chrony-dhcp/*.sources",
    # F. network and remote access
    "/etc/sysctl.d/*.conf",
    "/etc/snmp/snmpd.conf.d/*.conf",  # NET-SNMP (secrets redacted, see redact_snmpd)
    "/run/sysctl.d/*.conf",
    "/usr/local/lib/sysctl.d/*.conf",
    "/usr/lib/sysctl.d/*.conf",
    # H. data at rest and backup
)
# Read-only commands: name -> argv. A missing program is recorded, not an error.
COMMANDS = {
    # A. accounts and passwords
    "sshd -T": ["sshd", "-T"],
    # PRIV-MEMBERS (第69条1): mode, owner and group of the files that grant privileged operations
    # (a path that is not there is named on stderr: "No such file or directory")
    PRIVILEGED_PATHS: ["find", "-H", *PRIVILEGED_FILES, "-maxdepth", "0", "-printf", "%m\t%U\t%G\t%y\t%p\n"],
    # B. desk and device
    "systemctl show usbguard": [
        "systemctl",
        "show",
        "usbguard.service",
        "-p",
        "Id,LoadState,ActiveState,SubState,UnitFileState",
    ],
    # dconf: the system database local, its keyfiles and the desktop's dconf backend, with mtimes
    "find /etc/dconf": [
        "find",
        *(d for d in ("/etc/dconf", "/usr/lib", "/usr/lib64") if os.path.isdir(d)),
        "-maxdepth",
        "4",
        "(",
        "-path",
        "/etc/dconf/*",
        "-o",
        "-name",
        "libdconfsettings.so",
        ")",
        "-printf",
        "%T@ %y %p\n",
    ],
    # C. software (package lists: "dpkg-query -W" / "rpm -qa" of F below). Pending updates from
    # the host's own package lists, never refreshed here; no binary cache is written.
    APT_SIMULATION: [
        "apt-get",
        "-s",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        "Dir::Cache::pkgcache=",
        "-o",
        "Dir::Cache::srcpkgcache=",
        "dist-upgrade",
    ],
    "apt-config dump": ["apt-config", "dump", "APT::Periodic", "Unattended-Upgrade"],
    "apt lists and periodic times": [
        "find",
        "/var/lib/apt",
        "-maxdepth",
        "2",
        "(",
        "-path",
        "/var/lib/apt/lists/*Release",
        "-o",
        "-path",
        "/var/lib/apt/periodic/*",
        ")",
        "-printf",
        "%T@\t%p\n",
    ],
    "dnf updateinfo list --security": ["dnf", "-q", "-C", "updateinfo", "list", "--security"],
    "dnf metadata times": ["find", "/var/cache/dnf", "-maxdepth", "3", "-name", "repomd.xml", "-printf", "%T@\t%p\n"],
    # D. malware: the ClamAV daemon (Debian clamav-daemon, RHEL clamd@scan), freshclam, lgsec's full scan.
    # TZ=UTC: --timestamp=unix leaves LastTriggerUSec in local time, whose zone name may be ambiguous.
    "systemctl show clamav": [
        "env",
        "TZ=UTC",
        "systemctl",
        "show",
        "--timestamp=unix",
        "-p",
        "Id,LoadState,ActiveState,SubState,UnitFileState,Result,ExecMainStatus,ExecMainStartTimestamp,"
        "ExecMainExitTimestamp,ExecStart,TimersCalendar,LastTriggerUSec,NextElapseUSecRealtime",
        "clamav-daemon.service",
        "clamd@scan.service",
        "clamav-freshclam.service",
        "lgsec-clamscan.timer",
        "lgsec-clamscan.service",
    ],
    # E. logs and time
    "journal directories": ["find", "/var/log", "-maxdepth", "2", "-path", "/var/log/journal*", "-type", "d"],
    "systemctl is-enabled auditd": ["systemctl", "is-enabled", "auditd.service"],
    "systemctl is-active auditd": ["systemctl", "is-active", "auditd.service"],
    "auditctl -l": ["auditctl", "-l"],
    # LOG-AUDIT: process accounting (Debian acct, RHEL psacct) and whether this host is a container
    "systemctl show acct": [
        "systemctl",
        "show",
        "-p",
        "Id,LoadState,ActiveState,SubState,UnitFileState,Result,ExecMainStatus,ConditionResult",
        "acct.service",
        "psacct.service",
    ],
    "systemd-detect-virt --container": ["systemd-detect-virt", "--container"],
    "systemctl is-active rsyslog": ["systemctl", "is-active", "rsyslog.service"],
    "chronyc -c -N sources": ["chronyc", "-c", "-N", "sources"],
    "chronyc -n tracking": ["chronyc", "-n", "tracking"],
    # F. network and remote access
    "nft -j list ruleset": ["nft", "-j", "list", "ruleset"],
    "ss -H -tulpn": ["ss", "-H", "-tulpn"],
    "dpkg-query -W": ["dpkg-query", "-W", "-f=${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"],
    "rpm -qa": ["rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n"],
    "findmnt /proc/sys/net": ["findmnt", "-n", "-o", "TARGET,OPTIONS", "--target", "/proc/sys/net"],
    "find lgsec-web aide files": [
        "find",
        "/etc",
        "/var/lib",
        "-maxdepth",
        "3",
        "(",
        "-path",
        "*/aide/lgsec-web*",
        "-o",
        "-path",
        "/var/lib/aide/aide.db",
        "-o",
        "-path",
        "/etc/aide/aide.conf.d/99_lgsec_web",
        ")",
        "-printf",
        "%p\t%T@\n",
    ],
    # WEB-TAMPER: the service the timer starts and what it runs, as systemd loaded them (drop-ins
    # included), and the check script's mode and owner
    "systemctl show lgsec-web-aide units": [
        "systemctl",
        "show",
        "lgsec-web-aide.timer",
        "lgsec-web-aide.service",
        "-p",
        "Id,LoadState,Unit,FragmentPath,DropInPaths,NeedDaemonReload,ExecCondition,ExecStartPre,ExecStart,ExecStartPost",
    ],
    "find lgsec-web-aide script": [
        "find",
        "/usr/local/sbin",
        "-maxdepth",
        "1",
        "-name",
        "lgsec-web-aide",
        "-printf",
        "%p\t%m\t%u\t%g\n",
    ],
    # H. data at rest and backup
    "lsblk -J -p": ["lsblk", "-J", "-p", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINTS,RM,HOTPLUG"],
    "findmnt /": ["findmnt", "-J", "-o", "TARGET,SOURCE,FSTYPE", "/"],
}
MAX_FILE = 1024 * 1024
LASTLOG = "/var/log/lastlog"
LASTLOG2 = "/var/lib/lastlog/lastlog2.db"
LASTLOG_RECORD = struct.Struct("=I32s256s")  # ll_time, ll_line, ll_host (glibc, 64-bit hosts)


def read_text(path, facts):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE + 1)
    except FileNotFoundError:
        facts["missing"].append(path)
        return
    except OSError as exc:
        facts["errors"][path] = exc.strerror or str(exc)
        return
    if len(data) > MAX_FILE:
        facts["errors"][path] = "larger than 1 MiB, not read"
        return
    facts["files"][path] = data.decode("utf-8", errors="replace")


# Community strings and SNMPv3 pass phrases are secrets: they never leave the host. The
# well-known defaults (public, private) are kept, since finding them is NET-SNMP's point.
SNMP_DEFAULT_COMMUNITIES = {"public", "private"}
SNMP_COMMUNITY_ARG = {  # directive → index of its community argument (options like -V … are skipped)
    "rocommunity": 0,
    "rwcommunity": 0,
    "rocommunity6": 0,
    "rwcommunity6": 0,
    "trapcommunity": 0,
    "trapsink": 1,
    "trap2sink": 1,
    "informsink": 1,
    "com2sec": 2,
    "com2sec6": 2,
}
SECRET = "<redacted>"


def redact_snmpd(text):
    """snmpd.conf(5) with every community but public/private, createUser's pass phrases and the
    comments replaced (by <redacted>, and # for a comment)."""
    out = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        directive = words[0].lower() if words else ""
        if line.lstrip().startswith("#"):
            line = "#"  # a comment may hold an old community: only its line number is kept
        elif directive == "createuser":
            line = " ".join(words[:2] + [SECRET] * bool(words[2:]))
        elif directive in SNMP_COMMUNITY_ARG:
            args = words[1:]
            at = SNMP_COMMUNITY_ARG[directive] + (2 if args[:1] == ["-Cn"] else 0)
            if len(args) > at and args[at].lower() not in SNMP_DEFAULT_COMMUNITIES:
                args[at] = SECRET
            line = " ".join([words[0], *args])
        out.append(line)
    return "\n".join(out) + "\n"


# rsyslog actions may carry credentials (ommysql, omelasticsearch …): their values are blanked.
RSYSLOG_SECRET = re.compile(r'\b((?:pwd|password|passwd)\s*=\s*)"[^"]*"', re.IGNORECASE)


def redact_rsyslog(text):
    return RSYSLOG_SECRET.sub(r'\1"<redacted>"', text)


REDACT = (("/etc/snmp/snmpd.conf", redact_snmpd), ("/etc/rsyslog.", redact_rsyslog))


def as_int(text):
    try:
        return int(text)
    except ValueError:
        return None


def read_shadow(facts, path="/etc/shadow"):
    """Password state per user. Hashes never leave this function."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        facts["errors"][path] = exc.strerror or str(exc)
        return
    shadow = {}
    for number, line in enumerate(lines, 1):
        fields = line.split(":")
        if len(fields) < 9 or line.startswith("#"):
            continue
        hashed = fields[1]
        if hashed == "":
            state = "empty"
        elif hashed.startswith("*"):
            state = "none"
        elif hashed.startswith("!"):
            # "!" before a hash locks a password; "!", "!!", "!*" mean none was ever set.
            state = "locked" if hashed.lstrip("!") not in ("", "*") else "none"
        else:
            state = "set"
        shadow[fields[0]] = {
            "line": number,
            "state": state,
            "last_change": as_int(fields[2]),
            "max_days": as_int(fields[4]),
            "inactive": as_int(fields[6]),
            "expire": as_int(fields[7]),
        }
    facts["shadow"] = shadow
    facts["shadow_source"] = path


def read_lastlog(facts):
    """Last login per user, from lastlog2 (Debian 13) or the binary /var/log/lastlog."""
    if os.path.exists(LASTLOG2):
        try:
            conn = sqlite3.connect(f"file:{LASTLOG2}?mode=ro", uri=True)
            try:
                rows = conn.execute("SELECT Name, Time FROM Lastlog2").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            facts["errors"][LASTLOG2] = str(exc)
            return
        facts["lastlog"] = {name: int(when) for name, when in rows if when}
        facts["lastlog_source"] = LASTLOG2
        return
    uids = {}
    for line in facts["files"].get("/etc/passwd", "").splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2].isdigit():
            uids.setdefault(int(fields[2]), fields[0])
    lastlog = {}
    if os.path.exists(LASTLOG):
        try:
            with open(LASTLOG, "rb") as handle:
                for uid, name in uids.items():
                    handle.seek(uid * LASTLOG_RECORD.size)
                    record = handle.read(LASTLOG_RECORD.size)
                    if len(record) == LASTLOG_RECORD.size:
                        when = LASTLOG_RECORD.unpack(record)[0]
                        if when:
                            lastlog[name] = when
        except OSError as exc:
            facts["errors"][LASTLOG] = exc.strerror or str(exc)
            return
        facts["lastlog_source"] = LASTLOG
    else:
        facts["lastlog_source"] = "none (no lastlog database on this host: no login recorded)"
    facts["lastlog"] = lastlog


def run_command(argv, env):
    """(result, error) of one read-only command."""
    program = shutil.which(argv[0], path=env["PATH"])
    if program is None:
        return {"rc": None, "stdout": "", "stderr": f"{argv[0]} is not installed"}, None
    try:
        proc = subprocess.run([program, *argv[1:]], capture_output=True, text=True, timeout=30, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr.strip()}, None


def run_commands(facts, commands=None):
    """The commands at once (they only read; the slowest, apt's simulation, sets the pace)."""
    env = dict(os.environ, LC_ALL="C", PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    commands = COMMANDS if commands is None else commands
    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(lambda argv: run_command(argv, env), commands.values()))
    for name, (result, error) in zip(commands, done):  # noqa: B905 (no strict= on RHEL 9's Python 3.9)
        if error is None:
            facts["commands"][name] = result
        else:
            facts["errors"][name] = error


def with_private_apt_cache(commands, folder):
    """apt-get -s reads apt's binary cache when it is current (half the time of building one from
    the lists) but writes a new one when it is not: it gets a private copy, so a rebuild goes to
    the copy and nothing under /var/cache/apt changes. Without a cache, none is written."""
    copy = os.path.join(folder, "pkgcache.bin")
    try:
        shutil.copyfile(APT_CACHE, copy)
    except OSError:
        return commands
    argv = [f"Dir::Cache::pkgcache={copy}" if a == "Dir::Cache::pkgcache=" else a for a in commands[APT_SIMULATION]]
    return {**commands, APT_SIMULATION: argv}


# H. data at rest and backup: BACKUP-RECENT reads only the job the host's variables declare.
UNIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.@\\-]*$")
SERVICE_PROPS = (
    "Id,LoadState,ActiveState,SubState,Type,Result,ExecMainStatus,ExecMainStartTimestamp,"
    "ExecMainExitTimestamp,TriggeredBy,UnitFileState"
)
TIMER_PROPS = "Id,LoadState,ActiveState,UnitFileState,Unit,Result,LastTriggerUSec,NextElapseUSecRealtime"


def unit_name(name):
    """A unit as the host's variables name it: no suffix means a service."""
    return name if name.rsplit(".", 1)[-1] in ("service", "timer") else f"{name}.service"


def systemctl_show(unit):
    props = TIMER_PROPS if unit.endswith(".timer") else SERVICE_PROPS
    return {f"systemctl show {unit}": ["systemctl", "show", unit, "-p", props, "--timestamp=unix"]}


def read_backup(facts, units=(), stamp_files=()):
    """systemctl show of each declared unit and of its timers (or its service), the journal's
    last successful start job of the service, and the mtime of each declared stamp file."""
    for declared in units:
        if not UNIT_RE.match(declared):
            facts["errors"][f"systemctl show {declared}"] = "not a systemd unit name"
            continue
        unit = unit_name(declared)
        run_commands(facts, systemctl_show(unit))
        result = facts["commands"].get(f"systemctl show {unit}") or {}
        shown = dict(line.partition("=")[::2] for line in result.get("stdout", "").splitlines())
        if unit.endswith(".timer"):
            service, related = shown.get("Unit", ""), [shown.get("Unit", "")]
        else:
            service, related = unit, shown.get("TriggeredBy", "").split()
        for other in related:
            if UNIT_RE.match(other) and other.endswith((".service", ".timer")):
                run_commands(facts, systemctl_show(other))
        if UNIT_RE.match(service) and service.endswith(".service"):
            matches = [f"UNIT={service}", "JOB_TYPE=start", "JOB_RESULT=done"]
            argv = ["journalctl", "--no-pager", "-q", "-o", "json", "--output-fields=JOB_RESULT", "-n", "1", *matches]
            run_commands(facts, {"journalctl " + " ".join(matches): argv})
    for path in stamp_files:
        if not os.path.isabs(path):
            facts["errors"][f"stat {path}"] = "not an absolute path"
            continue
        run_commands(facts, {f"stat {path}": ["stat", "--format=%Y", "--", path]})


# D. malware: ClamAV's signature databases are judged on their own headers, the first 512 bytes
# of each .cvd/.cld/.cud ("ClamAV-VDB:build time:version:signatures:…"), never read whole; other
# database files by size and mtime only. clamd is asked PING on its local socket only when systemd
# reports it active: connecting to the socket of a stopped clamd would start it (socket
# activation), and an audit changes nothing.
CLAMD_CONFS = ("/etc/clamav/clamd.conf", "/etc/clamd.d/scan.conf")
CLAMD_UNITS = ("clamav-daemon.service", "clamd@scan.service")
FRESHCLAM_CONFS = ("/etc/clamav/freshclam.conf", "/etc/freshclam.conf")
CLAMAV_DB_DIR = "/var/lib/clamav"
CLAMAV_CONTAINERS = (".cvd", ".cld", ".cud")
CLAMAV_HEADER = 512
CLAMAV_MAX_FILES = 500
PROXY_PASSWORD_RE = re.compile(r"^(\s*HTTPProxyPassword\s+)\S.*$", re.M)


def clamav_conf_value(text, key):
    """The last value of a clamd.conf / freshclam.conf keyword ("Keyword value" lines)."""
    value = None
    for line in text.splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2 and fields[0] == key:
            value = fields[1].strip()
    return value


def clamav_databases(directory):
    """One line per regular file of the database directory: name, size, mtime and, for a
    .cvd/.cld/.cud, its header (printable ASCII only)."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return {"rc": None, "stdout": "", "stderr": f"{directory}: no such directory"}
    except OSError as exc:
        return {"rc": 1, "stdout": "", "stderr": f"{directory}: {exc.strerror or exc}"}
    lines = [f"directory {directory}"]
    for name in names[:CLAMAV_MAX_FILES]:
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue  # removed while listing
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        shown = re.sub(r"\s", "?", name)  # one line, space-separated fields
        line = f"{shown} size={info.st_size} mtime={int(info.st_mtime)}"
        if name.endswith(CLAMAV_CONTAINERS):
            try:
                with open(path, "rb") as handle:
                    head = handle.read(CLAMAV_HEADER).decode("ascii", errors="replace")
            except OSError as exc:
                line += f" unreadable={exc.strerror or exc}"
            else:
                line += " header=" + "".join(c if c.isprintable() else "?" for c in head).rstrip()
        lines.append(line)
    if len(names) > CLAMAV_MAX_FILES:
        lines.append(f"truncated {len(names) - CLAMAV_MAX_FILES} more entries not listed")
    return {"rc": 0, "stdout": "\n".join(lines) + "\n", "stderr": ""}


def clamd_ping(conf, active):
    """clamd's answer to PING on its LocalSocket (2 s timeout), only when its unit is active."""
    path = clamav_conf_value(conf, "LocalSocket") if conf is not None else None
    if conf is None:
        return {"rc": None, "stdout": "", "stderr": "no clamd.conf: not asked"}
    if not path:
        return {"rc": None, "stdout": "", "stderr": "clamd.conf sets no LocalSocket: not asked"}
    if not active:
        return {"rc": None, "stdout": "", "stderr": "clamd is not active: not asked (the socket would start it)"}
    reply = b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2)
            conn.connect(path)
            conn.sendall(b"zPING\0")
            while not reply.endswith(b"\0") and len(reply) < 64:
                chunk = conn.recv(64)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        return {"rc": 1, "stdout": "", "stderr": f"{path}: {exc.strerror or exc}"}
    answer = reply.rstrip(b"\0").decode("ascii", errors="replace").strip()
    return {"rc": 0 if answer == "PONG" else 1, "stdout": f"{path}: {answer}", "stderr": ""}


def read_clamav(facts):
    """freshclam.conf (a proxy password blanked), the database listing and clamd's PING."""
    for path in FRESHCLAM_CONFS:
        read_text(path, facts)
        if path in facts["files"]:
            facts["files"][path] = PROXY_PASSWORD_RE.sub(r"\1(blanked by lgsec)", facts["files"][path])
    conf_path = next((p for p in CLAMD_CONFS if p in facts["files"]), None)
    conf = facts["files"][conf_path] if conf_path else None
    directory = clamav_conf_value(conf or "", "DatabaseDirectory") or CLAMAV_DB_DIR
    facts["commands"]["clamav databases"] = clamav_databases(directory)
    shown = facts["commands"].get("systemctl show clamav") or {}
    units, unit = {}, {}
    for line in [*shown.get("stdout", "").splitlines(), ""]:
        key, sep, value = line.partition("=")
        if sep:
            unit[key] = value
        elif unit:
            units[unit.get("Id", "")] = unit
            unit = {}
    active = any(units.get(u, {}).get("ActiveState") == "active" for u in CLAMD_UNITS)
    facts["commands"]["clamd PING"] = clamd_ping(conf, active)


# M. mail server (only with mail: true, hosts with lgsec_extra_platforms [mail]). Postfix's EFFECTIVE
# configuration: `postconf -x` of the parameters the checks judge (defaults included, $names
# expanded), master.cf services and their -o overrides; the alias maps as Postfix reads them
# (their database, not the source text); users' .forward files (addresses, not secrets).
POSTCONF_PARAMS = (
    # MAIL-NO-RELAY
    "mynetworks",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_sasl_auth_enable",
    "smtpd_sasl_type",
    "smtpd_sasl_path",
    # MAIL-SIZE-LIMIT, MAIL-MAILBOX-LIMIT
    "message_size_limit",
    "mailbox_size_limit",
    "mailbox_transport",
    "virtual_mailbox_domains",
    "virtual_mailbox_limit",
    "virtual_transport",
    # MAIL-RATE-LIMIT
    "anvil_rate_time_unit",
    "smtpd_client_connection_rate_limit",
    "smtpd_client_message_rate_limit",
    "smtpd_client_recipient_rate_limit",
    "smtpd_client_event_limit_exceptions",
    "smtpd_recipient_limit",
    # MAIL-NO-AUTOFORWARD
    "alias_maps",
    "virtual_alias_maps",
    "forward_path",
    "mydestination",
    "virtual_alias_domains",
    # MAIL-TLS
    "smtpd_tls_security_level",
    "smtpd_tls_cert_file",
    "smtpd_tls_key_file",
    "smtpd_tls_chain_files",
    "smtpd_tls_protocols",
    "smtpd_tls_mandatory_protocols",
    "smtp_tls_security_level",
    "smtp_tls_protocols",
    "smtp_tls_mandatory_protocols",
    # AV-GATEWAY
    "smtpd_milters",
    "non_smtpd_milters",
    "milter_default_action",
    "queue_directory",  # a chrooted smtpd's unix: milter path is relative to it
)
MAIL_COMMANDS = {
    "postconf -n": ["postconf", "-n"],
    "postconf -x": ["postconf", "-x", *POSTCONF_PARAMS],
    "postconf -M": ["postconf", "-M"],
    "postconf -P -x": ["postconf", "-P", "-x"],
    "systemctl show clamav-milter": [
        "systemctl",
        "show",
        "clamav-milter.service",
        "-p",
        "Id,LoadState,ActiveState,SubState,UnitFileState",
    ],
}
MAIL_FILES = ("/etc/clamav/clamav-milter.conf",)
LISTABLE_MAPS = ("hash", "lmdb", "cdb", "btree", "dbm")  # postalias/postmap -s list them


def postconf_values(stdout):
    """`name = value` lines of postconf into a dict."""
    values = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition(" =")
        if sep:
            values[name.strip()] = value.strip()
    return values


def read_mail(facts):
    """Section G and AV-GATEWAY: postconf, the alias maps' entries, users' .forward files."""
    for path in MAIL_FILES:
        read_text(path, facts)
    run_commands(facts, MAIL_COMMANDS)
    mail = facts["mail"] = {"alias_maps": [], "forward_homes": []}
    values = postconf_values((facts["commands"].get("postconf -x") or {}).get("stdout", ""))
    for param, tool in (("alias_maps", "postalias"), ("virtual_alias_maps", "postmap")):
        for table in re.split(r"[\s,]+", values.get(param, "")):
            table = table.removeprefix("proxy:")
            if not table:
                continue
            kind, _, _name = table.partition(":")
            if kind not in LISTABLE_MAPS:
                facts["errors"][f"{tool} -s {table}"] = f"{param}: a {kind} table is not listed by lgsec"
                continue
            run_commands(facts, {f"{tool} -s {table}": [tool, "-s", table]})
            mail["alias_maps"].append(f"{tool} -s {table}")
    for line in facts["files"].get("/etc/passwd", "").splitlines():
        fields = line.split(":")
        home = fields[5] if len(fields) >= 7 else ""
        if not home.startswith("/") or home == "/" or home in mail["forward_homes"] or not os.path.isdir(home):
            continue
        mail["forward_homes"].append(home)
        if not os.access(home, os.R_OK | os.X_OK):
            facts["errors"][home + "/.forward"] = "permission denied: cannot list the home directory"
            continue
        for path in sorted(glob.glob(os.path.join(glob.escape(home), ".forward*"))):
            if os.path.isfile(path):
                read_text(path, facts)


ENABLED_UNITS = "enabled unit files"
UNIT_ROOT = "/etc/systemd/system"
UNIT_TYPES = (".service", ".socket", ".timer")
WANTS_DIRS = (".wants", ".requires", ".upholds")


def raise_error(exc):
    raise exc


def read_enabled_units(facts, root=UNIT_ROOT):
    """The services, sockets and timers enabled on the host, read from the symlinks `systemctl
    enable` makes under /etc/systemd/system (<target>.wants/ and the like, and aliases) — what
    `systemctl list-unit-files --state=enabled` reports, without its cost (1.5–2.5 s a host, most of
    an audit). A template's instance counts for the template (getty@tty1 → getty@.service)."""
    if not os.path.isdir(root):
        facts["commands"][ENABLED_UNITS] = {
            "rc": None,
            "stdout": "",
            "stderr": f"{root}: no such directory (no systemd)",
        }
        return
    units, masked = set(), set()
    try:
        for folder, _dirs, names in os.walk(root, onerror=raise_error):
            wants = folder != root and folder.endswith(WANTS_DIRS)
            for name in names:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    continue
                target = os.readlink(path)
                if target == "/dev/null":  # masked: not enabled, whatever .wants links remain
                    masked.add(name)
                    continue
                # in a .wants folder the link is named after the unit; at the top it is an alias
                unit = name if wants else os.path.basename(target) if folder == root else None
                if unit and unit.endswith(UNIT_TYPES):
                    stem, at, rest = unit.partition("@")
                    units.add(f"{stem}@{rest[rest.rfind('.') :]}" if at else unit)
    except OSError as exc:
        facts["errors"][ENABLED_UNITS] = f"{exc.filename}: {exc.strerror}"
        return
    stdout = "".join(f"{unit} enabled\n" for unit in sorted(units - masked))
    facts["commands"][ENABLED_UNITS] = {"rc": 0, "stdout": stdout, "stderr": f"read from the symlinks under {root}"}


# What the readers above read beside FILES, GLOBS, COMMANDS and MAIL_*, by the names the facts
# give it; `*` stands for the host's own part (the backup job and stamp file its variables name,
# an alias table, a home directory). Every check declares the facts it reads, and these lists
# together are exactly the union of the declarations (tests/unit/test_declared_reads.py).
READERS = {
    "files": (*FRESHCLAM_CONFS, "/*/.forward*"),
    "commands": (
        ENABLED_UNITS,
        "clamav databases",
        "clamd PING",
        "systemctl show *.service",
        "systemctl show *.timer",
        "journalctl UNIT=*",
        "stat /*",
        "postalias -s *",
        "postmap -s *",
    ),
}


def gather(extra_files=(), backup_units=(), stamp_files=(), mail=False):
    facts = {
        "schema": SCHEMA,
        "platform": "linux",
        "collected_at": int(time.time()),
        "euid": os.geteuid(),
        "files": {},
        "missing": [],
        "commands": {},
        "errors": {},
    }
    for pattern in GLOBS:
        folder = os.path.dirname(pattern)
        if os.path.isdir(folder) and not os.access(folder, os.R_OK | os.X_OK):
            facts["errors"][folder + "/"] = "permission denied: cannot list the folder"
    paths = list(FILES) + sorted(p for pattern in GLOBS for p in glob.glob(pattern)) + list(extra_files)
    for path in paths:
        if os.path.isfile(path) or not os.path.exists(path):
            read_text(path, facts)
    for path, text in facts["files"].items():
        for prefix, redact in REDACT:
            if path.startswith(prefix):
                facts["files"][path] = redact(text)
    os_release = {}
    for line in facts["files"].get("/etc/os-release", "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            os_release[key.strip()] = value.strip().strip('"')
    facts["os"] = os_release
    read_shadow(facts)
    read_lastlog(facts)
    with tempfile.TemporaryDirectory(prefix="lgsec-gather-") as private:
        run_commands(facts, with_private_apt_cache(COMMANDS, private))
    read_enabled_units(facts)
    read_clamav(facts)
    read_backup(facts, backup_units, stamp_files)
    if mail:
        read_mail(facts)
    return facts


def main():
    module = AnsibleModule(
        argument_spec={
            "extra_files": {"type": "list", "elements": "str", "default": []},
            "backup_units": {"type": "list", "elements": "str", "default": []},
            "stamp_files": {"type": "list", "elements": "str", "default": []},
            "mail": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    facts = gather(params["extra_files"], params["backup_units"], params["stamp_files"], params["mail"])
    module.exit_json(changed=False, lgsec_facts=facts)


if __name__ == "__main__":
    main()
