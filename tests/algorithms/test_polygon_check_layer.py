"""OUTPUT_POLYGON_CHECK's features: each check with its input polygon's geometry and fields."""

import numpy as np
from qgis.core import NULL, QgsFeature, QgsGeometry, QgsProcessingFeedback, QgsVectorLayer

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
        PolygonCheck(ids[0], "grass", "land", np.int64(100), 100, np.float64(0.92), 0.03, True, SUSPECT),
        PolygonCheck(ids[1], "water", "water", 0, 0, None, None, False, NO_VALID_PIXEL),
        PolygonCheck(ids[2], None, "ignored", None, 0, None, None, False, IGNORED),
    ]

    batches = list(polygon_check_batches(layer, checks, QgsProcessingFeedback()))

    written = [feature for batch in batches for feature in batch]
    assert written[0].fields().names() == polygon_check_fields().names() == [
        "source_fid", "class", "role", "valid_pixels", "sampled_pixels", "mean_p_water", "agreement", "held_out",
        "verdict"]
    assert written[0].attributes() == [ids[0], "grass", "land", 100, 100, 0.92, 0.03, True, "suspect"]
    # numpy's numbers as Python's: PyQt would wrap them as objects that no file format takes.
    assert [type(value) for value in written[0].attributes()[3:7]] == [int, int, float, float]
    assert written[1].attributes()[5:7] == [None, None]
    assert written[2].attributes()[1:4] == [None, "ignored", None]
    assert [feature.geometry().asWkt() for feature in written] == [
        QgsGeometry.fromWkt(wkt).asWkt() for wkt in boxes]


def scene_and_polygons(folder):
    """The good scene with its near-infrared band nodata in the bottom-left corner, and the
    standard polygons (fids 1–8) with a land polygon drawn over water (9), one in the nodata
    corner (10) and one without a class (11)."""
    from support.synthetic import pixel_box, standard_polygons, water_scene, write_polygons, write_raster

    rows, cols = 200, 240
    bands, _ = water_scene(rows, cols)
    bands[2, rows - 20:, :30] = 0
    raster = write_raster(folder / "scene.tif", bands)
    polygons = write_polygons(folder / "polygons.gpkg", [
        *standard_polygons(rows, cols),
        (pixel_box(cols - 30, 60, cols - 18, 72), "grass"),
        (pixel_box(2, rows - 18, 22, rows - 4), "land"),
        (pixel_box(70, 60, 90, 80), None),
    ])
    return raster, polygons


def test_classifywater_checks_each_polygon_on_every_run_with_the_check_loaded(provider, qgis_new_project, tmp_path):
    """Run three times in one session, loading the output, as a user reruns the tool."""
    import processing
    from qgis.core import QgsProject
    from support.recording_feedback import RecordingFeedback

    raster, polygons = scene_and_polygons(tmp_path)
    for run in range(3):
        before = set(QgsProject.instance().mapLayers())
        feedback = RecordingFeedback()
        output = "TEMPORARY_OUTPUT" if run == 1 else str(tmp_path / f"checked_{run}.gpkg")
        result = processing.runAndLoadResults("waterlogreg:classifywater", {
            "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "SEED": run,
            "OUTPUT": str(tmp_path / f"water_{run}.tif"), "OUTPUT_POLYGON_CHECK": output,
        }, feedback=feedback)

        loaded = [layer for layer_id, layer in QgsProject.instance().mapLayers().items() if layer_id not in before]
        checked = [layer for layer in loaded if layer.name() == "training polygons checked"]
        assert len(checked) == 1, (run, [layer.name() for layer in loaded])
        layer = checked[0]
        assert layer.renderer().type() == "categorizedSymbol" and layer.renderer().classAttribute() == "verdict"
        rows = {feature["source_fid"]: feature for feature in layer.getFeatures()}
        assert sorted(rows) == list(range(1, 12)), run
        for fid in range(1, 9):
            assert rows[fid]["verdict"] == "ok" and rows[fid]["agreement"] > 0.9, (run, fid)
            assert rows[fid]["valid_pixels"] == 600 and rows[fid]["role"] in ("water", "land")
        wrong, in_nodata, unclassed = rows[9], rows[10], rows[11]
        assert (wrong["class"], wrong["role"], wrong["verdict"]) == ("grass", "land", "suspect")
        assert wrong["valid_pixels"] == 144 and wrong["mean_p_water"] > 0.8 and wrong["agreement"] < 0.2
        assert (in_nodata["class"], in_nodata["role"], in_nodata["verdict"]) == ("land", "land", "no valid pixel")
        assert in_nodata["valid_pixels"] == 0
        assert in_nodata["mean_p_water"] in (None, NULL) and in_nodata["agreement"] in (None, NULL)
        assert unclassed["class"] in (None, NULL) and (unclassed["role"], unclassed["verdict"]) == (
            "ignored", "ignored")
        assert [feature.geometry().boundingBox().width() for feature in layer.getFeatures()
                if feature["source_fid"] == 9] == [120.0]
        if run != 1:
            assert layer.source().startswith(output) and result["OUTPUT_POLYGON_CHECK"].startswith(output)
        assert sum(" looks like water" in line for line in feedback.lines) == 1
        assert sum(" yields no valid pixel" in line for line in feedback.lines) == 1
