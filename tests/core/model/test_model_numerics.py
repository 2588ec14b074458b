"""Models edited or damaged by hand: a byte-order mark, huge or overflowing numbers, too wide
layers, metadata as text; and the kernel's passes over wide layers."""

import json

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read, water_scene, write_raster

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.maps import predict
from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA, ProbabilityKernel, predict_water
from water_logreg_plugin.core.model import WaterModel, load_model, save_model
from water_logreg_plugin.core.model.compatibility import check_model_fits_raster


def logistic(weights=(0.0, 0.0, -0.01), bias=14.5, std=(1.0, 1.0, 1.0), training=None):
    return WaterModel([1, 2, 3], np.zeros(3), np.array(std, dtype=float),
                      [(np.array([weights], dtype=float), np.array([bias], dtype=float))], training or {})


def saved(tmp_path, model, change=None):
    path = tmp_path / "model.json"
    save_model(model, path)
    if change:
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))
    return str(path)


def test_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / saved(tmp_path, logistic())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_model(str(path)).layers[0][1][0] == 14.5


def test_tiny_standard_deviation_is_refused(tmp_path):
    # A band the model ignores (weight 0) may have any σ > 0.
    load_model(saved(tmp_path, logistic(), lambda document: document["standardization"].update(std=[1e-310, 1, 1])))
    path = saved(tmp_path, logistic(weights=(1.0, 0.0, -0.01)),
                 lambda document: document["standardization"].update(std=[1e-310, 1, 1]))
    with pytest.raises(WaterLogRegError) as refusal:
        load_model(path)
    assert str(refusal.value) == (
        f"'{path}' is not a usable water model: its first layer's weights divided by the standard deviations "
        "overflow (a standard deviation too close to 0, or weights too large); the file is damaged or was "
        "edited by hand. Train the model again.")


def test_too_wide_a_layer_is_refused(tmp_path):
    wide = WaterModel([1, 2, 3], np.zeros(3), np.ones(3),
                      [(np.zeros((5000, 3)), np.zeros(5000)), (np.zeros((1, 5000)), np.zeros(1))])
    path = saved(tmp_path, wide)
    with pytest.raises(WaterLogRegError) as refusal:
        load_model(path)
    assert str(refusal.value) == (
        f"'{path}' is not a usable water model: a layer has 5000 units; this plugin predicts with layers of "
        "at most 4096 units, so that a map fits in memory. Train a narrower model (HIDDEN_LAYERS).")


@pytest.mark.parametrize("scale", [1e300, 1e35])
def test_huge_weights_give_a_valid_map(tmp_path, scale):
    bands, truth = water_scene(rows=40, cols=40)
    raster = write_raster(tmp_path / "scene.tif", bands)
    model = load_model(saved(tmp_path, logistic(weights=(0.0, 0.0, -scale), bias=1450 * scale)))
    predict_water(raster, model, str(tmp_path / "probability.tif"))
    probability, _ = read(tmp_path / "probability.tif")
    assert (probability != PROBABILITY_NODATA).all()
    assert ((probability >= 0.5) == truth).all()
    assert ((probability == 0) | (probability == 1)).all()


def test_metadata_edited_by_hand_is_read_as_meant(tmp_path):
    bands, _ = water_scene(rows=20, cols=20)
    dataset = gdal.Open(write_raster(tmp_path / "scene.tif", bands))
    check_model_fits_raster(logistic(training={"band_count": "3", "data_type": "uint16"}), dataset)
    check_model_fits_raster(logistic(training={"band_count": 3.0, "data_type": " UINT16 "}), dataset)
    four = gdal.Open(write_raster(tmp_path / "four.tif", np.concatenate([bands, bands[:1]])))
    with pytest.raises(WaterLogRegError, match=r"^The model was trained on a raster of 3 bands, but x has 4,"):
        check_model_fits_raster(logistic(training={"band_count": "3"}), four, "x")


def test_wide_layers_go_through_in_passes(monkeypatch):
    rng = np.random.default_rng(0)
    model = WaterModel([1, 2, 3], rng.normal(1000, 100, 3), rng.uniform(50, 100, 3),
                       [(rng.normal(size=(2048, 3)), rng.normal(size=2048)),
                        (rng.normal(size=(1, 2048)) / 40, rng.normal(size=1))])
    monkeypatch.setattr(predict, "KERNEL_BUDGET_BYTES", 2048 * 8 * 100)
    kernel = ProbabilityKernel(model, "cpu")
    assert kernel.pass_pixels == 100
    values = rng.normal(1000, 150, size=(3, 7, 111)).astype(np.float32)
    probability = kernel.probability_of_bands(values, np.ones((7, 111), dtype=bool))
    expected = model.predict_probability(values.reshape(3, -1).T).reshape(7, 111)
    np.testing.assert_allclose(probability, expected, atol=1e-4)


def test_scale_and_offset_are_recorded_and_checked(tmp_path):
    from water_logreg_plugin.core.model.compatibility import raster_description

    bands, _ = water_scene(rows=20, cols=20)
    scaled = write_raster(tmp_path / "scaled.tif", bands)
    dataset = gdal.Open(scaled, gdal.GA_Update)
    dataset.GetRasterBand(3).SetScale(0.0001)
    dataset = None
    dataset = gdal.Open(scaled)
    description = raster_description(dataset)
    assert description["scale_offset"] == [[1.0, 0.0], [1.0, 0.0], [0.0001, 0.0]]
    check_model_fits_raster(logistic(training=description), dataset, "x")
    plain = gdal.Open(write_raster(tmp_path / "plain.tif", bands))
    assert raster_description(plain)["scale_offset"] is None
    with pytest.raises(WaterLogRegError) as refusal:
        check_model_fits_raster(logistic(training=description), plain, "'plain.tif'")
    assert str(refusal.value).startswith(
        "Band 3 of 'plain.tif' has scale 1 and offset 0, but the model was trained on a band of scale 0.0001 and "
        "offset 0")
