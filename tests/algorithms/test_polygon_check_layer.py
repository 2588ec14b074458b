"""OUTPUT_POLYGON_CHECK's features: each check with its input polygon's geometry and fields."""

from qgis.core import QgsFeature, QgsGeometry, QgsProcessingFeedback, QgsVectorLayer

from water_logreg_plugin.algorithms.polygon_check_layer import polygon_check_batches, polygon_check_fields
from water_logreg_plugin.core.learning.polygon_check import IGNORED, NO_VALID_PIXEL, SUSPECT, PolygonCheck


def test_each_check_carries_its_polygon_and_its_figures(qgis_app):
    layer = QgsVectorLayer("Polygon?crs=EPSG:32633&field=class:string", "polygons", "memory")
    boxes = ["POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", "POLYGON((20 0, 30 0, 30 10, 20 10, 20 0))",
             "POLYGON((40 0, 50 0, 50 10, 40 10, 40 0))"]
    features = []
    for wkt, value in zip(boxes, ["grass", "water", None]):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromWkt(wkt))
        feature.setAttributes([value])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    ids = [feature.id() for feature in layer.getFeatures()]
    checks = [
        PolygonCheck(ids[0], "grass", "land", 100, 100, 0.92, 0.03, True, SUSPECT),
        PolygonCheck(ids[1], "water", "water", 0, 0, None, None, False, NO_VALID_PIXEL),
        PolygonCheck(ids[2], None, "ignored", None, 0, None, None, False, IGNORED),
    ]

    batches = list(polygon_check_batches(layer, checks, QgsProcessingFeedback()))

    written = [feature for batch in batches for feature in batch]
    assert written[0].fields().names() == polygon_check_fields().names() == [
        "source_fid", "class", "role", "valid_pixels", "sampled_pixels", "mean_p_water", "agreement", "held_out",
        "verdict"]
    assert written[0].attributes() == [ids[0], "grass", "land", 100, 100, 0.92, 0.03, True, "suspect"]
    assert written[1].attributes()[5:7] == [None, None]
    assert written[2].attributes()[1:4] == [None, "ignored", None]
    assert [feature.geometry().asWkt() for feature in written] == [
        QgsGeometry.fromWkt(wkt).asWkt() for wkt in boxes]
