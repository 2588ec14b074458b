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


LOAD_WITH_A_PROFILE = """
from qgis.core import QgsApplication
application = QgsApplication([], False)
application.initQgis()
import importlib.util
import water_logreg_plugin
before = importlib.util.find_spec("water_logreg_from_the_profile")
water_logreg_plugin.classFactory(None)
after = importlib.util.find_spec("water_logreg_from_the_profile")
print("before:", before is not None, "after:", after.origin if after else None)
"""


def test_the_profiles_dependencies_folder_goes_on_the_path_when_the_plugin_loads(tmp_path):
    """What a torch installed by the installer relies on in the window and in qgis_process alike."""
    folder = tmp_path / "config" / "profiles" / "default" / "python" / "dependencies"
    folder.mkdir(parents=True)
    (folder / "water_logreg_from_the_profile.py").write_text("")
    run = subprocess.run([sys.executable, "-c", LOAD_WITH_A_PROFILE], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT,
                                               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config")))
    assert run.returncode == 0, run.stderr
    assert f"before: False after: {folder / 'water_logreg_from_the_profile.py'}" in run.stdout
