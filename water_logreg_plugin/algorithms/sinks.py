"""Feature outputs written so that a cancel, an error or a kill never leaves a file that looks
finished: checked before any work, staged in a hidden folder, moved into place when complete."""

import os
import re
import shutil
import tempfile

from osgeo import gdal
from qgis.core import QgsFeatureSink, QgsProcessingException, QgsProcessingOutputLayerDefinition, QgsProperty

from ..core.errors import Canceled, WaterLogRegError
from ..core.raster.gdal_errors import gdal_outcome
from ..core.raster.writing import DiskFullError, WriteError, scratch_folder, write_failure


def sink_file(algorithm, parameters, name, context):
    """The file a feature sink parameter writes (core.raster.outputs.check_outputs checks it before any
    work); None for a memory layer, a database table or a layer inside an existing file, which
    are left to QGIS."""
    value = parameters.get(name)
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.valueAsString(context.expressionContext())[0]
    value = str(value or "")
    if (value in ("", "TEMPORARY_OUTPUT") or "|" in value or re.match(r"^\w{2,}:", value)
            or not (os.path.splitext(value)[1] or os.path.lexists(value))):
        return None
    return os.path.abspath(value)  # checked by core.raster.outputs.check_outputs before any work


def write_features(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback):
    """Write batches of features to the sink `name`; returns its destination id.

    A file is written in a hidden folder beside its destination and moved into place only
    when complete, so a cancel, an error or a kill never leaves a file that looks finished.
    """
    destination = sink_file(algorithm, parameters, name, context)
    if destination is None:
        return _add_batches(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback)[0]
    folder, file_name = os.path.split(destination)
    with scratch_folder(destination) as staging:
        staged = os.path.join(staging, file_name)
        try:
            staged_id, written = _add_batches(algorithm, _staged_parameters(parameters, name, staged), name,
                                              context, fields, geometry_type, crs, batches, feedback)
            _check_staged(staged, written)
        except FormatError as error:
            raise _format_failure(algorithm, name, destination, error.reason.replace(staged, destination)) from None
        except WriteError as error:
            raise write_failure(destination, error.reason.replace(staged, destination)) from None
        # A shapefile is several files: its sidecars move first, the file users open last.
        for sidecar in sorted(os.listdir(staging), key=lambda entry: entry == file_name):
            os.replace(os.path.join(staging, sidecar), os.path.join(folder, sidecar))
    destination_id = staged_id.replace(staged, destination)
    to_load = context.layersToLoadOnCompletion()
    if staged_id in to_load:
        to_load[destination_id] = to_load.pop(staged_id)
        context.setLayersToLoadOnCompletion(to_load)
    return destination_id


class FormatError(WriteError):
    """QGIS could not create the layer or add a feature to it: mostly the format's limits (GPX
    takes no polygons, DXF no fields of its own), unless the disk is full."""


def check_layer_format(algorithm, parameters, name, context, fields, geometry_type, crs):
    """Before any work: refuse a file format that cannot hold the layer write_features will write
    to the sink `name` (GPX takes no polygons, DXF no fields of its own), by making it empty in a
    temporary folder (the format is tried, not the destination's folder, which check_outputs
    checks); the work would otherwise be lost at its end."""
    destination = sink_file(algorithm, parameters, name, context)
    if destination is None:
        return
    staging = tempfile.mkdtemp(prefix="waterlogreg-format-")
    staged = os.path.join(staging, os.path.basename(destination))
    try:
        staged_id, _ = _add_batches(algorithm, _staged_parameters(parameters, name, staged), name, context,
                                    fields, geometry_type, crs, [], None)  # no batch: no feedback asked
    except FormatError as error:
        raise _format_failure(algorithm, name, destination, error.reason.replace(staged, destination)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # Windows may still hold the file a moment
    to_load = context.layersToLoadOnCompletion()
    if to_load.pop(staged_id, None) is not None:
        context.setLayersToLoadOnCompletion(to_load)


def _staged_parameters(parameters, name, staged):
    """`parameters` with the sink `name` sent to the file `staged`, as the user set it otherwise."""
    staged_parameters = dict(parameters)
    original = parameters.get(name)
    if isinstance(original, QgsProcessingOutputLayerDefinition):
        staged_parameters[name] = QgsProcessingOutputLayerDefinition(original)
        staged_parameters[name].sink = QgsProperty.fromValue(staged)
    else:
        staged_parameters[name] = staged
    return staged_parameters


def _add_batches(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback):
    """Create the sink, add every batch, and close it (the file is complete only once closed)."""
    try:
        sink, sink_id = algorithm.parameterAsSink(parameters, name, context, fields, geometry_type, crs)
    except QgsProcessingException as error:
        raise FormatError(str(error)) from None
    if sink is None:
        raise QgsProcessingException(algorithm.invalidSinkError(parameters, name))
    written = 0
    for batch in batches:
        if feedback.isCanceled():
            raise Canceled()
        if not sink.addFeatures(batch, QgsFeatureSink.Flag.FastInsert):
            raise FormatError(sink.lastError())
        written += len(batch)
    del sink
    return sink_id, written


def _format_failure(algorithm, name, destination, reason):
    """The error for a layer its file's format refused: a full disk said as such, else the
    format's own words (OGR's, where QGIS passes them on) and what to do."""
    failure = write_failure(destination, reason)
    if isinstance(failure, DiskFullError):
        return failure
    said_by_ogr = re.search(r"OGR error: (.+?)\s*\)?\s*$", reason, re.DOTALL)
    reason = " ".join((said_by_ogr[1] if said_by_ogr else reason).split()).rstrip(".")
    definition = algorithm.parameterDefinition(name)
    layer = definition.description() if definition is not None else name
    return WaterLogRegError(
        f"{layer} cannot be written to '{destination}': {reason}. Choose a format that holds it, "
        "such as GeoPackage (.gpkg), then run again."
    )


# Formats that finish their file at close, where QGIS's writer says nothing of a failure, and
# whose header tells the feature count without reading the features (a GeoJSON would be parsed
# whole), or spreadsheets, zipped at close (GDAL once wrote an empty one and said so only in
# its log); the others fail while the features are added.
READ_BACK_EXTENSIONS = (".gpkg", ".sqlite", ".shp", ".fgb", ".xlsx", ".ods")


def _check_staged(path, written):
    """The staged file, closed, holds every feature written: QGIS's writer reports no error at
    close, where a GeoPackage commits (and a full disk makes the commit fail)."""
    if not os.path.exists(path):
        raise WriteError("QGIS's writer made no file")
    if not path.lower().endswith(READ_BACK_EXTENSIONS):
        return
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        # Plain in both of GDAL's exception modes (QGIS 3.40+ turns them on).
        dataset, reason = gdal_outcome(gdal.OpenEx, path, gdal.OF_VECTOR)
    finally:
        gdal.PopErrorHandler()
    layer = dataset.GetLayer(0) if dataset is not None and dataset.GetLayerCount() else None
    held = layer.GetFeatureCount() if layer is not None else None
    if held != written:
        reason = reason or (
            "the file cannot be read back" if held is None else f"it holds {held} of the {written} features written")
        raise WriteError(reason)
