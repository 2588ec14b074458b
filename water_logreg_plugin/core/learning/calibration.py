"""How far P(water) can be taken at its word: Brier score, calibration error, reliability curve.

A map whose pixels at P = 0.8 are water four times in five is calibrated; accuracy alone
cannot tell, because it only looks at which side of 0.5 a probability falls.
"""

from dataclasses import dataclass

import numpy as np

CALIBRATION_BINS = 10
"""Equal-width bins of P(water) for the reliability curve and the ECE of the report and outputs."""


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width bin of predicted P(water); mean_predicted and observed are NaN when empty."""

    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed: float  # fraction of the bin's pixels that are water

    @property
    def empty(self):
        return self.count == 0


def brier_score(probability, labels):
    """Mean squared difference between P(water) and the 0/1 label."""
    probability, labels = _checked(probability, labels)
    return float(np.mean((probability - labels) ** 2))


def reliability_curve(probability, labels, bins=10):
    """Per equal-width bin of [0, 1]: its bounds, pixel count, mean P and observed water fraction.

    Each bin holds [lower, upper); the last one also holds 1.
    """
    probability, labels = _checked(probability, labels)
    if bins < 1:
        raise ValueError("The reliability curve needs at least one bin.")
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Against the edges themselves, so a pixel always lies within its bin's stated bounds.
    index = np.minimum(np.searchsorted(edges, probability, side="right") - 1, bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted_sums = np.bincount(index, weights=probability, minlength=bins)
    water_sums = np.bincount(index, weights=labels, minlength=bins)
    curve = []
    for number in range(bins):
        count = int(counts[number])
        curve.append(ReliabilityBin(
            lower=float(edges[number]),
            upper=float(edges[number + 1]),
            count=count,
            mean_predicted=predicted_sums[number] / count if count else float("nan"),
            observed=water_sums[number] / count if count else float("nan"),
        ))
    return curve


def expected_calibration_error(probability, labels, bins=10):
    """Σ over bins of (bin count / pixels) · |mean P − observed water fraction|; empty bins add 0."""
    curve = reliability_curve(probability, labels, bins)
    total = sum(entry.count for entry in curve)
    return float(sum(
        entry.count / total * abs(entry.mean_predicted - entry.observed) for entry in curve if not entry.empty
    ))


def _checked(probability, labels):
    probability = np.asarray(probability, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    if len(probability) != len(labels) or not len(labels):
        raise ValueError("Probabilities and labels must be non-empty and of the same length.")
    if np.any((probability < 0) | (probability > 1)) or np.any(np.isnan(probability)):
        raise ValueError("Probabilities must lie in [0, 1].")
    return probability, labels
