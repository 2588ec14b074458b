"""What pip is asked: the argv of both runs, the index only when set, and the pins that keep
numpy and QGIS's compiled packages as they are."""

import importlib.metadata
import os
import sys

import numpy

from water_logreg_plugin.core.install.plan import BUILDS, PipPlan, protected_pins


def test_pips_own_configuration_unless_an_index_is_set():
    plan = PipPlan(python="/usr/bin/python3.11", dependencies_folder="/p/python/dependencies", platform="darwin")
    assert plan.resolve_argv("c.txt", "r.json") == [
        "/usr/bin/python3.11", "-m", "pip", "install", "--dry-run", "--report", "r.json",
        "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-c", "c.txt", "torch==2.13.0"]
    cuda = PipPlan(python="py", dependencies_folder="d", build=BUILDS["cuda"], platform="linux")
    assert cuda.resolve_argv("c.txt", "r.json")[-3:] == ["-c", "c.txt", "torch==2.13.0"]


def test_the_cpu_build_on_linux_is_asked_for_by_name_from_pytorchs_cpu_index_beside_pips_own():
    # PyPI's Linux torch is the CUDA build (4.7 GB): torch==2.13.0 alone would bring it.
    plan = PipPlan(python="py", dependencies_folder="d", platform="linux")
    assert plan.resolve_argv("c.txt", "r.json")[-5:] == [
        "-c", "c.txt", "--extra-index-url", "https://download.pytorch.org/whl/cpu", "torch==2.13.0+cpu"]
    assert plan.command_text().endswith("--extra-index-url https://download.pytorch.org/whl/cpu torch==2.13.0+cpu")
    mirror = PipPlan(python="py", dependencies_folder="d", platform="linux", index_url="https://mirror.example/simple")
    assert mirror.resolve_argv("c.txt", "r.json")[-3:] == ["--index-url", "https://mirror.example/simple",
                                                           "torch==2.13.0"]
    mirrored = PipPlan(python="py", dependencies_folder="d", index_url=BUILDS["cpu"].public_index,
                       extra_options="--proxy 'http://proxy.example:3128' --trusted-host mirror.example")
    assert mirrored.install_argv("c.txt", "/p/python/.scratch/dependencies", ["torch==2.13.0+cpu", "sympy==1.14.0"]) \
        == ["py", "-m", "pip", "install", "--no-deps", "--target", "/p/python/.scratch/dependencies",
            "--no-warn-script-location", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
            "-c", "c.txt", "--index-url", "https://download.pytorch.org/whl/cpu",
            "--proxy", "http://proxy.example:3128", "--trusted-host", "mirror.example",
            "torch==2.13.0+cpu", "sympy==1.14.0"]


def test_numpy_and_compiled_packages_are_pinned_to_what_this_python_has():
    pins = protected_pins(sys.path)
    assert f"numpy=={numpy.__version__}" in pins
    names = {pin.split("==")[0].lower() for pin in pins}
    # GDAL's bindings are compiled; a pure-Python package torch may need newer is not pinned.
    assert "gdal" in names
    assert "pytest" not in names
    assert all(importlib.metadata.version(pin.split("==")[0]) == pin.split("==")[1] for pin in pins
               if pin.split("==")[0].lower() in ("numpy", "gdal"))


def test_the_first_of_a_name_on_the_path_is_the_pinned_one(tmp_path):
    older = tmp_path / "first" / "numpy-0.1.dist-info"
    older.mkdir(parents=True)
    (older / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 0.1\n")
    pins = protected_pins([str(tmp_path / "first")] + sys.path)
    assert [pin for pin in pins if pin.startswith("numpy==")] == ["numpy==0.1"]
    assert os.path.isdir(older)
