"""QGIS 4 (Qt6, PyQt6) readiness, checked on whichever QGIS runs the tests: enum values by their
scoped names, field types through algorithms/field_types.py, nothing built on Processing's Python
widget wrappers (QGIS Enhancement Proposal 427 removes them), and a metadata.txt that QGIS 4 loads.

The scoped names are QGIS 3.22's (`QgsProcessing.SourceType.TypeRaster`): QGIS 3.30+ moved many
of these enums to `Qgis` and keeps the old scoped names as aliases, and QGIS's own migration script
(scripts/pyqt5_to_pyqt6/pyqt5_to_pyqt6.py) writes exactly these for QGIS 4."""

import ast
import configparser
import re
from pathlib import Path

from support.scoped_enums import python_files, qgis_names, unscoped_enums

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "water_logreg_plugin"
# QVariant field types are what QGIS before 3.38 takes; this module alone names them, by version.
FIELD_TYPES = PLUGIN / "algorithms" / "field_types.py"
# A flag read off an instance (`parameter.FlagOptional`) is unscoped too, but no class names it.
INSTANCE_FLAG = re.compile(r"\b[a-z_][A-Za-z0-9_]*(\(\))?\.Flag[A-Z]\w*")


def plugin_files():
    return [Path(path) for path in python_files([str(PLUGIN)]) if Path(path) != FIELD_TYPES]


def test_every_enum_value_is_named_by_its_scope(qgis_app):
    namespace = qgis_names()
    found = [f"{path.relative_to(ROOT)}:{line}: {unscoped} → {scoped}"
             for path in plugin_files() for line, _column, unscoped, scoped in unscoped_enums(path, namespace)]
    assert not found, "unscoped enum values (fix with tests/support/scoped_enums.py --fix): " + "; ".join(found)


def test_no_flag_is_read_off_an_instance():
    found = [f"{path.relative_to(ROOT)}:{number}: {match.group(0)}" for path in plugin_files()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             for match in INSTANCE_FLAG.finditer(line)]
    assert not found, "name the flag by its class, e.g. QgsProcessingParameterDefinition.Flag.FlagOptional: " + \
        "; ".join(found)


def test_field_types_come_from_one_place():
    using_qvariant = [str(path.relative_to(ROOT)) for path in plugin_files()
                      if "QVariant" in path.read_text(encoding="utf-8")]
    assert not using_qvariant


def test_nothing_is_built_on_processings_python_widget_wrappers():
    imports = [(str(path.relative_to(ROOT)), node.module) for path in PLUGIN.rglob("*.py")
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("processing.gui")]
    assert not imports
    assert "widget_wrapper\": {\"class\"" not in (PLUGIN / "algorithms" / "parameters.py").read_text(encoding="utf-8")


def test_metadata_lets_qgis_4_load_the_plugin():
    metadata = configparser.ConfigParser()
    metadata.read(ROOT / "metadata.txt", encoding="utf-8")
    assert metadata["general"]["qgisMinimumVersion"] == "3.22"
    assert metadata["general"]["qgisMaximumVersion"] == "4.99"
