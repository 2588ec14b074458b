"""Run inside real QGIS by `qgis --code`: what a user sees, written to a JSON report, then quit.

Environment: WATERLOGREG_REPORT (the JSON file to write) and WATERLOGREG_SCREENSHOTS (a folder).
The work waits for QGIS's event loop, and the process always ends with os._exit so that no
"save the project?" question or slow shutdown can keep it open (qgis_script.report_after_start).
"""

import importlib.util
import os

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication
from qgis_script import report_after_start

SCREENSHOTS = os.environ["WATERLOGREG_SCREENSHOTS"]
PROVIDER_ID = "waterlogreg"


def settle(seconds=0.5):
    """Let Qt lay out and paint what was just shown."""
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.start(int(seconds * 1000))
    while deadline.isActive():
        QApplication.processEvents()


def inspect_plugin(report):
    import qgis.utils

    report["plugin_loaded"] = "water_logreg_plugin" in qgis.utils.plugins
    report["plugin_active"] = "water_logreg_plugin" in qgis.utils.active_plugins
    provider = QgsApplication.processingRegistry().providerById(PROVIDER_ID)
    report["provider"] = provider.name() if provider else None
    report["algorithms"] = sorted(algorithm.id() for algorithm in provider.algorithms()) if provider else []
    report["algorithm_icons"] = {
        algorithm.id(): not algorithm.icon().isNull() for algorithm in (provider.algorithms() if provider else [])
    }
    report["layers"] = sorted(layer.name() for layer in QgsProject.instance().mapLayers().values())
    report["torch_importable"] = importlib.util.find_spec("torch") is not None


def toolbox_items(tree, provider_name):
    """{display text: index} of the provider's row, its group rows and its algorithm rows."""
    model = tree.model()
    items = {}
    for row in range(model.rowCount()):
        provider_index = model.index(row, 0)
        if provider_index.data() != provider_name:
            continue
        items[provider_name] = provider_index
        for group_row in range(model.rowCount(provider_index)):
            group_index = model.index(group_row, 0, provider_index)
            items[group_index.data()] = group_index
            for item_row in range(model.rowCount(group_index)):
                item_index = model.index(item_row, 0, group_index)
                items[item_index.data()] = item_index
    return items


def screenshot_toolbox(report):
    """The Processing Toolbox with our provider and its group expanded."""
    import qgis.utils

    toolbox = qgis.utils.plugins["processing"].toolbox
    toolbox.show()
    toolbox.raise_()
    tree = toolbox.algorithmTree
    provider_name = QgsApplication.processingRegistry().providerById(PROVIDER_ID).name()
    items = toolbox_items(tree, provider_name)
    report["toolbox_items"] = sorted(items)
    for index in items.values():
        tree.expand(index)
    settle()
    report["toolbox_saved"] = toolbox.grab().save(os.path.join(SCREENSHOTS, "processing_toolbox.png"))
    return toolbox, items


def screenshot_torch_missing(report, toolbox, items):
    """Double-click 'Classify water' in the Toolbox as a user would, where torch is missing."""
    waited = []

    def grab_and_close():
        message = QApplication.activeModalWidget()
        if message is None:
            # Not open yet: look again soon. 600 looks (a minute) only catch a window that never opens.
            waited.append(1)
            if len(waited) < 600:
                QTimer.singleShot(100, grab_and_close)
            else:
                report["torch_message_window"] = None
            return
        report["torch_message_window"] = message.windowTitle()
        report["torch_message"] = message.txtMessage.toPlainText()
        message.resize(640, 300)
        settle()
        report["torch_message_saved"] = message.grab().save(os.path.join(SCREENSHOTS, "torch_missing.png"))
        message.close()

    toolbox.algorithmTree.setCurrentIndex(items["Classify water (one click)"])
    # executeAlgorithm opens a modal window and waits in it; the timer reads and closes it once open.
    QTimer.singleShot(100, grab_and_close)
    toolbox.executeAlgorithm()


def fill_in_as_a_user_would(dialog):
    """The loaded raster and polygons chosen; the dialog itself picks the field that says water
    or land ('class', never the GeoPackage's fid)."""
    from processing.tools import dataobjects
    from qgis.core import QgsRasterLayer, QgsVectorLayer

    context = dataobjects.createContext()
    wrappers = dialog.mainWidget().wrappers
    for layer in QgsProject.instance().mapLayers().values():
        if isinstance(layer, QgsRasterLayer):
            wrappers["INPUT"].setParameterValue(layer, context)
        elif isinstance(layer, QgsVectorLayer):
            wrappers["POLYGONS"].setParameterValue(layer, context)
    settle()


def screenshot_classify_dialog(report):
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.utils import iface

    algorithm = QgsApplication.processingRegistry().createAlgorithmById(f"{PROVIDER_ID}:classifywater")
    dialog = AlgorithmDialog(algorithm, parent=iface.mainWindow())
    dialog.resize(1000, 800)
    dialog.show()
    fill_in_as_a_user_would(dialog)
    settle(1.0)
    report["dialog_title"] = dialog.windowTitle()
    report["dialog_values"] = {
        name: str(wrapper.parameterValue()) for name, wrapper in dialog.mainWidget().wrappers.items()
        if name in ("INPUT", "POLYGONS", "CLASS_FIELD")
    }
    path = os.path.join(SCREENSHOTS, "classifywater_dialog.png")
    report["dialog_saved"] = dialog.grab().save(path)
    dialog.close()


def sized_main_window(_report):
    from qgis.utils import iface

    iface.mainWindow().resize(1280, 800)


def screenshots(report):
    toolbox, items = screenshot_toolbox(report)
    screenshot_classify_dialog(report)
    screenshot_torch_missing(report, toolbox, items)


report_after_start([sized_main_window, inspect_plugin, screenshots], delay_ms=2000)
