"""The torch model: the exact fit, its convergence report, repeatability, the model file."""

import json

import numpy as np
import pytest
from support.synthetic import random_dataset

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.learning.fit_outcome import FitOutcome
from water_logreg_plugin.core.learning.solver import SEPARATION_NOTE, objective_at
from water_logreg_plugin.core.model import (
    FORMAT_VERSION,
    TrainingSettings,
    fit_water_model,
    load_model,
    parse_hidden_layers,
    save_model,
)
from water_logreg_plugin.core.settings import DEFAULT_L2_PENALTY, DEFAULT_MLP_L2_PENALTY


def overlapping_classes(count=4000, seed=1):
    """Water and land in (green, red, nir) that overlap: the optimum is finite."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(count) < 0.4).astype(np.uint8)
    centres = np.where(labels[:, None] == 1, [900.0, 700.0, 500.0], [1000.0, 1100.0, 1500.0])
    values = centres + rng.normal(0, [150.0, 250.0, 600.0], (count, 3))
    return values, labels


def separated_classes(count=2000, seed=3):
    """Water and land far apart in every band: a plane separates them, so λ = 0 has no optimum."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(count) < 0.5).astype(np.uint8)
    values = np.where(labels[:, None] == 1, 500.0, 1500.0) + rng.normal(0, 100.0, (count, 3))
    return values, labels


def scikit_learn_objective(standardized, labels, l2_penalty):
    """The better of scikit-learn's lbfgs and newton-cholesky at tol 1e-12, as our objective."""
    from sklearn.linear_model import LogisticRegression

    objectives = []
    for solver in ("lbfgs", "newton-cholesky"):
        fitted = LogisticRegression(C=1 / (l2_penalty * len(labels)), solver=solver, tol=1e-12, max_iter=10_000)
        fitted.fit(standardized, labels)
        objectives.append(objective_at(standardized, labels, l2_penalty, fitted.coef_[0], fitted.intercept_[0]))
    return min(objectives)


@pytest.mark.parametrize("case", ["overlapping DN", "reflectance 0-1, water 1:100", "collinear and constant bands"])
def test_default_fit_is_the_exact_optimum(case):
    """The default (Exact, λ = 1e-4) ends within 1e-6 of scikit-learn's objective, and says it converged."""
    values, labels = overlapping_classes(3000, seed=2)
    if case.startswith("reflectance"):
        values = values / 10_000
        keep = (labels == 0) | (np.arange(len(labels)) % 67 == 0)  # about 1 water pixel in 100
        values, labels = values[keep], labels[keep]
    elif case.startswith("collinear"):
        values = np.column_stack([values, 2 * values[:, 0] + 3, np.full(len(values), 42.0)])
    bands = list(range(1, values.shape[1] + 1))
    lines = []
    model, history = fit_water_model(values, labels, bands, callbacks=Callbacks(log=lines.append))

    training = model.training
    standardized = (values - model.mean) / model.std
    weight, bias = model.layers[0][0][0], model.layers[0][1][0]
    ours = objective_at(standardized, labels, DEFAULT_L2_PENALTY, weight, bias)
    assert ours <= scikit_learn_objective(standardized, labels, DEFAULT_L2_PENALTY) + 1e-6
    assert training["optimizer"] == "newton" and training["l2_penalty"] == DEFAULT_L2_PENALTY
    assert training["converged"] is True and training["note"] == ""
    assert training["objective"] == pytest.approx(ours, abs=1e-12)
    assert training["gradient_norm"] < 1e-6
    assert history["loss"][-1] == training["final_loss"]
    outcome = [line for line in lines if "converged:" in line]
    assert len(outcome) == 1 and "converged: yes" in outcome[0] and "gradient norm" in outcome[0]
    assert not any(line.startswith("Warning: the fit") for line in lines)


def test_a_large_sample_set_says_where_newton_started():
    values, labels = overlapping_classes(300_000, seed=5)
    lines = []
    model, history = fit_water_model(values, labels, [1, 2, 3], callbacks=Callbacks(log=lines.append))
    training = model.training
    assert training["converged"] is True and training["warm_start"].startswith("one pixel in 4 of each class (")
    assert f"Newton's method started from the optimum of {training['warm_start']}." in lines
    assert len(history["loss"]) == training["steps"] + 1 and training["steps"] <= 3
    small, _ = fit_water_model(values[:1000], labels[:1000], [1, 2, 3])
    assert "warm_start" not in small.training


def test_l2_penalty_is_scikit_learns_c():
    """λ/2·Σw² on the mean cross-entropy is LogisticRegression(C = 1/(λ·n))."""
    from sklearn.linear_model import LogisticRegression

    values, labels = overlapping_classes()
    penalty = 0.01
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=penalty))
    standardized = (values - values.mean(0)) / values.std(0)
    reference = LogisticRegression(C=1 / (penalty * len(labels)), max_iter=10_000, tol=1e-10).fit(standardized, labels)
    np.testing.assert_allclose(model.layers[0][0][0], reference.coef_[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.layers[0][1], reference.intercept_, rtol=1e-6, atol=1e-6)
    assert model.training["l2_penalty"] == penalty


def test_maximum_likelihood_on_separable_polygons_says_it_did_not_converge(tmp_path):
    values, labels = separated_classes()
    lines = []
    unpenalized, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=0.0),
                                     Callbacks(log=lines.append))
    assert unpenalized.training["converged"] is False
    assert unpenalized.training["note"] == SEPARATION_NOTE
    assert any("converged: no" in line for line in lines)
    assert f"Warning: the fit did not converge. {SEPARATION_NOTE}" in lines
    path = tmp_path / "model.json"
    save_model(unpenalized, path)
    saved = json.loads(path.read_text())["training"]
    assert saved["converged"] is False and saved["note"] == SEPARATION_NOTE and saved["l2_penalty"] == 0.0


def test_the_default_penalty_keeps_probabilities_graded_where_classes_separate():
    values, labels = separated_classes()
    shoreline = np.linspace(700, 1300, 61)[:, None] * np.ones(3)
    model, history = fit_water_model(values, labels, [1, 2, 3])
    assert model.training["converged"] is True
    probability = model.predict_probability(shoreline)
    assert ((probability > 0.05) & (probability < 0.95)).sum() >= 10
    stronger, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=1e-2))
    assert np.abs(stronger.layers[0][0]).max() < np.abs(model.layers[0][0]).max()
    assert history["loss"][-1] == pytest.approx(model.training["final_loss"])


def test_a_multi_layer_perceptron_fits_by_lbfgs_to_a_small_gradient():
    rng = np.random.default_rng(4)
    labels = (rng.random(400) < 0.5).astype(np.uint8)
    values = np.where(labels[:, None] == 1, [600.0, 500.0], [1400.0, 1500.0]) + rng.normal(0, 100.0, (400, 2))
    lines = []
    model, history = fit_water_model(values, labels, [1, 2], TrainingSettings(hidden_layers=[4], seed=4),
                                     Callbacks(log=lines.append))
    training = model.training
    assert training["optimizer"] == "lbfgs" and training["converged"] is True and training["note"] == ""
    assert training["l2_penalty"] == DEFAULT_MLP_L2_PENALTY
    assert training["steps"] < 500 and len(history["loss"]) == training["steps"] + 1
    assert training["gradient_norm"] < 1e-5
    assert any(line.startswith("L-BFGS after") and "converged: yes" in line for line in lines)


MLP_DATASETS = 40
HIDDEN_LAYERS = [(4,), (8, 8), (16, 16), (3, 8, 4)]


@pytest.mark.parametrize("seed", range(MLP_DATASETS))
def test_a_multi_layer_perceptron_reaches_a_small_gradient_at_the_defaults(seed):
    """The datasets of the solver's property test (3–12 bands of DN, reflectance or Byte scale;
    overlapping, steep or separable; 1:1 to 1:100; constant and collinear bands): with its
    defaults (tanh, λ = 1e-3, L-BFGS up to 10 000 steps) every MLP ends where the gradient is small."""
    features, labels, description = random_dataset(seed)
    hidden = HIDDEN_LAYERS[seed % len(HIDDEN_LAYERS)]
    model, history = fit_water_model(features, labels, list(range(1, features.shape[1] + 1)),
                                     TrainingSettings(hidden_layers=hidden, seed=seed))
    training = model.training
    assert training["converged"] is True and training["note"] == "", (description, hidden, training["note"])
    # The rule itself, recomputed from the file's numbers: ‖∇f‖∞ ≤ 1e-6 · max(1, |f|) ≤ ‖∇f‖₂.
    assert training["gradient_norm"] <= 1e-6 * max(1.0, abs(training["objective"])) * np.sqrt(
        sum(weight.size + bias.size for weight, bias in model.layers))
    assert training["objective"] <= history["loss"][0]


def test_a_multi_layer_perceptron_that_runs_out_of_steps_says_so():
    values, labels = overlapping_classes(1000)
    lines = []
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(hidden_layers=[8], seed=1, max_steps=5),
                               Callbacks(log=lines.append))
    training = model.training
    assert training["converged"] is False and training["steps"] == 5
    assert "ran its 5 steps" in training["note"] and "raise MAX_STEPS" in training["note"]
    assert f"Warning: the fit did not converge. {training['note']}" in lines


def test_model_files_say_their_activation_and_older_relu_files_still_predict(tmp_path):
    values, labels = overlapping_classes(500)
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(hidden_layers=[4], max_steps=20))
    path = tmp_path / "model.json"
    save_model(model, path)
    document = json.loads(path.read_text())
    assert document["activation"] == "tanh"

    document["activation"] = "relu"  # as every file before 0.3.0 was written
    path.write_text(json.dumps(document))
    older = load_model(path)
    assert older.activation == "relu"
    first, second = older.layers
    hidden = np.maximum(((values - older.mean) / older.std) @ first[0].T + first[1], 0)
    expected = 1 / (1 + np.exp(-(hidden @ second[0].T + second[1])[:, 0]))
    np.testing.assert_allclose(older.predict_probability(values), expected, rtol=0, atol=1e-12)

    for unknown in ("sigmoid", ["tanh"], None):
        document["activation"] = unknown
        path.write_text(json.dumps(document))
        with pytest.raises(WaterLogRegError, match="its activation is not one of 'tanh', 'relu'"):
            load_model(path)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gradient_descent_and_adam_log_their_gap_to_the_optimum(optimizer):
    values, labels = overlapping_classes(1000)
    lines = []
    model, history = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(optimizer=optimizer, max_steps=200),
                                     Callbacks(log=lines.append))
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    training = model.training
    exact, _ = fit_water_model(values, labels, [1, 2, 3])
    assert training["objective_gap"] == pytest.approx(training["objective"] - exact.training["objective"], abs=1e-9)
    assert training["objective_gap"] > 0
    assert training["optimizer"] == optimizer and training["converged"] is False
    gap_lines = [line for line in lines if line.startswith("Objective gap to the exact optimum")]
    assert len(gap_lines) == 1 and f"{training['objective_gap']:.3g}" in gap_lines[0]
    # More steps get closer: what the number of steps does.
    longer, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(optimizer=optimizer, max_steps=400))
    assert longer.training["objective_gap"] < training["objective_gap"]


def test_convergence_is_recorded_in_the_model_file(tmp_path):
    values, labels = overlapping_classes(500)
    for settings in (TrainingSettings(), TrainingSettings(optimizer="sgd", max_steps=30)):
        model, _ = fit_water_model(values, labels, [1, 2, 3], settings)
        path = tmp_path / "model.json"
        save_model(model, path)
        loaded = load_model(path).training
        for key in ("converged", "gradient_norm", "objective", "note", "stopping_rule", "optimizer"):
            assert loaded[key] == model.training[key], key
        assert ("objective_gap" in loaded) == (settings.optimizer == "sgd")
        outcome = load_model(path).fit_outcome
        assert outcome == model.fit_outcome and outcome.as_record() == {
            key: value for key, value in loaded.items() if key not in ("accuracy", "validation_pixels")}
        assert list(outcome.as_record())[:7] == [
            "created", "water_pixels", "land_pixels", "water_share", "final_loss", "steps", "optimizer"]
        assert list(outcome.as_record())[-10:] == [
            "l2_penalty", "converged", "gradient_norm", "objective", "stopping_rule", "note", "seed", "device",
            "seconds", "torch_version"]


def test_a_training_block_without_a_fit_has_no_fit_outcome():
    """Files from before convergence was recorded, or written by hand, still load."""
    assert FitOutcome.from_record({}) is None
    assert FitOutcome.from_record({"steps": 3, "optimizer": "adam", "final_loss": 0.2}) is None


def test_negative_l2_penalty_is_refused():
    values, labels = overlapping_classes(200)
    with pytest.raises(WaterLogRegError, match="L2 penalty must be 0 or more"):
        fit_water_model(values, labels, [1, 2, 3], TrainingSettings(l2_penalty=-1))


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
