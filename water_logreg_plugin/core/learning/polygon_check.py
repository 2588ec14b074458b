"""Training polygons checked against the model fitted on them: one verdict a polygon.

Users make mistakes when they draw: a polygon given the wrong class, a "water" polygon that is
mostly shore, a polygon lying in nodata. A polygon whose pixels the fitted model mostly puts on
the other side of the threshold is `suspect`; one that yields no valid pixel is said so, never
dropped in silence; one without a class is `ignored`. A held-out polygon is judged by the
model that did not see it (the fit leaves held-out polygons out, so that is the fitted model).
"""

from dataclasses import dataclass

import numpy as np

OK, SUSPECT, NO_VALID_PIXEL, IGNORED = "ok", "suspect", "no valid pixel", "ignored"
WATER_ROLE, LAND_ROLE, IGNORED_ROLE = "water", "land", "ignored"
# A layer of thousands of polygons drawn off the raster would bury the log; past these, a count.
LOGGED_POLYGONS = 20


@dataclass(frozen=True)
class PolygonCheck:
    """One input polygon: what it was drawn as and what the model makes of its pixels.

    valid_pixels: its pixels valid in every band (None for an ignored polygon, which is not read);
    mean_p_water and agreement are over its sampled pixels (None where it has none); agreement
    is the share of them on its own class's side of the threshold.
    """

    source_fid: int
    class_value: object
    role: str
    valid_pixels: object
    sampled_pixels: int
    mean_p_water: object
    agreement: object
    held_out: bool
    verdict: str


def check_training_polygons(polygons, polygon_ids, probability, threshold=0.5, valid_pixels=None,
                            held_out_ids=(), ignored_ids=()):
    """A PolygonCheck for each polygon and each ignored feature id, in the input's order.

    polygons: the TrainingPolygon list given to sampling; polygon_ids and probability: each
    sampled pixel's polygon and P(water) from the fitted model (under the training share);
    valid_pixels: {polygon id: valid pixels} as sampling counted them (Samples.polygon_pixels),
    every polygon included (without it, the sampled pixels stand in for them); held_out_ids:
    the polygons held out of the fit; ignored_ids: features with no class (NULL or blank),
    listed last. A polygon's class is its class_value, else 'water' or 'land'.
    """
    polygon_ids = np.asarray(polygon_ids)
    probability = np.asarray(probability, dtype=np.float64)
    ids, inverse = np.unique(polygon_ids, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(ids))
    sums = np.bincount(inverse, weights=probability, minlength=len(ids))
    water_side = np.bincount(inverse, weights=probability >= threshold, minlength=len(ids))
    per_polygon = {int(polygon_id): (int(count), total, above)
                   for polygon_id, count, total, above in zip(ids, counts, sums, water_side)}
    held_out_ids = {int(polygon_id) for polygon_id in held_out_ids}
    checks = []
    for polygon in polygons:
        sampled, total, above = per_polygon.get(polygon.polygon_id, (0, 0.0, 0.0))
        role = WATER_ROLE if polygon.is_water else LAND_ROLE
        valid = sampled if valid_pixels is None else int(valid_pixels.get(polygon.polygon_id, 0))
        mean = agreement = None
        if sampled:  # Python floats: a numpy float reaches a QGIS attribute as an object no file takes
            mean = float(total / sampled)
            agreement = float((above if polygon.is_water else sampled - above) / sampled)
        checks.append(PolygonCheck(
            polygon.polygon_id, polygon.class_value or role, role, valid, sampled, mean, agreement,
            polygon.polygon_id in held_out_ids, _verdict(valid, agreement),
        ))
    checks.extend(PolygonCheck(int(feature_id), None, IGNORED_ROLE, None, 0, None, None, False, IGNORED)
                  for feature_id in ignored_ids)
    return checks


def _verdict(valid_pixels, agreement):
    if not valid_pixels:
        return NO_VALID_PIXEL
    # "Most of its pixels on the other side": fewer than half on its own side.
    if agreement is not None and agreement < 0.5:
        return SUSPECT
    return OK


def flagged(checks):
    """The checks a user should look at: the suspect polygons and those with no valid pixel."""
    return [check for check in checks if check.verdict in (SUSPECT, NO_VALID_PIXEL)]


def polygon_check_lines(checks, threshold=0.5, empty_reasons=None, listed=LOGGED_POLYGONS):
    """One log line for each suspect polygon and each polygon with no valid pixel, naming its
    feature id and class, the first `listed` of them, then one line counting the rest;
    empty_reasons: {polygon id: why it yields no pixel} from sampling."""
    empty_reasons = empty_reasons or {}
    to_look_at = flagged(checks)
    lines = []
    for check in to_look_at[:listed]:
        name = f"Polygon {check.source_fid} ({_class_words(check)})"
        if check.verdict == SUSPECT:
            other = LAND_ROLE if check.role == WATER_ROLE else WATER_ROLE
            held_out = ", held out of the fit," if check.held_out else ""
            lines.append(
                f"{name}{held_out} looks like {other}: only {100 * check.agreement:.0f} % of its "
                f"{check.sampled_pixels} sampled pixels are {check.role} to the model (P(water) "
                f"{'≥' if check.role == WATER_ROLE else '<'} {threshold:g}; mean P(water) {check.mean_p_water:.2f}). "
                "Check its class and its outline."
            )
        else:
            reason = empty_reasons.get(check.source_fid, "it lies outside the raster or in nodata in some band")
            lines.append(f"{name} yields no valid pixel: {reason}.")
    unlisted = to_look_at[listed:]
    if unlisted:
        counts = verdict_counts(unlisted)
        lines.append(
            f"… and {len(unlisted)} more polygons to look at ({counts[SUSPECT]} suspect, "
            f"{counts[NO_VALID_PIXEL]} with no valid pixel), not listed here; the polygon "
            "check output (OUTPUT_POLYGON_CHECK) lists every polygon with its verdict."
        )
    return lines


def polygon_check_summary(checks):
    """One line of how many polygons got each verdict."""
    counts = verdict_counts(checks)
    return (f"Training polygons checked against the fitted model: {counts[OK]} ok, {counts[SUSPECT]} suspect, "
            f"{counts[NO_VALID_PIXEL]} with no valid pixel, {counts[IGNORED]} ignored (no class).")


def _class_words(check):
    """'water' or "land, class 'grass'": the role, and the field's value where it says more."""
    if check.class_value is None or str(check.class_value) == check.role:
        return check.role
    return f"{check.role}, class '{check.class_value}'"


def verdict_counts(checks):
    """{verdict: polygons}, every verdict present, for the report and the log's summary."""
    counts = dict.fromkeys((OK, SUSPECT, NO_VALID_PIXEL, IGNORED), 0)
    for check in checks:
        counts[check.verdict] += 1
    return counts
