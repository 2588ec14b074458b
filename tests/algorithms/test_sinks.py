"""Layer outputs in the format their file name asks for: one that cannot hold the layer is refused
before any work (the refusals' words are rows of docs/BAD_INPUT.md); a zip-based one is written."""

import os

import pytest
from qgis.core import QgsProcessingException, QgsVectorLayer
from support.bad_inputs import REFUSED
from support.recording_feedback import RecordingFeedback
from support.synthetic import standard_polygons

# The bad-input table's rows of a layer format that cannot hold the layer: their words and that no
# file is left are checked there, that no work was done before the refusal here.
FORMAT_ROWS = [row for row in REFUSED if row.key in ("samples_as_dxf", "polygon_check_as_gpx", "summary_as_dxf")]


@pytest.mark.parametrize("row", FORMAT_ROWS, ids=[row.key for row in FORMAT_ROWS])
def test_a_format_that_cannot_hold_the_layer_is_refused_before_any_work(run_algorithm, files, row):
    assert len(FORMAT_ROWS) == 3
    (tool,) = row.algorithms
    parameters = files.parameters(tool)
    row.spoil(files, parameters)
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match=r"cannot be written to '.*': .*Choose a format"):
        run_algorithm(tool, parameters, feedback=feedback)
    assert feedback.progress() == 0, tool  # no pixel sampled, no model fitted, no scene mapped
    assert os.listdir(files.output_folder) == [], tool


@pytest.mark.parametrize("extension", [".xlsx", ".ods"])
def test_spreadsheet_outputs_are_written_whole(run_algorithm, files, extension):
    """GDAL takes a path through a folder named like a zip-based file ('.x.xlsx/x.xlsx') for a
    path inside that archive: the layer is staged in a folder whose name does not end so."""
    raster, polygons, out = files.raster, files.polygons, files.output_folder
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
