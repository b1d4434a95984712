"""Issue 21: what the Linux audit did not read of what LOCKOUT's and WEB-TAMPER's roles set (so
both ran on every hardening, `harden: always`), now read and judged: faillock's admin_group
(roles/accounts), the check script and the service the timer starts (roles/web_integrity). Each
branch is fed what could make it say pass wrongly, starting from the pass fixture."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, load_fixture, status_of

FAILLOCK = "/etc/security/faillock.conf"
AUTH = "/etc/pam.d/common-auth"
SCRIPT = "/usr/local/sbin/lgsec-web-aide"
UNITS = "systemctl show lgsec-web-aide units"
MODE = "find lgsec-web-aide script"
DEFAULTS = "/etc/default/lgsec-web-aide"


def fixture(cid: str, kind: str = "pass") -> tuple[dict, dict]:
    facts, hostvars, _ = load_fixture(FIXTURES / cid / f"{kind}.yml")
    return facts, hostvars


# ---- LOCKOUT: admin_group ------------------------------------------------------------------------


def lockout_with(faillock: str | None = None, auth: tuple[str, str] | None = None) -> tuple[dict, dict]:
    facts, hostvars = fixture("LOCKOUT")
    if faillock is not None:
        facts["files"][FAILLOCK] = facts["files"][FAILLOCK].replace("admin_group = sudo\n", faillock)
    if auth is not None:
        facts["files"][AUTH] = facts["files"][AUTH].replace(*auth)
    return facts, hostvars


@pytest.mark.parametrize(
    ("faillock", "why"),
    [
        ("", "admin_group not set"),
        ("# admin_group = sudo\n", "commented out"),
        ("#admin_group = sudo\n", "commented out without a space"),
        ("admin_group = adm\n", "another group while sudo exists: sudo's members are not locked as long as root"),
        ("admin_group =\n", "empty"),
        ("admin_group = sudo\nadmin_group = adm\n", "a later line wins"),
    ],
)
def test_admin_group_not_the_first_privileged_group_fails(catalog, faillock, why):
    facts, hostvars = lockout_with(faillock)
    row = status_of(catalog, facts, "LOCKOUT", hostvars)
    assert row["status"] == "fail", why
    assert "not sudo (its members are not locked as long as root)" in row["actual"], why


def test_the_pass_fixture_passes_with_its_admin_group(catalog):
    facts, hostvars = fixture("LOCKOUT")
    row = status_of(catalog, facts, "LOCKOUT", hostvars)
    assert row["status"] == "pass" and "admin_group = sudo" in row["actual"]
    assert f"{FAILLOCK}:8: admin_group = sudo" in row["evidence"]


def test_a_pam_argument_overrides_the_file_as_pam_faillock_reads_it(catalog):
    facts, hostvars = lockout_with(auth=("pam_faillock.so preauth", "pam_faillock.so preauth admin_group=adm"))
    row = status_of(catalog, facts, "LOCKOUT", hostvars)
    assert row["status"] == "fail" and "admin_group = adm, not sudo" in row["actual"]


def test_the_first_group_of_priv_members_groups_present_is_the_one_expected(catalog):
    facts, hostvars = lockout_with("admin_group = adm\n")
    hostvars = {**hostvars, "lgsec_priv_members_groups": ["wheel", "adm", "sudo"]}  # no wheel on Debian
    assert status_of(catalog, facts, "LOCKOUT", hostvars)["status"] == "pass"


def test_no_privileged_group_on_the_host_needs_no_admin_group(catalog):
    facts, hostvars = lockout_with("")
    hostvars = {**hostvars, "lgsec_priv_members_groups": ["wheel", "admin"]}  # neither exists here
    row = status_of(catalog, facts, "LOCKOUT", hostvars)
    assert row["status"] == "pass" and any("no admin_group needed" in e for e in row["evidence"])


def test_unreadable_group_file_is_an_error_never_a_pass(catalog):
    facts, hostvars = fixture("LOCKOUT")
    del facts["files"]["/etc/group"]
    facts["errors"]["/etc/group"] = "Permission denied"
    assert status_of(catalog, facts, "LOCKOUT", hostvars)["status"] == "error"


# ---- WEB-TAMPER: the check script and the service the timer starts -------------------------------


def web_tamper(catalog, change) -> dict:
    facts, hostvars = fixture("WEB-TAMPER")
    change(facts)
    return status_of(catalog, facts, "WEB-TAMPER", hostvars)


def units(facts: dict, old: str, new: str) -> None:
    out = facts["commands"][UNITS]
    assert old in out["stdout"]
    out["stdout"] = out["stdout"].replace(old, new, 1)


def test_the_pass_fixture_passes_on_the_script_and_service_as_the_role_writes_them(catalog):
    row = web_tamper(catalog, lambda facts: None)
    assert row["status"] == "pass"
    assert f"{UNITS}: lgsec-web-aide.service runs {SCRIPT} check" in row["evidence"]
    assert f"{SCRIPT}: the script roles/web_integrity installs" in row["evidence"]


ARGV = f"path={SCRIPT} ; argv[]={SCRIPT} check ;"
FALSE = "={ path=/bin/false ; argv[]=/bin/false ; ignore_errors=no ; }\nExecStart={"
SERVICE = "Id=lgsec-web-aide.service\nLoadState="
NOSYSTEMD = {"rc": 1, "stdout": "", "stderr": "System has not been booted with systemd"}


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (ARGV, "path=/bin/true ; argv[]=/bin/true ;", "runs /bin/true, not"),
        (ARGV, f"path={SCRIPT} ; argv[]={SCRIPT} accept ;", f"runs {SCRIPT} accept, not"),
        (ARGV, f"path={SCRIPT} ; argv[]={SCRIPT} ;", f"runs {SCRIPT}, not"),
        ("ExecStart={", "ExecStartPre" + FALSE, "/bin/false"),
        ("ExecStart={", "ExecCondition" + FALSE, "/bin/false"),
        (
            "ExecStart={ path=/usr/local/sbin/lgsec-web-aide ; argv[]=/usr/local/sbin/lgsec-web-aide check ; "
            "ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }\n",
            "",
            "runs nothing",
        ),
        ("Unit=lgsec-web-aide.service", "Unit=other.service", "starts other.service, not lgsec-web-aide.service"),
        (
            "FragmentPath=/etc/systemd/system/lgsec-web-aide.service\nDropInPaths=",
            "FragmentPath=/etc/systemd/system/lgsec-web-aide.service\nDropInPaths=/run/systemd/system/lgsec-web-aide.service.d/x.conf",
            "changed by drop-ins the role does not write: /run/systemd/system/lgsec-web-aide.service.d/x.conf",
        ),
        (
            "FragmentPath=/etc/systemd/system/lgsec-web-aide.timer\nDropInPaths=",
            "FragmentPath=/etc/systemd/system/lgsec-web-aide.timer\nDropInPaths=/etc/systemd/system/lgsec-web-aide.timer.d/y.conf",
            "lgsec-web-aide.timer changed by drop-ins",
        ),
        ("NeedDaemonReload=no\n\n", "NeedDaemonReload=yes\n\n", "daemon-reload pending"),
        (SERVICE + "loaded", SERVICE + "masked", "service masked"),
    ],
)
def test_a_service_that_runs_something_else_fails(catalog, old, new, named):
    row = web_tamper(catalog, lambda facts: units(facts, old, new))
    assert row["status"] == "fail" and named in row["actual"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda text: text.replace('case "${1:-check}" in', 'exit 0\ncase "${1:-check}" in'), "an early exit"),
        (lambda text: text.replace("CONFIG=/etc/aide/lgsec-web.conf", "CONFIG=/tmp/x.conf"), "another config"),
        (lambda text: text + "\n", "a trailing blank line (not what the role copies)"),
        (lambda text: text.replace("\n", "\r\n"), "CRLF line ends"),
        (lambda text: "", "empty"),
    ],
)
def test_a_script_that_differs_from_what_the_role_writes_fails(catalog, change, why):
    def edit(facts):
        facts["files"][SCRIPT] = change(facts["files"][SCRIPT])

    row = web_tamper(catalog, edit)
    assert row["status"] == "fail", why
    assert f"{SCRIPT} differs from the script roles/web_integrity installs" in row["actual"], why


def test_a_missing_script_fails(catalog):
    def remove(facts):
        del facts["files"][SCRIPT]
        facts["missing"].append(SCRIPT)
        facts["commands"][MODE]["stdout"] = ""

    assert f"no check script {SCRIPT}" in web_tamper(catalog, remove)["actual"]


@pytest.mark.parametrize(
    ("listed", "why"),
    [
        ("757\troot\troot", "anyone may change it"),
        ("770\troot\troot", "its group may change it"),
        ("750\twww-data\troot", "not root's"),
        ("750\troot\twww-data", "group not root"),
        ("640\troot\troot", "not executable: the service fails"),
    ],
)
def test_a_script_others_may_change_or_nobody_may_run_fails(catalog, listed, why):
    def mode(facts):
        facts["commands"][MODE]["stdout"] = f"{SCRIPT}\t{listed}\n"

    row = web_tamper(catalog, mode)
    assert row["status"] == "fail" and "not root's alone to change and run" in row["actual"], why


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("exit 0", ":8: not a plain CONFIG, DATABASE or MAILTO"),
        ('MAILTO="root"; exit 0', ":8: not a plain"),
        ("CONFIG=$(mktemp)", ":8: not a plain"),
        ("CONFIG=/tmp/empty.conf", ":8: the script checks CONFIG=/tmp/empty.conf, not /etc/aide/lgsec-web.conf"),
        ("DATABASE=/tmp/x.db", ":8: the script checks DATABASE=/tmp/x.db, not /var/lib/aide/lgsec-web.db"),
    ],
)
def test_a_defaults_file_the_script_sources_that_changes_the_check_fails(catalog, line, named):
    def add(facts):
        facts["files"][DEFAULTS] = facts["files"][DEFAULTS].rstrip("\n") + "\n" + line + "\n"

    row = web_tamper(catalog, add)
    assert row["status"] == "fail" and f"{DEFAULTS}{named}" in row["actual"]


def test_a_commented_line_in_the_defaults_file_changes_nothing(catalog):
    def add(facts):
        facts["files"][DEFAULTS] += "# exit 0\n#CONFIG=/tmp/empty.conf\n"

    assert web_tamper(catalog, add)["status"] == "pass"


@pytest.mark.parametrize(
    "broken",
    [
        lambda facts: facts["commands"].pop(UNITS),  # an older gather
        lambda facts: facts["commands"][UNITS].update(NOSYSTEMD),
        lambda facts: units(facts, "Id=lgsec-web-aide.service", "Id=other.service"),  # output cut short
        lambda facts: facts["commands"][MODE].update(stdout=""),  # the script read but not listed
        lambda facts: facts["commands"][MODE].update(stdout=f"{SCRIPT}\trwxr-x---\troot\troot\n"),  # not octal
        lambda facts: facts["errors"].update({SCRIPT: "Permission denied"}) or facts["files"].pop(SCRIPT),
    ],
)
def test_what_the_check_job_could_not_read_is_an_error_never_a_pass(catalog, broken):
    assert web_tamper(catalog, broken)["status"] == "error"
