"""Only training needs torch: where `import torch` fails, model files the trainer wrote (a
logistic regression and a multi-layer perceptron) predict through Processing and through the
command line, and the maps equal torch's to float32 rounding."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster
from support.torch_forward import assert_probability_as_torch_gives

from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA, ProbabilityKernel
from water_logreg_plugin.core.model import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = {"logistic": "", "mlp": "8,8"}  # name: HIDDEN_LAYERS
EM, AS_TRAINED = 0, 1  # WATER_PRIOR

# Runs with `import torch` failing: every map the two models make, through processing.run.
PREDICT_WITHOUT_TORCH = """
import json, sys
from water_logreg_plugin.standalone import start_qgis
application = start_qgis()
import processing
scene, folder = sys.argv[1:3]
report = {}
for name in sys.argv[3:]:
    for prior in (0, 1):
        result = processing.run("waterlogreg:predictwater", {
            "INPUT": scene, "MODEL": f"{folder}/{name}.json", "WATER_PRIOR": prior,
            "OUTPUT": f"{folder}/{name}_prior{prior}_without_torch.tif"})
        report[f"{name}_prior{prior}"] = [result["DEVICE_USED"], result["SCENE_WATER_SHARE"]]
report["torch"] = repr(sys.modules.get("torch", "never imported"))
print(json.dumps(report))
application.exitQgis()
"""


@pytest.fixture
def trained(run_algorithm, tmp_path):
    """The scene (a nodata corner) and a model of each kind, written by the normal trainer."""
    bands, _ = water_scene()
    bands[:, 0:5, 0:7] = 0
    raster = write_raster(tmp_path / "scene.tif", bands)
    polygons = write_polygons(tmp_path / "p.gpkg", standard_polygons())
    samples = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "s.gpkg"),
    })["OUTPUT"]
    for name, hidden_layers in MODELS.items():
        run_algorithm("trainmodel", {"SAMPLES": samples, "SEED": 1, "HIDDEN_LAYERS": hidden_layers,
                                     "OUTPUT_MODEL": str(tmp_path / f"{name}.json")})
    return raster


def assert_map_as_torch_gives(path, model_path, raster):
    """The map at `path` is torch's map of the model over the raster, to float32 rounding, with
    nodata exactly where a band is nodata (0)."""
    probability, _ = read(path)
    values = gdal.Open(raster).ReadAsArray().astype(np.float32)
    valid = np.all(values != 0, axis=0)
    np.testing.assert_array_equal(probability == PROBABILITY_NODATA, ~valid)
    kernel = ProbabilityKernel(load_model(model_path), "cpu")
    assert_probability_as_torch_gives(probability[valid], kernel, values[:, valid])


def test_predictwater_and_the_command_line_without_torch(run_algorithm, trained, torch_blocker, tmp_path):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([torch_blocker, ROOT]))
    assert "multi-layer perceptron" in load_model(tmp_path / "mlp.json").kind

    processing_run = subprocess.run(
        [sys.executable, "-c", PREDICT_WITHOUT_TORCH, trained, str(tmp_path), *MODELS],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=environment,
    )
    assert processing_run.returncode == 0, processing_run.stderr[-3000:]
    report = json.loads(processing_run.stdout.splitlines()[-1])
    assert report["torch"] == "None"  # the blocker held: nothing imported torch

    for name in MODELS:
        model_path = str(tmp_path / f"{name}.json")
        assert report[f"{name}_prior{AS_TRAINED}"][0] == "cpu"
        assert_map_as_torch_gives(tmp_path / f"{name}_prior{AS_TRAINED}_without_torch.tif", model_path, trained)
        # The scene's share (EM on the model's outputs, then the shift of the logits) as in
        # this process, where torch is importable.
        with_torch = run_algorithm("predictwater", {"INPUT": trained, "MODEL": model_path, "WATER_PRIOR": EM,
                                                    "OUTPUT": str(tmp_path / f"{name}_em.tif")})
        assert report[f"{name}_prior{EM}"][1] == pytest.approx(with_torch["SCENE_WATER_SHARE"], rel=1e-6)
        np.testing.assert_allclose(read(tmp_path / f"{name}_prior{EM}_without_torch.tif")[0],
                                   read(with_torch["OUTPUT"])[0], rtol=0, atol=1e-6)

        command_line = subprocess.run(
            [sys.executable, "-m", "water_logreg_plugin.cli", "predict", "--model", model_path,
             "--output-folder", str(tmp_path / f"cli_{name}"), "--water-prior", "training", trained],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=environment,
        )
        assert command_line.returncode == 0, command_line.stderr[-3000:]
        assert_map_as_torch_gives(tmp_path / f"cli_{name}" / "scene_water.tif", model_path, trained)
