"""The report's calibration section: the reliability curve of the held-out pixels and its table.

A pixel given P(water) = 0.8 should be water four times in five. The curve plots, per bin of
predicted P, the bin's mean P against the fraction of its pixels that are water; a calibrated
model lies on the diagonal. The Brier score and the expected calibration error (ECE) sit in the
figures table above it (metrics.FIGURE_TABLE).
"""

import numpy as np

from ..learning.calibration import CALIBRATION_BINS, reliability_curve
from . import figures as plots


def reliability_diagram(curve):
    """Observed water fraction against mean predicted P per non-empty bin, over the diagonal.

    The line labelled "observed" holds exactly the plotted (mean P, observed fraction) points; the
    grey bars (right axis) give each bin's share of the pixels.
    """
    figure, axes = plots.new_figure(4.8, 4.2)
    filled = [entry for entry in curve if not entry.empty]
    axes.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect calibration")
    axes.plot([entry.mean_predicted for entry in filled], [entry.observed for entry in filled],
              color=plots.WATER_COLOUR, marker="o", label="observed")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean predicted P(water) in the bin")
    axes.set_ylabel("fraction of the bin's pixels that are water")
    shares = axes.twinx()
    total = sum(entry.count for entry in curve)
    shares.bar([(entry.lower + entry.upper) / 2 for entry in curve], [entry.count / total for entry in curve],
               width=[entry.upper - entry.lower for entry in curve], color="#cccccc", alpha=0.5)
    shares.set_ylim(0, 1)
    shares.set_ylabel("share of the pixels (bars)")
    axes.set_zorder(shares.get_zorder() + 1)
    axes.patch.set_visible(False)
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def calibration_curve(probability, labels):
    """The report's reliability curve: CALIBRATION_BINS equal-width bins, or None for values that
    are not all probabilities (an assessed raster of 0–255, say)."""
    probability = np.asarray(probability, dtype=np.float64)
    if not len(probability) or not np.all((probability >= 0) & (probability <= 1)):
        return None
    return reliability_curve(probability, labels, CALIBRATION_BINS)
