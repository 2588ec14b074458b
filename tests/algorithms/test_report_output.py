"""OUTPUT_REPORT on trainmodel, classifywater and assessaccuracy, through processing.run."""

import itertools
import os

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingOutputHtml
from support.report_html import png_size, read_report
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

from water_logreg_plugin.core.learning.metrics import FIGURE_TABLE


def four_band_scene():
    """water_scene plus a short-wave infrared band, where water is darkest of all."""
    bands, truth = water_scene()
    rng = np.random.default_rng(11)
    swir = np.where(truth, 150, 1800) + rng.normal(0, 60, truth.shape)
    return np.concatenate([bands, np.clip(swir, 1, None).astype(np.uint16)[np.newaxis]]), truth


def assert_report_matches(result, expected_plots):
    report = read_report(result["OUTPUT_REPORT"])
    for figure in FIGURE_TABLE:
        assert report.figures[figure.key] == result[figure.output], figure.output
    assert report.settings["figures_source"] == result["FIGURES_FROM"]
    assert set(report.images) == set(expected_plots)
    for alt, data in report.images.values():
        width, height = png_size(data)
        assert alt and width >= 200 and height >= 200
    return report


def feature_space_plots(bands):
    plots = {f"plot-feature-space-b{a}-b{b}" for a, b in itertools.combinations(bands, 2)}
    return plots | ({"plot-feature-space-3d"} if len(bands) == 3 else set()) | (
        {"plot-feature-space-model"} if len(bands) >= 2 else set())


@pytest.mark.parametrize("name", ["trainmodel", "classifywater", "assessaccuracy"])
def test_report_is_an_html_output_for_the_results_viewer(provider, name):
    algorithm = QgsApplication.processingRegistry().algorithmById(f"waterlogreg:{name}")
    parameter = algorithm.parameterDefinition("OUTPUT_REPORT")
    assert parameter.flags() & parameter.FlagOptional
    assert parameter.defaultFileExtension() == "html"
    assert isinstance(algorithm.outputDefinition("OUTPUT_REPORT"), QgsProcessingOutputHtml)


@pytest.mark.parametrize("bands, hidden_layers", [([1, 2], ""), ([1, 2, 4], ""), ([], ""), ([2, 3, 4], "8")])
def test_classifywater_report(run_algorithm, tmp_path, bands, hidden_layers):
    raster = write_raster(tmp_path / "scene.tif", four_band_scene()[0])
    result = run_algorithm("classifywater", {
        "INPUT": raster, "BANDS": bands, "POLYGONS": write_polygons(tmp_path / "p.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "HIDDEN_LAYERS": hidden_layers, "VALIDATION_FRACTION": 0.25,
        "OUTPUT": str(tmp_path / "water.tif"), "OUTPUT_REPORT": str(tmp_path / "report.html"),
    })
    used = bands or [1, 2, 3, 4]
    report = assert_report_matches(
        result, {"plot-loss", "plot-probability-histogram", "plot-reliability", *feature_space_plots(used)})
    assert result["FIGURES_FROM"] == "held-out polygons"
    assert report.settings["device"] == result["DEVICE_USED"]
    assert report.figures["final_loss"] == result["FINAL_LOSS"]
    assert report.counts["water_fraction"] == result["WATER_FRACTION"]
    assert report.counts["validation_water_polygons"] == report.counts["validation_land_polygons"] == 1
    assert report.counts["training_water_polygons"] == report.counts["training_land_polygons"] == 3
    assert report.settings["bands"] == ",".join(map(str, used))
    assert set(report.timings) == {"training", "prediction", "whole_job"}
    if hidden_layers:
        assert report.coefficients == {} and report.settings["hidden_layers"] == "8"
    else:
        assert {band for band, _ in report.coefficients} == {*map(str, used), "intercept"}


def test_trainmodel_report(run_algorithm, tmp_path):
    bands, _ = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    samples = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": write_polygons(tmp_path / "p.gpkg", standard_polygons(), epsg=4326),
        "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "s.gpkg"),
    })["OUTPUT"]
    result = run_algorithm("trainmodel", {
        "SAMPLES": samples, "OUTPUT_MODEL": str(tmp_path / "m.json"), "OUTPUT_REPORT": str(tmp_path / "train.html"),
    })
    report = assert_report_matches(
        result, {"plot-loss", "plot-probability-histogram", "plot-reliability", *feature_space_plots([1, 2, 3])})
    assert report.settings["optimizer"] == "exact" and report.settings["validation_fraction"] == "0.2"
    assert result["CONVERGED"] == 1 and 0 <= result["GRADIENT_NORM"] < 1e-6
    assert report.figures["final_loss"] == result["FINAL_LOSS"]


def test_assessaccuracy_report(run_algorithm, tmp_path):
    probability = np.where(np.arange(240) >= 120, 0.8, 0.3)[np.newaxis].repeat(200, axis=0)[np.newaxis]
    raster = write_raster(tmp_path / "p.tif", probability, nodata=-9999, data_type=6)  # Float32
    result = run_algorithm("assessaccuracy", {
        "INPUT": raster, "POLYGONS": write_polygons(tmp_path / "v.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "OUTPUT_REPORT": str(tmp_path / "accuracy.html"),
    })
    report = assert_report_matches(result, {"plot-probability-histogram", "plot-reliability"})
    assert result["OVERALL_ACCURACY"] == 1.0
    assert report.counts["water"] == result["TRUE_WATER"] + result["FALSE_LAND"]


def test_no_report_unless_asked(run_algorithm, tmp_path):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    result = run_algorithm("classifywater", {
        "INPUT": raster, "POLYGONS": write_polygons(tmp_path / "p.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "water.tif"),
    })
    assert not result["OUTPUT_REPORT"]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".html")]
