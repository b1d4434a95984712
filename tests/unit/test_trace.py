"""`lgsec catalog show ID` leads from a control's id to the files it lives in: every path it
prints exists, the check it names is that control's check, and an unknown id is exit 2 with the
closest ids. `lgsec catalog list`: one line a control."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import ROOT

from lgsec import checks, trace
from lgsec.catalog import load_catalog
from lgsec.cli import main

CATALOG = load_catalog()
PLACE = re.compile(r"^  (\S+?)(?::(\d+))?/?  \(")  # "  path:line  (…)" and "  folder/  (…)"


def show(capsys, control_id: str) -> list[str]:
    assert main(["catalog", "show", control_id]) == 0
    return capsys.readouterr().out.splitlines()


def places(lines: list[str]) -> list[tuple[Path, int | None]]:
    out = []
    for line in lines:
        match = PLACE.match(line)
        if match:
            out.append((ROOT / match[1], int(match[2]) if match[2] else None))
    return out


def test_lockout_leads_to_its_checks_on_each_platform(capsys):
    lines = show(capsys, "LOCKOUT")
    assert lines[0] == "LOCKOUT  section A  第69条5"
    assert "  en: Limited login attempts, stricter for privileged IDs" in lines
    assert any(line.startswith("  lgsec_lockout_deny (int, default 5, min 1, max 10): ") for line in lines)
    checks = {line.split()[0]: line.split()[1] for line in lines if re.match(r"^  (linux|windows|network) ", line)}
    assert set(checks) == {"linux", "windows", "network"}
    for platform, place in checks.items():
        path, line = place.rsplit(":", 1)
        assert decorator(ROOT / path, int(line)).startswith(f'@check("LOCKOUT","{platform}"'), place


def decorator(path: Path, line: int) -> str:
    """The source from a line to the next `def`, without white space (a decorator ruff wrapped)."""
    source = path.read_text(encoding="utf-8").splitlines()[line - 1 :]
    return re.sub(r"\s+", "", "".join(source[: next(i for i, s in enumerate(source) if s.startswith("def "))]))


def test_what_a_check_reads_is_its_declaration():
    assert trace.reads(checks.Reads(("/etc/security/faillock.conf",), (), ())) == "files /etc/security/faillock.conf"
    assert trace.reads(checks.Reads((), ("sshd -T",), ("shadow",))) == "commands sshd -T; facts shadow"
    assert trace.reads(checks.Reads((), (), ())) == "nothing declared"


def test_each_check_shown_names_what_it_reads(capsys):
    """LOCKOUT's three checks each say what they read (the network one: the running configuration)."""
    lines = show(capsys, "LOCKOUT")
    assert any(line.strip().startswith("network") and "facts running_config" in line for line in lines), lines
    assert not any("nothing declared" in line for line in lines), lines


def test_lockout_leads_to_its_role_tasks_fixtures_and_molecule_test(capsys):
    lines = show(capsys, "LOCKOUT")
    found = places(lines)
    assert found, lines
    for path, line in found:
        assert path.exists(), path
        if line:
            assert len(path.read_text(encoding="utf-8").splitlines()) >= line, (path, line)
    paths = {str(path.relative_to(ROOT)) for path, _ in found}
    assert {
        "roles/accounts/tasks/main.yml",  # the import tagged LOCKOUT
        "roles/accounts/tasks/lockout.yml",  # the file it imports
        "roles/win_accounts/tasks/lockout.yml",
        "roles/network_device/tasks/apply.yml",  # a task tagged LOCKOUT among others
        "roles/accounts/defaults/main.yml",  # lgsec_lockout_*
        "tests/fixtures/linux/LOCKOUT",
        "tests/fixtures/windows/LOCKOUT",
        "molecule/accounts/tests/test_accounts.py",
    } <= paths
    text = "\n".join(lines)
    assert "tests/fixtures/linux/LOCKOUT/  (fail.yml, pass.yml)" in text
    assert "roles/accounts/tasks/pw_length.yml" not in text  # another control's task file


def test_the_role_task_files_are_those_tagged_with_the_id():
    """Checked against the task files themselves: a task file named is tagged or named with the id."""
    for line in trace.role_tasks("LOCKOUT"):
        path = ROOT / line.split(":")[0].split()[0]
        text = path.read_text(encoding="utf-8")
        assert "LOCKOUT" in text, path


def test_an_unknown_id_is_exit_2_with_the_closest_ids(capsys):
    assert main(["catalog", "show", "LOCKOT"]) == 2
    err = capsys.readouterr().err
    assert "catalog show: LOCKOT: unknown control id (closest: LOCKOUT" in err
    assert main(["catalog", "show"]) == 2
    assert main(["catalog", "list", "LOCKOUT"]) == 2


def test_an_id_in_lower_case_is_the_control(capsys):
    assert show(capsys, "lockout")[0].startswith("LOCKOUT ")


def test_a_manual_control_says_it_has_no_check(capsys):
    lines = show(capsys, "PW-TEMP")
    assert "  linux    no check (manual)" in lines
    assert any(line.startswith("  manual: ") for line in lines)


def test_an_installation_without_tests_says_so(tmp_path):
    """A wheel ships roles/ but not tests/, molecule/, docs/ (setup.py SHARE): said, never "none"."""
    shutil.copytree(ROOT / "roles", tmp_path / "roles")
    lines = trace.show(CATALOG, "LOCKOUT", root=tmp_path)
    for title in ("fixtures:", "molecule tests:", "unit tests naming it:", "docs:"):
        assert f"{title} {trace.NOT_SHIPPED}" in lines
    assert any(line.startswith("  roles/accounts/tasks/lockout.yml:") for line in lines)


def test_host_text_cannot_reach_the_terminal_through_show(tmp_path):
    """A file name under roles/ with a terminal escape is printed escaped (textsafe)."""
    tasks = tmp_path / "roles" / "x" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "evil\x1b[2J.yml").write_text("- name: LOCKOUT | x\n  tags: [LOCKOUT]\n", encoding="utf-8")
    lines = trace.show(CATALOG, "LOCKOUT", root=tmp_path)
    assert any("evil\\x1b[2J.yml" in line for line in lines)
    assert not any("\x1b" in line for line in lines)


def test_catalog_list_one_line_a_control(capsys):
    assert main(["catalog", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CATALOG.controls)
    assert lines[0].split()[1:3] == ["A", "第50条(3)"] and "[linux, windows, network]" in lines[0]
