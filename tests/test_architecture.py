"""The house rules of docs/architecture.md, checked on the import graph.

`lint-imports` (run in `.ci/run`) checks the layers and the model/I-O split declared in
pyproject.toml; these tests check what import-linter does not: no import cycles between
modules, no module name used twice across packages without a reason, and that every room
named in the contract exists and is a package.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]

#: Module names that repeat on purpose, with the reason (architecture.md says the same).
ALLOWED_REPEATS: dict[str, str] = {
    "__init__": "package markers",
}


def _strongly_connected(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Tarjan's algorithm over module-level imports (iterative: the graph is deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    nxt = graph.find_modules_directly_imported_by(child) & modules
                    work.append((child, iter(sorted(nxt))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles_between_modules() -> None:
    graph = grimp.build_graph("tankeco")
    # A package's __init__ importing its own submodules is not a cycle of design.
    modules = {m for m in graph.modules if m.startswith("tankeco")}
    cycles = _strongly_connected(graph, modules)
    assert cycles == [], f"import cycles: {cycles}"


def test_no_module_name_repeats_across_packages() -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "tankeco").rglob("*.py")):
        seen[path.stem].append(str(path.relative_to(ROOT)))
    repeats = {n: p for n, p in seen.items() if len(p) > 1 and n not in ALLOWED_REPEATS}
    assert repeats == {}, f"module names used twice: {repeats}"


def test_every_room_of_the_contract_exists() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = config["contracts"][0]["layers"]
    rooms = [name.strip() for layer in layers for name in layer.split("|")]
    for room in rooms:
        rel = Path(*room.split("."))
        is_package = (ROOT / rel / "__init__.py").exists()
        assert is_package or (ROOT / rel).with_suffix(".py").exists(), room
    # ...and every top-level room of the package is in the contract.
    top = {p.parent.name for p in (ROOT / "tankeco").glob("*/__init__.py")}
    top |= {p.stem for p in (ROOT / "tankeco").glob("*.py")} - {"__init__", "__main__"}
    assert {f"tankeco.{t}" for t in top} <= set(rooms), set(top) - {r.split(".")[1] for r in rooms}


def test_firmware_is_not_an_importable_package() -> None:
    assert not (ROOT / "tankeco" / "devices").exists()
    assert (ROOT / "firmware" / "micropython" / "tankeco_node.py").exists()
    assert not list((ROOT / "firmware").rglob("__init__.py"))
