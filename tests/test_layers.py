"""The layout reads like the architecture: no import cycles between modules (lazy imports inside
functions count, imports for type checkers do not), no private name imported across modules,
and no argparse below the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "varsolve"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imports(module: str, path: Path) -> list[tuple[str, str | None]]:
    """(imported varsolve module, imported name or None) for every runtime import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, str | None]] = []
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "varsolve"]
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != "varsolve":
            continue
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            out.append((sub, None) if sub in MODULES else (target, alias.name))
    return out


def test_no_import_cycles() -> None:
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        for target, _ in _imports(module, path):
            # Importing a.b.c runs a and a.b first; only the module itself is an edge here, the
            # packages' own imports are edges of theirs.
            if target != module:
                graph.add_edge(module, target)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_no_private_names_cross_modules() -> None:
    crossing = [
        f"{module} imports {name} from {target}"
        for module, path in MODULES.items()
        for target, name in _imports(module, path)
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == []


def test_argparse_only_in_the_command_line_layer() -> None:
    users = sorted(
        module
        for module, path in MODULES.items()
        if "argparse" in {a.name for n in _runtime_imports(ast.parse(path.read_text())) if isinstance(n, ast.Import) for a in n.names}
        or any(isinstance(n, ast.ImportFrom) and n.module == "argparse" for n in _runtime_imports(ast.parse(path.read_text())))
    )
    assert all(m == "varsolve.cli" or m.startswith("varsolve.commands") for m in users), users
