"""waterlogreg:predictscenes — one model over many scenes, failures reported per scene."""

import csv
import os
import time

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture(scope="module")
def model_path(provider, tmp_path_factory):
    """A model trained by classifywater on a 3-band UInt16 scene (it records band count and type)."""
    import processing

    folder = tmp_path_factory.mktemp("model")
    bands, _ = water_scene()
    processing.run("waterlogreg:classifywater", {
        "INPUT": write_raster(folder / "training.tif", bands),
        "POLYGONS": write_polygons(folder / "polygons.gpkg", standard_polygons()),
        "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "probability.tif"),
        "OUTPUT_MODEL": str(folder / "model.json"),
    })
    return str(folder / "model.json")


def read_summary(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {os.path.basename(row["scene"]): row for row in csv.DictReader(handle)}


def test_good_scenes_predicted_and_bad_ones_refused_with_the_reason(run_algorithm, model_path, tmp_path):
    picked, folder, output = tmp_path / "picked", tmp_path / "folder", tmp_path / "out"
    picked.mkdir()
    folder.mkdir()
    first, _ = water_scene(seed=1)
    second, truth = water_scene(rows=90, cols=100, seed=2)
    write_raster(picked / "first.tif", first)
    write_raster(folder / "second.tif", second)
    write_raster(folder / "four_bands.tif", np.concatenate([second, second[:1]]))
    write_raster(folder / "reflectance.tif", second.astype(np.float32) / 10000, data_type=gdal.GDT_Float32)
    (folder / "broken.tif").write_text("not a raster")
    write_raster(folder / "ignored.img", second, options=())
    progress = []
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(progress.append)

    started = time.monotonic()
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "SCENES": [str(picked / "first.tif")], "FOLDER": str(folder), "PATTERN": "*.tif",
        "OUTPUT_FOLDER": str(output), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
    }, feedback=feedback)
    elapsed = time.monotonic() - started

    assert (result["SCENES_OK"], result["SCENES_FAILED"]) == (2, 3)
    assert sorted(os.listdir(output)) == ["first_water.tif", "second_water.tif"]
    probability, dataset = read(output / "second_water.tif")
    assert (dataset.RasterXSize, dataset.RasterYSize) == (100, 90)
    assert ((probability >= 0.5) == truth).mean() > 0.99
    rows = read_summary(result["OUTPUT_SUMMARY"])
    assert set(rows) == {"first.tif", "second.tif", "four_bands.tif", "reflectance.tif", "broken.tif"}
    assert rows["second.tif"]["status"] == "ok"
    assert int(rows["second.tif"]["pixels"]) == 90 * 100
    assert float(rows["second.tif"]["water_fraction"]) == pytest.approx(0.5, abs=0.01)
    # The scene's own time: part of the whole run's, not a placeholder (a consistency check, no speed limit).
    assert 0 < float(rows["second.tif"]["seconds"]) <= elapsed
    assert rows["four_bands.tif"]["status"] == "failed"
    assert rows["four_bands.tif"]["reason"] == (
        "The model was trained on a raster of 3 bands, but 'four_bands.tif' has 4, so the same band "
        "numbers may hold other wavelengths. Predict only on rasters with the same bands as the one "
        "the model was trained on."
    )
    assert rows["reflectance.tif"]["status"] == "failed"
    assert rows["reflectance.tif"]["reason"].startswith(
        "The model was trained on UInt16 pixels, but 'reflectance.tif' holds Float32 pixels")
    assert rows["broken.tif"]["status"] == "failed"
    assert "broken.tif" in rows["broken.tif"]["reason"]
    assert progress[-1] == pytest.approx(100)
    assert progress == sorted(progress)


def test_no_scene_is_refused(run_algorithm, model_path, tmp_path):
    with pytest.raises(QgsProcessingException, match="No scene was given"):
        run_algorithm("predictscenes", {
            "MODEL": model_path, "FOLDER": str(tmp_path), "PATTERN": "*.tif",
            "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
        })


def checksum(path):
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_scenes_of_one_name_each_keep_their_result_and_no_scene_is_overwritten(run_algorithm, model_path, tmp_path):
    """a/scene.tif and b/scene.tif, and lake.tif beside a scene lake_water.tif in the output folder."""
    out = tmp_path / "out"
    for folder in ("a", "b", "out"):
        (tmp_path / folder).mkdir()
    scenes = [write_raster(tmp_path / "a" / "scene.tif", water_scene(rows=30, cols=40, seed=1)[0]),
              write_raster(tmp_path / "b" / "scene.tif", water_scene(rows=30, cols=40, seed=2)[0]),
              write_raster(out / "lake.tif", water_scene(rows=30, cols=40, seed=3)[0]),
              write_raster(out / "lake_water.tif", water_scene(rows=30, cols=40, seed=4)[0])]
    before = {scene: checksum(scene) for scene in scenes}
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "SCENES": scenes, "OUTPUT_FOLDER": str(out),
        "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
    })
    assert (result["SCENES_OK"], result["SCENES_FAILED"]) == (4, 0)
    assert {scene: checksum(scene) for scene in scenes} == before
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as handle:
        outputs = {row["scene"]: os.path.basename(row["output"]) for row in csv.DictReader(handle)}
    assert outputs == dict(zip(scenes, ["a_scene_water.tif", "b_scene_water.tif", "lake_water_2.tif",
                                        "lake_water_water.tif"]))
    # (GDAL may keep statistics of the scenes QGIS loaded beside them, in .aux.xml files.)
    assert sorted(name for name in os.listdir(out) if not name.endswith(".aux.xml")) == sorted(
        ["lake.tif", "lake_water.tif", *outputs.values()])


def test_output_folder_as_scene_folder_reruns_the_same(run_algorithm, model_path, tmp_path):
    """The results of a run in the scene folder are not scenes of the next run."""
    folder = tmp_path / "scenes"
    folder.mkdir()
    for index in range(3):
        write_raster(folder / f"scene{index}.tif", water_scene(rows=30, cols=40, seed=index)[0])
    parameters = {"MODEL": model_path, "FOLDER": str(folder), "PATTERN": "*.tif", "OUTPUT_FOLDER": str(folder),
                  "OUTPUT_SUMMARY": str(tmp_path / "summary.csv")}
    first = run_algorithm("predictscenes", parameters)
    listing = sorted(os.listdir(folder))
    again = run_algorithm("predictscenes", parameters)
    assert (first["SCENES_OK"], first["SCENES_FAILED"]) == (again["SCENES_OK"], again["SCENES_FAILED"]) == (3, 0)
    assert sorted(os.listdir(folder)) == listing == sorted(
        [f"scene{index}.tif" for index in range(3)] + [f"scene{index}_water.tif" for index in range(3)])


def test_a_new_output_folder_is_created_with_the_summary_in_it(run_algorithm, model_path, tmp_path):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=30, cols=40)[0])
    out = tmp_path / "new" / "out"
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "SCENES": [scene], "OUTPUT_FOLDER": str(out), "OUTPUT_SUMMARY": str(out / "summary.csv"),
    })
    assert result["SCENES_OK"] == 1
    assert sorted(os.listdir(out)) == ["scene_water.tif", "summary.csv"]


def test_the_summary_may_not_overwrite_a_scene(run_algorithm, model_path, tmp_path):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=30, cols=40)[0])
    before = checksum(scene)
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm("predictscenes", {
            "MODEL": model_path, "SCENES": [scene], "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": scene,
        })
    assert str(refusal.value) == (f"OUTPUT_SUMMARY is the same file as scene '{scene}' ('{scene}'); choose another "
                                  "output path — the input would be overwritten.")
    assert checksum(scene) == before
    assert not (tmp_path / "out").exists()


def test_the_batch_writes_its_water_occurrence_when_asked(run_algorithm, model_path, tmp_path):
    """Three dates of one place: the occurrence equals the share of dates each pixel is water,
    counted from the batch's own probability maps."""
    folder = tmp_path / "dates"
    folder.mkdir()
    for seed in (1, 2, 3):
        write_raster(folder / f"date{seed}.tif", water_scene(seed=seed)[0])
    result = run_algorithm("predictscenes", {
        "MODEL": model_path, "FOLDER": str(folder), "PATTERN": "*.tif", "OUTPUT_FOLDER": str(tmp_path / "out"),
        "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"), "OUTPUT_OCCURRENCE": str(tmp_path / "occurrence.tif"),
    })
    assert result["SCENES_OK"] == 3
    maps = [read(tmp_path / "out" / f"date{seed}_water.tif")[0] for seed in (1, 2, 3)]
    observed = sum((probability != -9999).astype(int) for probability in maps)
    water = sum(((probability != -9999) & (probability >= 0.5)).astype(int) for probability in maps)
    occurrence = read(result["OUTPUT_OCCURRENCE"])[0]
    seen = observed > 0
    np.testing.assert_array_equal(occurrence[seen], (water[seen] / observed[seen]).astype(np.float32))
    assert np.all(occurrence[~seen] == -9999)
    assert set(np.unique(occurrence[seen])) <= {0.0, np.float32(1 / 3), np.float32(2 / 3), 1.0}
