"""The bundled real scene (Landsat 8 clip of a reservoir, demo/data) through processing.run:
what `make demo` does, with its outcome checked."""

import os

import numpy as np
import pytest
from osgeo import gdal
from synthetic import read

DEMO_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "demo", "data")

SCENE = os.path.join(DEMO_DATA, "landsat8_reservoir.tif")
TRAINING = os.path.join(DEMO_DATA, "training_polygons.gpkg")
VALIDATION = os.path.join(DEMO_DATA, "validation_polygons.gpkg")


@pytest.fixture(scope="module")
def classified(provider, tmp_path_factory):
    import processing

    folder = tmp_path_factory.mktemp("real_scene")
    result = processing.run("waterlogreg:classifywater", {
        "INPUT": SCENE, "POLYGONS": TRAINING, "CLASS_FIELD": "class", "WATER_VALUES": "water", "SEED": 0,
        "OUTPUT": str(folder / "probability.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
        "OUTPUT_MASK": str(folder / "mask.tif"), "OUTPUT_REPORT": str(folder / "report.html"),
    })
    return result, folder


def test_held_out_polygons_are_mapped_right(classified):
    result, _ = classified
    assert result["FIGURES_FROM"] == "held-out polygons"
    assert result["OVERALL_ACCURACY"] >= 0.99
    assert result["KAPPA"] >= 0.98
    assert result["DEVICE_USED"] == "cpu"
    # The clip is about one fifth reservoir (counted by eye from the natural-colour image: 15–30 %).
    assert 0.15 < result["WATER_FRACTION"] < 0.30


def test_independent_validation_polygons_in_another_crs(classified, run_algorithm):
    result, _ = classified
    assessed = run_algorithm("assessaccuracy", {
        "INPUT": result["OUTPUT"], "POLYGONS": VALIDATION, "CLASS_FIELD": "class", "WATER_VALUES": "water",
    })
    assert assessed["OVERALL_ACCURACY"] >= 0.99
    assert assessed["IOU"] >= 0.98


def test_output_keeps_the_grid_and_the_nodata(classified):
    result, _ = classified
    probability, dataset = read(result["OUTPUT"])
    scene = gdal.Open(SCENE)
    assert (dataset.RasterXSize, dataset.RasterYSize) == (scene.RasterXSize, scene.RasterYSize)
    assert dataset.GetGeoTransform() == scene.GetGeoTransform()
    assert dataset.GetSpatialRef().IsSame(scene.GetSpatialRef())
    nodata_in = np.zeros((scene.RasterYSize, scene.RasterXSize), bool)
    for number in range(1, scene.RasterCount + 1):
        nodata_in |= scene.GetRasterBand(number).ReadAsArray() == scene.GetRasterBand(number).GetNoDataValue()
    np.testing.assert_array_equal(probability == -9999, nodata_in)
    valid = probability[~nodata_in]
    assert valid.min() >= 0 and valid.max() <= 1
    mask, _ = read(result["OUTPUT_MASK"])
    np.testing.assert_array_equal(mask[~nodata_in], (valid >= 0.5).astype(np.uint8))


def test_the_saved_model_predicts_the_same_map(classified, run_algorithm):
    result, folder = classified
    again = run_algorithm("predictwater", {
        "INPUT": SCENE, "MODEL": result["OUTPUT_MODEL"], "OUTPUT": str(folder / "again.tif"),
    })
    np.testing.assert_allclose(read(again["OUTPUT"])[0], read(result["OUTPUT"])[0], rtol=0, atol=1e-6)


def test_the_report_names_the_landsat_bands(classified):
    result, _ = classified
    with open(result["OUTPUT_REPORT"], encoding="utf-8") as handle:
        report = handle.read()
    for label in ("band 1 (blue (B2))", "band 2 (green (B3))", "band 3 (red (B4))"):
        assert label in report
    assert 'id="plot-feature-space-3d"' in report
