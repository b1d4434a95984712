"""The network verdicts follow what IOS executes (issue 14), one test per class of false pass:
text blocks, line breaks, IOS semantics, order/negation/spacing, which device, odd files, size,
secrets, defaults. Each test starts from a compliant (or failing) fixture of
tests/fixtures/network/configs and changes it the way a careless or hostile operator would.
The property-based tests are in test_network_properties.py."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import ROOT
from test_network import CONFIGS, NET, inventory_vars

from lgsec import network, network_plan, network_store, offline
from lgsec.evaluate import evaluate_host

GOOD = (CONFIGS / "sw-good.cfg").read_text(encoding="utf-8")
RT_GOOD = (CONFIGS / "rt-good.cfg").read_text(encoding="utf-8")
BAD = (CONFIGS / "sw-bad.cfg").read_text(encoding="utf-8")


def rows(catalog, text: str | bytes, host: str = "sw-good", **hostvars) -> dict[str, dict]:
    facts = {"platform": "network", "vendor": "ios", "running_config": text, "source": f"{host}.cfg"}
    hv = {**inventory_vars()[host], **hostvars}
    return {r["control"]: r for r in evaluate_host(catalog, host, facts, hv, source="config")}


def status(catalog, text: str, control: str, host: str = "sw-good", **hostvars) -> str:
    return rows(catalog, text, host, **hostvars)[control]["status"]


def without(text: str, *lines: str) -> str:
    for line in lines:
        assert f"\n{line}\n" in text, line
        text = text.replace(f"\n{line}\n", "\n", 1)
    return text


def before_end(text: str, extra: str) -> str:
    assert text.rstrip().endswith("\nend")
    return text.rstrip()[: -len("end")] + extra.rstrip("\n") + "\nend\n"


# ---- 1. text blocks are not commands ----------------------------------------------------

# Each removed line makes its control fail; the same line inside a text block must not make it pass.
HIDDEN = {
    "LOCKOUT": "login block-for 900 attempts 5 within 120",
    "TIME-SYNC": "ntp server 10.10.0.11",
    "LOG-CENTRAL": "logging host 10.10.0.50 transport tcp port 514",
}
TEXT_BLOCKS = [
    "banner motd ^C\nWarning ^_^ authorised use only\n{line}\n^C",  # `^C` ends at `^C`, not at a lone `^`
    "banner login #\n{line}\n#",
    "banner exec %{line}\n%",
    "banner incoming X\n{line}\nX",
    "banner slip-ppp @\n{line}\n@",
    "banner prompt-timeout $\n{line}\n$",
    "banner config-save &\n{line}\n&",
    "banner ~\n{line}\n~",  # no type: motd
    "aaa authentication banner *\n{line}\n*",
    "aaa authentication fail-message !\nLogin failed\n{line}\n!",
    "banner motd\n#\n{line}\n#",  # the delimiter on the next line
    "macro name PC-PORT\nswitchport mode access\n{line}\n@",
    "BANNER  Motd\t^C\n{line}\n^C",
]


@pytest.mark.parametrize("control", sorted(HIDDEN))
@pytest.mark.parametrize("block", TEXT_BLOCKS)
def test_a_command_inside_a_text_block_is_not_executed(catalog, block, control):
    line = HIDDEN[control]
    text = without(GOOD, line)
    assert status(catalog, text, control) == "fail"
    hostile = before_end(text, block.format(line=line))
    assert status(catalog, hostile, control) == "fail", block


def test_a_text_block_ends_at_its_delimiter_even_mid_line(catalog):
    # the body closes on its first line; what follows is the next command, read as IOS does
    text = before_end(
        GOOD, "banner motd #Authorised use only#\nip http server\nbanner exec ^CHello^C\nservice tcp-small-servers"
    )
    row = rows(catalog, text)["SVC-UNNEEDED"]
    assert row["status"] == "fail" and "ip http server" in row["actual"] and "tcp-small-servers" in row["actual"]
    # the rest of the closing line is not a command
    text = before_end(GOOD, "banner motd #\nhello\n# ip http server")
    assert status(catalog, text, "SVC-UNNEEDED") == "pass"


def test_a_banner_that_never_ends_is_an_error_not_a_verdict(catalog):
    text = GOOD.replace("banner motd ^C\n", "banner motd ^C\n^_^\n", 1).replace("\n^C\n", "\n", 1)
    found = rows(catalog, text)
    assert {r["status"] for r in found.values()} == {"error"}
    assert "banner motd text never ends" in found["PW-LENGTH"]["actual"]


def test_exit_outside_a_block_ends_the_configuration(catalog):
    text = without(GOOD, "ntp server 10.10.0.11")
    found = rows(catalog, before_end(text, "exit\nntp server 10.10.0.11"))
    assert {r["status"] for r in found.values()} == {"error"}
    assert "`exit` outside a block" in found["TIME-SYNC"]["actual"]
    # inside a block it only leaves the block
    found = rows(catalog, before_end(GOOD, "interface GigabitEthernet1/0/23\nexit\nno shutdown"))
    assert found["NET-PORTS-UNUSED"]["status"] == "pass"


def test_text_after_end_and_comments_are_not_configuration(catalog):
    text = without(GOOD, "ntp server 10.10.0.11", "ntp server 10.10.0.12")
    commented = text.replace("!\nend", "! ntp server 10.10.0.11\n  !ntp server 10.10.0.12\nend")
    assert status(catalog, commented, "TIME-SYNC") == "fail"
    after_end = text + "ntp server 10.10.0.11\nntp server 10.10.0.12\n"
    assert status(catalog, after_end, "TIME-SYNC") == "fail"


# ---- 2. only LF (and CR LF) ends a line -----------------------------------------------


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\u0085", "\x0c", "\x0b", "\r", "\x1c", "\x1e"])
def test_unicode_line_separators_in_a_description_do_not_make_commands(catalog, sep):
    text = without(GOOD, "ntp server 10.10.0.11", "ntp server 10.10.0.12")
    hostile = text.replace(
        " description PC 1F-general-affairs-01\n",
        f" description PC{sep}ntp server 10.10.0.11{sep}ntp server 10.10.0.12{sep}\n",
    )
    assert status(catalog, hostile, "TIME-SYNC") == "fail"
    hostile = text.replace("hostname sw-good\n", f"hostname sw-good{sep}ntp server 10.10.0.11\n")
    assert status(catalog, hostile, "TIME-SYNC") == "fail"


def test_crlf_is_a_line_end(catalog):
    assert {r["status"] for r in rows(catalog, GOOD.replace("\n", "\r\n")).values()} == {"pass"}


def test_the_backup_store_keeps_every_character_of_a_line(tmp_path):
    running = GOOD.replace(
        " description PC 1F-general-affairs-01\n", " description PC\u2028ip http server\x0c\u0085x\n"
    )
    saved = network_store.backup_text(running, "ios", "sw-good")
    assert "description PC\u2028ip http server\x0c\u0085x\n" in saved
    network_store.store_backups(tmp_path / "store", {"sw-good": saved})
    stored = (tmp_path / "store" / "sw-good.cfg").read_bytes().decode("utf-8")
    assert stored == saved
    assert "\nip http server" not in stored.replace("\r\n", "\n")
    # and the store, read back as a folder of configurations, still passes on SVC-UNNEEDED
    assert network_store.store_backups(tmp_path / "store", {"sw-good": saved})["commit"] is None  # no spurious change


# ---- 3. IOS semantics -------------------------------------------------------------------


def test_username_nopassword_fails(catalog):
    text = GOOD.replace("username netadmin", "username ops privilege 15 nopassword\nusername netadmin", 1)
    row = rows(catalog, text)["PRIV-DEFAULT-ID"]
    assert row["status"] == "fail" and "username ops with no password (nopassword)" in row["actual"]
    text = GOOD.replace("username netadmin", "username ops privilege 15\nusername netadmin", 1)
    assert "username ops without a secret" in rows(catalog, text)["PRIV-DEFAULT-ID"]["actual"]


def test_access_class_out_does_not_restrict_logins(catalog):
    text = GOOD.replace(" access-class MGMT-SSH in\n", " access-class MGMT-SSH out\n")
    row = rows(catalog, text)["REMOTE-MINIMAL"]
    assert row["status"] == "fail" and "only `out`" in row["actual"]


@pytest.mark.parametrize(
    "line", ["snmp-server group OLD v2c", "snmp-server user public NMS v2c", "snmp-server group RO v1"]
)
def test_snmp_v1_v2c_through_group_or_user_fails(catalog, line):
    row = rows(catalog, before_end(GOOD, line))["NET-SNMP"]
    assert row["status"] == "fail", row["actual"]
    if "user public" in line:
        assert "v2c user public (a community string)" in row["actual"]


def test_no_logging_on_fails_retention_and_central(catalog):
    found = rows(catalog, before_end(GOOD, "no logging on"))
    assert found["LOG-RETENTION"]["status"] == found["LOG-CENTRAL"]["status"] == "fail"
    assert "no logging on" in found["LOG-RETENTION"]["actual"]


def test_logging_buffered_at_a_useless_severity_fails(catalog):
    text = GOOD.replace("logging buffered 65536 informational", "logging buffered 65536 emergencies")
    row = rows(catalog, text)["LOG-RETENTION"]
    assert row["status"] == "fail" and "severity emergencies" in row["actual"]
    text = GOOD.replace("logging buffered 65536 informational", "logging buffered 65536 2")
    assert status(catalog, text, "LOG-RETENTION") == "fail"


def test_login_block_for_within_a_tiny_window_fails(catalog):
    text = GOOD.replace("login block-for 900 attempts 5 within 120", "login block-for 900 attempts 5 within 1")
    row = rows(catalog, text)["LOCKOUT"]
    assert row["status"] == "fail" and "within 1 s < 120 s" in row["actual"]


def test_an_access_port_without_switchport_mode_is_dynamic_and_fails(catalog):
    port = "interface GigabitEthernet1/0/3\n description printer 1F\n switchport access vlan 10\n"
    text = GOOD.replace(f"{port} switchport mode access\n", port)
    assert text != GOOD
    row = rows(catalog, text)["NET-PORTS-UNUSED"]
    assert (
        row["status"] == "fail" and "GigabitEthernet1/0/3: access port without switchport mode access" in row["actual"]
    )
    assert "IOS default dynamic" in row["actual"]


def test_line_aux_is_a_login_line(catalog):
    text = RT_GOOD.replace("line aux 0\n no exec\n", "line aux 0\n exec-timeout 0 0\n")
    row = rows(catalog, text, "rt-good")["SESSION-LIMIT"]
    assert row["status"] == "fail" and "line aux 0: exec-timeout never" in row["actual"]
    assert status(catalog, RT_GOOD, "SESSION-LIMIT", "rt-good") == "pass"  # `no exec`: no login on aux


@pytest.mark.parametrize("line", ["ntp peer 192.0.2.9", "ntp master", "ntp master 3"])
def test_other_time_sources_fail(catalog, line):
    row = rows(catalog, before_end(GOOD, line))["TIME-SYNC"]
    assert row["status"] == "fail" and "other time source" in row["actual"]


def test_ntp_server_in_a_vrf_is_that_server(catalog):
    text = GOOD.replace("ntp server 10.10.0.11\n", "ntp server vrf Mgmt-vrf 10.10.0.11 prefer\n")
    row = rows(catalog, text)["TIME-SYNC"]
    assert row["status"] == "pass", row["actual"]


# ---- 4. order, negation, spacing --------------------------------------------------------


@pytest.mark.parametrize(
    ("control", "later"),
    [
        ("PW-LENGTH", "no security passwords min-length"),
        ("PW-LENGTH", "security passwords min-length 6"),
        ("NET-PORTS-UNUSED", "interface GigabitEthernet1/0/23\n no shutdown"),
        ("NET-PORTS-UNUSED", "interface gi1/0/24\nno shutdown"),
        ("NET-PORTS-UNUSED", "interface range GigabitEthernet1/0/20 - 24\n no shutdown"),
        ("SESSION-LIMIT", "line vty 0 15\n exec-timeout 0 0"),
        ("SVC-UNNEEDED", "ip  http server"),
        ("SVC-UNNEEDED", "   ip http server"),
        ("SVC-UNNEEDED", "IP HTTP SERVER"),
        ("NET-SNMP", "snmp-server\tcommunity private RW"),
        ("LOG-CENTRAL", "no logging host 10.10.0.50"),
        ("REMOTE-ENCRYPTED", "line vty 5 15\n transport input telnet ssh"),
        ("PRIV-DEFAULT-ID", "no service password-encryption"),
    ],
)
def test_a_later_line_wins(catalog, control, later):
    assert status(catalog, GOOD, control) == "pass"
    assert status(catalog, before_end(GOOD, later), control) == "fail", later


@pytest.mark.parametrize(
    "line", ["int gi1/0/24\n no shut", "ip http serv", "no service password-encr", "snmp-server comm x RO"]
)
def test_an_abbreviated_command_is_an_error_never_a_guess(catalog, line):
    # IOS may accept a unique prefix; show running-config never writes one: lgsec says it cannot judge
    found = rows(catalog, before_end(GOOD, line))
    assert {r["status"] for r in found.values()} == {"error"}
    assert "abbreviates" in found["PW-LENGTH"]["actual"]
    # real IOS commands that look like prefixes are not abbreviations
    real = before_end(GOOD, "snmp ifmib ifindex persist\nswitch 1 provision c9200-48p\nservice pad\nlogging count")
    assert {r["status"] for r in rows(catalog, real).values()} == {"pass"}


def test_a_global_command_indented_after_a_block_is_still_global(catalog):
    text = GOOD.replace(
        " access-class MGMT-SSH in\n exec-timeout 5 0\n transport input ssh\n!\nntp",
        " access-class MGMT-SSH in\n exec-timeout 5 0\n transport input ssh\n ip http server\n!\nntp",
    )
    assert text != GOOD
    assert status(catalog, text, "SVC-UNNEEDED") == "fail"
    # and a later `no` of a failing line fixes it
    assert (
        status(catalog, before_end(BAD, "no ip http server\nno service tcp-small-servers"), "SVC-UNNEEDED", "sw-bad")
        == "pass"
    )


def test_evidence_cites_the_line_that_won(catalog):
    text = before_end(GOOD, "security passwords min-length 14")
    row = rows(catalog, text)["PW-LENGTH"]
    assert row["status"] == "pass" and row["actual"] == "min-length 14"
    line = len(text.rstrip().split("\n")) - 1
    assert row["evidence"] == [f"sw-good.cfg:{line}: security passwords min-length 14"]


# ---- 5. which device, and all of them ----------------------------------------------------


def audit(tmp_path, files: dict[str, str | bytes], *extra: str) -> tuple[int, dict[str, dict[str, dict]]]:
    from lgsec import cli

    folder = tmp_path / "configs"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    rc = cli.main(["audit", "--configs", str(folder), *extra, "-o", str(tmp_path / "out")])
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    by_host: dict[str, dict[str, dict]] = {}
    for r in data["results"]:
        by_host.setdefault(r["host"], {})[r["control"]] = r
    return rc, by_host


def judged(found: dict[str, dict]) -> set[str]:
    return {r["status"] for r in found.values()}


def errors(found: dict[str, dict]) -> set[str]:
    return {r["actual"] for r in found.values() if r["status"] == "error"}


def test_a_copy_of_another_devices_configuration_is_an_error(tmp_path):
    rc, found = audit(tmp_path, {"sw-bad.cfg": GOOD.replace("host=sw-good", "host=sw-bad")})
    assert rc == 1 and {r["status"] for r in found["sw-bad"].values()} == {"error"}
    assert any("hostname sw-good in the file, but judged as sw-bad" in e for e in errors(found["sw-bad"]))
    # no header: the file name names the device
    rc, found = audit(tmp_path, {"sw-other.cfg": GOOD.split("\n", 1)[1]})
    assert any("judged as sw-other (its file name)" in e for e in errors(found["sw-other"]))


def test_a_header_host_that_is_no_host_name_is_an_error(tmp_path, capsys):
    rc, found = audit(tmp_path, {"x.cfg": GOOD.replace("host=sw-good", "host=sw\x1b]0;pwned\x07")})
    assert rc == 1 and list(found) == ["sw__0_pwned_"]
    assert any("is not a host name" in e for e in errors(found["sw__0_pwned_"]))
    assert "\x1b" not in capsys.readouterr().out


def test_two_files_for_one_device_are_an_error_not_a_double(tmp_path):
    rc, found = audit(tmp_path, {"a.cfg": GOOD, "sw-good.cfg": GOOD, "sw-bad.cfg": BAD})
    assert set(found) == {"sw-good", "sw-bad"} and rc == 1
    assert any("2 files for sw-good" in e for e in errors(found["sw-good"]))
    assert "fail" in judged(found["sw-bad"]) and judged(found["sw-bad"]) <= {
        "fail",
        "not_applicable",
    }  # the others are still judged


def test_inventory_devices_without_a_file_are_named(tmp_path):
    rc, found = audit(tmp_path, {"sw-good.cfg": GOOD}, "-i", str(NET / "inventory.yml"))
    assert rc == 1
    assert set(found) == {"sw-good", "sw-bad", "rt-good", "rt-bad", "frr-good", "frr-bad"}
    assert any("no saved configuration of rt-bad" in e for e in errors(found["rt-bad"]))
    assert {r["status"] for r in found["sw-good"].values()} == {"pass"}


def test_a_fifo_or_directory_named_cfg_is_an_error(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    os.mkfifo(folder / "sw-fifo.cfg")
    (folder / "sw-dir.cfg").mkdir()
    rc, found = audit(tmp_path, {"sw-good.cfg": GOOD})
    assert rc == 1 and {"sw-fifo", "sw-dir", "sw-good"} <= set(found)
    assert any("not a regular file" in e for e in errors(found["sw-fifo"]))
    assert any("not a regular file" in e for e in errors(found["sw-dir"]))


@pytest.mark.parametrize(
    "text",
    [
        GOOD.rsplit("end", 1)[0],  # cut before `end`
        GOOD[: len(GOOD) // 2],  # cut in the middle
        "! lgsec: vendor=ios host=sw-good\n!\n!\n",  # comments only
        "",  # empty
    ],
)
def test_a_truncated_configuration_is_an_error(tmp_path, text):
    rc, found = audit(tmp_path, {"sw-good.cfg": text})
    assert rc == 1 and {r["status"] for r in found["sw-good"].values()} == {"error"}
    assert all("sw-good.cfg" in e for e in errors(found["sw-good"]))


# ---- 6. and 7. an odd file does not stop the fleet -------------------------------------


def catalog_():
    from lgsec.catalog import load_catalog

    return load_catalog()


def test_a_cp932_description_is_read_and_the_others_are_judged(tmp_path):
    sjis = GOOD.replace("description printer 1F", "description 総務課プリンタ").encode("cp932")
    rc, found = audit(tmp_path, {"sw-good.cfg": sjis, "sw-bad.cfg": BAD})
    assert rc == 1
    ((_, facts, _),) = [h for h in offline.config_hosts(catalog_(), tmp_path / "configs") if h[0] == "sw-good"]
    json.dumps(facts, ensure_ascii=False).encode("utf-8")  # the facts are valid text (kept in the run's archive)
    cfg = network.from_facts({**facts, "vendor": "ios"})
    assert cfg.interface("GigabitEthernet1/0/3").children[0].text == "description 総務課プリンタ"
    assert {r["status"] for r in found["sw-good"].values()} == {"pass"}
    assert "fail" in judged(found["sw-bad"]) and judged(found["sw-bad"]) <= {"fail", "not_applicable"}
    # bytes that are neither UTF-8 nor cp932 are kept as they are: still judged
    _rc, found = audit(tmp_path, {"sw-good.cfg": GOOD.encode().replace(b"printer 1F", b"\xff\xfe\x85 1F")})
    assert {r["status"] for r in found["sw-good"].values()} == {"pass"}


def test_a_cp932_character_cannot_hide_a_delimiter():
    # 0x5E (^) is the second byte of some cp932 characters (e.g. ソ is 0x83 0x5E): IOS reads bytes
    cfg = network.Config(b"banner motd ^\n\x83\x5e\nip http server\n^\nend\n", "ios", "x.cfg")
    assert cfg.first(r"^ip http server$") is not None


def test_an_oversize_file_is_an_error_row(tmp_path):
    big = GOOD.replace("!\nend", "!\n" + "! padding\n" * (offline.MAX_CONFIG_BYTES // 10) + "end")
    _rc, found = audit(tmp_path, {"sw-good.cfg": big, "sw-bad.cfg": BAD})
    assert any("larger than 8 MiB" in e for e in errors(found["sw-good"]))
    assert "fail" in judged(found["sw-bad"]) and judged(found["sw-bad"]) <= {"fail", "not_applicable"}


# ---- 8. secrets ------------------------------------------------------------------------


def test_snmpv3_pass_phrases_never_reach_any_report(tmp_path):
    user = "snmp-server user nms NMS v3 auth sha AuthPhrase-93k priv aes 128 PrivPhrase-77q"
    text = GOOD.replace("snmp-server group NMS v3 priv\n", f"snmp-server group NMS v3 priv\n{user}\n")
    text = text.replace("snmp-server location", "snmp-server community Secret-c0mm RO\nsnmp-server location")
    audit(tmp_path, {"sw-good.cfg": text})
    written = [
        p
        for p in (tmp_path / "out").rglob("*")
        if p.is_file() and p.suffix in (".json", ".csv", ".html", ".xml", ".md")
    ]
    assert {p.suffix for p in written} >= {".json", ".csv", ".html", ".xml"}
    for path in written:
        body = path.read_text(encoding="utf-8", errors="replace")
        for secret in ("AuthPhrase-93k", "PrivPhrase-77q", "Secret-c0mm"):
            assert secret not in body, f"{path.name} holds {secret}"


def test_redact_hides_every_kind_of_secret():
    for line, secret in [
        ("snmp-server user nms NMS v3 auth md5 A1b2c3d4 priv des D5e6f7g8", ("A1b2c3d4", "D5e6f7g8")),
        ("snmp-server user nms NMS v3 auth sha A1b2c3d4 priv aes 256 D5e6f7g8", ("A1b2c3d4", "D5e6f7g8")),
        ("ntp authentication-key 1 md5 N7p8q9", ("N7p8q9",)),
        ("username u privilege 15 secret 9 $9$abc", ("$9$abc",)),
    ]:
        assert not any(s in network.redact(line) for s in secret), network.redact(line)


def test_the_live_reads_of_a_configuration_are_no_log():
    for path in ("playbooks/audit.yml", "playbooks/backup_network.yml", "roles/network_device/tasks/plan.yml"):
        text = (ROOT / path).read_text(encoding="utf-8")
        for task in re.split(r"\n\s*- name: ", text):
            if "show running-config" in task or "lgsec_network_running.stdout" in task:
                assert "no_log: true" in task, f"{path}: {task.splitlines()[0]}"


# ---- 9. defaults that fail compliant devices ------------------------------------------


def test_logging_buffered_64000_passes_by_default(catalog):
    text = GOOD.replace("logging buffered 65536 informational", "logging buffered 64000")
    assert status(catalog, text, "LOG-RETENTION") == "pass"


@pytest.mark.parametrize(("mode", "expected"), [("restrict", "pass"), ("shutdown", "pass"), ("protect", "fail")])
def test_port_security_violation_modes(catalog, mode, expected):
    text = GOOD.replace(
        " switchport port-security violation shutdown\n", f" switchport port-security violation {mode}\n"
    )
    assert status(catalog, text, "NET-PORTS-UNUSED") == expected
    modes = ["shutdown", "protect"]
    assert status(catalog, text, "NET-PORTS-UNUSED", lgsec_net_ports_unused_violation_modes=modes) == (
        "fail" if mode == "restrict" else "pass"
    )


def test_log_central_applies_when_the_device_names_a_log_host(catalog):
    row = rows(catalog, GOOD, lgsec_log_central_hosts=[])["LOG-CENTRAL"]
    assert row["status"] == "pass" and row["actual"] == "logging host 10.10.0.50"
    text = GOOD.replace("logging trap informational", "logging trap critical")
    assert status(catalog, text, "LOG-CENTRAL", lgsec_log_central_hosts=[]) == "fail"
    text = without(GOOD, "logging host 10.10.0.50 transport tcp port 514")
    assert status(catalog, text, "LOG-CENTRAL", lgsec_log_central_hosts=[]) == "not_applicable"


def test_the_plan_fixes_what_the_new_semantics_find(catalog):
    from test_network import all_params

    text = before_end(
        GOOD.replace("line vty 0 4\n", "line aux 0\n exec-timeout 0 0\nline vty 0 4\n"),
        "no logging on\nntp peer 192.0.2.9\nsnmp-server user public NMS v2c\nlogging buffered 64000 alerts",
    )
    hostvars = inventory_vars()["sw-good"]
    cfg = network.parse(text, "ios", "x")
    cmds = network_plan.plan(cfg, all_params(catalog, hostvars), "netadmin")
    after = network_plan.apply(text, cmds)
    fixed = rows(catalog, after)
    assert {c: r["actual"] for c, r in fixed.items() if r["status"] != "pass"} == {}
    assert network_plan.plan(network.parse(after, "ios", "y"), all_params(catalog, hostvars), "netadmin") == []


def test_the_role_stops_on_a_configuration_it_cannot_read():
    from conftest import import_path

    plugin = import_path("lgsec_network_filter", ROOT / "filter_plugins" / "lgsec_network.py")
    for text in (GOOD.rsplit("end", 1)[0], before_end(GOOD, "no shut")):
        plan = plugin.lgsec_network_plan(text, {"ansible_network_os": "cisco.ios.ios"}, "netadmin")
        assert any(b.startswith("ALL: ") for b in plan["blockers"]), plan["blockers"]
    assert not any(b.startswith("ALL: ") for b in plugin.lgsec_network_plan(GOOD, {}, "netadmin")["blockers"])
