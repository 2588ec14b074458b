"""Reading a raster window by window, following the file's layout, so memory stays flat.

Whole block rows where the file is tiled or in short strips; a single DEFLATE strip is
decompressed as a stream (SingleStripReader), since GDAL would decode it whole.
"""

import math
import os
import queue
import zlib
from collections import deque

import numpy as np
from osgeo import gdal

from .reading import gdal_array_type, open_raster, read_block, unreadable, valid_pixels
from .writing import OUTPUT_BLOCK_ROWS

# A window of whole block rows holds about this many pixels: large enough that GDAL and
# the arithmetic run in long vectorised stretches, small enough that memory stays flat.
WINDOW_PIXELS = 1 << 22
# Windows read at once, each by its own handle of the raster: one read alone leaves a core idle
# between GDAL's decoding of one window's blocks and the next (benchmarks/RESULTS.md).
READ_AHEAD = 2


def read_window(dataset, bands, row, rows, strip_reader=None):
    """The bands' values (bands, rows, width) of one row window and where they are valid
    (rows, width, by valid_pixels), read in the same thread; blocks no later window needs leave
    GDAL's cache, so memory stays flat however large the raster."""
    width = dataset.RasterXSize
    values = strip_reader.read(bands, row, rows) if strip_reader else read_block(
        dataset, (0, row, width, rows), f"rows {row}–{row + rows} of the raster", band_list=bands)
    values = values.reshape(len(bands), rows, width)
    valid = valid_pixels(dataset, bands, values, 0, row)
    release_blocks(dataset, row, rows)
    return values, valid


def row_windows(dataset, target_pixels=WINDOW_PIXELS):
    """(first row, row count) windows of about `target_pixels`, following the file's layout.

    Tiles or short strips: whole block rows, in multiples of the output's tile rows, so each
    block is read once. Blocks taller than a window (a single strip, or strips whose height
    and 256 have a large common multiple): windows of the output's tile rows, so memory stays
    within the target whatever the layout; release_blocks keeps a block cached until the
    last window that needs it is read, so it is still decompressed once.
    """
    block_rows = max(dataset.GetRasterBand(1).GetBlockSize()[1], 1)
    rows_that_fit = max(1, target_pixels // max(dataset.RasterXSize, 1))
    step = math.lcm(block_rows, OUTPUT_BLOCK_ROWS)
    if step > max(rows_that_fit, OUTPUT_BLOCK_ROWS):
        step = OUTPUT_BLOCK_ROWS
    rows_per_window = max(step, rows_that_fit // step * step)
    height = dataset.RasterYSize
    return [(row, min(rows_per_window, height - row)) for row in range(0, height, rows_per_window)]


def single_strip_warning(dataset, target_pixels=WINDOW_PIXELS):
    """A warning when the raster is one compressed strip larger than a window, else None: GDAL
    decompresses such a strip whole, so reading it takes about twice its uncompressed size."""
    band = dataset.GetRasterBand(1)
    block_columns, block_rows = band.GetBlockSize()
    compressed = dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")
    if not compressed or block_rows < dataset.RasterYSize or block_columns * block_rows <= target_pixels:
        return None
    megabytes = (dataset.RasterXSize * dataset.RasterYSize * dataset.RasterCount
                 * gdal.GetDataTypeSize(band.DataType) // 8) / 2**20
    return (
        f"Warning: the raster is one {compressed} strip, which GDAL decompresses whole: reading it takes "
        f"about {2 * megabytes:.0f} MB of memory. A tiled copy reads in small blocks (gdal_translate "
        "-co TILED=YES -co COMPRESS=DEFLATE)."
    )


class SingleStripReader:
    """Rows of a GeoTIFF stored as one DEFLATE strip (per band, or for all bands), decompressed as
    a stream from the first row: GDAL would decompress the whole strip for any read, which takes
    twice the raster's uncompressed size in memory; this holds one window. Rows are read in
    order (an earlier row restarts the stream). for_dataset gives None for any other layout, and
    the caller reads with GDAL as usual.
    """

    CHUNK_BYTES = 1 << 20

    def __init__(self, dataset, dtype, band_interleaved):
        self.path = dataset.GetDescription()
        self.width, self.height, self.count = dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount
        self.dtype = dtype
        self.band_interleaved = band_interleaved
        self.predictor = dataset.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == "2"
        self.strips = [(int(dataset.GetRasterBand(number).GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF")),
                        int(dataset.GetRasterBand(number).GetMetadataItem("BLOCK_SIZE_0_0", "TIFF")))
                       for number in (range(1, self.count + 1) if band_interleaved else (1,))]
        self.streams = {}

    @classmethod
    def for_dataset(cls, dataset, target_pixels=WINDOW_PIXELS):
        if single_strip_warning(dataset, target_pixels) is None:
            return None
        if dataset.GetDriver().ShortName != "GTiff" or \
                dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") != "DEFLATE":
            return None
        if dataset.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") not in (None, "1", "2"):
            return None
        types = {dataset.GetRasterBand(number).DataType for number in range(1, dataset.RasterCount + 1)}
        if len(types) != 1 or dataset.GetRasterBand(1).GetMetadataItem("NBITS", "IMAGE_STRUCTURE"):
            return None
        try:
            with open(dataset.GetDescription(), "rb") as handle:
                byte_order = handle.read(2)
        except OSError:
            return None
        dtype = np.dtype(gdal_array_type(types.pop()))
        predictor = dataset.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == "2"
        if byte_order not in (b"II", b"MM") or dtype.kind == "c" or (predictor and dtype.kind == "f"):
            return None
        dtype = dtype.newbyteorder("<" if byte_order == b"II" else ">")
        interleave = dataset.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE")
        reader = cls(dataset, dtype, interleave == "BAND")
        if any(offset <= 0 or size <= 0 for offset, size in reader.strips):
            return None
        return reader

    def read(self, bands, row, rows):
        """The bands' values (bands, rows, width), native byte order."""
        if self.band_interleaved:
            values = np.stack([self._rows(band - 1, row, rows, 1)[0] for band in bands])
        else:
            values = self._rows(0, row, rows, self.count)[[band - 1 for band in bands]]
        return values.astype(self.dtype.newbyteorder("="), copy=False)

    def _rows(self, strip, row, rows, samples):
        stream = self.streams.get(strip)
        if stream is None or stream["row"] > row:
            offset, size = self.strips[strip]
            stream = self.streams[strip] = {"row": 0, "left": size, "offset": offset,
                                            "inflate": zlib.decompressobj(), "pending": b""}
        row_bytes = self.width * samples * self.dtype.itemsize
        if stream["row"] < row:
            self._inflate(stream, (row - stream["row"]) * row_bytes)  # rows before the window, dropped
        data = self._inflate(stream, rows * row_bytes)
        stream["row"] = row + rows
        values = np.frombuffer(data, dtype=self.dtype).reshape(rows, self.width, samples)
        if self.predictor:  # horizontal differencing: each sample adds to the one on its left
            values = np.cumsum(values.astype(self.dtype.newbyteorder("=")), axis=1, dtype=self.dtype.newbyteorder("="))
        return np.moveaxis(values, 2, 0)

    def _inflate(self, stream, wanted):
        """`wanted` more decompressed bytes of the stream."""
        parts, got = [], 0
        inflate = stream["inflate"]
        with open(self.path, "rb") as handle:
            while got < wanted:
                if not stream["pending"]:
                    if stream["left"] <= 0:
                        raise unreadable("the raster", f"{self.path}: its strip ends before its last row")
                    handle.seek(stream["offset"])
                    stream["pending"] = handle.read(min(self.CHUNK_BYTES, stream["left"]))
                    stream["offset"] += len(stream["pending"])
                    stream["left"] -= len(stream["pending"])
                    if not stream["pending"]:
                        stream["left"] = 0
                        continue
                try:
                    part = inflate.decompress(stream["pending"], wanted - got)
                except zlib.error as error:
                    raise unreadable("the raster", f"{self.path}: {error}") from None
                stream["pending"] = inflate.unconsumed_tail
                parts.append(part)
                got += len(part)
        return b"".join(parts)


def release_blocks(dataset, row, rows):
    """After reading rows [row, row + rows): drop the cached blocks when no later window needs
    them (the window ends on a block boundary), so GDAL's cache holds at most one block row."""
    block_rows = max(dataset.GetRasterBand(1).GetBlockSize()[1], 1)
    if (row + rows) % block_rows == 0 or row + rows >= dataset.RasterYSize:
        dataset.FlushCache()


def decoding_threads_each(readers=READ_AHEAD):
    """GDAL decoding threads for each of `readers` reads at once: their share of the cores."""
    return max(1, (os.cpu_count() or 1) // readers)


def reading_handles(dataset, windows, count=READ_AHEAD):
    """Handles of `dataset`'s raster for `count` threads that read its `windows` at once (a GDAL
    dataset serves one thread at a time), each opened again with its share of the cores for
    GDAL's decoding threads: on two cores, each decodes in its reader's own thread. One pass
    over the bench's quarter scene (2 cores): 1.12 s through one handle decoding on two
    threads, 1.06 s through two handles of two threads each, 0.96–1.04 s through two of one.

    Only `dataset` where more handles would cost more than they save: a raster other than a
    GeoTIFF file on disk (GDAL's multi-threaded decoding is the GeoTIFF driver's; a second
    handle on a network raster is a second set of requests), or windows that share a block (a
    tall strip), which each handle would decompress again.
    """
    block_rows = max(dataset.GetRasterBand(1).GetBlockSize()[1], 1)
    height = dataset.RasterYSize
    shares_blocks = any((row + rows) % block_rows and row + rows < height for row, rows in windows)
    driver = dataset.GetDriver()
    path = dataset.GetDescription()
    if count < 2 or len(windows) < 2 or shares_blocks or driver is None or driver.ShortName != "GTiff" \
            or not os.path.isfile(path):
        return [dataset]
    return [open_raster(path, decode_threads=decoding_threads_each(count)) for _ in range(count)]


def read_ahead(windows, slots, produce, pool):
    """produce(slot, *window) of each window ((row, rows), or any tuple the caller reads by),
    yielded in the windows' order while the next len(slots) are made in `pool`'s threads (an
    executor of at least len(slots) workers).

    A slot (a raster handle, say, with what is counted through it) is used by one thread at a
    time; `pool` is the caller's, so its threads are done with the slots once it is shut down.
    """
    free = queue.SimpleQueue()
    for slot in slots:
        free.put(slot)

    def made(*window):
        slot = free.get()
        try:
            return produce(slot, *window)
        finally:
            free.put(slot)

    pending = deque(pool.submit(made, *window) for window in windows[:len(slots)])
    for index in range(len(windows)):
        result = pending.popleft().result()
        if index + len(slots) < len(windows):
            pending.append(pool.submit(made, *windows[index + len(slots)]))
        yield result
