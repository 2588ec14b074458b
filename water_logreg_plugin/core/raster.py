"""Raster input and output with GDAL: opening, band checks, nodata, windows, atomic files.

GDAL's Python bindings are used without `gdal.UseExceptions()`, because that switch is
process-wide and would change the behaviour of every other plugin in the same QGIS.
"""

import contextlib
import contextvars
import glob
import math
import os
import re
import shutil
import socket
import stat
import tempfile
import uuid
import zlib
from contextlib import contextmanager

import numpy as np
from osgeo import gdal

from .callbacks import QUIET
from .errors import WaterLogRegError

# Output layout: tiled and compressed so a country-sized mosaic stays usable, BIGTIFF
# when it might pass 4 GB, and several threads for DEFLATE, which is the costly part.
GEOTIFF_OPTIONS = (
    "TILED=YES",
    "BLOCKXSIZE=256",
    "BLOCKYSIZE=256",
    "COMPRESS=DEFLATE",
    "ZLEVEL=1",
    "NUM_THREADS=ALL_CPUS",
    "BIGTIFF=IF_SAFER",
)
OUTPUT_BLOCK_ROWS = 256

# TIFFTAG_SOFTWARE of every raster create_like makes: how a batch knows a result of this plugin
# from a scene (core.scenes.expand_scenes).
OUTPUT_SOFTWARE = "water_logreg_plugin"

# A window of whole block rows holds about this many pixels: large enough that GDAL and
# the arithmetic run in long vectorised stretches, small enough that memory stays flat.
WINDOW_PIXELS = 1 << 22


def open_raster(path, decode_threads=False):
    """Open a raster read-only or say in plain words why it cannot be opened.

    decode_threads: let a GeoTIFF decompress the blocks of one read on every core (the
    GTiff driver's NUM_THREADS; other drivers read as before). A dataset open_raster gave
    already comes back as it is, so a job that passes it on opens its raster once.
    """
    if isinstance(path, gdal.Dataset):
        return path
    if not path:
        raise WaterLogRegError("No raster was given; choose a raster layer or file.")
    check_regular_file(str(path), "raster")
    # NUM_THREADS is an open option of the GTiff driver only; others would warn about it.
    driver = gdal.IdentifyDriverEx(str(path), gdal.OF_RASTER) if decode_threads else None
    options = ["NUM_THREADS=ALL_CPUS"] if driver is not None and driver.ShortName == "GTiff" else []
    gdal.ErrorReset()
    dataset = gdal.OpenEx(str(path), gdal.OF_RASTER | gdal.OF_READONLY, open_options=options)
    if dataset is None:
        reason = gdal.GetLastErrorMsg() or "GDAL does not recognise it as a raster"
        raise WaterLogRegError(
            f"The raster '{path}' cannot be opened ({reason}). "
            "Check that the file exists, is readable and is a raster format GDAL knows."
        )
    if dataset.RasterCount == 0:
        raise WaterLogRegError(f"The raster '{path}' has no bands.")
    return dataset


def special_file_kind(path):
    """'a named pipe (FIFO)', 'a device' or 'a socket' for such a path; None for a file, a
    folder, or nothing there."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return ("a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def check_regular_file(path, what="file"):
    """Refuse a FIFO, a device or a socket given as a file: opening one can wait for ever."""
    kind = special_file_kind(path)
    if kind is None:
        return  # a file or folder, or missing or unreadable: the open that follows says so
    raise WaterLogRegError(
        f"The {what} '{path}' is {kind}, not a regular file, and reading it could wait for ever; "
        f"choose a {what} saved on disk."
    )


def resolve_bands(dataset, bands):
    """Check the 1-based band numbers asked for; an empty selection means every band."""
    band_count = dataset.RasterCount
    if not bands:
        return data_bands(dataset)
    bands = [int(band) for band in bands]
    out_of_range = [band for band in bands if band < 1 or band > band_count]
    if out_of_range:
        raise WaterLogRegError(
            f"Band {', '.join(map(str, out_of_range))} does not exist: the raster has "
            f"{band_count} band{'s' if band_count != 1 else ''} (1 to {band_count}). "
            "Choose band numbers within that range."
        )
    repeated = sorted({band for band in bands if bands.count(band) > 1})
    if repeated:
        raise WaterLogRegError(
            f"Band {', '.join(map(str, repeated))} is chosen more than once; "
            "choose each band only once."
        )
    return bands


def valid_pixels(dataset, bands, values, col_off=0, row_off=0):
    """True where GDAL calls the pixel valid in every band: the one rule for validity.

    `values` is (bands, rows, cols) as read from `dataset` at (col_off, row_off). A pixel is
    invalid where a band is NaN or ±inf, equals the band's nodata value, or is 0 in the band's
    mask as GDAL gives it (`GetMaskBand()`): an internal or external mask (.msk), per band or
    per dataset, or an alpha band (0 transparent; any other alpha counts as valid). Call it in
    the thread that read `values`: a GDAL dataset is not to be read from two threads at once.
    """
    rows, cols = values.shape[1:]
    valid = np.ones((rows, cols), dtype=bool)
    masks_read = set()
    for number, band_values in zip(bands, values):
        band = dataset.GetRasterBand(number)
        if band_values.dtype.kind == "f":
            valid &= np.isfinite(band_values)
        nodata = band.GetNoDataValue()
        if nodata is not None and not math.isnan(nodata):
            valid &= band_values != nodata
        flags = band.GetMaskFlags()
        if flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA):
            continue
        # A per-dataset mask (or alpha) is the same for every band: read it once.
        key = "dataset" if flags & gdal.GMF_PER_DATASET else number
        if key in masks_read:
            continue
        masks_read.add(key)
        gdal.ErrorReset()
        mask = band.GetMaskBand().ReadAsArray(col_off, row_off, cols, rows)
        if mask is None:
            raise WaterLogRegError(
                f"Reading the mask of band {number} failed ({gdal.GetLastErrorMsg()}); the file may be "
                "damaged or incomplete. Check that it displays in QGIS, or copy or export it again."
            )
        valid &= mask != 0
    return valid


def read_window(dataset, bands, row, rows, strip_reader=None):
    """The bands' values (bands, rows, width) of one row window and where they are valid
    (rows, width, by valid_pixels), read in the same thread; blocks no later window needs leave
    GDAL's cache, so memory stays flat however large the raster."""
    width = dataset.RasterXSize
    gdal.ErrorReset()
    values = strip_reader.read(bands, row, rows) if strip_reader else dataset.ReadAsArray(
        0, row, width, rows, band_list=bands)
    if values is None:
        raise WaterLogRegError(
            f"Reading rows {row}–{row + rows} of the raster failed ({gdal.GetLastErrorMsg()}); the file "
            "may be damaged or incomplete. Check that it displays in QGIS, or copy or export it again."
        )
    values = values.reshape(len(bands), rows, width)
    valid = valid_pixels(dataset, bands, values, 0, row)
    release_blocks(dataset, row, rows)
    return values, valid


def data_bands(dataset):
    """Every band but alpha bands (transparency, not data): what an empty band selection means."""
    return [number for number in range(1, dataset.RasterCount + 1)
            if dataset.GetRasterBand(number).GetColorInterpretation() != gdal.GCI_AlphaBand]


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
                        raise WaterLogRegError(
                            f"Reading the raster failed ({self.path}: its strip ends before its last row); the "
                            "file may be damaged or incomplete. Check that it displays in QGIS, or copy or export "
                            "it again."
                        )
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
                    raise WaterLogRegError(
                        f"Reading the raster failed ({self.path}: {error}); the file may be damaged or "
                        "incomplete. Check that it displays in QGIS, or copy or export it again."
                    ) from None
                stream["pending"] = inflate.unconsumed_tail
                parts.append(part)
                got += len(part)
        return b"".join(parts)


def gdal_array_type(data_type):
    """numpy's type for a GDAL data type."""
    from osgeo import gdal_array

    return gdal_array.GDALTypeCodeToNumericTypeCode(data_type)


def release_blocks(dataset, row, rows):
    """After reading rows [row, row + rows): drop the cached blocks when no later window needs
    them (the window ends on a block boundary), so GDAL's cache holds at most one block row."""
    block_rows = max(dataset.GetRasterBand(1).GetBlockSize()[1], 1)
    if (row + rows) % block_rows == 0 or row + rows >= dataset.RasterYSize:
        dataset.FlushCache()


def check_output_folder(destination):
    """Refuse early, before any work, when the output cannot be written where asked."""
    folder = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(folder):
        raise WaterLogRegError(
            f"The output folder '{folder}' does not exist; create it or choose another output path."
        )
    # A write is checked against the effective user, which access() alone does not look at.
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        raise WaterLogRegError(
            f"The output folder '{folder}' cannot be written (permission denied); "
            "choose a folder you can write to."
        )
    # access() says yes to root everywhere, also where nothing can be created (/proc, a
    # read-only mount): a file made and removed at once is the one sure test.
    try:
        probe, probe_path = tempfile.mkstemp(prefix=".waterlogreg-probe-", dir=folder)
    except OSError as error:
        reason = error.strerror or str(error)
        raise WaterLogRegError(
            f"The output folder '{folder}' cannot be written ({reason[:1].lower() + reason[1:]}); "
            "choose a folder you can write to."
        ) from None
    os.close(probe)
    remove_quietly(probe_path)


def check_output_folders(*destinations):
    """check_output_folder for each destination given (None and '' are optional outputs left out)."""
    for destination in destinations:
        if destination:
            check_output_folder(destination)


@contextmanager
def atomic_output(destination, callbacks=QUIET):
    """Yield a temporary path beside `destination`; move it into place only on success.

    A crash, a kill or a cancel leaves at most a hidden `.partial` file that no user would
    take for a result, and never a file under the destination's name that looks finished.
    The partial's name holds this machine, process and run, so two runs writing to one
    folder never touch each other's, and what a killed run left is removed by the next.
    A cancel is honoured up to the move; a write that fails names `destination`.
    """
    destination = os.path.abspath(destination)
    check_output_folder(destination)
    remove_stale_partials(destination)
    partial = partial_path(destination, run_id())
    try:
        yield partial
        callbacks.check_canceled()
        os.replace(partial, destination)
        record_output(destination)
        # Statistics GDAL kept for an earlier file of this name describe other pixels.
        remove_quietly(destination + ".aux.xml")
    except WriteError as error:
        reason = error.reason.replace(partial, destination)
        if _free_bytes(destination) < FULL_DISK_BYTES:
            raise WaterLogRegError(
                f"Writing '{destination}' failed: the disk is full ({reason}). Free some disk space or "
                "choose another folder, then run again."
            ) from None
        raise WaterLogRegError(
            f"Writing '{destination}' failed ({reason}): the disk may be full or the folder no longer "
            "writable. Free some disk space or choose another folder, then run again."
        ) from None
    except OSError as error:
        if partial not in (error.filename, error.filename2) and destination not in (error.filename, error.filename2):
            raise
        raise WaterLogRegError(
            f"Writing '{destination}' failed ({error.strerror or error}): the disk may be full or the folder "
            "no longer writable. Free some disk space or choose another folder, then run again."
        ) from None
    finally:
        for leftover in (partial, partial + ".aux.xml"):
            remove_quietly(leftover)


# The outputs the current run has moved into place (outputs.OutputSet), so that a run that
# fails later can remove them again; None outside such a run (a Dask worker, the CLI's scenes).
RUN_OUTPUTS = contextvars.ContextVar("water_logreg_run_outputs", default=None)


def record_output(path):
    written = RUN_OUTPUTS.get()
    if written is not None:
        written.append(path)


FULL_DISK_BYTES = 1 << 20  # a write failed with less free than this: the disk is full


def _free_bytes(destination):
    try:
        return shutil.disk_usage(os.path.dirname(destination)).free
    except OSError:
        return FULL_DISK_BYTES


HOST_TAG = re.sub(r"[^A-Za-z0-9.]", "", socket.gethostname())[:40]
RUN_ID = re.compile(r"\.partial-(?P<host>[A-Za-z0-9.]*)-(?P<pid>\d+)-[0-9a-f]{8}")


def run_id():
    """host-pid-random: what makes a partial name this run's own and tells whether its run is alive."""
    return f"{HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def partial_path(destination, run_id):
    """The hidden name atomic_output writes `destination` under; run_id '*' makes a glob pattern
    for every run's."""
    folder, name = os.path.split(destination)
    stem, extension = os.path.splitext(name)
    if run_id == "*":
        stem, extension = glob.escape(stem), glob.escape(extension)
    return os.path.join(folder, f".{stem}.partial-{run_id}{extension}")


def left_by_dead_run(path):
    """True for a partial name (file or folder) of a run of this machine whose process has ended."""
    match = RUN_ID.search(os.path.basename(path))
    if match is None or match["host"] != HOST_TAG or os.name != "posix":
        return False  # another machine's, or an older name: left alone (hidden, never taken for a result)
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's
    return False


def remove_stale_partials(destination):
    """Remove the partial files and scratch folders of `destination` that killed runs of this
    machine left."""
    pattern = partial_path(destination, "*")
    for leftover in glob.glob(pattern) + glob.glob(pattern + ".aux.xml"):
        if left_by_dead_run(leftover):
            if os.path.isdir(leftover):
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                remove_quietly(leftover)


@contextmanager
def scratch_folder(destination):
    """A hidden folder of this run beside `destination`, named as its partial file would be, for
    work files that are not the output (a staged layer, Dask's chunks, a mask to polygonize);
    removed on the way out. What killed runs of this machine left there is removed first, and
    another live run's folder is never touched."""
    destination = os.path.abspath(destination)
    remove_stale_partials(destination)
    folder = partial_path(destination, run_id())
    os.mkdir(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_quietly(path):
    """Remove a file that may be gone already or still held open (Windows keeps open files):
    clean-up must never replace the error that made it necessary."""
    # Gone, or left as a hidden .partial file, which no user takes for a result.
    with contextlib.suppress(OSError):
        os.remove(path)


class WriteError(WaterLogRegError):
    """GDAL could not write or finish a file; atomic_output says which output, in the user's words."""

    def __init__(self, reason):
        super().__init__(f"Writing the output failed: {reason}")
        self.reason = reason


def write_rows(dataset, values, row):
    """Write rows of band 1 from `row` and compress them now (on GDAL's threads), so GDAL's
    block cache stays small however large the output."""
    gdal.ErrorReset()
    if dataset.GetRasterBand(1).WriteArray(values, 0, row) != 0:
        raise WriteError(gdal.GetLastErrorMsg() or "GDAL could not write the rows")
    dataset.FlushCache()
    check_written()


def check_written():
    """After a flush or a close: a write GDAL could not finish (a full disk) is an error."""
    if gdal.GetLastErrorType() >= gdal.CE_Failure:
        raise WriteError(gdal.GetLastErrorMsg())


def create_like(template, path, band_count, data_type, nodata):
    """A tiled, compressed GeoTIFF on the grid (size, transform, CRS) of `template`."""
    driver = gdal.GetDriverByName("GTiff")
    # The floating-point predictor makes probabilities compress about twice as well.
    predictor = "PREDICTOR=3" if data_type in (gdal.GDT_Float32, gdal.GDT_Float64) else "PREDICTOR=2"
    gdal.ErrorReset()
    dataset = driver.Create(
        path, template.RasterXSize, template.RasterYSize, band_count, data_type,
        options=list(GEOTIFF_OPTIONS) + [predictor],
    )
    if dataset is None:
        raise WriteError(gdal.GetLastErrorMsg() or "GDAL could not create the file")
    dataset.SetMetadataItem("TIFFTAG_SOFTWARE", OUTPUT_SOFTWARE)
    dataset.SetGeoTransform(template.GetGeoTransform())
    projection = template.GetProjection()
    if projection:
        dataset.SetProjection(projection)
    for index in range(1, band_count + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset
