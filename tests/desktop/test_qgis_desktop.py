"""Real QGIS on a virtual screen: the plugin installed from the ZIP into a fresh profile.

Set WATERLOGREG_SCREENSHOTS_TO to a folder (docs/img for the README) to keep the screenshots.
"""

import os
import re

import pytest
from desktop_programs import (
    ALGORITHMS,
    PLUGIN,
    SYSTEM_PYTHON,
    check_and_keep_screenshots,
    demo_scene,
    install_from_zip,
    pip_user_flags_for,
    run_in_qgis,
)
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

SCREENSHOTS = ("processing_toolbox.png", "classifywater_dialog.png", "torch_missing.png")


def scene_for_screenshots(tmp_path):
    """The bundled Landsat scene and its training polygons; a synthetic pair where demo/data is empty."""
    demo = demo_scene(tmp_path)
    if demo:
        return demo
    bands, _ = water_scene()
    return (write_raster(tmp_path / "scene.tif", bands),
            write_polygons(tmp_path / "training_polygons.gpkg", standard_polygons()))


@pytest.mark.slow
def test_qgis_with_the_plugin_from_the_zip_and_no_torch(plugin_zip, torch_blocker, tmp_path):
    """A new user: plugin installed from the ZIP, torch not installed, QGIS started."""
    install_from_zip(plugin_zip, str(tmp_path / "profiles" / "test"))
    scene, polygons = scene_for_screenshots(tmp_path)
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    report = run_in_qgis("qgis_session.py", tmp_path, tmp_path / "report.json", torch_blocker, scene, polygons,
                         WATERLOGREG_SCREENSHOTS=str(screenshots))
    assert report["plugin_loaded"] and report["plugin_active"]
    assert report["provider"] == "Water mapping (logistic regression)"
    assert report["algorithms"] == [f"waterlogreg:{name}" for name in ALGORITHMS]
    assert all(report["algorithm_icons"].values())
    assert len(report["layers"]) == 2 and report["layers"][0] == os.path.splitext(os.path.basename(scene))[0]
    assert report["torch_importable"] is False
    assert set(report["toolbox_items"]) >= {
        "Water mapping (logistic regression)", "Water mapping", "Classify water (one click)",
        "Predict water on many scenes", "Predict water probability", "Train water model",
        "Sample training pixels", "Assess water map accuracy",
    }
    # 3.40+ puts the algorithm's group before its name
    assert report["dialog_title"] in ("Classify water (one click)", "Water mapping - Classify water (one click)")
    assert report["dialog_values"]["CLASS_FIELD"] == "class"

    assert report["torch_message_window"] == "Error executing algorithm"
    message = report["torch_message"]
    assert message.startswith("This algorithm cannot be run :-( \nThis tool needs PyTorch (the Python package 'torch')")
    # The command names the Python QGIS embeds (Debian's), not whatever python3 is first on PATH.
    python = re.search(r"In a terminal run: (\S+) -m pip install ", message).group(1)
    assert os.path.realpath(python) == os.path.realpath(SYSTEM_PYTHON)
    assert f"{python} -m pip install {pip_user_flags_for(SYSTEM_PYTHON)} torch " \
           "--index-url https://download.pytorch.org/whl/cpu" in message
    assert message.endswith("Then restart QGIS.")

    check_and_keep_screenshots(screenshots, SCREENSHOTS)
    assert PLUGIN in os.listdir(tmp_path / "profiles" / "test" / "python" / "plugins")
