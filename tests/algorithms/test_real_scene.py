"""The bundled real scenes (demo/data) through processing.run, with their outcome checked:
the Sentinel-2 clip of the Havel lakes (what `make demo` does, and the figures README prints)
and the Landsat 8 clip of a reservoir (`make demo-landsat`)."""

import importlib.util
import json
import os
import re

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read

from water_logreg_plugin.core.raster.band_roles import band_roles, default_training_bands

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_DATA = os.path.join(ROOT, "demo", "data")

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
    assert 'id="model-vs-index"' not in report  # no NIR named, so no NDWI to set beside the model


def test_landsat_names_no_nir_so_every_band_is_used():
    bands, reason = default_training_bands(gdal.Open(SCENE))
    assert bands == [1, 2, 3]
    assert reason == ("Using all 3 bands: the file does not say which band is NIR (no band description, "
                      "wavelength or colour interpretation names it).")


# Sentinel-2, Havel lakes: `make demo` ---------------------------------------------------------

S2_SCENE = os.path.join(DEMO_DATA, "sentinel2_havel.tif")
# Measured with seed 0 on the bundled clip (make demo: green, red, NIR, exact fit, λ = 1e-5);
# README prints the same figures.
S2_VALIDATION_ACCURACY, S2_VALIDATION_KAPPA = 0.9745, 0.7448
MARGIN_ACCURACY, MARGIN_KAPPA = 0.003, 0.02


def load_demo():
    spec = importlib.util.spec_from_file_location("make_demo", os.path.join(ROOT, "demo", "run_demo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_run(provider, tmp_path_factory):
    """`make demo` (without the quick-look) into a folder of its own."""
    return load_demo().run_demo("sentinel2", str(tmp_path_factory.mktemp("demo")), quicklook=False)


def test_sentinel2_band_roles_come_from_the_band_descriptions():
    dataset = gdal.Open(S2_SCENE)
    assert band_roles(dataset) == {"blue": 1, "green": 2, "red": 3, "nir": 4}
    assert default_training_bands(dataset) == ([2, 3, 4], (
        "Using green, red and NIR as the file names them: green = band 2 (band description), "
        "red = band 3 (band description), NIR = band 4 (band description)."))


def test_classifywater_with_default_bands_takes_green_red_nir_and_says_why(demo_run):
    with open(demo_run.paths["model"], encoding="utf-8") as handle:
        assert json.load(handle)["bands"] == [2, 3, 4]
    assert demo_run.lines[0] == "Water on demo/data/sentinel2_havel.tif, bands 2, 3, 4"
    assert demo_run.lines[1].startswith("  Using green, red and NIR as the file names them: green = band 2")


@pytest.mark.parametrize(("bands", "fields"), [([], ["b2", "b3", "b4"]), ([4, 1], ["b4", "b1"])])
def test_samplepixels_takes_the_band_roles_unless_bands_are_given(run_algorithm, tmp_path, bands, fields):
    from qgis.core import QgsVectorLayer

    result = run_algorithm("samplepixels", {
        "INPUT": S2_SCENE, "BANDS": bands, "POLYGONS": os.path.join(DEMO_DATA, "sentinel2_training.gpkg"),
        "CLASS_FIELD": "class", "WATER_VALUES": "water", "OUTPUT": str(tmp_path / "samples.gpkg"),
    })
    layer = QgsVectorLayer(result["OUTPUT"], "samples")
    names = [field.name() for field in layer.fields()]
    assert [name for name in names if name.startswith("b")] == fields  # in the order asked
    assert layer.featureCount() == 1872 + 1626


def test_sentinel2_held_out_and_osm_validation_accuracy(demo_run):
    classified, independent = demo_run.results["classified"], demo_run.results["independent"]
    assert classified["FIGURES_FROM"] == "held-out polygons"
    assert classified["OVERALL_ACCURACY"] >= 1.0 - MARGIN_ACCURACY
    assert classified["KAPPA"] >= 1.0 - MARGIN_KAPPA
    assert independent["ASSESSED_PIXELS"] == 6364 + 150480
    assert independent["OVERALL_ACCURACY"] >= S2_VALIDATION_ACCURACY - MARGIN_ACCURACY
    assert independent["KAPPA"] >= S2_VALIDATION_KAPPA - MARGIN_KAPPA


def test_ndwi_with_otsu_on_the_sentinel2_clip(demo_run):
    """NDWI needs no training: its figures are exact (those of demo/index_accuracy.py)."""
    index, scored = demo_run.results["index"], demo_run.results["index_independent"]
    assert index["INDEX"] == "NDWI"
    assert index["THRESHOLD"] == pytest.approx(-0.0009766, abs=1e-7)
    assert index["WATER_FRACTION"] == pytest.approx(0.0954, abs=5e-5)
    assert (scored["TRUE_WATER"], scored["FALSE_LAND"], scored["FALSE_WATER"], scored["TRUE_LAND"]) == (
        6163, 201, 3476, 147004)
    assert round(scored["OVERALL_ACCURACY"], 4) == 0.9766
    assert round(scored["KAPPA"], 4) == 0.7584
    assert round(scored["F1"], 4) == 0.7702
    assert round(scored["IOU"], 4) == 0.6263


def test_the_report_sets_the_model_beside_ndwi(demo_run):
    with open(demo_run.paths["report"], encoding="utf-8") as handle:
        report = handle.read()
    assert 'id="model-vs-index"' in report and 'id="plot-model-vs-index"' in report
    index_threshold = re.search(r'data-setting="index_threshold" data-value="([^"]+)"', report).group(1)
    assert float(index_threshold) == pytest.approx(demo_run.results["index"]["THRESHOLD"], abs=1e-9)
    held_out = demo_run.results["classified"]["ASSESSED_PIXELS"]
    assert f'data-index-figure="pixels" data-value="{held_out}"' in report
    assert f'data-model-figure="pixels" data-value="{held_out}"' in report
    # The feature space is the model's: green, red and NIR.
    for label in ("band 2 (green (B03))", "band 3 (red (B04))", "band 4 (NIR (B08))"):
        assert label in report
    assert "band 1 (blue (B02))" not in report


def test_readme_shows_the_figures_make_demo_prints(demo_run):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        blocks = re.findall(r"^```[a-z]*\n(.*?)^```$", handle.read(), re.S | re.M)
    shown = [block for block in blocks if block.startswith("Water on demo/data/sentinel2_havel.tif")]
    assert len(shown) == 1
    assert shown[0].splitlines() == demo_run.lines
