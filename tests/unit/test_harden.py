"""Audit-driven hardening (lgsec/harden.py, action_plugins/lgsec_harden_plan.py): which controls a
run enforces on a host and why the others are skipped; the catalog's `harden` field; the two-person
rule and the work record of playbooks/harden.yml run directly (ansible-playbook, as AWX runs it)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import import_path

from lgsec import harden, worklog
from lgsec.catalog import load_catalog
from lgsec.cli import main
from lgsec.errors import InputError
from lgsec.evaluate import evaluate_host

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
LINUX_ROLES = ["accounts", "software", "desktop", "network_access", "web_integrity", "antivirus", "logging"]
BASE = json.loads((ROOT / "tests/fixtures/linux/base-debian12.json").read_text(encoding="utf-8"))
HOSTVARS = {"lgsec_importance": "II"}


def rows_with(statuses: dict[str, str], default: str = "pass") -> list[dict]:
    """Audit rows of a Linux host: every Linux control `default` but those named."""
    linux = [c.id for c in CATALOG if "linux" in c.platforms]
    return [{"control": cid, "status": statuses.get(cid, default)} for cid in linux]


ENFORCED = [cid for role in LINUX_ROLES for cid in harden.role_controls(role)]


# ---- the two-person rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "confirmer"),
    [("tanaka", "tanaka"), ("Tanaka", " tanaka "), ("ｔａｎａｋａ", "Tanaka"), ("tanaka  taro", "Tanaka\u3000Taro"),
     ("TANAKA", "tanaka\t")],
)  # fmt: skip
def test_one_person_under_two_spellings_is_refused(operator, confirmer):
    with pytest.raises(InputError, match="another person must confirm"):
        harden.two_persons(operator, confirmer)


@pytest.mark.parametrize(
    ("operator", "confirmer"), [("tanaka", ""), ("", "suzuki"), (" ", "\u3000"), (None, "a"), (3, "a")]
)
def test_both_people_must_be_named(operator, confirmer):
    with pytest.raises(InputError, match="both people must be named"):
        harden.two_persons(operator, confirmer)


def test_two_people_pass_as_given():
    # recorded as given, outer white space off: the work record keeps any text losslessly (issue 16)
    assert harden.two_persons(" 田中  太郎 ", "鈴木 花子") == ("田中  太郎", "鈴木 花子")


# ---- the plan --------------------------------------------------------------------------------------


def test_every_role_control_is_in_the_catalog_and_found_by_its_guarded_import():
    for role in [*LINUX_ROLES, "mail_server"]:
        found = harden.role_controls(role)
        text = (ROOT / "roles" / role / "tasks" / "main.yml").read_text(encoding="utf-8")
        assert found and all(cid in CATALOG.controls for cid in found), role
        assert len(found) == text.count("not in (lgsec_waived_controls"), role


def test_a_compliant_host_skips_every_passing_control():
    """The audit reads everything the Linux roles set (LOCKOUT's admin_group, WEB-TAMPER's check
    script and service since issue 21): no control runs on a compliant host, no role is entered."""
    assert not [c.id for c in CATALOG if c.harden_always and c.id in ENFORCED]
    plan = harden.plan_host(CATALOG, ENFORCED, rows_with({}), [])
    assert plan["run"] == {} and set(plan["skipped"]) == set(ENFORCED)
    assert set(plan["skipped"].values()) == {harden.PASSING} and plan["audit"] == "audited"
    assert harden.roles_to_run(plan, {r: harden.role_controls(r) for r in LINUX_ROLES}) == []


def with_always(cid: str, why: str = "reads less than its role sets"):
    """The catalog with one control declared `harden: always`."""
    controls = dict(CATALOG.controls)
    controls[cid] = dataclasses.replace(controls[cid], harden_always=why)
    return dataclasses.replace(CATALOG, controls=controls)


def test_a_control_declared_always_runs_on_a_compliant_host_and_says_why():
    plan = harden.plan_host(with_always("WEB-TAMPER"), ENFORCED, rows_with({}), [])
    assert plan["run"] == {"WEB-TAMPER": "always (reads less than its role sets)"}
    assert harden.roles_to_run(plan, {r: harden.role_controls(r) for r in LINUX_ROLES}) == ["web_integrity"]


@pytest.mark.parametrize("status", ["fail", "error", "manual", "unreachable"])
def test_anything_but_pass_or_not_applicable_runs(status):
    plan = harden.plan_host(CATALOG, ENFORCED, rows_with({"LOCKOUT": status}), [])
    assert plan["run"]["LOCKOUT"] == f"audit: {status}" and "LOCKOUT" not in plan["skipped"]


def test_a_control_the_policy_does_not_ask_of_the_host_is_skipped_and_enters_no_role():
    """LOG-CENTRAL with no log host named (the catalog default) is not applicable: a rerun on a
    compliant host must not enter roles/logging for it (make bench, 2026-12-02: it did, and
    LOG-RETENTION followed it)."""
    plan = harden.plan_host(CATALOG, ENFORCED, rows_with({"LOG-CENTRAL": "not_applicable"}), [])
    assert plan["skipped"]["LOG-CENTRAL"] == harden.NOT_APPLICABLE and not plan["run"]
    assert harden.roles_to_run(plan, {r: harden.role_controls(r) for r in LINUX_ROLES}) == []


def test_a_control_the_audit_did_not_judge_runs():
    rows = [r for r in rows_with({}) if r["control"] != "LOCKOUT"]  # e.g. narrowed by lgsec_controls
    assert harden.plan_host(CATALOG, ENFORCED, rows, [])["run"]["LOCKOUT"] == "audit: not judged"


def test_a_waived_control_is_skipped_as_waived_whatever_its_audit_and_even_in_a_full_run():
    for full in (False, True):
        plan = harden.plan_host(CATALOG, ENFORCED, rows_with({"LOCKOUT": "fail"}), ["LOCKOUT", "WEB-TAMPER"], full=full)
        assert plan["skipped"]["LOCKOUT"] == plan["skipped"]["WEB-TAMPER"] == harden.WAIVED
        assert "LOCKOUT" not in plan["run"]


def test_a_full_run_runs_everything_not_waived():
    plan = harden.plan_host(CATALOG, ENFORCED, None, ["PW-LENGTH"], full=True)
    assert set(plan["run"]) == set(ENFORCED) - {"PW-LENGTH"} and set(plan["run"].values()) == {"full run"}
    assert plan["audit"].startswith("full run")


def test_a_host_whose_facts_could_not_be_read_runs_everything():
    plan = harden.plan_host(CATALOG, ENFORCED, None, [], problem="gather failed: timeout")
    assert set(plan["run"]) == set(ENFORCED) and not plan["skipped"]
    assert plan["run"]["LOCKOUT"] == "not audited: gather failed: timeout"


def test_a_passing_control_follows_a_control_being_repaired():
    """LOG-RETENTION: the packages AV-RESIDENT's repair installs bring logrotate stanzas."""
    plan = harden.plan_host(CATALOG, ENFORCED, rows_with({"AV-RESIDENT": "fail"}), [])
    assert plan["run"]["LOG-RETENTION"] == "follows AV-RESIDENT"
    # an always-run control whose audit passes is not being repaired: nothing follows it
    plan = harden.plan_host(with_always("WEB-TAMPER"), ENFORCED, rows_with({}), [])
    assert "WEB-TAMPER" in plan["run"] and plan["skipped"]["LOG-RETENTION"] == harden.PASSING
    # …but one whose audit fails is
    plan = harden.plan_host(CATALOG, ENFORCED, rows_with({"WEB-TAMPER": "fail"}), [])
    assert plan["run"]["LOG-RETENTION"] == "follows WEB-TAMPER"


def test_the_stock_debian_host_runs_what_its_audit_finds_failing():
    """The recorded facts of a stock Debian 12 host, judged by the real evaluator."""
    rows = evaluate_host(CATALOG, "stock", BASE, HOSTVARS)
    status = {r["control"]: r["status"] for r in rows}
    plan = harden.plan_host(CATALOG, ENFORCED, rows, [])
    assert {"LOCKOUT", "PW-LENGTH", "FW-DEFAULT-DENY"} <= set(plan["run"])
    for cid, why in plan["skipped"].items():
        assert (why, status[cid]) in ((harden.PASSING, "pass"), (harden.NOT_APPLICABLE, "not_applicable")), cid
    for cid in plan["run"]:
        assert status.get(cid) != "pass" or CATALOG[cid].harden_always or plan["run"][cid].startswith("follows"), cid


def test_the_plan_action_judges_the_registered_gather_and_plans_each_host(monkeypatch):
    from ansible.plugins.action import ActionBase

    action = import_path("lgsec_harden_plan_action", ROOT / "action_plugins" / "lgsec_harden_plan.py")
    base = {"lgsec_importance": "II"}
    hostvars = {
        "stock": {**base, "lgsec_gather": {"lgsec_facts": BASE, "changed": False}},
        "gone": {**base, "lgsec_gather": {"failed": True, "msg": "Timeout"}},
        "mail01": {**base, "lgsec_extra_platforms": ["mail"], "lgsec_gather": {"lgsec_facts": BASE}},
    }
    args = {"hosts": list(hostvars), "roles": [*LINUX_ROLES, "mail_server"], "waived": {"stock": ["TIME-SYNC"]}}
    plugin = action.ActionModule.__new__(action.ActionModule)
    plugin._task = type("Task", (), {"args": args})()
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    result = plugin.run(task_vars={"hostvars": hostvars})
    assert not result.get("failed"), result
    plans = result["plans"]
    assert plans["stock"]["skipped"]["TIME-SYNC"] == harden.WAIVED and "TIME-SYNC" in result["skip"]["stock"]
    assert all(not c.startswith("MAIL-") for c in plans["stock"]["run"])  # not a mail server
    assert "mail_server" not in result["roles"]["stock"] and "mail_server" in result["roles"]["mail01"]
    assert plans["gone"]["audit"] == "not audited: gather failed: Timeout" and not plans["gone"]["skipped"]
    assert result["roles"]["gone"] == LINUX_ROLES
    assert result["skip"]["stock"] == sorted(plans["stock"]["skipped"])


# ---- the catalog's harden field -------------------------------------------------------------------


def catalog_with(tmp_path, harden_field, automation="automated"):
    entry = {"id": "X-ONE", "section": "A", "articles": ["第1条"], "title_ja": "x", "title_en": "x",
             "platforms": ["linux"], "automation": automation, "params": {}, "harden": harden_field}  # fmt: skip
    other = {**entry, "id": "X-TWO"}
    del other["harden"]
    path = tmp_path / "controls.yml"
    path.write_text(yaml.safe_dump({"controls": [entry, other]}, allow_unicode=True), encoding="utf-8")
    (tmp_path / "explanations.yml").write_text(  # every control of a catalog is explained (catalog/README.md)
        yaml.safe_dump({"explanations": {cid: explained(cid) for cid in ("X-ONE", "X-TWO")}}, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def explained(cid: str) -> dict:
    both = {"ja": "x", "en": "x"}
    return {
        "description": both,
        "rationale": {"ja": "第1条による。", "en": "Article 1."},
        "remediation": {"ja": f"lgsec harden --tags {cid} が設定する。", "en": f"lgsec harden --tags {cid} sets it."},
        "references": ["総務省ガイドライン 1.1"],
    }


@pytest.mark.parametrize(
    ("field", "automation", "where", "message"),
    [
        ({"always": ""}, "automated", "harden.always", "must say why"),
        ({"always": True}, "automated", "harden.always", "must say why"),
        ({"sometimes": "x"}, "automated", "harden", "unknown key(s) sometimes"),
        ("always", "automated", "harden", "must be a mapping"),
        ({}, "automated", "harden", "must be a mapping"),
        ({"with": "X-TWO"}, "automated", "harden.with", "non-empty list"),
        ({"with": ["X-NONE"]}, "automated", "harden.with", "not another control's id: X-NONE"),
        ({"with": ["X-ONE"]}, "automated", "harden.with", "not another control's id: X-ONE"),
        ({"always": "x"}, "audit-only", "harden", "only an automated control"),
    ],
)
def test_a_bad_harden_field_names_file_entry_and_field(tmp_path, field, automation, where, message):
    path = catalog_with(tmp_path, field, automation)
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    text = str(caught.value)
    assert str(path) in text and "X-ONE" in text and where in text and message in text


def test_a_good_harden_field_loads(tmp_path):
    control = load_catalog(catalog_with(tmp_path, {"always": " reads less ", "with": ["X-TWO"]}))["X-ONE"]
    assert (control.harden_always, control.harden_with) == ("reads less", ("X-TWO",))
    assert load_catalog(catalog_with(tmp_path, None))["X-ONE"].harden_always == ""


# ---- the work record of playbooks/harden.yml run directly -------------------------------------------


def playbook(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    inv = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "lgsec_importance": "II"}
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host}}}), encoding="utf-8")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), "playbooks/harden.yml", *extra]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False)


@pytest.mark.parametrize(
    "people",
    [[], ["-e", "lgsec_operator=tanaka"], ["-e", "lgsec_operator=tanaka", "-e", "lgsec_confirmed_by=ＴＡＮＡＫＡ "]],
)
def test_the_playbook_refuses_one_person_and_touches_no_host(tmp_path, people):
    log = tmp_path / "work.jsonl"
    done = playbook(tmp_path, *people, "-e", f"lgsec_work_log={log}", "--check")
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "lgsec input error" in out and "lgsec_operator/lgsec_confirmed_by" in out
    assert "Harden Linux hosts" not in out and not log.exists()


def test_the_playbook_refuses_a_made_up_lgsec_harden_entry(tmp_path):
    log = tmp_path / "work.jsonl"
    worklog.append(log, {"event": "started", "operator": "tanaka", "confirmed_by": "suzuki"})
    for made_up in ({"log": str(log), "seq": 2}, {"log": str(log), "seq": "1"}, "1", {"log": str(tmp_path), "seq": 1}):
        record = json.dumps({"lgsec_work_record_run": made_up})
        done = playbook(tmp_path, "-e", "lgsec_operator=tanaka", "-e", "lgsec_confirmed_by=suzuki",
                        "-e", record, "--check")  # fmt: skip
        assert done.returncode != 0 and "names no open started entry" in " ".join(done.stdout.split()), made_up
    done = playbook(tmp_path, "-e", "lgsec_operator=sato", "-e", "lgsec_confirmed_by=suzuki", "-e",
                    json.dumps({"lgsec_work_record_run": {"log": str(log), "seq": 1}}), "--check")  # fmt: skip
    assert done.returncode != 0 and "names no open started entry of sato" in " ".join(done.stdout.split())
    assert "Harden Linux hosts" not in done.stdout and len(log.read_text().splitlines()) == 1


@pytest.mark.slow
def test_the_playbook_records_the_run_like_lgsec_harden(tmp_path, capsys):
    """ansible-playbook harden.yml --check --tags SESSION-LIMIT,WEB-TAMPER on this machine: the
    record has a started and a finished entry with the plan (SESSION-LIMIT fails here and runs),
    and verifies."""
    log = tmp_path / "work.jsonl"
    done = playbook(tmp_path, "-e", "lgsec_operator=tanaka", "-e", "lgsec_confirmed_by=suzuki",
                    "-e", f"lgsec_work_log={log}", "--check", "--tags", "SESSION-LIMIT,WEB-TAMPER")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    opened, entry = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert (opened["event"], entry["event"], entry["run"]) == ("started", "finished", opened["seq"])
    assert (entry["operator"], entry["confirmed_by"], entry["check_mode"]) == ("tanaka", "suzuki", True)
    assert entry["recorded_by"] == "playbooks/harden.yml" and entry["outcome"] == "ok" and entry["rc"] == 0
    assert sorted(entry["controls"]) == ["SESSION-LIMIT", "WEB-TAMPER"] and entry["hosts"] == ["localhost"]
    seen = entry["changes"]["localhost"]
    assert seen["plan"]["run"]["SESSION-LIMIT"] == "audit: fail" and "SESSION-LIMIT" in seen["controls_run"]
    assert f"work record: {log} entry 2 (ok, check mode)" in done.stdout
    assert main(["log", "verify", "--log", str(log)]) == 0
    assert "chain intact" in capsys.readouterr().out


# ---- the Linux roles' one platform guard (issue 18): judged on the gather, before any role runs --------


def plan_result(monkeypatch, hostvars: dict, full: bool = False) -> dict:
    from ansible.plugins.action import ActionBase

    action = import_path("lgsec_harden_plan_action", ROOT / "action_plugins" / "lgsec_harden_plan.py")
    plugin = action.ActionModule.__new__(action.ActionModule)
    plugin._task = type("Task", (), {"args": {"hosts": list(hostvars), "roles": LINUX_ROLES, "full": full}})()
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    return plugin.run(task_vars={"hostvars": hostvars})


def with_os_release(text: str) -> dict:
    return {**BASE, "files": {**BASE["files"], "/etc/os-release": text}}


@pytest.mark.parametrize("full", [False, True], ids=["audit-driven", "full"])
def test_a_linux_host_of_a_family_the_roles_do_not_know_stops_the_plan(monkeypatch, full):
    alpine = with_os_release('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n')
    hostvars = {
        "web01": {"lgsec_importance": "II", "inventory_file": "/srv/hosts.yml", "lgsec_gather": {"lgsec_facts": BASE}},
        "edge": {"lgsec_importance": "II", "inventory_file": "/srv/hosts.yml", "lgsec_gather": {"lgsec_facts": alpine}},
    }
    result = plan_result(monkeypatch, hostvars, full=full)
    assert result.get("failed"), result
    assert "plans" not in result  # no host gets a plan: no role runs anywhere
    message = result["lgsec_input_error"]
    assert message.startswith("/srv/hosts.yml: host edge: /etc/os-release ID: ID=alpine"), message
    assert "Debian and RedHat families only" in message


def test_the_run_remembers_the_input_error_a_controller_step_failed_with():
    """lgsec harden exits 2 (not 4) when the plan refuses a host: the error comes as lgsec_input_error."""
    caught = harden.PlanCatcher()
    caught({"event": "runner_on_failed", "event_data": {"res": {"failed": True, "msg": "boom"}}})
    assert caught.input_error is None  # a task that failed otherwise is a failed run (exit 4)
    refused = {"failed": True, "lgsec_input_error": "/srv/hosts.yml: host edge: /etc/os-release ID: ID=alpine"}
    caught({"event": "runner_on_failed", "event_data": {"task_action": "lgsec_harden_plan", "res": refused}})
    assert caught.input_error == refused["lgsec_input_error"]


@pytest.mark.parametrize(
    ("os_release", "family"),
    [
        ("ID=debian\nVERSION_ID=13\n", "Debian"),
        ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n', "Debian"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', "RedHat"),
    ],
)
def test_the_families_the_roles_know_are_planned(monkeypatch, os_release, family):
    assert harden.linux_family("web01", with_os_release(os_release)) == family
    hostvars = {"web01": {"lgsec_importance": "II", "lgsec_gather": {"lgsec_facts": with_os_release(os_release)}}}
    assert not plan_result(monkeypatch, hostvars).get("failed")


def test_an_unread_os_release_is_an_input_error_naming_it():
    facts = {**BASE, "files": {k: v for k, v in BASE["files"].items() if k != "/etc/os-release"}}
    facts["errors"] = {"/etc/os-release": "Permission denied"}
    with pytest.raises(InputError, match=r"host web01: /etc/os-release: cannot tell the OS family"):
        harden.linux_family("web01", facts)


@pytest.mark.parametrize("role", ["accounts", "antivirus", "desktop", "logging", "network_access", "software"])
def test_every_linux_role_knows_exactly_the_families_the_plan_lets_through(role):
    """The roles key their paths and packages by os_family (vars/main.yml); the plan's one guard
    lets through only the families every one of them knows."""
    variables = yaml.safe_load((ROOT / "roles" / role / "vars" / "main.yml").read_text(encoding="utf-8"))
    table = next(v for k, v in variables.items() if k in (f"lgsec_{role}_platforms", f"lgsec_{role}_families"))
    assert set(table) == set(harden.LINUX_FAMILIES.values())
