"""Accuracy figures of a water map against reference labels."""

import math

import numpy as np

FIGURES = (
    "overall_accuracy", "precision", "recall", "f1", "iou", "kappa", "log_loss",
    "true_water", "false_water", "false_land", "true_land", "pixels",
)


def log_loss(probability, labels):
    """Mean binary cross-entropy, with probabilities clipped as scikit-learn does."""
    probability = np.clip(np.asarray(probability, dtype=np.float64), 1e-15, 1 - 1e-15)
    labels = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(labels * np.log(probability) + (1 - labels) * np.log1p(-probability)))


def accuracy_figures(probability, labels, threshold=0.5):
    """Overall accuracy, precision/recall/F1/IoU of water, Cohen's kappa, log-loss, confusion.

    Ratios with an empty denominator are NaN (e.g. precision when nothing is called water).
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
        "true_water": true_water,
        "false_water": false_water,
        "false_land": false_land,
        "true_land": true_land,
        "pixels": total,
    }


def format_figures(figures, title):
    """The figures as log lines a person reads."""
    return "\n".join([
        f"{title}: {figures['pixels']} pixels",
        f"  overall accuracy {figures['overall_accuracy']:.4f}, kappa {figures['kappa']:.4f}, "
        f"log-loss {figures['log_loss']:.4f}",
        f"  water: precision {figures['precision']:.4f}, recall {figures['recall']:.4f}, "
        f"F1 {figures['f1']:.4f}, IoU {figures['iou']:.4f}",
        "  confusion (rows reference, columns predicted):",
        "               water      land",
        f"    water  {figures['true_water']:>9} {figures['false_land']:>9}",
        f"    land   {figures['false_water']:>9} {figures['true_land']:>9}",
    ])
