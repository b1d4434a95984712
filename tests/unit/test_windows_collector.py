"""The Windows collector (tools/windows) and the live gather (library/lgsec_windows_facts.ps1):
no PowerShell runs here (LAB.md), so these prove what can be proved without it — one collector
for both paths, the file names the reader expects, Ansible packages the module with its
module_util, the .bat staff double-click runs it, and the live result decodes to the facts an
evidence folder gives."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT, import_path
from windows_fixtures import BASES, WIN_FIXTURES

from lgsec import windows as win

TOOLS = ROOT / "tools" / "windows"
PSM1 = TOOLS / "Ansible.ModuleUtils.LgsecCollect.psm1"
COLLECT = TOOLS / "lgsec-collect.ps1"
BAT = TOOLS / "lgsec-collect.bat"
MODULE = ROOT / "library" / "lgsec_windows_facts.ps1"


def powershell_balanced(text: str) -> None:
    """Brackets balance outside strings and comments (a crude syntax check; no parser here)."""
    stack, i, n = [], 0, len(text)
    pairs = {")": "(", "}": "{", "]": "["}
    while i < n:
        c = text[i]
        if text.startswith("<#", i):
            i = text.index("#>", i) + 2
            continue
        if c == "#":
            i = text.find("\n", i) if "\n" in text[i:] else n
            continue
        if c in "'\"":
            j = i + 1
            while j < n and not (text[j] == c and text[j - 1] != "`"):
                if c == "'" and text.startswith("''", j):
                    j += 2
                    continue
                j += 1
            i = j + 1
            continue
        if c in "({[":
            stack.append((c, text.count("\n", 0, i) + 1))
        elif c in ")}]":
            assert stack and stack[-1][0] == pairs[c], f"unbalanced {c!r} at line {text.count(chr(10), 0, i) + 1}"
            stack.pop()
        i += 1
    assert not stack, f"unclosed {stack[-1][0]!r} from line {stack[-1][1]}"


@pytest.mark.parametrize("path", [PSM1, COLLECT, MODULE], ids=lambda p: p.name)
def test_powershell_brackets_balance(path):
    powershell_balanced(path.read_text(encoding="utf-8-sig"))


def test_collector_writes_the_files_the_reader_reads():
    text = PSM1.read_text(encoding="utf-8")
    steps = re.findall(r"^        '([a-z0-9]+\.(?:inf|csv|json|txt))' = \{", text, re.M)
    assert steps == list(win.FILES)
    keys = dict(re.findall(r"^    '(HKLM\\[^']+)' = '(registry/[^']+)'$", text, re.M))
    assert keys == win.REG_KEYS
    assert f"'{win.FORMAT}'" in text and "'lgsec-evidence.json'" in text


def test_collector_is_read_only():
    """Only read commands: no Set-*, New-ItemProperty, reg add/import, secedit /configure."""
    text = PSM1.read_text(encoding="utf-8")
    writes = re.findall(
        r"\b(Set-(?!StrictMode)\w+|New-ItemProperty|Remove-ItemProperty|Enable-\w+|Disable-\w+|/configure|'add'|'import')",
        text,
    )
    assert writes == []


def test_scripts_share_the_one_collector():
    assert "Import-Module -Name (Join-Path $PSScriptRoot 'Ansible.ModuleUtils.LgsecCollect.psm1')" in COLLECT.read_text(
        encoding="utf-8-sig"
    )
    module = MODULE.read_text(encoding="utf-8")
    assert "#Requires -Module Ansible.ModuleUtils.LgsecCollect" in module
    assert "#AnsibleRequires -CSharpUtil Ansible.Basic" in module
    assert "Invoke-LgsecCollect" in module


def test_non_ascii_scripts_carry_a_bom():
    """Windows PowerShell 5.1 reads a .ps1 without BOM in the ANSI code page: Japanese text
    would be garbled. The module_util stays ASCII."""
    assert COLLECT.read_bytes().startswith(b"\xef\xbb\xbf")
    assert PSM1.read_bytes().isascii() and MODULE.read_bytes().isascii()


def test_bat_runs_the_script_for_staff_who_double_click():
    data = BAT.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n"), "cmd.exe needs CRLF"
    text = data.decode("ascii")
    assert 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0lgsec-collect.ps1"' in text
    assert "pause" in text
    assert "*.bat text eol=crlf" in (TOOLS / ".gitattributes").read_text(encoding="utf-8")


def test_ansible_packages_the_module_with_the_collector():
    """Ansible's own module builder resolves #Requires -Module Ansible.ModuleUtils.LgsecCollect
    through ansible.cfg module_utils and ships the collector inside the module's payload."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar

    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        init_plugin_loader()
        built = module_common.modify_module(
            module_name="lgsec_windows_facts",
            module_path=str(MODULE),
            module_args={"stamp_files": []},
            templar=Templar(loader=DataLoader()),
            task_vars={},
        )
    finally:
        os.chdir(cwd)
    # the exec wrapper, a NUL separator, then the manifest of scripts and actions
    _wrapper, payload = (json.loads(part) for part in built.b_module_data.decode().split("\0\0\0\0"))
    action = payload["actions"][0]["params"]
    assert "Ansible.ModuleUtils.LgsecCollect.psm1" in action["PowerShellModules"]
    assert "Ansible.Basic.cs" in action["CSharpModules"]
    shipped = base64.b64decode(payload["scripts"]["Ansible.ModuleUtils.LgsecCollect.psm1"]["script"])
    assert shipped.decode() == PSM1.read_text(encoding="utf-8")


def test_live_result_decodes_to_the_evidence_facts():
    """The module returns each file's bytes (base64); the action plugin decodes them with the
    evidence reader: a host's live facts equal the facts of the same files in a folder."""
    plugin = import_path("lgsec_windows_facts_action", ROOT / "action_plugins" / "lgsec_windows_facts.py")
    for base in BASES:
        folder = WIN_FIXTURES / base
        raw = {
            "files": {
                p.relative_to(folder).as_posix(): base64.b64encode(p.read_bytes()).decode()
                for p in folder.rglob("*")
                if p.is_file()
            }
        }
        live = plugin.decode_result(raw)
        offline = win.read_evidence_dir(folder)
        assert abs(live.pop("read_at") - offline.pop("read_at")) < 60  # both read now
        assert live == {**offline, "errors": live["errors"]}
        manifest = json.loads(win.decode((folder / win.MANIFEST).read_bytes(), "manifest"))
        assert live["errors"] == manifest["errors"] and live["platform"] == "windows"


def test_audit_playbook_gathers_windows_hosts_for_the_report(catalog):
    """audit.yml: the Windows gather runs only on hosts lgsec_validate found to be Windows, and
    registers the result lgsec_report reads; a reachable host's facts are judged as `live`, an
    unreachable one is never pass."""
    import yaml

    from lgsec.evaluate import evaluate_host, failed_host

    report = import_path("lgsec_report_action_win", ROOT / "action_plugins" / "lgsec_report.py")
    play = yaml.safe_load((ROOT / "playbooks" / "audit.yml").read_text(encoding="utf-8"))[0]
    (task,) = [t for t in play["tasks"] if "lgsec_windows_facts" in t]
    assert task["register"] == "lgsec_gather_windows" and "lgsec_gather_windows" in report.GATHERED
    assert task["when"] == "lgsec_validated.platforms[inventory_hostname][0] == 'windows'"
    assert task["ignore_unreachable"] and task["ignore_errors"]
    live = {
        "lgsec_gather": {"skipped": True},
        "lgsec_gather_windows": {"lgsec_facts": win.read_evidence_dir(WIN_FIXTURES / BASES[1])},
    }
    gathered = report.pick_gathered(live, report.GATHERED)
    assert report.gather_problem(gathered) is None
    rows = evaluate_host(catalog, "somu-pc01", gathered["lgsec_facts"], {"ansible_connection": "winrm"})
    assert {r["platform"] for r in rows} == {"windows"} and {r["source"] for r in rows} == {"live"}
    down = report.pick_gathered(
        {"lgsec_gather_windows": {"unreachable": True, "msg": "winrm: timed out"}}, report.GATHERED
    )
    status, reason = report.gather_problem(down)
    rows = failed_host(catalog, "somu-pc01", {"ansible_connection": "winrm"}, status, reason)
    assert {r["status"] for r in rows} == {"unreachable"} and {r["platform"] for r in rows} == {"windows"}


def test_one_failing_probe_never_aborts_the_evidence_live_or_offline():
    """The Ansible module wrapper runs with ErrorActionPreference Stop, a console with Continue:
    the collector sets its own (Continue) so both paths behave the same — each step's main
    cmdlet fails through -ErrorAction Stop into that step's catch (its file's error), and a
    native tool's stderr is not a terminating error on Windows PowerShell 5.1."""
    text = PSM1.read_text(encoding="utf-8-sig")
    body = text[text.index("Function Invoke-LgsecCollect") :]
    assert re.search(r"^\s*\$ErrorActionPreference = 'Continue'", body, re.M)
    native = text[text.index("Function Invoke-LgsecNative") : text.index("Function Get-LgsecGroup")]
    assert "$ErrorActionPreference = 'Continue'" in native
    assert body.count("try {") >= 2 and "$errors[$name] = $_.Exception.Message" in body


def test_collector_reads_what_the_verdicts_need():
    """Server Backup's task, per-user Uninstall keys of loaded hives, Remote Management Users,
    the drive type of BitLocker volumes, Defender's catch-up/idle settings, and Defender or
    Security Center absent = missing (not an error) on a Server."""
    text = PSM1.read_text(encoding="utf-8-sig")
    assert "-like '\\Microsoft\\Windows\\Backup\\*'" in text
    assert "Registry::HKEY_USERS" in text and "'S-1-5-32-580'" in text
    assert "Win32_LogicalDisk" in text and "DriveType" in text
    assert "DisableCatchupFullScan" in text and "ScanOnlyIfIdleEnabled" in text
    assert "Get-Service -Name WinDefend" in text and "SecurityCenter2" in text and "PasswordNeverExpires" in text
