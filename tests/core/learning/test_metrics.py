"""Accuracy figures against scikit-learn's reference implementations."""

import math

import numpy as np
import pytest
from sklearn import metrics as reference

from water_logreg_plugin.core.learning.metrics import FIGURES, accuracy_figures, format_figures, log_loss


def random_case(seed, count=5000):
    """Labels and probabilities that agree more often than chance, as a real map's do."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(count) < rng.uniform(0.1, 0.9)).astype(np.uint8)
    probability = np.clip(0.5 * labels + 0.25 + rng.normal(0, 0.25, count), 0.001, 0.999)
    return probability, labels


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_figures_equal_scikit_learn(seed, threshold):
    probability, labels = random_case(seed)
    predicted = (probability >= threshold).astype(np.uint8)
    figures = accuracy_figures(probability, labels, threshold)
    assert set(figures) == set(FIGURES)
    assert figures["overall_accuracy"] == pytest.approx(reference.accuracy_score(labels, predicted), abs=1e-12)
    assert figures["precision"] == pytest.approx(reference.precision_score(labels, predicted), abs=1e-12)
    assert figures["recall"] == pytest.approx(reference.recall_score(labels, predicted), abs=1e-12)
    assert figures["f1"] == pytest.approx(reference.f1_score(labels, predicted), abs=1e-12)
    assert figures["iou"] == pytest.approx(reference.jaccard_score(labels, predicted), abs=1e-12)
    assert figures["kappa"] == pytest.approx(reference.cohen_kappa_score(labels, predicted), abs=1e-12)
    assert figures["log_loss"] == pytest.approx(reference.log_loss(labels, probability), rel=1e-12)
    (true_water, false_land), (false_water, true_land) = reference.confusion_matrix(labels, predicted, labels=[1, 0])
    assert (figures["true_water"], figures["false_land"], figures["false_water"], figures["true_land"]) == (
        true_water, false_land, false_water, true_land)
    assert figures["pixels"] == len(labels)


def test_log_loss_of_certain_wrong_answers_is_finite():
    assert log_loss([0.0, 1.0], [1, 0]) == pytest.approx(-math.log(1e-15), rel=1e-4)
    assert log_loss([1.0, 0.0], [1, 0]) == pytest.approx(0.0, abs=1e-12)


def test_undefined_ratios_are_nan_not_zero():
    """Nothing called water: precision has no denominator, and saying 0 would be a claim."""
    figures = accuracy_figures([0.1, 0.2, 0.3], [1, 0, 0])
    assert math.isnan(figures["precision"])
    assert figures["recall"] == 0.0 and figures["overall_accuracy"] == pytest.approx(2 / 3)
    empty = accuracy_figures([], [])
    assert empty["pixels"] == 0 and math.isnan(empty["overall_accuracy"]) and math.isnan(empty["log_loss"])


def test_perfect_map_of_one_class_has_undefined_kappa():
    figures = accuracy_figures([0.9, 0.8], [1, 1])
    assert figures["overall_accuracy"] == 1.0 and math.isnan(figures["kappa"])


def test_log_lines_hold_the_figures():
    probability, labels = random_case(0, 200)
    figures = accuracy_figures(probability, labels)
    text = format_figures(figures, "Held out")
    assert text.startswith("Held out: 200 pixels")
    assert f"kappa {figures['kappa']:.4f}" in text and f"IoU {figures['iou']:.4f}" in text
    assert f"{figures['true_water']:>9} {figures['false_land']:>9}" in text


def test_brier_score_and_calibration_error_are_among_the_figures():
    probability = np.array([0.05, 0.15, 0.15, 0.85, 0.95, 0.95])
    labels = np.array([0, 0, 1, 1, 1, 0])
    figures = accuracy_figures(probability, labels)
    assert figures["brier"] == pytest.approx(np.mean((probability - labels) ** 2), abs=1e-15)
    # Bins 0.0–0.1 (0.05 vs 0), 0.1–0.2 (0.15 vs 1/2), 0.8–0.9 (0.85 vs 1), 0.9–1.0 (0.95 vs 1/2).
    expected = (1 * 0.05 + 2 * abs(0.15 - 0.5) + 1 * abs(0.85 - 1) + 2 * abs(0.95 - 0.5)) / 6
    assert figures["ece"] == pytest.approx(expected, abs=1e-12)
    text = format_figures(figures, "Held out")
    assert f"Brier {figures['brier']:.4f}" in text and f"ECE {figures['ece']:.4f}" in text


def test_calibration_of_values_that_are_not_probabilities_is_nan():
    figures = accuracy_figures([0, 200, 255], [0, 1, 1], threshold=128)
    assert math.isnan(figures["brier"]) and math.isnan(figures["ece"]) and figures["overall_accuracy"] == 1.0
