"""qgis_process, the way people who script QGIS run the plugin: every algorithm, headless.

The commands here are the ones docs/COMMAND_LINE.md shows.
"""

import json
import os
import subprocess

import numpy as np
import pytest
from desktop_programs import (
    ALGORITHMS,
    QGIS_PROCESS,
    ROOT,
    TORCH_SITE_PACKAGES,
    demo_scene,
    program_environment,
    run_program,
)
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


def qgis_process(config, *arguments, **variables):
    """Waits until qgis_process ends (run_program's HANG_LIMIT_S only catches a hang)."""
    environment = program_environment(QGIS_CUSTOM_CONFIG_PATH=config, PYTHONPATH=TORCH_SITE_PACKAGES, **variables)
    return run_program([QGIS_PROCESS, *arguments], environment)


def run_json(config, algorithm, **parameters):
    """`qgis_process --json run ALGORITHM -- NAME=VALUE …`; returns the results."""
    arguments = []
    for name, value in parameters.items():
        for item in value if isinstance(value, list) else [value]:
            arguments.append(f"--{name}={item}")
    finished = qgis_process(config, "--json", "run", f"waterlogreg:{algorithm}", *arguments)
    assert finished.returncode == 0, f"{algorithm}:\n{finished.stdout[-2000:]}\n{finished.stderr[-2000:]}"
    return json.loads(finished.stdout)["results"]


@pytest.fixture
def enabled_plugin(qgis_config):
    finished = qgis_process(qgis_config, "plugins", "enable", "water_logreg_plugin")
    assert finished.returncode == 0, finished.stderr
    return qgis_config


@pytest.mark.slow
def test_plugin_enabled_and_every_algorithm_listed(enabled_plugin):
    plugins = qgis_process(enabled_plugin, "plugins")
    assert "* water_logreg_plugin" in plugins.stdout.splitlines()

    listing = qgis_process(enabled_plugin, "list")
    assert listing.returncode == 0
    assert "Water mapping (logistic regression)" in listing.stdout
    listed = sorted(line.split("\t")[1] for line in listing.stdout.splitlines() if "\twaterlogreg:" in line)
    assert listed == [f"waterlogreg:{name}" for name in ALGORITHMS]

    help_text = qgis_process(enabled_plugin, "help", "waterlogreg:predictscenes").stdout
    assert "Applies one model file to many rasters" in help_text
    assert "OUTPUT_SUMMARY" in help_text


@pytest.mark.slow
def test_a_plugin_folder_linked_into_a_profile_loads(tmp_path):
    """`make dev-link`: the source folder itself, linked into a profile, is a plugin QGIS loads."""
    config = tmp_path / "qgis-config"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    subprocess.run(["make", "-s", "dev-link", f"QGIS_PLUGINS={plugins}"], cwd=ROOT, check=True, capture_output=True)
    assert os.path.realpath(plugins / "water_logreg_plugin") == os.path.join(ROOT, "water_logreg_plugin")
    assert qgis_process(str(config), "plugins", "enable", "water_logreg_plugin").returncode == 0
    listing = qgis_process(str(config), "list").stdout
    assert sorted(line.split("\t")[1] for line in listing.splitlines() if "\twaterlogreg:" in line) == [
        f"waterlogreg:{name}" for name in ALGORITHMS]


@pytest.mark.slow
def test_every_algorithm_runs_headless(enabled_plugin, tmp_path):
    """sample → train → predict → predict many → assess, and the one-click classify."""
    bands, truth = water_scene()
    scene = write_raster(tmp_path / "scene.tif", bands)
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())

    classified = run_json(enabled_plugin, "classifywater", INPUT=scene, POLYGONS=polygons, CLASS_FIELD="class",
                          OUTPUT=tmp_path / "classified.tif", OUTPUT_MODEL=tmp_path / "classified.json")
    probability, dataset = read(classified["OUTPUT"])
    assert dataset.GetGeoTransform() == read(scene)[1].GetGeoTransform()
    assert ((probability >= 0.5) == truth).mean() > 0.99
    assert classified["OVERALL_ACCURACY"] > 0.99
    assert classified["FIGURES_FROM"] == "held-out polygons"

    samples = run_json(enabled_plugin, "samplepixels", INPUT=scene, POLYGONS=polygons, CLASS_FIELD="class",
                       MAX_PIXELS_PER_CLASS=500, OUTPUT=tmp_path / "samples.gpkg")
    trained = run_json(enabled_plugin, "trainmodel", SAMPLES=samples["OUTPUT"], OUTPUT_MODEL=tmp_path / "model.json")
    assert trained["DEVICE_USED"] == "cpu"
    predicted = run_json(enabled_plugin, "predictwater", INPUT=scene, MODEL=trained["OUTPUT_MODEL"],
                         OUTPUT=tmp_path / "predicted.tif")
    assert predicted["WATER_FRACTION"] == pytest.approx(truth.mean(), abs=0.01)
    many = run_json(enabled_plugin, "predictscenes", MODEL=classified["OUTPUT_MODEL"], SCENES=[scene, scene],
                    OUTPUT_FOLDER=tmp_path / "many", OUTPUT_SUMMARY=tmp_path / "summary.csv")
    assert (many["SCENES_OK"], many["SCENES_FAILED"]) == (1, 0)
    assert os.listdir(tmp_path / "many") == ["scene_water.tif"]
    assessed = run_json(enabled_plugin, "assessaccuracy", INPUT=predicted["OUTPUT"], POLYGONS=polygons,
                        CLASS_FIELD="class")
    assert assessed["OVERALL_ACCURACY"] > 0.99
    assert assessed["ASSESSED_PIXELS"] == 8 * 20 * 30


@pytest.mark.slow
def test_classify_the_bundled_landsat_scene(enabled_plugin, tmp_path):
    demo = demo_scene(tmp_path)
    if demo is None:
        pytest.skip("demo/data has no Landsat scene yet")
    scene, polygons = demo
    classified = run_json(enabled_plugin, "classifywater", INPUT=scene, POLYGONS=polygons, CLASS_FIELD="class",
                          OUTPUT=tmp_path / "water.tif")
    probability, dataset = read(classified["OUTPUT"])
    source = read(scene)[1]
    assert (dataset.RasterXSize, dataset.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    valid = probability != -9999
    assert ((probability[valid] >= 0) & (probability[valid] <= 1)).all()
    assert 0 < classified["WATER_FRACTION"] < 1
    assert classified["OVERALL_ACCURACY"] > 0.9
    # Nodata exactly where any band of the scene is its nodata value, and nowhere else.
    bands = source.ReadAsArray()
    nodata = np.zeros(bands.shape[1:], dtype=bool)
    for index in range(source.RasterCount):
        value = source.GetRasterBand(index + 1).GetNoDataValue()
        if value is not None:
            nodata |= bands[index] == value
    np.testing.assert_array_equal(valid, ~nodata)


@pytest.mark.slow
def test_outputs_left_out_take_their_defaults(enabled_plugin, tmp_path):
    """predictscenes' summary, when omitted, is a temporary layer (qgis_process 3.22 insists on the
    main outputs, QGIS's own algorithms' too); a temporary model file comes with a warning."""
    scene = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())
    classified = run_json(enabled_plugin, "classifywater", INPUT=scene, POLYGONS=polygons, CLASS_FIELD="class",
                          OUTPUT="TEMPORARY_OUTPUT", OUTPUT_MODEL=tmp_path / "model.json")
    assert classified["OUTPUT"].endswith(".tif")  # a temporary file, gone with qgis_process
    many = run_json(enabled_plugin, "predictscenes", MODEL=classified["OUTPUT_MODEL"], SCENES=scene,
                    OUTPUT_FOLDER=tmp_path / "many")
    assert (many["SCENES_OK"], many["SCENES_FAILED"]) == (1, 0)
    assert os.listdir(tmp_path / "many") == ["scene_water.tif"]
    assert many["OUTPUT_SUMMARY"]
    samples = run_json(enabled_plugin, "samplepixels", INPUT=scene, POLYGONS=polygons, CLASS_FIELD="class",
                       MAX_PIXELS_PER_CLASS=50, OUTPUT=tmp_path / "samples.gpkg")
    finished = qgis_process(enabled_plugin, "run", "waterlogreg:trainmodel", f"--SAMPLES={samples['OUTPUT']}",
                            "--OUTPUT_MODEL=TEMPORARY_OUTPUT")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "The model is a temporary file: QGIS deletes it when it closes." in finished.stdout + finished.stderr


@pytest.mark.slow
def test_the_feature_id_is_refused_as_class_field(enabled_plugin, tmp_path):
    scene = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())
    finished = qgis_process(enabled_plugin, "run", "waterlogreg:classifywater", f"--INPUT={scene}",
                            f"--POLYGONS={polygons}", "--CLASS_FIELD=fid", f"--OUTPUT={tmp_path / 'water.tif'}")
    assert finished.returncode == 1
    assert "The class field 'fid' of 'polygons' holds a different number" in finished.stdout + finished.stderr
    assert not (tmp_path / "water.tif").exists()
