"""Water indices: NDWI (McFeeters 1996) and MNDWI (Xu 2006), with an optional water mask.

    NDWI  = (green − NIR)  / (green + NIR)
    MNDWI = (green − SWIR) / (green + SWIR)

Water reflects more green than near or short-wave infrared, so water is high (> 0 on
clear water), vegetation and soil low. The index is computed in float64 (16-bit
green + NIR would overflow in its own type), on scale × value + offset where the file gives
the bands a scale or an offset, and written as Float32; a pixel where either band is nodata,
NaN or infinite, or where green + NIR = 0, is INDEX_NODATA. Negative band values and a sum
of 0 or less on a notable share of the pixels are reported: the index means nothing there.

The threshold of the mask is given, or found with Otsu's method: the split of the
histogram of the valid index values that maximises the between-class variance. The
histogram has OTSU_BINS bins over [-1, 1], the whole range the index has where the bands
are not negative (values outside, possible only with negative inputs, count in the end
bins); it is summed window by window, so memory stays flat however large the raster.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..raster.band_roles import ROLE_NAMES, band_role_sources, band_roles
from ..raster.reading import open_raster, resolve_bands
from ..raster.windows import SingleStripReader, read_ahead, read_window, reading_handles, row_windows
from ..raster.writing import WriteBehind, check_output_folders, output_rasters, write_rows_of

INDEX_NODATA = -9999.0
MASK_NODATA = 255
OTSU_BINS = 1024
OTSU_RANGE = (-1.0, 1.0)


@dataclass(frozen=True)
class IndexBands:
    green: int
    infrared: int  # NIR for NDWI, SWIR for MNDWI
    index: str  # "NDWI" or "MNDWI"
    reason: str  # which bands and how they were chosen, for the log


@dataclass(frozen=True)
class IndexSummary:
    index: str
    threshold: float
    threshold_from: str  # "given" or "Otsu"
    pixels: int
    valid_pixels: int
    water_pixels: int  # valid pixels with index ≥ threshold

    @property
    def water_fraction(self):
        return self.water_pixels / self.valid_pixels if self.valid_pixels else 0.0


def choose_index_bands(dataset, green=None, nir=None, swir=None):
    """The green and infrared band numbers: those given (1-based), the rest from band roles.

    A SWIR band makes the index MNDWI (NIR is then not used); otherwise NDWI.
    """
    roles = band_roles(dataset)
    sources = band_role_sources(dataset)
    index, infrared_role, infrared = ("MNDWI", "swir1", swir) if swir else ("NDWI", "nir", nir)
    chosen, notes = {}, []
    for role, given in (("green", green), (infrared_role, infrared)):
        if given:
            resolve_bands(dataset, [given])
            chosen[role] = int(given)
            notes.append(f"{ROLE_NAMES[role]} = band {int(given)} (as given)")
        elif role in roles:
            chosen[role] = roles[role]
            notes.append(f"{ROLE_NAMES[role]} = band {roles[role]} (from the {sources[roles[role]][1]})")
        else:
            raise WaterLogRegError(
                f"The raster does not say which band is {ROLE_NAMES[role]} (no band description, "
                f"wavelength or colour interpretation names it); choose the {ROLE_NAMES[role]} band."
            )
    if chosen["green"] == chosen[infrared_role]:
        raise WaterLogRegError(
            f"Green and {ROLE_NAMES[infrared_role]} are both band {chosen['green']}; "
            f"{index} needs two different bands."
        )
    reason = f"{index} with {', '.join(notes)}."
    if not swir and "swir1" in roles:
        reason += f" Band {roles['swir1']} is SWIR1: give it as the SWIR band for MNDWI."
    return IndexBands(chosen["green"], chosen[infrared_role], index, reason)


def normalized_difference(green, infrared, valid):
    """(green − infrared) / (green + infrared) as float32, INDEX_NODATA where not valid or
    where the sum is 0; returns (index, valid) with `valid` narrowed to the pixels that have one."""
    green = green.astype(np.float64)
    infrared = infrared.astype(np.float64)
    total = green + infrared
    valid = valid & (total != 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        index = (green - infrared) / total
    valid &= np.isfinite(index)
    index = index.astype(np.float32)
    index[~valid] = INDEX_NODATA
    return index, valid


def index_histogram(values, bins=OTSU_BINS, value_range=OTSU_RANGE):
    """Counts of `values` in `bins` equal bins over value_range; values outside go to the end bins."""
    low, high = value_range
    positions = np.floor((np.asarray(values, dtype=np.float64) - low) * (bins / (high - low)))
    return np.bincount(np.clip(positions, 0, bins - 1).astype(np.int64), minlength=bins)


def otsu_threshold(counts, value_range=OTSU_RANGE):
    """Otsu's threshold from a histogram: the bin edge that maximises the between-class variance.

    Where several edges tie (an empty gap between two modes), the middle of the first run of
    tied edges is taken, so the split lies halfway across the gap.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        raise WaterLogRegError("No pixel has an index value, so no threshold can be found; check the bands' nodata.")
    low, high = value_range
    edges = np.linspace(low, high, len(counts) + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts)[:-1]  # pixels below each inner edge
    above = total - below
    sum_below = np.cumsum(counts * centres)[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_below = sum_below / below
        mean_above = (sum_below[-1] + counts[-1] * centres[-1] - sum_below) / above
        between = below * above * (mean_below - mean_above) ** 2
    between = np.where((below > 0) & (above > 0), between, -1.0)
    if between.max() < 0:
        raise WaterLogRegError(
            "Every valid pixel has the same index value, so Otsu's method cannot split them; give a threshold."
        )
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    run_end = best[0]
    while run_end + 1 in best:
        run_end += 1
    inner_edges = edges[1:-1]
    return float((inner_edges[best[0]] + inner_edges[run_end]) / 2)


def water_index(raster_path, output_path, bands, mask_path=None, threshold=None, callbacks=QUIET):
    """Write the index of `bands` (an IndexBands) as Float32 and, optionally, a Byte water mask.

    threshold None: Otsu's threshold on the valid index values. The mask is 1 where the index is
    at least the threshold, 0 below, MASK_NODATA where the index is nodata. Outputs appear under
    their names only when complete. Returns an IndexSummary.
    """
    if threshold is not None and not math.isfinite(threshold):
        raise WaterLogRegError(
            f"The threshold {threshold} is not a number; give one between -1 and 1, or none for Otsu."
        )
    check_output_folders(output_path, mask_path)
    dataset = open_raster(raster_path, decode_threads=True)
    band_list = [bands.green, bands.infrared]
    resolve_bands(dataset, band_list)
    callbacks.log(bands.reason)
    scaling = band_scaling(dataset, band_list)
    if scaling:
        callbacks.log(scaling.description)
    inputs = InputCheck(bands.index)
    windows = row_windows(dataset)
    strip_reader = SingleStripReader.for_dataset(dataset)  # one DEFLATE strip: streamed, not decoded whole
    # With Otsu the threshold is known only after every window: a second pass reads the index back.
    two_passes = threshold is None
    first = callbacks.part(0.0, 0.8) if two_passes else callbacks

    # As predict does: the next two windows are read (decompressed) in threads of their own, each
    # through its own handle, and the last one is written (compressed) in another, while this one
    # is computed.
    handles = [dataset] if strip_reader else reading_handles(dataset, windows)

    def read(handle, row, rows):
        return read_window(handle, band_list, row, rows, strip_reader)

    with output_rasters(callbacks) as outputs, ThreadPoolExecutor(max_workers=len(handles)) as reader, \
            WriteBehind() as writer:
        output = outputs.add(output_path, dataset, 1, gdal.GDT_Float32, INDEX_NODATA)
        mask = outputs.add(mask_path, dataset, 1, gdal.GDT_Byte, MASK_NODATA) if mask_path else None
        counts = np.zeros(OTSU_BINS, dtype=np.int64)
        valid_pixels = water_pixels = 0
        read_windows = read_ahead(windows, handles, read, reader)
        for number, ((row, _), (values, valid)) in enumerate(zip(windows, read_windows)):
            callbacks.check_canceled()
            values = scaling.apply(values) if scaling else values
            inputs.add(values, valid)
            index, valid = normalized_difference(values[0], values[1], valid)
            valid_pixels += int(np.count_nonzero(valid))
            mask_values = None
            if two_passes:
                counts += index_histogram(index[valid])
            else:
                water, mask_values = _mask_window(index, valid, threshold, mask is not None)
                water_pixels += water
            writer.submit(write_rows_of, row, (output, index), (mask, mask_values))
            first.progress((number + 1) / len(windows))
        writer.finish()  # the second pass reads the index back
        for warning in inputs.warnings():
            callbacks.log(warning)
        if two_passes:
            threshold = otsu_threshold(counts)
            callbacks.log(f"Otsu's threshold on the {bands.index} histogram: {threshold:.4f}.")
            second = callbacks.part(0.8, 1.0)
            for number, (row, rows) in enumerate(windows):
                callbacks.check_canceled()
                index = output.read_rows(row, rows)
                valid = index != np.float32(INDEX_NODATA)
                water, mask_values = _mask_window(index, valid, threshold, mask is not None)
                water_pixels += water
                write_rows_of(row, (mask, mask_values))
                second.progress((number + 1) / len(windows))
    summary = IndexSummary(
        bands.index, float(threshold), "Otsu" if two_passes else "given",
        dataset.RasterXSize * dataset.RasterYSize, valid_pixels, water_pixels,
    )
    callbacks.log(
        f"{summary.valid_pixels} valid pixels, {100 * summary.water_fraction:.2f} % water "
        f"({bands.index} ≥ {summary.threshold:.4f}, {summary.threshold_from} threshold)."
    )
    return summary


@dataclass(frozen=True)
class BandScaling:
    """The scale and offset the file gives its green and infrared bands: the index is a ratio
    of reflectances, and with an offset the stored numbers are not proportional to them."""
    scales: tuple
    offsets: tuple
    description: str

    def apply(self, values):
        return (values.astype(np.float64) * np.array(self.scales)[:, None, None]
                + np.array(self.offsets)[:, None, None])


def band_scaling(dataset, band_list):
    """BandScaling where a band of `band_list` has a scale other than 1 or an offset other than 0;
    None where none has (the stored numbers are used as they are)."""
    pairs = [(dataset.GetRasterBand(band).GetScale() or 1.0, dataset.GetRasterBand(band).GetOffset() or 0.0)
             for band in band_list]
    if all(pair == (1.0, 0.0) for pair in pairs):
        return None
    described = ", ".join(f"band {band} scale {scale:g} and offset {offset:g}"
                          for band, (scale, offset) in zip(band_list, pairs))
    return BandScaling(
        tuple(scale for scale, _ in pairs), tuple(offset for _, offset in pairs),
        f"The file gives {described}: the index is computed on scale × value + offset (the values the "
        "bands stand for), not on the stored numbers.",
    )


NOTABLE_SHARE = 0.01  # of the valid pixels: fewer negative values are noise (shadows, dark water)


class InputCheck:
    """Counts, window by window, the valid pixels whose bands are negative or whose sum is not
    positive: there a normalized difference leaves −1…1 (the sum ≤ 0 flips its sign), which
    signed data with an offset the file does not state gives without a word otherwise."""

    def __init__(self, index_name):
        self.index_name = index_name
        self.valid = self.negative = self.not_positive = 0
        self.lowest = math.inf

    def add(self, values, valid):
        green, infrared = values[0][valid], values[1][valid]
        self.valid += green.size
        negative = (green < 0) | (infrared < 0)
        self.negative += int(np.count_nonzero(negative))
        self.not_positive += int(np.count_nonzero(green.astype(np.float64) + infrared <= 0))
        if negative.any():
            self.lowest = min(self.lowest, float(min(green.min(), infrared.min())))

    def warnings(self):
        lines = []
        infrared = "NIR" if self.index_name == "NDWI" else "SWIR"
        if self.valid and self.not_positive / self.valid >= NOTABLE_SHARE:
            lines.append(
                f"Warning: green + {infrared} is 0 or less on {100 * self.not_positive / self.valid:.1f} % of the "
                f"valid pixels; there {self.index_name} is nodata (0) or has its sign flipped (below 0), so "
                "the map and its water share are wrong there. The bands should be reflectances (0 or more)."
            )
        if self.valid and self.negative / self.valid >= NOTABLE_SHARE:
            lines.append(
                f"Warning: {100 * self.negative / self.valid:.1f} % of the valid pixels have a negative green or "
                f"{infrared} value (down to {self.lowest:g}), which reflectances cannot be; {self.index_name} is "
                "then outside −1 to 1. If the bands hold reflectances with an offset, give the file that scale "
                "and offset (gdal_edit.py -scale … -offset …) and run again."
            )
        return lines


def _mask_window(index, valid, threshold, with_mask):
    """(how many valid pixels are water, the mask's rows where there is a mask, else None)."""
    water = valid & (index >= threshold)
    values = None
    if with_mask:
        values = water.astype(np.uint8)
        values[~valid] = MASK_NODATA
    return int(np.count_nonzero(water)), values
