"""The lgsec command: input errors exit 2 before anything runs; audits write report.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SECTION_A_CHECKED

from lgsec import __version__
from lgsec.catalog import DEFAULT_CATALOG
from lgsec.checks import STATUSES
from lgsec.cli import main
from lgsec.hostvars import KEEP
from lgsec.inventory import LOCAL_INVENTORY, load_inventory

LGSEC = Path(sys.executable).parent / "lgsec"
ROW_FIELDS = ("host", "control", "articles", "title_ja", "title_en", "status", "expected", "actual", "evidence")


def lgsec(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    command = [str(LGSEC)] if LGSEC.exists() else [sys.executable, "-m", "lgsec.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def inventory(tmp_path: Path, hostvars: dict) -> Path:
    path = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "lgsec_importance": "II", **hostvars}
    path.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}}}), encoding="utf-8")
    return path


# ---- input errors: exit 2, nothing run -----------------------------------------------------------


def test_bad_variable_in_the_inventory(tmp_path, capsys):
    inv = inventory(tmp_path, {"lgsec_pw_length_min": "twelve"})
    outdir = tmp_path / "out"
    assert main(["audit", "-i", str(inv), "-o", str(outdir)]) == 2
    err = capsys.readouterr().err
    assert f"{inv}: host web01: lgsec_pw_length_min: " in err
    assert "must be int" in err
    assert not (outdir / "report.json").exists()


def test_input_error_leaves_the_last_report_alone(tmp_path, capsys):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "report.json").write_text('{"previous": true}\n', encoding="utf-8")
    inv = inventory(tmp_path, {"lgsec_controls": ["PW-LENGHT"]})
    assert main(["audit", "-i", str(inv), "-o", str(outdir)]) == 2
    assert "PW-LENGHT" in capsys.readouterr().err
    assert (outdir / "report.json").read_text(encoding="utf-8") == '{"previous": true}\n'


def test_unknown_control_in_the_option(tmp_path, capsys):
    assert main(["audit", "--controls", "PW-LENGTH,NO-SUCH", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--controls" in err and "NO-SUCH" in err and "PW-LENGTH," not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["all:\n  hosts: {}\n", ""], ids=["no-hosts", "empty-file"])
def test_empty_inventory(tmp_path, capsys, text):
    inv = tmp_path / "hosts.yml"
    inv.write_text(text, encoding="utf-8")
    assert main(["audit", "-i", str(inv), "-o", str(tmp_path / "out")]) == 2
    assert f"{inv}: hosts: no host in the inventory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("hostvars", "groups", "message"),
    [
        ({}, [], "no importance class (第10条)"),
        ({}, ["importance_1", "importance_3"], "in 2 importance classes (I, III)"),
        ({"lgsec_importance": "IV"}, ["importance_2"], "in 2 importance classes (II, IV)"),
    ],
    ids=["none", "two-groups", "variable-and-group"],
)
def test_every_host_needs_exactly_one_importance_class(tmp_path, capsys, hostvars, groups, message):
    inv = tmp_path / "hosts.yml"
    children = {g: {"hosts": {"web01": None}} for g in groups}
    host = {"ansible_connection": "local", **hostvars}
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}, "children": children}}), encoding="utf-8")
    assert main(["audit", "-i", str(inv), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{inv}: host web01: lgsec_importance: {message}" in err
    assert "importance_1, importance_2, importance_3, importance_4" in err
    assert not (tmp_path / "out").exists()


def test_importance_class_from_the_group_or_the_same_in_both(catalog):
    from lgsec.evaluate import host_class, validate_hostvars

    for hostvars in ({"group_names": ["importance_3"]}, {"group_names": ["importance_3"], "lgsec_importance": "III"}):
        validate_hostvars(catalog, "web01", hostvars)
        assert host_class(hostvars) == "III"


def test_inventory_not_found(tmp_path, capsys):
    assert main(["audit", "-i", str(tmp_path / "nope.yml"), "-o", str(tmp_path)]) == 2
    assert f"{tmp_path / 'nope.yml'}: -: inventory not found" in capsys.readouterr().err


@pytest.fixture
def bad_catalog(tmp_path) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    data["controls"][0]["platforms"] = ["linux", "os2"]
    path = tmp_path / "bad-controls.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["catalog"], ["audit", "-o", "OUT"]])
def test_malformed_catalog_option(tmp_path, capsys, bad_catalog, command):
    command = [str(tmp_path / "out") if arg == "OUT" else arg for arg in command]
    assert main(["--catalog", str(bad_catalog), *command]) == 2
    assert f"{bad_catalog}: control PW-LENGTH: platforms: unknown value(s) os2" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_catalog_command_lists_the_46_controls():
    result = lgsec("catalog")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"46 controls, catalog {DEFAULT_CATALOG} is valid"
    assert [line.split()[0] for line in lines[:-1]][:3] == ["PW-LENGTH", "PW-COMPLEXITY", "PW-HISTORY"]
    assert len(lines) == 47


# ---- real audits ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_audit_of_this_machine_writes_the_report(tmp_path):
    result = lgsec("audit", "-o", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    results = report["results"]
    statuses = {r["status"] for r in results}
    expected_code = 3 if "unreachable" in statuses else 1 if statuses & {"fail", "error"} else 0
    assert result.returncode == expected_code, result.stderr
    assert result.stdout.splitlines()[-1] == f"report: {tmp_path / 'report.json'}"
    run = report["run"]
    assert (run["lgsec_version"], run["inventory"], run["mode"]) == (__version__, str(LOCAL_INVENTORY), "audit")
    assert run["started"] <= run["finished"]
    section_a = {"PW-TEMP", "PW-NOSTORE", *SECTION_A_CHECKED}
    assert section_a <= {r["control"] for r in results}
    for r in results:
        assert set(ROW_FIELDS) <= set(r), r["control"]
        assert r["host"] == "localhost" and r["status"] in STATUSES and r["articles"]
    assert "unreachable" not in statuses


@pytest.mark.slow
def test_unreachable_host_is_never_pass(tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text("ghost ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh lgsec_importance=II\n")
    result = lgsec("audit", "-i", str(inv), "-o", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["results"], "every control gets a row"
    assert {r["status"] for r in report["results"]} == {"unreachable"}
    assert {r["host"] for r in report["results"]} == {"ghost"}
    assert "port 1" in report["results"][0]["actual"]
    assert report["run"]["inventory"] == str(inv)


# ---- issue 16: a clear exit for every failure, no report lost --------------------------------------

CONFIGS = ROOT / "tests" / "fixtures" / "network" / "configs"


def test_an_unexpected_error_is_exit_4_with_one_line_and_the_traceback_in_a_log(tmp_path, capsys, monkeypatch):
    """A bug (here: the catalog loader raising something no one foresaw) is never exit 1, which the
    scheduled audit counts as "report written" (SuccessExitStatus=1 3)."""
    from lgsec import cli

    def broken(*_args):
        raise RuntimeError("boom \x1b[2J")

    log = tmp_path / "error.log"
    monkeypatch.setenv("LGSEC_ERROR_LOG", str(log))
    monkeypatch.setattr(cli, "load_catalog", broken)
    assert main(["catalog"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected error in `lgsec catalog`: RuntimeError: boom \\x1b[2J" in err, err
    assert f"traceback in {log}" in err and "Traceback" not in err
    assert "Traceback (most recent call last)" in log.read_text() and "lgsec catalog" in log.read_text()
    assert main(["audit", "-v", "-o", str(tmp_path / "out")]) == 4  # -v: the traceback on the terminal too
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["dangling-symlink", "file", "under-a-file"])
def test_a_bad_output_directory_is_exit_2_before_anything_runs(tmp_path, capsys, kind):
    out = tmp_path / "out"
    if kind == "dangling-symlink":
        out.symlink_to(tmp_path / "gone")
    elif kind == "file":
        out.write_text("x", encoding="utf-8")
    else:
        (tmp_path / "f").write_text("x", encoding="utf-8")
        out = tmp_path / "f" / "out"
    for command in (["audit", "--configs", str(CONFIGS)], ["audit", "-i", str(inventory(tmp_path, {}))]):
        assert main([*command, "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"{out}: -o/--outdir: " in err and "Traceback" not in err, err
    assert not (tmp_path / "gone").exists()


def test_one_host_whose_facts_crash_the_evaluator_costs_only_its_own_rows(tmp_path, capsys, monkeypatch):
    from lgsec import offline

    real = offline.evaluate_host

    def crashes_on_sw_bad(catalog, host, facts, hostvars, **kw):
        if host == "sw-bad":
            raise AttributeError("'NoneType' object has no attribute 'split'")
        return real(catalog, host, facts, hostvars, **kw)

    monkeypatch.setattr(offline, "evaluate_host", crashes_on_sw_bad)
    assert main(["audit", "--configs", str(CONFIGS), "-o", str(tmp_path)]) == 1
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["results"]
    assert {r["host"] for r in rows} == {"rt-bad", "rt-good", "sw-bad", "sw-good"}
    bad = [r for r in rows if r["host"] == "sw-bad"]
    assert bad and {r["status"] for r in bad} == {"error"}
    assert all("AttributeError" in r["actual"] for r in bad)
    assert "pass" in {r["status"] for r in rows if r["host"] == "sw-good"}
    assert "error" not in {r["status"] for r in rows if r["host"] != "sw-bad"}


def test_a_lone_surrogate_in_one_hosts_facts_does_not_cost_the_report(tmp_path, capsys):
    from lgsec import offline
    from lgsec.catalog import load_catalog

    catalog = load_catalog()
    good = (CONFIGS / "sw-good.cfg").read_text(encoding="utf-8")
    broken = good.replace("hostname sw-good", "hostname sw-\ud800") + "snmp-server community pub\ud800lic RO\n"
    hosts = [
        ("sw-good", {"platform": "network", "vendor": "ios", "running_config": good, "source": "a"}, {}),
        ("sw-odd", {"platform": "network", "vendor": "ios", "running_config": broken, "source": "b\ud800"}, {}),
    ]
    code = offline.report_offline(catalog, hosts, source="config", outdir=tmp_path, inventory="test")
    assert code == 1
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert {r["host"] for r in data["results"]} == {"sw-good", "sw-odd"}
    assert "\\ud800" in json.dumps(data, ensure_ascii=False)  # shown as its escape, not dropped
    assert (tmp_path / "report.csv").exists() and (tmp_path / "report.html").exists()


def test_offline_audits_print_the_expired_exception_notes(tmp_path, capsys):
    waiver = {"reference": "R-9", "control": "NET-SNMP", "hosts": ["sw-bad"], "reason": "移行中",
              "requested_by": "山田", "approved_by": "佐藤",
              "approved_on": "2025-01-01", "expires_on": "2025-12-31"}  # fmt: skip
    path = tmp_path / "exceptions.yml"
    path.write_text(yaml.safe_dump({"exceptions": [waiver]}, allow_unicode=True), encoding="utf-8")
    inv = str(ROOT / "tests" / "fixtures" / "network" / "inventory.yml")
    args = ["audit", "--configs", str(CONFIGS), "-i", inv, "--exceptions", str(path), "-o", str(tmp_path / "o")]
    assert main(args) == 1
    assert "exception R-9 (NET-SNMP) is expired: it waives nothing" in capsys.readouterr().out


def test_host_text_never_reaches_the_terminal_raw(tmp_path, capsys):
    """A host name with ESC and a line break from the history database: shown escaped, on its line."""
    from lgsec import history, report

    rows = [{"host": "web01\x1b[2J\n== all pass ==", "control": "PW-LENGTH", "status": "pass", "articles": ["第50条"]}]
    history.record(report.build(rows, started="2026-11-01T00:00:00+00:00", inventory="i", mode="audit"),
                   tmp_path / "history.sqlite")  # fmt: skip
    assert main(["history", "-o", str(tmp_path), "--by", "host"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "web01\\x1b[2J\\x0a== all pass ==" in out
    assert not [line for line in out.splitlines() if line.startswith("==")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: an unwritable directory cannot be made here")
def test_an_unwritable_output_directory_is_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir(mode=0o500)
    assert main(["audit", "--configs", str(CONFIGS), "-o", str(out)]) == 2
    assert f"{out}: -o/--outdir: the report directory is not writable" in capsys.readouterr().err


# ---- the Ansible variables lgsec keeps: one list for the command line and the plugins ------------


def test_the_command_line_keeps_the_variables_the_playbook_validates_and_no_other(tmp_path):
    """lgsec audit/harden validate the inventory before the playbook starts; the playbook's first
    task (action_plugins/lgsec_validate.py) validates it again: both must see the same variables
    (lgsec.hostvars.KEEP and lgsec_*), and neither a password nor any other of the host's."""
    secrets = {"ansible_password": "hunter2", "ansible_host": "192.0.2.7", "db_password": "s3cret"}
    path = inventory(tmp_path, {"ansible_network_os": "cisco.ios.ios", "lgsec_network_vendor": "ios", **secrets})
    hosts = load_inventory(str(path), None)
    kept = hosts["web01"]
    assert set(kept) == {"lgsec_importance", "lgsec_network_vendor", *KEEP}
    assert kept["inventory_file"] == str(path)  # what a validation error of the playbook names
    assert kept["ansible_connection"] == "local" and kept["ansible_network_os"] == "cisco.ios.ios"
    assert "hunter2" not in repr(hosts) and "s3cret" not in repr(hosts)


def test_one_list_of_kept_variables():
    """The filter lives in lgsec/hostvars.py alone: the CLI and every plugin call its pick."""
    places = [*ROOT.glob("lgsec/**/*.py"), *ROOT.glob("action_plugins/*.py"), *ROOT.glob("filter_plugins/*.py")]
    filtering = [p for p in places if 'startswith("lgsec_") or k in' in p.read_text(encoding="utf-8")]
    assert filtering == [ROOT / "lgsec" / "hostvars.py"]
    users = [p.name for p in places if "from lgsec.hostvars import pick" in p.read_text(encoding="utf-8")]
    assert {"inventory.py", "lgsec_validate.py", "lgsec_report.py", "lgsec_harden_plan.py"} <= set(users)
