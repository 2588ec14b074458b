"""Sampling: pixel centres inside polygons, nodata skipped, overlaps, caps, seeds."""

import numpy as np
import pytest
from osgeo import ogr
from support.synthetic import ORIGIN, PIXEL, pixel_box, water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels


def polygon(polygon_id, wkt, is_water):
    return TrainingPolygon(polygon_id, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), is_water)


@pytest.fixture
def scene(tmp_path):
    bands, truth = water_scene(rows=60, cols=80)
    bands[:, 0, :] = 0  # a nodata row
    return write_raster(tmp_path / "scene.tif", bands), bands


def test_every_pixel_centre_inside_is_sampled_once(scene):
    path, bands = scene
    # A box from pixel edge (10, 5) to (20, 15) holds exactly 10 × 10 pixel centres.
    samples = sample_pixels(path, [], [polygon(1, pixel_box(10, 5, 20, 15), False),
                                       polygon(2, pixel_box(50, 5, 60, 15), True)], 0)
    assert samples.land_count == 100 and samples.water_count == 100
    land = samples.labels == 0
    np.testing.assert_array_equal(np.sort(samples.values[land, 0]), np.sort(bands[0, 5:15, 10:20].ravel()))
    # Pixel centres lie half a pixel inside the box.
    assert samples.x[land].min() == ORIGIN[0] + 10.5 * PIXEL
    assert samples.y[land].max() == ORIGIN[1] - 5.5 * PIXEL


def test_nodata_pixels_are_skipped(scene):
    path, _ = scene
    samples = sample_pixels(path, [], [polygon(1, pixel_box(10, 0, 20, 10), False),
                                       polygon(2, pixel_box(50, 0, 60, 10), True)], 0)
    assert samples.land_count == 90  # the first row is nodata
    assert not (samples.values == 0).any()


def test_multipart_and_overlapping_polygons(scene):
    path, _ = scene
    multipart = ogr.CreateGeometryFromWkt("MULTIPOLYGON EMPTY")
    for box in (pixel_box(45, 5, 50, 10), pixel_box(60, 5, 65, 10)):
        multipart.AddGeometry(ogr.CreateGeometryFromWkt(box))
    messages = []
    samples = sample_pixels(path, [], [
        TrainingPolygon(1, multipart.ExportToWkb(), True),
        polygon(2, pixel_box(62, 5, 70, 10), True),   # overlaps part two by 3 × 5 pixels
        polygon(3, pixel_box(10, 5, 20, 10), False),
        polygon(4, pixel_box(18, 5, 25, 10), True),   # water over land: 2 × 5 ambiguous pixels
    ], 0, callbacks=Callbacks(log=messages.append))
    # 25 + 25 + 40 - 15 shared water pixels, each once; the ambiguous 10 are dropped.
    assert samples.water_count == (25 + 25 + 40 - 15) + (35 - 10)
    assert samples.land_count == 50 - 10
    pixel_keys = set(zip(samples.x.tolist(), samples.y.tolist()))
    assert len(pixel_keys) == len(samples.labels)
    assert any("inside both a water and a land polygon" in message for message in messages)


def test_polygons_without_pixels_are_reported(scene):
    path, _ = scene
    messages = []
    corners = [(101, 101), (102, 101), (102, 102), (101, 102), (101, 101)]
    tiny = "POLYGON ((" + ", ".join(f"{ORIGIN[0] + x} {ORIGIN[1] - y}" for x, y in corners) + "))"
    sample_pixels(path, [], [
        polygon(1, pixel_box(10, 5, 20, 15), False), polygon(2, pixel_box(50, 5, 60, 15), True),
        polygon(7, pixel_box(500, 5, 510, 15), True), polygon(8, tiny, False),
    ], 0, callbacks=Callbacks(log=messages.append))
    assert "Polygon 7 (water) yields no pixel: it lies outside the raster." in messages
    assert any(message.startswith("Polygon 8 (land) yields no pixel: it is smaller than a pixel")
               for message in messages)


def test_every_polygon_s_valid_pixels_are_counted_before_the_draw(scene):
    path, _ = scene
    # Row 0 is nodata: polygon 3 covers rows 0–9, so 10 of its 100 pixels are not valid.
    samples = sample_pixels(path, [], [
        polygon(1, pixel_box(10, 5, 20, 15), False), polygon(2, pixel_box(15, 5, 25, 15), False),
        polygon(3, pixel_box(50, 0, 60, 10), True), polygon(7, pixel_box(500, 5, 510, 15), True),
    ], 30)

    # Polygon 2 overlaps half of polygon 1: the shared pixels count for polygon 1, as they are drawn.
    assert samples.polygon_pixels == {1: 100, 2: 50, 3: 90, 7: 0}
    assert samples.empty_reasons == {7: "it lies outside the raster"}
    assert len(samples.labels) == 60  # the cap of 30 a class


def test_cap_per_class_is_seeded(scene):
    path, _ = scene
    polygons = [polygon(1, pixel_box(0, 1, 40, 60), False), polygon(2, pixel_box(40, 1, 80, 60), True)]
    first = sample_pixels(path, [1, 3], polygons, 100, seed=3)
    again = sample_pixels(path, [1, 3], polygons, 100, seed=3)
    other = sample_pixels(path, [1, 3], polygons, 100, seed=4)
    assert first.water_count == first.land_count == 100
    assert first.values.shape == (200, 2) and first.bands == [1, 3]
    np.testing.assert_array_equal(first.values, again.values)
    assert not np.array_equal(first.values, other.values)


def test_missing_class_is_refused(scene):
    path, _ = scene
    with pytest.raises(WaterLogRegError, match="no land pixels"):
        sample_pixels(path, [], [polygon(2, pixel_box(50, 5, 60, 15), True)], 0)


def test_float_raster_with_nan_nodata_and_infinities(tmp_path):
    bands, _ = water_scene(rows=40, cols=40)
    values = bands.astype(np.float32)
    values[0, 5, :] = np.nan
    values[1, 6, :] = np.inf
    values[2, 7, :] = -np.inf
    path = write_raster(tmp_path / "float.tif", values, nodata=float("nan"), data_type=6)
    samples = sample_pixels(path, [], [polygon(1, pixel_box(0, 0, 20, 10), False),
                                       polygon(2, pixel_box(20, 0, 40, 10), True)], 0)
    assert np.isfinite(samples.values).all()
    assert samples.land_count == 20 * 10 - 3 * 20


def test_the_draw_does_not_depend_on_windows_or_polygon_order(scene, monkeypatch):
    from water_logreg_plugin.core.learning import sampling

    path, _ = scene
    polygons = [polygon(1, pixel_box(0, 1, 40, 60), False), polygon(2, pixel_box(40, 1, 80, 60), True),
                polygon(3, pixel_box(30, 1, 50, 30), False)]
    whole = sample_pixels(path, [], polygons, 150, seed=5)
    monkeypatch.setattr(sampling, "SAMPLING_WINDOW_PIXELS", 64)  # rows of a polygon's window, a few at a time
    windowed = sample_pixels(path, [], polygons[::-1], 150, seed=5)
    assert whole.water_count == whole.land_count == 150
    for field in ("values", "labels", "x", "y"):
        np.testing.assert_array_equal(getattr(whole, field), getattr(windowed, field))
