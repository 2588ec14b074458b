"""Reading rasters with GDAL: opening in plain words, the bands asked for, and the one rule for valid pixels.

Opens and reads go through gdal_errors, so a failure gives the same plain message whether
GDAL's exceptions are on (QGIS 3.40+ Processing) or off (QGIS 3.22).
"""

import http
import math
import os
import re
import stat

import numpy as np
from osgeo import gdal

from ..errors import WaterLogRegError
from .gdal_errors import gdal_outcome, open_outcome


def open_raster(path, decode_threads=False, work_file=False):
    """Open a raster read-only or say in plain words why it cannot be opened.

    decode_threads: let a GeoTIFF decompress the blocks of one read on every core (True) or
    on that many threads (a number above 1): the GTiff driver's NUM_THREADS; other drivers
    read as before. A dataset open_raster gave
    already comes back as it is, so a job that passes it on opens its raster once.
    work_file: one of the plugin's own work files (a cluster's chunk of rows), which has no
    grid of its own; any other raster must have one (check_georeferenced).
    """
    if isinstance(path, gdal.Dataset):
        return path
    if not path:
        raise WaterLogRegError("No raster was given; choose a raster layer or file.")
    check_regular_file(str(path), "raster")
    # NUM_THREADS is an open option of the GTiff driver only; others would warn about it.
    threads = "ALL_CPUS" if decode_threads is True else int(decode_threads or 1)
    driver = gdal_outcome(gdal.IdentifyDriverEx, str(path), gdal.OF_RASTER)[0] if threads != 1 else None
    options = [f"NUM_THREADS={threads}"] if driver is not None and driver.ShortName == "GTiff" else []
    # GDAL says what a server answered as a warning, which neither mode makes the failure's reason.
    warnings = []
    gdal.PushErrorHandler(lambda error_class, _number, message: warnings.append(message))
    try:
        dataset, reason = open_outcome(gdal.OpenEx, path, gdal.OF_RASTER | gdal.OF_READONLY, open_options=options)
    finally:
        gdal.PopErrorHandler()
    if dataset is None:
        network = network_failure(str(path), " ".join([reason] + warnings))
        if network:
            raise WaterLogRegError(
                f"The raster '{path}' cannot be opened: {network}. Check the address, and that this machine "
                "can reach it."
            )
        raise WaterLogRegError(
            f"The raster '{path}' cannot be opened ({reason or 'GDAL does not recognise it as a raster'}). "
            "Check that the file exists, is readable and is a raster format GDAL knows."
        )
    if dataset.RasterCount == 0:
        raise WaterLogRegError(f"The raster '{path}' has no bands.")
    if not work_file:
        check_georeferenced(dataset, path)
    return dataset


def check_georeferenced(dataset, path):
    """Refuse a raster whose pixels have no north-up grid on the ground: georeferenced only by
    ground control points or RPCs, or not at all. GDAL reads it on a grid of pixel coordinates
    with no CRS, so a map of it lies nowhere and its areas are in square pixels (11.39 ha for
    1139 ha), and polygons seem to lie outside it."""
    if dataset.GetGeoTransform(can_return_null=True) is not None:
        return
    name = os.path.basename(str(path))
    warp = f"Raster ‣ Projections ‣ Warp (Reproject), or gdalwarp {{}}'{name}' warped.tif, then use warped.tif"
    if dataset.GetGCPCount():
        raise WaterLogRegError(
            f"The raster '{path}' is georeferenced only by {dataset.GetGCPCount()} ground control points "
            "(GCPs): it has no geotransform, so its pixels lie on no map grid. Warp it to a grid first: "
            + warp.format("") + "."
        )
    if dataset.GetMetadata("RPC"):
        raise WaterLogRegError(
            f"The raster '{path}' is georeferenced only by RPCs (rational polynomial coefficients): it has no "
            "geotransform, so its pixels lie on no map grid. Orthorectify it to a grid first: "
            + warp.format("-rpc ") + " (a DEM makes it exact: -to RPC_DEM=dem.tif)."
        )
    raise WaterLogRegError(
        f"The raster '{path}' has no georeferencing (no geotransform, no ground control points): its pixels "
        "have no place on the ground, so no polygon, area or map can be matched to them. Georeference it "
        "(Raster ‣ Georeferencer) or use the original, georeferenced file."
    )


# GDAL's network file systems (and plain web addresses, which GDAL reads through /vsicurl/).
NETWORK_PREFIXES = ("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift",
                    "/vsiwebhdfs", "/vsihdfs", "http://", "https://", "ftp://")
# "HTTP response code on <url>: 403" with exceptions off, "HTTP response code: 403" with them on.
HTTP_CODE = re.compile(r"HTTP response code(?: on .*)?: (\d+)")
NO_FILE = "the server has no file at that address (HTTP 404 Not Found)"
NO_ANSWER = "the server does not answer (no connection)"


def network_failure(path, reason):
    """What went wrong reading a raster over the network, in words; None for a local path or a
    failure that is not the network's. GDAL says nothing for a 404 (the address has no file),
    only 'HTTP response code … N' for the other codes."""
    if not path.startswith(NETWORK_PREFIXES):
        return None
    if "CURL error" in (reason or ""):
        return NO_ANSWER  # with exceptions on; off, GDAL says HTTP response code 0
    match = HTTP_CODE.search(reason or "")
    if match:
        code = int(match.group(1))
        if code == 0:
            return NO_ANSWER
        if code == 404:
            return NO_FILE
        try:
            phrase = f" {http.HTTPStatus(code).phrase}"
        except ValueError:
            phrase = ""
        access = "; the address may need a key or a login" if code in (401, 403) else ""
        return f"the server answers HTTP {code}{phrase}{access}"
    if not reason and gdal.VSIStatL(path) is None:
        return NO_FILE
    return None


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
        mask = read_block(band.GetMaskBand(), (col_off, row_off, cols, rows), f"the mask of band {number}")
        valid &= mask != 0
    return valid


def read_block(source, window, what, **options):
    """`source.ReadAsArray` (a dataset or a band) of the window (col_off, row_off, cols, rows), or
    an error saying that reading `what` failed and why; options go to ReadAsArray (band_list)."""
    col_off, row_off, cols, rows = window
    values, reason = gdal_outcome(source.ReadAsArray, col_off, row_off, cols, rows, **options)
    if values is None:
        dataset = source.GetDataset() if isinstance(source, gdal.Band) else source
        raise unreadable(what, _named_by_path(reason, dataset.GetDescription() if dataset else ""))
    return values


def _named_by_path(reason, path):
    """GDAL 3.11 and later start a block-read error with the file's base name ("scene.tif, band 1:
    …"), GDAL 3.10 and older with the path it was opened with: the user gets the path either way."""
    name = os.path.basename(path)
    if name and name != path and reason.startswith(f"{name}, "):
        return path + reason[len(name):]
    return reason


def unreadable(what, reason):
    """The error for a file that could not be read, with what to do about it."""
    return WaterLogRegError(
        f"Reading {what} failed ({reason}); the file may be damaged or incomplete. Check that it displays "
        "in QGIS, or copy or export it again."
    )


def data_bands(dataset):
    """Every band but alpha bands (transparency, not data): what an empty band selection means."""
    return [number for number in range(1, dataset.RasterCount + 1)
            if dataset.GetRasterBand(number).GetColorInterpretation() != gdal.GCI_AlphaBand]


def gdal_array_type(data_type):
    """numpy's type for a GDAL data type."""
    from osgeo import gdal_array

    return gdal_array.GDALTypeCodeToNumericTypeCode(data_type)
