"""Calibration figures against values worked out by hand."""

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from water_logreg_plugin.core.learning.calibration import brier_score, expected_calibration_error, reliability_curve

# Bins of 0.1: 0.05 → [0, 0.1); both 0.15 → [0.1, 0.2); 0.85 → [0.8, 0.9); 0.95 and 1.0 → [0.9, 1].
PROBABILITY = [0.05, 0.15, 0.15, 0.85, 0.95, 1.0]
LABELS = [0, 0, 1, 1, 1, 1]


def test_brier_score_by_hand():
    # (0.05² + 0.15² + 0.85² + 0.15² + 0.05² + 0²) / 6
    assert brier_score(PROBABILITY, LABELS) == pytest.approx(0.7725 / 6, abs=1e-15)
    assert brier_score(PROBABILITY, LABELS) == pytest.approx(brier_score_loss(LABELS, PROBABILITY), abs=1e-15)


def test_reliability_curve_by_hand():
    curve = reliability_curve(PROBABILITY, LABELS, bins=10)
    assert [entry.count for entry in curve] == [1, 2, 0, 0, 0, 0, 0, 0, 1, 2]
    assert curve[1].lower == pytest.approx(0.1) and curve[1].upper == pytest.approx(0.2)
    assert curve[1].mean_predicted == pytest.approx(0.15) and curve[1].observed == pytest.approx(0.5)
    assert curve[9].mean_predicted == pytest.approx(0.975) and curve[9].observed == 1.0
    assert curve[0].observed == 0.0
    assert curve[4].empty and math.isnan(curve[4].mean_predicted) and math.isnan(curve[4].observed)
    assert not curve[8].empty


def test_expected_calibration_error_by_hand():
    # (1·0.05 + 2·0.35 + 1·0.15 + 2·0.025) / 6; the six empty bins add nothing.
    assert expected_calibration_error(PROBABILITY, LABELS, bins=10) == pytest.approx(0.95 / 6, abs=1e-15)


def test_edges_fall_in_the_upper_bin_and_one_in_the_last():
    curve = reliability_curve([0.0, 0.5, 0.3, 1.0], [0, 1, 0, 1], bins=10)
    counts = [entry.count for entry in curve]
    assert counts[0] == 1 and counts[5] == 1 and counts[9] == 1
    assert sum(counts) == 4
    for entry in curve:
        if not entry.empty:
            assert entry.lower <= entry.mean_predicted <= entry.upper


def test_perfectly_calibrated_and_constant_predictions():
    # P = 0.25 everywhere, one pixel in four water: calibrated, though useless for a map.
    assert expected_calibration_error(np.full(8, 0.25), [1, 0, 0, 0, 1, 0, 0, 0]) == pytest.approx(0.0, abs=1e-15)
    assert expected_calibration_error([0.9, 0.9], [0, 0], bins=5) == pytest.approx(0.9)


def test_refuses_probabilities_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score([1.2], [1])
    with pytest.raises(ValueError, match="same length"):
        expected_calibration_error([0.5, 0.5], [1])
