"""water_logreg_plugin.plugin: what QGIS, qgis_process and scripts do with the plugin object.

Run in a fresh Python, as the test session's QGIS already has the provider registered."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import gc
from qgis.core import QgsApplication
application = QgsApplication([], False)
application.initQgis()
import sys
sys.path.append("/usr/share/qgis/python/plugins")
from processing.core.Processing import Processing
Processing.initialize()
from water_logreg_plugin.plugin import WaterLogRegPlugin

plugin = WaterLogRegPlugin(None)
plugin.initProcessing()
registry = QgsApplication.processingRegistry()
del plugin
gc.collect()
print("after the plugin object is dropped:", registry.algorithmById("waterlogreg:predictwater") is not None)
"""


def test_tools_stay_registered_when_a_script_drops_the_plugin_object():
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT))
    assert run.returncode == 0, run.stderr
    assert "after the plugin object is dropped: True" in run.stdout
