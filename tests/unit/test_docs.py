"""The documentation a user and a developer find their way in: README.md is an entry point of at
most 300 lines, every relative link of README.md, CHANGELOG.md and docs/*.md leads to a file
that exists (and to a heading of it, when the link names one), and the control tables that
tools/gen_docs.py writes from catalog/controls.yml are the ones committed."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gen_docs)

README_MAX_LINES = 300
# Linked before it exists: written in another branch (issue 18, "adding a control"); the merge
# brings it, and then this entry goes.
ALLOWED_MISSING: set[str] = set()
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`[^`\n]*`")


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", root / "CHANGELOG.md", *sorted((root / "docs").glob("*.md"))]


def prose(text: str, blank_code: bool = True) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code blanked."""
    out, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((number, CODE.sub("``", line) if blank_code else line))
    return out


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a page (a repeated heading gets -1, -2 …)."""
    found, seen = set(), {}
    for _, line in prose(path.read_text(encoding="utf-8"), blank_code=False):
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            base = gen_docs.slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(root: Path = ROOT, allowed: set[str] = frozenset()) -> list[str]:
    broken = []
    for page in pages(root):
        if not page.exists():
            continue
        for number, line in prose(page.read_text(encoding="utf-8")):
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target):  # https:, mailto:
                    continue
                name, _, anchor = target.partition("#")
                dest = (page.parent / name).resolve() if name else page
                where = f"{page.relative_to(root)}:{number}: {target}"
                shown = dest.relative_to(root).as_posix() if dest.is_relative_to(root) else str(dest)
                if not dest.exists():
                    if shown not in allowed:
                        broken.append(f"{where}: no such file")
                elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                    broken.append(f"{where}: no heading #{anchor} in {shown}")
    return broken


def test_readme_is_an_entry_point():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/"
    text = "\n".join(lines)
    for needed in ("make audit", "make test", "## Exit codes", "## Where to read on"):
        assert needed in text, needed


def test_every_page_is_reached_from_the_readme_or_another_page():
    linked = {
        (page.parent / target.partition("#")[0]).resolve()
        for page in pages()
        for _, line in prose(page.read_text(encoding="utf-8"))
        for target in LINK.findall(line)
    }
    unreached = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not unreached, f"docs/ pages no page links to: {unreached}"


def test_every_relative_link_resolves():
    broken = broken_links(allowed=ALLOWED_MISSING)
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "# Top\n\nSee [usage](docs/usage.md#the-commands), [gone](docs/gone.md), [later](docs/later.md),\n"
        "[bad anchor](docs/usage.md#nowhere), [site](https://example.org/x.md), `[code](docs/x.md)`.\n"
        "```\n[fenced](docs/fenced.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "docs" / "usage.md").write_text(
        "# Usage\n\n## The commands\n\nBack to [the top](../README.md#top) and [here](#usage).\n", encoding="utf-8"
    )
    assert broken_links(tmp_path, allowed={"docs/later.md"}) == [
        "README.md:3: docs/gone.md: no such file",
        "README.md:4: docs/usage.md#nowhere: no heading #nowhere in docs/usage.md",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Exit codes (every lgsec command)", "exit-codes-every-lgsec-command"),
        ("AWX / Automation Platform", "awx--automation-platform"),
        ("History (第95条3) and the scheduled audit", "history-第95条3-and-the-scheduled-audit"),
        ("H. Data at rest, backup, disposal", "h-data-at-rest-backup-disposal"),
    ],
)
def test_anchors_are_githubs(heading, anchor):
    assert gen_docs.slug(heading) == anchor


def test_the_generated_tables_are_committed():
    """`python tools/gen_docs.py --check` (what `make generate` runs): exit 1 when a table differs."""
    assert gen_docs.main(["--check"]) == 0


def test_the_tables_cover_the_catalog():
    areas = (ROOT / "docs" / "areas.md").read_text(encoding="utf-8")
    catalog = gen_docs.load_catalog(ROOT / "catalog" / "controls.yml")
    rows = set(re.findall(r"^\| ([A-Z][A-Z0-9-]+) \|", areas, re.M))
    assert rows == {c.id for c in catalog}
    for control in catalog:
        for param in control.params.values():
            assert f"`{control.var(param.name)}`" in areas, control.var(param.name)


@pytest.fixture
def small_root(tmp_path):
    """A copy of the catalog and the specification, and one page with a generated part."""
    shutil.copytree(ROOT / "catalog", tmp_path / "catalog")
    (tmp_path / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "CONTROLS.md", tmp_path / "docs" / "CONTROLS.md")
    (tmp_path / "README.md").write_text("# x\n", encoding="utf-8")
    page = tmp_path / "docs" / "areas.md"
    page.write_text("# Areas\n\nbefore\n<!-- gen_docs controls section=H -->\nstale\n<!-- /gen_docs -->\nafter\n")
    return tmp_path


def test_check_finds_a_stale_table_and_a_rewrite_fixes_it(small_root, capsys):
    page = small_root / "docs" / "areas.md"
    assert gen_docs.main(["--check"], root=small_root) == 1
    assert "docs/areas.md" in capsys.readouterr().out
    assert "stale" in page.read_text(encoding="utf-8")  # --check writes nothing
    assert gen_docs.main([], root=small_root) == 0
    text = page.read_text(encoding="utf-8")
    assert "stale" not in text and text.startswith("# Areas\n\nbefore\n") and text.endswith("after\n")
    assert "| WIPE-RECORDED |" in text and "| LOCKOUT |" not in text
    assert gen_docs.main(["--check"], root=small_root) == 0
    # a catalog change (a new default) makes the committed table stale again
    controls = small_root / "catalog" / "controls.yml"
    text = controls.read_text(encoding="utf-8")
    seven = "max_age_days: {type: int, default: 7,"
    assert seven in text
    controls.write_text(text.replace(seven, seven.replace("7", "3"), 1))
    assert gen_docs.main(["--check"], root=small_root) == 1


@pytest.mark.parametrize(
    ("marker", "why"),
    [
        ("<!-- gen_docs controls section=H -->\nno end\n", "never closed"),
        ("<!-- gen_docs tables -->\n<!-- /gen_docs -->\n", "not a gen_docs marker"),
        ("<!-- gen_docs controls platform=mainframe -->\n<!-- /gen_docs -->\n", "no control has platform mainframe"),
    ],
)
def test_a_bad_marker_names_file_and_line(small_root, marker, why):
    (small_root / "docs" / "areas.md").write_text("# Areas\n\n" + marker, encoding="utf-8")
    with pytest.raises(SystemExit) as raised:
        gen_docs.main(["--check"], root=small_root)
    assert "areas.md:3" in str(raised.value) and why in str(raised.value)
