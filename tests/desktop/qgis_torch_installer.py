"""Run inside real QGIS by `qgis --code`: a user without torch installs it from the menu.

Predict with a model file (no torch needed); open Plugins → Water mapping → Install PyTorch…;
press Install with an index pip cannot reach (refused, nothing written); cancel an install while
pip unpacks torch (nothing left); press Install with pip's own configuration (this machine's
index); train and classify in the same session; Uninstall. numpy's version and file, and the
profile's files, are read before and after.

Where no index this machine reaches holds torch's CPU build for this Python
(WATERLOGREG_CPU_BUILD=unreachable), the install is refused with the command instead; then the
user names PyPI in the index field, whose torch for Linux is the CUDA build (about 4.7 GB, which
runs on the CPU too), and installs, trains and uninstalls as above (the cancel is left out).

Environment: WATERLOGREG_REPORT (the JSON file to write), WATERLOGREG_SCREENSHOTS (a folder for
installer-before/during/after.png), WATERLOGREG_SCENE, WATERLOGREG_POLYGONS, WATERLOGREG_MODEL,
WATERLOGREG_CPU_BUILD.
"""

import importlib.util
import os
import sys
import time

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QApplication
from qgis_script import report_after_start

SCREENSHOTS = os.environ["WATERLOGREG_SCREENSHOTS"]
SCENE, POLYGONS, MODEL = (os.environ[name] for name in ("WATERLOGREG_SCENE", "WATERLOGREG_POLYGONS",
                                                          "WATERLOGREG_MODEL"))
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"
PYPI = "https://pypi.org/simple"
PROFILE = os.path.normpath(QgsApplication.qgisSettingsDirPath())
state = {}


def wait_until(condition, limit_s):
    """Let QGIS's event loop run (tasks end, signals arrive) until `condition()` or limit_s."""
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    return condition()


def profile_files():
    """Every file of the profile but Python's bytecode caches (the plugin's modules that training
    imports for the first time write theirs)."""
    return sorted(os.path.relpath(os.path.join(folder, name), PROFILE)
                  for folder, _, names in os.walk(PROFILE) for name in names if "__pycache__" not in folder)


def numpy_identity():
    import numpy

    return [numpy.__version__, numpy.__file__]


def plugin_offers_the_installer(report):
    import qgis.utils
    from qgis.utils import iface

    report["torch_importable_at_start"] = importlib.util.find_spec("torch") is not None
    report["numpy_at_start"] = numpy_identity()
    report["message_bar"] = [item.text() for item in iface.messageBar().items()]
    # Once a session: the plugin reloaded (Plugin Reloader, re-enabled in the Plugin Manager)
    # offers no second time.
    iface.messageBar().clearWidgets()
    qgis.utils.reloadPlugin("water_logreg_plugin")
    report["message_bar_after_reload"] = [item.text() for item in iface.messageBar().items()]
    menu = next(action.menu() for action in iface.pluginMenu().actions() if action.text() == "Water mapping")
    state["action"] = next(action for action in menu.actions() if action.text() == "Install PyTorch…")
    state["plugin"] = qgis.utils.plugins["water_logreg_plugin"]
    report["dependencies_on_path_at_start"] = any(entry.endswith(os.path.join("python", "dependencies"))
                                                  for entry in sys.path)


def predict_without_torch(report):
    import processing

    result = processing.run("waterlogreg:predictwater", {"INPUT": SCENE, "MODEL": MODEL,
                                                         "OUTPUT": "TEMPORARY_OUTPUT"})
    report["predicted_without_torch"] = os.path.isfile(result["OUTPUT"])
    report["torch_module_after_predict"] = "torch" in sys.modules


def open_from_the_menu(report):
    state["action"].trigger()
    dialog = state["plugin"].installer_dialog
    wait_until(lambda: dialog.isVisible(), 10)
    state["dialog"] = dialog
    report["dialog_title"] = dialog.windowTitle()
    report["dialog_what"] = dialog.what.text()
    report["dialog_builds"] = [dialog.build.itemText(row) for row in range(dialog.build.count())]
    state["files_before"] = profile_files()


def press_install_and_wait(dialog, limit_s):
    started = time.monotonic()
    dialog.install_button.click()
    wait_until(lambda: dialog.task is None, limit_s)
    return time.monotonic() - started


def refused_without_an_index(report):
    """No pip configuration and an index nobody answers on: refused, the command shown."""
    dialog = state["dialog"]
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("PIP_")}
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    try:
        dialog.index_url.setText(UNREACHABLE_INDEX)
        dialog.pip_options.setText("--retries 0 --timeout 2")
        press_install_and_wait(dialog, 300)
    finally:
        os.environ.pop("PIP_CONFIG_FILE")
        os.environ.update(saved)
    report["refusal_status"] = dialog.outcome.status
    report["refusal_text"] = dialog.outcome_label.text()
    report["refusal_command"] = dialog.outcome.command
    report["files_after_refusal"] = sorted(set(profile_files()) - set(state["files_before"]))
    dialog.index_url.setText("")
    dialog.pip_options.setText("")


def cancel_while_pip_installs(report):
    """Cancel install once pip unpacks torch: pip stops, no folder, no scratch folder."""
    dialog = state["dialog"]
    dialog.install_button.click()
    wait_until(lambda: dialog.task is None or "Installing collected packages" in dialog.log.toPlainText(), 900)
    report["cancel_pressed_while_running"] = dialog.task is not None and dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    wait_until(lambda: dialog.task is None, 120)
    report["cancel_status"] = dialog.outcome.status
    report["cancel_text"] = dialog.outcome_label.text()
    report["files_after_cancel"] = sorted(set(profile_files()) - set(state["files_before"]))
    report["python_folder_after_cancel"] = sorted(os.listdir(os.path.join(PROFILE, "python")))


def grab(dialog, name):
    QApplication.processEvents()
    return dialog.grab().save(os.path.join(SCREENSHOTS, f"installer-{name}.png"))


def install_with_pips_configuration(report):
    dialog = state["dialog"]
    dialog.log.clear()
    dialog.outcome_label.setText("")
    report["before_saved"] = grab(dialog, "before")
    started = time.monotonic()
    dialog.install_button.click()
    # "during": once pip has begun unpacking (the second run's log), while the task still runs.
    wait_until(lambda: dialog.task is None or "Installing collected packages" in dialog.log.toPlainText(), 900)
    report["during_running"] = dialog.task is not None
    report["during_saved"] = grab(dialog, "during")
    wait_until(lambda: dialog.task is None, 1800)
    report["install_seconds"] = round(time.monotonic() - started, 1)
    report["after_saved"] = grab(dialog, "after")
    report["install_status"] = dialog.outcome.status
    report["install_text"] = dialog.outcome_label.text()
    report["installed"] = list(dialog.outcome.installed)
    folder = dialog.folder
    report["folder"] = folder
    report["folder_bytes"] = sum(os.path.getsize(os.path.join(where, name))
                                 for where, _, names in os.walk(folder) for name in names)
    report["folder_entries"] = sorted(os.listdir(folder))
    report["python_folder"] = sorted(os.listdir(os.path.dirname(folder)))


def train_in_the_same_session(report):
    import processing
    import torch

    report["torch_file"] = torch.__file__
    sampled = processing.run("waterlogreg:samplepixels", {
        "INPUT": SCENE, "POLYGONS": POLYGONS, "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT"})
    trained = processing.run("waterlogreg:trainmodel", {"SAMPLES": sampled["OUTPUT"]})
    report["trained_model"] = os.path.isfile(trained["OUTPUT_MODEL"])
    classified = processing.run("waterlogreg:classifywater", {
        "INPUT": SCENE, "POLYGONS": POLYGONS, "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT"})
    report["classified"] = os.path.isfile(classified["OUTPUT"])
    report["numpy_after_install"] = numpy_identity()


def uninstall(report):
    dialog = state["dialog"]
    dialog.uninstall_button.click()
    report["uninstall_text"] = dialog.outcome_label.text()
    report["files_after_uninstall"] = profile_files()
    report["files_before_install"] = state["files_before"]
    report["numpy_at_end"] = numpy_identity()


def refused_without_the_cpu_build(report):
    """Install with pip's own configuration where no index holds torch's CPU build for this
    Python: refused with the command, nothing written (never PyPI's CUDA build instead)."""
    dialog = state["dialog"]
    dialog.install_button.click()
    wait_until(lambda: dialog.task is None, 900)
    report["no_cpu_build_status"] = dialog.outcome.status
    report["no_cpu_build_text"] = dialog.outcome_label.text()
    report["no_cpu_build_command"] = dialog.outcome.command
    report["files_after_no_cpu_build"] = sorted(set(profile_files()) - set(state["files_before"]))
    report["numpy_at_end"] = numpy_identity()


def install_from_pypi(report):
    """The user names PyPI, the index this machine has: the dialog says PyPI's build is the CUDA
    one; installed as with pip's own configuration."""
    dialog = state["dialog"]
    dialog.index_url.setText(PYPI)
    report["pypi_what"] = dialog.what.text()
    install_with_pips_configuration(report)


if os.environ.get("WATERLOGREG_CPU_BUILD") == "unreachable":
    STEPS = [plugin_offers_the_installer, predict_without_torch, open_from_the_menu, refused_without_an_index,
             refused_without_the_cpu_build, install_from_pypi, train_in_the_same_session, uninstall]
else:
    STEPS = [plugin_offers_the_installer, predict_without_torch, open_from_the_menu, refused_without_an_index,
             cancel_while_pip_installs, install_with_pips_configuration, train_in_the_same_session, uninstall]
report_after_start(STEPS, delay_ms=2000)
