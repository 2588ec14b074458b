"""waterlogreg:predictscenes — one model over many scenes, failures reported per scene."""

import csv
import os
import time

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture(scope="module")
def model_path(provider, tmp_path_factory):
    """A model trained by classifywater on a 3-band UInt16 scene (it records band count and type)."""
    import processing

    folder = tmp_path_factory.mktemp("model")
    bands, _ = water_scene()
    processing.run("waterlogreg:classifywater", {
        "INPUT": write_raster(folder / "training.tif", bands),
        "POLYGONS": write_polygons(folder / "polygons.gpkg", standard_polygons()),
        "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "probability.tif"),
        "OUTPUT_MODEL": str(folder / "model.json"),
    })
    return str(folder / "model.json")


def read_summary(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {os.path.basename(row["scene"]): row for row in csv.DictReader(handle)}


def test_good_scenes_predicted_and_bad_ones_refused_with_the_reason(run_algorithm, model_path, tmp_path):
    picked, folder, output = tmp_path / "picked", tmp_path / "folder", tmp_path / "out"
    picked.mkdir()
    folder.mkdir()
    first, _ = water_scene(seed=1)
    second, truth = water_scene(rows=90, cols=100, seed=2)
    write_raster(picked / "first.tif", first)
    write_raster(folder / "second.tif", second)
    write_raster(folder / "four_bands.tif", np.concatenate([second, second[:1]]))
    write_raster(folder / "reflectance.tif", second.astype(np.float32) / 10000, data_type=gdal.GDT_Float32)
    (folder / "broken.tif").write_text("not a raster")
    write_raster(folder / "ignored.img", second, options=())
    progress = []
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(progress.append)

    started = time.monotonic()
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "SCENES": [str(picked / "first.tif")], "FOLDER": str(folder), "PATTERN": "*.tif",
        "OUTPUT_FOLDER": str(output), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
    }, feedback=feedback)
    elapsed = time.monotonic() - started

    assert (result["SCENES_OK"], result["SCENES_FAILED"]) == (2, 3)
    assert sorted(os.listdir(output)) == ["first_water.tif", "second_water.tif"]
    probability, dataset = read(output / "second_water.tif")
    assert (dataset.RasterXSize, dataset.RasterYSize) == (100, 90)
    assert ((probability >= 0.5) == truth).mean() > 0.99
    rows = read_summary(result["OUTPUT_SUMMARY"])
    assert set(rows) == {"first.tif", "second.tif", "four_bands.tif", "reflectance.tif", "broken.tif"}
    assert rows["second.tif"]["status"] == "ok"
    assert int(rows["second.tif"]["pixels"]) == 90 * 100
    assert float(rows["second.tif"]["water_fraction"]) == pytest.approx(0.5, abs=0.01)
    # The scene's own time: part of the whole run's, not a placeholder (a consistency check, no speed limit).
    assert 0 < float(rows["second.tif"]["seconds"]) <= elapsed
    assert rows["four_bands.tif"]["status"] == "failed"
    assert rows["four_bands.tif"]["reason"] == (
        "The model was trained on a raster of 3 bands, but 'four_bands.tif' has 4, so the same band "
        "numbers may hold other wavelengths. Predict only on rasters with the same bands as the one "
        "the model was trained on."
    )
    assert rows["reflectance.tif"]["status"] == "failed"
    assert rows["reflectance.tif"]["reason"].startswith(
        "The model was trained on UInt16 pixels, but 'reflectance.tif' holds Float32 pixels")
    assert rows["broken.tif"]["status"] == "failed"
    assert "broken.tif" in rows["broken.tif"]["reason"]
    assert progress[-1] == pytest.approx(100)
    assert progress == sorted(progress)


def test_no_scene_is_refused(run_algorithm, model_path, tmp_path):
    with pytest.raises(QgsProcessingException, match="No scene was given"):
        run_algorithm("predictscenes", {
            "MODEL": model_path, "FOLDER": str(tmp_path), "PATTERN": "*.tif",
            "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
        })
