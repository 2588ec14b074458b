import os
import sys

import pytest
from osgeo import gdal, ogr, osr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# GDAL's Python modules each keep their own exception switch (osgeo 3.6 included), and GDAL 3.6
# stacks their error handlers: they are turned off in the reverse of the order they went on.
GDAL_MODULES = (gdal, ogr, osr)


def set_gdal_exceptions(on):
    """Turn GDAL's, OGR's and OSR's Python exceptions on or off; returns what they were."""
    before = [bool(module.GetUseExceptions()) for module in GDAL_MODULES]
    restore_gdal_exceptions([on] * len(GDAL_MODULES))
    return before


def restore_gdal_exceptions(wanted):
    """Each module's exceptions as `wanted` says (what set_gdal_exceptions returned)."""
    for module in reversed(GDAL_MODULES):
        if module.GetUseExceptions():
            module.DontUseExceptions()
    for module, on in zip(GDAL_MODULES, wanted):
        if on:
            module.UseExceptions()


# QGIS 3.40+ Processing turns exceptions on for the whole process, 3.22 leaves them off:
# WATERLOGREG_GDAL_EXCEPTIONS=on runs a whole session the 3.40 way on any QGIS.
if os.environ.get("WATERLOGREG_GDAL_EXCEPTIONS", "").lower() == "on":
    set_gdal_exceptions(True)


@pytest.fixture(params=["off", "on"])
def gdal_exceptions(request):
    """The test runs with GDAL's exceptions off (QGIS 3.22) and on (QGIS 3.40+ Processing)."""
    before = set_gdal_exceptions(request.param == "on")
    yield request.param
    restore_gdal_exceptions(before)


@pytest.fixture(scope="session")
def layer_tree_view(qgis_app, qgis_iface):
    """A real layer tree view of the project behind pytest-qgis's iface stub, whose other methods
    answer with a MagicMock: QGIS 3.44's Processing hands iface.layerTreeView() to C++
    (QgsProcessingGuiUtils.addResultLayers) when it loads results, and C++ refuses a MagicMock."""
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    view = QgsLayerTreeView()
    # The model is the view's child: Qt deletes it with the view, never before it (a view left
    # with a deleted model crashes QGIS's last event loop with a floating point exception).
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    qgis_iface.layerTreeView = lambda: view
    yield view
    del qgis_iface.layerTreeView


@pytest.fixture(scope="session")
def provider(qgis_app, qgis_processing, layer_tree_view):
    """The waterlogreg provider registered in the test's QGIS, as the plugin does it."""
    from water_logreg_plugin.plugin import WaterLogRegPlugin

    plugin = WaterLogRegPlugin(None)
    plugin.initProcessing()
    yield plugin.provider
    plugin.unload()


@pytest.fixture
def run_algorithm(provider):
    """processing.run with the provider registered; returns the results dict."""
    import processing

    def run(name, parameters, **kwargs):
        return processing.run(f"waterlogreg:{name}", parameters, **kwargs)

    return run


@pytest.fixture
def torch_blocker(tmp_path):
    """A folder for PYTHONPATH whose sitecustomize makes `import torch` fail, as in a QGIS
    whose Python has no torch (Windows and macOS installers), whatever this machine has."""
    folder = tmp_path / "no-torch"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text('import sys\n\nsys.modules["torch"] = None\n')
    return str(folder)
