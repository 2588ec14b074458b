"""A self-intersecting polygon through every tool that reads polygons, under each of Processing's
'Invalid features filtering' settings, and Processing still working after it.

In QGIS 3.22 QGIS's own validity check throws from inside the feature iterator, and the next
Processing run then crashes QGIS; the plugin reads polygons with that check off and applies
the setting itself."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from qgis.core import QgsFeatureRequest, QgsProcessingException, QgsVectorLayer
from support.recording_feedback import RecordingFeedback
from support.synthetic import ORIGIN, bow_tie, standard_polygons, water_scene, write_polygons, write_raster

POLYGON_TOOLS = ("samplepixels", "classifywater", "assessaccuracy")
GOOD_POLYGONS = 8  # standard_polygons(); GeoPackage ids 1 to 8, the bow-tie is 9
BOW_TIE_ID = 9
BOW_TIE_OVER_WATER = bow_tie(150, 50, 20)


BOW_TIE_CENTRE = "501600, 3999400"  # where GEOS finds the self-intersection, in the raster's CRS
MODES = {
    "stop": QgsFeatureRequest.GeometryAbortOnInvalid,
    "skip": QgsFeatureRequest.GeometrySkipInvalid,
    "do_not_filter": QgsFeatureRequest.GeometryNoCheck,
}
SETTING = "Settings ‣ Options ‣ Processing ‣ General ‣ Invalid features filtering"

# Rows of docs/BAD_INPUT.md's two tables (tests/algorithms/write_bad_input_table.py collects them):
# (input, the algorithms' ids or the column's words, what a user sees).
REFUSED_ROWS = [
    ("A self-intersecting polygon (a bow-tie, id 9), Processing's 'Invalid features filtering' at its "
     "default, 'Stop algorithm execution when a geometry is invalid'",
     POLYGON_TOOLS,
     f"Polygon 9 of 'polygons' has an invalid geometry (self-intersection at {BOW_TIE_CENTRE}); fix it with "
     f"Vector ‣ Geometry Tools ‣ Fix Geometries, or set {SETTING} to 'Skip (ignore) features with invalid "
     "geometries', or to 'Do not filter', with which this tool repairs them. The next run works "
     "(QGIS 3.22 crashed on it before)."),
]
ACCEPTED_ROWS = [
    ("A self-intersecting polygon (id 9), the setting at 'Skip (ignore) features with invalid geometries'",
     POLYGON_TOOLS,
     f"Runs without the polygon, and logs: Warning: 1 polygon of 'polygons' with an invalid geometry is skipped, "
     f"as {SETTING} asks: 9 (self-intersection at {BOW_TIE_CENTRE})."),
    ("A self-intersecting polygon (id 9), the setting at 'Do not filter (better performance)'",
     POLYGON_TOOLS,
     "Runs with the polygon repaired (its two triangles), and logs: Warning: 1 polygon of 'polygons' with an "
     "invalid geometry is repaired (as Vector ‣ Geometry Tools ‣ Fix Geometries does) and used, since "
     f"{SETTING} is 'Do not filter': 9 (self-intersection at {BOW_TIE_CENTRE}). Fix the layer to be sure "
     "each shape is the one meant."),
    ("A GeoJSON of polygons and points (points 8 and 9)",
     POLYGON_TOOLS,
     "Runs on the polygons, and logs: Warning: 2 features of 'mixed' are points, not polygons, and are left "
     "out (ids 8, 9); only polygons are training areas."),
]


def logged(index):
    return ACCEPTED_ROWS[index - 1][2].split("logs: ", 1)[1]


@pytest.fixture
def scene(tmp_path):
    """The water scene, its P(water) map for assessaccuracy, and polygons with a bow-tie."""
    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    probability = write_raster(tmp_path / "probability.tif", np.where(truth, 0.9, 0.1)[np.newaxis],
                               nodata=-9999, data_type=gdal.GDT_Float32)
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons() + [(BOW_TIE_OVER_WATER, "water")])
    good = write_polygons(tmp_path / "good.gpkg", standard_polygons())
    (tmp_path / "out").mkdir()
    return {"raster": raster, "probability": probability, "polygons": polygons, "good": good,
            "out": tmp_path / "out"}


def parameters(tool, scene, polygons):
    out = scene["out"]
    common = {"POLYGONS": polygons, "CLASS_FIELD": "class"}
    return {
        "samplepixels": dict(common, INPUT=scene["raster"], MAX_PIXELS_PER_CLASS=0, OUTPUT=str(out / "samples.gpkg")),
        "classifywater": dict(common, INPUT=scene["raster"], OUTPUT=str(out / "probability.tif"),
                              OUTPUT_MODEL=str(out / "model.json")),
        "assessaccuracy": dict(common, INPUT=scene["probability"], OUTPUT_REPORT=str(out / "report.html")),
    }[tool]


def context_with(mode):
    from processing.tools import dataobjects

    context = dataobjects.createContext()
    context.setInvalidGeometryCheck(MODES[mode])
    return context


def sample_counts(path):
    """{polygon id: pixels sampled from it}."""
    counts = {}
    for feature in QgsVectorLayer(path, "samples").getFeatures():
        counts[feature["polygon_id"]] = counts.get(feature["polygon_id"], 0) + 1
    return counts


@pytest.mark.parametrize("tool", POLYGON_TOOLS)
def test_stop_refuses_naming_the_polygon_and_the_next_run_works(run_algorithm, scene, tool):
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(tool, parameters(tool, scene, scene["polygons"]), context=context_with("stop"))
    assert str(refusal.value) == REFUSED_ROWS[0][2].split(" The next run works")[0]
    assert os.listdir(scene["out"]) == []
    # QGIS 3.22 crashed on the run after such a refusal; this one must work.
    result = run_algorithm("samplepixels", parameters("samplepixels", scene, scene["good"]),
                           context=context_with("stop"))
    assert sum(sample_counts(result["OUTPUT"]).values()) == 8 * 600


@pytest.mark.parametrize("tool", POLYGON_TOOLS)
def test_skip_leaves_the_polygon_out_with_a_warning(run_algorithm, scene, tool):
    feedback = RecordingFeedback()
    result = run_algorithm(tool, parameters(tool, scene, scene["polygons"]), context=context_with("skip"),
                           feedback=feedback)
    assert logged(1) in feedback.lines
    if tool == "samplepixels":
        assert sorted(sample_counts(result["OUTPUT"])) == list(range(1, GOOD_POLYGONS + 1))


@pytest.mark.parametrize("tool", POLYGON_TOOLS)
def test_do_not_filter_repairs_the_polygon_with_a_warning(run_algorithm, scene, tool):
    feedback = RecordingFeedback()
    result = run_algorithm(tool, parameters(tool, scene, scene["polygons"]), context=context_with("do_not_filter"),
                           feedback=feedback)
    assert logged(2) in feedback.lines
    if tool == "samplepixels":
        # The two triangles of a 20-pixel square: about 180 pixel centres, a few more on their edges.
        assert 170 <= sample_counts(result["OUTPUT"])[BOW_TIE_ID] <= 220


def test_a_polygon_folded_onto_a_line_has_nothing_to_repair(run_algorithm, scene, tmp_path):
    x, y = ORIGIN[0] + 1600, ORIGIN[1] - 600
    folded = f"POLYGON (({x} {y}, {x + 100} {y - 100}, {x + 200} {y - 200}, {x} {y}))"
    polygons = write_polygons(tmp_path / "folded.gpkg", standard_polygons() + [(folded, "water")])
    feedback = RecordingFeedback()
    result = run_algorithm("samplepixels", parameters("samplepixels", scene, polygons),
                           context=context_with("do_not_filter"), feedback=feedback)
    assert any(line.startswith("Warning: 1 polygon of 'folded' with an invalid geometry is repaired")
               and "Repaired, polygon 9 has no area left and is skipped." in line for line in feedback.lines)
    assert sorted(sample_counts(result["OUTPUT"])) == list(range(1, GOOD_POLYGONS + 1))


def write_mixed_geojson(path):
    """The standard polygons (ids 0 to 7) and two points over water (ids 8 and 9), in one GeoJSON."""
    datasource = ogr.GetDriverByName("GeoJSON").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    layer = datasource.CreateLayer("mixed", srs, ogr.wkbUnknown)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    points = [f"POINT ({ORIGIN[0] + 1505} {ORIGIN[1] - 505})", f"POINT ({ORIGIN[0] + 1605} {ORIGIN[1] - 505})"]
    for wkt, value in standard_polygons() + [(point, "water") for point in points]:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        feature.SetField("class", value)
        layer.CreateFeature(feature)
    datasource = None
    return str(path)


@pytest.mark.parametrize("tool", POLYGON_TOOLS)
def test_points_in_a_mixed_layer_are_left_out_with_a_warning(run_algorithm, scene, tmp_path, tool):
    mixed = write_mixed_geojson(tmp_path / "mixed.geojson")
    feedback = RecordingFeedback()
    result = run_algorithm(tool, parameters(tool, scene, mixed), feedback=feedback)
    assert logged(3) in feedback.lines
    if tool == "samplepixels":
        assert sorted(sample_counts(result["OUTPUT"])) == list(range(GOOD_POLYGONS))


CRASH_PAIR = textwrap.dedent("""
    import sys
    sys.path[:0] = [{root!r}, {tests!r}, "/usr/share/qgis/python/plugins"]
    from qgis.core import QgsApplication, QgsProcessingException
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    import processing
    from water_logreg_plugin.plugin import WaterLogRegPlugin
    WaterLogRegPlugin(None).initProcessing()
    for tool, parameters in {refused!r}:
        try:
            processing.run("waterlogreg:" + tool, parameters)
        except QgsProcessingException as refusal:
            print("refused:", str(refusal).split(";")[0], flush=True)
    result = processing.run("waterlogreg:samplepixels", {good!r})
    print("next run:", result["OUTPUT"], flush=True)
""")


def test_the_run_after_a_refusal_does_not_crash_a_fresh_qgis(scene):
    """Processing's own settings (stop, the default), in a QGIS of its own: QGIS 3.22 crashed
    (segmentation fault) on the run after its validity exception; a crash here fails one test."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    refused = [(tool, parameters(tool, scene, scene["polygons"])) for tool in POLYGON_TOOLS]
    good = dict(parameters("samplepixels", scene, scene["good"]), OUTPUT=str(scene["out"] / "after.gpkg"))
    script = CRASH_PAIR.format(root=root, tests=os.path.join(root, "tests"), refused=refused, good=good)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith(("refused:", "next run:"))]
    assert lines == ["refused: Polygon 9 of 'polygons' has an invalid geometry "
                     f"(self-intersection at {BOW_TIE_CENTRE})"] * 3 + [f"next run: {good['OUTPUT']}"]
