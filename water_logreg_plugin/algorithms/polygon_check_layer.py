"""OUTPUT_POLYGON_CHECK: the training polygons checked (core.learning.polygon_check), one feature
an input polygon with its geometry as drawn, in the polygon layer's CRS."""

import numbers

from qgis.core import QgsFeature, QgsFeatureRequest, QgsField, QgsFields

from ..core.errors import Canceled
from . import field_types

# (field, type, PolygonCheck attribute)
POLYGON_CHECK_FIELDS = (
    ("source_fid", field_types.LONG, "source_fid"),
    ("class", field_types.TEXT, "class_value"),
    ("role", field_types.TEXT, "role"),
    ("valid_pixels", field_types.LONG, "valid_pixels"),
    ("sampled_pixels", field_types.LONG, "sampled_pixels"),
    ("mean_p_water", field_types.DOUBLE, "mean_p_water"),
    ("agreement", field_types.DOUBLE, "agreement"),
    ("held_out", field_types.BOOLEAN, "held_out"),
    ("verdict", field_types.TEXT, "verdict"),
)
BATCH_FEATURES = 1000


def polygon_check_fields():
    fields = QgsFields()
    for name, kind, _ in POLYGON_CHECK_FIELDS:
        fields.append(QgsField(name, kind))
    return fields


def polygon_check_batches(source, checks, feedback):
    """Batches of features for write_features: each check with its input feature's geometry,
    read again from `source` by feature id (the geometry as drawn, before any reprojection)."""
    by_id = {check.source_fid: check for check in checks}
    request = QgsFeatureRequest().setFilterFids(list(by_id)).setNoAttributes()
    geometries = {}
    for feature in source.getFeatures(request):
        if feedback.isCanceled():
            raise Canceled()
        geometries[feature.id()] = feature.geometry()
    fields = polygon_check_fields()
    batch = []
    for check in checks:
        feature = QgsFeature(fields)
        geometry = geometries.get(check.source_fid)
        if geometry is not None:
            feature.setGeometry(geometry)
        feature.setAttributes([_attribute(getattr(check, attribute)) for _, _, attribute in POLYGON_CHECK_FIELDS])
        batch.append(feature)
        if len(batch) == BATCH_FEATURES:
            yield batch
            batch = []
    if batch:
        yield batch


def _attribute(value):
    """NULL for None; numbers as Python's own (PyQt wraps a numpy number as an object that no
    file format takes); the class value as text, as WATER_VALUES compares it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)
