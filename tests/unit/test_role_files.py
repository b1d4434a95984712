"""One file, one owner: no two task files of the roles write the same file, and lgsec's sshd
drop-ins (roles/sshd) never set the same keyword twice (sshd keeps the first value it reads of
most keywords, so a second one would be dead text that a reader takes for the setting)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lgsec.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
SSHD = ROOT / "roles" / "sshd"
# Modules that write (part of) a file, and the option that names it.
WRITERS = {
    "template": "dest",
    "copy": "dest",
    "lineinfile": "path",
    "blockinfile": "path",
    "replace": "path",
}
# Deliberate exceptions: path → (the task files allowed to write it, why).
SHARED_PATHS: dict[str, tuple[set[str], str]] = {
    "/etc/security/pwquality.conf": (
        {"roles/accounts/tasks/pw_length.yml", "roles/accounts/tasks/pw_complexity.yml"},
        "the distribution's file (libpwquality's commented defaults), not lgsec's: each control sets only "
        "its own keys in it (PW-LENGTH minlen, enforce_for_root; PW-COMPLEXITY minclass, dictcheck), as "
        "the audit reads them there",
    ),
    "/etc/login.defs": (
        {"roles/accounts/tasks/pw_maxage.yml", "roles/desktop/tasks/pw_nostore_os.yml"},
        "the distribution's file (shadow's login.defs), not lgsec's: each control sets only its own key "
        "by lineinfile (PW-MAXAGE PASS_MAX_DAYS, PW-NOSTORE UMASK), as the audit reads them there",
    ),
}
VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
ITEM = re.compile(r"\{\{\s*item(?:\.([a-z_]+))?\s*\}\}")


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def tasks_in(tasks):
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from tasks_in(task.get(key))


def role_vars(role: Path) -> dict:
    found = {}
    for part in ("defaults", "vars"):
        path = role / part / "main.yml"
        if path.is_file():
            found.update(load(path))
    return found


def resolve(text: str, variables: dict, depth: int = 5) -> str:
    """A path with the role's plain string variables put in (what a reader of the role would see)."""
    for _ in range(depth):
        new = VAR.sub(lambda m: plain if isinstance(plain := variables.get(m.group(1)), str) else m.group(0), text)
        if new == text:
            break
        text = new
    return text


def written_paths(roles_dir: Path) -> dict[str, set[str]]:
    """Each path a role task writes → the task files (roles/<role>/tasks/<file>) that write it."""
    writers: dict[str, set[str]] = {}
    for tasks_file in sorted(roles_dir.glob("*/tasks/*.yml")):
        role = tasks_file.parent.parent
        variables = role_vars(role)
        owner = tasks_file.relative_to(roles_dir.parent).as_posix()
        for task in tasks_in(load(tasks_file)):
            for module, option in WRITERS.items():
                args = task.get(f"ansible.builtin.{module}") or task.get(module)
                if not isinstance(args, dict) or option not in args:
                    continue
                dest = str(args[option])
                loop = task.get("loop")
                match = ITEM.search(dest)
                if match and isinstance(loop, list):
                    field = match.group(1)
                    items = [i for i in loop if not field or isinstance(i, dict)]
                    dests = [ITEM.sub(str(i[field] if field else i), dest) for i in items]
                else:
                    dests = [dest]
                for one in map(lambda d: resolve(d, variables), dests):
                    # a loop over a computed list (PAM stacks of the platform…): not known before the
                    # run, so only a writer of that task file
                    key = f"{one} ({owner})" if ITEM.search(one) else one
                    writers.setdefault(key, set()).add(owner)
    return writers


def test_no_two_task_files_write_the_same_file():
    shared = {
        path: owners
        for path, owners in written_paths(ROOT / "roles").items()
        if len(owners) > 1 and owners != SHARED_PATHS.get(path, (set(), ""))[0]
    }
    assert not shared, f"written by more than one task file (one owner per file): {shared}"


def test_two_writers_of_one_file_are_found(tmp_path):
    """The check above can fail: two roles writing one path, once through a variable."""
    for role, dest in (("a", "/etc/profile.d/x.sh"), ("b", "{{ b_file }}")):
        (tmp_path / "roles" / role / "tasks").mkdir(parents=True)
        task = [{"name": "T | t", "ansible.builtin.template": {"src": "x.j2", "dest": dest}}]
        (tmp_path / "roles" / role / "tasks" / "x.yml").write_text(yaml.safe_dump(task), encoding="utf-8")
    (tmp_path / "roles" / "b" / "vars").mkdir()
    (tmp_path / "roles" / "b" / "vars" / "main.yml").write_text("b_file: /etc/profile.d/x.sh\n", encoding="utf-8")
    assert written_paths(tmp_path / "roles")["/etc/profile.d/x.sh"] == {"roles/a/tasks/x.yml", "roles/b/tasks/x.yml"}


# ---- sshd drop-ins: roles/sshd/templates/<name>.conf.j2, one per control (or per keyword two demand)

SSHD_VARS = load(SSHD / "vars" / "main.yml")
TEMPLATES = sorted((SSHD / "templates").glob("*.conf.j2"))
DYNAMIC = "{{ key }} {{ value }}"  # remote-minimal.conf.j2: REMOTE-MINIMAL's sshd_options


def keywords(template: Path) -> list[str]:
    """The sshd keywords a drop-in template sets (lower case, as sshd -T prints them); the loop
    over REMOTE-MINIMAL's sshd_options counts with the catalog's default options."""
    found = []
    for line in template.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("{%"):
            continue
        if line == DYNAMIC:
            options = load_catalog()["REMOTE-MINIMAL"].params["sshd_options"].default
            found += [key.lower() for key in options]
        else:
            assert not line.startswith("{{"), f"{template.name}: a keyword the test cannot read: {line}"
            found.append(line.split()[0].lower())
    return found


def test_no_keyword_is_set_by_two_lgsec_drop_ins():
    owners: dict[str, list[str]] = {}
    for template in TEMPLATES:
        for keyword in keywords(template):
            owners.setdefault(keyword, []).append(template.name)
    twice = {k: names for k, names in owners.items() if len(names) > 1}
    assert not twice, f"sshd keywords set by more than one lgsec drop-in (sshd keeps the first): {twice}"
    assert {"permitrootlogin", "permitemptypasswords", "ciphers", "clientaliveinterval", "allowgroups"} <= set(owners)


def test_remote_minimal_options_skip_exactly_the_other_drop_ins_keywords():
    """REMOTE-MINIMAL's sshd_options come from the inventory: its template leaves out the keywords
    the other drop-ins set (lgsec_sshd_keywords_elsewhere), and that list is theirs."""
    elsewhere = {k for t in TEMPLATES if t.name != "remote-minimal.conf.j2" for k in keywords(t)}
    assert set(SSHD_VARS["lgsec_sshd_keywords_elsewhere"]) == elsewhere


def test_every_drop_in_has_one_template_and_a_header_naming_its_controls_and_task_files():
    names = {t.name.removesuffix(".conf.j2") for t in TEMPLATES}
    assert names == set(SSHD_VARS["lgsec_sshd_dropins"])
    catalog = load_catalog()
    for name, entry in SSHD_VARS["lgsec_sshd_dropins"].items():
        text = (SSHD / "templates" / f"{name}.conf.j2").read_text(encoding="utf-8")
        header = [line for line in text.splitlines() if line.startswith("# Managed by lgsec")]
        assert len(header) == 1 and "written whole by roles/sshd/tasks/dropin.yml" in header[0], name
        for cid in entry["controls"]:
            assert cid in catalog.controls, f"{name}: {cid} is no control"
            calls = [
                p.relative_to(ROOT).as_posix()
                for p in (ROOT / "roles").glob("*/tasks/*.yml")
                if re.search(rf"lgsec_sshd_dropin: {re.escape(name)}\n", p.read_text(encoding="utf-8"))
                and (p.stem.replace("_", "-").upper() == cid)
            ]
            assert len(calls) == 1, f"{name}: no one task file of {cid} writes it ({calls})"
            assert f"{cid} (" in header[0] and calls[0] in header[0], f"{name}: header does not name {cid}, {calls[0]}"


def test_the_old_shared_drop_ins_are_replaced_by_lgsec_drop_ins():
    for old, successors in SSHD_VARS["lgsec_sshd_legacy_dropins"].items():
        assert not old.startswith("30-") and old > "30-lgsec-~", f"{old} must sort after the files that replace it"
        assert set(successors) <= set(SSHD_VARS["lgsec_sshd_dropins"]), old


@pytest.mark.parametrize("path", ["/etc/security/faillock.conf", "/etc/profile.d/lgsec-tmout.sh"])
def test_lgsec_owned_files_are_written_whole_by_one_template(path):
    owners = written_paths(ROOT / "roles")[path]
    assert len(owners) == 1, owners
    owner = ROOT / next(iter(owners))
    tasks = [t for t in tasks_in(load(owner)) if (t.get("ansible.builtin.template") or {}).get("dest") == path]
    assert len(tasks) == 1, f"{path}: not one template task"


CLEANUP_CASES = {
    # an approved exception waives both controls that demand PermitEmptyPasswords: its file goes;
    # the old 40-lgsec-accounts.conf goes too (its successors are there or waived), 41- stays
    # (30-lgsec-remote-minimal.conf is not there yet: its settings would be lost)
    "waived": (
        {"lgsec_waived_controls": ["PW-EMPTY", "REMOTE-ENCRYPTED"]},
        ["30-lgsec-permitemptypasswords.conf", "30-lgsec-permitrootlogin.conf", "30-lgsec-session-limit.conf"],
        ["30-lgsec-permitrootlogin.conf", "30-lgsec-session-limit.conf", "41-lgsec-remote.conf"],
    ),
    # playbooks/harden.yml: lgsec_waived_controls also holds the controls skipped because their
    # audit passes; only lgsec_validated's waivers remove files, and the old drop-in stays while
    # one of its successors (30-lgsec-session-limit.conf) is missing
    "passing is not waived": (
        {
            "lgsec_waived_controls": ["PRIV-DEFAULT-ID", "REMOTE-MINIMAL"],
            "lgsec_validated": {"waived": {"localhost": []}},
        },
        ["30-lgsec-permitrootlogin.conf", "30-lgsec-permitemptypasswords.conf"],
        [
            "30-lgsec-permitemptypasswords.conf",
            "30-lgsec-permitrootlogin.conf",
            "40-lgsec-accounts.conf",
            "41-lgsec-remote.conf",
        ],
    ),
}


@pytest.mark.parametrize("case", CLEANUP_CASES, ids=list(CLEANUP_CASES))
def test_cleanup_removes_waived_drop_ins_and_old_ones_only_when_nothing_is_lost(tmp_path, case):
    """roles/sshd/tasks/cleanup.yml run by ansible-playbook on a folder of this test (the play
    ends before the sshd handler)."""
    extra, present, left = CLEANUP_CASES[case]
    folder = tmp_path / "sshd_config.d"
    folder.mkdir()
    for name in [*present, "40-lgsec-accounts.conf", "41-lgsec-remote.conf"]:
        (folder / name).write_text("# lab\n", encoding="utf-8")
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"ansible.builtin.include_role": {"name": "sshd", "tasks_from": "cleanup.yml"}},
                {"ansible.builtin.meta": "end_play"},
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play), encoding="utf-8")
    variables = {"lgsec_sshd_dropin_dir": str(folder), "ansible_python_interpreter": sys.executable, **extra}
    (tmp_path / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    beside = Path(sys.executable).parent / "ansible-playbook"
    playbook = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if playbook is None:
        pytest.skip("no ansible-playbook beside this Python or on PATH: the cleanup cannot be run here")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_ROLES_PATH": str(ROOT / "roles")}
    argv = [
        str(playbook),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"@{tmp_path / 'vars.json'}",
        str(tmp_path / "play.yml"),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert sorted(p.name for p in folder.iterdir()) == left
