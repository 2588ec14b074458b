"""Water occurrence over dates: how often each pixel was water, among the dates it was seen.

occurrence = water observations ÷ valid observations. A date whose pixel is nodata (cloud,
outside its footprint) is not counted at all, neither as water nor as dry. Memory holds one
window of each counter, whatever the number of dates.
"""

from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..maps.predict import PROBABILITY_NODATA
from ..raster.probability import check_threshold, open_on_grid, read_probability
from ..raster.windows import row_windows
from ..raster.writing import check_output_folders, output_rasters

MAX_DATES = np.iinfo(np.uint16).max


@dataclass(frozen=True)
class OccurrenceSummary:
    dates: int
    regridded: tuple  # paths of the rasters warped onto the first one's grid
    observed_pixels: int  # pixels with at least one valid observation
    water_ever_pixels: int  # occurrence > 0
    permanent_water_pixels: int  # occurrence = 1


def water_occurrence(probability_paths, output_path, count_path=None, threshold=0.5, callbacks=QUIET):
    """Write the Float32 occurrence (nodata -9999 where never observed) and, optionally, the
    UInt16 count of valid observations, on the grid of the first raster."""
    paths = [str(path) for path in probability_paths]
    if len(paths) > MAX_DATES:
        raise WaterLogRegError(f"{len(paths)} rasters were given; at most {MAX_DATES} fit the count raster.")
    check_threshold(threshold)
    check_output_folders(output_path, count_path)
    rasters = open_on_grid(paths)
    regridded = tuple(raster.path for raster in rasters if raster.regridded)
    for path in regridded:
        callbacks.log(f"'{path}' is on another grid or CRS; it is read on the first raster's grid "
                      "(GDAL warp, nearest neighbour).")
    reference = rasters[0].dataset
    observed = water_ever = permanent = 0
    with output_rasters() as outputs:
        output = outputs.add(output_path, reference, 1, gdal.GDT_Float32, PROBABILITY_NODATA)
        count_output = None
        if count_path:
            count_output = outputs.add(count_path, reference, 1, gdal.GDT_UInt16, 0)
            count_output.clear_nodata()  # 0 observations is a count, not a gap
        windows = row_windows(reference)
        steps = len(windows) * len(rasters)
        for window_index, (row, rows) in enumerate(windows):
            water, valid = _count_window(rasters, row, rows, threshold, callbacks, window_index * len(rasters), steps)
            seen, ever, always = _write_window(output, count_output, water, valid, row)
            observed, water_ever, permanent = observed + seen, water_ever + ever, permanent + always
            del water, valid  # so the next window's counters do not sit beside these in memory
    callbacks.progress(1.0)
    summary = OccurrenceSummary(len(rasters), regridded, observed, water_ever, permanent)
    callbacks.log(f"{summary.dates} dates; {observed} pixels observed at least once, {water_ever} water at "
                  f"least once, {permanent} water on every date they were observed.")
    return summary


def _write_window(output, count_output, water, valid, row):
    """Write one window's occurrence (and count); returns its pixels (observed, water at least
    once, water on every date observed)."""
    seen = valid > 0
    occurrence = np.full(water.shape, PROBABILITY_NODATA, dtype=np.float32)
    np.divide(water, valid, out=occurrence, where=seen, dtype=np.float32)
    output.write_rows(occurrence, row)
    if count_output is not None:
        count_output.write_rows(valid, row)
    return int(seen.sum()), int((water > 0).sum()), int((seen & (water == valid)).sum())


def _count_window(rasters, row, rows, threshold, callbacks, done, steps):
    """(water, valid) observation counts of one row window, date by date."""
    shape = (rows, rasters[0].dataset.RasterXSize)
    water, valid = np.zeros(shape, dtype=np.uint16), np.zeros(shape, dtype=np.uint16)
    for index, raster in enumerate(rasters):
        callbacks.check_canceled()
        values, date_valid = read_probability(raster, row, rows)
        valid += date_valid
        water += date_valid & (values >= threshold)
        callbacks.progress((done + index + 1) / steps)
    return water, valid
