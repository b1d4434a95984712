"""Write the roles' interface from the catalog (catalog/controls.yml): `make generate`.

For every role under roles/, between the markers BEGIN/END below, this writes
- defaults/main.yml: the catalog variables the role reads, with the catalog defaults;
- meta/argument_specs.yml (under options:): their types, choices, defaults and descriptions;
- README.md: the table of those variables (the file is created when the role has none).
Everything outside the markers is the role's own (hand-written): its header, the role-specific
variables that are not catalog parameters (lgsec_decommission_*, lgsec_network_enable_secret),
their argument specs, the README's prose.

Which variables a role declares: the catalog parameters (lgsec_<control>_<param>) that the
role's own files (tasks, handlers, templates, vars, files, filter_plugins) name. A parameter no
role reads is the audit's alone (evidence ages, Windows-only figures in a Linux role …), so a
new parameter appears in a role once a task of it uses the variable and `make generate` runs.

    python tools/generate.py            # rewrite the files in this checkout
    python tools/generate.py --out DIR  # write them under DIR instead (tests compare the two)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lgsec import harden  # noqa: E402
from lgsec.catalog import FORMATS, Catalog, Control, Param, load_catalog  # noqa: E402

BEGIN = "BEGIN generated from catalog/controls.yml by tools/generate.py (make generate); do not edit"
END = "END generated"
OWN_PARTS = ("defaults", "meta", "README.md")  # the files this writes: not where a role reads


class InterfaceError(Exception):
    """A role file without its markers: names the file and what to add."""


FLOW = 90  # a list this long or shorter on one line ([a, b]); longer ones one item a line


class Lines(list):
    """A list written one item a line (the argument specs' descriptions)."""


class Dumper(yaml.SafeDumper):
    """Mappings, Lines and long lists in block style, other lists in flow style ([a, b]), block sequences
    indented under their key (as yamllint and the roles' files have them)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


Dumper.add_representer(dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=False))
Dumper.add_representer(
    list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=len(", ".join(map(str, v))) <= FLOW)
)
Dumper.add_representer(Lines, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=False))


def dump(data: object, indent: int = 0, width: int = 110) -> str:
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=width)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def named(role: Path) -> set[str]:
    """The lgsec_ variables a role's files name (not the files this writes)."""
    text = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(role.rglob("*"))
        if path.is_file() and path.relative_to(role).parts[0] not in OWN_PARTS
    )
    return set(re.findall(r"\blgsec_[a-z0-9_]+\b", text))


def shared_dependencies(role: Path) -> list[Path]:
    """The shared roles (no tasks/main.yml: task files and templates for others, e.g. roles/sshd)
    this role depends on in meta/main.yml: their files serve this role's controls too."""
    meta = (
        yaml.safe_load((role / "meta" / "main.yml").read_text(encoding="utf-8"))
        if (role / "meta" / "main.yml").is_file()
        else {}
    )
    names = [d.get("role", d.get("name")) if isinstance(d, dict) else d for d in (meta or {}).get("dependencies") or []]
    return [role.parent / n for n in names if n and not (role.parent / n / "tasks" / "main.yml").is_file()]


def role_variables(catalog: Catalog, role: Path) -> list[tuple[str, Control, Param]]:
    """The catalog variables the role's own files name, and those of its own controls (the ids its
    tasks/main.yml guards) that a shared role it depends on names, in catalog order."""
    names = named(role)
    if shared_dependencies(role):
        own = set(harden.role_controls(role.name, role.parent))
        for dep in shared_dependencies(role):
            names |= {n for n in named(dep) if n in catalog.variables() and catalog.variables()[n][0].id in own}
    return [(name, control, param) for name, (control, param) in catalog.variables().items() if name in names]


def heading(control: Control) -> str:
    return f"{control.id} {', '.join(control.articles)} {control.title_ja} / {control.title_en}"


def bounds(param: Param) -> str:
    """The range, the choices and the format, as the validation checks them (lgsec/catalog.py check_value)."""
    parts = []
    if param.minimum is not None and param.maximum is not None:
        parts.append(f"{param.minimum} to {param.maximum}")
    elif param.minimum is not None:
        parts.append(f"at least {param.minimum}")
    elif param.maximum is not None:
        parts.append(f"at most {param.maximum}")
    if param.choices is not None:
        each = "each of" if param.type == "list" else "one of"
        parts.append(f"{each} {', '.join(map(str, param.choices))}")
    if param.format is not None:
        parts.append(("each " if param.type == "list" else "") + FORMATS[param.format][1])
    return "; ".join(parts)


def description(param: Param) -> str:
    return " ".join(param.description.split()) or param.name


def spec(control: Control, param: Param) -> dict:
    out: dict = {"type": param.type}
    if param.type == "list":
        out["elements"] = "str"
    if param.choices is not None:
        out["choices"] = list(param.choices)
    out["default"] = param.default
    extra = bounds(param)
    out["description"] = Lines(
        [f"{heading(control)}.", f"{description(param)}.", *([f"Accepted: {extra}."] if extra else [])]
    )
    return out


def defaults_block(variables: list[tuple[str, Control, Param]]) -> str:
    lines, last = [], None
    for name, control, param in variables:
        if control is not last:
            lines.append(f"{'' if last is None else chr(10)}# {heading(control)}\n")
            last = control
        lines.append(dump({name: param.default}, width=150))
    return "".join(lines)


def specs_block(variables: list[tuple[str, Control, Param]]) -> str:
    return "".join(dump({name: spec(control, param)}, indent=6) for name, control, param in variables)


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def readme_block(variables: list[tuple[str, Control, Param]]) -> str:
    rows = ["| variable | control | type | default | description | accepted |", "|---|---|---|---|---|---|"]
    for name, control, param in variables:
        default = yaml.safe_dump(param.default, default_flow_style=True, allow_unicode=True, width=10**6)
        default = default.removesuffix("\n...\n").strip()
        rows.append(
            f"| `{name}` | {control.id} ({', '.join(control.articles)}) {cell(control.title_ja)} | {param.type} "
            f"| `{cell(default)}` | {cell(description(param))} | {bounds(param)} |"
        )
    return "\n".join(rows) + "\n"


def replace_between(text: str, block: str, path: Path, comment: str, close: str = "") -> str:
    """text with the lines between the BEGIN and END marker comments replaced by block."""
    pattern = re.compile(
        rf"^(?P<pad>[ \t]*){re.escape(comment)} {re.escape(BEGIN)}{re.escape(close)}\n.*?"
        rf"^[ \t]*{re.escape(comment)} {re.escape(END)}{re.escape(close)}\n",
        re.S | re.M,
    )
    match = pattern.search(text)
    if not match:
        raise InterfaceError(
            f"{path}: no generated section: add the lines '{comment} {BEGIN}{close}' and "
            f"'{comment} {END}{close}' where the catalog's variables go"
        )
    pad = match.group("pad")
    new = f"{pad}{comment} {BEGIN}{close}\n{block}{pad}{comment} {END}{close}\n"
    return text[: match.start()] + new + text[match.end() :]


def new_readme(role: Path) -> str:
    """A README for a role that has none: its argument specs' short description, then the table."""
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    summary = specs["argument_specs"]["main"].get("short_description", "")
    return (
        f"# roles/{role.name}\n\n{summary}.\n\n"
        "The role's tasks say what it changes, control by control (tasks/main.yml). Its variables are\n"
        "the catalog's parameters (catalog/controls.yml); set them in the inventory so `lgsec audit` and\n"
        "the role read the same figures.\n\n"
        f"## Variables\n\n<!-- {BEGIN} -->\n<!-- {END} -->\n"
    )


def role_files(catalog: Catalog, role: Path) -> dict[str, str]:
    """Relative path → the content the role's interface files must have."""
    variables = role_variables(catalog, role)
    out = {}
    defaults = role / "defaults" / "main.yml"
    out[f"roles/{role.name}/defaults/main.yml"] = replace_between(
        defaults.read_text(encoding="utf-8"), defaults_block(variables), defaults, "#"
    )
    specs = role / "meta" / "argument_specs.yml"
    out[f"roles/{role.name}/meta/argument_specs.yml"] = replace_between(
        specs.read_text(encoding="utf-8"), specs_block(variables), specs, "#"
    )
    readme = role / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else new_readme(role)
    out[f"roles/{role.name}/README.md"] = replace_between(text, readme_block(variables), readme, "<!--", " -->")
    return out


def generate(root: Path = ROOT, catalog: Catalog | None = None) -> dict[str, str]:
    """Every generated file of the roles under root, relative path → content."""
    catalog = catalog or load_catalog(root / "catalog" / "controls.yml")
    out = {}
    # the roles that enforce controls (a tasks/main.yml); a shared one (roles/sshd: task files the
    # others include, no variables of its own) has no interface to write
    for role in sorted(p for p in (root / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()):
        out.update(role_files(catalog, role))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="write under this folder (default: the checkout)")
    args = parser.parse_args(argv)
    try:
        files = generate()
    except InterfaceError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    changed = 0
    for rel, content in files.items():
        path = args.out / rel
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        changed += 1
    print(f"generate: {len(files)} files, {changed} written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
