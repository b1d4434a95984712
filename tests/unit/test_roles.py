"""The roles and the catalog speak of the same controls with the same names (the defaults and
argument specs are generated from the catalog: tests/unit/test_generate.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import import_path

from lgsec.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
# The roles that enforce controls (a tasks/main.yml); roles/sshd is shared by two of them and
# has task files only for them to include.
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
SHARED_ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir() and p not in ROLES)
CATALOG = load_catalog()
VARIABLES = CATALOG.variables()
# Task names may also start with these prefixes: steps that serve every control of the role.
SHARED_PREFIXES = ("GUARD", "SSHD")


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def tasks_in(path: Path):
    """Every task of a task file, blocks included."""
    for task in load(path) if isinstance(load(path), list) else []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from task.get(key, [])


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_lgsec_default_is_a_catalog_parameter(role):
    """A role variable named like a control's parameter but unknown to the catalog is a typo."""
    prefixes = {c.var(""): c.id for c in CATALOG}
    for name in load(role / "defaults" / "main.yml"):
        owner = next((cid for prefix, cid in prefixes.items() if name.startswith(prefix)), None)
        if owner:
            assert name in VARIABLES, f"{role.name}: {name} looks like a {owner} parameter but the catalog has none"


TASK_FILES = sorted(p for role in ROLES + SHARED_ROLES for p in (role / "tasks").glob("*.yml") if p.name != "main.yml")


def import_tags(path: Path) -> set[str]:
    """Tags given to a task file where the role's main.yml imports it (they apply to every task)."""
    tags = set()
    main = path.parent / "main.yml"
    for task in load(main) if main.is_file() else []:
        for child in [task, *(task.get("block") or [])]:  # a block's tags apply to the imports in it
            target = child.get("ansible.builtin.import_tasks") or child.get("import_tasks")
            if target == path.name:
                tags |= set(task.get("tags") or []) | set(child.get("tags") or [])
    return tags


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_task_names_and_tags_carry_the_control_id(path):
    inherited = import_tags(path)
    for task in tasks_in(path):
        name = task.get("name", "")
        prefix = name.split(" | ", 1)[0]
        assert " | " in name and (prefix in CATALOG.controls or prefix in SHARED_PREFIXES), (
            f"{path.name}: task {name!r} is not named '<CONTROL-ID> | …'"
        )
        if prefix in CATALOG.controls:
            tags = inherited | set(task.get("tags") or [])
            assert prefix in tags or "always" in tags, f"{path.name}: task {name!r} is not tagged {prefix}"
            articles = CATALOG[prefix].articles
            assert any(re.match(r"第\d+条", a).group() in name for a in articles) or "block" in task, (
                f"{path.name}: task {name!r} does not cite its article ({', '.join(articles)})"
            )


def test_install_steps_run_only_for_missing_packages():
    """lgsec_missing_packages: what an install step still has to install, from ansible_facts.packages;
    without package facts (a role used alone) every package, so the step runs as it always did."""
    plugin = import_path("lgsec_filter_plugin", ROOT / "filter_plugins" / "lgsec.py")
    missing = plugin.FilterModule().filters()["lgsec_missing_packages"]
    facts = {"packages": {"chrony": [{"version": "4.3"}], "aide": [{"version": "0.18"}]}}
    assert missing("chrony", facts) == []
    assert missing(["clamav", "aide", "clamav-daemon"], facts) == ["clamav", "clamav-daemon"]
    assert missing("chrony", {"os_family": "Debian"}) == ["chrony"]  # no package facts read
    assert missing(["chrony"], None) == ["chrony"]
