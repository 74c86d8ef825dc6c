"""The import graph: no circle anywhere in the project, and the sync layer's four parts import
only along the arrows that docs/sync.md draws.

The graph is read from the source (every `import` and `from ... import`, at module level or
inside a function), so an import hidden in a function still counts.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = ["metadata", "adviser", "organisation", "contact", "interaction"]
PACKAGES = ["migrator", "cdms_api", "core", *DOMAIN_APPS, "settings"]
PARTS = ("read", "write", "mirror", "ops")
SHARED = {
    "conf",
    "exceptions",
    "context",
    "cdms_migrator",
    "connection",
    "predicate",
    "fetch",
    "local",
    "instruments",
    "throttle",
    "field_domains",
    "credentials",
}
# What each part may import, besides itself and the shared top-level modules.
ALLOWED = {"mirror": set(), "write": {"mirror"}, "read": {"mirror", "write"}, "ops": {"read", "write", "mirror"}}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(node, module, is_package):
    if not node.level:
        return node.module
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module):
    """The project modules `module` imports, as (target, line) pairs."""
    path = MODULES[module]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, path.name == "__init__.py")
            subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            names = subs if len(subs) == len(node.names) else [base, *subs]
        else:
            continue
        for name in names:
            target = _known(name)
            if target and target != module:
                yield target, node.lineno


GRAPH = {module: {target for target, _ in _imports(module)} for module in MODULES}


def _circles():
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    return circles


def test_the_graph_sees_the_imports_it_judges():
    assert "migrator.mirror.reconcile" in GRAPH["migrator.read.strict"]
    assert "migrator.write.writer" in GRAPH["migrator.models"]
    assert "cdms_api.emulator.app" in GRAPH["cdms_api.emulator.server"]


def test_no_module_imports_itself_back_through_others():
    assert _circles() == []


def _part(module):
    pieces = module.split(".")
    if pieces[0] != "migrator" or len(pieces) < 2:
        return None
    return pieces[1] if pieces[1] in PARTS else ("shared" if pieces[1] in SHARED else "entry")


SYNC_MODULES = [m for m in MODULES if _part(m) in (*PARTS, "shared")]


@pytest.mark.parametrize("module", SYNC_MODULES)
def test_each_part_imports_only_along_the_allowed_arrows(module):
    part = _part(module)
    allowed = {"shared"} | ({part} if part != "shared" else set()) | ALLOWED.get(part, set())
    wrong = sorted(t for t in GRAPH[module] if _part(t) is not None and _part(t) not in allowed)
    assert wrong == [], f"{module} ({part}) imports {wrong}"


def test_every_top_level_module_of_the_sync_layer_is_shared_or_an_entry_point():
    top = {m.split(".")[1] for m in MODULES if m.startswith("migrator.") and m.count(".") == 1}
    entries = {"apps", "models", "managers", "admin", "tasks", "management", "migrations"}
    assert top - set(PARTS) - SHARED - entries == set()


def _explained(lines, at):
    """True when the import on line `at` (0-based), or the comment above its block of imports, says why."""
    if "#" in lines[at]:
        return True
    while at > 0 and lines[at - 1].strip().startswith(("from ", "import ")):
        at -= 1
    return lines[at - 1].strip().startswith("#")


def test_function_level_imports_in_the_sync_layer_say_why():
    unexplained = []
    for module, path in MODULES.items():
        if not module.startswith("migrator"):
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    nested = isinstance(inner, ast.Import | ast.ImportFrom) and inner.col_offset
                    if nested and not _explained(lines, inner.lineno - 1):
                        unexplained.append(f"{module}:{inner.lineno}")
    assert unexplained == []


def test_the_map_in_the_docs_names_every_module_of_the_sync_layer():
    text = (ROOT / "docs" / "sync.md").read_text()
    section = text[text.index("## Where the code lives") : text.index("## Declaring a synced model")]
    modules = [m for m in SYNC_MODULES if m.split(".")[-1] not in PARTS]
    missing = [m for m in modules if f"`{m.rsplit('.', 1)[-1]}`" not in section]
    assert missing == []
