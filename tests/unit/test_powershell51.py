"""Windows PowerShell 5.1 runs every PowerShell text in the repository (issue 15).

Windows 10/11 and Server 2019–2025 ship Windows PowerShell 5.1, and the WinRM modules run there;
no PowerShell runs here, and the grammar on PyPI (tree-sitter-powershell) misreads everyday code,
so this scanner reads the code itself. Strings (quoted, expandable, here-strings) and comments
(# and <# #>) are blanked first; then it looks for what only PowerShell 6/7 parses or accepts
(learn.microsoft.com/powershell/scripting/whats-new/differences-from-windows-powershell and the
"What's new in PowerShell 7.x" pages): the null-coalescing ?? and ??=, null-conditional ?. and ?[,
the ternary a ? b : c, the pipeline chain operators && and ||, ConvertFrom-Json -AsHashtable and
-Depth (6.2/7.0), ForEach-Object -Parallel (7.0), clean blocks (7.3). And ConvertTo-Json without
-Depth: 5.1 cuts everything deeper than 2 levels to its type name, silently.

Scanned: every .ps1/.psm1 in the repository, and every script body in the roles' and playbooks'
YAML (win_powershell script, win_shell)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT


def blank(text: str) -> str:
    """The code with every string literal and comment replaced by spaces (line breaks kept)."""
    out, i, n = [], 0, len(text)

    def skip_to(j: int) -> None:
        out.append(re.sub(r"[^\n]", " ", text[i:j]))

    while i < n:
        c = text[i]
        if text.startswith("<#", i):
            j = text.find("#>", i + 2)
            j = n if j < 0 else j + 2
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n;|({}"):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c == "@" and text[i + 1 : i + 2] in ("'", '"') and text[i + 2 : i + 3] in ("\n", "\r"):
            close = re.compile(r"\n" + re.escape(text[i + 1]) + "@")
            m = close.search(text, i + 2)
            j = n if m is None else m.end()
        elif c == "'":
            j = i + 1
            while j < n and not (text[j] == "'" and text[j + 1 : j + 2] != "'"):
                j += 2 if text[j] == "'" else 1
            j += 1
        elif c == '"':
            j = i + 1
            while j < n:
                if text[j] == "`":
                    j += 2
                    continue
                if text[j] == '"':
                    if text[j + 1 : j + 2] == '"':
                        j += 2
                        continue
                    break
                j += 1
            j += 1
        else:
            out.append(c)
            i += 1
            continue
        skip_to(min(j, n))
        i = min(j, n)
    return "".join(out)


def command_args(code: str, start: int) -> str:
    """The rest of the command that starts at start: up to a pipe, ;, a line end (no backtick
    continuation) or the ) / } that closes what holds it."""
    depth, j = 0, start
    while j < len(code):
        c = code[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (c in "|;" or (c == "\n" and code[:j].rstrip(" \t")[-1:] != "`")):
            break
        j += 1
    return code[start:j]


RULES = [
    ("??= (PowerShell 7)", re.compile(r"\?\?=")),
    ("?? (PowerShell 7)", re.compile(r"\?\?")),
    ("?. or ?[ null-conditional (PowerShell 7)", re.compile(r"[\w)\]}]\?(\.[A-Za-z_]|\[)")),
    ("ternary a ? b : c (PowerShell 7)", re.compile(r"(?<![|\s])\s+\?\s+(?!\{)[^\n]*?\s:\s")),
    ("&& / || pipeline chain (PowerShell 7)", re.compile(r"&&|\|\|")),
    ("-AsHashtable (PowerShell 6+)", re.compile(r"-AsHashtable\b", re.I)),
    ("ForEach-Object -Parallel (PowerShell 7)", re.compile(r"(?:ForEach-Object|foreach|%)\s+-Parallel\b", re.I)),
    ("clean block (PowerShell 7.3)", re.compile(r"(?:^|[\s{;])clean\s*\{", re.I)),
]


def problems(text: str) -> list[str]:
    """What Windows PowerShell 5.1 cannot run in this PowerShell text, with line numbers."""
    code = blank(text)
    found = []

    def line(pos: int) -> int:
        return code.count("\n", 0, pos) + 1

    for label, rule in RULES:
        found += [f"line {line(m.start())}: {label}" for m in rule.finditer(code)]
    for m in re.finditer(r"\bConvertFrom-Json\b", code, re.I):
        if re.search(r"-Depth\b", command_args(code, m.end()), re.I):
            found.append(f"line {line(m.start())}: ConvertFrom-Json -Depth (PowerShell 6.2+)")
    for m in re.finditer(r"\bConvertTo-Json\b", code, re.I):
        if not re.search(r"-Depth\b", command_args(code, m.end()), re.I):
            found.append(f"line {line(m.start())}: ConvertTo-Json without -Depth (5.1 truncates at depth 2)")
    return found


# ---- the scanner itself: it must catch each construct and nothing in strings or comments ----------

BAD = {
    "coalesce": "$name = $env:LGSEC_NAME ?? 'pc01'",
    "coalesce-assign": "$x ??= @{}",
    "null-conditional": "$len = ${user}?.Name.Length",
    "null-conditional-index": "$first = $list?[0]",
    "ternary": "$state = $enabled ? 'on' : 'off'",
    "ternary-in-parens": "Write-Output ($n -gt 1 ? 'many' : 'one')",
    "and-chain": "secedit.exe /export /cfg $inf && Remove-Item $inf",
    "or-chain": "Get-Service W32Time || throw 'no w32time'",
    "as-hashtable": "$h = Get-Content $f -Raw | ConvertFrom-Json -AsHashtable",
    "from-json-depth": "$o = ConvertFrom-Json -InputObject $raw -Depth 10",
    "parallel": "$hosts | ForEach-Object -Parallel { Test-Connection $_ }",
    "parallel-alias": "1..4 | % -Parallel { $_ }",
    "clean-block": "function F {\n    process { $_ }\n    clean { Remove-Item $tmp }\n}",
    "to-json-no-depth": "$users | ConvertTo-Json | Set-Content $out",
    "to-json-no-depth-paren": "Write-Output (ConvertTo-Json -InputObject @{a = @{b = 1}})",
    "to-json-depth-on-next-command": "$x | ConvertTo-Json | Out-File $f -Depth 3",
}

GOOD = {
    "where-alias": "Get-Service | ? { $_.Status -eq 'Running' }",
    "where-alias-multiline": "$items |\n    ? Enabled",
    "in-single-quotes": "Write-Output 'a ?? b && c || d ? e : f'",
    "in-double-quotes": 'Write-Output "use ?? and && in PowerShell 7, ConvertTo-Json alone"',
    "in-here-string": "$t = @'\nConvertTo-Json $a ?? $b\nclean { }\n'@\n$t.Length",
    "in-comment": "$a = 1  # not $a ?? 2, not a && b\n<# ConvertTo-Json without depth\n $x ? 1 : 2 #>",
    "escaped-quote": "Write-Output \"`\" ?? `\"\" ; Write-Output 'it''s ?? fine'",
    "logical": "if ($a -and $b -or -not $c) { $d = [int]::Parse('5') }",
    "to-json-depth": "Write-LgsecText $p (ConvertTo-Json -InputObject $o -Depth 5)",
    "to-json-depth-continued": "$o | ConvertTo-Json `\n    -Depth 4 -Compress",
    "to-json-depth-first": "ConvertTo-Json -Depth 3 -InputObject ([ordered]@{ a = @(1, 2) })",
    "from-json": "$o = Get-Content $f -Raw | ConvertFrom-Json",
    "switch-and-hash": "switch ($x) { 'a' { 1 } default { @{ k = 'v'; n = $null } } }",
    "if-expression": "$v = if ($a) { 1 } else { 2 }",
    "static-and-scope": "$s = [System.IO.Path]::GetTempPath(); $script:n = 1; $using = 2",
    "variable-question": "if (-not $?) { throw 'failed' }",
    "cleanup-word": "$cleanup = 1; Invoke-Cleanup { 1 }",
}


@pytest.mark.parametrize("name", BAD)
def test_scanner_catches_what_powershell_51_cannot_run(name):
    assert problems(BAD[name]), f"{name}: {BAD[name]!r} not caught"


@pytest.mark.parametrize("name", GOOD)
def test_scanner_leaves_strings_comments_and_51_code_alone(name):
    assert not problems(GOOD[name]), f"{name}: {problems(GOOD[name])}"


def test_blanking_keeps_line_numbers():
    text = "$a = 'x\ny'\n<# c\nd #>\n$b = $a ?? 1"
    assert blank(text).count("\n") == text.count("\n")
    assert problems(text) == ["line 5: ?? (PowerShell 7)"]


# ---- the repository ------------------------------------------------------------------------------

# build/, dist/: generated (make py313, make dist), not the repository's PowerShell
SKIP = {".venv", ".git", ".cache", "node_modules", "collections", "build", "dist"}


def repo_files(*suffixes: str) -> list[Path]:
    return sorted(
        p for p in ROOT.rglob("*") if p.suffix.lower() in suffixes and not SKIP & set(p.relative_to(ROOT).parts)
    )


POWERSHELL_MODULES = {
    "ansible.windows.win_powershell": "script",
    "win_powershell": "script",
    "ansible.windows.win_shell": "cmd",
    "win_shell": "cmd",
}


def script_bodies(node, where: str):
    """(where, PowerShell text) of every win_powershell script and win_shell command in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in POWERSHELL_MODULES:
                body = value if isinstance(value, str) else (value or {}).get(POWERSHELL_MODULES[key])
                if body is None and key.endswith("win_shell"):
                    body = (value or {}).get("_raw_params")
                if isinstance(body, str):
                    yield f"{where}: {node.get('name', key)}", body
            else:
                yield from script_bodies(value, where)
    elif isinstance(node, list):
        for item in node:
            yield from script_bodies(item, where)


def yaml_scripts():
    out = []
    for path in repo_files(".yml", ".yaml"):
        parts = path.relative_to(ROOT).parts
        if parts[0] not in ("roles", "playbooks", "tests", "molecule") or "fixtures" in parts:
            continue
        try:
            tree = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue  # not this test's concern (ansible-lint reads every file)
        out += list(script_bodies(tree, str(path.relative_to(ROOT))))
    return out


SCRIPTS = yaml_scripts()
FILES = repo_files(".ps1", ".psm1")


def test_the_scan_sees_the_repositorys_powershell():
    """The scan covers the collector, the modules and the roles' scripts (an empty scan passes nothing)."""
    names = {p.name for p in FILES}
    assert {"Ansible.ModuleUtils.LgsecCollect.psm1", "lgsec-collect.ps1", "lgsec_windows_facts.ps1"} <= names
    roles = {where.split(":")[0].split("/")[1] for where, _ in SCRIPTS if where.startswith("roles/")}
    assert {
        "win_accounts",
        "win_network_access",
        "win_antivirus",
        "win_logging",
        "win_software",
        "win_desktop",
    } <= roles
    assert any(where.startswith("playbooks/provision_user_windows.yml") for where, _ in SCRIPTS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_powershell_files_run_on_windows_powershell_51(path):
    assert not problems(path.read_text(encoding="utf-8-sig")), problems(path.read_text(encoding="utf-8-sig"))


@pytest.mark.parametrize(("where", "body"), SCRIPTS, ids=[w for w, _ in SCRIPTS])
def test_role_and_playbook_scripts_run_on_windows_powershell_51(where, body):
    assert not problems(body), f"{where}: {problems(body)}"
