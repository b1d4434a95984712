"""Exceptions (第99–101条): validation (exit 2), waiving in the audit, skipping in the hardening,
the review section of the report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from lgsec import exceptions, report_html
from lgsec.catalog import load_catalog
from lgsec.cli import main
from lgsec.errors import InputError

INVENTORY = {"web01": ["importance_3", "web"], "db01": ["importance_1"], "pc01": ["importance_2", "pcs"]}
TODAY = date(2026, 11, 25)
GOOD = {
    "reference": "情シ第2026-014号",
    "control": "USB-STORAGE",
    "hosts": ["pc01"],
    "reason": "障害対応用の外付けディスク",
    "requested_by": "山田",
    "approved_by": "CISO 佐藤",
    "approved_on": "2026-10-01",
    "expires_on": "2027-03-31",
}


def write(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "exceptions.yml"
    path.write_text(yaml.safe_dump({"exceptions": list(entries)}, allow_unicode=True), encoding="utf-8")
    return path


def load(path: Path):
    return exceptions.load(path, load_catalog(), INVENTORY)


def test_a_valid_file_loads(tmp_path):
    (exc,) = load(write(tmp_path, GOOD))
    assert (exc.reference, exc.control, exc.hosts, exc.approved_on) == (
        GOOD["reference"],
        "USB-STORAGE",
        ("pc01",),
        date(2026, 10, 1),
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"control": "USB-STORGE"}, "control", "unknown control id 'USB-STORGE'"),
        ({"hosts": ["pc99"]}, "hosts", "unknown host 'pc99'"),
        ({"hosts": None, "groups": ["kiosks"]}, "groups", "unknown group 'kiosks'"),
        ({"hosts": None}, "hosts", "name the hosts or groups"),
        ({"approved_by": None}, "approved_by", "missing"),
        ({"approved_by": "山田"}, "approved_by", "must not be the requester (第8条)"),
        ({"expires_on": "2026-09-30"}, "expires_on", "2026-09-30 is before the approval 2026-10-01"),
        ({"approved_on": "2026-13-01"}, "approved_on", "must be a date YYYY-MM-DD"),
        ({"ticket": "x"}, "ticket", "unknown field"),
    ],
)
def test_bad_entries_name_file_entry_and_field(tmp_path, change, field, message):
    path = write(tmp_path, GOOD, {**GOOD, "reference": "情シ第2026-015号", **change})
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.where == f"{path}: exception 2 (情シ第2026-015号)"
    assert caught.value.field == field and message in caught.value.message


def test_a_reference_is_used_once(tmp_path):
    with pytest.raises(InputError, match="reference: used by an earlier exception"):
        load(write(tmp_path, GOOD, {**GOOD, "hosts": ["web01"]}))


def rows(status: str = "fail") -> list[dict]:
    return [
        {"host": h, "control": c, "status": status, "expected": "e", "actual": "a"}
        for h in INVENTORY
        for c in ("USB-STORAGE", "PW-LENGTH")
    ]


def test_a_live_exception_waives_only_its_control_on_its_hosts(tmp_path):
    waivers = load(
        write(tmp_path, GOOD, {**GOOD, "reference": "R-2", "hosts": None, "groups": ["web"], "control": "PW-LENGTH"})
    )
    got = exceptions.apply(rows(), waivers, INVENTORY, TODAY)
    status = {(r["host"], r["control"]): r["status"] for r in got}
    assert status == {
        ("web01", "USB-STORAGE"): "fail",
        ("web01", "PW-LENGTH"): "waived",  # by group
        ("db01", "USB-STORAGE"): "fail",
        ("db01", "PW-LENGTH"): "fail",
        ("pc01", "USB-STORAGE"): "waived",  # by host
        ("pc01", "PW-LENGTH"): "fail",
    }
    waived = next(r for r in got if r["host"] == "pc01" and r["status"] == "waived")
    assert waived["exception"] == {
        "reference": "情シ第2026-014号",
        "reason": GOOD["reason"],
        "expires_on": "2027-03-31",
    }


def test_only_failures_are_waived(tmp_path):
    waivers = load(write(tmp_path, GOOD))
    assert {r["status"] for r in exceptions.apply(rows("error"), waivers, INVENTORY, TODAY)} == {"error"}


def test_an_expired_exception_waives_nothing_and_is_listed_expired(tmp_path):
    expired = {**GOOD, "approved_on": "2025-04-01", "expires_on": "2026-03-31"}
    waivers = load(write(tmp_path, expired))
    assert {r["status"] for r in exceptions.apply(rows(), waivers, INVENTORY, TODAY)} == {"fail"}
    (item,) = exceptions.review(waivers, INVENTORY, TODAY)
    assert (item["state"], item["days_to_expiry"], item["hosts"]) == ("expired", -239, ["pc01"])
    assert exceptions.waived_controls(waivers, "pc01", INVENTORY["pc01"], TODAY) == []


def test_review_lists_days_to_expiry_and_hosts_covered(tmp_path):
    waivers = load(write(tmp_path, GOOD, {**GOOD, "reference": "R-2", "hosts": ["db01"], "groups": ["web"]}))
    review = exceptions.review(waivers, INVENTORY, TODAY)
    assert [(i["reference"], i["state"], i["days_to_expiry"], i["hosts"]) for i in review] == [
        ("情シ第2026-014号", "live", 126, ["pc01"]),
        ("R-2", "live", 126, ["db01", "web01"]),
    ]
    assert exceptions.waived_controls(waivers, "web01", INVENTORY["web01"], TODAY) == ["USB-STORAGE"]
    page = report_html.render({"run": {}, "results": [], "exceptions": review})
    assert page.count('<tr class="exception" data-state="live">') == 2 and "db01, web01" in page


def test_the_default_file_is_the_one_beside_the_inventory(tmp_path):
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  hosts:\n    web01:\n", encoding="utf-8")
    assert exceptions.default_file(inv) is None
    write(tmp_path, GOOD)
    assert exceptions.default_file(inv) == tmp_path / "exceptions.yml"
    assert exceptions.default_file(tmp_path) == tmp_path / "exceptions.yml"


def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "lgsec_pw_length_min": 64}
    path.write_text(
        yaml.safe_dump({"all": {"hosts": {"web01": host}, "children": {"importance_3": {"hosts": {"web01": None}}}}}),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("explicit", [True, False], ids=["--exceptions", "beside-the-inventory"])
def test_cli_refuses_a_bad_exceptions_file_before_anything_runs(tmp_path, capsys, explicit):
    inv = inventory(tmp_path)
    path = write(tmp_path, {**GOOD, "control": "PW-LENGTH", "hosts": ["web01"], "approved_by": "山田"})
    outdir = tmp_path / "out"
    extra = ["--exceptions", str(path)] if explicit else []
    assert main(["audit", "-i", str(inv), "-o", str(outdir), *extra]) == 2
    assert f"{path}: exception 1 (情シ第2026-014号): approved_by: the approver must not be the requester" in (
        capsys.readouterr().err
    )
    assert not outdir.exists()


def test_cli_refuses_a_missing_exceptions_file(tmp_path, capsys):
    assert main(["audit", "-i", str(inventory(tmp_path)), "--exceptions", str(tmp_path / "nope.yml")]) == 2
    assert "exceptions file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_audit_waives_a_failure_and_reports_the_exceptions(tmp_path):
    """A real audit of this machine as web01: PW-LENGTH with a minimum of 64 fails; the live
    exception waives it (exit 0), the expired one is listed and waives nothing."""
    inv = inventory(tmp_path)
    expired = {**GOOD, "reference": "R-old", "control": "PW-LENGTH", "hosts": ["web01"]}
    expired |= {"approved_on": "2024-04-01", "expires_on": "2025-03-31"}
    live = {**GOOD, "reference": "R-live", "control": "PW-LENGTH", "hosts": None, "groups": ["importance_3"]}
    lgsec = [sys.executable, "-m", "lgsec.cli", "audit", "-i", str(inv), "--controls", "PW-LENGTH"]
    out = tmp_path / "out"
    write(tmp_path, expired)
    first = subprocess.run([*lgsec, "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "exception R-old (PW-LENGTH) is expired: it waives nothing" in first.stdout
    write(tmp_path, expired, live)
    second = subprocess.run([*lgsec, "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (row,) = data["results"]
    assert row["status"] == "waived" and row["exception"]["reference"] == "R-live"
    assert [(e["reference"], e["state"]) for e in data["exceptions"]] == [("R-old", "expired"), ("R-live", "live")]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<tr class="exception" data-state="expired">' in page and "R-live" in page
    assert "例外承認 waived" in (out / "report.csv").read_text(encoding="utf-8-sig")


# ---- hardening: every control's import carries the guard ---------------------------------------

IMPORT = re.compile(r"^- name: (\S+)\n  ansible\.builtin\.import_tasks: \S+\n  tags: \[(\S+)\]\n(  when: .*\n)?", re.M)


@pytest.mark.parametrize("main_yml", sorted(ROOT.glob("roles/*/tasks/main.yml")), ids=lambda p: p.parts[-3])
def test_every_control_import_skips_waived_controls(main_yml):
    ids = set(load_catalog().controls)
    imports = [m for m in IMPORT.finditer(main_yml.read_text(encoding="utf-8")) if m.group(1) in ids]
    for match in imports:
        control = match.group(1)
        assert match.group(2) == control
        assert match.group(3) == f"  when: \"'{control}' not in (lgsec_waived_controls | default([]))\"\n", control


def test_harden_sets_the_waived_controls_per_host_and_passes_syntax_check():
    play = yaml.safe_load((ROOT / "playbooks" / "harden.yml").read_text(encoding="utf-8"))[0]
    tasks = {t["name"]: t for t in play["tasks"]}
    setter = next(t for t in tasks.values() if "ansible.builtin.set_fact" in t)
    assert setter["ansible.builtin.set_fact"] == {
        "lgsec_waived_controls": "{{ lgsec_validated.waived[inventory_hostname] }}"
    }
    check = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--syntax-check",
            "-i",
            "localhost,",
            "playbooks/harden.yml",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_cli_knows_the_hosts_outside_the_limit(tmp_path, capsys):
    """An exception may name any host of the inventory, not only those of --limit: entry 1 (db01,
    outside the limit) is accepted, entry 2 is refused for its approver."""
    inv = tmp_path / "hosts.yml"
    hosts = {"web01": {"ansible_connection": "local"}, "db01": {"ansible_connection": "local"}}
    inv.write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": {"lgsec_importance": "II"}}}), encoding="utf-8")
    path = write(
        tmp_path, {**GOOD, "hosts": ["db01"]}, {**GOOD, "reference": "R-2", "hosts": ["web01"], "approved_by": "山田"}
    )
    assert main(["audit", "-i", str(inv), "-l", "web01", "--exceptions", str(path), "-o", str(tmp_path / "o")]) == 2
    assert f"{path}: exception 2 (R-2): approved_by:" in capsys.readouterr().err


def test_offline_audit_of_saved_configurations_applies_exceptions(tmp_path, capsys):
    """lgsec audit --configs: the same waiving and review as a live audit (exceptions need -i)."""
    net = ROOT / "tests" / "fixtures" / "network"
    base = ["audit", "--configs", str(net / "configs"), "-i", str(net / "inventory.yml")]
    assert main([*base, "-o", str(tmp_path / "before"), "--history", str(tmp_path / "h.sqlite")]) == 1
    rows = json.loads((tmp_path / "before" / "report.json").read_text(encoding="utf-8"))["results"]
    failed = next(r for r in rows if r["host"] == "sw-bad" and r["status"] == "fail")
    path = write(tmp_path, {**GOOD, "control": failed["control"], "hosts": None, "groups": ["switches"]})
    main([*base, "-o", str(tmp_path / "after"), "--exceptions", str(path), "--history", str(tmp_path / "h.sqlite")])
    data = json.loads((tmp_path / "after" / "report.json").read_text(encoding="utf-8"))
    after = {(r["host"], r["control"]): r for r in data["results"]}
    assert after["sw-bad", failed["control"]]["status"] == "waived"
    assert after["sw-bad", failed["control"]]["exception"]["reference"] == GOOD["reference"]
    assert data["exceptions"][0]["hosts"] == ["sw-bad", "sw-good"]
    assert data["changes"]["previous"]  # the history given by --history compared the two runs
    assert not (tmp_path / "after" / "history.sqlite").exists()
    capsys.readouterr()
    assert main(["audit", "--configs", str(net / "configs"), "--exceptions", str(path), "-o", str(tmp_path)]) == 2
    assert "give -i INVENTORY" in capsys.readouterr().err


def test_the_example_inventory_exceptions_are_valid():
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    example = ROOT / "inventories" / "example"
    manager = InventoryManager(loader=DataLoader(), sources=[str(example / "hosts.yml")])  # groups only, no vault
    groups = exceptions.inventory_groups({g.name: [h.name for h in g.get_hosts()] for g in manager.groups.values()})
    assert exceptions.default_file(example / "hosts.yml") == example / "exceptions.yml"
    found = exceptions.load(example / "exceptions.yml", load_catalog(), groups)
    review = exceptions.review(found, groups, TODAY)
    assert [(i["state"], i["hosts"]) for i in review] == [
        ("live", ["somu-pc01"]),
        ("expired", ["rt-branch01", "sw-honcho-1f"]),
    ]


def test_network_device_plan_leaves_out_waived_controls():
    """roles/network_device plans from the audit's model (filter lgsec_network_plan); its plan.yml
    passes the plan through lgsec_network_plan_without(lgsec_waived_controls)."""
    from conftest import import_path

    plan_filter = import_path("lgsec_network_filter", ROOT / "filter_plugins" / "lgsec_network.py")
    waived_filter = import_path("lgsec_waived_filter", ROOT / "filter_plugins" / "lgsec_waived.py")
    running = (ROOT / "tests" / "fixtures" / "network" / "configs" / "sw-bad.cfg").read_text(encoding="utf-8")
    plan = plan_filter.lgsec_network_plan(running, {"ansible_network_os": "cisco.ios.ios"}, "netadmin")
    assert {"PW-LENGTH", "LOCKOUT"} <= set(plan["text"]) and plan["remove_users"] and plan["blockers"]
    blocked = {b.split(": ", 1)[0] for b in plan["blockers"]}
    waived = waived_filter.lgsec_network_plan_without(plan, ["PW-LENGTH", "PRIV-DEFAULT-ID", *blocked])
    assert "PW-LENGTH" not in waived["text"] and "LOCKOUT" in waived["text"]
    assert not [c for c in waived["commands"] if c["control"] in ("PW-LENGTH", "PRIV-DEFAULT-ID")]
    assert (waived["remove_users"], waived["enable_secret_missing"], waived["blockers"]) == ([], False, [])
    assert waived_filter.lgsec_network_plan_without(plan, []) == plan
    role = (ROOT / "roles" / "network_device" / "tasks" / "plan.yml").read_text(encoding="utf-8")
    assert "lgsec_network_plan | lgsec_network_plan_without(lgsec_waived_controls)" in role
