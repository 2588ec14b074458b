"""core.dates.occurrence: how often each pixel was water over dates, with known truth."""

import os

import numpy as np
import pytest
from osgeo import gdal
from support.small_windows import windows_of_rows
from support.synthetic import read, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.dates.occurrence import water_occurrence
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError

ROWS, COLS = 120, 150
NODATA = -9999.0


def lake_and_flood():
    """(lake, flood): a lake that is water on every date and a flood plain beside it."""
    lake, flood = np.zeros((ROWS, COLS), bool), np.zeros((ROWS, COLS), bool)
    lake[20:60, 20:70] = True
    flood[20:60, 70:110] = True
    return lake, flood


def write_dates(folder, dates=5, flooded=(0, 2, 4), nodata_strip=None, **raster_options):
    """Five probability rasters: the lake is water on all, the flood on `flooded`;
    `nodata_strip` (date, rows) marks those rows nodata on that date."""
    lake, flood = lake_and_flood()
    rng = np.random.default_rng(1)
    paths = []
    for date in range(dates):
        water = lake | (flood if date in flooded else False)
        probability = np.where(water, rng.uniform(0.6, 1.0, water.shape), rng.uniform(0.0, 0.4, water.shape))
        probability = probability.astype(np.float32)
        if nodata_strip and nodata_strip[0] == date:
            probability[nodata_strip[1]] = NODATA
        paths.append(write_raster(os.path.join(folder, f"date{date}.tif"), probability[None], nodata=NODATA,
                                  data_type=gdal.GDT_Float32, **raster_options))
    return paths


def outputs_left(folder):
    """Every file of an output, hidden .partial files included."""
    return [name for name in os.listdir(folder) if "occurrence" in name or "count" in name]


def test_lake_is_permanent_and_the_flood_occurs_on_three_of_five(tmp_path):
    paths = write_dates(tmp_path)
    summary = water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif")
    occurrence, dataset = read(tmp_path / "occurrence.tif")
    count, count_dataset = read(tmp_path / "count.tif")
    lake, flood = lake_and_flood()
    assert (occurrence[lake] == np.float32(1.0)).all()
    assert (occurrence[flood] == np.float32(0.6)).all()
    assert (occurrence[~lake & ~flood] == 0).all()
    assert (count == 5).all() and count.dtype == np.uint16
    assert count_dataset.GetRasterBand(1).GetNoDataValue() is None
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert dataset.GetRasterBand(1).GetNoDataValue() == NODATA
    source = gdal.Open(paths[0])
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    assert dataset.GetProjection() == source.GetProjection()
    assert summary.dates == 5 and summary.regridded == ()
    assert summary.permanent_water_pixels == lake.sum()
    assert summary.water_ever_pixels == (lake | flood).sum()
    assert summary.observed_pixels == ROWS * COLS


def test_nodata_lowers_the_count_not_the_occurrence(tmp_path):
    strip = slice(30, 40)
    paths = write_dates(tmp_path, nodata_strip=(2, strip))  # date 2 is a flooded date
    water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif")
    occurrence, _ = read(tmp_path / "occurrence.tif")
    count, _ = read(tmp_path / "count.tif")
    lake, flood = lake_and_flood()
    assert (count[strip] == 4).all() and (np.delete(count, np.r_[strip], axis=0) == 5).all()
    in_strip = np.zeros_like(lake)
    in_strip[strip] = True
    assert (occurrence[lake] == 1.0).all()
    assert np.allclose(occurrence[flood & in_strip], 2 / 4)  # 2 water of 4 seen, not 2 of 5
    assert (occurrence[flood & ~in_strip] == np.float32(0.6)).all()
    assert (occurrence[~lake & ~flood] == 0).all()


def test_never_observed_is_nodata(tmp_path):
    paths = write_dates(tmp_path, dates=1, flooded=(), nodata_strip=(0, slice(0, 10)))
    water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif")
    occurrence, _ = read(tmp_path / "occurrence.tif")
    assert (occurrence[:10] == NODATA).all() and (occurrence[10:] != NODATA).all()
    assert (read(tmp_path / "count.tif")[0][:10] == 0).all()


def test_nan_is_not_observed(tmp_path):
    paths = write_dates(tmp_path)
    dataset = gdal.Open(paths[1], gdal.GA_Update)
    values = dataset.ReadAsArray()
    values[:5] = np.nan
    dataset.GetRasterBand(1).WriteArray(values)
    dataset = None
    water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif")
    assert (read(tmp_path / "count.tif")[0][:5] == 4).all()


def test_grids_that_differ_are_brought_onto_the_first(tmp_path):
    """Dates 1–4 at another pixel size and origin, and date 3 again in EPSG:4326: read on the first grid."""
    os.makedirs(tmp_path / "a")
    os.makedirs(tmp_path / "b")
    first = write_dates(tmp_path / "a")
    # The same dates on a grid of 5 m pixels (each pixel split in four) shifted by one 10 m pixel.
    lake, flood = lake_and_flood()
    paths = [first[0]]
    for date in range(1, 5):
        source = read(first[date])[0]
        fine = np.kron(source, np.ones((2, 2), np.float32))
        fine = np.pad(fine, ((2, 0), (2, 0)), constant_values=NODATA)
        paths.append(write_raster(tmp_path / "b" / f"fine{date}.tif", fine[None], nodata=NODATA,
                                  data_type=gdal.GDT_Float32, origin=(500000.0 - 10, 4000000.0 + 10), pixel=5.0))
    geographic = tmp_path / "b" / "geographic.tif"
    gdal.Warp(str(geographic), first[3], dstSRS="EPSG:4326", resampleAlg="near", xRes=0.00005, yRes=0.00005)
    paths.append(str(geographic))
    logs = []
    summary = water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif",
                               callbacks=Callbacks(log=logs.append))
    occurrence, dataset = read(tmp_path / "occurrence.tif")
    assert dataset.GetGeoTransform() == gdal.Open(first[0]).GetGeoTransform()
    assert summary.regridded == tuple(paths[1:])
    assert sum("another grid or CRS" in line for line in logs) == 5
    inner = np.zeros_like(lake)
    inner[2:-2, 2:-2] = True  # the geographic date's edges may fall outside it
    assert (occurrence[lake & inner] == 1.0).all()
    # flooded on dates 0, 2, 4 of the five originals, and date 3 (dry) a second time: 3 of 6
    assert np.allclose(occurrence[flood & inner], 0.5)
    assert (occurrence[~lake & ~flood & inner] == 0).all()


def test_values_outside_zero_to_one_are_refused_naming_the_file(tmp_path):
    paths = write_dates(tmp_path)
    reflectance = write_raster(tmp_path / "reflectance.tif", np.full((1, ROWS, COLS), 1200, np.uint16))
    with pytest.raises(WaterLogRegError, match=r"reflectance\.tif' holds values from 1200 to 1200, so it is not"):
        water_occurrence(paths + [reflectance], tmp_path / "occurrence.tif")
    assert outputs_left(tmp_path) == []


def test_a_multiband_raster_is_refused(tmp_path):
    paths = write_dates(tmp_path)
    scene = write_raster(tmp_path / "scene.tif", np.ones((3, ROWS, COLS), np.uint16))
    with pytest.raises(WaterLogRegError, match="has 3 bands, so it is not a probability raster"):
        water_occurrence([paths[0], scene], tmp_path / "occurrence.tif")


def test_cancel_leaves_no_file(tmp_path):
    paths = write_dates(tmp_path)
    reads = []
    with pytest.raises(Canceled):
        water_occurrence(paths, tmp_path / "occurrence.tif", tmp_path / "count.tif",
                         callbacks=Callbacks(is_canceled=lambda: reads.append(1) or len(reads) > 3))
    assert outputs_left(tmp_path) == []


def test_progress_reaches_one_and_rises(tmp_path):
    paths = write_dates(tmp_path)
    fractions = []
    water_occurrence(paths, tmp_path / "occurrence.tif", callbacks=Callbacks(progress=fractions.append))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.parametrize("dates", [1, 2, 5])
def test_the_same_counts_whatever_the_windows_and_the_dates_read_at_once(tmp_path, monkeypatch, dates):
    """Dates are read two at a time (one at a time for one date) and windows written while the
    next is counted: many windows give the occurrence and count one window gives."""
    from water_logreg_plugin.core.dates import occurrence as occurrence_module

    paths = write_dates(tmp_path, dates=dates, nodata_strip=(0, slice(30, 50)))
    whole = water_occurrence(paths, tmp_path / "whole.tif", tmp_path / "whole_count.tif")
    windows_of_rows(monkeypatch, occurrence_module)
    windowed = water_occurrence(paths, tmp_path / "windowed.tif", tmp_path / "windowed_count.tif")

    assert windowed == whole
    for name in ("", "_count"):
        windowed_values, _ = read(tmp_path / f"windowed{name}.tif")
        whole_values, _ = read(tmp_path / f"whole{name}.tif")
        assert (windowed_values == whole_values).all()
    lake, flood = lake_and_flood()
    occurrence, _ = read(tmp_path / "windowed.tif")
    if dates == 1:  # the flood's date: water or dry as drawn, never observed in the strip
        observed = np.ones((ROWS, COLS), bool)
        observed[30:50] = False
        assert (occurrence[observed] == (lake | flood)[observed]).all()
        assert (occurrence[~observed] == NODATA).all()
