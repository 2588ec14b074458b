"""Accuracy and calibration figures of a water map against reference labels."""

import math
from dataclasses import dataclass

import numpy as np

from .calibration import CALIBRATION_BINS, brier_score, expected_calibration_error


@dataclass(frozen=True)
class Figure:
    key: str  # accuracy_figures()'s key, the report's data-figure
    label: str  # what the report's table and the Processing output call it
    output: str  # the Processing output's name (a contract: scripts and models read it)
    short: str  # the log's name
    confusion: bool = False  # a cell of the confusion matrix rather than a row of the figures table


# The one list of the accuracy figures; the report, the algorithms' outputs and the log read it.
FIGURE_TABLE = (
    Figure("overall_accuracy", "Overall accuracy", "OVERALL_ACCURACY", "overall accuracy"),
    Figure("precision", "Precision of water", "PRECISION", "precision"),
    Figure("recall", "Recall of water", "RECALL", "recall"),
    Figure("f1", "F1 of water", "F1", "F1"),
    Figure("iou", "IoU of water", "IOU", "IoU"),
    Figure("kappa", "Cohen's kappa", "KAPPA", "kappa"),
    Figure("log_loss", "Log-loss", "LOG_LOSS", "log-loss"),
    Figure("brier", "Brier score", "BRIER", "Brier"),
    Figure("ece", f"Expected calibration error ({CALIBRATION_BINS} bins)", "ECE", "ECE"),
    Figure("true_water", "Water pixels called water", "TRUE_WATER", "water called water", confusion=True),
    Figure("false_water", "Land pixels called water", "FALSE_WATER", "land called water", confusion=True),
    Figure("false_land", "Water pixels called land", "FALSE_LAND", "water called land", confusion=True),
    Figure("true_land", "Land pixels called land", "TRUE_LAND", "land called land", confusion=True),
    Figure("pixels", "Pixels assessed", "ASSESSED_PIXELS", "pixels"),
)
FIGURES = tuple(figure.key for figure in FIGURE_TABLE)
_SHORT = {figure.key: figure.short for figure in FIGURE_TABLE}


def log_loss(probability, labels):
    """Mean binary cross-entropy, with probabilities clipped as scikit-learn does."""
    probability = np.clip(np.asarray(probability, dtype=np.float64), 1e-15, 1 - 1e-15)
    labels = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(labels * np.log(probability) + (1 - labels) * np.log1p(-probability)))


def accuracy_figures(probability, labels, threshold=0.5):
    """Overall accuracy, precision/recall/F1/IoU of water, Cohen's kappa, log-loss, Brier score,
    expected calibration error (CALIBRATION_BINS bins), confusion.

    Ratios with an empty denominator are NaN (e.g. precision when nothing is called water), and so
    are the Brier score and ECE of values that are not all probabilities (a raster of 0–255, say).
    """
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(probability) >= threshold
    true_water = int(np.count_nonzero(predicted & labels))
    false_water = int(np.count_nonzero(predicted & ~labels))
    false_land = int(np.count_nonzero(~predicted & labels))
    true_land = int(np.count_nonzero(~predicted & ~labels))
    total = true_water + false_water + false_land + true_land

    def ratio(numerator, denominator):
        return numerator / denominator if denominator else math.nan

    precision = ratio(true_water, true_water + false_water)
    recall = ratio(true_water, true_water + false_land)
    observed = ratio(true_water + true_land, total)
    expected = ratio(
        (true_water + false_water) * (true_water + false_land)
        + (false_land + true_land) * (false_water + true_land),
        total * total,
    )
    return {
        "overall_accuracy": observed,
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * true_water, 2 * true_water + false_water + false_land),
        "iou": ratio(true_water, true_water + false_water + false_land),
        "kappa": ratio(observed - expected, 1 - expected) if expected != 1 else math.nan,
        "log_loss": log_loss(probability, labels) if total else math.nan,
        **_calibration(probability, labels),
        "true_water": true_water,
        "false_water": false_water,
        "false_land": false_land,
        "true_land": true_land,
        "pixels": total,
    }


def _calibration(probability, labels):
    probability = np.asarray(probability, dtype=np.float64)
    if not len(probability) or not np.all((probability >= 0) & (probability <= 1)):
        return {"brier": math.nan, "ece": math.nan}
    return {"brier": brier_score(probability, labels),
            "ece": expected_calibration_error(probability, labels, CALIBRATION_BINS)}


def format_figures(figures, title):
    """The figures as log lines a person reads."""

    def ratios(*keys):
        return ", ".join(f"{_SHORT[key]} {figures[key]:.4f}" for key in keys)

    return "\n".join([
        f"{title}: {figures['pixels']} {_SHORT['pixels']}",
        f"  {ratios('overall_accuracy', 'kappa', 'log_loss')}",
        f"  water: {ratios('precision', 'recall', 'f1', 'iou')}",
        f"  calibration: {ratios('brier', 'ece')} ({CALIBRATION_BINS} bins)",
        "  confusion (rows reference, columns predicted):",
        "               water      land",
        f"    water  {figures['true_water']:>9} {figures['false_land']:>9}",
        f"    land   {figures['false_water']:>9} {figures['true_land']:>9}",
    ])
