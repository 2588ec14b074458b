"""QGIS layers into what the core takes: a raster's file, training polygons in the raster's
CRS, a samples layer as arrays. The checks that need no QGIS are the core's."""

import json
import re

import numpy as np
from qgis.core import QgsFeatureRequest, QgsProcessingException, QgsWkbTypes
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from ..core.errors import Canceled
from ..core.learning.class_field import FEATURE_ID_NAMES, preferred_class_field
from ..core.learning.sampling import Samples, TrainingPolygon, check_polygon_classes
from . import field_types
from .parameters import ParameterNames as Names
from .polygon_reading import read_polygon_features, unchecked_features

BAND_FIELD = re.compile(r"^b(\d+)$")
# The raster a samples layer came from: band count and data type (compatibility.raster_description).
SOURCE_FIELDS = (("src_bands", field_types.INTEGER), ("src_type", field_types.TEXT), ("src_scale", field_types.TEXT))


def raster_path(algorithm, parameters, context, name=Names.INPUT):
    """The file behind a raster parameter, refused where GDAL cannot read it directly."""
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    return gdal_file(layer, name), layer


def gdal_file(layer, name):
    """The file GDAL reads behind a raster layer (of parameter `name`)."""
    if layer is None:
        raise QgsProcessingException(
            f"The raster given as {name} cannot be loaded; choose a raster layer or a raster file."
        )
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The raster '{layer.name()}' comes from the '{layer.providerType()}' provider; this "
            "tool reads rasters with GDAL. Save it as a GeoTIFF first (Export → Save As)."
        )
    return layer.source()


def vector_file(algorithm, parameters, name, context):
    """The file behind a vector parameter ('samples.gpkg|layername=…' as QGIS gives it), for the
    check that no output overwrites it; None for a layer that is no file (memory, database)."""
    layer = algorithm.parameterAsVectorLayer(parameters, name, context)
    if layer is None or layer.providerType() != "ogr":
        return None
    return layer.source()


def parse_water_values(text):
    values = {_normalise(value) for value in (text or "").split(",")} - {""}
    if not values:
        raise QgsProcessingException(
            "WATER_VALUES is empty; give the value(s) of the class field that mean water, "
            "e.g. 'water,1'."
        )
    return values


def training_polygons(algorithm, parameters, context, feedback, raster_crs,
                      layer_name=Names.POLYGONS, field_name=Names.CLASS_FIELD, unclassed=None):
    """The polygons as TrainingPolygon in the raster's CRS, labelled water or land, with their
    class value; the ids of features without a class are added to `unclassed` (a list) if given."""
    source = algorithm.parameterAsSource(parameters, layer_name, context)
    if source is None:
        raise QgsProcessingException(algorithm.invalidSourceError(parameters, layer_name))
    geometry_type = QgsWkbTypes.geometryType(source.wkbType())
    if geometry_type != QgsWkbTypes.GeometryType.PolygonGeometry:
        raise QgsProcessingException(
            f"The layer '{source.sourceName()}' holds {QgsWkbTypes.geometryDisplayString(geometry_type).lower()} "
            "geometries, not polygons; draw training areas as polygons."
        )
    class_field = chosen_class_field(source, algorithm.parameterAsString(parameters, field_name, context), feedback)
    field_index = source.fields().lookupField(class_field)
    if field_index < 0:
        raise QgsProcessingException(
            f"The class field '{class_field}' is not a field of '{source.sourceName()}'; "
            f"its fields are: {', '.join(source.fields().names()) or 'none'}. Choose the field that says water or land."
        )
    refuse_feature_ids(source, field_index)
    water_values = parse_water_values(algorithm.parameterAsString(parameters, Names.WATER_VALUES, context))
    if source.featureCount() == 0:
        raise QgsProcessingException(
            f"The polygon layer '{source.sourceName()}' has no features; "
            "draw training polygons of water and land first."
        )
    request = QgsFeatureRequest().setSubsetOfAttributes([field_index])
    if not _lacks_crs(source.sourceCrs()):
        request.setDestinationCrs(raster_crs, context.transformContext())
    else:
        # Polygons digitised over the raster in a project without a CRS: their numbers are the raster's.
        feedback.pushInfo(
            f"Warning: the layer '{source.sourceName()}' has no CRS; its coordinates are taken to be in "
            f"the raster's CRS ({raster_crs.authid() or 'none'}). Set the layer's CRS if they are not."
        )
    polygons, found_values = [], set()
    unclassed = [] if unclassed is None else unclassed
    for feature in read_polygon_features(parameters, layer_name, source, request, field_index, context, feedback):
        value = _normalise(feature.value)
        if value == "":
            unclassed.append(feature.feature_id)  # NULL or blank is no class: neither water nor land
            continue
        found_values.add(value)
        polygons.append(TrainingPolygon(feature.feature_id, bytes(feature.geometry.asWkb()),
                                        value in water_values, value))
    if unclassed:
        ids = ", ".join(map(str, unclassed[:5])) + (f" and {len(unclassed) - 5} more" if len(unclassed) > 5 else "")
        feedback.pushInfo(
            f"Warning: polygons with no value in the field '{class_field}' are neither water nor land and "
            f"are skipped: {len(unclassed)} (ids {ids}). Give them a class to train on them."
        )
    check_polygon_classes(polygons, class_field, water_values, found_values)
    return polygons


def chosen_class_field(source, chosen, feedback):
    """The class field: the one chosen, else the layer's class-like one (core.learning.class_field),
    named in the log; refused when CLASS_FIELD is empty and the layer has none."""
    if chosen:
        return chosen
    fields = source.fields()
    picked = preferred_class_field([(field.name(), field.type() == field_types.TEXT) for field in fields])
    if picked is None:
        raise QgsProcessingException(
            f"CLASS_FIELD is empty and '{source.sourceName()}' has no field named like class, label or type, "
            f"nor a text field; its fields are: {', '.join(fields.names()) or 'none'}. "
            "Choose the field that says water or land."
        )
    feedback.pushInfo(f"Class field: '{picked}' of '{source.sourceName()}' (CLASS_FIELD left empty); "
                      "choose CLASS_FIELD to use another.")
    return picked


def refuse_feature_ids(source, field_index):
    """A numeric field with a different value on every polygon numbers the polygons (GeoPackage's
    fid, an id): with WATER_VALUES 'water,1' it would make polygon 1 the only water. Refused,
    from three polygons on, or from two where the field is named like an id."""
    field = source.fields().at(field_index)
    if not field.isNumeric():
        return
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.Flag.NoGeometry).setSubsetOfAttributes([field_index])
    values = [_normalise(feature.attribute(field_index)) for feature in unchecked_features(source, request)]
    if "" in values or len(set(values)) != len(values):
        return
    if len(values) >= 3 or (len(values) == 2 and FEATURE_ID_NAMES.match(field.name())):
        raise QgsProcessingException(
            f"The class field '{field.name()}' of '{source.sourceName()}' holds a different number for "
            f"each of its {len(values)} polygons, as a feature id does, so it cannot say which polygons "
            "are water. Pick the class field: the field whose values say water or land (e.g. 'class' "
            "holding 'water' and 'land'), and list its water values in WATER_VALUES."
        )
def _lacks_crs(crs):
    """No CRS, or a GeoPackage's stand-in for none (srs_id 0 and -1: 'Undefined geographic SRS',
    'Undefined cartesian SRS'), which QGIS reads as a valid CRS."""
    return not crs.isValid() or (not crs.authid() and crs.description().startswith("Undefined "))


def _normalise(value):
    """Class values compared as text: ' Water ' = 'water', 1 = 1.0 = '1'; dates and times as
    ISO 8601 text ('2021-06-30', '2021-06-30T10:00:00'), as WATER_VALUES would give them."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return ""
    if isinstance(value, (QDate, QDateTime, QTime)):
        value = value.toString(Qt.DateFormat.ISODate)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def read_samples(source, feedback):
    """Band values, labels and polygon ids of a samples layer, as numpy arrays."""
    fields = source.fields()
    band_fields = sorted(
        ((int(match.group(1)), index) for index, name in enumerate(fields.names())
         if (match := BAND_FIELD.match(name))),
    )
    label_index = fields.lookupField("label")
    if not band_fields or label_index < 0:
        raise QgsProcessingException(
            f"'{source.sourceName()}' is not a samples layer: it needs band fields b1, b2, … and "
            f"a 'label' field (its fields are {', '.join(fields.names()) or 'none'}). Make one "
            "with 'Sample training pixels'."
        )
    polygon_index = fields.lookupField("polygon_id")
    wanted = [index for _, index in band_fields] + [label_index] + ([polygon_index] if polygon_index >= 0 else [])
    source_indices = [fields.lookupField(name) for name, _ in SOURCE_FIELDS]
    has_source = all(index >= 0 for index in source_indices)
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.Flag.NoGeometry).setSubsetOfAttributes(
        wanted + (source_indices if has_source else []))
    rows, kinds = [], set()
    for feature in source.getFeatures(request):
        if feedback.isCanceled():
            raise Canceled()
        attributes = feature.attributes()
        rows.append([_number(attributes[index]) for index in wanted])
        if has_source:
            kinds.add(tuple(_normalise(attributes[index]) if number == 0 else str(attributes[index] or "").strip()
                            for number, index in enumerate(source_indices)))
    table = np.array(rows, dtype=np.float64).reshape(-1, len(wanted))
    band_count = len(band_fields)
    labels = table[:, band_count]
    usable = np.isfinite(table[:, :band_count]).all(axis=1) & np.isin(labels, (0, 1))
    if not usable.all():
        feedback.pushInfo(f"{int((~usable).sum())} samples with empty values or a label other than 0/1 are skipped.")
    table = table[usable]
    polygon_ids = table[:, band_count + 1].astype(np.int64) if polygon_index >= 0 else np.arange(len(table))
    return Samples(
        [band for band, _ in band_fields], table[:, :band_count], table[:, band_count].astype(np.uint8),
        polygon_ids, np.zeros(len(table)), np.zeros(len(table)), raster=_raster_kind(source, kinds, feedback),
    )


def _raster_kind(source, kinds, feedback):
    """{'band_count', 'data_type'} of the raster the samples came from, from the src_ fields."""
    kinds = {kind for kind in kinds if kind[0] and kind[1]}
    if len(kinds) > 1:
        described = "; ".join(f"{count} bands of {data_type}" + (f" scaled {scaling}" if scaling else "")
                              for count, data_type, scaling in sorted(kinds))
        raise QgsProcessingException(
            f"The samples in '{source.sourceName()}' come from rasters of different kinds ({described}); "
            "a model needs pixels of one kind of raster. Sample each kind into a layer of its own."
        )
    if not kinds:
        feedback.pushInfo(
            f"Warning: '{source.sourceName()}' does not say which raster its samples came from (no "
            "src_bands, src_type and src_scale fields); the model will not check the band count and data "
            "type of the rasters it predicts. Sample again with 'Sample training pixels' to record them."
        )
        return {}
    count, data_type, scaling = kinds.pop()
    try:
        scaling = json.loads(scaling) if scaling else None
    except ValueError:
        scaling = None
    return {"band_count": int(count), "data_type": data_type, "scale_offset": scaling}


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
