"""Prediction windows follow the file's layout and stay within the target, whatever the strips."""

import numpy as np
import pytest
from synthetic import read, water_scene, write_raster

from water_logreg_plugin.core.model import WaterModel
from water_logreg_plugin.core.predict import predict_water
from water_logreg_plugin.core.raster import open_raster, row_windows

LAYOUTS = {"tiled": ("TILED=YES",), "one-row strips": ("BLOCKYSIZE=1",), "strips of 255": ("BLOCKYSIZE=255",),
           "single strip": ("BLOCKYSIZE=1000", "COMPRESS=DEFLATE"), "strips of 7": ("BLOCKYSIZE=7",)}


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_windows_cover_the_raster_within_the_target(tmp_path, layout):
    bands, truth = water_scene(rows=1000, cols=300)
    path = write_raster(tmp_path / "scene.tif", bands, options=LAYOUTS[layout])
    dataset = open_raster(path)
    windows = row_windows(dataset, target_pixels=300 * 512)
    assert windows[0][0] == 0 and sum(rows for _, rows in windows) == 1000
    assert all(row + rows == following for (row, rows), (following, _) in zip(windows, windows[1:]))
    assert max(rows for _, rows in windows) <= 512
    block_rows = dataset.GetRasterBand(1).GetBlockSize()[1]
    if block_rows in (1, 256):
        assert all(row % 256 == 0 for row, _ in windows)  # whole block rows, in output tiles

    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.0, 0.0, -0.01]]), np.array([14.5]))])
    predict_water(path, model, str(tmp_path / "probability.tif"))
    probability, _ = read(tmp_path / "probability.tif")
    assert ((probability >= 0.5) == truth).all()


def test_a_big_single_compressed_strip_is_named_in_the_log(tmp_path, monkeypatch):
    from water_logreg_plugin.core import predict
    from water_logreg_plugin.core.callbacks import Callbacks
    from water_logreg_plugin.core.raster import single_strip_warning

    bands, _ = water_scene(rows=1000, cols=300)
    path = write_raster(tmp_path / "scene.tif", bands, options=LAYOUTS["single strip"])
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.0, 0.0, -0.01]]), np.array([14.5]))])
    monkeypatch.setattr(predict, "single_strip_warning", lambda dataset: single_strip_warning(dataset, 1000))
    lines = []
    predict_water(path, model, str(tmp_path / "probability.tif"), callbacks=Callbacks(log=lines.append))
    assert ("Warning: the raster is one DEFLATE strip, which GDAL decompresses whole: reading it takes about 3 MB "
            "of memory. A tiled copy reads in small blocks (gdal_translate -co TILED=YES -co COMPRESS=DEFLATE)."
            ) in lines
    lines.clear()
    tiled = write_raster(tmp_path / "tiled.tif", bands)
    predict_water(tiled, model, str(tmp_path / "probability2.tif"), callbacks=Callbacks(log=lines.append))
    assert not [line for line in lines if "strip" in line]
