"""Network devices judged from saved running configurations (IOS fixtures: an access switch and a
router, each compliant and not; FRR), and the enforcement plan that makes the failing ones pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, import_path, row_for

from lgsec import network, network_plan, network_store, offline
from lgsec.evaluate import evaluate_host, params_for

NET = ROOT / "tests" / "fixtures" / "network"
CONFIGS = NET / "configs"
# The N controls of CONTROLS.md; enable secret and service password-encryption are judged
# under PRIV-DEFAULT-ID (no control of their own in the catalog).
N_CONTROLS = (
    "PW-LENGTH",
    "LOCKOUT",
    "PRIV-DEFAULT-ID",
    "SESSION-LIMIT",
    "REMOTE-ENCRYPTED",
    "REMOTE-MINIMAL",
    "NET-PORTS-UNUSED",
    "NET-SNMP",
    "SVC-UNNEEDED",
    "LOG-RETENTION",
    "LOG-CENTRAL",
    "TIME-SYNC",
)
DEVICES = ("sw", "rt")


def inventory_vars() -> dict[str, dict]:
    """Host variables of the fixture inventory (group vars flattened, as Ansible would)."""
    data = yaml.safe_load((NET / "inventory.yml").read_text(encoding="utf-8"))
    out = {}

    def walk(group: dict, inherited: dict):
        merged = {**inherited, **(group.get("vars") or {})}
        for host in group.get("hosts") or {}:
            out[host] = dict(merged)
        for child in (group.get("children") or {}).values():
            walk(child, merged)

    walk(data["all"], {})
    return out


def device(catalog, name: str) -> tuple[str, dict, dict]:
    hosts = {h: (h, f, v) for h, f, v in offline.config_hosts(catalog, CONFIGS, inventory_vars())}
    return hosts[name]


def judge(catalog, name: str, facts: dict | None = None) -> dict[str, dict]:
    host, saved, hostvars = device(catalog, name)
    rows = evaluate_host(catalog, host, facts or saved, hostvars, source="config")
    return {r["control"]: r for r in rows}


def all_params(catalog, hostvars: dict) -> dict[str, dict]:
    return {c.id: params_for(c, hostvars) for c in catalog}


@pytest.mark.parametrize("kind", DEVICES)
@pytest.mark.parametrize("control", N_CONTROLS)
def test_each_control_passes_on_the_compliant_and_fails_on_the_other(catalog, control, kind):
    good, bad = judge(catalog, f"{kind}-good")[control], judge(catalog, f"{kind}-bad")[control]
    assert good["status"] == "pass", f"{kind}-good {control}: {good['actual']}"
    assert bad["status"] == "fail", f"{kind}-bad {control}: {bad['actual']}"
    assert good["evidence"] and bad["evidence"], "a verdict cites the configuration lines it read"
    assert all(e.startswith(str(CONFIGS)) for e in bad["evidence"]), bad["evidence"]
    assert good["source"] == "config" and good["platform"] == "network"


# What each failing fixture's row must name (the offending values, as an auditor reads them).
EXPECT_ACTUAL = {
    ("sw-bad", "PW-LENGTH"): ["min-length 8"],
    ("rt-bad", "LOCKOUT"): ["attempts 10 > 5", "block-for 60 s < 900 s"],
    ("sw-bad", "PRIV-DEFAULT-ID"): ["default user name admin", "enable password", "no enable secret", "encryption off"],
    ("rt-bad", "PRIV-DEFAULT-ID"): ["default user name cisco", "service password-encryption off"],
    ("sw-bad", "SESSION-LIMIT"): ["line con 0: exec-timeout never", "line vty 0 4: exec-timeout 1800 s"],
    ("sw-bad", "REMOTE-ENCRYPTED"): ["transport input telnet ssh", "transport input all", "ip ssh version 2 not set"],
    ("rt-bad", "REMOTE-ENCRYPTED"): ["line vty 0 4: no transport input"],
    ("sw-bad", "REMOTE-MINIMAL"): ["access-class 10, not MGMT-SSH", "line vty 5 15: no access-class"],
    ("sw-bad", "NET-PORTS-UNUSED"): [
        "GigabitEthernet1/0/23 declared unused but not shut",
        "GigabitEthernet1/0/1: access port without switchport port-security maximum 1",
        "GigabitEthernet1/0/2: access port without switchport port-security;",
        "violation shutdown",
    ],
    ("sw-bad", "NET-SNMP"): ["community public (RO)", "community private (RW)"],
    ("rt-bad", "NET-SNMP"): ["community k… (hidden) (RO)"],
    ("sw-bad", "SVC-UNNEEDED"): ["ip http server", "service tcp-small-servers"],
    ("rt-bad", "SVC-UNNEEDED"): ["service udp-small-servers", "CDP on external interface GigabitEthernet0/0/0"],
    ("rt-bad", "LOG-RETENTION"): ["logging buffered 8192", "without date and time"],
    ("rt-bad", "LOG-CENTRAL"): ["no logging host 10.10.0.50"],
    ("rt-bad", "TIME-SYNC"): ["missing ntp server 10.10.0.12", "other ntp server pool.ntp.org"],
}


@pytest.mark.parametrize(("host", "control"), sorted(EXPECT_ACTUAL))
def test_fail_rows_name_the_offending_values(catalog, host, control):
    row = judge(catalog, host)[control]
    for offending in EXPECT_ACTUAL[(host, control)]:
        assert offending in row["actual"], f"{host} {control}: {row['actual']!r} lacks {offending!r}"


def test_secrets_never_reach_the_report(catalog):
    rows = list(judge(catalog, "sw-bad").values()) + list(judge(catalog, "rt-bad").values())
    text = yaml.safe_dump(rows, allow_unicode=True)
    assert "kumiai-ro" not in text  # a community that is not a default one is a secret too
    for secret in ("cisco123", "0822455D0A16544541", "045802150C2E", "$9$"):
        assert secret not in text


@pytest.mark.parametrize("kind", DEVICES)
def test_the_plan_turns_the_failing_configuration_into_a_passing_one(catalog, kind):
    _host, facts, hostvars = device(catalog, f"{kind}-bad")
    cfg = network.from_facts(facts)
    params = all_params(catalog, hostvars)
    cmds = network_plan.plan(cfg, params, operator="netadmin")
    failing = {c for c, r in judge(catalog, f"{kind}-bad").items() if r["status"] == "fail"}
    blocked = {
        "sw": {"PRIV-DEFAULT-ID": "no enable secret"},
        "rt": {"REMOTE-MINIMAL": "access-class 99, not MGMT-SSH"},
    }[kind]
    assert failing == set(N_CONTROLS)
    assert {c.control for c in cmds} == failing - ({"REMOTE-MINIMAL"} if kind == "rt" else set())
    after = network_plan.apply(facts["running_config"], cmds)
    rows = judge(catalog, f"{kind}-bad", {**facts, "running_config": after})
    still = {c: r["actual"] for c, r in rows.items() if c in N_CONTROLS and r["status"] != "pass"}
    # what the plan cannot invent (an enable secret, the management networks of an ACL) stays a
    # finding, and the role stops on it with that reason (network_plan.blockers)
    assert set(still) == set(blocked), still
    for control, reason in blocked.items():
        assert reason in still[control]
        assert any(b.startswith(control) for b in network_plan.blockers(network.from_facts(facts), params))
    # idempotence: the plan of the fixed configuration is empty
    assert network_plan.plan(network.parse(after, "ios", "after"), all_params(catalog, hostvars), "netadmin") == []


def test_the_plan_of_a_compliant_device_is_empty(catalog):
    for kind in DEVICES:
        _host, facts, hostvars = device(catalog, f"{kind}-good")
        assert network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars), "netadmin") == []


def test_the_plan_never_removes_the_operator(catalog):
    _host, facts, hostvars = device(catalog, "sw-bad")
    lines = [c.line for c in network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars), "admin")]
    assert "no username admin" not in lines
    lines = [c.line for c in network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars), "netadmin")]
    assert "no username admin" in lines


def test_rendered_plan_is_configuration_text(catalog):
    _host, facts, hostvars = device(catalog, "rt-bad")
    text = network_plan.render(network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars), "netadmin"))
    assert "line vty 0 4\n exec-timeout 10 0\n transport input ssh\n" in text  # no access-class: MGMT-SSH undefined
    assert "interface GigabitEthernet0/0/0\n no cdp enable\n" in text
    assert text.startswith("security passwords min-length 12\n")


def test_vendor_from_inventory_header_or_default(tmp_path):
    assert network.vendor_of({}, {"vendor": "frr"}) == "frr"
    assert network.vendor_of({"ansible_network_os": "cisco.ios.ios"}, {"vendor": "frr"}) == "ios"
    assert network.vendor_of({}, {}) == "ios"
    with pytest.raises(Exception, match="unknown network vendor 'junos'"):
        network.vendor_of({"lgsec_network_vendor": "junos"}, {}, where="x.cfg")


def test_unreadable_configuration_is_an_error_never_a_pass(catalog):
    rows = evaluate_host(catalog, "r1", {"platform": "network", "vendor": "ios", "running_config": ""}, {})
    assert {r["status"] for r in rows if r["control"] in N_CONTROLS} <= {"error", "not_applicable"}
    assert row_for(rows, "PW-LENGTH")["status"] == "error"


def test_a_saved_frr_configuration_without_header_is_read_as_frr(tmp_path, catalog):
    text = (NET / "frr" / "frr-good.cfg").read_text(encoding="utf-8").split("\n", 2)[2]  # header lines removed
    (tmp_path / "edge01.cfg").write_text(text, encoding="utf-8")
    ((host, facts, _),) = offline.config_hosts(catalog, tmp_path)
    assert host == "edge01" and facts["vendor"] == "frr"


def test_header_names_the_host(tmp_path, catalog):
    (tmp_path / "a.txt").write_text("! lgsec: vendor=ios host=core01\nhostname core01\n", encoding="utf-8")
    ((host, facts, _),) = offline.config_hosts(catalog, tmp_path)
    assert host == "core01" and facts["vendor"] == "ios" and facts["source"] == str(tmp_path / "a.txt")


def test_configs_directory_must_hold_configurations(tmp_path, catalog):
    with pytest.raises(Exception, match="no configuration file"):
        offline.config_hosts(catalog, tmp_path)
    with pytest.raises(Exception, match="not a directory"):
        offline.config_hosts(catalog, Path(tmp_path) / "missing")


def test_cli_audits_a_folder_of_saved_configurations(tmp_path, capsys):
    from lgsec import cli

    rc = cli.main(["audit", "--configs", str(CONFIGS), "-i", str(NET / "inventory.yml"), "-o", str(tmp_path)])
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    by_host = {}
    for r in data["results"]:
        by_host.setdefault(r["host"], {})[r["status"]] = by_host.setdefault(r["host"], {}).get(r["status"], 0) + 1
    assert rc == 1  # findings
    assert by_host == {
        "rt-bad": {"fail": 12},
        "rt-good": {"pass": 12},
        "sw-bad": {"fail": 12},
        "sw-good": {"pass": 12},
        # devices of the inventory with no file in the folder are named, never left out
        "frr-bad": {"error": 12},
        "frr-good": {"error": 12},
    }
    assert {r["source"] for r in data["results"]} == {"config"}
    assert "configurations" in data["run"]["inventory"]
    assert "[FAIL] NET-SNMP" in capsys.readouterr().out


def test_cli_without_inventory_uses_the_catalog_defaults(tmp_path):
    from lgsec import cli

    (tmp_path / "sw-good.cfg").write_text((CONFIGS / "sw-good.cfg").read_text(encoding="utf-8"), encoding="utf-8")
    assert cli.main(["audit", "--configs", str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    rows = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["results"]
    # no log host in the catalog defaults, but the device sends to its own: judged, naming that host
    assert row_for(rows, "LOG-CENTRAL")["status"] == "pass"
    assert row_for(rows, "LOG-CENTRAL")["actual"] == "logging host 10.10.0.50"
    assert row_for(rows, "REMOTE-MINIMAL")["actual"] == "every vty restricted by its access-class"


def test_a_saved_configuration_whose_device_the_inventory_lacks_is_named(tmp_path, capsys):
    """-i given, a file of a device the inventory does not know: judged on the catalog defaults,
    and the operator is told so (not silently judged without the site's figures)."""
    from lgsec import cli

    saved = (CONFIGS / "sw-good.cfg").read_text(encoding="utf-8")
    (tmp_path / "sw-new.cfg").write_text(saved.replace("host=sw-good", "host=sw-new"), encoding="utf-8")
    (tmp_path / "sw-good.cfg").write_text((CONFIGS / "sw-good.cfg").read_text(encoding="utf-8"), encoding="utf-8")
    cli.main(["audit", "--configs", str(tmp_path), "-i", str(NET / "inventory.yml"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert f"{tmp_path / 'sw-new.cfg'}: sw-new is not in the inventory: judged on the catalog defaults" in err
    assert "sw-good" not in err


def test_cli_bad_configs_argument_is_an_input_error(tmp_path, capsys):
    from lgsec import cli

    assert cli.main(["audit", "--configs", str(tmp_path / "nowhere")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_backup_store_records_each_change_and_the_report_links_it(tmp_path, catalog):
    store = tmp_path / "store"
    good = (CONFIGS / "rt-good.cfg").read_text(encoding="utf-8")
    first = network_store.store_backups(store, {"rt-good": network_store.backup_text(good, "ios", "rt-good")})
    assert first["new"] == ["rt-good"] and first["commit"]
    assert network_store.last_change(store, "rt-good")["commit"] == first["commit"]
    again = network_store.store_backups(store, {"rt-good": network_store.backup_text(good, "ios", "rt-good")})
    assert again == {"changed": [], "new": [], "commit": None, "diffs": {}}  # nothing changed: no commit
    # a volatile line (IOS rewrites it at every show) is not a change
    stamped = good.replace("!\nversion", "! Last configuration change at 10:01:02 JST Tue Nov 24 2026\n!\nversion", 1)
    assert (
        network_store.store_backups(store, {"rt-good": network_store.backup_text(stamped, "ios", "rt-good")})["commit"]
        is None
    )
    changed = good.replace("ntp server 10.10.0.12\n", "")
    dry = network_store.store_backups(
        store, {"rt-good": network_store.backup_text(changed, "ios", "rt-good")}, dry_run=True
    )
    assert dry["changed"] == ["rt-good"] and dry["commit"] is None and not (store / "changes").exists()
    second = network_store.store_backups(
        store, {"rt-good": network_store.backup_text(changed, "ios", "rt-good")}, "ticket 42"
    )
    diff = (store / "changes" / "rt-good.diff").read_text(encoding="utf-8")
    assert "-ntp server 10.10.0.12" in diff
    link = network_store.last_change(store, "rt-good")
    assert link["commit"] == second["commit"] and link["diff"] == str(store / "changes" / "rt-good.diff")
    # the store is a folder of saved configurations: lgsec audit --configs reads it, rows link the change
    hosts = offline.config_hosts(catalog, store, inventory_vars())
    rows = evaluate_host(catalog, *hosts[0], source="config")
    rows = network_store.with_last_change(rows, hosts[0][1])
    assert row_for(rows, "TIME-SYNC")["status"] == "fail"
    assert row_for(rows, "TIME-SYNC")["last_change"]["commit"] == second["commit"]


# FRRouting, recorded on the lab device before and after hardening (tests/network/test_frr_live.py).
FRR_LIVE = ("PRIV-DEFAULT-ID", "SESSION-LIMIT", "REMOTE-MINIMAL", "NET-PORTS-UNUSED", "LOG-RETENTION", "LOG-CENTRAL")


def frr_rows(catalog, name: str, text: str | None = None) -> dict[str, dict]:
    hosts = {h: (h, f, v) for h, f, v in offline.config_hosts(catalog, NET / "frr", inventory_vars())}
    host, facts, hostvars = hosts[name]
    facts = {**facts, "running_config": text} if text else facts
    return {r["control"]: r for r in evaluate_host(catalog, host, facts, hostvars, source="config")}


@pytest.mark.parametrize("control", N_CONTROLS)
def test_frr_verdicts_on_the_recorded_configurations(catalog, control):
    good, bad = frr_rows(catalog, "frr-good")[control], frr_rows(catalog, "frr-bad")[control]
    if control in FRR_LIVE:
        assert (good["status"], bad["status"]) == ("pass", "fail"), (good["actual"], bad["actual"])
    else:  # FRR has no such thing: not applicable, saying which Linux control covers the host
        assert good["status"] == bad["status"] == "not_applicable"
        assert "FRR has no" in good["actual"] and "(Linux " in good["actual"]


def test_frr_plan_fixes_the_recorded_drift(catalog):
    hosts = {h: (f, v) for h, f, v in offline.config_hosts(catalog, NET / "frr", inventory_vars())}
    facts, hostvars = hosts["frr-bad"]
    params = all_params(catalog, hostvars)
    cmds = network_plan.plan(network.from_facts(facts), params, "netadmin")
    assert network_plan.render(cmds) == (
        "service password-encryption\nlog syslog informational\n"
        "line vty\n exec-timeout 5 0\n access-class MGMT\ninterface swp9\n shutdown\n"
    )  # what the live check mode printed, and what the lab's hardening pushed
    after = frr_rows(catalog, "frr-bad", network_plan.apply(facts["running_config"], cmds))
    assert {c for c, r in after.items() if r["status"] == "pass"} == set(FRR_LIVE) - {"PRIV-DEFAULT-ID"}
    # the clear-text vty password stays a finding offline: only the device encrypts it
    # (live, service password-encryption turned it into `password 8 …`: frr-good)
    assert "clear-text password" in after["PRIV-DEFAULT-ID"]["actual"]
    good, good_vars = hosts["frr-good"]
    assert network_plan.plan(network.from_facts(good), all_params(catalog, good_vars), "netadmin") == []


def test_the_roles_filter_plans_what_the_audit_found(catalog):
    plugin = import_path("lgsec_network_filter", ROOT / "filter_plugins" / "lgsec_network.py")
    _host, facts, hostvars = device(catalog, "sw-bad")
    role_vars = yaml.safe_load((ROOT / "roles" / "network_device" / "vars" / "main.yml").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((ROOT / "roles" / "network_device" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    # every policy variable of the role reaches the plan
    assert {k for k in defaults if k.startswith("lgsec_") and k != "lgsec_network_enable_secret"} <= set(
        role_vars["lgsec_network_variables"]
    )
    out = plugin.lgsec_network_plan(
        facts["running_config"], {**hostvars, "ansible_network_os": "cisco.ios.ios"}, "netadmin"
    )
    cmds = network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars), "netadmin")
    assert out["vendor"] == "ios" and out["enable_secret_missing"]
    assert set(out["text"]) == {c.control for c in cmds}
    assert out["remove_users"] == ["admin"] and "no username" not in "".join(out["text"].values())  # ios_user
    assert (
        out["text"]["SESSION-LIMIT"]
        == "line con 0\n exec-timeout 10 0\nline vty 0 4\n exec-timeout 10 0\nline vty 5 15\n exec-timeout 10 0\n"
    )
    assert any("no enable secret" in b for b in out["blockers"])
    given = plugin.lgsec_network_plan(facts["running_config"], hostvars, "netadmin", enable_secret_given=True)
    assert not given["blockers"]


def test_access_ports_named_in_the_inventory_become_static_secured_ports(catalog):
    text = "hostname sw9\n!\ninterface GigabitEthernet1/0/5\n description PC\n switchport access vlan 10\n!\nend\n"
    hostvars = {"lgsec_net_ports_unused_access_ports": ["GigabitEthernet1/0/5", "GigabitEthernet1/0/9"]}
    facts = {"platform": "network", "vendor": "ios", "running_config": text, "source": "sw9.cfg"}
    row = row_for(evaluate_host(catalog, "sw9", facts, hostvars, only=["NET-PORTS-UNUSED"]), "NET-PORTS-UNUSED")
    assert row["status"] == "fail"
    assert "GigabitEthernet1/0/5: access port without switchport mode access, switchport port-security" in row["actual"]
    assert "GigabitEthernet1/0/9: no such interface" in row["actual"]
    cmds = network_plan.plan(network.from_facts(facts), all_params(catalog, hostvars))
    assert [(c.parent, c.line) for c in cmds if c.control == "NET-PORTS-UNUSED"] == [
        ("interface GigabitEthernet1/0/5", "switchport mode access"),
        ("interface GigabitEthernet1/0/5", "switchport port-security"),
    ]
    hostvars["lgsec_net_ports_unused_access_ports"] = ["GigabitEthernet1/0/5"]
    fixed = {**facts, "running_config": network_plan.apply(text, cmds)}
    row = row_for(evaluate_host(catalog, "sw9", fixed, hostvars, only=["NET-PORTS-UNUSED"]), "NET-PORTS-UNUSED")
    assert row["status"] == "pass", row["actual"]


@pytest.mark.parametrize("kind", DEVICES)
def test_cli_config_on_ios_would_push_exactly_the_planned_lines(catalog, kind):
    """cli_config diffs the role's lines against the running configuration with the cisco.ios
    cliconf plugin and sends that diff: run that plugin's own diff offline on the IOS fixtures."""
    from unittest.mock import MagicMock

    from ansible_collections.cisco.ios.plugins.cliconf.ios import Cliconf

    _host, facts, hostvars = device(catalog, f"{kind}-bad")
    plugin = import_path("lgsec_network_filter", ROOT / "filter_plugins" / "lgsec_network.py")
    plan = plugin.lgsec_network_plan(facts["running_config"], hostvars, "netadmin")
    assert len(plan["text"]) >= 10
    cliconf = Cliconf(MagicMock())
    for control, text in plan["text"].items():
        sent = cliconf.get_diff(candidate=text, running=facts["running_config"], diff_match="line")["config_diff"]
        assert sent.splitlines() == [line.strip() for line in text.splitlines()], control
