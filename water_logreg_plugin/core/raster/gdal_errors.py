"""GDAL, OGR and OSR calls that fail alike whether the bindings' exceptions are on or off.

QGIS 3.22 leaves the exceptions of osgeo's gdal, ogr and osr modules off; Processing in QGIS
3.40 and later turns them on for the whole process. The switch is process-wide, shared with
every other plugin and not thread-safe (batch rows run in background threads), so the plugin
never sets it: a call that can fail goes through gdal_outcome, which answers the same either way,
and the caller words the failure for the user.
"""

import os

from osgeo import gdal


def gdal_outcome(call, *args, **kwargs):
    """Run `call(*args, **kwargs)`, a GDAL, OGR or OSR function or method: (result, reason).

    reason is GDAL's message when the call failed, '' when it did not. A failure raises with the
    exceptions on (result is then None) and is only reported with them off (result is what GDAL
    returned: None, a non-zero code, or a value with a write left unfinished); the caller's own
    test of the result, or of reason, decides.
    """
    gdal.ErrorReset()
    try:
        result = call(*args, **kwargs)
    except RuntimeError as error:
        return None, headline(gdal.GetLastErrorMsg() or str(error))
    return result, headline(gdal.GetLastErrorMsg()) if gdal.GetLastErrorType() >= gdal.CE_Failure else ""


def headline(reason):
    """GDAL's message without the "May be caused by: …" lines that GDAL 3.11 and later append
    with the exceptions on: they repeat the lower-level errors that led to the first line, which
    is the one the user can act on, and the one the exceptions-off mode gives."""
    return reason.split("\nMay be caused by:", 1)[0]


def open_outcome(open_call, path, *args, **kwargs):
    """gdal_outcome of an open of `path` (gdal.OpenEx), with the same reason either way.

    With the exceptions on, the bindings open with GDAL_OF_VERBOSE_ERROR, so a file that no
    driver claims comes with GDAL's generic sentence ("`…' not recognized as a supported file
    format.", or "…: No such file or directory" for a path that is not there), which the
    exceptions-off open never gives; it is dropped, so the caller's own words stand in both
    modes. A driver's message (a damaged file) is kept.
    """
    dataset, reason = gdal_outcome(open_call, str(path), *args, **kwargs)
    if dataset is None and (reason.startswith(f"`{path}' ")
                            or reason.startswith(f"{path}: ") and not os.path.exists(path)):
        reason = ""
    return dataset, reason
