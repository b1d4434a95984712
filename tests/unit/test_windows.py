"""Windows: the readers on the formats Windows writes, every W control on its pass/fail fixture
pair, the same verdicts on a Japanese-language host, and bad evidence never passing."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import assert_fixture_verdict, row_for, status_of
from windows_fixtures import (
    ALL_BASES,
    BASES,
    WIN_FIXTURES,
    fixture_facts,
    fixture_files,
    load_overlay,
    materialise,
    read_evidence,
)

from lgsec import offline
from lgsec import windows as win
from lgsec.checks import load_all
from lgsec.errors import InputError
from lgsec.evaluate import evaluate_host

FIXTURES = fixture_files()
IDS = [f"{p.parent.name}/{p.stem}" for p in FIXTURES]


def windows_controls(catalog) -> list[str]:
    return [c.id for c in catalog if "windows" in c.platforms]


def evaluate(catalog, facts, hostvars=None, **kw):
    return evaluate_host(catalog, "pc-somu-014", facts, hostvars or {}, source="evidence", **kw)


# ---- every W control: pass/fail fixtures, English and Japanese host -----------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=IDS)
@pytest.mark.parametrize("base", BASES)
def test_fixture_gives_its_verdict_on_both_languages(catalog, tmp_path, path, base):
    facts, hostvars, overlay = fixture_facts(path, tmp_path, base)
    assert_fixture_verdict(status_of(catalog, facts, path.parent.name, hostvars), path, overlay, base)


@pytest.mark.parametrize("path", FIXTURES, ids=IDS)
def test_fixture_says_what_it_is(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("_fixture: "), path
    overlay = yaml.safe_load(text)
    assert "constructed from the documented format" in overlay["_fixture"] or "recorded on" in overlay["_fixture"]
    assert "learn.microsoft.com" in overlay["_fixture"], "a constructed fixture cites the format's documentation"
    assert overlay["base"] in BASES


def test_every_windows_control_has_a_check_and_a_fixture_pair(catalog):
    """Each W control (catalog platforms include windows) has a check and a pass/fail fixture
    pair; PW-TEMP (manual) is the provisioning playbook's."""
    checks = load_all()
    missing = []
    for cid in windows_controls(catalog):
        automation = catalog[cid].automation
        if automation == "manual":
            continue
        if cid == "WIPE-RECORDED":  # decommissioning: a playbook, not a running host's state
            continue
        if (cid, "windows") not in checks:
            missing.append(f"{cid}: check")
        for kind in ("pass", "fail"):
            if not (WIN_FIXTURES / cid / f"{kind}.yml").is_file():
                missing.append(f"{cid}: {kind}.yml")
    assert not missing, missing


# ---- the stock host and the Japanese host -----------------------------------------------------


def base_facts(name: str) -> dict:
    return read_evidence(WIN_FIXTURES / name)


def test_japanese_host_gives_the_same_verdicts(catalog):
    """Same PC, Japanese display language: auditpol subcategory names and texts, command output
    and descriptions localised (built-in group names are not) — every control's status and
    actual value unchanged."""
    hostvars = {"lgsec_mobile": True}
    en = {r["control"]: (r["status"], r["actual"]) for r in evaluate(catalog, base_facts(BASES[0]), hostvars)}
    ja = {r["control"]: (r["status"], r["actual"]) for r in evaluate(catalog, base_facts(BASES[1]), hostvars)}
    assert en == ja
    assert set(en) == set(windows_controls(catalog))
    ja_facts = base_facts(BASES[1])
    # built-in group names stay English on a Japanese Windows; auditpol's header is English, its
    # subcategory names Japanese; every collector file UTF-8 with BOM
    assert '"Administrators"' in ja_facts["files"]["groups.json"] and "管理者" not in ja_facts["files"]["groups.json"]
    assert (
        ja_facts["files"]["auditpol.csv"].startswith("Machine Name,Policy Target,")
        and "ログオン" in ja_facts["files"]["auditpol.csv"]
    )
    for name in ("groups.json", "users.json", "timeoffset.txt"):
        assert (WIN_FIXTURES / BASES[1] / name).read_bytes().startswith(b"\xef\xbb\xbf"), name


def test_stock_pc_is_not_hardened(catalog):
    rows = evaluate(catalog, base_facts(BASES[0]), {"lgsec_mobile": True})
    got = {r["control"]: r["status"] for r in rows}
    passing = {
        "ID-UNUSED",
        "SW-UNAPPROVED",
        "SW-INVENTORY",
        "SW-SUPPORTED",
        "SW-PATCHED",
        "AV-RESIDENT",
        "AV-CURRENT",
        "TIME-SYNC",
    }
    assert {c for c, s in got.items() if s == "pass"} == passing
    assert got["PW-TEMP"] == "manual" and got["WIPE-RECORDED"] == "not_applicable"  # in service
    assert {c for c, s in got.items() if s == "fail"} == set(got) - passing - {"PW-TEMP", "WIPE-RECORDED"}
    assert row_for(rows, "PRIV-MEMBERS")["actual"].startswith("not approved: PC-SOMU-014\\somu-admin (S-1-5-21-")
    assert "windows-enterprise 26100" in row_for(rows, "SW-SUPPORTED")["evidence"][0]
    assert all(r["source"] == "evidence" and r["platform"] == "windows" for r in rows)


def test_live_facts_have_the_evidence_shape(catalog):
    """The live gather returns the same dict (JSON over WinRM): a JSON round trip judges the same."""
    facts = base_facts(BASES[0])
    again = json.loads(json.dumps(facts))
    assert [r["status"] for r in evaluate(catalog, facts)] == [r["status"] for r in evaluate(catalog, again)]


# ---- readers: encodings and formats ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + "管理者 x".encode("utf-16-le"),
        b"\xfe\xff" + "管理者 x".encode("utf-16-be"),
        b"\xef\xbb\xbf" + "管理者 x".encode(),
        "管理者 x".encode(),
        "管理者 x".encode("cp932"),
        "管理者 x".encode("utf-16-le"),
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf8-bom", "utf8", "cp932", "utf16le-no-bom"],
)
def test_decode_every_encoding_windows_writes(data):
    assert win.decode(data, "f") == "管理者 x"


def test_decode_refuses_what_is_not_text():
    with pytest.raises(ValueError, match=r"garbled\.json: not text"):
        win.decode(b"\xff\xfe\x00\xd8", "garbled.json")


def test_secedit_inf_sections_and_sids():
    inf = win.parse_inf(
        "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordLength = 14\r\n"
        'NewAdministratorName = "lg-kanri"\r\n'
        "[Registry Values]\r\nMACHINE\\System\\CurrentControlSet\\Control\\Lsa\\LimitBlankPasswordUse=4,1\r\n"
        "[Privilege Rights]\r\nSeRemoteInteractiveLogonRight = *S-1-5-32-544,*S-1-5-32-555\r\n"
    )
    assert inf["System Access"] == {"MinimumPasswordLength": "14", "NewAdministratorName": "lg-kanri"}
    assert inf["Registry Values"]["MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\LimitBlankPasswordUse"] == "4,1"
    assert win.sids(inf["Privilege Rights"]["SeRemoteInteractiveLogonRight"]) == ["S-1-5-32-544", "S-1-5-32-555"]
    with pytest.raises(ValueError, match="System Access"):
        win.parse_inf("[Unicode]\nUnicode=yes\n")


def test_reg_export_value_types():
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\r\n"
        '@="default"\r\n"Str"="a \\"quoted\\" C:\\\\path"\r\n"Dw"=dword:000000ff\r\n'
        '"Exp"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,\\\r\n'
        "  00,00,00\r\n"
        '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"Q"=hex(b):01,00,00,00,00,00,00,00\r\n"Bin"=hex:de,ad\r\n'
    )
    values = win.parse_reg(text)[win.norm_key(r"HKLM\software\test")]
    assert values[""] == ("REG_SZ", "default")
    assert values["str"] == ("REG_SZ", 'a "quoted" C:\\path')
    assert values["dw"] == ("REG_DWORD", 255)
    assert values["exp"] == ("REG_EXPAND_SZ", "%SystemRoot%")
    assert values["multi"] == ("REG_MULTI_SZ", ["a", "b"])
    assert values["q"] == ("REG_QWORD", 1)
    assert values["bin"] == ("REG_BINARY", "dead")
    with pytest.raises(ValueError, match="first line"):
        win.parse_reg("REGEDIT4\r\n")
    with pytest.raises(ValueError, match="deletion"):
        win.parse_reg("Windows Registry Editor Version 5.00\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n")


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("PC01,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Success and Failure,", 3),
        ("PC01,システム,ログオン,{0CCE9215-69AE-11D9-BED3-505054503030},成功および失敗,", 3),
        ("PC01,System,Logon,{0cce9215-69ae-11d9-bed3-505054503030},Success,,1", 1),
        ("PC01,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Réussite et échec,", None),
    ],
    ids=["get-r-en", "get-r-ja", "backup", "get-r-unknown-language"],
)
def test_auditpol_matched_by_guid_in_any_language(line, value):
    header = "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting\r\n"
    parsed = win.parse_auditpol(header + line + "\r\n")
    assert parsed["0cce9215-69ae-11d9-bed3-505054503030"][1] == value


@pytest.mark.parametrize(
    "value",
    [
        "/Date(1795137300000)/",
        "\\/Date(1795137300000)\\/",
        "2026-11-20T10:15:00+09:00",
        "2026-11-20T01:15:00Z",
        {"value": "/Date(1795137300000)/", "DateTime": "2026年11月20日 10:15:00"},
    ],
)
def test_powershell_dates(value):
    assert win.ps_time(value).timestamp() == 1795137300


def test_convertto_json_single_object_and_null():
    assert win.as_list({"a": 1}) == [{"a": 1}]
    assert win.as_list(None) == []
    assert win.flag("True") is True and win.flag(0) is False and win.flag(2) is None


# ---- bad evidence: an error row or an InputError naming the file, never pass -------------------


def folder(tmp_path: Path, name: str = "PC-SOMU-014", base: str = BASES[0]) -> Path:
    """A base's evidence as the collector leaves it for computer `name` (folder and manifest)."""
    target = shutil.copytree(WIN_FIXTURES / base, tmp_path / name)
    path = target / win.MANIFEST
    manifest = json.loads(win.decode(path.read_bytes(), "manifest"))
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({**manifest, "computer": name}, indent=4).encode())
    return target


@pytest.mark.parametrize(
    ("name", "control"),
    [
        ("secedit.inf", "PW-LENGTH"),
        ("registry/02-cv-policies.reg", "SCREEN-LOCK"),
        ("auditpol.csv", "LOG-AUDIT"),
        ("users.json", "PRIV-DEFAULT-ID"),
        ("defender.json", "AV-RESIDENT"),
    ],
)
def test_missing_or_garbled_file_is_an_error_naming_it(catalog, tmp_path, name, control):
    missing = folder(tmp_path, "missing")
    (missing / name).unlink()
    row = status_of(catalog, read_evidence(missing), control)
    assert row["status"] == "error" and name in row["actual"] and "file not in the evidence" in row["actual"]
    garbled = folder(tmp_path, "garbled")
    (garbled / name).write_bytes(b"\xff\xfe" + "}{ not what Windows writes".encode("utf-16-le"))
    row = status_of(catalog, read_evidence(garbled), control)
    assert row["status"] == "error" and name in row["actual"]


def test_collector_error_is_reported(catalog, tmp_path):
    error = "Get-BitLockerVolume: not recognized (no BitLocker feature)"
    overlay = {"base": BASES[0], "remove": ["bitlocker.json"], "manifest": {"errors": {"bitlocker.json": error}}}
    facts = read_evidence(materialise(overlay, tmp_path / "pc"))
    row = status_of(catalog, facts, "DISK-ENCRYPTED", {"lgsec_mobile": True})
    assert row["status"] == "error" and "no BitLocker feature" in row["actual"]


def test_manifest_one_missing_file_as_a_bare_string(catalog, tmp_path):
    """ConvertTo-Json of Windows PowerShell 5.1 may print a one-element array as its element."""
    overlay = {"base": BASES[0], "remove": ["tasks.json"], "manifest": {"missing": "tasks.json"}}
    facts = read_evidence(materialise(overlay, tmp_path / "pc"))
    assert facts["missing"] == ["tasks.json"]
    row = status_of(catalog, facts, "BACKUP-RECENT", {"lgsec_backup_recent_job": "\\Backup\\NightlyImage"})
    assert row["status"] == "error" and "tasks.json" in row["actual"]


def test_registry_key_not_collected_is_an_error(catalog, tmp_path):
    overlay = {"base": BASES[0], "manifest": {"registry_keys": {}}}
    row = status_of(catalog, read_evidence(materialise(overlay, tmp_path / "pc")), "AUTORUN")
    assert row["status"] == "error" and "was not collected" in row["actual"]


def test_registry_key_absent_on_the_host_is_judged(catalog, tmp_path):
    keys = {**load_manifest()["registry_keys"], "HKLM\\SOFTWARE\\Policies": None}
    overlay = {"base": BASES[0], "remove": ["registry/03-policies.reg"], "manifest": {"registry_keys": keys}}
    row = status_of(catalog, read_evidence(materialise(overlay, tmp_path / "pc")), "USB-STORAGE")
    assert row["status"] == "fail" and row["actual"] == "Deny_All = absent"


def test_usb_deny_all_passes_without_an_allow_list(catalog, tmp_path):
    policy = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices"
    overlay = {"base": BASES[1], "append": {"registry/03-policies.reg": f'[{policy}]\n"Deny_All"=dword:00000001\n'}}
    row = status_of(catalog, read_evidence(materialise(overlay, tmp_path / "pc")), "USB-STORAGE")
    assert row["status"] == "pass"


def load_manifest() -> dict:
    return json.loads(win.decode((WIN_FIXTURES / BASES[0] / win.MANIFEST).read_bytes(), "manifest"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.pop("format"), "format"),
        (lambda m: m.update(collected="yesterday"), "collected"),
        (lambda m: m.pop("computer"), "computer"),
    ],
)
def test_bad_manifest_is_an_input_error(tmp_path, change, field):
    target = folder(tmp_path)
    manifest = load_manifest()
    change(manifest)
    (target / win.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_evidence(target)
    assert err.value.field == field and win.MANIFEST in err.value.where and str(target) in err.value.where


def test_evidence_hosts_one_folder_or_a_folder_of_hosts(tmp_path):
    one = folder(tmp_path / "single", "PC-SOMU-014")
    assert win.evidence_hosts(one) == {"PC-SOMU-014": one}
    many = tmp_path / "all"
    a, b = folder(many, "PC-A"), folder(many, "PC-B")
    (many / "notes").mkdir()
    assert win.evidence_hosts(many) == {"PC-A": a, "PC-B": b}
    with pytest.raises(InputError, match="no host evidence folder"):
        win.evidence_hosts(tmp_path / "all" / "notes")


def test_fixture_overlay_must_match(tmp_path):
    """An overlay whose text is not in the base file fails loudly (a fixture cannot silently not apply)."""
    overlay = load_overlay(WIN_FIXTURES / "PW-LENGTH" / "pass.yml")
    overlay["replace"] = {"secedit.inf": [["MinimumPasswordLength = 99", "x"]]}
    with pytest.raises(AssertionError, match="found 0 times"):
        materialise(overlay, tmp_path / "pc")


@pytest.mark.parametrize("base", ALL_BASES)
def test_base_says_it_is_constructed(base):
    manifest = json.loads(win.decode((WIN_FIXTURES / base / win.MANIFEST).read_bytes(), base))
    assert manifest["_fixture"].startswith("constructed from the documented format")
    assert (WIN_FIXTURES / base / "secedit.inf").read_bytes().startswith(b"\xff\xfe")
    reg = win.decode((WIN_FIXTURES / base / "registry" / "01-lsa.reg").read_bytes(), base)
    assert reg.startswith("Windows Registry Editor Version 5.00\r\n") and "; constructed" in reg


# ---- lgsec audit --evidence ----------------------------------------------------------------------


def test_cli_audits_an_evidence_folder(tmp_path, capsys):
    from lgsec.cli import main

    evidence = tmp_path / "evidence"
    folder(evidence, "PC-SOMU-014")
    overlay = load_overlay(WIN_FIXTURES / "PW-LENGTH" / "pass.yml")
    materialise({**overlay, "manifest": {"computer": "PC-SOMU-015"}}, evidence / "PC-SOMU-015")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    pc-somu-014:\n      lgsec_platform: windows\n      lgsec_importance: III\n"
        "      lgsec_importance: II\n      lgsec_priv_members_approved: [somu-admin]\n",
        encoding="utf-8",
    )
    out = tmp_path / "reports"
    assert main(["audit", "--evidence", str(evidence), "-i", str(inventory), "-o", str(out)]) == 1
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]
    assert {r["host"] for r in rows} == {"pc-somu-014", "PC-SOMU-015"}
    assert all(r["source"] == "evidence" and r["platform"] == "windows" for r in rows)
    got = {(r["host"], r["control"]): r["status"] for r in rows}
    assert got[("pc-somu-014", "PRIV-MEMBERS")] == "pass"  # the inventory's approved list applied
    assert got[("PC-SOMU-015", "PRIV-MEMBERS")] == "fail"  # catalog default: nobody approved
    assert got[("pc-somu-014", "PW-LENGTH")] == "fail" and got[("PC-SOMU-015", "PW-LENGTH")] == "pass"
    assert "PC-SOMU-015" in capsys.readouterr().out


def test_cli_evidence_input_errors(tmp_path, capsys):
    from lgsec.cli import main

    assert main(["audit", "--evidence", str(tmp_path / "nowhere"), "-o", str(tmp_path / "r")]) == 2
    assert "evidence folder not found" in capsys.readouterr().err
    target = folder(tmp_path, "PC-X")
    (target / win.MANIFEST).write_text('{"format": "other"}', encoding="utf-8")
    assert main(["audit", "--evidence", str(target), "-o", str(tmp_path / "r")]) == 2
    assert "lgsec-evidence.json: format" in capsys.readouterr().err
    assert not (tmp_path / "r" / "report.json").exists()


def test_session_limit_with_rdp_off(catalog, tmp_path):
    reg = "registry/04-terminal-server.reg"
    overlay = {
        "base": BASES[0],
        "replace": {reg: [['"fDenyTSConnections"=dword:00000000', '"fDenyTSConnections"=dword:00000001']]},
    }
    row = status_of(catalog, read_evidence(materialise(overlay, tmp_path / "pc")), "SESSION-LIMIT")
    assert row["status"] == "pass" and row["actual"] == "RDP off (fDenyTSConnections = 1)"


@pytest.mark.parametrize(("servers", "status"), [([], "pass"), (["ntp1.example.lg.jp"], "fail")])
def test_time_sync_of_a_domain_member(catalog, tmp_path, servers, status):
    """Type NT5DS follows the domain hierarchy: accepted unless the union's servers are named."""
    reg = "registry/08-w32time.reg"
    overlay = {
        "base": BASES[1],
        "replace": {reg: [['"Type"="NTP"', '"Type"="NT5DS"']]},
        "append": {"timesource.txt": "DC01.somu.example.lg.jp\n"},
        "manifest": {"errors": {}},
    }
    facts = read_evidence(materialise(overlay, tmp_path / "pc"))
    row = status_of(catalog, facts, "TIME-SYNC", {"lgsec_time_sync_servers": servers})
    assert row["status"] == status, row["actual"]


def test_cli_evidence_with_limit_judges_only_inventory_hosts(tmp_path):
    from lgsec.cli import main

    evidence = tmp_path / "evidence"
    folder(evidence, "PC-A")
    folder(evidence, "PC-B")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    pc-a:\n      lgsec_importance: II\n    pc-b:\n      lgsec_importance: II\n",
        encoding="utf-8",
    )
    out = tmp_path / "r"
    main(["audit", "--evidence", str(evidence), "-i", str(inventory), "-l", "pc-a", "-o", str(out)])
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]
    assert {r["host"] for r in rows} == {"pc-a"}


# ---- issue 15: evidence that cannot be read is never "nothing there" ------------------------------


@pytest.mark.parametrize(
    ("name", "controls"),
    [
        ("users.json", ["PW-MAXAGE", "PW-EMPTY", "ID-UNUSED", "PRIV-DEFAULT-ID"]),
        ("listening.json", ["PORTS-APPROVED"]),
        ("groups.json", ["PRIV-MEMBERS", "REMOTE-MINIMAL"]),
    ],
)
@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b'\xef\xbb\xbf[\r\n    {\r\n        "Name":  "x'])
def test_empty_or_truncated_evidence_is_an_error_for_every_control_that_needs_it(
    catalog, tmp_path, name, controls, content
):
    """A 0-byte or cut-off file (the collection was interrupted, the USB stick pulled) gives an
    error naming the file for every control that reads it; before, [] passed PW-EMPTY, ID-UNUSED
    and PORTS-APPROVED."""
    target = folder(tmp_path)
    (target / name).write_bytes(content)
    facts = read_evidence(target)
    assert name in facts["errors"] and name not in facts["files"]
    for control in controls:
        row = status_of(catalog, facts, control)
        assert row["status"] == "error" and name in row["actual"], (control, row["actual"])


def test_lone_surrogate_in_one_file_errors_that_file_only(catalog, tmp_path):
    """ConvertTo-Json escapes an unpaired UTF-16 code unit as \\udXXX: that file is an error
    (line and column named), every other control of the PC is still judged."""
    target = folder(tmp_path)
    path = target / "users.json"
    text = win.decode(path.read_bytes(), "users.json").replace('"kiosk"', '"kiosk\\ud800"')
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    facts = read_evidence(target)
    assert "lone surrogate" in facts["errors"]["users.json"]
    assert status_of(catalog, facts, "ID-UNUSED")["status"] == "error"
    assert status_of(catalog, facts, "PW-LENGTH")["status"] == "fail"  # judged as before


def test_bad_json_error_names_line_and_column(tmp_path):
    target = folder(tmp_path)
    (target / "services.json").write_bytes(b'\xef\xbb\xbf[\r\n    {"Name":  "W32Time",,}\r\n]')
    assert read_evidence(target)["errors"]["services.json"].startswith("services.json: not JSON (line 2 column")


def test_host_is_the_manifests_computer(catalog, tmp_path, capsys):
    """The collector names the folder after $env:COMPUTERNAME, but a folder can be renamed or
    copied: the manifest's computer is the host (with a warning), and two folders of one
    computer are refused (which is current cannot be told)."""
    evidence = tmp_path / "evidence"
    target = folder(evidence, "PC-SOMU-014")
    target.rename(evidence / "copy of stick")
    ((host, facts, _vars),) = offline.evidence_triples(catalog, evidence)
    assert host == "PC-SOMU-014" and facts["computer"] == "PC-SOMU-014"
    assert "holds the evidence of PC-SOMU-014" in capsys.readouterr().err
    folder(evidence, "PC-SOMU-014")
    with pytest.raises(InputError, match="also collected in"):
        offline.evidence_triples(catalog, evidence)


def judged(catalog, tmp_path, overlay: dict, control: str, hostvars: dict | None = None, **kw) -> dict:
    """One control on the English base with an overlay (as a fixture file would give it)."""
    target = tmp_path / f"pc-{control}-{len(list(tmp_path.glob('pc-*')))}"
    facts = read_evidence(materialise({"base": BASES[0], **overlay}, target), **kw)
    return status_of(catalog, facts, control, hostvars or {})


TS_POLICY_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"


def test_group_policy_value_wins_over_the_local_one(catalog, tmp_path):
    """TerminalServer.admx writes fDenyTSConnections under the policy key; a GPO allowing RDP
    (0) wins over the Control Panel's 1, and one denying it (1) over the local 0."""
    reg = "registry/03-policies.reg"
    local_off = {reg: [['"fDenyTSConnections"=dword:00000000', '"fDenyTSConnections"=dword:00000001']]}
    overlay = {
        "replace": {"registry/04-terminal-server.reg": local_off[reg]},
        "append": {reg: f'[{TS_POLICY_KEY}]\n"fDenyTSConnections"=dword:00000000\n'},
    }
    row = judged(catalog, tmp_path, overlay, "SESSION-LIMIT")
    assert row["status"] == "fail" and "(Group Policy)" in row["evidence"][0]
    row = judged(catalog, tmp_path, overlay, "REMOTE-ENCRYPTED")
    assert row["status"] == "fail" and "RDP SecurityLayer = 1" in row["actual"]
    overlay = {"append": {reg: f'[{TS_POLICY_KEY}]\n"fDenyTSConnections"=dword:00000001\n'}}
    row = judged(catalog, tmp_path, overlay, "SESSION-LIMIT")
    assert row["status"] == "pass" and row["actual"] == "RDP off (fDenyTSConnections = 1)"


def test_per_user_and_msix_programs_are_seen(catalog, tmp_path):
    facts = read_evidence(folder(tmp_path))
    row = status_of(catalog, facts, "SW-UNAPPROVED", {"lgsec_sw_unapproved_deny": ["Zoom*", "MSTeams"]})
    assert row["status"] == "fail" and "Zoom Workplace (64-bit)" in row["actual"] and "MSTeams" in row["actual"]
    inventory = status_of(catalog, facts, "SW-INVENTORY")
    names = {d["name"]: d["arch"] for d in inventory["details"]}
    assert names["Zoom Workplace (64-bit)"].startswith("user S-1-5-21-") and names["MSTeams"] == "msix"
    assert "Microsoft.VCLibs.140.00" not in names and "Microsoft.Windows.ShellExperienceHost" not in names
    assert "1 profile(s) not signed in not read" in inventory["actual"] and "somu-admin" in inventory["actual"]


def test_pw_empty_fails_on_a_zero_minimum_length(catalog, tmp_path):
    """LimitBlankPasswordUse 1 only blocks blank passwords over the network: MinimumPasswordLength 0 fails."""
    users = load_overlay(WIN_FIXTURES / "PW-EMPTY" / "pass.yml")["replace"]["users.json"]
    row = judged(catalog, tmp_path, {"replace": {"users.json": users}}, "PW-EMPTY")
    assert row["status"] == "fail" and "MinimumPasswordLength = 0" in row["actual"]


RMU = '"Name":  "Remote Management Users",\n        "SID":  "S-1-5-32-580",\n        "Members":  '
KIOSK = '{"Name": "PC-SOMU-014\\\\kiosk", "SID": "S-1-5-21-3623811015-3361044348-30300820-1003"}'
SSHD = (
    '"Name":  "sshd",\n        "DisplayName":  "OpenSSH SSH Server",\n        "Status":  "Running",\n'
    '        "StartType":  "Automatic"\n    },\n    {\n        "Name":  "mpssvc",'
)


@pytest.mark.parametrize(
    ("overlay", "offending"),
    [
        (
            {"replace": {"groups.json": [[RMU + "[]", RMU + f"[{KIOSK}]"]]}},
            "kiosk (S-1-5-21-3623811015-3361044348-30300820-1003) not allowed (WinRM)",
        ),
        (
            {"replace": {"winrm.json": [["(A;;GR;;;IU)", "(A;;GR;;;IU)(A;;GA;;;BU)"]]}},
            "WinRM RootSDDL also grants S-1-5-32-545",
        ),
        ({"replace": {"services.json": [['"Name":  "mpssvc",', SSHD]]}}, "OpenSSH Server (sshd) Running"),
    ],
    ids=["winrm-member", "winrm-sddl", "sshd"],
)
def test_remote_minimal_counts_winrm_and_openssh(catalog, tmp_path, overlay, offending):
    vars_ = {"lgsec_remote_minimal_allow_groups": ["tanaka"]}
    assert judged(catalog, tmp_path / "base", {}, "REMOTE-MINIMAL", vars_)["status"] == "pass"
    row = judged(catalog, tmp_path, overlay, "REMOTE-MINIMAL", vars_)
    assert row["status"] == "fail" and offending in row["actual"], row["actual"]


def test_old_evidence_is_too_old_for_time_judgements(catalog, tmp_path):
    """Evidence read 10 days after its collection: the time-dependent controls are errors (not an
    old pass); a setting judgement (PW-LENGTH) stands."""
    late = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
    facts = read_evidence(folder(tmp_path), read_at=late)
    for control in ("AV-CURRENT", "SW-PATCHED", "SW-SUPPORTED", "ID-UNUSED", "TIME-SYNC"):
        row = status_of(catalog, facts, control)
        assert row["status"] == "error" and "evidence too old" in row["actual"], (control, row["actual"])
    assert status_of(catalog, facts, "PW-LENGTH")["status"] == "fail"
    row = status_of(catalog, facts, "AV-CURRENT", {"lgsec_av_current_evidence_max_age_days": 14})
    assert row["status"] == "pass"  # judged as of the collection, not as of today


PROVISIONED = (
    '{"Name": "suzuki", "SID": "S-1-5-21-3623811015-3361044348-30300820-1010", "Enabled": true, "Description": "",'
    ' "LastLogon": null, "PasswordLastSet": null, "PasswordExpires": null, "PasswordNeverExpires": false,'
    ' "PasswordRequired": true, "UserMayChangePassword": true},\n    {\n        "Name":  "somu-admin",'
)


def test_a_freshly_provisioned_account_is_not_idle_nor_never_expiring(catalog, tmp_path):
    """provision_user_windows.yml: never logged on, must change the password at first logon —
    Get-LocalUser gives null LastLogon, PasswordLastSet and PasswordExpires."""
    overlay = {"replace": {"users.json": [['{\n        "Name":  "somu-admin",', PROVISIONED]]}}
    row = judged(catalog, tmp_path, overlay, "ID-UNUSED")
    assert row["status"] == "pass" and any("suzuki: never logged on" in e for e in row["evidence"])
    row = judged(catalog, tmp_path, overlay, "PW-MAXAGE")
    assert "suzuki" not in row["actual"]


def test_ports_approved_judges_servers_not_client_sockets(catalog, tmp_path):
    """The base's dozens of sockets: Windows' own listeners and UDP clients are not findings; RDP
    and WinRM are until allowed; a UDP server below the dynamic range is."""
    allowed = {"lgsec_ports_approved_allowed": ["tcp/3389", "tcp/5985", "udp/5353"]}
    row = judged(catalog, tmp_path / "a", {}, "PORTS-APPROVED")
    # Edge's own mDNS socket is an application's listener (only svchost's is Windows' own)
    want = "not approved: tcp/3389 (svchost), tcp/5985 (System), udp/5353 (msedge)"
    assert row["status"] == "fail" and row["actual"] == want
    row = judged(catalog, tmp_path / "b", {}, "PORTS-APPROVED", allowed)
    assert row["status"] == "pass", row["actual"]
    assert any("clients, not counted" in e for e in row["evidence"])
    tftp = '"LocalPort":  137,'
    overlay = {"replace": {"listening.json": [[tftp, '"LocalPort":  69,']]}}
    row = judged(catalog, tmp_path / "c", overlay, "PORTS-APPROVED", allowed)
    assert row["status"] == "fail" and "udp/69 (System)" in row["actual"]


@pytest.mark.parametrize("entry", ["tcp/abc", "icmp/1", "tcp/70000", "tcp/200-100:svchost"])
def test_bad_system_listener_entry_is_an_input_error(catalog, entry):
    from lgsec.evaluate import validate_hostvars

    hostvars = {"lgsec_ports_approved_windows_system_listeners": [entry]}
    with pytest.raises(InputError, match="windows_system_listeners"):
        validate_hostvars(catalog, "pc-somu-014", hostvars, source="evidence", require_class=False)
    validate_hostvars(catalog, "pc", {"lgsec_ports_approved_windows_system_listeners": ["udp/5353:svchost"]},
                      source="evidence", require_class=False)  # fmt: skip


@pytest.mark.parametrize(
    "spec", [{"services": []}, {"services": "ntrtscan"}, {"service": ["x"]}, {"services": ["x"], "state": "On"}]
)
def test_bad_product_spec_is_an_input_error(catalog, spec):
    from lgsec.evaluate import validate_hostvars

    with pytest.raises(InputError, match="AV-RESIDENT parameter products"):
        validate_hostvars(
            catalog, "pc", {"lgsec_av_resident_products": {"X": spec}}, source="evidence", require_class=False
        )


def test_a_recent_non_security_update_does_not_hide_a_missing_month(catalog, tmp_path):
    overlay = load_overlay(WIN_FIXTURES / "SW-PATCHED" / "fail.yml")
    overlay["replace"]["hotfixes.json"].append(
        [
            '"Description":  "Update",\n        "InstalledOn":  "/Date(1791990000000)/"',
            '"Description":  "Update",\n        "InstalledOn":  "/Date(1795446000000)/"',
        ]
    )
    row = judged(catalog, tmp_path, {"replace": overlay["replace"]}, "SW-PATCHED")
    assert row["status"] == "fail" and "2026-10-13 release missing" in row["actual"]


def test_data_volume_without_a_drive_type_is_an_error(catalog, tmp_path):
    overlay = {"replace": {"bitlocker.json": [['"DriveType":  2,', '"DriveType":  null,']]}}
    row = judged(catalog, tmp_path, overlay, "DISK-ENCRYPTED", {"lgsec_mobile": True})
    assert row["status"] == "error" and "E: Data without a drive type" in row["actual"]


def test_av_fullscan_group_policy_catch_up_wins(catalog, tmp_path):
    overlay = load_overlay(WIN_FIXTURES / "AV-FULLSCAN" / "pass.yml")
    policy = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Scan"
    extra = {"append": {"registry/03-policies.reg": f'[{policy}]\n"DisableCatchupFullScan"=dword:00000001\n'}}
    row = judged(catalog, tmp_path, {"replace": overlay["replace"], **extra}, "AV-FULLSCAN")
    assert row["status"] == "fail" and row["actual"].startswith("DisableCatchupFullScan on")


def test_older_defender_platform_without_amrunningmode(catalog, tmp_path):
    overlay = {"replace": {"defender.json": [['"AMRunningMode":  "Normal",\n    ', ""]]}}
    assert judged(catalog, tmp_path, overlay, "AV-RESIDENT")["status"] == "pass"


def test_log_audit_ignores_per_user_rows(catalog, tmp_path):
    """auditpol /set /user: rows name the user in Policy Target: never the system's setting."""
    row = "PC-SOMU-014,S-1-5-21-3623811015-3361044348-30300820-1002,Sensitive Privilege Use,"
    row += "{0cce9228-69ae-11d9-bed3-505054503030},Success and Failure,,3"
    facts = read_evidence(materialise({"base": BASES[0], "append": {"auditpol.csv": row}}, tmp_path / "pc"))
    parsed = win.parse_auditpol(facts["files"]["auditpol.csv"])
    assert parsed["0cce9228-69ae-11d9-bed3-505054503030"][1] == 0
    assert "Sensitive Privilege Use: No Auditing" in status_of(catalog, facts, "LOG-AUDIT")["actual"]


def test_multi_line_logon_banner_does_not_break_the_reg_file(catalog, tmp_path):
    """reg export writes a REG_SZ with its line breaks as they are (legalnoticetext)."""
    banner = '"legalnoticetext"="この端末は組合の業務専用です。\n\n許可なく使用しないでください。"'
    overlay = {"replace": {"registry/02-cv-policies.reg": [['"legalnoticetext"=""', banner]]}}
    facts = read_evidence(materialise({"base": BASES[1], **overlay}, tmp_path / "pc"))
    assert status_of(catalog, facts, "SCREEN-LOCK")["actual"] == "InactivityTimeoutSecs = absent"
    values = win.parse_reg(facts["files"]["registry/02-cv-policies.reg"])
    key = win.norm_key("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System")
    assert values[key]["legalnoticetext"][1].count("\n") == 2 and values[key]["enablelua"] == ("REG_DWORD", 1)


# ---- the other bases: each gives a documented set of verdicts (tests/fixtures/windows/README.md) ---

STOCK = {
    "pass": {"ID-UNUSED", "SW-UNAPPROVED", "SW-INVENTORY", "SW-SUPPORTED", "SW-PATCHED", "AV-RESIDENT", "AV-CURRENT",
             "TIME-SYNC"},
    "manual": {"PW-TEMP"},
    "not_applicable": {"WIPE-RECORDED"},
}  # fmt: skip
BACKUP_TASK = "\\Microsoft\\Windows\\Backup\\Microsoft-Windows-WindowsBackup"
OTHER_BASES = {
    # base: (host variables, statuses that differ from the stock PC, strings of their rows)
    "base-server2022": (
        {"lgsec_backup_recent_job": BACKUP_TASK},
        {"BACKUP-RECENT": "pass", "DISK-ENCRYPTED": "not_applicable"},
        {"SETTINGS-LOCKED": "ConsentPromptBehaviorUser = 3", "AV-CURRENT": "signatures 1.441.512.0"},
    ),
    "base-win11-apexone": (
        {"lgsec_mobile": True, "lgsec_av_resident_accepted_products": ["Trend Micro Apex One"]},
        {"AV-FULLSCAN": "manual"},
        {"AV-RESIDENT": "Trend Micro Apex One protecting", "AV-CURRENT": "signatures up to date True"},
    ),
    "base-win11-domain": (
        {"lgsec_mobile": True},
        {"PW-LENGTH": "pass", "PW-COMPLEXITY": "pass", "PW-HISTORY": "pass", "SESSION-LIMIT": "pass"},
        {"TIME-SYNC": "DC01.somu.example.lg.jp (domain hierarchy, NT5DS)", "SESSION-LIMIT": "RDP off",
         "PRIV-MEMBERS": "SOMU\\Domain Admins", "AV-FULLSCAN": "scheduled scan type 1 (2 = full); no full scan ever"},
    ),
    "base-win11-provisioned": (
        {"lgsec_mobile": True},
        {},
        {"ID-UNUSED": "no idle account"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("base", sorted(OTHER_BASES))
def test_each_base_gives_its_documented_verdicts(catalog, base):
    hostvars, differ, shows = OTHER_BASES[base]
    rows = evaluate(catalog, read_evidence(WIN_FIXTURES / base), hostvars)
    got = {r["control"]: r["status"] for r in rows}
    want = {c: next((s for s, ids in STOCK.items() if c in ids), "fail") for c in got} | differ
    assert got == want
    for control, text in shows.items():
        assert text in row_for(rows, control)["actual"], (control, row_for(rows, control)["actual"])


def test_domain_member_group_policy_decides(catalog):
    """RDP: the GPO's fDenyTSConnections 1 wins over the local 0; Defender: the GPO's catch-up
    and idle values win over Get-MpPreference's defaults."""
    facts = read_evidence(WIN_FIXTURES / "base-win11-domain")
    row = status_of(catalog, facts, "SESSION-LIMIT")
    assert (
        "Policies\\Microsoft\\Windows NT\\Terminal Services\\fDenyTSConnections = 1 (Group Policy)"
        in row["evidence"][0]
    )
    evidence = " ".join(status_of(catalog, facts, "AV-FULLSCAN")["evidence"])
    assert "DisableCatchupFullScan = 0 (Group Policy)" in evidence and "ScanOnlyIfIdle = 0 (Group Policy)" in evidence


def test_provisioned_accounts_are_neither_idle_nor_never_expiring(catalog):
    facts = read_evidence(WIN_FIXTURES / "base-win11-provisioned")
    assert "suzuki" not in status_of(catalog, facts, "PW-MAXAGE")["actual"]
    row = status_of(catalog, facts, "ID-UNUSED")
    waiting = [e for e in row["evidence"] if "never logged on, waiting for the first logon" in e]
    assert row["status"] == "pass" and len(waiting) == 2  # suzuki and sato, recorded by the playbook
    assert any("Provisioned: suzuki recorded 2026-11-19 05:30 UTC" in e for e in row["evidence"])


def test_server_has_no_security_center_and_that_is_no_error(catalog):
    facts = read_evidence(WIN_FIXTURES / "base-server2022")
    assert "avproducts.json" in facts["missing"] and not facts["errors"]
    row = status_of(catalog, facts, "SETTINGS-LOCKED")
    assert "Defender tamper protection off" not in row["actual"]
    assert any("only through Microsoft Defender for Endpoint" in e for e in row["evidence"])


def test_server_without_defender_with_an_accepted_product(catalog, tmp_path):
    """Defender feature removed (defender.json, mppreference.json missing) and Apex One running:
    AV-RESIDENT judged by the product's services; the signature age and the full scan cannot be
    read on a Server (no Security Center): manual, with the reason."""
    services = '"Name":  "mpssvc",'
    apex = '"Name":  "ntrtscan",\n        "Status":  "Running"\n    },\n    {\n        "Name":  "tmlisten",\n'
    apex += '        "Status":  "Running"\n    },\n    {\n        "Name":  "mpssvc",'
    overlay = {
        "base": "base-server2022",
        "remove": ["defender.json", "mppreference.json"],
        "replace": {"services.json": [[services, apex]]},
        "manifest": {"missing": ["stamps.json", "avproducts.json", "defender.json", "mppreference.json"]},
    }
    facts = read_evidence(materialise(overlay, tmp_path / "srv"))
    hostvars = {"lgsec_av_resident_accepted_products": ["Trend Micro Apex One"]}
    assert status_of(catalog, facts, "AV-RESIDENT", hostvars)["status"] == "pass"
    for control in ("AV-CURRENT", "AV-FULLSCAN"):
        row = status_of(catalog, facts, control, hostvars)
        assert row["status"] == "manual" and "Trend Micro Apex One" in row["actual"], (control, row["actual"])
    row = status_of(catalog, facts, "SETTINGS-LOCKED", hostvars)
    assert row["status"] == "fail" and row["actual"] == "ConsentPromptBehaviorUser = 3"
    stopped = {**overlay, "replace": {"services.json": [[services, apex.replace('"Running"', '"Stopped"', 1)]]}}
    facts = read_evidence(materialise(stopped, tmp_path / "srv-stopped"))
    assert status_of(catalog, facts, "AV-RESIDENT", hostvars)["status"] == "fail"


# ---- readers on input nobody wrote by hand (hypothesis) ------------------------------------------

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def reg_string(text: str) -> str:
    """A REG_SZ as reg export writes it: backslash and quote escaped, line breaks as they are."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=60))
@example("C:\\Share\\\nnext line")  # a line of the value ends in a backslash
@example("\x85\u2028\x0b")
def test_reg_sz_of_any_text_reads_back(value):
    """Any REG_SZ (quotes, backslashes, line breaks, \x85 and \u2028, Japanese) reads back
    exactly, and the values after it are still read. Found by this test: str.splitlines() broke
    a .reg file at \x85."""
    text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X]\r\n"
    text += f'"v"={reg_string(value)}\r\n"after"=dword:00000001\r\n'
    values = win.parse_reg(text)[win.norm_key("HKLM\\X")]
    assert values["v"] == ("REG_SZ", value)
    assert values["after"] == ("REG_DWORD", 1)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_json_evidence_check_only_says_valueerror(text):
    """Whatever a file holds, the reader either accepts it or says why (ValueError naming the
    file): never another exception, never an empty file accepted."""
    try:
        win.check_text("users.json", text)
    except ValueError as exc:
        assert str(exc).startswith("users.json: ")
    else:
        assert text.strip()
