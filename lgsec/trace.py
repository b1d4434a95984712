"""`lgsec catalog show ID`: where one control lives, from its catalog entry to every file that
carries it — the check per platform (file:line, from the registry), what each check reads (its
declaration, where the checks declare one), the role task files tagged with the id, the role
files naming its variables, the fixtures, the molecule tests and the documents naming it.

Paths are relative to the project's root (the checkout, or an installed wheel's lgsec/share);
what an installation does not ship (tests/, molecule/, docs/ in a wheel) is said so, never
listed as empty. Every line goes through lgsec.textsafe.for_terminal.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from lgsec import checks
from lgsec.catalog import ROOT, SAFE_LOADER, Catalog, Control
from lgsec.errors import InputError
from lgsec.textsafe import for_terminal

NOT_SHIPPED = "not in this installation"
IMPORT_KEYS = ("import_tasks", "include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_tasks")
BLOCK_KEYS = ("block", "rescue", "always")


def find(catalog: Catalog, control_id: str) -> Control:
    """The control of an id (any case); an unknown id is an input error naming the closest ids."""
    control = catalog.controls.get(control_id) or catalog.controls.get(control_id.upper())
    if control:
        return control
    close = difflib.get_close_matches(control_id.upper(), sorted(catalog.controls), n=3, cutoff=0.4)
    hint = f"closest: {', '.join(close)}" if close else "`lgsec catalog list` lists the ids"
    raise InputError("catalog show", control_id, f"unknown control id ({hint})")


def mentions(control_id: str) -> re.Pattern:
    """The id as a word of its own (LOCKOUT, not LOCKOUT-X nor X-LOCKOUT)."""
    return re.compile(rf"(?<![A-Za-z0-9-]){re.escape(control_id)}(?![A-Za-z0-9-])")


def rel(path: Path, root: Path = ROOT) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check_places(control: Control) -> list[tuple[str, str, str]]:
    """(platform, file:line of the check, what it reads) for each platform of the control."""
    registry = checks.load_all()
    out = []
    for platform in control.platforms:
        fn = registry.get((control.id, platform))
        if fn is None:
            out.append((platform, f"no check ({control.automation})", ""))
            continue
        source = Path(inspect.getsourcefile(fn) or "?").resolve()
        place = f"{rel(source)}:{fn.__code__.co_firstlineno}"
        out.append((platform, place, reads(checks.declared(control.id, platform))))
    return out


def reads(declaration: checks.Reads) -> str:
    """What a check declares it reads (@check files=, commands=, facts=), as one line."""
    said = [f"{kind} {', '.join(values)}" for kind, values in declaration._asdict().items() if values]
    return "; ".join(said) or "nothing declared"


def _scalars(node) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [t.strip() for t in str(node.value).split(",")]
    if isinstance(node, yaml.SequenceNode):
        return [str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)]
    return []


def _tasks(node) -> Iterator[yaml.MappingNode]:
    """Every task mapping of a task file's node tree, blocks' tasks included."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _tasks(item)
    elif isinstance(node, yaml.MappingNode):
        yield node
        for key, value in node.value:
            if key.value in BLOCK_KEYS:
                yield from _tasks(value)


def role_tasks(control_id: str, root: Path = ROOT) -> list[str]:
    """The role task files carrying the id: a task, block or import tagged with it (and the file
    such an import brings in), and the tasks named "<ID> | …"."""
    found: dict[Path, list[str]] = {}
    for path in sorted(root.glob("roles/*/tasks/*.yml")):
        try:
            tree = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except yaml.YAMLError as exc:
            found.setdefault(path, []).append(f"not readable as YAML: {exc}")
            continue
        for task in _tasks(tree):
            fields = {k.value: v for k, v in task.value if isinstance(k, yaml.ScalarNode)}
            line = task.start_mark.line + 1
            name = fields["name"].value if isinstance(fields.get("name"), yaml.ScalarNode) else ""
            if control_id in _scalars(fields.get("tags")):
                target = next((fields[k].value for k in IMPORT_KEYS if isinstance(fields.get(k), yaml.ScalarNode)), "")
                found.setdefault(path, []).append(f"line {line}: tagged" + (f", imports {target}" if target else ""))
                if target and "{" not in target:
                    found.setdefault(path.parent / target, []).append(f"imported by {path.name}:{line}")
            elif str(name).startswith(f"{control_id} |"):
                found.setdefault(path, []).append(f"line {line}: named {control_id} | …")
    lines = []
    for path, what in found.items():
        named = [w for w in what if "named" in w]
        shown = [w for w in what if "named" not in w]
        if named:
            shown.append(f"{len(named)} task(s) named {control_id} | …")
        first = next((int(w.split()[1].rstrip(":")) for w in what if w.startswith("line ")), None)
        lines.append(f"{rel(path, root)}{f':{first}' if first else ''}  ({'; '.join(shown)})")
    return lines


def naming(files: list[Path], pattern: re.Pattern, root: Path = ROOT) -> list[str]:
    """path:first line (how many lines) of each file in which the pattern occurs."""
    out = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        hits = [n for n, line in enumerate(text.splitlines(), start=1) if pattern.search(line)]
        if hits:
            out.append(f"{rel(path, root)}:{hits[0]}  ({len(hits)} line{'s' if len(hits) > 1 else ''})")
    return out


def role_files(control: Control, root: Path = ROOT) -> list[str]:
    """Role files other than task files that name the id or set its variables (defaults,
    argument specs, vars, templates, handlers, the role README)."""
    pattern = re.compile(rf"{mentions(control.id).pattern}|\b{re.escape(control.var(''))}\w+")
    files = [p for p in sorted(root.glob("roles/*/**/*")) if p.is_file() and p.parent.name != "tasks"]
    return naming(files, pattern, root)


def fixtures(control_id: str, root: Path = ROOT) -> list[str] | None:
    """tests/fixtures/<platform>/<ID>/ (each with its files), and other fixture files naming the id."""
    base = root / "tests" / "fixtures"
    if not base.is_dir():
        return None
    folders = sorted(p for p in base.rglob(control_id) if p.is_dir())
    out = [f"{rel(d, root)}/  ({', '.join(sorted(f.name for f in d.iterdir()))})" for d in folders]
    inside = {f for d in folders for f in d.rglob("*")}
    others = [p for p in sorted(base.rglob("*")) if p.is_file() and p not in inside]
    return out + naming(others, mentions(control_id), root)


def shipped(root: Path, folder: str, pattern: str, control_id: str) -> list[str] | None:
    """Files under root/folder (a glob) naming the id; None when the installation lacks the folder."""
    if not (root / folder).is_dir():
        return None
    return naming(sorted(root.glob(f"{folder}/{pattern}")), mentions(control_id), root)


def documents(root: Path, control_id: str) -> list[str] | None:
    """docs/**/*.md and README.md naming the id (a wheel ships neither)."""
    found = shipped(root, "docs", "**/*.md", control_id)
    readme = root / "README.md"
    if found is None and not readme.is_file():
        return None
    return (found or []) + naming([readme], mentions(control_id), root)


def show(catalog: Catalog, control_id: str, root: Path = ROOT) -> list[str]:
    """The lines of `lgsec catalog show ID`, each printable (for_terminal)."""
    c = find(catalog, control_id)
    lines = [
        f"{c.id}  section {c.section}  {' '.join(c.articles)}",
        f"  ja: {c.title_ja}",
        f"  en: {c.title_en}",
        f"  platforms: {', '.join(c.platforms)}; automation: {c.automation}; classes: {', '.join(c.classes)}",
    ]
    if c.manual_note:
        lines.append(f"  manual: {' '.join(c.manual_note.split())}")
    lines.append("parameters:" if c.params else "parameters: none")
    for p in c.params.values():
        bounds = [f"{word} {value}" for word, value in (("min", p.minimum), ("max", p.maximum)) if value is not None]
        if p.choices:
            bounds.append(f"one of {', '.join(map(str, p.choices))}")
        extra = f", {', '.join(bounds)}" if bounds else ""
        lines.append(f"  {c.var(p.name)} ({p.type}, default {p.default!r}{extra}): {p.description}")
    lines.append(f"files (relative to {root}):")
    lines.append("checks (per platform: where, what it reads):")
    for platform, place, what in check_places(c):
        lines.append(f"  {platform:<8} {place}" + (f"  reads: {what}" if what else ""))
    sections = [
        (f"role task files (tagged or named {c.id}):", role_tasks(c.id, root)),
        (f"role files naming it or its variables ({c.var('')}*):", role_files(c, root)),
        ("fixtures:", fixtures(c.id, root)),
        ("molecule tests:", shipped(root, "molecule", "*/tests/*.py", c.id)),
        ("unit tests naming it:", shipped(root, "tests/unit", "*.py", c.id)),
        ("docs:", documents(root, c.id)),
    ]
    for title, found in sections:
        lines.append(title + ("" if found else f" {NOT_SHIPPED if found is None else 'none'}"))
        lines += [f"  {line}" for line in found or []]
    return [for_terminal(line) for line in lines]


def listing(catalog: Catalog) -> list[str]:
    """`lgsec catalog list`: id, section, articles, title (ja / en), platforms; one line each."""
    return [
        for_terminal(
            f"{c.id:<20} {c.section} {' '.join(c.articles):<24} {c.title_ja} / {c.title_en}  [{', '.join(c.platforms)}]"
        )
        for c in catalog
    ]
