"""predict_water with the scene's share of water: two passes, the same map as one pass with the
share given, whatever the windows; calibrated against a known truth; nodata and 0/1 kept."""

import os

import numpy as np
import pytest
from osgeo import gdal
from support.small_windows import windows_of_rows
from support.synthetic import write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning.calibration import expected_calibration_error
from water_logreg_plugin.core.maps import predict as predict_module
from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA, predict_water
from water_logreg_plugin.core.maps.water_share import AS_TRAINED, GIVEN_SHARE, WaterPrior
from water_logreg_plugin.core.model.network import WaterModel
from water_logreg_plugin.core.raster import spool as spool_module

TRAINING_SHARE = 0.6


def recording():
    lines = []
    return Callbacks(log=lines.append), lines


def known_scene(tmp_path, scene_share=0.1, rows=400, cols=500, seed=0):
    """(raster path, truth, valid): one Float32 band x, water x ~ N(+1, 1), land N(−1, 1), NaN in a
    corner; the model σ(2x + logit 0.6) is the posterior of a model trained at 60 % water."""
    rng = np.random.default_rng(seed)
    truth = rng.random((rows, cols)) < scene_share
    x = rng.normal(np.where(truth, 1.0, -1.0), 1.0).astype(np.float32)
    x[:30, :40] = np.nan
    x[40, 0], x[41, 0] = 1e6, -1e6  # certain water and land: P exactly 1 and 0
    path = write_raster(tmp_path / "scene.tif", x[np.newaxis], nodata=None, data_type=gdal.GDT_Float32)
    return path, truth, np.isfinite(x)


def logistic_model(training=None):
    bias = np.log(TRAINING_SHARE / (1 - TRAINING_SHARE))
    training = {"water_pixels": 600, "land_pixels": 400} if training is None else training
    return WaterModel([1], np.zeros(1), np.ones(1), [(np.array([[2.0]]), np.array([bias]))], training)


def read(path):
    return gdal.Open(str(path)).ReadAsArray()


# Where the first pass keeps the model's outputs: all in memory (a scene under 128 MB of them),
# or all in the scratch file (as the part of a larger scene beyond memory goes).
SPOOLS = {"in memory": None, "in a file": 0}


@pytest.mark.parametrize("spool_memory", SPOOLS.values(), ids=SPOOLS.keys())
def test_the_scene_share_by_em_gives_a_calibrated_map_and_keeps_nodata_and_certain_pixels(tmp_path, monkeypatch,
                                                                                          spool_memory):
    if spool_memory is not None:
        monkeypatch.setattr(spool_module, "MEMORY_BYTES", spool_memory)
    raster, truth, valid = known_scene(tmp_path)
    callbacks, lines = recording()

    summary = predict_water(raster, logistic_model(), tmp_path / "p.tif", "cpu", callbacks=callbacks,
                            prior=WaterPrior())

    probability = read(tmp_path / "p.tif")
    assert summary.water_share.scene_share == pytest.approx(truth[valid].mean(), abs=0.01)
    assert summary.water_share.training_share == TRAINING_SHARE
    assert expected_calibration_error(probability[valid], truth[valid]) <= 0.01
    before = predict_water(raster, logistic_model(), tmp_path / "before.tif", "cpu")
    assert expected_calibration_error(read(tmp_path / "before.tif")[valid], truth[valid]) > 0.1
    assert np.all(probability[~valid] == PROBABILITY_NODATA)
    assert (probability[40, 0], probability[41, 0]) == (1.0, 0.0)
    assert summary.valid_pixels == before.valid_pixels == valid.sum()
    assert summary.water_pixels == np.count_nonzero(probability[valid] >= 0.5) < before.water_pixels
    assert any(line.startswith("The training pixels are 60.00 % water; the scene is ") for line in lines)
    assert sorted(os.listdir(tmp_path)) == ["before.tif", "p.tif", "scene.tif"]  # no scratch file left


def test_two_passes_write_the_map_one_pass_writes_for_the_same_share_whatever_the_windows(tmp_path, monkeypatch):
    raster, _, _ = known_scene(tmp_path, scene_share=0.3, rows=300, cols=200)
    monkeypatch.setattr(spool_module, "MEMORY_BYTES", 10 * 7 * 200 * 4)  # small windows: 10 in memory, 33 in a file

    estimated = predict_water(raster, logistic_model(), tmp_path / "em.tif", "cpu", prior=WaterPrior())
    given = predict_water(raster, logistic_model(), tmp_path / "given.tif", "cpu",
                          prior=WaterPrior(GIVEN_SHARE, estimated.water_share.scene_share))
    windows_of_rows(monkeypatch, predict_module)
    small_windows = predict_water(raster, logistic_model(), tmp_path / "small.tif", "cpu", prior=WaterPrior())

    # The share comes from the logits alone (elementwise float arithmetic), so it is the same
    # whatever the windows; numpy's σ may differ in the last bit between its vector and scalar
    # paths, which depend on where a window's array ends.
    assert small_windows.water_share.scene_share == estimated.water_share.scene_share
    for other in ("given.tif", "small.tif"):
        np.testing.assert_allclose(read(tmp_path / other), read(tmp_path / "em.tif"), rtol=0, atol=2.5e-7)
    assert abs(given.water_pixels - estimated.water_pixels) <= 1
    assert abs(small_windows.water_pixels - estimated.water_pixels) <= 1


def test_as_in_training_and_a_model_without_its_share_leave_the_map_as_the_model_gives_it(tmp_path):
    raster, _, _ = known_scene(tmp_path, rows=60, cols=50)
    callbacks, lines = recording()

    predict_water(raster, logistic_model(), tmp_path / "none.tif", "cpu")
    as_trained = predict_water(raster, logistic_model(), tmp_path / "trained.tif", "cpu", prior=WaterPrior(AS_TRAINED))
    unknown = predict_water(raster, logistic_model({}), tmp_path / "unknown.tif", "cpu", callbacks=callbacks,
                            prior=WaterPrior())

    np.testing.assert_array_equal(read(tmp_path / "none.tif"), read(tmp_path / "trained.tif"))
    np.testing.assert_array_equal(read(tmp_path / "none.tif"), read(tmp_path / "unknown.tif"))
    assert as_trained.water_share.scene_share == TRAINING_SHARE and as_trained.water_share.shift == 0
    assert unknown.water_share.scene_share is None
    assert any("does not record its training pixels' share of water" in line for line in lines)
