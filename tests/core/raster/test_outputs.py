"""Outputs: checked before any work, partials per run, all or nothing, odd files and addresses.

Everything here runs without QGIS: core.raster.outputs, raster.atomic_output, the scene names of a
batch, the scheduler check and the command line's refusals.
"""

import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import water_scene, write_raster
from support.tiny_disk import tiny_disk

from water_logreg_plugin import cli
from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError
from water_logreg_plugin.core.maps.predict import predict_water
from water_logreg_plugin.core.maps.water_share import WaterPrior
from water_logreg_plugin.core.model import fit_water_model, load_model, save_model
from water_logreg_plugin.core.raster.outputs import OutputSet, check_outputs
from water_logreg_plugin.core.raster.writing import (
    OUTPUT_SOFTWARE,
    atomic_output,
    output_raster,
    output_rasters,
    partial_path,
    run_id,
)
from water_logreg_plugin.core.scale.cluster import check_scheduler
from water_logreg_plugin.core.scale.scenes import expand_scenes, scene_outputs


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    bands, truth = water_scene(seed=9)
    model, _ = fit_water_model(bands.reshape(3, -1).T[::20], truth.ravel()[::20], [1, 2, 3],
                               training_info={"data_type": "UInt16"})
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, path)
    return str(path)


def test_a_hard_link_to_an_input_is_the_input(tmp_path):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=8, cols=8)[0])
    os.link(scene, tmp_path / "other.tif")
    with pytest.raises(WaterLogRegError) as refusal:
        check_outputs({"INPUT": scene}, {"OUTPUT": str(tmp_path / "other.tif")}, rasters=("OUTPUT",))
    assert str(refusal.value) == (
        f"OUTPUT is the same file as INPUT ('{scene}'); choose another output path — the input would be "
        "overwritten.")


def test_a_relative_spelling_of_another_output_clashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WaterLogRegError, match="^OUTPUT_MASK is the same file as OUTPUT"):
        check_outputs({}, {"OUTPUT": str(tmp_path / "a.tif"), "OUTPUT_MASK": "./sub/../a.tif"},
                      rasters=("OUTPUT", "OUTPUT_MASK"))


def test_an_output_folder_is_created_where_promised_and_refused_under_a_file(tmp_path):
    check_outputs({}, {"OUTPUT_FOLDER": str(tmp_path / "new" / "deeper")}, create_folders=("OUTPUT_FOLDER",))
    assert (tmp_path / "new" / "deeper").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(WaterLogRegError) as refusal:
        check_outputs({}, {"OUTPUT_FOLDER": str(tmp_path / "file" / "out")}, create_folders=("OUTPUT_FOLDER",))
    assert str(refusal.value) == (f"OUTPUT_FOLDER '{tmp_path}/file/out' cannot be used as a folder: "
                                  f"'{tmp_path}/file' is a file. Choose another output folder.")


def test_partials_of_a_killed_run_are_removed_and_a_live_runs_kept(tmp_path):
    destination = str(tmp_path / "map.tif")
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = run_id().split("-")[0]
    dead = partial_path(destination, f"{host}-{ended.pid}-0123abcd")
    alive = partial_path(destination, f"{host}-{os.getpid()}-89abcdef")
    older = partial_path(destination, "0123abcd")  # an older name, without its process: left alone
    for path in (dead, dead + ".aux.xml", alive, older):
        open(path, "w").close()
    with atomic_output(destination) as partial:
        assert os.path.basename(partial).startswith(f".map.partial-{host}-{os.getpid()}-")
        open(partial, "w").close()
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(path) for path in (alive, older, destination))


def test_a_cancel_after_the_last_window_is_honoured_before_the_move(tmp_path, model_file):
    scene = write_raster(tmp_path / "scene.tif", water_scene()[0])
    out = tmp_path / "out"
    out.mkdir()
    canceled = []

    def cancel_at_the_end(fraction):
        if fraction >= 1:
            canceled.append(True)

    callbacks = Callbacks(progress=cancel_at_the_end, is_canceled=lambda: bool(canceled))
    with pytest.raises(Canceled):
        predict_water(scene, load_model(model_file), str(out / "p.tif"), mask_path=str(out / "m.tif"),
                      callbacks=callbacks)
    assert os.listdir(out) == []


def test_a_failed_run_removes_the_outputs_it_had_already_written(tmp_path, model_file):
    scene = write_raster(tmp_path / "scene.tif", water_scene()[0])
    with pytest.raises(WaterLogRegError, match="the report failed"), OutputSet():
        predict_water(scene, load_model(model_file), str(tmp_path / "p.tif"), mask_path=str(tmp_path / "m.tif"))
        assert (tmp_path / "p.tif").exists() and (tmp_path / "m.tif").exists()
        raise WaterLogRegError("the report failed")
    assert sorted(os.listdir(tmp_path)) == ["scene.tif"]


def test_the_writer_puts_a_finished_raster_on_the_templates_grid_in_place(tmp_path):
    template = gdal.Open(write_raster(tmp_path / "scene.tif", water_scene(rows=300, cols=20)[0]))
    values = np.arange(300 * 20, dtype=np.float32).reshape(300, 20) / 6000
    with output_raster(str(tmp_path / "map.tif"), template, 1, gdal.GDT_Float32, -9999.0) as output:
        output.write_rows(values[:256], 0)
        output.write_rows(values[256:], 256)
        assert not (tmp_path / "map.tif").exists()
    assert sorted(os.listdir(tmp_path)) == ["map.tif", "scene.tif"]
    written = gdal.Open(str(tmp_path / "map.tif"))
    assert (written.RasterXSize, written.RasterYSize) == (20, 300)
    assert written.GetGeoTransform() == template.GetGeoTransform()
    assert written.GetProjection() == template.GetProjection()
    assert written.GetMetadataItem("TIFFTAG_SOFTWARE") == OUTPUT_SOFTWARE
    assert written.GetRasterBand(1).GetNoDataValue() == -9999.0
    np.testing.assert_array_equal(written.ReadAsArray(), values)


def test_a_write_that_fails_half_way_leaves_neither_output_nor_partial(tmp_path):
    template = gdal.Open(write_raster(tmp_path / "scene.tif", water_scene(rows=300, cols=20)[0]))
    with pytest.raises(RuntimeError, match="half way"), output_rasters() as outputs:
        output = outputs.add(str(tmp_path / "map.tif"), template, 1, gdal.GDT_Float32, -9999.0)
        mask = outputs.add(str(tmp_path / "mask.tif"), template, 1, gdal.GDT_Byte, 255)
        output.write_rows(np.zeros((256, 20), np.float32), 0)
        mask.write_rows(np.ones((256, 20), np.uint8), 0)
        raise RuntimeError("half way")
    assert os.listdir(tmp_path) == ["scene.tif"]


def test_a_cancel_before_the_move_leaves_nothing(tmp_path):
    template = gdal.Open(write_raster(tmp_path / "scene.tif", water_scene(rows=30, cols=20)[0]))
    canceled = Callbacks(is_canceled=lambda: True)
    with pytest.raises(Canceled), \
            output_raster(str(tmp_path / "map.tif"), template, 1, gdal.GDT_Byte, 255, canceled) as output:
        output.write_rows(np.ones((30, 20), np.uint8), 0)
    assert os.listdir(tmp_path) == ["scene.tif"]


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs: mounting one needs root (skipped elsewhere)."""
    with tiny_disk(tmp_path / "full", "256k") as folder:
        yield folder


def test_a_full_disk_is_a_message_naming_the_output_and_leaves_nothing(tmp_path, model_file, full_disk):
    rng = np.random.default_rng(0)
    noisy = rng.integers(1, 10000, (3, 600, 600), dtype=np.uint16)  # Float32 noise: DEFLATE cannot shrink it
    scene = write_raster(tmp_path / "scene.tif", noisy)
    destination = str(full_disk / "probability.tif")
    with pytest.raises(WaterLogRegError) as refusal:
        predict_water(scene, load_model(model_file), destination)
    message = str(refusal.value)
    assert message.startswith(f"Writing '{destination}' failed: the disk is full (")
    assert message.endswith("). Free some disk space or choose another folder, then run again.")
    assert ".partial" not in message
    assert os.listdir(full_disk) == []


def test_scenes_of_one_name_and_a_scene_named_like_an_output_get_distinct_outputs(tmp_path):
    out = str(tmp_path / "out")
    scenes = [str(tmp_path / "a" / "scene.tif"), str(tmp_path / "b" / "scene.tif"),
              os.path.join(out, "lake.tif"), os.path.join(out, "lake_water.tif")]
    assert [os.path.basename(path) for path in scene_outputs(scenes, out)] == [
        "a_scene_water.tif", "b_scene_water.tif", "lake_water_2.tif", "lake_water_water.tif"]


def test_a_folder_pattern_skips_this_plugins_results(tmp_path, model_file):
    scene = write_raster(tmp_path / "lake.tif", water_scene(rows=20, cols=20)[0])
    write_raster(tmp_path / "river_water.tif", water_scene(rows=20, cols=20)[0])  # a scene, named so
    predict_water(scene, load_model(model_file), str(tmp_path / "lake_water.tif"))
    assert expand_scenes([str(tmp_path / "*.tif")]) == [str(tmp_path / "lake.tif"), str(tmp_path / "river_water.tif")]


class Silent:
    """A TCP port on 127.0.0.1 that accepts connections and never says a word."""

    def __enter__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.accepted = []
        threading.Thread(target=self.accept, daemon=True).start()
        return f"tcp://127.0.0.1:{self.server.getsockname()[1]}"

    def accept(self):
        try:
            while True:
                self.accepted.append(self.server.accept()[0])
        except OSError:
            pass

    def __exit__(self, *exc):
        for connection in self.accepted:
            connection.close()
        self.server.close()


class Web(Silent):
    """A web server on 127.0.0.1 (what answers when a dashboard address is given): it reads
    what comes and answers 400, as one does to bytes that are no HTTP request."""

    def accept(self):
        try:
            while True:
                connection = self.server.accept()[0]
                self.accepted.append(connection)
                connection.recv(65536)
                connection.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n"
                                   b"<html><body>Bad request</body></html>")
        except OSError:
            pass


@pytest.mark.parametrize(("server", "reason"), [
    (Silent, "no answer within the connect timeout"), (Web, "it answered, but not in Dask's protocol"),
], ids=["never-answers", "web-server"])
def test_a_scheduler_that_is_none_is_a_message_within_the_timeout(server, reason):
    with server() as address, pytest.raises(WaterLogRegError) as refusal:
        check_scheduler(address, timeout=2)
    assert str(refusal.value) == (
        f"'{address}' is not a Dask scheduler or does not answer ({reason}). "
        "Check the address (e.g. tcp://host:8786), that `dask scheduler` runs there and that no firewall "
        "is in the way.")


def test_nobody_listening_is_a_message():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WaterLogRegError, match=f"^'tcp://127.0.0.1:{port}' is not a Dask scheduler or does not "
                                                r"answer \("):
        check_scheduler(f"tcp://127.0.0.1:{port}", timeout=2)


def run_cli(arguments, capsys):
    code = cli.main(["predict"] + arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_refuses_a_malformed_scheduler_address(tmp_path, model_file, capsys):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=20, cols=20)[0])
    code, _, err = run_cli(["--model", model_file, "--output-folder", str(tmp_path / "out"),
                            "--scheduler", "http://localhost:8787/status", scene], capsys)
    assert code == 2
    assert err == ("error: 'http://localhost:8787/status' is not a Dask scheduler address; give one like "
                   "tcp://host:8786 (the address `dask scheduler` prints).\n")


def test_cli_bounds_workers_by_the_cpu_count(tmp_path, model_file, capsys):
    cores = os.cpu_count()
    code, _, err = run_cli(["--model", model_file, "--output-folder", str(tmp_path / "out"),
                            "--workers", "1000", str(tmp_path / "scene.tif")], capsys)
    assert code == 2
    assert err == (f"error: --workers 1000 is more than the {cores} CPU cores of this machine; each worker is "
                   f"a process holding a scene's windows in memory. Use --workers {cores} or fewer, or add "
                   "--oversubscribe to start that many anyway.\n")
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_cli_says_in_words_when_the_summary_cannot_be_written(tmp_path, model_file, capsys):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=20, cols=20)[0])
    code, _, err = run_cli(["--model", model_file, "--output-folder", str(tmp_path / "out"),
                            "--summary", "/sys/summary.csv", scene], capsys)
    assert code == 2
    assert err == ("error: The output folder '/sys' cannot be written (permission denied); choose a folder "
                   "you can write to.\n")
    assert "[Errno" not in err
    assert os.listdir(tmp_path / "out") == []


def test_cli_scenes_of_one_name_each_keep_their_result(tmp_path, model_file, capsys):
    scenes = []
    for folder, seed in (("a", 1), ("b", 2)):
        (tmp_path / folder).mkdir()
        scenes.append(write_raster(tmp_path / folder / "scene.tif", water_scene(rows=30, cols=40, seed=seed)[0]))
    out = tmp_path / "out"
    code, stdout, err = run_cli(["--model", model_file, "--output-folder", str(out)] + scenes, capsys)
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["a_scene_water.tif", "b_scene_water.tif", "summary.csv"]
    for scene, output in zip(scenes, ("a_scene_water.tif", "b_scene_water.tif")):
        line = next(line for line in stdout.splitlines() if line.startswith(scene))
        assert output in line
        reference = str(tmp_path / "reference.tif")
        # The command line's default, as predictwater's: P(water) for the scene's share of water.
        predict_water(scene, load_model(model_file), reference, prior=WaterPrior())
        assert (gdal.Open(str(out / output)).ReadAsArray() == gdal.Open(reference).ReadAsArray()).all()
    assert "2 of 2 scenes ok" in stdout


def test_a_named_pipe_as_model_or_raster_is_refused_at_once(tmp_path):
    from water_logreg_plugin.core.raster.reading import open_raster

    pipe = str(tmp_path / "model.json")
    os.mkfifo(pipe)
    with pytest.raises(WaterLogRegError) as refusal:
        load_model(pipe)
    assert str(refusal.value) == (
        f"The model file '{pipe}' is a named pipe (FIFO), not a regular file, and reading it could wait for "
        "ever; choose a model file saved on disk.")
    with pytest.raises(WaterLogRegError, match="^The raster '.*' is a named pipe"):
        open_raster(pipe)


def test_a_batch_leaves_another_live_runs_partials_alone(tmp_path, model_file):
    """Two runs writing to one folder: the end of one removes only what ended processes left."""
    from water_logreg_plugin.core.scale.batch import predict_scenes

    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=30, cols=40)[0])
    out = tmp_path / "out"
    out.mkdir()
    host = run_id().split("-")[0]
    other_run = partial_path(str(out / "scene_water.tif"), f"{host}-{os.getppid()}-0123abcd")
    open(other_run, "w").close()
    results = predict_scenes(model_file, [scene], str(out), workers=0, scheduler=None)
    assert [result.status for result in results] == ["ok"]
    from water_logreg_plugin.core.scale.cluster import predict_scenes_on_cluster

    predict_scenes_on_cluster(model_file, [scene], str(out))
    assert sorted(os.listdir(out)) == sorted([os.path.basename(other_run), "scene_water.tif"])


def test_a_job_inside_a_run_hands_its_outputs_to_the_run(tmp_path):
    with pytest.raises(WaterLogRegError), OutputSet():
        with OutputSet(), atomic_output(str(tmp_path / "first.json")) as partial:
            open(partial, "w").close()
        assert os.listdir(tmp_path) == ["first.json"]
        raise WaterLogRegError("a later output failed")
    assert os.listdir(tmp_path) == []
