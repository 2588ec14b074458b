"""Hold out whole polygons for validation, stratified by class and seeded.

Neighbouring pixels of one polygon are nearly copies of each other; splitting pixels at
random would put copies on both sides and report an accuracy the map never reaches.
"""

import numpy as np

from .sampling import LAND, WATER


def split_by_polygon(labels, polygon_ids, validation_fraction, seed=0):
    """(training mask, validation mask, message or None) over the samples.

    For each class, round(fraction × its polygon count) polygons, at least one, are held
    out, as long as at least one polygon of that class stays for training. With fewer than
    two polygons of a class nothing is held out, and the message says so.
    """
    everything = np.ones(len(labels), dtype=bool)
    if not validation_fraction or validation_fraction <= 0:
        return everything, ~everything, None
    rng = np.random.default_rng(seed)
    held_out = []
    for label, name in ((WATER, "water"), (LAND, "land")):
        class_polygons = np.unique(polygon_ids[labels == label])
        if len(class_polygons) < 2:
            return everything, ~everything, (
                f"Only {len(class_polygons)} {name} polygon yields pixels, so no polygon can be "
                "held out for validation; the figures below are on the training pixels and "
                "overstate the accuracy. Draw more polygons of each class to get held-out figures."
            )
        count = min(len(class_polygons) - 1, max(1, round(validation_fraction * len(class_polygons))))
        held_out.extend(rng.choice(class_polygons, count, replace=False).tolist())
    validation = np.isin(polygon_ids, held_out)
    return ~validation, validation, None
