"""Faults: a cancel at any stage, a kill mid-write, one broken scene in a batch, two runs at once.

Whatever happens, no file under an output's name may exist unless it is complete.
"""

import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
    QgsVectorLayer,
)
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster

CANCELED = "Canceled by the user; no output was written."
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CancelAt(QgsProcessingFeedback):
    """Cancels the run once its progress reaches `percent`; counts the reports that follow."""

    def __init__(self, percent):
        super().__init__()
        self.percent = percent
        self.reports_after_cancel = 0
        self.progressChanged.connect(self.on_progress)

    def on_progress(self, progress):
        if self.isCanceled():
            self.reports_after_cancel += 1
        elif progress >= self.percent:
            self.cancel()


def several_windows_scene():
    """A scene the prediction reads in two windows (4096 wide: 1024 rows, then 256)."""
    tile, truth = water_scene()
    return np.tile(tile, (1, 7, 18))[:, :1280, :4096], np.tile(truth, (7, 18))[:1280, :4096]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    bands, truth = several_windows_scene()
    raster = write_raster(folder / "scene.tif", bands)
    polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
    return raster, polygons, truth


@pytest.fixture(scope="module")
def model(provider, scene, tmp_path_factory):
    import processing

    raster, polygons, _ = scene
    folder = tmp_path_factory.mktemp("model")
    small = write_raster(folder / "small.tif", water_scene()[0])
    return processing.run("waterlogreg:classifywater", {
        "INPUT": small, "POLYGONS": polygons, "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "p.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
    })["OUTPUT_MODEL"]


def nothing_left(folder):
    """The output folder holds nothing: no output and no partial file."""
    return sorted(os.listdir(folder)) == []


def assert_canceled(run_algorithm, name, parameters, feedback, folder):
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(name, parameters, feedback=feedback)
    assert str(refusal.value) == CANCELED
    assert feedback.isCanceled()
    # The core looks at the cancel flag before every block, polygon, batch and optimiser step.
    assert feedback.reports_after_cancel <= 1
    assert nothing_left(folder)


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_cancel_while_sampling(run_algorithm, scene, out):
    raster, polygons, _ = scene
    assert_canceled(run_algorithm, "samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(out / "samples.gpkg"),
    }, CancelAt(10), out)


def test_cancel_while_writing_the_sampled_points(run_algorithm, scene, out, monkeypatch):
    from water_logreg_plugin.algorithms import sample_pixels

    monkeypatch.setattr(sample_pixels, "BATCH", 500)  # 4800 points: ten batches to cancel between
    raster, polygons, _ = scene
    feedback = CancelAt(70)
    assert_canceled(run_algorithm, "samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "MAX_PIXELS_PER_CLASS": 0,
        "OUTPUT": str(out / "samples.gpkg"),
    }, feedback, out)


@pytest.mark.parametrize("extension", ["gpkg", "shp"])
def test_sampled_points_appear_whole_and_load_from_their_final_name(run_algorithm, scene, out, extension):
    raster, polygons, _ = scene
    destination = str(out / f"samples.{extension}")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    result = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "MAX_PIXELS_PER_CLASS": 0,
        "OUTPUT": QgsProcessingOutputLayerDefinition(destination, QgsProject.instance()),
    }, context=context)
    layer = QgsVectorLayer(result["OUTPUT"], "samples")
    assert layer.isValid() and layer.featureCount() == 8 * 20 * 30
    assert not [name for name in os.listdir(out) if "partial" in name]
    assert list(context.layersToLoadOnCompletion()) == [result["OUTPUT"]]
    assert result["OUTPUT"].startswith(destination)


def test_a_killed_runs_staging_folder_is_removed_and_a_live_runs_kept(run_algorithm, scene, out):
    from water_logreg_plugin.core.raster.writing import run_id

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = run_id().split("-")[0]
    dead = out / f".samples.partial-{host}-{ended.pid}-0123abcd.work"  # raster.scratch_folder's names
    alive = out / f".samples.partial-{host}-{os.getpid()}-89abcdef.work"
    dead.mkdir()
    alive.mkdir()
    raster, polygons, _ = scene
    run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(out / "samples.gpkg"),
    })
    assert sorted(os.listdir(out)) == sorted([alive.name, "samples.gpkg"])


def test_cancel_while_training(run_algorithm, scene, out, tmp_path):
    raster, polygons, _ = scene
    samples = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "s.gpkg"),
    })["OUTPUT"]
    assert_canceled(run_algorithm, "trainmodel", {
        "SAMPLES": samples, "OPTIMIZER": 1, "MAX_STEPS": 200, "OUTPUT_MODEL": str(out / "model.json"),
    }, CancelAt(25), out)


def test_cancel_while_predicting(run_algorithm, scene, model, out):
    raster, _, _ = scene
    assert_canceled(run_algorithm, "predictwater", {
        "INPUT": raster, "MODEL": model, "OUTPUT": str(out / "p.tif"), "OUTPUT_MASK": str(out / "mask.tif"),
    }, CancelAt(50), out)


def test_a_cancel_at_the_very_end_is_honoured_until_the_file_is_in_place(run_algorithm, scene, model, out):
    raster, _, _ = scene
    assert_canceled(run_algorithm, "predictwater", {
        "INPUT": raster, "MODEL": model, "OUTPUT": str(out / "p.tif"), "OUTPUT_MASK": str(out / "mask.tif"),
    }, CancelAt(100), out)


def test_a_later_output_failing_removes_the_earlier_ones(run_algorithm, scene, out, monkeypatch):
    """The report is written last; when it fails, the map, mask and model of the run go too."""
    import errno

    from water_logreg_plugin.core import workflow
    from water_logreg_plugin.core.raster.writing import atomic_output

    def report_on_a_full_disk(path, *args, **kwargs):
        with atomic_output(path) as partial:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), partial)

    monkeypatch.setattr(workflow, "write_training_report", report_on_a_full_disk)
    raster, polygons, _ = scene
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm("classifywater", {
            "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "MAX_STEPS": 20,
            "OUTPUT": str(out / "p.tif"), "OUTPUT_MODEL": str(out / "model.json"), "OUTPUT_MASK": str(out / "m.tif"),
            "OUTPUT_REPORT": str(out / "report.html"),
        })
    assert str(refusal.value) == (
        f"Writing '{out}/report.html' failed (No space left on device): the disk may be full or the folder no "
        "longer writable. Free some disk space or choose another folder, then run again.")
    assert nothing_left(out)


@pytest.mark.parametrize("percent, stage", [(5, "sampling"), (30, "training"), (75, "prediction")])
def test_cancel_the_one_click_tool_at_each_stage(run_algorithm, scene, out, percent, stage):
    raster, polygons, _ = scene
    assert_canceled(run_algorithm, "classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OPTIMIZER": 1, "MAX_STEPS": 50,
        "OUTPUT": str(out / "p.tif"), "OUTPUT_MODEL": str(out / "model.json"), "OUTPUT_MASK": str(out / "m.tif"),
    }, CancelAt(percent), out)


KILLED_MID_WRITE = """
import os, sys, time
sys.path.insert(0, {root!r})
from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.model import load_model
from water_logreg_plugin.core.maps.predict import predict_water

def progress(fraction):
    print("window written", flush=True)
    time.sleep(60)  # the parent kills us here, half-way through

predict_water({raster!r}, load_model({model!r}), {output!r}, callbacks=Callbacks(progress=progress))
"""


@pytest.mark.slow
def test_a_kill_mid_prediction_leaves_no_finished_looking_file(scene, model, out):
    raster, _, _ = scene
    output = out / "p.tif"
    script = KILLED_MID_WRITE.format(root=ROOT, raster=raster, model=model, output=str(output))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "window written"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not output.exists()
    assert all(name.startswith(".p.partial-") for name in os.listdir(out))
    # The next run of the same output recognises the killed run's partial and removes it.
    from water_logreg_plugin.core.maps.predict import predict_water
    from water_logreg_plugin.core.model import load_model

    predict_water(raster, load_model(model), str(output))
    assert os.listdir(out) == ["p.tif"]


def test_a_broken_scene_in_a_batch_loses_no_other(run_algorithm, model, tmp_path):
    scenes, truths = [], []
    for index in range(3):
        bands, truth = water_scene(seed=index + 10)
        scenes.append(write_raster(tmp_path / f"scene{index}.tif", bands))
        truths.append(truth)
    with open(scenes[1], "rb") as handle:
        data = handle.read()
    with open(scenes[1], "wb") as handle:
        handle.write(data[: len(data) // 3])
    outcomes = []
    for index, scene_path in enumerate(scenes):
        try:
            run_algorithm("predictwater", {"INPUT": scene_path, "MODEL": model,
                                           "OUTPUT": str(tmp_path / f"water{index}.tif")})
            outcomes.append("ok")
        except QgsProcessingException as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[2] == "ok"
    assert outcomes[1].startswith("Reading rows 0–200 of the raster failed")
    assert not (tmp_path / "water1.tif").exists()
    assert not [name for name in os.listdir(tmp_path) if "partial" in name]
    for index in (0, 2):
        probability, _ = read(tmp_path / f"water{index}.tif")
        assert ((probability >= 0) & (probability <= 1)).all()
        assert ((probability >= 0.5) == truths[index]).mean() > 0.99


def classify_parameters(folder, seed):
    bands, _ = water_scene(seed=seed)
    return {
        "INPUT": write_raster(folder / f"scene{seed}.tif", bands),
        "POLYGONS": write_polygons(folder / f"polygons{seed}.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "SEED": seed,
        "OUTPUT": str(folder / f"water{seed}.tif"), "OUTPUT_MODEL": str(folder / f"model{seed}.json"),
    }


def outcome(parameters):
    with open(parameters["OUTPUT_MODEL"]) as handle:
        model = json.load(handle)
    return read(parameters["OUTPUT"])[0], np.array(model["layers"][0]["weight"])


def test_two_runs_at_once_in_threads_match_one_at_a_time(run_algorithm, tmp_path):
    """As QGIS's background tasks do: create and prepare here, runPrepared in a worker thread."""
    (tmp_path / "apart").mkdir(), (tmp_path / "together").mkdir()
    expected = []
    for seed in (1, 2):
        parameters = classify_parameters(tmp_path / "apart", seed)
        run_algorithm("classifywater", parameters)
        expected.append(outcome(parameters))

    runs = []
    for seed in (1, 2):
        algorithm = QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:classifywater")
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        parameters = classify_parameters(tmp_path / "together", seed)
        assert algorithm.prepare(parameters, context, feedback)
        runs.append({"algorithm": algorithm, "context": context, "feedback": feedback, "parameters": parameters})
    start = threading.Barrier(len(runs))

    def work(run):
        start.wait()
        try:
            run["results"] = run["algorithm"].runPrepared(run["parameters"], run["context"], run["feedback"])
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            run["error"] = error

    threads = [threading.Thread(target=work, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive()
    for run, (expected_probability, expected_weight) in zip(runs, expected):
        assert "error" not in run, run.get("error")
        run["algorithm"].postProcess(run["context"], run["feedback"])
        probability, weight = outcome(run["parameters"])
        np.testing.assert_allclose(probability, expected_probability, atol=1e-6)
        np.testing.assert_allclose(weight, expected_weight, rtol=1e-6)
        assert run["results"]["OUTPUT"] == run["parameters"]["OUTPUT"]
    assert gdal.Open(runs[0]["parameters"]["OUTPUT"]).RasterXSize == 240
