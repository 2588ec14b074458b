import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def layer_tree_view(qgis_app, qgis_iface):
    """A real layer tree view of the project behind pytest-qgis's iface stub, whose other methods
    answer with a MagicMock: QGIS 3.44's Processing hands iface.layerTreeView() to C++
    (QgsProcessingGuiUtils.addResultLayers) when it loads results, and C++ refuses a MagicMock."""
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    model = QgsLayerTreeModel(QgsProject.instance().layerTreeRoot())
    view = QgsLayerTreeView()
    view.setModel(model)
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
