"""Training polygons checked: a wrong class is suspect, a right one is not, nodata is said."""

import numpy as np
import pytest
from osgeo import ogr
from support.report_html import read_report
from support.synthetic import pixel_box, standard_polygons, water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning.polygon_check import (
    IGNORED,
    LOGGED_POLYGONS,
    NO_VALID_PIXEL,
    OK,
    SUSPECT,
    PolygonCheck,
    check_training_polygons,
    polygon_check_lines,
    verdict_counts,
)
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels
from water_logreg_plugin.core.workflow import classify_water, train_water_model

WRONG, IN_NODATA, OUTSIDE, UNCLASSED = 20, 21, 22, 23


def training_polygons(rows, cols):
    """The eight standard boxes (ids 0–7), a land box drawn on water, one in a band's nodata and
    one outside the raster."""
    polygons = [TrainingPolygon(number, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), value == "water", value)
                for number, (wkt, value) in enumerate(standard_polygons(rows, cols))]
    extra = [(WRONG, pixel_box(cols - 30, 60, cols - 18, 72), False, "grass"),
             (IN_NODATA, pixel_box(2, rows - 18, 22, rows - 4), False, "land"),
             (OUTSIDE, pixel_box(cols + 50, 10, cols + 70, 30), True, "water")]
    polygons += [TrainingPolygon(number, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), is_water, value)
                 for number, wkt, is_water, value in extra]
    return polygons


def scene_with_nodata_corner(tmp_path, seed=0, separable=True, rows=200, cols=240):
    bands, _ = water_scene(rows, cols, seed=seed, separable=separable)
    bands[2, rows - 20:, :30] = 0  # the near-infrared band alone is nodata in the bottom-left corner
    return write_raster(tmp_path / "scene.tif", bands)


def checked(tmp_path, seed=0, separable=True):
    rows, cols = 200, 240
    raster = scene_with_nodata_corner(tmp_path, seed, separable, rows, cols)
    polygons = training_polygons(rows, cols)
    samples = sample_pixels(raster, [1, 2, 3], polygons, 0, seed)
    training = train_water_model(samples)
    probability = training.model.predict_probability(samples.values)
    held_out = np.unique(samples.polygon_ids[training.validation_mask])
    checks = check_training_polygons(polygons, samples.polygon_ids, probability, 0.5, samples.polygon_pixels,
                                     held_out, ignored_ids=[UNCLASSED])
    return {check.source_fid: check for check in checks}, held_out, samples


@pytest.mark.parametrize(("seed", "separable"), [(0, True), (1, False), (2, False)])
def test_a_polygon_of_the_wrong_class_is_suspect_and_the_right_ones_are_not(tmp_path, seed, separable):
    checks, held_out, _ = checked(tmp_path, seed, separable)

    assert checks[WRONG].verdict == SUSPECT
    assert checks[WRONG].agreement < 0.2
    assert checks[WRONG].mean_p_water > 0.8
    assert type(checks[WRONG].mean_p_water) is float and type(checks[WRONG].agreement) is float  # not numpy's
    assert (checks[WRONG].role, checks[WRONG].class_value) == ("land", "grass")
    for number in range(8):
        assert checks[number].verdict == OK
        assert checks[number].agreement > 0.8
        assert checks[number].valid_pixels == 600  # 20 × 30 pixel centres
        assert checks[number].held_out == (number in held_out)
    assert len(held_out) >= 2  # the check covers held-out polygons, judged by the model that did not see them


def test_a_polygon_in_nodata_or_outside_is_reported_not_dropped(tmp_path):
    checks, _, samples = checked(tmp_path)

    assert samples.empty_reasons == {IN_NODATA: "all its pixels are nodata", OUTSIDE: "it lies outside the raster"}
    for number in (IN_NODATA, OUTSIDE):
        assert checks[number].verdict == NO_VALID_PIXEL
        assert (checks[number].valid_pixels, checks[number].mean_p_water, checks[number].agreement) == (0, None, None)
    assert checks[UNCLASSED].verdict == IGNORED
    assert (checks[UNCLASSED].role, checks[UNCLASSED].class_value, checks[UNCLASSED].valid_pixels) == (
        "ignored", None, None)
    assert list(checks) == [*range(8), WRONG, IN_NODATA, OUTSIDE, UNCLASSED]
    assert verdict_counts(checks.values()) == {OK: 8, SUSPECT: 1, NO_VALID_PIXEL: 2, IGNORED: 1}


def test_one_log_line_for_each_suspect_or_empty_polygon_by_id_and_class(tmp_path):
    checks, _, samples = checked(tmp_path)

    lines = polygon_check_lines(checks.values(), 0.5, {OUTSIDE: samples.empty_reasons[OUTSIDE]})

    assert len(lines) == 3
    assert lines[0].startswith(f"Polygon {WRONG} (land, class 'grass')")
    assert "looks like water" in lines[0] and "P(water) < 0.5" in lines[0]
    assert lines[1] == (f"Polygon {IN_NODATA} (land) yields no valid pixel: it lies outside the raster or in "
                        "nodata in some band.")
    assert lines[2] == f"Polygon {OUTSIDE} (water) yields no valid pixel: it lies outside the raster."


def test_agreement_counts_each_class_on_its_own_side_of_the_threshold():
    polygons = [TrainingPolygon(1, b"", True), TrainingPolygon(2, b"", False), TrainingPolygon(3, b"", True)]
    polygon_ids = np.array([1, 1, 1, 1, 2, 2, 2, 3, 3])
    probability = np.array([0.9, 0.5, 0.2, 0.1, 0.5, 0.4, 0.3, 0.5, 0.49])

    checks = check_training_polygons(polygons, polygon_ids, probability, threshold=0.5)

    # Water: P ≥ 0.5 agrees (2 of 4, not most on the other side: ok); land: P < 0.5 (2 of 3).
    assert [check.agreement for check in checks] == [0.5, pytest.approx(2 / 3), 0.5]
    assert [check.verdict for check in checks] == [OK, OK, OK]
    assert checks[0].mean_p_water == pytest.approx(0.425)
    assert [check.valid_pixels for check in checks] == [4, 3, 2]  # the sampled pixels stand in
    checks = check_training_polygons(polygons, polygon_ids, probability, threshold=0.6)
    assert [check.verdict for check in checks] == [SUSPECT, OK, SUSPECT]


def test_the_log_and_the_report_name_each_suspect_or_empty_polygon_once(tmp_path):
    lines = []
    result = classify_water(
        scene_with_nodata_corner(tmp_path), [1, 2, 3], training_polygons(200, 240), str(tmp_path / "water.tif"),
        callbacks=Callbacks(log=lines.append), report_path=str(tmp_path / "report.html"), unclassed_ids=[UNCLASSED],
    )

    assert ("Training polygons checked against the fitted model: 8 ok, 1 suspect, 2 with no valid pixel, "
            "1 ignored (no class).") in lines
    checked_lines = [line for line in lines if " looks like " in line or " yields no valid pixel" in line]
    assert len(checked_lines) == 3
    assert checked_lines[0].startswith(f"Polygon {WRONG} (land, class 'grass') looks like water: only ")
    assert checked_lines[1] == f"Polygon {IN_NODATA} (land) yields no valid pixel: all its pixels are nodata."
    assert checked_lines[2] == f"Polygon {OUTSIDE} (water) yields no valid pixel: it lies outside the raster."
    assert not any(line.startswith(f"Polygon {number} ") for line in lines for number in (*range(8), UNCLASSED))

    report = read_report(tmp_path / "report.html")
    assert {key: value for key, value in report.counts.items() if key.startswith("polygons_")} == {
        "polygons_ok": 8, "polygons_suspect": 1, "polygons_no_valid_pixel": 2, "polygons_ignored": 1}
    by_id = {check.source_fid: check for check in result.polygon_checks}
    assert list(report.polygons) == [WRONG, IN_NODATA, OUTSIDE]
    assert report.polygons[WRONG] == {"class": "grass", "verdict": "suspect",
                                      "agreement": repr(by_id[WRONG].agreement), "valid_pixels": "144"}
    assert float(report.polygons[WRONG]["agreement"]) < 0.2
    assert report.polygons[IN_NODATA] == {"class": "land", "verdict": "no valid pixel", "agreement": "",
                                          "valid_pixels": "0"}
    assert report.polygons[OUTSIDE] == {"class": "water", "verdict": "no valid pixel", "agreement": "",
                                        "valid_pixels": "0"}
    assert "Training polygons checked" in report.text


def test_the_log_lists_the_first_polygons_to_look_at_then_counts_the_rest():
    checks = [PolygonCheck(number, "land", "land", 0, 0, None, None, False, NO_VALID_PIXEL) for number in range(30)]
    checks += [PolygonCheck(100 + number, "water", "water", 50, 50, 0.1, 0.04, False, SUSPECT) for number in range(5)]
    checks.append(PolygonCheck(200, "water", "water", 50, 50, 0.9, 0.96, False, OK))

    lines = polygon_check_lines(checks)

    assert LOGGED_POLYGONS == 20 and len(lines) == LOGGED_POLYGONS + 1
    assert [line.split(" (")[0] for line in lines[:-1]] == [f"Polygon {number}" for number in range(20)]
    assert lines[-1] == ("… and 15 more polygons to look at (5 suspect, 10 with no valid pixel), not listed here; "
                         "the polygon check output (OUTPUT_POLYGON_CHECK) lists every polygon with its verdict.")
    assert len(polygon_check_lines(checks, listed=40)) == 35
