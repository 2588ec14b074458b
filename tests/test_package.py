"""The ZIP that "Install from ZIP" and the plugin repository take."""

import configparser
import os
import subprocess
import zipfile

import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZIP = os.path.join(ROOT, "dist", "water_logreg_plugin.zip")


def test_zip_layout():
    subprocess.run(["make", "-s", "package"], cwd=ROOT, check=True, capture_output=True)
    with zipfile.ZipFile(ZIP) as archive:
        names = archive.namelist()
        assert all(name.startswith("water_logreg_plugin/") for name in names)
        for required in ("__init__.py", "metadata.txt", "plugin.py", "provider.py", "icon.svg", "LICENSE",
                         "core/model/__init__.py", "core/model/training.py", "algorithms/classify_water.py",
                         "help/index.html"):
            assert f"water_logreg_plugin/{required}" in names
        assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
        metadata = configparser.ConfigParser()
        metadata.read_string(archive.read("water_logreg_plugin/metadata.txt").decode("utf-8"))
    general = metadata["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"


def read_metadata(path):
    metadata = configparser.ConfigParser()
    metadata.read(path, encoding="utf-8")
    return metadata["general"]


def test_plugin_folder_holds_the_metadata_and_pyproject_its_version():
    """A plugin folder linked into a profile (make dev-link) loads only with metadata.txt inside it."""
    top_level = read_metadata(os.path.join(ROOT, "metadata.txt"))
    assert dict(read_metadata(os.path.join(ROOT, "water_logreg_plugin", "metadata.txt"))) == dict(top_level)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        project = tomllib.load(handle)["project"]
    assert project["version"] == top_level["version"]
    assert {"test", "dask", "bench"} <= set(project["optional-dependencies"])


def test_pytest_qgis_fixtures_work_on_this_qgis(qgis_app, qgis_processing, qgis_iface, qgis_new_project, qgis_canvas):
    """pytest-qgis 5 targets QGIS ≥ 3.34; prove the fixtures we rely on work on 3.22."""
    from qgis.core import Qgis, QgsApplication, QgsProject

    assert Qgis.QGIS_VERSION_INT >= 32200
    assert QgsApplication.processingRegistry().providerById("native") is not None
    assert QgsProject.instance().count() == 0
    # pytest-qgis's canvas (600 × 600 by default) is the one its iface hands out.
    assert (qgis_canvas.width(), qgis_canvas.height()) == (600, 600)
    assert qgis_iface.mapCanvas() is qgis_canvas
