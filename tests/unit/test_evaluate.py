"""The evaluator's edge cases: unreadable facts, not applicable, manual, unreachable hosts, idle IDs."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, ROOT, evaluate, import_path, load_fixture, row_for, status_of

from lgsec.checks import STATUSES
from lgsec.checks.common import DAY
from lgsec.checks.linux_accounts import idle_accounts
from lgsec.evaluate import failed_host

DENIED = "Permission denied"


def hardened(control_id: str) -> tuple[dict, dict]:
    """Facts and host variables of a control's pass fixture."""
    facts, hostvars, _ = load_fixture(FIXTURES / control_id / "pass.yml")
    return facts, hostvars


def make_unreadable(facts: dict, path: str) -> None:
    """What the gather module records for a file it may not read."""
    assert path in facts["files"], f"{path} is not in the fixture"
    del facts["files"][path]
    facts["errors"][path] = DENIED


# ---- facts that could not be read: error with the reason, never pass --------------------------


@pytest.mark.parametrize(
    ("control", "path"),
    [
        ("PW-LENGTH", "/etc/pam.d/common-password"),
        ("PW-LENGTH", "/etc/security/pwquality.conf"),
        ("PW-COMPLEXITY", "/etc/security/pwquality.conf"),
        ("PW-HISTORY", "/etc/pam.d/common-password"),
        ("PW-MAXAGE", "/etc/login.defs"),
        ("PW-MAXAGE", "/etc/group"),
        ("PW-EMPTY", "/etc/pam.d/common-auth"),
        ("LOCKOUT", "/etc/pam.d/common-account"),
        ("LOCKOUT", "/etc/security/faillock.conf"),
        ("PRIV-MEMBERS", "/etc/group"),
        ("PRIV-MEMBERS", "/etc/passwd"),
        ("PRIV-MEMBERS", "/etc/sudoers"),
        ("PRIV-MEMBERS", "/etc/sudoers.d/README"),
        ("ID-UNUSED", "/etc/default/useradd"),
        ("SESSION-LIMIT", "/etc/profile"),
        ("SESSION-LIMIT", "/etc/profile.d/lgsec-tmout.sh"),
        ("SESSION-LIMIT", "/etc/sudoers"),
        ("SESSION-LIMIT", "/etc/sudoers.d/lgsec-session-limit"),
    ],
)
def test_unreadable_file_is_error_with_the_reason(catalog, control, path):
    facts, hostvars = hardened(control)
    assert status_of(catalog, facts, control, hostvars)["status"] == "pass"  # readable: it passes
    make_unreadable(facts, path)
    row = status_of(catalog, facts, control, hostvars)
    assert row["status"] == "error"
    assert f"{path}: {DENIED}" in row["actual"]


@pytest.mark.parametrize("control", ["PW-MAXAGE", "PW-EMPTY", "ID-UNUSED"])
def test_unreadable_shadow_is_error(catalog, control):
    facts, hostvars = hardened(control)
    del facts["shadow"]
    facts["errors"]["/etc/shadow"] = DENIED
    row = status_of(catalog, facts, control, hostvars)
    assert row["status"] == "error"
    assert f"/etc/shadow: {DENIED}" in row["actual"]


def test_file_absent_from_the_facts_is_error_not_gathered(catalog):
    facts, hostvars = hardened("PW-MAXAGE")
    del facts["files"]["/etc/login.defs"]
    row = status_of(catalog, facts, "PW-MAXAGE", hostvars)
    assert (row["status"], row["actual"]) == ("error", "could not read: /etc/login.defs: not gathered")


def test_required_file_missing_on_the_host_is_error(catalog):
    facts, hostvars = hardened("ID-UNUSED")
    del facts["files"]["/etc/default/useradd"]
    facts["missing"].append("/etc/default/useradd")
    row = status_of(catalog, facts, "ID-UNUSED", hostvars)
    assert row["status"] == "error"
    assert "/etc/default/useradd: not present on the host" in row["actual"]


def test_facts_in_an_unexpected_format_are_error(catalog):
    facts, hostvars = hardened("PW-EMPTY")
    del facts["shadow"]["kiosk"]["state"]
    row = status_of(catalog, facts, "PW-EMPTY", hostvars)
    assert row["status"] == "error"
    assert "KeyError" in row["actual"]


@pytest.mark.parametrize("control", ["PW-EMPTY", "PRIV-DEFAULT-ID", "SESSION-LIMIT"])
def test_sshd_that_cannot_report_its_config_is_error(catalog, control):
    # What a plain `podman run` of the Debian 12 image gives: sshd -T refuses without /run/sshd.
    facts, hostvars = hardened(control)
    stderr = "Missing privilege separation directory: /run/sshd"
    facts["commands"]["sshd -T"] = {"rc": 255, "stdout": "", "stderr": stderr}
    row = status_of(catalog, facts, control, hostvars)
    assert row["status"] == "error"
    assert f"sshd -T exited 255: {stderr}" in row["actual"]


# ---- not applicable, manual -----------------------------------------------------------------


def no_sshd(facts: dict) -> None:
    facts["commands"]["sshd -T"] = {"rc": None, "stdout": "", "stderr": "sshd is not installed"}


def test_no_ssh_server_makes_root_login_not_applicable(catalog):
    facts, hostvars = hardened("PRIV-DEFAULT-ID")
    no_sshd(facts)
    row = status_of(catalog, facts, "PRIV-DEFAULT-ID", hostvars)
    assert (row["status"], row["actual"]) == ("not_applicable", "no SSH server installed")


@pytest.mark.parametrize("control", ["PW-EMPTY", "SESSION-LIMIT"])
def test_no_ssh_server_still_judges_the_rest(catalog, control):
    facts, hostvars = hardened(control)
    no_sshd(facts)
    row = status_of(catalog, facts, control, hostvars)
    assert row["status"] == "pass"
    assert "sshd -T" not in " ".join(row["evidence"])


def test_no_ssh_server_does_not_hide_a_shell_without_timeout(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "SESSION-LIMIT" / "fail.yml")
    no_sshd(facts)
    row = status_of(catalog, facts, "SESSION-LIMIT", hostvars)
    assert row["status"] == "fail"
    assert "ClientAlive" not in row["actual"] and "TMOUT not readonly" in row["actual"]


@pytest.mark.parametrize(
    ("hostvars", "status"),
    [
        ({"lgsec_importance": "III"}, "not_applicable"),
        ({"group_names": ["importance_4"]}, "not_applicable"),
        ({"lgsec_importance": "I"}, "fail"),  # applies: no backup job declared
        ({"group_names": ["importance_2"]}, "fail"),
        ({}, "fail"),  # no class: every control applies
    ],
)
def test_control_applies_by_importance_class(catalog, base12, hostvars, status):
    assert catalog["BACKUP-RECENT"].classes == ("I", "II")
    row = status_of(catalog, base12, "BACKUP-RECENT", hostvars)
    assert row["status"] == status
    if status == "not_applicable":
        assert row["actual"] == f"host is 重要性{row['importance']}"


def test_control_of_every_class_is_judged_on_class_iv(catalog):
    facts, _, _ = load_fixture(FIXTURES / "PW-LENGTH" / "fail.yml")
    control = catalog["PW-LENGTH"]
    assert set(control.classes) == {"I", "II", "III", "IV"}
    assert status_of(catalog, facts, "PW-LENGTH", {"lgsec_importance": "IV"})["status"] == "fail"


@pytest.mark.parametrize(("mobile", "status"), [(False, "not_applicable"), (True, "fail")])
def test_mobile_only_control(catalog, mobile, status):
    assert catalog["DISK-ENCRYPTED"].mobile_only
    facts, _, _ = load_fixture(FIXTURES / "DISK-ENCRYPTED" / "fail.yml")
    row = status_of(catalog, facts, "DISK-ENCRYPTED", {"lgsec_importance": "I", "lgsec_mobile": mobile})
    assert row["status"] == status


def test_manual_control_is_manual_with_its_note(catalog, base12):
    row = status_of(catalog, base12, "PW-TEMP")
    assert row["status"] == "manual"
    assert row["expected"] == catalog["PW-TEMP"].manual_note


def test_control_without_a_probe_is_manual_never_pass(catalog, base12, monkeypatch):
    from lgsec.checks import CHECKS, load_all

    assert catalog["PW-NOSTORE"].automation == "automated"
    load_all()
    monkeypatch.delitem(CHECKS, ("PW-NOSTORE", "linux"))  # as if its probe were not written yet
    row = status_of(catalog, base12, "PW-NOSTORE")
    assert row["status"] == "manual"
    assert "does not check PW-NOSTORE on linux" in row["actual"]


def test_rows_carry_the_catalog_fields(catalog, base12):
    rows = evaluate(catalog, base12, {"lgsec_importance": "II"}, host="db01")
    linux = [c for c in catalog if "linux" in c.platforms]
    assert [r["control"] for r in rows] == [c.id for c in linux]
    for r in rows:
        control = catalog[r["control"]]
        assert r["articles"] == list(control.articles)
        assert (r["title_ja"], r["title_en"]) == (control.title_ja, control.title_en)
        assert (r["host"], r["platform"], r["importance"]) == ("db01", "linux", "II")
        assert r["status"] in STATUSES


def test_controls_narrowed_by_option_and_host_variable(catalog, base12):
    only = ["PW-LENGTH", "LOCKOUT", "PW-EMPTY"]
    rows = evaluate(catalog, base12, {"lgsec_controls": ["LOCKOUT", "PW-EMPTY", "SESSION-LIMIT"]}, only=only)
    assert [r["control"] for r in rows] == ["PW-EMPTY", "LOCKOUT"]


@pytest.mark.parametrize("status", ["unreachable", "error"])
def test_failed_host_gives_every_row_that_status(catalog, status):
    reason = "unreachable: Failed to connect to the host via ssh: Connection refused"
    rows = failed_host(catalog, "ghost", {}, status, reason)
    assert len(rows) == len([c for c in catalog if "linux" in c.platforms])
    assert {r["status"] for r in rows} == {status}
    assert {r["actual"] for r in rows} == {reason}


# ---- ID-UNUSED: which accounts are idle -----------------------------------------------------

NOW = 1_795_636_881  # collected_at of the recorded base
TODAY = NOW // DAY


def account(last_change_days_ago: int | None, state: str = "set", expire: int | None = None) -> dict:
    last_change = None if last_change_days_ago is None else TODAY - last_change_days_ago
    return {"line": 1, "state": state, "last_change": last_change, "max_days": 90, "inactive": None, "expire": expire}


def idle_facts() -> dict:
    return {
        "collected_at": NOW,
        "shadow": {
            "old_login": account(400),
            "recent_login": account(400),
            "boundary": account(400),
            "never_old": account(200),
            "never_new": account(10),
            "never_unknown_date": account(None),
            "exempt": account(400),
            "locked": account(400, state="locked"),
            "no_password": account(400, state="none"),
            "expired": account(400, expire=TODAY - 1),
            "expires_later": account(400, expire=TODAY + 30),
            "temporary": {**account(None), "last_change": 0},  # chage -d 0: awaiting first login
        },
        "lastlog": {
            "old_login": NOW - 120 * DAY,
            "recent_login": NOW - 5 * DAY,
            "boundary": NOW - 90 * DAY,
            "exempt": NOW - 400 * DAY,
            "locked": NOW - 400 * DAY,
            "expired": NOW - 400 * DAY,
        },
    }


def test_idle_accounts():
    idle = idle_accounts(idle_facts(), 90, ["exempt"])
    assert idle == {
        "old_login": "last login 120 days ago",
        "never_old": "never logged in; password set 200 days ago",
        "expires_later": "never logged in; password set 400 days ago",
    }


def test_account_awaiting_first_login_is_not_idle():
    """PW-TEMP provisions with `chage -d 0`; day 0 is not a password set in 1970."""
    assert "temporary" not in idle_accounts(idle_facts(), 1, [])


def test_idle_accounts_follow_the_limit():
    assert "boundary" in idle_accounts(idle_facts(), 89, [])
    assert "never_new" in idle_accounts(idle_facts(), 9, [])
    assert "exempt" in idle_accounts(idle_facts(), 90, [])


def test_role_filter_lists_what_the_audit_judges():
    plugin = import_path("lgsec_filter_plugin", ROOT / "filter_plugins" / "lgsec.py")
    idle_filter = plugin.FilterModule().filters()["lgsec_idle_accounts"]
    # Ansible hands variables over as they are written: a string number, no exempt list.
    assert idle_filter(idle_facts(), "90") == ["exempt", "expires_later", "never_old", "old_login"]
    assert idle_filter(idle_facts(), 90, ["exempt"]) == sorted(idle_accounts(idle_facts(), 90, ["exempt"]))


def test_id_unused_row_lists_idle_accounts(catalog):
    facts, hostvars = hardened("ID-UNUSED")
    assert row_for(evaluate(catalog, facts, hostvars), "ID-UNUSED")["status"] == "pass"
    hostvars = {**hostvars, "lgsec_id_unused_exempt": []}  # suzuki: never logged in, 300 days
    row = status_of(catalog, facts, "ID-UNUSED", hostvars)
    assert row["status"] == "fail"
    assert row["actual"] == "suzuki: never logged in; password set 300 days ago"


# ---- files written the Debian way: key and value separated by a tab ---------------------------


@pytest.mark.parametrize(("minutes", "status"), [(5, "pass"), (30, "fail")])
def test_sudo_defaults_separated_by_a_tab(catalog, minutes, status):
    facts, hostvars = hardened("SESSION-LIMIT")
    del facts["files"]["/etc/sudoers.d/lgsec-session-limit"]
    sudoers = facts["files"]["/etc/sudoers"]
    assert "Defaults\tuse_pty\n" in sudoers  # Debian's own sudoers separates with a tab
    facts["files"]["/etc/sudoers"] = sudoers.replace(
        "Defaults\tuse_pty\n", f"Defaults\tuse_pty\nDefaults\ttimestamp_timeout={minutes}\n"
    )
    row = status_of(catalog, facts, "SESSION-LIMIT", hostvars)
    assert row["status"] == status
    assert f"sudo timestamp_timeout {minutes}" in row["actual"]


@pytest.mark.parametrize(("max_days", "status"), [(90, "pass"), (180, "fail")])
def test_login_defs_separated_by_a_tab(catalog, max_days, status):
    facts, hostvars = hardened("PW-MAXAGE")
    text = facts["files"]["/etc/login.defs"]
    assert "PASS_MAX_DAYS\t90\n" in text  # as Debian ships it, and as the role writes it
    facts["files"]["/etc/login.defs"] = text.replace("PASS_MAX_DAYS\t90", f"PASS_MAX_DAYS\t{max_days}")
    row = status_of(catalog, facts, "PW-MAXAGE", hostvars)
    assert row["status"] == status
    assert f"PASS_MAX_DAYS = {max_days}" in row["actual"] + " ".join(row["evidence"])


def test_lgsec_extra_platforms_names_known_platforms_only():
    from lgsec.catalog import load_catalog
    from lgsec.errors import InputError
    from lgsec.evaluate import validate_hostvars

    validate_hostvars(load_catalog(), "mx01", {"lgsec_extra_platforms": ["mail"], "lgsec_importance": "II"})
    with pytest.raises(InputError, match="lgsec_extra_platforms"):
        validate_hostvars(load_catalog(), "mx01", {"lgsec_extra_platforms": ["postfix"]})
