"""Mail server (Postfix) checks on their pass/fail fixture pairs; mynetworks validation; the report's
mail rows; the gather's mail area (library/lgsec_linux_facts.py, area M) on constructed input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, assert_fixture_verdict, evaluate, import_path, load_base, load_fixture, row_for, status_of

from lgsec import report
from lgsec.checks import load_all
from lgsec.errors import InputError
from lgsec.evaluate import validate_hostvars

MAIL = ROOT / "tests" / "fixtures" / "mail"
BASE = "base-mail-debian12.json"
MAIL_CONTROLS = (
    "MAIL-NO-RELAY",
    "MAIL-SIZE-LIMIT",
    "MAIL-MAILBOX-LIMIT",
    "MAIL-RATE-LIMIT",
    "MAIL-NO-AUTOFORWARD",
    "MAIL-TLS",
    "AV-GATEWAY",
)
MAIL_SERVER = {"lgsec_extra_platforms": ["mail"]}


def mail_fixtures() -> list[Path]:
    return sorted(MAIL.glob("*/*.yml"))


@pytest.mark.parametrize("path", mail_fixtures(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mail_fixture_gives_its_verdict(catalog, path):
    facts, hostvars, overlay = load_fixture(path)
    assert overlay["_fixture"].startswith(("recorded", "constructed")) and overlay["base"] == BASE
    assert_fixture_verdict(status_of(catalog, facts, path.parent.name, {**MAIL_SERVER, **hostvars}), path, overlay)


def test_every_mail_check_has_a_fixture_pair():
    mail_checks = sorted(cid for cid, platform in load_all() if platform == "mail")
    assert mail_checks == sorted(MAIL_CONTROLS)
    missing = [f"{cid}/{kind}.yml" for cid in mail_checks for kind in ("pass", "fail")]
    assert not [name for name in missing if not (MAIL / name).is_file()]


def test_report_shows_each_mail_control_with_its_evidence(catalog, tmp_path):
    """A Linux host marked as a mail server gets the seven mail rows, judged by the mail checks,
    each with the postconf values it read; an unmarked Linux host gets none."""
    facts = load_base(BASE, MAIL)
    rows = evaluate(catalog, facts, {**MAIL_SERVER, "lgsec_controls": list(MAIL_CONTROLS)}, host="mail01")
    path = report.write(report.build(rows, started=report.now_iso(), inventory="test", mode="audit"), tmp_path)
    written = {r["control"]: r for r in json.loads(path.read_text(encoding="utf-8"))["results"]}
    assert set(written) == set(MAIL_CONTROLS)
    for cid, row in written.items():
        assert row["status"] == "pass", f"{cid}: {row['actual']}"
        assert row["platform"] == "linux" and row["title_ja"] == catalog[cid].title_ja
    assert "postconf -x: smtp/inet: smtpd_relay_restrictions = " in " ".join(written["MAIL-NO-RELAY"]["evidence"])
    assert "postconf -x: message_size_limit = '10485760' (main.cf)" in written["MAIL-SIZE-LIMIT"]["evidence"]
    assert (
        "/home/tanaka/.forward: tanaka@outside.test (ignored: forward_path is empty)"
        in (written["MAIL-NO-AUTOFORWARD"]["evidence"])
    )
    plain = evaluate(catalog, facts, {}, host="web01")
    assert not [r for r in plain if r["control"] in MAIL_CONTROLS]


def test_mail_facts_not_gathered_is_an_error_never_a_pass(catalog):
    facts = load_base(BASE, MAIL)
    del facts["mail"]
    row = status_of(catalog, facts, "MAIL-NO-RELAY", MAIL_SERVER)
    assert row["status"] == "error" and "gather ran without mail: true" in row["actual"]


def test_alias_map_lgsec_cannot_list_is_an_error(catalog):
    facts = load_base(BASE, MAIL)
    facts["errors"]["postalias -s ldap:/etc/postfix/ldap-aliases.cf"] = (
        "alias_maps: a ldap table is not listed by lgsec"
    )
    row = status_of(catalog, facts, "MAIL-NO-AUTOFORWARD", MAIL_SERVER)
    assert row["status"] == "error" and "ldap" in row["actual"]


# ---- mynetworks is validated before anything runs ---------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (["0.0.0.0/0"], "'0.0.0.0/0' is over-broad"),
        (["127.0.0.0/8", "[::]/0"], "'[::]/0' is over-broad"),
        (["10.0.0.0/8"], "'10.0.0.0/8' is over-broad"),
        (["2001:db8::/32"], "over-broad"),
        (["mail.example.jp"], "is not an IP address or network"),
    ],
)
def test_over_broad_mynetworks_is_refused(catalog, value, why):
    with pytest.raises(InputError) as err:
        validate_hostvars(catalog, "mail01", {**MAIL_SERVER, "lgsec_mail_no_relay_mynetworks": value})
    message = str(err.value)
    assert "lgsec_mail_no_relay_mynetworks" in message and why in message and "mail01" in message


def test_narrow_mynetworks_is_accepted(catalog):
    value = ["127.0.0.0/8", "[::1]/128", "192.168.10.0/24", "172.16.0.0/16", "[2001:db8:1::]/48", "192.0.2.7"]
    validate_hostvars(catalog, "mail01", {**MAIL_SERVER, "lgsec_mail_no_relay_mynetworks": value})


def test_harden_refuses_open_mynetworks_and_applies_nothing(tmp_path):
    """harden.yml stops at validation (exit 2 from ansible-playbook, lgsec input error): the mail
    play never starts, so the host (unreachable on purpose) is never contacted."""
    host = {"ansible_host": "192.0.2.1", "ansible_connection": "ssh", "lgsec_importance": "II", **MAIL_SERVER}
    hosts = {"mail01": host}
    hosts["mail01"]["lgsec_mail_no_relay_mynetworks"] = ["0.0.0.0/0"]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
    playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run(
        [str(playbook), "-i", str(inventory), "playbooks/harden.yml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "lgsec input error" in out and "lgsec_mail_no_relay_mynetworks" in out and "over-broad" in out
    assert "Harden mail servers" not in out and "mail_server" not in out
    assert "UNREACHABLE" not in out


# ---- the gather's mail area ---------------------------------------------------------------

gather_module = import_path("lgsec_linux_facts_mail", ROOT / "library" / "lgsec_linux_facts.py")


def test_gather_reads_forward_files_of_the_homes_in_passwd(tmp_path, monkeypatch):
    home = tmp_path / "home" / "tanaka"
    home.mkdir(parents=True)
    (home / ".forward").write_text("tanaka@outside.test\n", encoding="utf-8")
    (home / ".profile").write_text("# not read\n", encoding="utf-8")
    facts = {"files": {"/etc/passwd": f"tanaka:x:1000:1000::{home}:/bin/bash\n"}, "missing": [], "errors": {}}
    facts["commands"] = {}
    outputs = {
        "postconf -x": "alias_maps = hash:/etc/aliases, ldap:/etc/postfix/ldap.cf\nvirtual_alias_maps =\n",
    }

    def fake_run(facts, commands=None):
        for name in commands or {}:
            facts["commands"][name] = {"rc": 0, "stdout": outputs.get(name, ""), "stderr": ""}

    monkeypatch.setattr(gather_module, "run_commands", fake_run)
    gather_module.read_mail(facts)
    assert facts["files"][f"{home}/.forward"] == "tanaka@outside.test\n"
    assert f"{home}/.profile" not in facts["files"]
    assert facts["mail"] == {"alias_maps": ["postalias -s hash:/etc/aliases"], "forward_homes": [str(home)]}
    assert "postalias -s hash:/etc/aliases" in facts["commands"]
    assert facts["errors"] == {
        "postalias -s ldap:/etc/postfix/ldap.cf": "alias_maps: a ldap table is not listed by lgsec"
    }


def test_mail_rows_cite_the_postconf_value(catalog):
    facts, hostvars, _ = load_fixture(MAIL / "MAIL-SIZE-LIMIT" / "fail.yml")
    row = row_for(evaluate(catalog, facts, {**MAIL_SERVER, **hostvars}, only=["MAIL-SIZE-LIMIT"]), "MAIL-SIZE-LIMIT")
    assert "postconf -x: message_size_limit = '0' (main.cf)" in row["evidence"]
    assert "postconf -x: message_size_limit = '52428800' (master.cf submission/inet -o)" in row["evidence"]


# ---- library/lgsec_postconf: only differing values written, check mode writes nothing ------------

FAKE_POSTCONF = r"""#!/usr/bin/env python3
# A stand-in for postconf(1): main.cf, master.cf entries and -o values in a JSON file.
import json, os, sys
path = os.environ["FAKE_POSTCONF_STATE"]
state = json.load(open(path))
args = sys.argv[1:]
table = "master" if "-M" in args else "params" if "-P" in args else "main"
names = [a for a in args if not a.startswith("-")]
if "-e" in args:
    for item in names:
        key, _, value = item.partition("=")
        state[table][key.strip()] = value.strip()
        state.setdefault("writes", []).append(item)
    json.dump(state, open(path, "w"))
else:
    for name in names:
        print(state[table].get(name, ""))
"""


@pytest.fixture
def postconf(tmp_path, monkeypatch):
    """Run library/lgsec_postconf.py as Ansible runs a module, against the fake postconf."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "postconf").write_text(FAKE_POSTCONF, encoding="utf-8")
    (bin_dir / "postconf").chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"main": {"message_size_limit": "10240000"}, "master": {}, "params": {}}))
    monkeypatch.setenv("FAKE_POSTCONF_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    def run(check: bool = False, **args) -> tuple[dict, dict]:
        module_args = tmp_path / "args.json"
        module_args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check}}))
        proc = subprocess.run(
            [sys.executable, str(ROOT / "library" / "lgsec_postconf.py"), str(module_args)],
            capture_output=True,
            text=True,
            check=False,
        )
        return json.loads(proc.stdout), json.loads(state.read_text())

    return run


def test_postconf_check_mode_reports_and_writes_nothing(postconf):
    result, state = postconf(check=True, params={"message_size_limit": "10485760"})
    assert result["changed"] and result["changed_settings"] == ["message_size_limit = 10485760"]
    assert result["diff"]["before"] == "message_size_limit = 10240000\n"
    assert "writes" not in state and state["main"]["message_size_limit"] == "10240000"


def test_postconf_writes_only_what_differs_then_is_idempotent(postconf):
    wanted = {
        "params": {"message_size_limit": "10485760", "forward_path": ""},
        "services": {"submission/inet": "submission inet n - y - - smtpd"},
        "service_params": {"submission/inet/smtpd_sasl_auth_enable": "yes"},
    }
    result, state = postconf(**wanted)
    assert result["changed"]
    # forward_path was already empty; the entry goes in before its -o value
    assert state["writes"] == [
        "message_size_limit=10485760",
        "submission/inet=submission inet n - y - - smtpd",
        "submission/inet/smtpd_sasl_auth_enable=yes",
    ]
    again, state2 = postconf(**wanted)
    assert not again["changed"] and state2["writes"] == state["writes"]
