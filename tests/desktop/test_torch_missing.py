"""Where `import torch` fails (QGIS's own Python on Windows and macOS), the plugin still loads,
lists its algorithms, and running one says what is missing and the command that installs it."""

import json
import os
import re
from pathlib import Path

import pytest
from desktop_programs import (
    ALGORITHMS,
    QGIS_PROCESS,
    ROOT,
    SYSTEM_PYTHON,
    install_from_zip,
    pip_user_flags_for,
    program_environment,
    run_program,
)
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"  # Debian's home of the processing plugin
# Run by Debian's /usr/bin/python3 (the Python QGIS embeds), with the torch blocker on PYTHONPATH.
PROVIDER_WITHOUT_TORCH = """
import json, sys
from qgis.core import QgsApplication, QgsProcessingException
application = QgsApplication([], False)
application.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
import water_logreg_plugin
plugin = water_logreg_plugin.classFactory(None)
plugin.initProcessing()
provider = QgsApplication.processingRegistry().providerById("waterlogreg")
report = {"algorithms": sorted(algorithm.id() for algorithm in provider.algorithms())}
report["can_execute"] = {algorithm.name(): algorithm.canExecute()[0] for algorithm in provider.algorithms()}
scene, polygons, output = sys.argv[1:4]
try:
    processing.run("waterlogreg:classifywater", {
        "INPUT": scene, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": output})
except QgsProcessingException as error:
    report["classify_error"] = str(error)
sampled = processing.run("waterlogreg:samplepixels", {
    "INPUT": scene, "POLYGONS": polygons, "CLASS_FIELD": "class", "MAX_PIXELS_PER_CLASS": 10,
    "OUTPUT": "TEMPORARY_OUTPUT"})
report["sampled_points"] = sampled["OUTPUT"].featureCount()
report["torch_module"] = repr(sys.modules.get("torch", "never imported"))
print(json.dumps(report))
"""


@pytest.fixture
def scene_and_polygons(tmp_path):
    bands, _ = water_scene()
    return (write_raster(tmp_path / "scene.tif", bands),
            write_polygons(tmp_path / "polygons.gpkg", standard_polygons()))


def assert_plain_words_with_the_install_command(message):
    assert message.startswith("This tool needs PyTorch (the Python package 'torch'), which is not installed in "
                              "the Python that QGIS uses (")
    python = os.path.realpath(message.split("In a terminal run: ")[1].split(" -m pip install ")[0])
    assert python == os.path.realpath(SYSTEM_PYTHON)
    # What this platform's pip needs (PEP 668): --break-system-packages on Debian 12 and Ubuntu ≥ 23.04,
    # not on Ubuntu 22.04, whose pip refuses an option it does not know.
    flags = pip_user_flags_for(SYSTEM_PYTHON)
    assert f"-m pip install {flags} torch --index-url https://download.pytorch.org/whl/cpu" in message
    assert message.endswith("Then restart QGIS.")


@pytest.mark.slow
def test_provider_in_debians_python_without_torch(plugin_zip, torch_blocker, scene_and_polygons, tmp_path):
    scene, polygons = scene_and_polygons
    plugins = install_from_zip(plugin_zip, str(tmp_path / "profile"))
    finished = run_program(
        [SYSTEM_PYTHON, "-c", PROVIDER_WITHOUT_TORCH, scene, polygons, str(tmp_path / "water.tif")],
        program_environment(PYTHONPATH=os.pathsep.join([torch_blocker, plugins, QGIS_PLUGINS])),
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(finished.stdout.splitlines()[-1])

    assert report["algorithms"] == [f"waterlogreg:{name}" for name in ALGORITHMS]
    assert report["can_execute"] == {name: name not in ("trainmodel", "classifywater") for name in ALGORITHMS}
    assert_plain_words_with_the_install_command(report["classify_error"])
    assert not (tmp_path / "water.tif").exists()
    assert report["sampled_points"] == 20  # the tools that need no torch still work
    assert report["torch_module"] == "None"  # the blocker held: nothing imported torch


@pytest.mark.slow
def test_qgis_process_without_torch(qgis_config, torch_blocker, scene_and_polygons, tmp_path):
    scene, polygons = scene_and_polygons
    environment = program_environment(QGIS_CUSTOM_CONFIG_PATH=qgis_config, PYTHONPATH=torch_blocker)
    assert run_program([QGIS_PROCESS, "plugins", "enable", "water_logreg_plugin"], environment).returncode == 0

    listing = run_program([QGIS_PROCESS, "list"], environment)
    assert sum("\twaterlogreg:" in line for line in listing.stdout.splitlines()) == len(ALGORITHMS)

    finished = run_program([QGIS_PROCESS, "run", "waterlogreg:classifywater", "--", f"INPUT={scene}",
                            f"POLYGONS={polygons}", "CLASS_FIELD=class", f"OUTPUT={tmp_path / 'water.tif'}"],
                           environment)
    assert finished.returncode == 1
    error_lines = [line for line in finished.stdout.splitlines() + finished.stderr.splitlines()
                   if line.startswith("ERROR:\t")]
    assert error_lines, finished.stderr
    assert_plain_words_with_the_install_command(error_lines[0].removeprefix("ERROR:\t"))
    assert not (tmp_path / "water.tif").exists()
    if os.path.exists("/etc/debian_version") and Path("/etc/debian_version").read_text().startswith("12"):
        # docs/COMMAND_LINE.md quotes this message as Debian 12 prints it (wrapped over lines).
        with open(os.path.join(ROOT, "docs", "COMMAND_LINE.md"), encoding="utf-8") as handle:
            quoted = re.search(r"(?s)```\n(ERROR:\t.*?)\n```", handle.read()).group(1)
        assert " ".join(quoted.split()) == " ".join(error_lines[0].split())
