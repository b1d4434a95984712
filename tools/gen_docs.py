"""Write the documentation's control tables from the catalog.

    python tools/gen_docs.py           rewrite the generated parts of README.md and docs/*.md
    python tools/gen_docs.py --check   exit 1, naming the files, when a committed file differs

A generated part sits between two marker lines; everything outside them is written by hand:

    <!-- gen_docs sections -->              the areas A–H: title, number of controls, their ids
    <!-- gen_docs controls section=A -->    one area's controls: titles, articles, platforms,
    <!-- gen_docs controls platform=windows -->   automation, classes, variables and defaults
    <!-- /gen_docs -->

The controls, their parameters and defaults come from catalog/controls.yml (through
lgsec.catalog, which validates it); the areas' titles from the headings of docs/CONTROLS.md,
the specification the catalog is written from. Exit 2 on a marker this script does not know or
one left open, naming the file and line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lgsec.catalog import CLASSES, load_catalog  # noqa: E402

BEGIN = re.compile(r"^<!-- gen_docs (sections|controls (?:section|platform)=[\w-]+) -->$")
END = "<!-- /gen_docs -->"
HEADING = re.compile(r"^## ([A-Z])\. (.+?) — ")
LONG = 40  # a default longer than this (as JSON) is shown by its size: the catalog has it whole


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def section_titles(root: Path) -> dict[str, str]:
    text = (root / "docs" / "CONTROLS.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in map(HEADING.match, text.splitlines()) if m}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def default(value) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) <= LONG:
        return f"`{cell(shown)}`"
    if isinstance(value, list):
        return f"{len(value)} entries"
    if isinstance(value, dict):
        return f"{len(value)} keys"
    return f"`{cell(shown[: LONG - 5])}…`"


def applies(control) -> str:
    classes = "I–IV" if tuple(control.classes) == CLASSES else ", ".join(control.classes)
    return classes + (", mobile only" if control.mobile_only else "")


def controls_table(controls) -> list[str]:
    lines = [
        "| id | 管理策 / control | articles | platforms | automation | classes | variables (default) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in controls:
        params = "<br>".join(f"`{c.var(p.name)}` = {default(p.default)}" for p in c.params.values()) or "—"
        lines.append(
            f"| {c.id} | {cell(c.title_ja)}<br>{cell(c.title_en)} | {', '.join(c.articles)} | "
            f"{', '.join(c.platforms)} | {c.automation} | {applies(c)} | {params} |"
        )
    return lines


def sections_table(catalog, titles: dict[str, str], areas: str) -> list[str]:
    """One row per area, linking to its section of docs/areas.md (`areas`: that page, relative)."""
    lines = ["| area | controls | ids |", "|---|---|---|"]
    for letter, title in titles.items():
        ids = [c.id for c in catalog if c.section == letter]
        if ids:
            heading = f"{letter}. {title}"
            lines.append(f"| [{cell(heading)}]({areas}#{slug(heading)}) | {len(ids)} | {', '.join(ids)} |")
    lines.append(f"| all | {len(catalog)} | |")
    return lines


def generated(kind: str, catalog, titles: dict[str, str], path: Path, root: Path) -> list[str]:
    if kind == "sections":
        areas = Path(os.path.relpath(root / "docs" / "areas.md", path.parent)).as_posix()
        return sections_table(catalog, titles, areas)
    key, value = kind.split(" ", 1)[1].split("=")
    chosen = [c for c in catalog if (c.section == value if key == "section" else value in c.platforms)]
    if not chosen:
        raise ValueError(f"no control has {key} {value}")
    return controls_table(chosen)


def rewrite(path: Path, catalog, titles: dict[str, str], root: Path = ROOT) -> str:
    """The file's text with every generated part written anew."""
    out, kind = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if kind is None:
            out.append(line)
            begin = BEGIN.match(line)
            if begin:
                kind, start = begin.group(1), number
                try:
                    out += generated(kind, catalog, titles, path, root)
                except ValueError as err:
                    raise SystemExit(f"{path}:{number}: {err}") from None
            elif line.startswith("<!-- gen_docs") or line == END:
                raise SystemExit(f"{path}:{number}: not a gen_docs marker this script knows: {line}")
        elif line == END:
            out.append(line)
            kind = None
        elif line.startswith("<!-- gen_docs"):
            raise SystemExit(f"{path}:{number}: a marker inside the part opened on line {start}")
    if kind is not None:
        raise SystemExit(f"{path}:{start}: `{kind}` opened and never closed ({END})")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file differs")
    args = parser.parse_args(argv)
    catalog = load_catalog(root / "catalog" / "controls.yml")
    titles = section_titles(root)
    differ = []
    for path in documents(root):
        old = path.read_text(encoding="utf-8")
        new = rewrite(path, catalog, titles, root)
        if new != old:
            differ.append(path.relative_to(root).as_posix())
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and differ:
        print("generated from catalog/controls.yml, out of date (run python tools/gen_docs.py):", *differ, sep="\n  ")
        return 1
    for name in differ:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
