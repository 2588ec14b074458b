"""Real programs — QGIS under Xvfb, qgis_process, Debian's /usr/bin/python3 — on the plugin ZIP.

Each test installs dist/water_logreg_plugin.zip the way "Install from ZIP" does: unzipped into
the python/plugins folder of a fresh profile, and enabled in that profile's settings.
Every program runs in its own process group and is waited for until it ends; HANG_LIMIT_S is
only there to catch a hang (a program that never ends), never a speed limit: a slow machine
that takes minutes to start QGIS still passes.
"""

import json
import os
import shutil
import signal
import subprocess
import sysconfig
import zipfile

import pytest

DESKTOP_TESTS = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(DESKTOP_TESTS)
ROOT = os.path.dirname(TESTS)
PLUGIN_ZIP = os.path.join(ROOT, "dist", "water_logreg_plugin.zip")
PLUGIN = "water_logreg_plugin"
QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # /usr/bin/qgis_process adds --noversioncheck, which it refuses
SYSTEM_PYTHON = "/usr/bin/python3"
DEMO_DATA = os.path.join(ROOT, "demo", "data")
ALGORITHMS = [
    "assessaccuracy", "classifywater", "predictscenes", "predictwater", "samplepixels", "trainmodel",
    "waterbodies", "waterchange", "waterindex", "wateroccurrence",
]
HANG_LIMIT_S = 600  # only a program that hangs runs this long; a slow start is not a failure
# Inside QGIS, torch comes from the test environment's site-packages (the venv `make test` builds).
TORCH_SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def install_from_zip(zip_path, profile_folder, enable=True):
    """What QGIS's "Install from ZIP" leaves behind: the plugin folder, enabled in the profile."""
    plugins = os.path.join(profile_folder, "python", "plugins")
    os.makedirs(plugins)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(plugins)
    if not enable:
        return plugins
    os.makedirs(os.path.join(profile_folder, "QGIS"))
    with open(os.path.join(profile_folder, "QGIS", "QGIS3.ini"), "w", encoding="utf-8") as settings:
        settings.write(f"[PythonPlugins]\n{PLUGIN}=true\n")
    return plugins


def demo_scene(tmp_path):
    """Copies of the bundled Landsat scene and its training polygons, or None while demo/data is
    empty. Copies, because QGIS saves a histogram beside a raster it opens (.aux.xml)."""
    names = ("landsat8_reservoir.tif", "training_polygons.gpkg")
    if not all(os.path.exists(os.path.join(DEMO_DATA, name)) for name in names):
        return None
    copies = tmp_path / "demo"
    copies.mkdir()
    return tuple(shutil.copy(os.path.join(DEMO_DATA, name), copies / name) for name in names)


def program_environment(**variables):
    """This environment without a PYTHONPATH of its own, plus `variables`."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment["QT_QPA_PLATFORM"] = "offscreen"
    environment.update(variables)
    return environment


def run_in_qgis(script, profiles_path, report_path, python_path, *arguments, timeout=HANG_LIMIT_S, **variables):
    """QGIS on a virtual screen, profile "test" under `profiles_path`, running `script` (a file of
    tests/desktop, ended by qgis_script.report_after_start) with `arguments`; waits until the script
    quits QGIS and returns the report it wrote to `report_path`, which must hold no error.

    QGIS's Python gets `python_path` first (torch, or a blocker of it), then tests/desktop and
    tests/ for the modules the scripts share; `variables` are further environment variables."""
    environment = program_environment(
        PYTHONPATH=os.pathsep.join([python_path, DESKTOP_TESTS, TESTS]), QT_QPA_PLATFORM="xcb",
        WATERLOGREG_REPORT=str(report_path), **variables,
    )
    finished = run_program([
        "xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
        "qgis", "--profiles-path", str(profiles_path), "--profile", "test", "--nologo", "--noversioncheck",
        "--code", os.path.join(DESKTOP_TESTS, script), *arguments,
    ], environment, timeout=timeout)
    assert report_path.exists(), f"QGIS wrote no report (exit {finished.returncode}):\n{finished.stderr[-3000:]}"
    report = json.loads(report_path.read_text())
    assert "error" not in report, report["error"]
    return report


def run_program(command, environment, timeout=HANG_LIMIT_S, cwd=None):
    """Run a program in its own process group and wait for it to end; past `timeout` (a hang)
    the whole group is killed."""
    process = subprocess.Popen(
        command, env=environment, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{command[0]} did not finish within {timeout} s: it hangs.\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def pip_user_flags_for(python=SYSTEM_PYTHON):
    """The pip flags a user of `python` needs to install into their own site-packages: PEP 668
    says a Python whose stdlib holds an EXTERNALLY-MANAGED file (Debian 12, Ubuntu ≥ 23.04)
    refuses `pip install --user` unless told --break-system-packages; elsewhere (Ubuntu 22.04,
    whose pip 22.0 does not even know that option) `--user` alone."""
    marker = subprocess.run(
        [python, "-c", "import os, sysconfig; "
                       "print(os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", "")},
    ).stdout.strip()
    return "--user --break-system-packages" if marker == "True" else "--user"


def colours_in(path):
    """How many distinct colours an image has (a blank grab has one or two)."""
    from qgis.PyQt.QtGui import QImage

    image = QImage(path)
    assert not image.isNull(), path
    step_x, step_y = max(1, image.width() // 100), max(1, image.height() // 100)
    return len({image.pixel(x, y) for x in range(0, image.width(), step_x) for y in range(0, image.height(), step_y)})


def check_and_keep_screenshots(folder, names):
    """Each screenshot in `folder` shows something (a blank grab has one or two colours); where
    WATERLOGREG_SCREENSHOTS_TO names a folder (docs/img for the README), copied there."""
    for name in names:
        assert colours_in(str(folder / name)) > 8, name
    keep = os.environ.get("WATERLOGREG_SCREENSHOTS_TO")
    if keep:
        for name in names:
            shutil.copy(folder / name, os.path.join(keep, name))
