"""core.dates.water_change: classes and areas on a constructed pair of dates."""

import os

import numpy as np
import pytest
from osgeo import gdal
from support.small_windows import windows_of_rows
from support.synthetic import read, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.dates.water_change import (
    LOST_WATER,
    NEW_WATER,
    NO_DATA,
    STAYS_DRY,
    STAYS_WATER,
    water_change,
)
from water_logreg_plugin.core.errors import Canceled

NODATA = -9999.0


def probability_raster(path, water, nodata_rows=None, **options):
    values = np.where(water, 0.9, 0.1).astype(np.float32)
    if nodata_rows is not None:
        values[nodata_rows] = NODATA
    return write_raster(path, values[None], nodata=NODATA, data_type=gdal.GDT_Float32, **options)


def constructed_pair(tmp_path, **options):
    """Before: water in columns 0–39. After: water in columns 20–59. Rows 0–9 nodata after."""
    before, after = np.zeros((100, 100), bool), np.zeros((100, 100), bool)
    before[:, :40] = True
    after[:, 20:60] = True
    return (probability_raster(tmp_path / "before.tif", before, **options),
            probability_raster(tmp_path / "after.tif", after, nodata_rows=slice(0, 10), **options))


def expected_classes():
    expected = np.full((100, 100), STAYS_DRY, np.uint8)
    expected[:, :20] = LOST_WATER
    expected[:, 20:40] = STAYS_WATER
    expected[:, 40:60] = NEW_WATER
    expected[:10] = NO_DATA
    return expected


def test_constructed_pair_gives_the_classes_and_areas(tmp_path):
    before, after = constructed_pair(tmp_path)
    summary = water_change(before, after, tmp_path / "change.tif")
    classes, dataset = read(tmp_path / "change.tif")
    np.testing.assert_array_equal(classes, expected_classes())
    band = dataset.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == NO_DATA
    assert band.GetColorTable().GetColorEntry(NEW_WATER)[:3] == (0xe6, 0x55, 0x0d)
    assert band.GetCategoryNames()[NEW_WATER] == "new water (flood)"
    # 90 rows × 20 columns of 100 m² pixels = 180 000 m² = 18 ha for each changed class
    for value in (LOST_WATER, STAYS_WATER, NEW_WATER):
        assert summary.pixels[value] == 1800
        assert summary.area_ha(value) == pytest.approx(18.0)
    assert summary.area_ha(STAYS_DRY) == pytest.approx(36.0)
    assert summary.pixels[NO_DATA] == 1000
    assert summary.area_method == "planar, in the raster's CRS (EPSG:32633)"
    assert not summary.regridded


def test_geographic_rasters_get_ellipsoidal_areas(tmp_path):
    """0.001° pixels at 60° N: the cell areas on the WGS 84 ellipsoid, within 0.1 %."""
    before, after = constructed_pair(tmp_path, epsg=4326, origin=(10.0, 60.05), pixel=0.001)
    summary = water_change(before, after, tmp_path / "change.tif")
    assert summary.area_method == "ellipsoidal, on the ellipsoid of EPSG:4326 (the raster's CRS is geographic)"
    # at 60° N on WGS 84, 0.001° of longitude is 55.800 m and of latitude 111.412 m
    assert summary.area_m2[NEW_WATER] == pytest.approx(1800 * 55.800 * 111.412, rel=0.001)


def test_after_on_another_grid_is_warped(tmp_path):
    before, _ = constructed_pair(tmp_path)
    after_fine = np.zeros((200, 200), bool)
    after_fine[:, 40:120] = True  # the same water at 5 m pixels
    values = np.where(after_fine, 0.9, 0.1).astype(np.float32)
    values[:20] = NODATA
    after = write_raster(tmp_path / "fine.tif", values[None], nodata=NODATA, data_type=gdal.GDT_Float32, pixel=5.0)
    logs = []
    summary = water_change(before, after, tmp_path / "change.tif", callbacks=Callbacks(log=logs.append))
    np.testing.assert_array_equal(read(tmp_path / "change.tif")[0], expected_classes())
    assert summary.regridded and any("another grid or CRS" in line for line in logs)


def test_cancel_leaves_no_file(tmp_path):
    before, after = constructed_pair(tmp_path)
    with pytest.raises(Canceled):
        water_change(before, after, tmp_path / "change.tif", callbacks=Callbacks(is_canceled=lambda: True))
    assert [name for name in os.listdir(tmp_path) if "change" in name] == []


def test_the_same_classes_and_areas_whatever_the_windows(tmp_path, monkeypatch):
    """Both dates are read at once and a window is written while the next is classed: 15
    windows of 7 rows give what one window gives, and the same areas."""
    from water_logreg_plugin.core.dates import water_change as change_module

    before, after = constructed_pair(tmp_path)
    whole = water_change(before, after, tmp_path / "whole.tif")
    windows_of_rows(monkeypatch, change_module)
    windowed = water_change(before, after, tmp_path / "windowed.tif")

    np.testing.assert_array_equal(read(tmp_path / "windowed.tif")[0], expected_classes())
    assert windowed.pixels == whole.pixels
    assert windowed.area_m2 == pytest.approx(whole.area_m2)


def test_a_cancel_after_some_windows_leaves_no_file(tmp_path, monkeypatch):
    from water_logreg_plugin.core.dates import water_change as change_module

    before, after = constructed_pair(tmp_path)
    windows_of_rows(monkeypatch, change_module)
    asked = []
    with pytest.raises(Canceled):
        water_change(before, after, tmp_path / "change.tif",
                     callbacks=Callbacks(is_canceled=lambda: asked.append(1) or len(asked) > 5))
    assert [name for name in os.listdir(tmp_path) if "change" in name] == []
