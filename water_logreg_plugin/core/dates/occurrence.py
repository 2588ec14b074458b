"""Water occurrence over dates: how often each pixel was water, among the dates it was seen.

occurrence = water observations ÷ valid observations. A date whose pixel is nodata (cloud,
outside its footprint) is not counted at all, neither as water nor as dry. Memory holds one
window of each counter, whatever the number of dates.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..maps.predict import PROBABILITY_NODATA
from ..raster.probability import READING_THREADS, check_threshold, open_on_grid, read_in_turn
from ..raster.windows import READ_AHEAD, row_windows
from ..raster.writing import WriteBehind, check_output_folders, output_rasters, write_rows_of

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
    rasters = open_on_grid(paths, decode_threads=READING_THREADS)
    regridded = tuple(raster.path for raster in rasters if raster.regridded)
    for path in regridded:
        callbacks.log(f"'{path}' is on another grid or CRS; it is read on the first raster's grid "
                      "(GDAL warp, nearest neighbour).")
    reference = rasters[0].dataset
    observed = water_ever = permanent = 0
    with ExitStack() as stack:
        outputs = stack.enter_context(output_rasters())
        output = outputs.add(output_path, reference, 1, gdal.GDT_Float32, PROBABILITY_NODATA)
        count_output = None
        if count_path:
            count_output = outputs.add(count_path, reference, 1, gdal.GDT_UInt16, 0)
            count_output.clear_nodata()  # 0 observations is a count, not a gap
        windows = row_windows(reference)
        # Threads read (decompress) the next dates and another writes (compresses) the last
        # window while this thread counts a date: memory holds a window of each counter, the
        # dates being read, and the window being written.
        reader = stack.enter_context(ThreadPoolExecutor(max_workers=READ_AHEAD))
        writer = stack.enter_context(WriteBehind())
        for step, (window, date, (values, date_valid)) in enumerate(read_in_turn(rasters, windows, reader), start=1):
            callbacks.check_canceled()
            if date == 0:
                water, valid = np.zeros(values.shape, np.uint16), np.zeros(values.shape, np.uint16)
            valid += date_valid
            water += date_valid & (values >= threshold)
            if date == len(rasters) - 1:
                seen = valid > 0
                observed += int(seen.sum())
                water_ever += int((water > 0).sum())
                permanent += int((seen & (water == valid)).sum())
                writer.submit(write_rows_of, windows[window][0], (output, _occurrence(water, valid, seen)),
                              (count_output, valid))
            callbacks.progress(step / (len(windows) * len(rasters)))
    callbacks.progress(1.0)
    summary = OccurrenceSummary(len(rasters), regridded, observed, water_ever, permanent)
    callbacks.log(f"{summary.dates} dates; {observed} pixels observed at least once, {water_ever} water at "
                  f"least once, {permanent} water on every date they were observed.")
    return summary


def _occurrence(water, valid, seen):
    """Float32 water ÷ valid observations, PROBABILITY_NODATA where never observed (not `seen`)."""
    occurrence = np.full(water.shape, PROBABILITY_NODATA, dtype=np.float32)
    np.divide(water, valid, out=occurrence, where=seen, dtype=np.float32)
    return occurrence

