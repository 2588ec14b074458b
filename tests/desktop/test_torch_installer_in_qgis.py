"""A user without torch, in real QGIS on a virtual screen with the plugin from the ZIP in a fresh
profile: predicts, installs torch from Plugins → Water mapping → Install PyTorch… with real pip
(this machine's package index, the CPU wheel of torch 2.13.0, about 200 MB: about a minute),
trains and classifies in the same session, uninstalls. Before that, an index pip cannot reach is
refused with the command to run, and an install canceled while pip unpacks torch leaves nothing.
Where no index this machine reaches has the CPU build for QGIS's Python (Python 3.14 on QGIS
3.44 here: download.pytorch.org does not resolve), that install is refused, and the user names
PyPI, whose Linux build is CUDA's (about 4.7 GB; it trains on the CPU too): installed instead.
WATERLOGREG_SCREENSHOTS_TO=docs/img keeps the dialog's screenshots."""

import os
import subprocess

import pytest
from desktop_programs import SYSTEM_PYTHON, check_and_keep_screenshots, install_from_zip, run_in_qgis
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

from water_logreg_plugin.core.install.pip_runner import SCRATCH_PREFIX
from water_logreg_plugin.core.install.plan import BUILDS, TORCH_REQUIREMENT

SCREENSHOTS = ("installer-before.png", "installer-during.png", "installer-after.png")


def cpu_build_reachable(tmp_path):
    """Whether pip, with this machine's configuration and PyTorch's CPU index, finds torch's CPU
    build for QGIS's Python (a dry run: nothing is downloaded or installed)."""
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed", "--quiet",
         "--target", str(tmp_path / "probe"), "--retries", "0", "--timeout", "10",
         "--extra-index-url", BUILDS["cpu"].public_index, f"{TORCH_REQUIREMENT}+cpu"],
        capture_output=True, timeout=300)
    return probe.returncode == 0


@pytest.mark.slow
def test_install_train_and_uninstall_in_one_session(plugin_zip, run_algorithm, tmp_path):
    install_from_zip(plugin_zip, str(tmp_path / "profiles" / "test"))
    scene = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "training_polygons.gpkg", standard_polygons())
    model = run_algorithm("classifywater", {"INPUT": scene, "POLYGONS": polygons, "CLASS_FIELD": "class",
                                            "OUTPUT_MODEL": str(tmp_path / "model.json")})["OUTPUT_MODEL"]
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    nothing_extra = tmp_path / "no-extra-python-path"  # not the venv's site-packages: no torch in QGIS
    nothing_extra.mkdir()
    cpu_build = "reachable" if cpu_build_reachable(tmp_path) else "unreachable"
    report = run_in_qgis("qgis_torch_installer.py", tmp_path, tmp_path / "report.json", str(nothing_extra),
                         timeout=2400, WATERLOGREG_SCREENSHOTS=str(screenshots), WATERLOGREG_SCENE=scene,
                         WATERLOGREG_POLYGONS=polygons, WATERLOGREG_MODEL=model, WATERLOGREG_CPU_BUILD=cpu_build)
    folder = str(tmp_path / "profiles" / "test" / "python" / "dependencies")

    assert report["torch_importable_at_start"] is False
    # Only ours is asserted: QGIS 3.44 adds its own ("Open Sans font installation failed", offline).
    ours = [text for text in report["message_bar"] if "PyTorch" in text]
    assert ours == ["Training needs PyTorch, which QGIS's Python does not have."]
    assert not [text for text in report["message_bar_after_reload"] if "PyTorch" in text]
    assert report["dependencies_on_path_at_start"] is False
    assert report["predicted_without_torch"] and not report["torch_module_after_predict"]
    assert report["dialog_title"] == "Install PyTorch — Water mapping"
    assert report["dialog_what"].startswith("<b>What:</b> torch==2.13.0+cpu (PyTorch), CPU build")
    assert f"<b>Where:</b> {folder} — a folder of your QGIS profile" in report["dialog_what"]
    assert f"numpy=={report['numpy_at_start'][0]} and" in report["dialog_what"]
    assert report["dialog_builds"][0] == "CPU, about 200 MB to download, 0.9 GB installed"

    assert report["refusal_status"] == "offline"
    assert report["refusal_text"].startswith("pip could not reach the package index, so nothing was installed.")
    assert report["refusal_command"] in report["refusal_text"]
    assert "--index-url http://127.0.0.1:9/simple --retries 0 --timeout 2 torch==2.13.0" in report["refusal_command"]
    assert report["files_after_refusal"] == []

    if cpu_build == "unreachable":
        # This machine reaches no copy of torch's CPU build for this Python (download.pytorch.org
        # is the only home of Linux's): refused, nothing written, numpy as it was; then PyPI,
        # named by the user, gives its CUDA build, and the dialog said so.
        assert report["no_cpu_build_status"] == "offline", report["no_cpu_build_text"]
        assert report["no_cpu_build_text"].startswith("pip could not reach the package index")
        assert report["no_cpu_build_command"].endswith(
            "--extra-index-url https://download.pytorch.org/whl/cpu torch==2.13.0+cpu")
        assert report["files_after_no_cpu_build"] == []
        assert "PyPI&#x27;s torch is the CUDA build on this system" in report["pypi_what"]
        version = "2.13.0"
    else:
        assert report["cancel_pressed_while_running"]
        assert report["cancel_status"] == "canceled"
        assert report["cancel_text"] == "Canceled: pip was stopped and nothing was installed."
        assert report["files_after_cancel"] == []
        assert "dependencies" not in report["python_folder_after_cancel"]
        assert not [name for name in report["python_folder_after_cancel"] if name.startswith(SCRATCH_PREFIX)]
        version = "2.13.0+cpu"

    assert report["install_status"] == "installed", report["install_text"]
    assert report["install_text"].startswith(f"PyTorch {version} is installed in {folder}. Train water model "
                                             "and Classify water work now, in this session.")
    assert f"torch=={version}" in report["installed"]
    assert not any(pin.lower().startswith("numpy==") for pin in report["installed"])
    assert not any(entry.lower().startswith("numpy") for entry in report["folder_entries"])
    assert "dependencies" in report["python_folder"]
    assert not [name for name in report["python_folder"] if name.startswith(SCRATCH_PREFIX)]
    assert report["torch_file"].startswith(folder + os.sep)
    assert report["trained_model"] and report["classified"]
    assert report["numpy_after_install"] == report["numpy_at_start"] == report["numpy_at_end"]
    assert report["during_running"]

    assert report["uninstall_text"].startswith(f"Removed {folder}.")
    assert report["files_after_uninstall"] == report["files_before_install"]
    assert not os.path.exists(folder)

    check_and_keep_screenshots(screenshots, SCREENSHOTS)
    print(f"install: {report['install_seconds']} s, {report['folder_bytes'] / 1e6:.0f} MB: {report['installed']}")
