"""QGIS 4 (Qt6, PyQt6) knows enum values only by their scoped names: `Qt.DateFormat.ISODate`, not
`Qt.ISODate`; `QgsProcessing.SourceType.TypeVectorPolygon`, not `QgsProcessing.TypeVectorPolygon`.
QGIS 3.22's PyQt5 accepts both, so the scoped spelling serves every version.

This finds each unscoped use of a Qt or QGIS enum value in the files given (by asking the
running QGIS what `Class.Value` is), and with --fix writes the scoped spelling in place:

    .venv/bin/python tests/support/scoped_enums.py [--fix] water_logreg_plugin tests
"""

import ast
import os
import sys
from pathlib import Path


def _enum_type_name(value):
    """'SourceType' for QgsProcessing.TypeVectorPolygon; None for what is no enum value."""
    kind = type(value)
    if type(kind).__name__ != "enumtype" and not getattr(kind, "__members__", None):
        return None
    qualified = kind.__qualname__.split(".")
    return qualified[-1] if len(qualified) >= 2 else None


def qgis_names():
    """Every Qt and QGIS class by name, as `from qgis.core import *` and friends give them."""
    from qgis import core, gui
    from qgis.PyQt import QtCore, QtGui, QtWidgets

    names = {}
    for module in (QtCore, QtGui, QtWidgets, core, gui):
        names.update({name: getattr(module, name) for name in dir(module) if name[:1] in "QS"})
    return names


def unscoped_enums(path, namespace):
    """(line, column, 'Class.Value', 'Class.Enum.Value') for each unscoped enum value in a file."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        owner = namespace.get(node.value.id)
        if owner is None or not isinstance(owner, type):
            continue
        value = getattr(owner, node.attr, None)
        enum_name = _enum_type_name(value) if value is not None else None
        if enum_name is None or enum_name == node.attr:
            continue
        scoped = _scoped_name(node.value.id, owner, node.attr, value, enum_name)
        if scoped:
            found.append((node.lineno, node.col_offset, f"{node.value.id}.{node.attr}", scoped))
    return found


def _scoped_name(owner_name, owner, attr, value, enum_name):
    """'Class.Enum.Value' where the class has the enum under its own name or an alias (QGIS 3.30+
    keeps QgsProcessing.SourceType for Qgis.ProcessingSourceType), else the enum's own name in
    Qgis (QgsGeometry.ValidatorGeos → Qgis.GeometryValidationEngine.Geos, the one spelling that
    3.22 knows); None for what is no enum value of the class."""
    kind = type(value)
    if getattr(owner, enum_name, None) is kind:
        return f"{owner_name}.{enum_name}.{attr}"
    for alias in sorted(dir(owner)):
        if alias != attr and getattr(owner, alias, None) is kind and getattr(kind, attr, None) == value:
            return f"{owner_name}.{alias}.{attr}"
    if kind.__qualname__.startswith("Qgis.") and isinstance(getattr(value, "name", None), str):
        return f"{kind.__qualname__}.{value.name}"
    return None


def python_files(paths):
    for path in paths:
        if os.path.isdir(path):
            yield from sorted(str(file) for file in Path(path).rglob("*.py"))
        else:
            yield path


def fix(path, found):
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    for line, column, unscoped, scoped in sorted(found, reverse=True):
        text = lines[line - 1]
        assert text[column:column + len(unscoped)] == unscoped, (path, line, unscoped)
        lines[line - 1] = text[:column] + scoped + text[column + len(unscoped):]
    Path(path).write_text("".join(lines), encoding="utf-8")


def main(arguments):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    wanted_fix = "--fix" in arguments
    namespace = qgis_names()
    total = 0
    for path in python_files([argument for argument in arguments if argument != "--fix"]):
        found = unscoped_enums(path, namespace)
        total += len(found)
        for line, column, unscoped, scoped in found:
            print(f"{path}:{line}:{column + 1}: {unscoped} → {scoped}")
        if wanted_fix and found:
            fix(path, found)
    return 1 if total and not wanted_fix else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
