"""Imports run one way (docs/ARCHITECTURE.md): no module imports one that imports it back, the
core never imports QGIS, and inside the core each concern imports only those below it. Every
import counts, the ones inside functions too, read from the source with ast."""

import ast
from pathlib import Path

PACKAGE = "water_logreg_plugin"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
QGIS_MODULES = ("qgis", "PyQt5", "PyQt6")
FOUNDATION = ("errors", "callbacks", "settings", "device")
# Each core concern and the ones above it, which it must not import.
CORE_LAYERS = {
    "raster": ("learning", "model", "maps", "dates", "scale", "report", "workflow"),
    "learning": ("model", "maps", "dates", "scale", "report", "workflow"),
    "model": ("maps", "dates", "scale", "report", "workflow"),
    "maps": ("dates", "scale", "report", "workflow"),
    "dates": ("workflow",),
    "scale": ("workflow",),
    "report": ("workflow",),
    # Installing torch needs nothing of the maps: only the foundation.
    "install": ("raster", "learning", "model", "maps", "dates", "scale", "report", "workflow"),
}


def module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules():
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_names(name, path, modules=()):
    """Every module `name` imports, as absolute names. `from x import y` is x.y when that is a
    module of `modules` (a submodule, as `from . import figures` in a package's module imports
    the sibling, not the package back), else x."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                yield f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source


def import_graph():
    """{module: set of the package's modules it imports}."""
    modules = package_modules()
    return {name: {imported for imported in imported_names(name, path, modules)
                   if imported in modules and imported != name}
            for name, path in modules.items()}


def external_imports(name, path):
    return {imported for imported in imported_names(name, path) if not imported.startswith(PACKAGE)}


def find_cycle(graph):
    """One cycle as a list of modules (first == last), else None."""
    state = {}

    def visit(module, trail):
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return trail[trail.index(imported):] + [imported]
            if imported not in state:
                cycle = visit(imported, trail + [imported])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            if cycle:
                return cycle
    return None


def edges():
    return [(module, imported) for module, imports in import_graph().items() for imported in sorted(imports)]


def core_part(module):
    """'raster' for water_logreg_plugin.core.raster.reading, '' for the core package itself,
    None outside the core."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] != "core":
        return None
    return parts[2] if len(parts) > 2 else ""


def test_no_module_imports_one_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_the_core_imports_neither_qgis_nor_the_plugins_qgis_side():
    modules = package_modules()
    offending = [
        f"{name} imports {imported}"
        for name, path in modules.items() if core_part(name) is not None
        for imported in sorted(external_imports(name, path)) if imported.split(".")[0] in QGIS_MODULES
    ]
    # algorithms/, styling, plugin, provider: all of them QGIS.
    offending += [f"{module} imports {imported}" for module, imported in edges()
                  if core_part(module) is not None and core_part(imported) is None]
    assert not offending, "; ".join(offending)


def test_core_concerns_import_only_those_below_them():
    offending = []
    for module, imported in edges():
        part, imported_part = core_part(module), core_part(imported)
        if not part or not imported_part:
            continue
        above = CORE_LAYERS.get(part, ())
        if part in FOUNDATION:
            above = tuple(CORE_LAYERS) + ("workflow",)
        if imported_part in above:
            offending.append(f"{module} imports {imported}")
    assert not offending, "; ".join(offending)


def drawing_node(module):
    """The box a module is drawn in: a core concern, the foundation, or a part of the plugin."""
    part = core_part(module)
    if part is None:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else "plugin"
    if part in FOUNDATION:
        return "foundation"
    return part or "foundation"


def import_drawing():
    """The package drawn from its imports: a Mermaid graph of which box imports which."""
    arrows = sorted({(drawing_node(module), drawing_node(imported)) for module, imported in edges()
                     if drawing_node(module) != drawing_node(imported)})
    return "\n".join(["```mermaid", "flowchart TD"] + [f"  {source} --> {target}" for source, target in arrows]
                     + ["```"])


def test_the_drawing_in_the_architecture_doc_is_the_import_graph():
    doc = (ROOT.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert import_drawing() in doc, (
        "docs/ARCHITECTURE.md's drawing no longer matches the imports; paste in what "
        "`python tests/test_architecture.py` prints")


if __name__ == "__main__":
    print(import_drawing())
