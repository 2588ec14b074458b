"""waterlogreg:classifywater, the one-click tool, through processing.run."""

import os

import numpy as np
from osgeo import gdal
from support.recording_feedback import RecordingFeedback
from support.synthetic import pixel_box, read, standard_polygons, water_scene, write_polygons, write_raster


def classify(run_algorithm, raster, polygons, folder, feedback=None, **extra):
    os.makedirs(folder, exist_ok=True)
    return run_algorithm("classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "SEED": 3,
        "OUTPUT": os.path.join(folder, "water.tif"), "OUTPUT_MODEL": os.path.join(folder, "model.json"), **extra,
    }, feedback=feedback)


def test_separable_scene_is_mapped(run_algorithm, tmp_path):
    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    result = classify(run_algorithm, raster, write_polygons(tmp_path / "p.gpkg", standard_polygons()), tmp_path / "out")
    probability, _ = read(result["OUTPUT"])
    assert ((probability >= 0.5) == truth).mean() >= 0.99
    assert os.path.exists(result["OUTPUT_MODEL"])
    assert result["FIGURES_FROM"] == "held-out polygons"
    assert result["OVERALL_ACCURACY"] >= 0.99 and result["KAPPA"] >= 0.98
    # One of the four 20 × 30-pixel boxes of each class is held out (VALIDATION_FRACTION 0.2).
    assert result["TRUE_WATER"] + result["FALSE_LAND"] == 600 and result["TRUE_LAND"] + result["FALSE_WATER"] == 600
    assert result["ASSESSED_PIXELS"] == 1200


def test_l2_penalty_grades_the_probabilities_and_is_recorded(run_algorithm, tmp_path):
    import json

    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    polygons = write_polygons(tmp_path / "p.gpkg", standard_polygons())
    plain = classify(run_algorithm, raster, polygons, tmp_path / "plain")
    penalized = classify(run_algorithm, raster, polygons, tmp_path / "penalized", L2_PENALTY=0.01)
    probability, _ = read(penalized["OUTPUT"])
    assert ((probability >= 0.5) == truth).mean() >= 0.99

    def graded_pixels(path):
        values, _ = read(path)
        return int(((values > 0.05) & (values < 0.95)).sum())

    assert graded_pixels(penalized["OUTPUT"]) > graded_pixels(plain["OUTPUT"])
    with open(penalized["OUTPUT_MODEL"], encoding="utf-8") as handle:
        assert json.load(handle)["training"]["l2_penalty"] == 0.01


def test_maximum_likelihood_on_separable_polygons_is_reported_not_converged(run_algorithm, tmp_path):
    """The standard polygons separate water from land: λ = 0 has no finite optimum, the default λ has one."""
    import json

    from water_logreg_plugin.core.learning.solver import SEPARATION_NOTE

    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "p.gpkg", standard_polygons())
    feedback = RecordingFeedback()
    unpenalized = classify(run_algorithm, raster, polygons, tmp_path / "ml", L2_PENALTY=0, feedback=feedback)
    assert unpenalized["CONVERGED"] == 0 and unpenalized["GRADIENT_NORM"] > 0
    assert f"Warning: the fit did not converge. {SEPARATION_NOTE}" in feedback.lines
    with open(unpenalized["OUTPUT_MODEL"], encoding="utf-8") as handle:
        training = json.load(handle)["training"]
    assert training["converged"] is False and training["note"] == SEPARATION_NOTE and training["optimizer"] == "newton"

    default = classify(run_algorithm, raster, polygons, tmp_path / "default")
    assert default["CONVERGED"] == 1 and default["GRADIENT_NORM"] < 1e-6
    assert 0 <= default["BRIER"] < 0.01 and 0 <= default["ECE"] < 0.05


def test_polygon_crs_does_not_change_the_answer(run_algorithm, tmp_path):
    bands, _ = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    native = classify(run_algorithm, raster, write_polygons(tmp_path / "utm.gpkg", standard_polygons()), tmp_path / "a")
    geographic = classify(run_algorithm, raster, write_polygons(tmp_path / "geo.gpkg", standard_polygons(), epsg=4326),
                          tmp_path / "b")
    np.testing.assert_allclose(read(native["OUTPUT"])[0], read(geographic["OUTPUT"])[0], atol=1e-6)


def test_water_values_and_numeric_class_field(run_algorithm, tmp_path):
    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    coded = [(wkt, {"water": "Lake", "land": "crops"}[value]) for wkt, value in standard_polygons()]
    coded[0] = (coded[0][0], "Forest")
    result = classify(run_algorithm, raster, write_polygons(tmp_path / "p.gpkg", coded), tmp_path / "out",
                      WATER_VALUES=" lake, reservoir ")
    assert ((read(result["OUTPUT"])[0] >= 0.5) == truth).mean() >= 0.99


def test_nodata_propagates(run_algorithm, tmp_path):
    bands, _ = water_scene()
    bands[2, 100:110, :] = 0  # nodata in one band only
    raster = write_raster(tmp_path / "scene.tif", bands)
    result = classify(run_algorithm, raster, write_polygons(tmp_path / "p.gpkg", standard_polygons()), tmp_path / "out")
    probability, dataset = read(result["OUTPUT"])
    assert (probability[100:110] == -9999).all()
    assert (probability[:100] != -9999).all() and (probability[110:] != -9999).all()
    assert dataset.GetRasterBand(1).GetNoDataValue() == -9999


def test_mlp_beats_logistic_regression_where_a_plane_cannot_separate(run_algorithm, tmp_path):
    """Water both darker (deep) and brighter (turbid) than land in one band."""
    rng = np.random.default_rng(7)
    rows, cols = 120, 240
    truth = np.zeros((rows, cols), dtype=bool)
    truth[:, :60] = truth[:, 180:] = True
    level = np.where(truth, 0, 1000.0)
    level[:, :60], level[:, 180:] = 400.0, 1600.0
    bands = np.stack([level + rng.normal(0, 60, truth.shape), 800 + rng.normal(0, 60, truth.shape)])
    raster = write_raster(tmp_path / "scene.tif", np.clip(bands, 1, None).astype(np.uint16))
    polygons = []
    for top in (5, 45, 85):
        polygons += [(pixel_box(5, top, 50, top + 25), "water"), (pixel_box(190, top, 235, top + 25), "water"),
                     (pixel_box(70, top, 110, top + 25), "land"), (pixel_box(130, top, 170, top + 25), "land")]
    layer = write_polygons(tmp_path / "p.gpkg", polygons)
    plane = classify(run_algorithm, raster, layer, tmp_path / "lr", VALIDATION_FRACTION=0.34)
    perceptron = classify(run_algorithm, raster, layer, tmp_path / "mlp",
                          VALIDATION_FRACTION=0.34, HIDDEN_LAYERS="16,16")
    assert plane["FIGURES_FROM"] == perceptron["FIGURES_FROM"] == "held-out polygons"
    assert perceptron["OVERALL_ACCURACY"] >= 0.99
    assert perceptron["OVERALL_ACCURACY"] > plane["OVERALL_ACCURACY"] + 0.2
    assert ((read(perceptron["OUTPUT"])[0] >= 0.5) == truth).mean() >= 0.99


def test_tiny_training_set_reports_training_figures(run_algorithm, tmp_path):
    bands, _ = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    two = [(pixel_box(10, 10, 30, 40), "land"), (pixel_box(130, 10, 150, 40), "water")]
    result = classify(run_algorithm, raster, write_polygons(tmp_path / "p.gpkg", two), tmp_path / "out")
    assert result["FIGURES_FROM"] == "training pixels"
    assert gdal.Open(result["OUTPUT"]) is not None
