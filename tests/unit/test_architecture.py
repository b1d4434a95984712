"""The lgsec package has no import circle: no module imports (at the top or inside a function)
another that imports it back, directly or through others. A circle hidden in a function works
until someone moves the import up or calls it while the other module is half-loaded; it also
means neither module can be read, tested or changed alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lgsec"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def owner(name: str) -> str | None:
    """The lgsec module a dotted name lives in (lgsec.report.jst → lgsec.report)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def imports(name: str, path: Path) -> dict[str, int]:
    """The lgsec modules one module imports, anywhere in it, with the first line of each.
    `from lgsec.checks import load_all`: load_all imports every check module (pkgutil), so its
    caller depends on all of them."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, int] = {}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" for alias in node.names] or [source]
            if source == "lgsec.checks" and any(alias.name == "load_all" for alias in node.names):
                names += [m for m in MODULES if m.startswith("lgsec.checks.")]
        for target in filter(None, map(owner, (n for n in names if n.split(".")[0] == "lgsec"))):
            if target != name:
                found.setdefault(target, node.lineno)
    return found


def graph() -> dict[str, dict[str, int]]:
    return {name: imports(name, path) for name, path in MODULES.items()}


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One import circle as [a, b, …, a], or None (depth-first search, three colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, {})):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def describe(cycle: list[str], edges: dict[str, dict[str, int]]) -> str:
    return " → ".join(f"{a} (line {edges[a][b]})" if b else a for a, b in zip(cycle, [*cycle[1:], None], strict=True))


def test_the_graph_sees_every_kind_of_import():
    """The parser finds top-level, in-function, relative and `import lgsec.x` imports: a test
    that read only the top of a file would pass over exactly the circles it is for."""
    edges = graph()
    assert len(MODULES) > 20 and "lgsec.checks.linux_accounts" in MODULES
    assert "lgsec.report" in edges["lgsec.offline"]  # from lgsec import …, report, …
    assert "lgsec.worklog" in edges["lgsec.cli"]  # inside cmd_harden
    assert "lgsec.checks.windows_accounts" in edges["lgsec.evaluate"]  # through load_all


def test_find_cycle_names_a_circle():
    edges = {"a": {"b": 3}, "b": {"c": 7}, "c": {"a": 12}, "d": {"a": 1}}
    cycle = find_cycle(edges)
    assert cycle == ["a", "b", "c", "a"]
    assert describe(cycle, edges) == "a (line 3) → b (line 7) → c (line 12) → a"
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 2}}) is None


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from lgsec import a\n",
        "def f():\n    import lgsec.a\n",
        "from . import a\n",
        "from .a import thing\n",
    ],
)
def test_every_import_form_is_an_edge(tmp_path, monkeypatch, source):
    path = tmp_path / "lgsec" / "b.py"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "lgsec.a", tmp_path / "lgsec" / "a.py")
    assert "lgsec.a" in imports("lgsec.b", path)


def test_no_import_circle_in_lgsec():
    edges = graph()
    cycle = find_cycle(edges)
    assert cycle is None, f"import circle: {describe(cycle, edges)}"


def test_the_network_model_knows_neither_its_plan_nor_its_store():
    """lgsec/network.py is the configuration model the checks and the plan both read; the change
    plan (network_plan.py) builds on it; the backup store (network_store.py) needs neither."""
    edges = graph()
    assert "lgsec.network" in edges["lgsec.network_plan"]
    assert not {"lgsec.network_plan", "lgsec.network_store"} & set(edges["lgsec.network"])
    assert not {"lgsec.network", "lgsec.network_plan"} & set(edges["lgsec.network_store"])


def platform_of(module: str) -> str | None:
    """The platform a check module judges (lgsec.checks.linux_accounts → linux), None for others."""
    leaf = module.rsplit(".", 1)[-1]
    return (
        leaf.split("_")[0] if module.startswith("lgsec.checks.") and leaf.startswith(("linux_", "windows_")) else None
    )


def test_platforms_share_check_helpers_only_through_common():
    """A Windows check module imports no Linux one, nor the reverse: what both use lives in
    lgsec.checks.common, which imports no check module; a parser (lgsec.parse*) imports no check
    module but common. Otherwise a Linux rename breaks Windows, and neither reads alone."""
    edges = graph()
    wrong = []
    for name, targets in edges.items():
        for target, line in targets.items():
            crosses = None not in (platform_of(name), platform_of(target)) and platform_of(name) != platform_of(target)
            from_common = name == "lgsec.checks.common" and target.startswith("lgsec.checks.")
            from_parser = name.startswith("lgsec.parse") and target.startswith("lgsec.checks.")
            if crosses or from_common or (from_parser and target != "lgsec.checks.common"):
                wrong.append(f"{name} (line {line}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_a_check_module_importing_another_platforms_is_named(monkeypatch, tmp_path):
    path = tmp_path / "windows_x.py"
    path.write_text("from lgsec.checks.linux_accounts import idle_accounts\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "lgsec.checks.windows_x", path)
    with pytest.raises(AssertionError, match=r"lgsec.checks.windows_x \(line 1\) imports lgsec.checks.linux_accounts"):
        test_platforms_share_check_helpers_only_through_common()
