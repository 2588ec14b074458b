"""The torch model: maximum likelihood, repeatability, the model file."""

import json

import numpy as np
import pytest

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.metrics import log_loss
from water_logreg_plugin.core.model import (
    FORMAT_VERSION,
    TrainingSettings,
    fit_water_model,
    load_model,
    parse_hidden_layers,
    save_model,
)


def overlapping_classes(count=4000, seed=1):
    """Water and land in (green, red, nir) that overlap: the optimum is finite."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(count) < 0.4).astype(np.uint8)
    centres = np.where(labels[:, None] == 1, [900.0, 700.0, 500.0], [1000.0, 1100.0, 1500.0])
    values = centres + rng.normal(0, [150.0, 250.0, 600.0], (count, 3))
    return values, labels


def test_reaches_scikit_learn_maximum_likelihood():
    from sklearn.linear_model import LogisticRegression

    values, labels = overlapping_classes()
    model, _ = fit_water_model(values, labels, [1, 2, 3])
    ours = log_loss(model.predict_probability(values), labels)
    standardized = (values - values.mean(0)) / values.std(0)
    unpenalized = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-10)
    reference = unpenalized.fit(standardized, labels)
    theirs = log_loss(reference.predict_proba(standardized)[:, 1], labels)
    assert 0.05 < theirs < 0.6  # a real overlap, not a degenerate case
    assert ours <= theirs * 1.005
    np.testing.assert_allclose(model.layers[0][0][0], reference.coef_[0], rtol=2e-2, atol=2e-2)


def test_l2_penalty_is_scikit_learns_c():
    """λ/2·Σw² on the mean cross-entropy is LogisticRegression(C = 1/(λ·n))."""
    from sklearn.linear_model import LogisticRegression

    values, labels = overlapping_classes()
    penalty = 0.01
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=penalty))
    standardized = (values - values.mean(0)) / values.std(0)
    reference = LogisticRegression(C=1 / (penalty * len(labels)), max_iter=10_000, tol=1e-10).fit(standardized, labels)
    np.testing.assert_allclose(model.layers[0][0][0], reference.coef_[0], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(model.layers[0][1], reference.intercept_, rtol=1e-3, atol=1e-4)
    assert model.training["l2_penalty"] == penalty


def test_l2_penalty_keeps_probabilities_graded_where_classes_separate():
    rng = np.random.default_rng(3)
    labels = (rng.random(2000) < 0.5).astype(np.uint8)
    values = np.where(labels[:, None] == 1, 500.0, 1500.0) + rng.normal(0, 100.0, (2000, 3))
    shoreline = np.linspace(700, 1300, 61)[:, None] * np.ones(3)

    unpenalized, _ = fit_water_model(values, labels, [1, 2, 3])
    penalized, history = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=1e-3))

    def graded(model):
        probability = model.predict_probability(shoreline)
        return int(((probability > 0.05) & (probability < 0.95)).sum())

    # Unpenalized, the weights grow until float32 saturates the loss (≈ 1e-10): a near step.
    assert unpenalized.training["final_loss"] < 1e-6
    assert graded(penalized) >= 3 * graded(unpenalized)
    assert np.abs(penalized.layers[0][0]).max() < 0.5 * np.abs(unpenalized.layers[0][0]).max()
    assert history["loss"][-1] == pytest.approx(penalized.training["final_loss"])


def test_negative_l2_penalty_is_refused():
    values, labels = overlapping_classes(200)
    with pytest.raises(WaterLogRegError, match="L2 penalty must be 0 or more"):
        fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=-1))


def test_gradient_descent_and_adam_also_descend():
    values, labels = overlapping_classes(1000)
    for optimizer in ("sgd", "adam"):
        _, history = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(optimizer=optimizer, max_steps=200))
        assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_seeded_runs_repeat():
    values, labels = overlapping_classes(1000)
    for hidden in ([], [8, 8]):
        settings = TrainingSettings(hidden_layers=hidden, seed=5, max_steps=50)
        first, _ = fit_water_model(values, labels, [1, 2, 3], settings)
        again, _ = fit_water_model(values, labels, [1, 2, 3], settings)
        for (w1, b1), (w2, b2) in zip(first.layers, again.layers):
            np.testing.assert_array_equal(w1, w2)
            np.testing.assert_array_equal(b1, b2)


def test_standardization_is_part_of_the_model_and_folds_exactly():
    values, labels = overlapping_classes(500)
    model, _ = fit_water_model(values, labels, [2, 3, 4])
    np.testing.assert_allclose(model.mean, values.mean(0))
    np.testing.assert_allclose(model.std, values.std(0))
    weight, bias = model.layers[0]
    standardized = (values - model.mean) / model.std
    direct = 1 / (1 + np.exp(-(standardized @ weight[0] + bias[0])))
    np.testing.assert_allclose(model.predict_probability(values), direct, rtol=1e-10)
    band_weights, band_bias = model.coefficients_in_band_units()
    np.testing.assert_allclose(values @ band_weights + band_bias, standardized @ weight[0] + bias[0], rtol=1e-9)


def test_constant_band_gets_no_weight_and_no_nan():
    values, labels = overlapping_classes(500)
    values[:, 1] = 1234.0
    messages = []
    model, _ = fit_water_model(values, labels, [1, 2, 3], callbacks=Callbacks(log=messages.append))
    assert any("band 2 is constant" in message for message in messages)
    assert model.layers[0][0][0][1] == 0.0
    assert np.isfinite(model.predict_probability(values)).all()


def test_model_file_round_trip(tmp_path):
    values, labels = overlapping_classes(500)
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(hidden_layers=[4], max_steps=20),
                               training_info={"source_raster": "scene.tif"})
    path = tmp_path / "model.json"
    save_model(model, path)
    document = json.loads(path.read_text())
    assert document["format_version"] == FORMAT_VERSION
    assert document["training"]["source_raster"] == "scene.tif"
    assert document["training"]["water_pixels"] == int(labels.sum())
    assert {"created", "final_loss", "land_pixels", "device"} <= set(document["training"])
    loaded = load_model(path)
    assert loaded.bands == [1, 2, 3] and loaded.hidden_layers == [4]
    np.testing.assert_array_equal(loaded.predict_probability(values), model.predict_probability(values))


def test_format_version_1_files_still_load(tmp_path):
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({
        "format": "water_logreg_plugin model", "format_version": 1, "bands": [1, 2],
        "standardization": {"mean": [10.0, 20.0], "std": [2.0, 4.0]},
        "weights": [1.0, -1.0], "bias": 0.5,
    }))
    model = load_model(path)
    assert model.hidden_layers == []
    probability = model.predict_probability(np.array([[10.0, 20.0]]))
    np.testing.assert_allclose(probability, 1 / (1 + np.exp(-0.5)))


@pytest.mark.parametrize("text, sizes", [("", []), (" ", []), ("16,16", [16, 16]), ("8", [8])])
def test_hidden_layers_text(text, sizes):
    assert parse_hidden_layers(text) == sizes


@pytest.mark.parametrize("text", ["a,b", "0", "16,-1", "10000"])
def test_bad_hidden_layers_text(text):
    with pytest.raises(WaterLogRegError, match="HIDDEN_LAYERS"):
        parse_hidden_layers(text)
