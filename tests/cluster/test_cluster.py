"""The command line and core.scale.cluster on real Dask processes bound to 127.0.0.1.

Every Dask process and every command-line run here gets a PYTHONPATH whose first entry holds
`qgis` and `PyQt5` packages that raise ImportError, so they run in a Python where QGIS
cannot be imported; the system's QGIS is still on the path behind them. Only the reference
outputs (waterlogreg:predictwater) run in this test process, with QGIS.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read, water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.model import WaterModel, fit_water_model, load_model, save_model
from water_logreg_plugin.core.scale.batch import predict_scenes
from water_logreg_plugin.core.scale.cluster import split_scene

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_TIMEOUT_S = 60
RUN_TIMEOUT_S = 240
SPLIT_TASK_PIXELS = 80_000  # a 700 × 300 scene becomes three tasks of one 256-row window


@pytest.fixture(scope="module")
def qgis_free_env(tmp_path_factory):
    blocker = tmp_path_factory.mktemp("no_qgis")
    for package in ("qgis", "PyQt5"):
        (blocker / package).mkdir()
        (blocker / package / "__init__.py").write_text(
            f"raise ImportError('{package} is blocked: this process must run without QGIS')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), ROOT]), OMP_NUM_THREADS="1")
    env.pop("QGIS_PREFIX_PATH", None)
    return env


@contextmanager
def dask_processes(folder, env, workers=2):
    """A `dask scheduler` and `workers` single-threaded `dask worker` processes (no nanny,
    so killing one really removes it); yields (address, worker processes); always stopped."""
    scheduler_file = folder / "scheduler.json"
    with open(folder / "dask.log", "w") as log:
        dask = [sys.executable, "-m", "dask"]
        processes = []
        try:
            processes.append(subprocess.Popen(
                dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT))
            for _ in range(workers):
                processes.append(subprocess.Popen(
                    dask + ["worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                            "--nthreads", "1", "--no-nanny", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                            "--death-timeout", str(START_TIMEOUT_S),
                            "--local-directory", str(folder)],
                    env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT))
            deadline = time.monotonic() + START_TIMEOUT_S
            # The scheduler creates the file before it writes the address into it.
            while not (scheduler_file.exists() and scheduler_file.read_text().strip()) and time.monotonic() < deadline:
                time.sleep(0.1)
            address = json.loads(scheduler_file.read_text())["address"]
            from distributed import Client

            with Client(address, timeout=START_TIMEOUT_S) as client:
                client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
            yield address, processes[1:]
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory, qgis_free_env):
    with dask_processes(tmp_path_factory.mktemp("dask"), qgis_free_env) as (address, _):
        yield address


def cli(arguments, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "water_logreg_plugin.cli", "predict"] + arguments,
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, **kwargs)


def read_summary(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {os.path.basename(row["scene"]): row for row in csv.DictReader(handle)}


def trained_model(path):
    """A logistic regression trained on four water pixels for each land pixel (80 % water, where the
    scenes are half water), so its maps are moved to each scene's share of water by EM."""
    bands, truth = water_scene(seed=9)
    position = np.arange(truth.size)
    drawn = (position % 20 == 0) | (truth.ravel() & (position % 5 == 0))
    values, labels = bands.reshape(3, -1).T[drawn], truth.ravel()[drawn]
    model, _ = fit_water_model(values, labels, [1, 2, 3], training_info={"data_type": "UInt16"})
    save_model(model, path)
    return str(path)


def assert_same_raster(output, reference):
    values, dataset = read(output)
    expected, expected_dataset = read(reference)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-6)
    band, expected_band = dataset.GetRasterBand(1), expected_dataset.GetRasterBand(1)
    assert band.GetNoDataValue() == expected_band.GetNoDataValue() == -9999
    assert (values == -9999).sum() == (expected == -9999).sum()
    assert band.DataType == expected_band.DataType == gdal.GDT_Float32
    assert band.GetBlockSize() == expected_band.GetBlockSize()
    assert dataset.GetGeoTransform() == expected_dataset.GetGeoTransform()
    assert dataset.GetProjection() == expected_dataset.GetProjection()
    assert dataset.GetMetadata("IMAGE_STRUCTURE") == expected_dataset.GetMetadata("IMAGE_STRUCTURE")


def formula_probability(model_path, scene, shift=0.0):
    """P(water) of every pixel from the model file's numbers and the scene's bands, in float64
    numpy (dense layers on (x − μ)/σ, the file's activation between them, σ at the end), and the nodata mask
    (any band used at the raster's nodata value): a reference that does not go through core.maps.predict."""
    with open(model_path, encoding="utf-8") as handle:
        stored = json.load(handle)
    dataset = gdal.Open(str(scene))
    bands = stored["bands"]
    values = np.stack([dataset.GetRasterBand(band).ReadAsArray().astype(np.float64) for band in bands])
    nodata = np.zeros(values.shape[1:], dtype=bool)
    for band, band_values in zip(bands, values):
        value = dataset.GetRasterBand(band).GetNoDataValue()
        if value is not None:
            nodata |= band_values == value
    hidden = (values.reshape(len(bands), -1).T - stored["standardization"]["mean"]) / stored["standardization"]["std"]
    for index, layer in enumerate(stored["layers"]):
        hidden = hidden @ np.array(layer["weight"]).T + np.array(layer["bias"])
        if index < len(stored["layers"]) - 1:
            hidden = np.tanh(hidden) if stored["activation"] == "tanh" else np.maximum(hidden, 0)
    probability = 1 / (1 + np.exp(-(hidden[:, 0] + shift)))
    return probability.reshape(values.shape[1:]), nodata


def shift_of(row):
    """logit scene share − logit training share of a summary row (strings from the CSV or a
    SceneResult's row); 0 where the map is as the model gives it (NaN shares)."""
    training, scene = float(row["training_water_share"]), float(row["scene_water_share"])
    if not (np.isfinite(training) and np.isfinite(scene)):
        return 0.0
    return np.log(scene / (1 - scene)) - np.log(training / (1 - training))


def assert_is_the_probability_map(output, scene, model_path, shift=0.0):
    """The output holds the formula's P(water) (within float32 rounding), moved by `shift` on the
    logit (the scene's share of water), -9999 exactly where the scene has nodata, on the scene's
    grid and CRS."""
    values, dataset = read(output)
    expected, nodata = formula_probability(model_path, scene, shift)
    band = dataset.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Float32 and band.GetNoDataValue() == -9999
    np.testing.assert_array_equal(values == -9999, nodata)
    np.testing.assert_allclose(values[~nodata], expected[~nodata], rtol=0, atol=2e-5)
    source = gdal.Open(str(scene))
    assert (dataset.RasterXSize, dataset.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    assert dataset.GetProjection() == source.GetProjection()


def leftovers(folder, expected_names):
    """Everything in `folder` (hidden files and folders included) that is not expected."""
    return sorted(set(os.listdir(folder)) - set(expected_names))


@pytest.fixture
def four_scenes(tmp_path):
    """Two scenes that fit one task and two that are split into three, one with a nodata corner."""
    scenes = []
    for index, rows in enumerate((200, 700, 200, 700)):
        bands, _ = water_scene(rows=rows, cols=300, seed=index)
        if index == 1:
            bands[:, 300:310, 0:20] = 0
        scenes.append(write_raster(tmp_path / f"scene{index}.tif", bands))
    return scenes


def test_a_scene_over_task_pixels_is_split_into_whole_block_rows(four_scenes):
    assert len(split_scene(gdal.Open(four_scenes[0]), SPLIT_TASK_PIXELS)) == 1
    groups = split_scene(gdal.Open(four_scenes[1]), SPLIT_TASK_PIXELS)
    assert groups == [[(0, 256)], [(256, 256)], [(512, 188)]]


@pytest.mark.slow
def test_scheduler_outputs_equal_predictwater(dask_cluster, qgis_free_env, four_scenes, run_algorithm, tmp_path):
    model = trained_model(tmp_path / "model.json")
    two_bands = write_raster(tmp_path / "two_bands.tif", water_scene()[0][:2])
    output_folder = tmp_path / "out"
    run = cli(["--model", model, "--output-folder", str(output_folder), "--scheduler", dask_cluster,
               "--task-pixels", str(SPLIT_TASK_PIXELS), str(tmp_path / "scene*.tif"), two_bands], qgis_free_env)

    assert run.returncode == 1, run.stderr  # one scene failed, the others completed
    summary = read_summary(output_folder / "summary.csv")
    assert summary["two_bands.tif"]["status"] == "failed"
    assert "has only 2 bands" in summary["two_bands.tif"]["reason"]
    assert "two_bands.tif" in run.stdout and "4 of 5 scenes ok" in run.stdout
    for scene in four_scenes:
        name = os.path.basename(scene)
        reference = run_algorithm("predictwater", {
            "INPUT": scene, "MODEL": model, "OUTPUT": str(tmp_path / f"reference_{name}"),
        })
        assert_same_raster(output_folder / name.replace(".tif", "_water.tif"), reference["OUTPUT"])
        row = summary[name]
        # The scene's share of water by EM, from chunks on two workers, is the one predictwater finds in process.
        assert float(row["scene_water_share"]) == reference["SCENE_WATER_SHARE"]
        assert float(row["training_water_share"]) == reference["TRAINING_WATER_SHARE"]
        assert abs(reference["SCENE_WATER_SHARE"] - reference["TRAINING_WATER_SHARE"]) > 0.05
        assert_is_the_probability_map(output_folder / name.replace(".tif", "_water.tif"), scene, model, shift_of(row))
        assert row["status"] == "ok"
        assert int(row["pixels"]) == reference["VALID_PIXELS"]
        assert float(row["water_fraction"]) == pytest.approx(reference["WATER_FRACTION"], abs=1e-9)
        assert row["worker"].startswith("tcp://127.0.0.1:")
    # Both workers took tasks (each has one thread, and the first tasks go out at once).
    assert len({worker for row in summary.values() for worker in row["worker"].split()}) == 2
    assert leftovers(output_folder, [f"scene{index}_water.tif" for index in range(4)] + ["summary.csv"]) == []


@pytest.mark.slow
def test_predict_scenes_takes_a_scheduler_address(dask_cluster, four_scenes, tmp_path):
    """The path waterlogreg:predictscenes takes: core.scale.batch.predict_scenes(scheduler=…)."""
    model_path = trained_model(tmp_path / "model.json")
    (tmp_path / "out").mkdir()
    fractions = []
    results = predict_scenes(load_model(model_path), four_scenes, str(tmp_path / "out"), scheduler=dask_cluster,
                             callbacks=Callbacks(progress=fractions.append))
    assert [result.status for result in results] == ["ok"] * 4, [result.reason for result in results]
    assert [result.scene for result in results] == four_scenes
    assert fractions[-1] == 1.0
    for scene, result in zip(four_scenes, results):
        assert_is_the_probability_map(result.output, scene, model_path)


@pytest.mark.slow
def test_predictscenes_algorithm_runs_on_the_scheduler(dask_cluster, four_scenes, run_algorithm, tmp_path):
    """waterlogreg:predictscenes in QGIS with SCHEDULER set: every scene ran on a Dask worker."""
    model = trained_model(tmp_path / "model.json")
    result = run_algorithm("predictscenes", {
        "MODEL": model, "SCENES": four_scenes, "SCHEDULER": dask_cluster,
        "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": str(tmp_path / "summary.csv"),
    })
    assert (result["SCENES_OK"], result["SCENES_FAILED"]) == (4, 0)
    summary = read_summary(tmp_path / "summary.csv")
    assert all(row["worker"].startswith("tcp://127.0.0.1:") for row in summary.values())
    for scene in four_scenes:
        assert_is_the_probability_map(tmp_path / "out" / os.path.basename(scene).replace(".tif", "_water.tif"),
                                      scene, model, shift_of(summary[os.path.basename(scene)]))


def mlp_model(path, hidden=16, seed=0):
    """A multi-layer perceptron with fixed random weights (the MLP path through the cluster)."""
    rng = np.random.default_rng(seed)
    sizes = [3, hidden, hidden, 1]
    layers = [(rng.normal(0, 1 / np.sqrt(inputs), (outputs, inputs)), rng.normal(0, 0.1, outputs))
              for inputs, outputs in zip(sizes[:-1], sizes[1:])]
    model = WaterModel([1, 2, 3], np.array([1000.0, 1000.0, 1500.0]), np.array([200.0, 400.0, 1000.0]),
                       layers, {"data_type": "UInt16"})
    save_model(model, path)
    return str(path)


GATE_FUNCTION = """
import os, time

def gate(in_ar, out_ar, xoff, yoff, xsize, ysize, raster_xsize, raster_ysize, buf_radius, gt, **kwargs):
    if not os.path.exists({gate!r}):
        # Say which process is reading (a Dask worker), then wait until the test opens the gate.
        open(os.path.join({started!r}, str(os.getpid())), "w").close()
        deadline = time.monotonic() + {limit}
        while not os.path.exists({gate!r}) and time.monotonic() < deadline:
            time.sleep(0.05)
    out_ar[:] = in_ar[0]
"""


def gated_scene(vrt_path, source_path, gate, started):
    """A VRT of `source_path` whose every read waits until the file `gate` exists, and first
    writes a file named by the reading process's id into `started` (a GDAL Python pixel
    function; GDAL runs it only where GDAL_VRT_ENABLE_PYTHON=YES)."""
    source = gdal.Open(str(source_path))
    code = GATE_FUNCTION.format(gate=str(gate), started=str(started), limit=RUN_TIMEOUT_S)
    bands = "".join(
        f'<VRTRasterBand dataType="UInt16" band="{band}" subClass="VRTDerivedRasterBand">'
        f"<NoDataValue>0</NoDataValue><PixelFunctionType>gate</PixelFunctionType>"
        f"<PixelFunctionLanguage>Python</PixelFunctionLanguage><PixelFunctionCode><![CDATA[{code}]]></PixelFunctionCode>"
        f'<SimpleSource><SourceFilename relativeToVRT="0">{source_path}</SourceFilename>'
        f"<SourceBand>{band}</SourceBand></SimpleSource></VRTRasterBand>"
        for band in range(1, source.RasterCount + 1))
    transform = ", ".join(repr(value) for value in source.GetGeoTransform())
    with open(vrt_path, "w", encoding="utf-8") as handle:
        handle.write(f'<VRTDataset rasterXSize="{source.RasterXSize}" rasterYSize="{source.RasterYSize}">'
                     f"<SRS>{source.GetProjection()}</SRS><GeoTransform>{transform}</GeoTransform>{bands}</VRTDataset>")
    return str(vrt_path)


def wait_for(condition, what):
    deadline = time.monotonic() + RUN_TIMEOUT_S  # a bound that only catches a hang
    while not condition():
        assert time.monotonic() < deadline, f"waited {RUN_TIMEOUT_S} s for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_loses_no_scene(qgis_free_env, tmp_path):
    """One worker is killed while it is inside a task, deterministically: the first scene is a VRT
    whose reads wait on a gate file, so no task of it can finish before the kill, and the test
    learns from the reading worker itself (its process id, written by the read) that it is busy."""
    gate, started = tmp_path / "gate", tmp_path / "started"
    started.mkdir()
    environment = dict(qgis_free_env, GDAL_VRT_ENABLE_PYTHON="YES")
    sources = [write_raster(tmp_path / f"big{index}.tif", water_scene(rows=2048, cols=512, seed=index)[0])
               for index in range(4)]
    scenes = [gated_scene(tmp_path / "gated0.vrt", sources[0], gate, started)] + sources[1:]
    model = mlp_model(tmp_path / "mlp_model.json")
    output_folder = tmp_path / "out"
    output_folder.mkdir()
    with dask_processes(tmp_path, environment) as (address, workers):
        run = subprocess.Popen(
            [sys.executable, "-m", "water_logreg_plugin.cli", "predict", "--model", model,
             "--output-folder", str(output_folder), "--scheduler", address, "--task-pixels", str(256 * 512)]
            + scenes, env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: os.listdir(started) or run.poll() is not None, "a worker to read the gated scene")
            assert run.poll() is None, run.communicate()  # cannot happen: the gated scene waits
            busy = int(sorted(os.listdir(started))[0])
            victim = next(worker for worker in workers if worker.pid == busy)
            victim.kill()
            victim.wait(timeout=15)
            gate.touch()
            stdout, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            gate.touch()
            if run.poll() is None:
                run.kill()
                run.communicate()
    assert run.returncode == 0, stderr
    summary = read_summary(output_folder / "summary.csv")
    assert [row["status"] for row in summary.values()] == ["ok"] * 4, stdout
    # The worker died by the kill, inside a task of the gated scene, and still every scene came out right.
    assert victim.returncode == -signal.SIGKILL
    for scene, source in zip(scenes, sources):
        assert_is_the_probability_map(output_folder / (os.path.splitext(os.path.basename(scene))[0] + "_water.tif"),
                                      source, model)
    assert leftovers(output_folder, ["gated0_water.tif"] + [f"big{index}_water.tif" for index in (1, 2, 3)]
                     + ["summary.csv"]) == []


def count_chunks(output_folder):
    """Complete chunk files in the run's scratch folder (partial ones are hidden)."""
    return sum(
        1 for folder in output_folder.glob(".waterlogreg-chunks*") for name in os.listdir(folder)
        if not name.startswith(".")
    ) if output_folder.exists() else 0


def test_cli_runs_in_a_python_without_qgis(qgis_free_env, four_scenes, tmp_path):
    blocked = subprocess.run([sys.executable, "-c", "import qgis"], env=qgis_free_env, capture_output=True, text=True)
    assert blocked.returncode != 0 and "qgis is blocked" in blocked.stderr
    model = trained_model(tmp_path / "model.json")
    run = cli(["--model", model, "--output-folder", str(tmp_path / "out"), "--task-pixels", str(SPLIT_TASK_PIXELS)]
              + four_scenes, qgis_free_env)
    assert run.returncode == 0, run.stderr
    assert "4 of 4 scenes ok" in run.stdout
    summary = read_summary(tmp_path / "out" / "summary.csv")
    for scene in four_scenes:
        assert_is_the_probability_map(tmp_path / "out" / os.path.basename(scene).replace(".tif", "_water.tif"),
                                      scene, model, shift_of(summary[os.path.basename(scene)]))


def test_cli_refuses_a_missing_model(qgis_free_env, four_scenes, tmp_path):
    run = cli(["--model", str(tmp_path / "none.json"), "--output-folder", str(tmp_path / "out")] + four_scenes,
              qgis_free_env)
    assert run.returncode == 2
    assert "The model file" in run.stderr and "cannot be read" in run.stderr


@pytest.mark.slow
def test_a_band_that_costs_pixels_is_logged_alike_in_process_and_on_the_scheduler(dask_cluster, tmp_path):
    """The band-coverage line of each scene, from one task or from chunks on two workers, is the
    one the in-process batch logs."""
    from water_logreg_plugin.core.scale.cluster import predict_scenes_on_cluster

    model = load_model(trained_model(tmp_path / "model.json"))
    scenes = []
    for index, rows in enumerate((700, 200)):
        bands, _ = water_scene(rows=rows, cols=300, seed=index)
        if index == 0:
            bands[2, 250:270, 0:30] = 0  # band 3 alone, across the first two tasks' rows: 600 pixels
        else:
            bands[1, 10:20, 0:10] = 0  # band 2 alone: 100 pixels
        bands[:, -5:, :] = 0  # every band: costs no band anything
        scenes.append(write_raster(tmp_path / f"gappy{index}.tif", bands))
    logs = {}
    for way in ("in process", "on the scheduler"):
        folder = tmp_path / way.replace(" ", "_")
        folder.mkdir()
        lines = []
        if way == "in process":
            results = predict_scenes(model, scenes, str(folder), callbacks=Callbacks(log=lines.append))
        else:
            results = predict_scenes_on_cluster(model, scenes, str(folder), scheduler=dask_cluster,
                                                task_pixels=SPLIT_TASK_PIXELS, callbacks=Callbacks(log=lines.append))
        assert [result.status for result in results] == ["ok", "ok"], [result.reason for result in results]
        logs[way] = [line for line in lines if "would map them" in line]

    assert logs["in process"] == logs["on the scheduler"] == [
        "gappy0.tif: Band 3 is nodata on 600 pixels where bands 1, 2 have data; BANDS 1,2 would map them.",
        "gappy1.tif: Band 2 is nodata on 100 pixels where bands 1, 3 have data; BANDS 1,3 would map them.",
    ]
    assert len(split_scene(gdal.Open(scenes[0]), SPLIT_TASK_PIXELS)) == 3
