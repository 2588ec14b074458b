"""Where QGIS's Python is on each platform's layout (real folder trees under tmp_path), the
dependencies folder on sys.path, and the NVIDIA driver check."""

import importlib.util
import os
import sys

from water_logreg_plugin.core.install.locations import (
    add_to_import_path,
    dependencies_folder,
    nvidia_driver_found,
    qgis_python_for,
    remove_from_import_path,
)


def make_file(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8"):
        pass
    return str(path)


def test_linux_takes_the_versioned_interpreter_of_the_exec_prefix(tmp_path):
    python = make_file(tmp_path / "usr" / "bin" / "python3.11")
    make_file(tmp_path / "usr" / "bin" / "python3")
    found = qgis_python_for("Linux", str(tmp_path / "usr"), "/home/me/.pyenv/shims/python3", (3, 11, 2))
    assert found == python


def test_windows_osgeo4w_takes_python_exe_not_qgis_itself(tmp_path):
    prefix = tmp_path / "OSGeo4W" / "apps" / "Python312"
    python = make_file(prefix / "python.exe")
    qgis = make_file(tmp_path / "OSGeo4W" / "bin" / "qgis-bin.exe")
    assert qgis_python_for("Windows", str(prefix), qgis, (3, 12, 4)) == python


def test_macos_bundle_takes_contents_macos_bin_python3(tmp_path):
    contents = tmp_path / "Applications" / "QGIS.app" / "Contents"
    python = make_file(contents / "MacOS" / "bin" / "python3")
    qgis = make_file(contents / "MacOS" / "QGIS")
    prefix = contents / "Frameworks" / "Python.framework" / "Versions" / "3.9"
    os.makedirs(prefix)
    assert qgis_python_for("Darwin", str(prefix), qgis, (3, 9, 5)) == python


def test_without_an_interpreter_file_the_executable_is_the_last_resort(tmp_path):
    assert qgis_python_for("Linux", str(tmp_path), "/usr/bin/qgis", (3, 11, 2)) == "/usr/bin/qgis"


def test_the_dependencies_folder_is_inside_the_profiles_python_folder(tmp_path):
    profile = tmp_path / "profiles" / "default"
    assert dependencies_folder(str(profile)) == str(profile / "python" / "dependencies")


def test_a_package_put_into_the_folder_after_it_went_on_the_path_imports(tmp_path):
    folder = tmp_path / "dependencies"
    add_to_import_path(str(folder))  # the folder does not exist yet, as at the plugin's first load
    try:
        assert importlib.util.find_spec("water_logreg_installed_later") is None
        make_file(folder / "water_logreg_installed_later.py")
        add_to_import_path(str(folder))
        assert sys.path.count(str(folder)) == 1 and sys.path[0] == str(folder)
        assert importlib.util.find_spec("water_logreg_installed_later").origin == str(
            folder / "water_logreg_installed_later.py")
    finally:
        remove_from_import_path(str(folder))
    assert str(folder) not in sys.path


def test_an_nvidia_driver_is_found_by_its_file_or_nvidia_smi(tmp_path):
    driver = make_file(tmp_path / "version")
    assert nvidia_driver_found(driver, which=lambda name: None)
    assert nvidia_driver_found(str(tmp_path / "none"), which=lambda name: "/usr/bin/nvidia-smi"
                               if name == "nvidia-smi" else None)
    assert not nvidia_driver_found(str(tmp_path / "none"), which=lambda name: None)
