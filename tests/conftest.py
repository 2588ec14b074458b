import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def provider(qgis_app, qgis_processing):
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
