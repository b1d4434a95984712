"""Every repository path the documentation cites exists: the catalog (its comments and values),
the roles' YAML comments, README.md and docs/*.md (in backticks). A cited test or task file that
was renamed or never written sends the next engineer, and the auditor who follows the citation,
to nothing. A path counts when it starts with one of the repository's top-level folders (in a
role's comment also with a role folder: tasks/…, defaults/…, read in that role) and ends with a
file suffix; placeholders (<id>, *, …, {…}) are not paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("."))
ROLE_DIRS = ("tasks", "defaults", "vars", "meta", "handlers", "templates", "files")
FOLDERS = "|".join(map(re.escape, TOP + list(ROLE_DIRS)))
PATH = re.compile(rf"(?<![\w./-])((?:{FOLDERS})/[\w./<>*…{{}}-]*\w\.[A-Za-z0-9]+)")
BACKTICKS = re.compile(r"`([^`\n]+)`")
PLACEHOLDER = re.compile(r"[<>*…{}]")


def paths_in(text: str) -> list[str]:
    return [p for p in PATH.findall(text) if not PLACEHOLDER.search(p)]


def top(path: str) -> bool:
    """A repository path (a role's tasks/main.yml outside its role is not one)."""
    return path.split("/")[0] in TOP


def citations(root: Path = ROOT) -> list[tuple[str, Path]]:
    """(where: file:line, the path it names resolved) for every citation."""
    found = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for quoted in BACKTICKS.findall(line):
                found += [(f"{doc.relative_to(root)}:{number}", root / p) for p in paths_in(quoted) if top(p)]
    catalog = root / "catalog" / "controls.yml"
    for number, line in enumerate(catalog.read_text(encoding="utf-8").splitlines(), 1):
        found += [(f"{catalog.relative_to(root)}:{number}", root / p) for p in paths_in(line) if top(p)]
    for path in sorted((root / "roles").glob("*/**/*.yml")):
        role = root / "roles" / path.relative_to(root / "roles").parts[0]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "#" not in line:
                continue
            for cited in paths_in(line[line.index("#") :]):
                base = role if cited.split("/")[0] in ROLE_DIRS else root
                found.append((f"{path.relative_to(root)}:{number}", base / cited))
    return found


def test_the_scan_finds_citations():
    """Many citations are found, of each kind: a scan that matched nothing would pass."""
    where = {w.split(":")[0] for w, _ in citations()}
    assert len(citations()) > 100
    assert {"README.md", "catalog/controls.yml"} <= where
    assert any(w.startswith("docs/") for w in where) and any(w.startswith("roles/") for w in where)


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        (
            "see `tests/unit/test_roles.py` and `roles/a/tasks/b.yml`",
            ["tests/unit/test_roles.py", "roles/a/tasks/b.yml"],
        ),
        ("`molecule/<scenario>/verify.py`, `roles/*/defaults/main.yml`, `docs/….md`", []),
        ("`lgsec/` the package, `tests/unit` the tests, `x/tests/a.py` another project's", []),
        ("read by tasks/guard.yml (getent).", ["tasks/guard.yml"]),
    ],
)
def test_what_counts_as_a_path(text, paths):
    assert paths_in(text) == paths


def test_a_missing_citation_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "catalog").mkdir()
    (tmp_path / "roles" / "a" / "vars").mkdir(parents=True)
    (tmp_path / "README.md").write_text("proved by `tests/unit/test_gone.py`\n", encoding="utf-8")
    (tmp_path / "catalog" / "controls.yml").write_text("# (tests/unit/test_catalog_roles.py)\n", encoding="utf-8")
    (tmp_path / "roles" / "a" / "vars" / "main.yml").write_text("# read by tasks/facts.yml\nx: 1\n", encoding="utf-8")
    cited = [(where, path.relative_to(tmp_path).as_posix()) for where, path in citations(tmp_path)]
    assert cited == [
        ("README.md:1", "tests/unit/test_gone.py"),
        ("catalog/controls.yml:1", "tests/unit/test_catalog_roles.py"),
        ("roles/a/vars/main.yml:1", "roles/a/tasks/facts.yml"),
    ]


def test_every_cited_path_exists():
    missing = [f"{where}: {path.relative_to(ROOT)}" for where, path in citations() if not path.exists()]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)
