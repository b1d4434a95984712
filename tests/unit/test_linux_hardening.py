"""Issue 17's additions to the Linux checks, attacked branch by branch on their fixture pairs:
the distribution's AIDE (WEB-TAMPER), forwarding and protocol modules (KERNEL-NET), sshd's
further keywords (REMOTE-MINIMAL). What could make each say pass wrongly is fed to it here."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES, load_base, load_fixture, status_of


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
