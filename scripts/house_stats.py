"""Measure the shape of the house: import cycles, the longest function,
cross-module imports of private names, imports inside functions.

``tests/test_house.py`` enforces the rules (CONTRIBUTING.md) with
:func:`analyse`; run this file to print the figures::

    python scripts/house_stats.py
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "gridpart"

#: modules allowed to import gridpart inside functions: the thin GridPlan
#: methods hand over to the outputs, and the CLI imports a command's modules
#: only when that command runs (a fast ``gridpart --help``).
LAZY_ALLOWED = ("gridpart.plan", "gridpart.cli")


@dataclass
class House:
    modules: dict[str, Path]
    lines: int
    cycles: list[list[str]]  # import cycles, every import counted
    cycles_outside_plan: list[list[str]]  # … leaving out the thin GridPlan methods' imports
    longest: list[tuple[int, str]]
    private_imports: list[str]
    lazy_imports: list[str] = field(default_factory=list)  # outside LAZY_ALLOWED


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source(mod: str, node: ast.ImportFrom, is_pkg: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    out: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(n) for n in ast.walk(node)}
    return out


def analyse(root: Path = ROOT) -> House:
    """The import graph and function sizes of the package under ``root``."""
    files = sorted(root.rglob("*.py"))
    modules = {_module(f): f for f in files}
    graph, graph_no_plan = nx.DiGraph(), nx.DiGraph()
    private, longest, lazy = [], [], []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph.add_node(mod)
        graph_no_plan.add_node(mod)
        top = set(map(id, tree.body)) | _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                longest.append((node.end_lineno - node.lineno + 1, f"{mod}.{node.name}"))
            if isinstance(node, ast.ImportFrom):
                src = _source(mod, node, path.name == "__init__.py")
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in modules else src for a in node.names]
                for a in node.names:
                    is_module = f"{src}.{a.name}" in modules
                    if a.name.startswith("_") and not a.name.startswith("__") and src.startswith("gridpart") \
                            and not is_module and src != mod:
                        private.append(f"{mod} <- {src}.{a.name}")
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            targets = [t for t in targets if t in modules and t != mod]
            if targets and id(node) not in top and mod not in LAZY_ALLOWED:
                lazy.append(f"{mod}:{node.lineno} -> {', '.join(targets)}")
            for t in targets:
                graph.add_edge(mod, t)
                if not (mod == "gridpart.plan" and id(node) not in top):
                    graph_no_plan.add_edge(mod, t)
    def loops(g):
        return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)
    return House(modules=modules, lines=sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files),
                 cycles=loops(graph), cycles_outside_plan=loops(graph_no_plan),
                 longest=sorted(longest, reverse=True), private_imports=private, lazy_imports=lazy)


def main() -> None:
    h = analyse()
    print(f"modules: {len(h.modules)}, lines: {h.lines}")
    print(f"import cycles: {len(h.cycles)} {h.cycles}")
    print(f"import cycles outside the thin GridPlan methods: {len(h.cycles_outside_plan)} {h.cycles_outside_plan}")
    print("longest functions: " + ", ".join(f"{name} ({n} lines)" for n, name in h.longest[:5]))
    print(f"cross-module private imports: {len(h.private_imports)}")
    for p in h.private_imports:
        print("   ", p)
    print(f"gridpart imports inside functions (outside {', '.join(LAZY_ALLOWED)}): {len(h.lazy_imports)}")
    for p in h.lazy_imports:
        print("   ", p)


if __name__ == "__main__":
    main()
