"""Sampling all polygons in one rasterization a tile gives what sampling them one by one gave:
a pixel once, for the first polygon of its class that holds it; polygons across tile edges; a
polygon hidden by earlier ones still counted as sampled. The time for 100,000 polygons is a
bench row (benchmarks/bench_polygons.py), not asserted here."""

import numpy as np
import pytest
from osgeo import ogr
from support.synthetic import pixel_box, water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning import sampling
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels


def polygon(polygon_id, wkt, is_water):
    return TrainingPolygon(polygon_id, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), is_water)


@pytest.fixture
def scene(tmp_path):
    return write_raster(tmp_path / "scene.tif", water_scene(rows=60, cols=80)[0])


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 7 × 5 pixels, so polygons cross tile edges (7 columns, 5 rows of a 1-row-block file)."""
    monkeypatch.setattr(sampling, "TILE_COLUMNS", 7)
    monkeypatch.setattr(sampling, "TILE_PIXELS", 35)


def sampled(path, polygons):
    lines = []
    samples = sample_pixels(path, [1], polygons, 0, callbacks=Callbacks(log=lines.append))
    pixels = dict(zip(zip(samples.x.tolist(), samples.y.tolist()), samples.polygon_ids.tolist()))
    assert len(pixels) == len(samples.labels), "a pixel sampled twice"
    return samples, pixels, lines


def test_one_pixel_polygons_on_many_tiles_each_give_their_pixel(scene, small_tiles):
    rng = np.random.default_rng(3)
    cells = rng.choice(60 * 80, 500, replace=False)
    polygons = [polygon(number + 1, pixel_box(cell % 80, cell // 80, cell % 80 + 1, cell // 80 + 1), number % 2 == 0)
                for number, cell in enumerate(cells.tolist())]
    samples, pixels, lines = sampled(scene, polygons)
    assert len(pixels) == 500 and sorted(pixels.values()) == list(range(1, 501))
    assert lines[-1] == "Sampled 250 water and 250 land pixels from 500 polygons over bands 1."


def test_a_pixel_goes_to_the_first_polygon_of_its_class_across_tiles(scene, small_tiles):
    _, pixels, _ = sampled(scene, [
        polygon(7, pixel_box(3, 2, 30, 20), True),
        polygon(8, pixel_box(20, 10, 40, 30), True),  # overlaps 7 on 10 × 10 pixels
        polygon(9, pixel_box(50, 10, 60, 20), False),
    ])
    ids = list(pixels.values())
    assert (ids.count(7), ids.count(8), ids.count(9)) == (27 * 18, 20 * 20 - 10 * 10, 100)


@pytest.mark.parametrize("copies", [2, 5])
def test_polygons_hidden_by_earlier_ones_are_sampled_not_empty(scene, small_tiles, copies):
    """Duplicated polygons (a layer pasted twice): their pixels go to the first, and none is
    reported as yielding no pixel, as when each was sampled on its own."""
    water = [polygon(number, pixel_box(40, 10, 52, 22), True) for number in range(1, copies + 1)]
    samples, pixels, lines = sampled(scene, water + [polygon(99, pixel_box(5, 5, 15, 15), False)])
    assert set(pixels.values()) == {1, 99}
    assert not [line for line in lines if "yield" in line]
    assert lines[-1] == f"Sampled 144 water and 100 land pixels from {copies + 1} polygons over bands 1."
