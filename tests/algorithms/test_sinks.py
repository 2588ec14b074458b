"""Layer outputs in the format their file name asks for: one that cannot hold the layer is refused
before any work (the refusals' words are rows of docs/BAD_INPUT.md); a zip-based one is written."""

import os

import pytest
from qgis.core import QgsProcessingException, QgsVectorLayer
from support.recording_feedback import RecordingFeedback
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture
def scene(tmp_path):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())
    out = tmp_path / "out"
    out.mkdir()
    return raster, polygons, out


def refusals(raster, polygons, out):
    """(tool, parameters) whose layer output's format cannot hold the layer."""
    return [
        ("samplepixels", {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
                          "OUTPUT": str(out / "samples.dxf")}),
        ("classifywater", {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
                           "OUTPUT": str(out / "p.tif"), "OUTPUT_POLYGON_CHECK": str(out / "check.gpx")}),
        ("predictscenes", {"MODEL": None, "SCENES": [raster], "OUTPUT_FOLDER": str(out / "maps"),
                           "OUTPUT_SUMMARY": str(out / "summary.dxf")}),
    ]


def test_a_format_that_cannot_hold_the_layer_is_refused_before_any_work(run_algorithm, scene, tmp_path):
    raster, polygons, out = scene
    model = run_algorithm("classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "first.tif"),
        "OUTPUT_MODEL": str(tmp_path / "model.json")})["OUTPUT_MODEL"]
    for tool, parameters in refusals(raster, polygons, out):
        parameters["MODEL"] = model if "MODEL" in parameters else None
        parameters = {name: value for name, value in parameters.items() if value is not None}
        feedback = RecordingFeedback()
        with pytest.raises(QgsProcessingException, match=r"cannot be written to '.*': .*Choose a format"):
            run_algorithm(tool, parameters, feedback=feedback)
        assert feedback.progress() == 0, tool  # no pixel sampled, no model fitted, no scene mapped
        assert os.listdir(out) == [], tool


@pytest.mark.parametrize("extension", [".xlsx", ".ods"])
def test_spreadsheet_outputs_are_written_whole(run_algorithm, scene, extension):
    """GDAL takes a path through a folder named like a zip-based file ('.x.xlsx/x.xlsx') for a
    path inside that archive: the layer is staged in a folder whose name does not end so."""
    raster, polygons, out = scene
    result = run_algorithm("classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(out / "p.tif"),
        "OUTPUT_POLYGON_CHECK": str(out / f"check{extension}")})
    samples = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(out / f"samples{extension}"),
        "MAX_PIXELS_PER_CLASS": 50})["OUTPUT"]

    check = QgsVectorLayer(result["OUTPUT_POLYGON_CHECK"], "check")
    assert check.isValid() and check.featureCount() == len(standard_polygons())
    assert {feature["verdict"] for feature in check.getFeatures()} == {"ok"}
    points = QgsVectorLayer(samples, "samples")
    assert points.isValid() and points.featureCount() == 100
    assert sorted(os.listdir(out)) == sorted(["p.tif", f"check{extension}", f"samples{extension}"])
