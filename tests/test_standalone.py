"""water_logreg_plugin.standalone: the tools from a plain Python script, as the README shows."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DATA = os.path.join(ROOT, "demo", "data")

SCRIPT = """
import gc, sys
from water_logreg_plugin.standalone import start_qgis
application = start_qgis()
gc.collect()
import processing
result = processing.run("waterlogreg:samplepixels", {
    "INPUT": sys.argv[1], "POLYGONS": sys.argv[2], "CLASS_FIELD": "class", "WATER_VALUES": "water",
    "MAX_PIXELS_PER_CLASS": 10, "OUTPUT": "memory:"})
print("sampled points:", result["OUTPUT"].featureCount())
application.exitQgis()
"""


def test_a_script_runs_the_tools_after_start_qgis():
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, os.path.join(DEMO_DATA, "landsat8_reservoir.tif"),
         os.path.join(DEMO_DATA, "training_polygons.gpkg")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert run.returncode == 0, run.stderr
    assert "sampled points: 20" in run.stdout
