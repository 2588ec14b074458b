"""Run inside real QGIS by `qgis --code`: the CLASS_FIELD each dialog shows and the field the
algorithm then takes, reported as JSON.

For each polygon layer, classifywater's dialog (and, for the first, samplepixels' and
assessaccuracy's) with that layer chosen: the value of QGIS's own field widget, and the field
the algorithm takes for it (algorithms.layers.chosen_class_field); then which widget the
dialog, the batch panel and the modeler give CLASS_FIELD (QGIS's own in each: the plugin has
none, so QGIS 4 shows the same).

Environment: WATERLOGREG_REPORT (the JSON file to write), WATERLOGREG_POLYGONS (GeoPackages
joined by os.pathsep).
"""

import os

from qgis.core import QgsApplication, QgsProject
from qgis_script import report_after_start

POLYGONS = os.environ["WATERLOGREG_POLYGONS"].split(os.pathsep)


def offered_field(algorithm_id, layer):
    """[CLASS_FIELD as the dialog shows it once `layer` is chosen, the field the algorithm takes]."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from processing.tools import dataobjects
    from qgis.core import QgsProcessingFeedback
    from qgis.utils import iface

    from water_logreg_plugin.algorithms.layers import chosen_class_field

    dialog = AlgorithmDialog(
        QgsApplication.processingRegistry().createAlgorithmById(algorithm_id), parent=iface.mainWindow())
    wrappers = dialog.mainWidget().wrappers
    wrappers["POLYGONS"].setParameterValue(layer, dataobjects.createContext())
    shown = wrappers["CLASS_FIELD"].parameterValue() or ""
    dialog.close()
    return [shown, chosen_class_field(layer, shown, QgsProcessingFeedback())]


def dialogs(report):
    from qgis.core import QgsVectorLayer

    layers = [QgsVectorLayer(path, os.path.basename(path), "ogr") for path in POLYGONS]
    QgsProject.instance().addMapLayers(layers)
    report["fields"] = [layer.fields().names() for layer in layers]
    report["classifywater"] = [offered_field("waterlogreg:classifywater", layer) for layer in layers]
    report["others"] = [offered_field(f"waterlogreg:{name}", layers[0]) for name in ("samplepixels", "assessaccuracy")]


def wrappers(report):
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.modeler.ModelerParametersDialog import ModelerParametersDialog
    from qgis.core import QgsProcessingModelAlgorithm
    from qgis.utils import iface

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:classifywater")
    dialog = AlgorithmDialog(algorithm, parent=iface.mainWindow())
    report["dialog_wrapper"] = type(dialog.mainWidget().wrappers["CLASS_FIELD"]).__name__
    dialog.close()
    batch = BatchAlgorithmDialog(algorithm, parent=iface.mainWindow())
    panel = batch.mainWidget()
    report["batch_wrapper"] = type(panel.wrappers[0][panel.parameter_to_column["CLASS_FIELD"]]).__name__
    batch.close()
    modeler = ModelerParametersDialog(algorithm, QgsProcessingModelAlgorithm())
    report["modeler_wrapper"] = type(modeler.widget.widget.wrappers["CLASS_FIELD"]).__name__
    modeler.close()


report_after_start([dialogs, wrappers])
