"""Issue 17's additions to the Linux checks, attacked branch by branch on their fixture pairs:
the distribution's AIDE (WEB-TAMPER), forwarding and protocol modules (KERNEL-NET), sshd's
further keywords (REMOTE-MINIMAL), core dumps and umask (PW-NOSTORE), cron, at, su and the files
that grant them (PRIV-MEMBERS), process accounting (LOG-AUDIT). What could make each say pass
wrongly is fed to it here."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import FIXTURES, ROOT, load_base, load_fixture, status_of


def fixture(cid: str, kind: str) -> tuple[dict, dict]:
    facts, hostvars, _ = load_fixture(FIXTURES / cid / f"{kind}.yml")
    return facts, hostvars


# ---- WEB-TAMPER: the distribution's AIDE -------------------------------------------------------

FIND = "find lgsec-web aide files"


def test_distribution_database_never_initialised_fails(catalog):
    facts, hostvars = fixture("WEB-TAMPER", "pass")
    out = facts["commands"][FIND]
    out["stdout"] = "".join(line + "\n" for line in out["stdout"].splitlines() if "aide.db\t" not in line)
    row = status_of(catalog, facts, "WEB-TAMPER", hostvars)
    assert row["status"] == "fail" and "no distribution AIDE database /var/lib/aide/aide.db" in row["actual"]


def test_distribution_database_older_than_the_web_rules_fails(catalog):
    facts, hostvars = fixture("WEB-TAMPER", "pass")
    out = facts["commands"][FIND]
    out["stdout"] = re.sub(r"(/var/lib/aide/aide\.db\t)\S+", r"\g<1>1795639000.0", out["stdout"])
    row = status_of(catalog, facts, "WEB-TAMPER", hostvars)
    assert row["status"] == "fail" and "older than /etc/aide/aide.conf.d/99_lgsec_web" in row["actual"]


@pytest.mark.parametrize(
    ("rules", "why"),
    [
        (None, "rules file absent"),
        ("LgsecWeb = p+sha256\n/srv/www LgsecWeb\n", "another root only"),
        ("LgsecWeb = p+sha256\n/var/www LgsecWeb\n!/var/www\n", "excluded again"),
        ("# /var/www LgsecWeb\n", "commented out"),
    ],
)
def test_web_root_not_in_the_distribution_configuration_fails(catalog, rules, why):
    facts, hostvars = fixture("WEB-TAMPER", "pass")
    path = "/etc/aide/aide.conf.d/99_lgsec_web"
    if rules is None:
        del facts["files"][path]
        facts["missing"].append(path)
    else:
        facts["files"][path] = rules
    row = status_of(catalog, facts, "WEB-TAMPER", hostvars)
    assert row["status"] == "fail", why
    assert "/var/www not in the distribution's AIDE configuration" in row["actual"]


def test_distribution_configuration_that_drops_the_include_fails(catalog):
    facts, hostvars = fixture("WEB-TAMPER", "pass")
    conf = "/etc/aide/aide.conf"
    facts["files"][conf] = "\n".join(x for x in facts["files"][conf].splitlines() if "x_include /etc/aide" not in x)
    row = status_of(catalog, facts, "WEB-TAMPER", hostvars)
    assert row["status"] == "fail" and "does not include /etc/aide/aide.conf.d" in row["actual"]


def test_unreadable_distribution_configuration_is_an_error_never_a_pass(catalog):
    facts, hostvars = fixture("WEB-TAMPER", "pass")
    del facts["files"]["/etc/aide/aide.conf"]
    facts["errors"]["/etc/aide/aide.conf"] = "Permission denied"
    assert status_of(catalog, facts, "WEB-TAMPER", hostvars)["status"] == "error"


# ---- KERNEL-NET: forwarding, protocol modules --------------------------------------------------


def test_a_router_declares_forwarding_and_then_must_forward(catalog):
    facts, _ = fixture("KERNEL-NET", "pass")
    row = status_of(catalog, facts, "KERNEL-NET", {"lgsec_kernel_net_forwarding": True})
    assert row["status"] == "fail"
    assert "net.ipv4.ip_forward = 0 (/etc/sysctl.d/60-lgsec-net.conf" in row["actual"]


def test_forwarding_turned_on_by_a_later_file_fails(catalog):
    facts, _ = fixture("KERNEL-NET", "pass")
    facts["files"]["/etc/sysctl.d/99-router.conf"] = "net.ipv4.ip_forward=1\n"
    row = status_of(catalog, facts, "KERNEL-NET")
    assert row["status"] == "fail" and "net.ipv4.ip_forward = 1 (/etc/sysctl.d/99-router.conf" in row["actual"]


def test_a_protocol_only_blacklisted_still_loads(catalog):
    """blacklist stops loading by alias only: a socket(AF_TIPC) or `modprobe tipc` still loads it."""
    facts, _ = fixture("KERNEL-NET", "pass")
    path = "/etc/modprobe.d/lgsec-net-protocols.conf"
    facts["files"][path] = facts["files"][path].replace("install tipc /bin/false\n", "")
    row = status_of(catalog, facts, "KERNEL-NET")
    assert row["status"] == "fail" and "tipc can load" in row["actual"]
    assert status_of(catalog, facts, "KERNEL-NET", {"lgsec_kernel_net_blocked_protocols": ["dccp"]})["status"] == "pass"


# ---- REMOTE-MINIMAL: sshd's further keywords -------------------------------------------------


def sshd_t(facts: dict, **values: str) -> None:
    lines = facts["commands"]["sshd -T"]["stdout"].splitlines()
    for key, value in values.items():
        lines = [x for x in lines if x.split(" ", 1)[0] != key]
        if value is not None:
            lines.append(f"{key} {value}")
    facts["commands"]["sshd -T"]["stdout"] = "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"logingracetime": "0"}, "LoginGraceTime 0 (wants 1 to 60)"),  # 0 = no limit at all
        ({"maxsessions": "64"}, "MaxSessions 64 (wants 1 to 10)"),
        ({"loglevel": "INFO"}, "LogLevel INFO (wants VERBOSE)"),
        ({"allowtcpforwarding": "local"}, "AllowTcpForwarding local (wants no)"),
        ({"permittunnel": "point-to-point"}, "PermitTunnel point-to-point (wants no)"),
        ({"permituserenvironment": "LD_*"}, "PermitUserEnvironment LD_* (wants no)"),
        ({"ignorerhosts": None}, "IgnoreRhosts unset (wants yes)"),  # a keyword sshd -T did not print
    ],
)
def test_sshd_keyword_that_opens_remote_access_fails(catalog, values, named):
    facts, hostvars = fixture("REMOTE-MINIMAL", "pass")
    sshd_t(facts, **values)
    row = status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)
    assert row["status"] == "fail" and named in row["actual"]


def test_stricter_numbers_pass(catalog):
    facts, hostvars = fixture("REMOTE-MINIMAL", "pass")
    sshd_t(facts, logingracetime="30", maxsessions="2")
    assert status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)["status"] == "pass"


# ---- the recorded stock images fail each addition --------------------------------------------

STOCK_FAILS = {
    "WEB-TAMPER": "no distribution AIDE configuration /etc/aide/aide.conf",
    "KERNEL-NET": "dccp can load",
    "REMOTE-MINIMAL": "LogLevel INFO (wants VERBOSE)",
    "USB-STORAGE": "firewire_sbp2 can load",
    "PW-NOSTORE": "UMASK",
    "PRIV-MEMBERS": "su not limited to a group",
    "LOG-AUDIT": "process accounting not installed",
}


@pytest.mark.parametrize("base", ["base-debian12.json", "base-debian13.json"])
@pytest.mark.parametrize("cid", sorted(STOCK_FAILS))
def test_stock_debian_fails_what_issue_17_added(catalog, base, cid):
    row = status_of(catalog, load_base(base), cid)
    assert row["status"] == "fail" and STOCK_FAILS[cid] in row["actual"], row["actual"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"/etc/issue.net": "Debian GNU/Linux 12\n"}, "/etc/issue.net does not carry the union's warning"),
        ({"/etc/issue": "Debian GNU/Linux 12 \\n \\l\n"}, "/etc/issue does not carry the union's warning"),
        ({"/etc/issue.net": None}, "/etc/issue.net does not carry the union's warning (absent)"),
    ],
)
def test_login_banner_without_the_warning_fails(catalog, change, named):
    facts, hostvars = fixture("REMOTE-MINIMAL", "pass")
    for path, text in change.items():
        if text is None:
            del facts["files"][path]
            facts["missing"].append(path)
        else:
            facts["files"][path] = text
    row = status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)
    assert row["status"] == "fail" and named in row["actual"], row["actual"]


def test_a_banner_file_lgsec_does_not_read_is_an_error(catalog):
    facts, hostvars = fixture("REMOTE-MINIMAL", "pass")
    sshd_t(facts, banner="/etc/ssh/site-banner")
    assert status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)["status"] == "error"


def test_no_banner_required_when_the_site_sets_none(catalog):
    facts, hostvars = fixture("REMOTE-MINIMAL", "pass")
    sshd_t(facts, banner="none")
    assert status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)["status"] == "fail"
    hostvars = {**hostvars, "lgsec_remote_minimal_banner": ""}
    assert status_of(catalog, facts, "REMOTE-MINIMAL", hostvars)["status"] == "pass"


# ---- PW-NOSTORE: core dumps off, umask 027 (第70条, 第16条) ------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "named"),
    [
        # pam_limits: a later line of the same domain replaces an earlier one
        ("/etc/security/limits.d/zz-dev.conf", "*  hard  core  unlimited\n", "* hard core unlimited"),
        # a user's own line beats the wildcard (Debian 13 ships `root hard core infinity`)
        ("/etc/security/limits.d/zz-dev.conf", "root hard core infinity\n", "root hard core infinity"),
        ("/etc/security/limits.d/zz-dev.conf", "@devs - core unlimited\n", "@devs hard core unlimited"),
        ("/etc/security/limits.d/99-lgsec-coredump.conf", "# *  hard  core  0\n", "no `* hard core 0`"),
        ("/etc/sysctl.d/99-debug.conf", "fs.suid_dumpable=2\n", "fs.suid_dumpable = 2"),
        ("/etc/systemd/coredump.conf.d/zz-keep.conf", "[Coredump]\nStorage=external\n", "Storage=external"),
        ("/etc/profile.d/zz-site.sh", "umask 022\n", "shell umask 022"),
        ("/etc/profile.d/zz-site.sh", "umask u=rwx,g=rx,o=rx\n", "is not an octal lgsec can judge"),
        ("/etc/profile.d/lgsec-umask.sh", "# umask 027\n", "no umask in /etc/profile"),
    ],
)
def test_core_dumps_or_umask_reopened_fails(catalog, path, text, named):
    facts, _ = fixture("PW-NOSTORE", "pass")
    facts["files"][path] = text
    row = status_of(catalog, facts, "PW-NOSTORE")
    assert row["status"] == "fail" and named in row["actual"], row["actual"]


def test_debian13_root_core_line_is_overridden_by_a_later_file(catalog):
    """Debian 13's 10-coredump-debian.conf (root hard core infinity) is replaced by lgsec's 99- file."""
    facts, _ = fixture("PW-NOSTORE", "pass")
    facts["files"]["/etc/security/limits.d/10-coredump-debian.conf"] = load_base("base-debian13.json")["files"][
        "/etc/security/limits.d/10-coredump-debian.conf"
    ]
    assert status_of(catalog, facts, "PW-NOSTORE")["status"] == "pass"


def test_stricter_umask_passes_and_a_looser_login_defs_fails(catalog):
    facts, _ = fixture("PW-NOSTORE", "pass")
    facts["files"]["/etc/profile.d/zz-site.sh"] = "umask 077  # stricter\n"
    assert status_of(catalog, facts, "PW-NOSTORE")["status"] == "pass"
    facts["files"]["/etc/login.defs"] = facts["files"]["/etc/login.defs"].replace("UMASK\t\t027", "UMASK\t\t007")
    row = status_of(catalog, facts, "PW-NOSTORE")
    assert row["status"] == "fail" and "login.defs UMASK 007" in row["actual"]


def test_core_dumps_allowed_by_the_site_is_not_judged(catalog):
    facts, _ = fixture("PW-NOSTORE", "pass")
    facts["files"]["/etc/sysctl.d/99-debug.conf"] = "fs.suid_dumpable=2\n"
    assert status_of(catalog, facts, "PW-NOSTORE", {"lgsec_pw_nostore_core_dumps": True})["status"] == "pass"


def test_unreadable_limits_file_is_an_error(catalog):
    facts, _ = fixture("PW-NOSTORE", "pass")
    facts["errors"]["/etc/security/limits.d/50-x.conf"] = "Permission denied"
    assert status_of(catalog, facts, "PW-NOSTORE")["status"] == "error"


# ---- PRIV-MEMBERS: cron, at, su and the files that grant them (第69条1) ---------------------


@pytest.mark.parametrize(
    ("path", "text", "named"),
    [
        ("/etc/cron.allow", None, "no /etc/cron.allow: every user may use cron"),
        ("/etc/at.allow", None, "no /etc/at.allow: every user may use at"),
        ("/etc/cron.allow", "root\n\n# admins\ntanaka\nroot\n", "/etc/cron.allow allows tanaka"),
        ("/etc/at.deny", "", "/etc/at.deny present"),
        # a commented line is not a rule
        (
            "/etc/pam.d/su",
            "auth sufficient pam_rootok.so\n# auth required pam_wheel.so use_uid group=wheel\n@include common-auth\n",
            "su not limited to a group",
        ),
        (
            "/etc/pam.d/su",
            "auth sufficient pam_rootok.so\nauth required pam_wheel.so deny group=nosu\n",
            "only deny lines",
        ),
        (
            "/etc/pam.d/su",
            "auth sufficient pam_rootok.so\nauth sufficient pam_wheel.so trust use_uid group=wheel\n",
            "trust (members su without a password), control sufficient",
        ),
        (
            "/etc/pam.d/su",
            "auth sufficient pam_rootok.so\nauth required pam_wheel.so use_uid group=sudo\n",
            "group=sudo",
        ),
        ("/etc/pam.d/su", "auth required pam_wheel.so group=wheel\n", "no use_uid"),
        (
            "/etc/pam.d/su",
            "auth sufficient pam_unix.so\nauth required pam_wheel.so use_uid group=wheel\n",
            "/etc/pam.d/su:1: auth sufficient pam_unix.so can end the auth stack before pam_wheel",
        ),
        (  # duplicated: the good line does not excuse a trust line beside it
            "/etc/pam.d/su",
            "auth required pam_wheel.so use_uid group=wheel\nauth sufficient pam_wheel.so trust use_uid group=wheel\n",
            "pam_wheel /etc/pam.d/su:2: trust",
        ),
    ],
)
def test_privileged_operations_reopened_fail(catalog, path, text, named):
    facts, hostvars = fixture("PRIV-MEMBERS", "pass")
    if text is None:
        del facts["files"][path]
        facts["missing"].append(path)
    else:
        facts["files"][path] = text
    row = status_of(catalog, facts, "PRIV-MEMBERS", hostvars)
    assert row["status"] == "fail" and named in row["actual"], row["actual"]


def test_duplicated_allow_lines_and_a_deny_line_beside_the_limit_pass(catalog):
    facts, hostvars = fixture("PRIV-MEMBERS", "pass")
    facts["files"]["/etc/cron.allow"] = "root\nroot\n\n"
    su = facts["files"]["/etc/pam.d/su"]
    facts["files"]["/etc/pam.d/su"] = su + "auth       required   pam_wheel.so deny group=nosu\n"
    assert status_of(catalog, facts, "PRIV-MEMBERS", hostvars)["status"] == "pass"


PRIVILEGED = "find privileged paths"


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("755\t0\t0\td\t/etc/cron.d", "/etc/cron.d mode 0755 (want root:root 0700)"),
        ("700\t1000\t0\td\t/etc/cron.daily", "/etc/cron.daily owned by uid 1000 gid 0"),
        ("640\t0\t0\tf\t/etc/ssh/sshd_config", "/etc/ssh/sshd_config mode 0640"),
        ("666\t0\t0\tf\t/etc/cron.allow", "/etc/cron.allow mode 0666"),
    ],
)
def test_open_privileged_files_fail(catalog, line, named):
    facts, hostvars = fixture("PRIV-MEMBERS", "pass")
    result = facts["commands"][PRIVILEGED]
    path = line.rsplit("\t", 1)[1]
    kept = [x for x in result["stdout"].splitlines() if not x.endswith("\t" + path)]
    result["stdout"] = "\n".join([*kept, line]) + "\n"
    row = status_of(catalog, facts, "PRIV-MEMBERS", hostvars)
    assert row["status"] == "fail" and named in row["actual"], row["actual"]


def test_a_privileged_path_neither_listed_nor_absent_is_an_error(catalog):
    """find cut short (or a path it could not stat): never read as "not there"."""
    facts, hostvars = fixture("PRIV-MEMBERS", "pass")
    result = facts["commands"][PRIVILEGED]
    result["stdout"] = "".join(x + "\n" for x in result["stdout"].splitlines() if "sshd_config" not in x)
    assert status_of(catalog, facts, "PRIV-MEMBERS", hostvars)["status"] == "error"
    facts["commands"][PRIVILEGED]["stderr"] += "\nfind: '/etc/ssh/sshd_config': Permission denied"
    assert status_of(catalog, facts, "PRIV-MEMBERS", hostvars)["status"] == "error"


def test_the_cron_allow_list_is_a_parameter(catalog):
    facts, hostvars = fixture("PRIV-MEMBERS", "pass")
    facts["files"]["/etc/cron.allow"] = "root\nbackup\n"
    assert status_of(catalog, facts, "PRIV-MEMBERS", hostvars)["status"] == "fail"
    hostvars = {**hostvars, "lgsec_priv_members_cron_allow": ["root", "backup"]}
    assert status_of(catalog, facts, "PRIV-MEMBERS", hostvars)["status"] == "pass"


# ---- LOG-AUDIT: process accounting (第55条1) ---------------------------------------------------

ACCT = "systemctl show acct"


def acct_state(facts: dict, active: str, sub: str, result: str, enabled: str = "enabled") -> None:
    block = facts["commands"][ACCT]["stdout"].split("\n\n")
    first = "\n".join(
        f"{k}={ {'ActiveState': active, 'SubState': sub, 'Result': result, 'UnitFileState': enabled}.get(k, v) }"
        for k, v in (line.split("=", 1) for line in block[0].splitlines())
    )
    facts["commands"][ACCT]["stdout"] = "\n\n".join([first, *block[1:]])


def test_process_accounting_in_a_container_says_so_and_does_not_pass(catalog):
    facts, _ = fixture("LOG-AUDIT", "pass")
    acct_state(facts, "failed", "failed", "exit-code")  # accton: Operation not permitted
    facts["commands"]["systemd-detect-virt --container"] = {"rc": 0, "stdout": "podman\n", "stderr": ""}
    row = status_of(catalog, facts, "LOG-AUDIT")
    assert row["status"] == "fail"
    assert "this host is a podman container, whose kernel accounting is its host's" in row["actual"]


@pytest.mark.parametrize(
    ("state", "named"),
    [
        (("failed", "failed", "exit-code"), "process accounting is not on (acct.service failed/failed"),
        (("inactive", "dead", "success", "disabled"), "acct.service is not enabled (disabled)"),
    ],
)
def test_process_accounting_off_on_a_real_host_fails(catalog, state, named):
    facts, _ = fixture("LOG-AUDIT", "pass")
    acct_state(facts, *state)
    row = status_of(catalog, facts, "LOG-AUDIT")
    assert row["status"] == "fail" and named in row["actual"], row["actual"]


def test_process_accounting_unit_not_shown_is_an_error(catalog):
    facts, _ = fixture("LOG-AUDIT", "pass")
    del facts["commands"][ACCT]
    assert status_of(catalog, facts, "LOG-AUDIT")["status"] == "error"
    facts, _ = fixture("LOG-AUDIT", "pass")
    facts["commands"][ACCT] = {"rc": 1, "stdout": "", "stderr": "Failed to connect to bus"}
    assert status_of(catalog, facts, "LOG-AUDIT")["status"] == "error"


def test_process_accounting_can_be_left_out_by_the_site(catalog):
    facts, _ = fixture("LOG-AUDIT", "fail")
    row = status_of(catalog, facts, "LOG-AUDIT", {"lgsec_log_audit_process_accounting": False})
    assert "process accounting" not in row["actual"]


# ---- LOG-CENTRAL: not applicable means nothing of lgsec's left --------------------------------
# An audit-driven run skips a not-applicable control, so the audit must see what its role would
# still do there: remove lgsec's forwarding when the inventory names no log host any more.


def test_no_log_host_and_no_forwarding_is_not_applicable(catalog):
    facts, _ = fixture("LOG-CENTRAL", "pass")
    del facts["files"]["/etc/rsyslog.d/90-lgsec-forward.conf"]
    row = status_of(catalog, facts, "LOG-CENTRAL", {"lgsec_log_central_hosts": []})
    assert row["status"] == "not_applicable", row


def test_forwarding_left_to_log_hosts_no_longer_named_fails(catalog):
    facts, _ = fixture("LOG-CENTRAL", "pass")  # 90-lgsec-forward.conf to log01 and log02
    row = status_of(catalog, facts, "LOG-CENTRAL", {"lgsec_log_central_hosts": []})
    assert row["status"] == "fail" and "still in place" in row["actual"], row
    assert "log01.example.jp" in row["actual"] and "log02.example.jp" in row["actual"]


def test_the_check_reads_the_file_the_role_writes():
    from lgsec.checks.linux_logs import LGSEC_FORWARD

    role_vars = yaml.safe_load((ROOT / "roles/logging/vars/main.yml").read_text(encoding="utf-8"))
    assert role_vars["lgsec_logging_rsyslog_forward"] == LGSEC_FORWARD
