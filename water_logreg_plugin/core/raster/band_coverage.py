"""A band that costs coverage: the pixels a map leaves as nodata only because of one band.

A pixel is mapped where every chosen band is valid (reading.valid_pixels), so one band with a
gap (a sensor's stripe, a cloud mask burnt into one band) takes pixels from the map that the
other bands would map. Counted window by window, memory flat; a predict pass can add its own
windows (add_window) instead of reading the raster again.
"""

import numpy as np

from ..callbacks import QUIET
from .reading import open_raster, resolve_bands, valid_pixels
from .windows import read_window, row_windows


class BandCoverage:
    """Per chosen band, the pixels where that band alone is invalid and every other is valid."""

    def __init__(self, bands):
        self.bands = [int(band) for band in bands]
        self.lost = np.zeros(len(self.bands), dtype=np.int64)

    def add_window(self, dataset, values, col_off=0, row_off=0):
        """Count one window: `values` (bands, rows, cols) of the chosen bands as read at
        (col_off, row_off); call it in the thread that read them, as valid_pixels asks."""
        if len(self.bands) < 2:
            return
        invalid = np.empty((len(self.bands),) + values.shape[1:], dtype=bool)
        for band_invalid, band, band_values in zip(invalid, self.bands, values):
            np.logical_not(valid_pixels(dataset, [band], band_values[np.newaxis], col_off, row_off), out=band_invalid)
        # A sum of booleans into uint8 (wide enough below 256 bands) and counts without an axis:
        # numpy's fast paths (a count along an axis went through int64 copies and took longer
        # than the read).
        alone = invalid.sum(axis=0, dtype=np.uint8 if len(self.bands) < 256 else np.int32) == 1
        self.lost += [np.count_nonzero(band_invalid & alone) for band_invalid in invalid]

    def merge(self, other):
        """Add the counts of another part of the same raster (a chunk on another worker)."""
        self.lost += other.lost

    def sentences(self):
        """One sentence a band that costs pixels, e.g. 'band 6 is nodata on 48326 pixels where
        bands 1–5 have data; BANDS 1,2,3,4,5 would map them'."""
        lines = []
        for band, lost in zip(self.bands, self.lost):
            if not lost:
                continue
            others = [other for other in self.bands if other != band]
            lines.append(
                f"band {band} is nodata on {lost} pixel{'s' if lost != 1 else ''} where {band_words(others)} "
                f"{'have' if len(others) > 1 else 'has'} data; BANDS {','.join(map(str, others))} would map them"
            )
        return lines

    def log_lines(self):
        """The sentences as log lines: 'Band 6 is nodata on … would map them.'"""
        return [f"{sentence[0].upper()}{sentence[1:]}." for sentence in self.sentences()]


def band_coverage(raster_path, bands, callbacks=QUIET):
    """BandCoverage of the raster's chosen bands, read window by window."""
    dataset = open_raster(raster_path, decode_threads=True)
    bands = resolve_bands(dataset, bands)
    coverage = BandCoverage(bands)
    windows = row_windows(dataset)
    for index, (row, rows) in enumerate(windows):
        callbacks.check_canceled()
        values, _ = read_window(dataset, bands, row, rows)
        coverage.add_window(dataset, values, 0, row)
        callbacks.progress((index + 1) / len(windows))
    return coverage


def band_words(bands):
    """'band 2', 'bands 1, 3' or 'bands 1–5, 7': runs of three or more consecutive bands as a range."""
    runs = []
    for band in sorted(bands):
        if runs and band == runs[-1][-1] + 1:
            runs[-1].append(band)
        else:
            runs.append([band])
    parts = []
    for run in runs:
        parts.extend([f"{run[0]}–{run[-1]}"] if len(run) >= 3 else map(str, run))
    return f"band{'s' if len(bands) > 1 else ''} {', '.join(parts)}"
