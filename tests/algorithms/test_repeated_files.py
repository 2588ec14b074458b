"""One file given several times to a tool that takes many: predicted once, counted once, said."""

import os

import numpy as np
import pytest
from osgeo import gdal
from support.recording_feedback import RecordingFeedback
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

# Rows for docs/BAD_INPUT.md's "Accepted, with care" table (write_bad_input_table.py collects them).
ACCEPTED_ROWS = [
    ("The same scene as a picked file, through a link and again through FOLDER/PATTERN",
     ("predictscenes",),
     "Runs each file once, under its first name, and logs: Warning: 2 of the scene paths name a file given "
     "before ('<folder>/link.tif' is '<folder>/scenes/a.tif', '<folder>/scenes/a.tif' again); each file is "
     "predicted once, under its first name."),
    ("The same probability map three times (as 'a.tif', 'sub/../a.tif' and a link)",
     ("wateroccurrence",),
     "Counts it as one date, and logs: Warning: 2 of the rasters in INPUT are files given before "
     "('<folder>/sub/../a.tif' is '<folder>/a.tif', '<folder>/link.tif' is '<folder>/a.tif'); each file "
     "counts as one date."),
]


def logged(index, folder):
    return ACCEPTED_ROWS[index][2].split("logs: ", 1)[1].replace("<folder>", str(folder))


@pytest.fixture(scope="module")
def model_path(provider, tmp_path_factory):
    import processing

    folder = tmp_path_factory.mktemp("model")
    bands, _ = water_scene()
    processing.run("waterlogreg:classifywater", {
        "INPUT": write_raster(folder / "training.tif", bands),
        "POLYGONS": write_polygons(folder / "polygons.gpkg", standard_polygons()), "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "probability.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
    })
    return str(folder / "model.json")


def test_a_scene_given_three_ways_is_predicted_once(run_algorithm, model_path, tmp_path):
    (tmp_path / "scenes").mkdir()
    scene = write_raster(tmp_path / "scenes" / "a.tif", water_scene(rows=40, cols=40)[0])
    os.symlink(scene, tmp_path / "link.tif")
    feedback = RecordingFeedback()
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "SCENES": [scene, str(tmp_path / "link.tif")], "FOLDER": str(tmp_path / "scenes"),
        "PATTERN": "*.tif", "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
    }, feedback=feedback)
    assert logged(0, tmp_path) in feedback.lines
    assert result["SCENES_OK"] == 1 and result["SCENES_FAILED"] == 0
    assert os.listdir(tmp_path / "out") == ["a_water.tif"]


def test_one_map_given_three_times_counts_one_date(run_algorithm, tmp_path):
    (tmp_path / "sub").mkdir()
    probability = np.full((20, 30), 0.9, np.float32)
    probability[:, :10] = 0.1
    first = write_raster(tmp_path / "a.tif", probability[None], nodata=-9999, data_type=gdal.GDT_Float32)
    os.symlink(first, tmp_path / "link.tif")
    feedback = RecordingFeedback()
    result = run_algorithm("wateroccurrence", {
        "INPUT": [first, str(tmp_path / "sub" / ".." / "a.tif"), str(tmp_path / "link.tif")],
        "OUTPUT": str(tmp_path / "occurrence.tif"),
    }, feedback=feedback)
    assert logged(1, tmp_path) in feedback.lines
    assert result["DATES"] == 1 and result["WATER_EVER_PIXELS"] == result["PERMANENT_WATER_PIXELS"] == 400
