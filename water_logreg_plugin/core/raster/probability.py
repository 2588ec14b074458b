"""Probability rasters as inputs: one band of 0…1, nodata and NaN not observed, put onto one grid.

Rasters on another grid or CRS are brought onto the reference grid as warped VRTs
(nearest neighbour), so nothing is copied: each window is warped when it is read.
"""

import math
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, osr

from ..errors import WaterLogRegError
from .gdal_errors import gdal_outcome
from .reading import open_raster, valid_pixels
from .windows import READ_AHEAD, decoding_threads_each, read_ahead

# Probabilities a hair outside 0…1 come from float rounding; anything further is another kind of raster.
RANGE_TOLERANCE = 1e-6
# Decoding threads of each raster that read_in_turn reads with others at once: a share of the cores.
READING_THREADS = decoding_threads_each(READ_AHEAD)


@dataclass
class ProbabilityRaster:
    path: str
    dataset: object  # a gdal.Dataset on the reference grid (the file itself, or a warped VRT)
    regridded: bool


def check_threshold(threshold):
    """A water threshold is a probability."""
    if not 0.0 <= threshold <= 1.0:
        raise WaterLogRegError(f"The water threshold {threshold:g} is not between 0 and 1.")


def open_probability(path, decode_threads=True):
    """Open a one-band raster, refusing one with several bands (it is not a probability raster)."""
    dataset = open_raster(path, decode_threads=decode_threads)
    if dataset.RasterCount != 1:
        raise WaterLogRegError(
            f"'{path}' has {dataset.RasterCount} bands, so it is not a probability raster; give the "
            "one-band Float32 output of 'Predict water probability' (or any one-band raster of 0 to 1)."
        )
    return dataset


def open_on_grid(paths, decode_threads=True):
    """ProbabilityRaster for each path, the first one's grid being the grid of all; each file
    decodes a read on `decode_threads` threads (open_raster)."""
    if not paths:
        raise WaterLogRegError("No probability raster was given; choose at least one.")
    reference = open_probability(paths[0], decode_threads)
    rasters = [ProbabilityRaster(str(paths[0]), reference, False)]
    for path in paths[1:]:
        dataset = open_probability(path, decode_threads)
        if same_grid(dataset, reference):
            rasters.append(ProbabilityRaster(str(path), dataset, False))
        else:
            rasters.append(ProbabilityRaster(str(path), warp_onto(dataset, reference), True))
    return rasters


def same_grid(dataset, reference):
    """Same size, same transform (to a thousandth of a pixel) and the same CRS."""
    if (dataset.RasterXSize, dataset.RasterYSize) != (reference.RasterXSize, reference.RasterYSize):
        return False
    transform, reference_transform = dataset.GetGeoTransform(), reference.GetGeoTransform()
    pixel = max(abs(reference_transform[1]), abs(reference_transform[5]))
    if any(abs(x - y) > pixel * 1e-3 for x, y in zip(transform, reference_transform)):
        return False
    return _same_crs(dataset.GetProjection(), reference.GetProjection())


def warp_onto(dataset, reference):
    """A warped VRT of `dataset` on the reference grid (nearest neighbour).

    Pixels outside the source's footprint, or masked in it, are nodata; a source without a
    nodata value gets NaN.
    """
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    transform = reference.GetGeoTransform()
    width, height = reference.RasterXSize, reference.RasterYSize
    bounds = (transform[0], transform[3] + height * transform[5], transform[0] + width * transform[1], transform[3])
    target_nodata = nodata if nodata is not None else math.nan
    warped, reason = gdal_outcome(
        gdal.Warp, "", dataset, format="VRT", outputBounds=bounds, width=width, height=height,
        dstSRS=reference.GetProjection() or None, resampleAlg="near", outputType=gdal.GDT_Float32,
        srcNodata=nodata, dstNodata=target_nodata,
    )
    if warped is None:
        raise WaterLogRegError(
            f"'{dataset.GetDescription()}' cannot be brought onto the first raster's grid "
            f"({reason or 'GDAL warp failed'}); check that both have a CRS."
        )
    return warped


def read_probability(raster, row, rows):
    """(values, valid) of rows [row, row + rows); values outside 0…1 are refused, naming the file."""
    band = raster.dataset.GetRasterBand(1)
    values, reason = gdal_outcome(band.ReadAsArray, 0, row, raster.dataset.RasterXSize, rows)
    if values is None:
        raise WaterLogRegError(f"Reading '{raster.path}' failed: {reason}")
    valid = valid_pixels(raster.dataset, [1], values[np.newaxis], 0, row)
    # Decoded blocks are used once: dropping them keeps memory flat in the number of rasters.
    raster.dataset.FlushCache()
    observed = values[valid]
    if observed.size and (observed.min() < -RANGE_TOLERANCE or observed.max() > 1 + RANGE_TOLERANCE):
        raise WaterLogRegError(
            f"'{raster.path}' holds values from {observed.min():g} to {observed.max():g}, so it is not a "
            "probability raster (0 to 1). Give the output of 'Predict water probability', or set the "
            "raster's nodata value if those values mean 'no data'."
        )
    return values, valid


def read_in_turn(rasters, windows, pool):
    """(window index, raster index, read_probability's (values, valid)) of each raster for each
    window, in that order (all rasters of a window before the next window), while the next reads
    run in `pool`'s threads (an executor of READ_AHEAD workers).

    Reads at once are of consecutive rasters, so of distinct datasets (a GDAL dataset serves one
    thread at a time); one raster is read one window at a time. Open the rasters with
    READING_THREADS decoding threads each, so the reads at once share the cores.
    """
    reads = [(window, raster, row, rows)
             for window, (row, rows) in enumerate(windows) for raster in range(len(rasters))]
    slots = [None] * (READ_AHEAD if len(rasters) >= READ_AHEAD else 1)
    return read_ahead(reads, slots, lambda _slot, window, raster, row, rows: (
        window, raster, read_probability(rasters[raster], row, rows)), pool)


def _same_crs(wkt, reference_wkt):
    if not wkt or not reference_wkt:
        return not wkt and not reference_wkt
    srs, reference_srs = osr.SpatialReference(), osr.SpatialReference()
    # The outcome is ignored as before: a WKT GDAL gave parses, and one that did not would leave
    # the SRS empty whether GDAL's exceptions are on or off.
    gdal_outcome(srs.ImportFromWkt, wkt)
    gdal_outcome(reference_srs.ImportFromWkt, reference_wkt)
    return bool(srs.IsSame(reference_srs))
