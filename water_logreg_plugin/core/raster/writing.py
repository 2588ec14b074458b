"""Writing outputs: a tiled, compressed GeoTIFF on a template's grid, written under a hidden
partial name and moved into place only when complete (output_raster, output_rasters, over
atomic_output); scratch folders.
"""

import contextlib
import contextvars
import errno
import glob
import hashlib
import os
import re
import shutil
import socket
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

from osgeo import gdal

from ..callbacks import QUIET
from ..errors import Canceled, WaterLogRegError
from .gdal_errors import gdal_outcome

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
# from a scene (core.scale.scenes.expand_scenes).
OUTPUT_SOFTWARE = "water_logreg_plugin"


def check_output_folder(destination):
    """Refuse early, before any work, when the output cannot be written where asked."""
    folder = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(folder):
        raise WaterLogRegError(
            f"The output folder '{folder}' does not exist; create it or choose another output path."
        )
    check_name_length(destination)
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


# SQLite writes beside a database a file of its name and '-journal' (or the shorter '-wal',
# '-shm'), while it writes it and whenever it is edited.
SQLITE_EXTENSIONS = (".gpkg", ".sqlite", ".db")
SQLITE_JOURNAL = "-journal"


def check_name_length(destination):
    """A name longer than the disk allows (255 bytes on most) is refused as such, before any
    work: the system's 'File name too long' comes only once the output is written."""
    path = os.path.abspath(destination)
    folder, name = os.path.split(path)
    name_bytes, path_bytes = len(os.fsencode(name)), len(os.fsencode(path))
    name_limit, path_limit = _path_limit(folder, "PC_NAME_MAX", 255), _path_limit(folder, "PC_PATH_MAX", 4096)
    if os.path.splitext(name)[1].lower() in SQLITE_EXTENSIONS and name_bytes > name_limit - len(SQLITE_JOURNAL):
        raise WaterLogRegError(
            f"The output name '{name}' is too long: {name_bytes} bytes, and the name of a GeoPackage or SQLite "
            f"file on this disk can be at most {name_limit - len(SQLITE_JOURNAL)} bytes (SQLite writes a file "
            f"of that name with '{SQLITE_JOURNAL}' added). Choose a shorter name."
        )
    if name_bytes > name_limit:
        raise WaterLogRegError(
            f"The output name '{name}' is too long: {name_bytes} bytes, and file names on this disk can be at "
            f"most {name_limit} bytes. Choose a shorter name."
        )
    if path_bytes >= path_limit:
        raise WaterLogRegError(
            f"The output path '{path}' is too long: {path_bytes} bytes, and paths on this system must be shorter "
            f"than {path_limit} bytes. Choose a shorter name or a folder higher up."
        )


def _path_limit(folder, name, default):
    """The system's limit `name` for `folder` (os.pathconf; Windows has none: the default)."""
    try:
        return os.pathconf(folder, name)
    except (AttributeError, OSError, ValueError):
        return default


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
        raise write_failure(destination, error.reason.replace(partial, destination)) from None
    except OSError as error:
        if partial not in (error.filename, error.filename2) and destination not in (error.filename, error.filename2):
            raise
        raise write_failure(destination, error.strerror or str(error)) from None
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


class DiskFullError(WaterLogRegError):
    """A write failed on a full disk; the message says so and names the output."""


def write_failure(destination, reason):
    """The error for a write of `destination` that failed with GDAL's, OGR's or the system's
    `reason`: on a full disk, the system's words for it, since GDAL, OGR and SQLite say it in
    words of their own or not at all (SQLite: 'no such table' once a commit failed); a name too
    long said as such, not blamed on the disk; else the reason."""
    if os.strerror(errno.ENAMETOOLONG) in reason:
        return WaterLogRegError(
            f"Writing '{destination}' failed: a file name is too long for the disk ({reason}). Choose a shorter "
            "output name, then run again."
        )
    if _free_bytes(destination) < FULL_DISK_BYTES:
        return DiskFullError(
            f"Writing '{destination}' failed: the disk is full ({os.strerror(errno.ENOSPC)}). Free some disk "
            "space or choose another folder, then run again."
        )
    return WaterLogRegError(
        f"Writing '{destination}' failed ({reason}): the disk may be full or the folder no longer "
        "writable. Free some disk space or choose another folder, then run again."
    )


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


# A partial name adds '.' before and '.partial-HOST-PID-RUN' (up to 58 bytes) after the
# destination's stem, and GDAL may add '.aux.xml' to it; a destination name longer than
# PARTIAL_NAME_ROOM bytes is shortened to a fixed-length prefix, so that any name legal for the
# output (255 bytes) gives a legal partial name.
PARTIAL_NAME_ROOM = 120
# A scratch folder's name ends so, without the destination's extension: GDAL 3.6 takes a path
# through a folder whose name holds '.xlsx' ('.x.partial-….xlsx/x.xlsx', even '….xlsx.work/…')
# for a path inside a zip archive, and its XLSX driver then writes an empty file.
SCRATCH_FOLDER_SUFFIX = ".work"
SHORT_STEM_BYTES = 32
SHORT_EXTENSION_BYTES = 16


def partial_path(destination, run_id, scratch=False):
    """The hidden name atomic_output writes `destination` under; run_id '*' makes a glob pattern
    for every run's. `scratch`: the name of scratch_folder's folder instead, which ends in
    SCRATCH_FOLDER_SUFFIX, not in the destination's extension."""
    folder, name = os.path.split(destination)
    stem, extension = _partial_stem(name)
    if scratch:
        extension = SCRATCH_FOLDER_SUFFIX
    if run_id == "*":
        stem, extension = glob.escape(stem), glob.escape(extension)
    return os.path.join(folder, f".{stem}.partial-{run_id}{extension}")


def _partial_stem(name):
    """(stem, extension) a partial name is built from: the destination's own where they fit;
    else its stem's first SHORT_STEM_BYTES bytes (never half a character) and a hash of the whole
    name, so that two long names that begin alike have partials of their own, and the extension
    where it is short (GDAL picks some drivers by it)."""
    stem, extension = os.path.splitext(name)
    if len(os.fsencode(name)) <= PARTIAL_NAME_ROOM:
        return stem, extension
    digest = hashlib.sha1(os.fsencode(name)).hexdigest()[:12]
    short = os.fsencode(stem)[:SHORT_STEM_BYTES].decode("utf-8", errors="ignore")
    return f"{short}~{digest}", extension if len(os.fsencode(extension)) <= SHORT_EXTENSION_BYTES else ""


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
    for leftover in glob.glob(pattern) + glob.glob(pattern + ".aux.xml") + glob.glob(
            partial_path(destination, "*", scratch=True)):
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
    folder = partial_path(destination, run_id(), scratch=True)
    os.mkdir(folder)
    try:
        yield folder
    except (OSError, WaterLogRegError) as error:
        # Work files fill a disk before the output does, and what GDAL, OGR or SQLite then say
        # ('Polygonizing failed: …', 'no such table') does not tell a user that the disk is full.
        if isinstance(error, (Canceled, DiskFullError)) or _free_bytes(destination) >= FULL_DISK_BYTES:
            raise
        raise write_failure(destination, str(error)) from None
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


class WriteBehind:
    """Writes run one at a time in a thread of their own, each once the one before has ended: a
    tool writes (compresses) one window while it computes the next, and no more wait, so memory
    stays flat. A context manager: left without an error, it waits for the last write and raises
    its error; left with one, it waits for the running write and leaves that error alone."""

    def __enter__(self):
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending = None
        return self

    def __exit__(self, kind, error, traceback):
        try:
            if kind is None:
                self.finish()
        finally:
            self._pool.shutdown(wait=True)
        return False

    def submit(self, write, *args):
        """write(*args) in the writer thread, once the last write has ended (its error raised here)."""
        self.finish()
        self._pending = self._pool.submit(write, *args)

    def finish(self):
        """Wait for the last write and raise its error: before the written rows are read back."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()


def write_rows_of(row, *outputs):
    """Write each (OutputRaster or None, rows or None) pair at `row`, skipping the absent ones:
    one window of a map and its mask, in the writer thread of a tool that computes the next."""
    for output, values in outputs:
        if output is not None and values is not None:
            output.write_rows(values, row)


def check_written():
    """After a close (the last reference to a dataset dropped): a write GDAL could not finish (a
    full disk) is an error. A failing close cannot raise, even with GDAL's exceptions on (Python
    only reports an error in a destructor), but it leaves its message as GDAL's last error."""
    if gdal.GetLastErrorType() >= gdal.CE_Failure:
        raise WriteError(gdal.GetLastErrorMsg())


def create_like(template, path, band_count, data_type, nodata):
    """A tiled, compressed GeoTIFF on the grid (size, transform, CRS) of `template`."""
    driver = gdal.GetDriverByName("GTiff")
    # The floating-point predictor makes probabilities compress about twice as well.
    predictor = "PREDICTOR=3" if data_type in (gdal.GDT_Float32, gdal.GDT_Float64) else "PREDICTOR=2"
    dataset, reason = gdal_outcome(
        driver.Create, path, template.RasterXSize, template.RasterYSize, band_count, data_type,
        options=list(GEOTIFF_OPTIONS) + [predictor],
    )
    if dataset is None:
        raise WriteError(reason or "GDAL could not create the file")
    dataset.SetMetadataItem("TIFFTAG_SOFTWARE", OUTPUT_SOFTWARE)
    dataset.SetGeoTransform(template.GetGeoTransform())
    projection = template.GetProjection()
    if projection:
        dataset.SetProjection(projection)
    for index in range(1, band_count + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


class OutputRaster:
    """A raster being written. It holds the only reference to its GDAL dataset, because GDAL
    finishes a file (its last blocks, its directory) only when the last reference goes: close()
    can then finish it, and check it, before the file is moved into place."""

    def __init__(self, dataset):
        self._dataset = dataset

    def write_rows(self, values, row, band=1):
        """Write rows of `band` from `row` and compress them now (on GDAL's threads), so GDAL's
        block cache stays small however large the output."""
        code, reason = gdal_outcome(self._dataset.GetRasterBand(band).WriteArray, values, 0, row)
        if code != 0 or reason:
            raise WriteError(reason or "GDAL could not write the rows")
        self._flush()

    def read_rows(self, row, rows):
        """Rows of band 1 written already, read back (a second pass over the output)."""
        values, reason = gdal_outcome(self._dataset.GetRasterBand(1).ReadAsArray, 0, row,
                                      self._dataset.RasterXSize, rows)
        if values is None:
            raise WriteError(reason or "GDAL could not read the rows back")
        return values

    def set_colour_table(self, table):
        self._dataset.GetRasterBand(1).SetColorTable(table)

    def clear_nodata(self):
        """No nodata value: every value of band 1 is data."""
        self._dataset.GetRasterBand(1).DeleteNoDataValue()

    def close(self):
        """Flush, finish the file and check that GDAL could write all of it."""
        self._flush()
        gdal.ErrorReset()
        self._dataset = None
        check_written()

    def drop(self):
        """Let GDAL close the file as it is (after a failure, before the partial file goes).

        Not Dataset.Close: after a write that failed on a full disk, GDAL 3.10's Close crashes the
        process. With the exceptions on (QGIS 3.40+) that close raises inside the dataset's
        destructor, which Python reports on stderr ("Exception ignored") and goes on."""
        self._dataset = None

    def _flush(self):
        """FlushCache, and a write GDAL could not finish (a full disk) as an error, in both modes.
        A method, so the error's traceback holds no reference to the dataset: drop() closes it."""
        _, reason = gdal_outcome(self._dataset.FlushCache)
        if reason:
            raise WriteError(reason)


class OutputRasters:
    """The rasters output_rasters writes together, each under its partial name."""

    def __init__(self, partials, callbacks):
        self._partials = partials  # the ExitStack of their atomic_outputs
        self._callbacks = callbacks
        self._outputs = []

    def add(self, destination, template, band_count, data_type, nodata):
        """A tiled, compressed GeoTIFF on the grid of `template` (create_like), for `destination`."""
        return self.add_dataset(destination, lambda partial: create_like(template, partial, band_count,
                                                                         data_type, nodata))

    def add_dataset(self, destination, create):
        """The raster `create(partial path)` makes (and raises for when it cannot), for `destination`."""
        partial = self._partials.enter_context(atomic_output(destination, self._callbacks))
        output = OutputRaster(create(partial))
        self._outputs.append(output)
        return output

    def close(self):
        for output in self._outputs:
            output.close()

    def drop(self):
        for output in self._outputs:
            output.drop()


@contextmanager
def output_rasters(callbacks=QUIET):
    """Rasters written all or none: each is created under a hidden partial name beside its
    destination (atomic_output), and every one is flushed, closed and checked before the first
    is moved into place, so a failure or a cancel removes them all (a cancel that comes between
    two moves leaves the first in place, for the run's OutputSet to remove).

        with output_rasters(callbacks) as outputs:
            output = outputs.add(output_path, template, 1, gdal.GDT_Float32, NODATA)
            mask = outputs.add(mask_path, template, 1, gdal.GDT_Byte, 255) if mask_path else None
            output.write_rows(values, row)
    """
    with ExitStack() as partials:
        outputs = OutputRasters(partials, callbacks)
        try:
            yield outputs
            outputs.close()
        finally:
            outputs.drop()  # after a failure: the files are closed before their partials are removed


@contextmanager
def output_raster(destination, template, band_count, data_type, nodata, callbacks=QUIET):
    """One output raster on the grid of `template`, as rasterio's `with rasterio.open(path, "w")`:

        with output_raster(path, template, 1, gdal.GDT_Byte, 255, callbacks) as output:
            output.write_rows(values, row)

    in place under `destination` when the block ends, or nothing there after a failure or a cancel."""
    with output_rasters(callbacks) as outputs:
        yield outputs.add(destination, template, band_count, data_type, nodata)
