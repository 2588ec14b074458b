"""The features of a polygon layer, with invalid geometries handled by the plugin, not by QGIS.

QGIS 3.22 checks validity inside the feature iterator and throws a C++ exception from it when a
geometry is invalid; once that exception has crossed the Python iterator, the next Processing
run in the same QGIS crashes it. So every polygon layer is read with that check off, and the
run's 'Invalid features filtering' setting is applied here, after the iterator is closed.
"""

from dataclasses import dataclass

from qgis.core import (
    Qgis,
    QgsFeatureRequest,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeatureSource,
    QgsProcessingFeatureSourceDefinition,
    QgsWkbTypes,
)

from ..core.errors import Canceled
from ..core.learning.sampling import LISTED_IDS

SETTING = "Settings ‣ Options ‣ Processing ‣ General ‣ Invalid features filtering"
FIX_GEOMETRIES = "Vector ‣ Geometry Tools ‣ Fix Geometries"


@dataclass
class PolygonFeature:
    """A feature's id, the attribute asked for, and its geometry (curves made segments)."""
    feature_id: int
    value: object
    geometry: QgsGeometry


@dataclass
class LayerReading:
    """What one pass over the layer found, before the invalid-features setting is applied."""
    polygons: list
    invalid: list       # (PolygonFeature, why it is invalid)
    not_polygons: list  # (feature id, geometry type) of points and lines in a mixed layer
    without_geometry: list


def read_polygon_features(parameters, layer_name, source, request, field_index, context, feedback):
    """The polygons of `source` as PolygonFeature, the run's invalid-features setting applied
    (stop: refused naming them; skip: left out with a warning; do not filter: repaired with a
    warning); features that are not polygons (points in a mixed GeoJSON) are left out with a warning."""
    reading = _read_once(source, request, field_index, feedback)
    if reading.without_geometry:
        feedback.pushInfo(_listed_sentence(
            reading.without_geometry, "Polygon {} has no geometry and is skipped.",
            "{} polygons have no geometry and are skipped (ids {})."))
    if reading.not_polygons:
        feedback.pushInfo(_not_polygons_warning(source.sourceName(), reading.not_polygons))
    if not reading.invalid:
        return reading.polygons
    check = geometry_check(parameters, layer_name, context)
    if check == QgsFeatureRequest.InvalidGeometryCheck.GeometryAbortOnInvalid:
        raise QgsProcessingException(_invalid_refusal(source.sourceName(), reading.invalid))
    if check == QgsFeatureRequest.InvalidGeometryCheck.GeometrySkipInvalid:
        feedback.pushInfo(
            f"Warning: {_count(reading.invalid, 'polygon')} of '{source.sourceName()}' with an invalid geometry "
            f"{_is_are(reading.invalid)} skipped, as {SETTING} asks: {_described(reading.invalid)}."
        )
        invalid_ids = {feature.feature_id for feature, _ in reading.invalid}
        return [feature for feature in reading.polygons if feature.feature_id not in invalid_ids]
    repaired, collapsed = _repair(reading.invalid)
    feedback.pushInfo(_repaired_warning(source.sourceName(), reading.invalid, collapsed))
    # In the layer's order, as a valid layer would give them.
    return [repaired.get(feature.feature_id, feature) for feature in reading.polygons
            if feature.feature_id not in collapsed]


def geometry_check(parameters, layer_name, context):
    """The invalid-features setting for this layer: the one chosen for it in the dialog's
    advanced options where it overrides the run's, else the run's (Processing's settings)."""
    value = parameters.get(layer_name)
    if (isinstance(value, QgsProcessingFeatureSourceDefinition)
            and value.flags & QgsProcessingFeatureSourceDefinition.Flag.FlagOverrideDefaultGeometryCheck):
        return value.geometryCheck
    return context.invalidGeometryCheck()


def unchecked_features(source, request):
    """An iterator over `source` with QGIS's validity check off (see the module's docstring)."""
    request.setInvalidGeometryCheck(QgsFeatureRequest.InvalidGeometryCheck.GeometryNoCheck)
    return source.getFeatures(request, QgsProcessingFeatureSource.Flag.FlagSkipGeometryValidityChecks)


def _read_once(source, request, field_index, feedback):
    """One pass over the layer; nothing is raised while the iterator is open."""
    reading = LayerReading([], [], [], [])
    canceled = False
    iterator = unchecked_features(source, request)
    for feature in iterator:
        if feedback.isCanceled():
            canceled = True
            break
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            reading.without_geometry.append(feature.id())
            continue
        if geometry.type() != QgsWkbTypes.GeometryType.PolygonGeometry:
            reading.not_polygons.append((feature.id(), geometry.type()))
            continue
        if QgsWkbTypes.isCurvedType(geometry.wkbType()):
            # Arcs become short segments: GDAL rasterizes polygons, not curves.
            geometry = QgsGeometry(geometry.constGet().segmentize())
        polygon = PolygonFeature(int(feature.id()), feature.attribute(field_index), geometry)
        reading.polygons.append(polygon)
        if not geometry.isGeosValid():
            reading.invalid.append((polygon, _why_invalid(geometry)))
    iterator.close()
    if canceled:
        raise Canceled()
    return reading


def _why_invalid(geometry):
    """GEOS's first reason, with where it is: 'self-intersection at 500200, 3999800'."""
    errors = geometry.validateGeometry(Qgis.GeometryValidationEngine.Geos)
    if not errors:
        return "invalid"
    error = errors[0]
    where = f" at {_number(error.where().x())}, {_number(error.where().y())}" if error.hasWhere() else ""
    return f"{error.what().lower()}{where}"


def _number(value):
    return f"{value:.10g}"


def _repair(invalid):
    """{id: the polygon made valid} (GEOS's makeValid, as Fix Geometries does), keeping only what
    is still an area; and the ids of those with no area left (a polygon folded onto a line)."""
    repaired, collapsed = {}, []
    for polygon, _ in invalid:
        areas = [part for part in polygon.geometry.makeValid().asGeometryCollection()
                 if part.type() == QgsWkbTypes.GeometryType.PolygonGeometry]
        if areas:
            repaired[polygon.feature_id] = PolygonFeature(
                polygon.feature_id, polygon.value, QgsGeometry.collectGeometry(areas))
        else:
            collapsed.append(polygon.feature_id)
    return repaired, collapsed


def _invalid_refusal(layer_name, invalid):
    fix = (f"fix {'it' if len(invalid) == 1 else 'them'} with {FIX_GEOMETRIES}, or set {SETTING} to "
           "'Skip (ignore) features with invalid geometries', or to 'Do not filter', with which this tool "
           "repairs them.")
    if len(invalid) == 1:
        polygon, why = invalid[0]
        return f"Polygon {polygon.feature_id} of '{layer_name}' has an invalid geometry ({why}); {fix}"
    return f"{len(invalid)} polygons of '{layer_name}' have invalid geometries: {_described(invalid)}; {fix}"


def _repaired_warning(layer_name, invalid, collapsed):
    warning = (
        f"Warning: {_count(invalid, 'polygon')} of '{layer_name}' with an invalid geometry {_is_are(invalid)} "
        f"repaired (as {FIX_GEOMETRIES} does) and used, since {SETTING} is 'Do not filter': "
        f"{_described(invalid)}."
    )
    if collapsed:
        warning += (" Repaired, " + _listed_sentence(collapsed, "polygon {} has no area left and is skipped.",
                                                     "{} of them have no area left and are skipped (ids {})."))
    return warning + " Fix the layer to be sure each shape is the one meant."


def _not_polygons_warning(layer_name, not_polygons):
    kinds = sorted({QgsWkbTypes.geometryDisplayString(kind).lower() for _, kind in not_polygons})
    if len(not_polygons) == 1:
        return (f"Warning: feature {not_polygons[0][0]} of '{layer_name}' is a {kinds[0]}, not a polygon, and is "
                "left out; only polygons are training areas.")
    ids = [feature_id for feature_id, _ in not_polygons]
    return (f"Warning: {len(ids)} features of '{layer_name}' are {' and '.join(kind + 's' for kind in kinds)}, "
            f"not polygons, and are left out (ids {_ids(ids)}); only polygons are training areas.")


def _described(invalid):
    """'9 (self-intersection at 1, 1), 12 (…)', the first few of them."""
    described = ", ".join(f"{polygon.feature_id} ({why})" for polygon, why in invalid[:LISTED_IDS])
    return described + (f" and {len(invalid) - LISTED_IDS} more" if len(invalid) > LISTED_IDS else "")


def _ids(ids):
    listed = ", ".join(map(str, ids[:LISTED_IDS]))
    return listed + (f" and {len(ids) - LISTED_IDS} more" if len(ids) > LISTED_IDS else "")


def _listed_sentence(ids, one, several):
    return one.format(ids[0]) if len(ids) == 1 else several.format(len(ids), _ids(ids))


def _count(items, noun):
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _is_are(items):
    return "is" if len(items) == 1 else "are"
