"""Outputs left out of processing.run get their default, a temporary file or layer, as the
dialog gives them (QGIS 3.22 itself refuses them: "no value specified"); trainmodel says where
its model is and warns when that is a temporary file."""

import os
from pathlib import Path

import pytest
from qgis.core import QgsProcessingUtils, QgsVectorLayer
from support.recording_feedback import RecordingFeedback
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, provider):
    import processing

    folder = tmp_path_factory.mktemp("defaults")
    raster = write_raster(folder / "scene.tif", water_scene()[0])
    polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
    model = processing.run("waterlogreg:classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT_MODEL": str(folder / "model.json"),
    })["OUTPUT_MODEL"]
    samples = processing.run("waterlogreg:samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "MAX_PIXELS_PER_CLASS": 100,
    })["OUTPUT"]
    return raster, polygons, model, samples


def in_temporary_folder(path):
    return os.path.realpath(path).startswith(os.path.realpath(QgsProcessingUtils.tempFolder()))


@pytest.mark.parametrize("algorithm", ["classifywater", "predictwater", "waterindex"])
def test_an_omitted_raster_output_is_a_temporary_file(run_algorithm, inputs, algorithm):
    raster, polygons, model, _ = inputs
    parameters = {
        "classifywater": {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class"},
        "predictwater": {"INPUT": raster, "MODEL": model},
        "waterindex": {"INPUT": raster, "GREEN_BAND": 1, "NIR_BAND": 3},
    }[algorithm]
    result = run_algorithm(algorithm, parameters)
    assert in_temporary_folder(result["OUTPUT"])
    assert read(result["OUTPUT"])[1].RasterXSize == read(raster)[1].RasterXSize
    assert result["OUTPUT_MASK"] is None


def test_samplepixels_without_output_gives_a_layer(inputs):
    _, _, _, samples = inputs
    assert isinstance(samples, QgsVectorLayer) and samples.featureCount() == 200


def test_predictscenes_without_output_summary_or_folder(run_algorithm, inputs):
    raster, _, model, _ = inputs
    result = run_algorithm("predictscenes", {"MODEL": model, "SCENES": [raster]})
    assert (result["SCENES_OK"], result["SCENES_FAILED"]) == (1, 0)
    assert in_temporary_folder(result["OUTPUT_FOLDER"])
    assert os.listdir(result["OUTPUT_FOLDER"]) == ["scene_water.tif"]
    summary = result["OUTPUT_SUMMARY"]
    assert [feature["status"] for feature in summary.getFeatures()] == ["ok"]


def test_predictscenes_without_output_summary_but_a_folder(run_algorithm, inputs, tmp_path):
    raster, _, model, _ = inputs
    result = run_algorithm("predictscenes", {"MODEL": model, "SCENES": [raster], "OUTPUT_FOLDER": str(tmp_path)})
    assert os.listdir(tmp_path) == ["scene_water.tif"]
    assert result["OUTPUT_SUMMARY"].featureCount() == 1


def test_trainmodel_warns_that_a_temporary_model_vanishes(run_algorithm, inputs):
    _, _, _, samples = inputs
    feedback = RecordingFeedback()
    result = run_algorithm("trainmodel", {"SAMPLES": samples}, feedback=feedback)
    model = result["OUTPUT_MODEL"]
    assert in_temporary_folder(model) and os.path.isfile(model)
    assert f"Model saved to {model}." in feedback.lines
    assert feedback.warnings == [
        "The model is a temporary file: QGIS deletes it when it closes. To keep it, copy it to a folder of "
        "yours now, or run again with 'Model file' set to a file (e.g. water_model.json)."]
    page = Path(result["MODEL_LOCATION"]).read_text(encoding="utf-8")
    assert model in page and "QGIS deletes it when it closes" in page


def test_trainmodel_says_where_a_kept_model_is(run_algorithm, inputs, tmp_path):
    _, _, _, samples = inputs
    feedback = RecordingFeedback()
    result = run_algorithm("trainmodel", {"SAMPLES": samples, "OUTPUT_MODEL": str(tmp_path / "kept.json")},
                           feedback=feedback)
    assert f"Model saved to {tmp_path / 'kept.json'}." in feedback.lines
    assert feedback.warnings == []
    assert str(tmp_path / "kept.json") in Path(result["MODEL_LOCATION"]).read_text(encoding="utf-8")


def test_predictscenes_summary_given_as_none_is_skipped(run_algorithm, inputs, tmp_path):
    raster, _, model, _ = inputs
    result = run_algorithm("predictscenes", {"MODEL": model, "SCENES": [raster], "OUTPUT_FOLDER": str(tmp_path),
                                             "OUTPUT_SUMMARY": None})
    assert result["OUTPUT_SUMMARY"] is None and result["SCENES_OK"] == 1
