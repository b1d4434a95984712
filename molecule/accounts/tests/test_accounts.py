"""roles/accounts on real Debian 12 and 13, checked the way an auditor or a user would.

Run by `molecule verify -s accounts` (testinfra over podman://accounts-d12, podman://accounts-d13),
after prepare (fixtures + the audit before hardening), converge and idempotence.
Figures come from the role's defaults and the scenario's inventory, never from this file.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest
from lgsec_lab import (
    EPHEMERAL,
    INVENTORY,
    ROOT,
    SCENARIO,
    assert_one_owner,
    assert_sshd_dropins_owned,
    assert_status,
    audit,
    audit_before,
    hostvars,
    sh,
)

# Section A controls the role enforces: each fails before hardening and passes after.
CONTROLS = [
    "PW-LENGTH",
    "PW-COMPLEXITY",
    "PW-HISTORY",
    "PW-MAXAGE",
    "PW-EMPTY",
    "LOCKOUT",
    "PRIV-MEMBERS",
    "PRIV-DEFAULT-ID",
    "ID-UNUSED",
    "SESSION-LIMIT",
]


@pytest.fixture
def v(host) -> dict:
    return hostvars(host.backend.name, "accounts")


@pytest.fixture(scope="session")
def audit_after() -> dict[tuple[str, str], dict]:
    """A fresh audit after converge (before the PAM tests change the hosts)."""
    return audit(EPHEMERAL / "after")


@pytest.fixture(scope="session")
def audit_after_provision(provisioned) -> dict[tuple[str, str], dict]:
    return audit(EPHEMERAL / "after-provision")


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_before_hardening_fails(host, control):
    assert_status(audit_before(), host, control, "fail")


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_after_hardening_passes(host, control, audit_after):
    assert_status(audit_after, host, control, "pass")


# ---- files and settings ----------------------------------------------------------------


def test_pwquality_conf(host, v):
    assert host.package("libpam-pwquality").is_installed
    conf = host.file("/etc/security/pwquality.conf")
    assert conf.contains(rf"^minlen = {v['lgsec_pw_length_min']}$")
    assert conf.contains(rf"^minclass = {v['lgsec_pw_complexity_minclass']}$")
    assert conf.contains(rf"^dictcheck = {int(v['lgsec_pw_complexity_dictcheck'])}$")
    assert conf.contains(r"^enforce_for_root$")


def pam_lines(host, path: str) -> list[list[str]]:
    lines = []
    for line in host.file(path).content_string.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            # the control may be "[a=b c=d]": keep it one field
            if "[" in line:
                head, rest = line.split("[", 1)
                control, rest = rest.split("]", 1)
                lines.append([head.strip(), f"[{control}]", *rest.split()])
            else:
                lines.append(line.split())
    return lines


def test_password_stack_order(host, v):
    stack = [line[2] for line in pam_lines(host, "/etc/pam.d/common-password")]
    assert stack.index("pam_pwquality.so") < stack.index("pam_pwhistory.so") < stack.index("pam_unix.so")
    history = next(line for line in pam_lines(host, "/etc/pam.d/common-password") if line[2] == "pam_pwhistory.so")
    assert f"remember={v['lgsec_pw_history_remember']}" in history
    assert {"use_authtok", "enforce_for_root"} <= set(history)


def test_auth_stack_faillock_and_no_nullok(host):
    auth = pam_lines(host, "/etc/pam.d/common-auth")
    modules = [(line[2], line[3:]) for line in auth]
    preauth = modules.index(("pam_faillock.so", ["preauth"]))
    authfail = modules.index(("pam_faillock.so", ["authfail"]))
    unix = [m for m, _ in modules].index("pam_unix.so")
    assert preauth < unix < authfail
    for path in ("/etc/pam.d/common-auth", "/etc/pam.d/common-password"):
        for line in pam_lines(host, path):
            if line[2] == "pam_unix.so":
                assert "nullok" not in line, f"{path}: {line}"
    account = [line[2] for line in pam_lines(host, "/etc/pam.d/common-account")]
    assert "pam_faillock.so" in account


def test_faillock_conf(host, v):
    conf = host.file("/etc/security/faillock.conf")
    assert conf.contains(rf"^deny = {v['lgsec_lockout_deny']}$")
    assert conf.contains(rf"^unlock_time = {v['lgsec_lockout_unlock_time']}$")
    assert conf.contains(rf"^root_unlock_time = {v['lgsec_lockout_root_unlock_time']}$")
    assert conf.contains(r"^even_deny_root$")
    assert conf.contains(r"^admin_group = sudo$")


def shadow(host, user: str) -> list[str]:
    return host.check_output(f"getent shadow {user}").split(":")


def test_password_max_age(host, v):
    login_defs = host.file("/etc/login.defs").content_string
    assert re.search(rf"^PASS_MAX_DAYS\s+{v['lgsec_pw_maxage_max_days']}$", login_defs, re.M)
    assert int(shadow(host, "lgsecadmin")[4]) <= v["lgsec_pw_maxage_privileged_max_days"]
    assert int(shadow(host, "lgsectest")[4]) <= v["lgsec_pw_maxage_max_days"]


def test_no_empty_password(host):
    assert shadow(host, "emptypw")[1].startswith("!")
    assert sh(host, "getent shadow | awk -F: '$2 == \"\"' | grep .").rc == 1


def test_privileged_members(host, v):
    members = host.group("sudo").members
    assert "intruder" not in members
    assert "lgsecadmin" in members
    assert set(members) <= set(v["lgsec_priv_members_approved"])
    assert "users" in host.user("intruder").groups  # its other groups are kept


def test_cron_and_at_only_for_the_allowed_users(host, v):
    """第69条1: cron(8) and at(1) read the allow list first; no deny list beside it."""
    for tool in ("cron", "at"):
        allow = host.file(f"/etc/{tool}.allow")
        assert allow.user == "root" and allow.mode & 0o022 == 0
        assert allow.content_string.split() == v["lgsec_priv_members_cron_allow"]
        assert not host.file(f"/etc/{tool}.deny").exists


def test_files_that_grant_privileged_operations_are_roots(host):
    for path, mode in [(f"/etc/cron.{d}", 0o700) for d in ("d", "hourly", "daily", "weekly", "monthly")] + [
        ("/etc/crontab", 0o600),
        ("/etc/ssh/sshd_config", 0o600),
    ]:
        f = host.file(path)
        if f.exists:
            assert (f.user, f.group) == ("root", "root") and f.mode & ~mode == 0, (path, oct(f.mode))
    assert host.file("/etc/ssh/sshd_config").mode == 0o600


def test_su_only_for_the_su_group(host, v):
    """pam_wheel (第69条1): the operator, not in the su group, is refused su to an account whose
    password it gives; a member giving the same password is let through; root keeps su
    (pam_rootok). sudo is untouched (test_operator_logs_in_over_ssh_and_uses_sudo).

    The probe is the real, setuid su reading the password from stdin: pamtester run as a user
    cannot test another account's password (unix_chkpwd checks only the caller's own), so it
    would be refused whatever pam_wheel said."""
    group, password = v["lgsec_priv_members_su_group"], v["lgsec_lab_test_password"]
    assert host.group(group).exists
    sh(host, "faillock --user lgsectest --reset")  # the LOCKOUT tests may leave lgsectest locked
    probe = f"echo {shlex.quote(password)} | runuser -u lgsecadmin -- su -c 'id -un' lgsectest"
    refused = sh(host, probe)
    assert refused.rc != 0 and "Permission denied" in refused.stderr, refused.stdout + refused.stderr
    sh(host, f"gpasswd -a lgsecadmin {group}")
    try:
        allowed = sh(host, probe)
    finally:
        sh(host, f"gpasswd -d lgsecadmin {group}")
    assert allowed.rc == 0 and allowed.stdout.strip() == "lgsectest", allowed.stdout + allowed.stderr
    assert sh(host, "su -c 'id -un' lgsectest </dev/null").stdout.strip() == "lgsectest"


def test_unused_id_locked_and_expired(host, v):
    entry = shadow(host, "idleuser")
    assert entry[1].startswith("!")
    assert entry[7] == "1"
    assert host.file("/etc/default/useradd").contains(rf"^INACTIVE={v['lgsec_id_unused_inactive_days']}$")
    # accounts in use are left alone
    assert not shadow(host, "lgsecadmin")[1].startswith("!")
    assert shadow(host, "lgsecadmin")[7] == ""


def test_sshd_effective_config(host, v):
    conf = dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines() if " " in line)
    assert conf["permitrootlogin"] == "no"
    assert conf["permitemptypasswords"] == "no"
    assert conf["clientaliveinterval"] == str(v["lgsec_session_limit_client_alive_interval"])
    assert conf["clientalivecountmax"] == str(v["lgsec_session_limit_client_alive_count_max"])
    assert host.service("ssh").is_running


# One file, one owner: a drop-in per control (a keyword two controls demand has its own), each
# written whole by roles/sshd/tasks/dropin.yml; the old shared drop-in (prepare.yml) is gone.
ACCOUNTS_DROPINS = {
    "30-lgsec-permitemptypasswords.conf": ("PW-EMPTY", "roles/accounts/tasks/pw_empty.yml"),
    "30-lgsec-permitrootlogin.conf": ("PRIV-DEFAULT-ID", "roles/accounts/tasks/priv_default_id.yml"),
    "30-lgsec-session-limit.conf": ("SESSION-LIMIT", "roles/accounts/tasks/session_limit.yml"),
}


def test_sshd_drop_ins_one_per_control_each_with_one_owner(host):
    assert_sshd_dropins_owned(host, ACCOUNTS_DROPINS)


def test_faillock_conf_and_tmout_have_one_owner(host):
    faillock = host.file("/etc/security/faillock.conf").content_string
    assert_one_owner(faillock, "faillock.conf", "roles/accounts/tasks/lockout.yml", "LOCKOUT")
    tmout = host.file("/etc/profile.d/lgsec-tmout.sh").content_string
    assert_one_owner(tmout, "lgsec-tmout.sh", "roles/accounts/tasks/tmout.yml", "SESSION-LIMIT", "SCREEN-LOCK")
    assert sh(host, "grep -l TMOUT= /etc/profile.d/*.sh").stdout.split() == ["/etc/profile.d/lgsec-tmout.sh"]


def test_tmout_in_a_login_shell(host, v):
    # the one TMOUT file of SESSION-LIMIT and SCREEN-LOCK: the shorter limit (SCREEN-LOCK's from
    # roles/desktop's defaults: that role does not run in this scenario)
    screen_lock = hostvars(host.backend.name, "desktop", "accounts")["lgsec_screen_lock_idle_seconds"]
    tmout = min(v["lgsec_session_limit_tmout"], screen_lock)
    out = sh(host, "runuser -l lgsectest -c 'echo TMOUT=$TMOUT; unset TMOUT && echo unset'")
    assert f"TMOUT={tmout}" in out.stdout
    assert "unset" not in out.stdout.splitlines()  # readonly: a user cannot lift it


def test_sudo_timestamp_timeout(host, v):
    out = host.check_output("sudo -l -U lgsecadmin")
    assert f"timestamp_timeout={v['lgsec_session_limit_sudo_timestamp_timeout']}" in out
    assert host.run("visudo -c").rc == 0


# ---- PAM behaviour: what a user meets ---------------------------------------------------


def passwd_as(host, user: str, *answers: str):
    """`passwd` run by the user, answers on stdin (current password, new, new)."""
    feed = "".join(f"{a}\n" for a in answers)
    return sh(host, f"printf %s {shlex.quote(feed)} | runuser -u {user} -- passwd")


def test_short_password_refused(host, v):
    old = v["lgsec_lab_test_password"]
    short = "Xq7#" + "k" * (v["lgsec_pw_length_min"] - 6)  # one character short of minlen
    out = passwd_as(host, "lgsectest", old, short, short)
    assert out.rc != 0
    assert "shorter than" in out.stdout + out.stderr


def test_too_few_character_classes_refused(host, v):
    old = v["lgsec_lab_test_password"]
    weak = "kestrelmarmotquince"  # long enough, one character class
    out = passwd_as(host, "lgsectest", old, weak, weak)
    assert out.rc != 0
    assert "character classes" in out.stdout + out.stderr


def test_reused_password_refused(host, v):
    old, new = v["lgsec_lab_test_password"], "Quartz-Violet-7193"
    changed = passwd_as(host, "lgsectest", old, new, new)
    assert changed.rc == 0, changed.stdout + changed.stderr
    back = passwd_as(host, "lgsectest", new, old, old)
    assert back.rc != 0
    assert "already used" in back.stdout + back.stderr
    assert host.file("/etc/security/opasswd").contains("^lgsectest:")


def test_repeated_bad_passwords_lock_the_account(host, v):
    user, good = "locktest", v["lgsec_lab_test_password"]
    sh(host, f"faillock --user {user} --reset")
    assert sh(host, f"echo {shlex.quote(good)} | pamtester sshd {user} authenticate").rc == 0
    # one after the other: faillock's tally is read-modify-write, parallel failures can be lost
    deny = v["lgsec_lockout_deny"]
    attempts = f"for i in $(seq {deny}); do echo Wrong-Guess | pamtester sshd {user} authenticate; done"
    assert "successfully authenticated" not in sh(host, attempts).stdout
    tally = host.check_output(f"faillock --user {user}")
    records = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*\sV\s*$", tally, re.M)
    assert len(records) == deny, tally
    refused = sh(host, f"echo {shlex.quote(good)} | pamtester sshd {user} authenticate")
    assert refused.rc != 0, "the correct password was accepted on a locked account"


# ---- the operator can still get in -----------------------------------------------------


def test_operator_logs_in_over_ssh_and_uses_sudo(host, v):
    key = EPHEMERAL / "lgsecadmin_ed25519"
    assert key.exists()
    cmd = [
        "ssh",
        "-i",
        str(key),
        "-p",
        str(v["lgsec_lab_ssh_port"]),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        "lgsecadmin@127.0.0.1",
        "sudo -S -k -p '' id -u",
    ]
    proc = subprocess.run(
        cmd, input=v["lgsec_lab_admin_password"] + "\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


def test_root_cannot_log_in_over_ssh(host, v):
    proc = subprocess.run(
        [
            "ssh",
            "-p",
            str(v["lgsec_lab_ssh_port"]),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
            "-i",
            str(EPHEMERAL / "lgsecadmin_ed25519"),
            "root@127.0.0.1",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 255 and "Permission denied" in proc.stderr


# ---- the lockout guard --------------------------------------------------------------------


@pytest.fixture(scope="session")
def unapproved_run() -> subprocess.CompletedProcess:
    """The role run by lgsecadmin while lgsec_priv_members_approved does not name it."""
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            INVENTORY,
            str(SCENARIO / "converge.yml"),
            "-e",
            json.dumps({"lgsec_priv_members_approved": ["someone_else"]}),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def test_guard_refuses_an_unapproved_operator(host, unapproved_run):
    out = unapproved_run.stdout
    assert unapproved_run.returncode != 0
    assert "Refusing to harden" in out and "'lgsecadmin'" in out
    recap = re.search(rf"^{host.backend.name}\s*:.*$", out, re.M)
    assert recap and "changed=0" in recap.group()
    assert "lgsecadmin" in host.group("sudo").members


@pytest.fixture(scope="session")
def tagged_check_run() -> subprocess.CompletedProcess:
    """A few controls on their own (--tags), in check mode, on the hardened hosts."""
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            INVENTORY,
            str(SCENARIO / "converge.yml"),
            "--check",
            "--tags",
            "PW-MAXAGE,ID-UNUSED,SESSION-LIMIT",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def test_a_control_runs_alone_and_finds_nothing_to_change(host, tagged_check_run):
    out = tagged_check_run.stdout
    assert tagged_check_run.returncode == 0, out[-3000:]
    recap = re.search(rf"^{host.backend.name}\s*:.*$", out, re.M)
    assert recap and "changed=0" in recap.group() and "failed=0" in recap.group()


# ---- PW-TEMP: playbooks/provision_user.yml -----------------------------------------------


def run_provision() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(ROOT / "playbooks/provision_user.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def provisioned() -> dict[str, str]:
    """provision_user.yml run twice (after the audit and the PAM tests' fixtures are done with):
    the shadow entries of newhire after each run, and the second run's output."""
    first = run_provision()
    assert first.returncode == 0, first.stdout[-3000:]
    again = run_provision()
    assert again.returncode == 0, again.stdout[-3000:]
    return {"first": first.stdout, "again": again.stdout}


def test_provisioned_password_must_be_changed_at_first_login(host, provisioned):
    entry = shadow(host, "newhire")
    assert entry[1].startswith("$") and entry[2] == "0"  # a password, changed "never": must change now
    out = sh(host, "pamtester sshd newhire acct_mgmt")
    assert out.rc != 0
    assert "new one required" in out.stdout + out.stderr
    assert "Temp-Initial-Pass-2026" not in provisioned["first"]  # no_log


def test_provisioning_again_changes_nothing(host, provisioned):
    recap = re.search(rf"^{host.backend.name}\s*:.*$", provisioned["again"], re.M)
    assert recap and "changed=0" in recap.group(), provisioned["again"][-2000:]


# chage -d 0 leaves last_change 0: the audit (and so the role, which locks what the audit
# finds) must not read it as a password set in 1970 and call the new hire unused.
def test_a_new_account_is_not_unused(host, audit_after_provision):
    row = audit_after_provision[(host.backend.name, "ID-UNUSED")]
    assert row["status"] == "pass", row["actual"]
