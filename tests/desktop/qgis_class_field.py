"""Run inside real QGIS by `qgis --code`: the CLASS_FIELD each dialog offers, reported as JSON.

For each polygon layer, classifywater's dialog (and, for the first, samplepixels' and
assessaccuracy's) with that layer chosen; a field the user picked, then another layer chosen;
then which widget the batch panel and the modeler give CLASS_FIELD (QGIS's own, not the
dialog's Python one).

Environment: WATERLOGREG_REPORT (the JSON file to write), WATERLOGREG_POLYGONS (GeoPackages
joined by os.pathsep).
"""

import os

from qgis.core import QgsApplication, QgsProject
from qgis_script import report_after_start

POLYGONS = os.environ["WATERLOGREG_POLYGONS"].split(os.pathsep)


def offered_field(algorithm_id, *layers, pick=None):
    """CLASS_FIELD once `layers` were chosen in turn, the user picking `pick` after the first."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from processing.tools import dataobjects
    from qgis.utils import iface

    dialog = AlgorithmDialog(
        QgsApplication.processingRegistry().createAlgorithmById(algorithm_id), parent=iface.mainWindow())
    wrappers = dialog.mainWidget().wrappers
    for layer in layers:
        wrappers["POLYGONS"].setParameterValue(layer, dataobjects.createContext())
        if pick:
            wrappers["CLASS_FIELD"].setParameterValue(pick, dataobjects.createContext())
            pick = None
    field = wrappers["CLASS_FIELD"].parameterValue()
    dialog.close()
    return field


def dialogs(report):
    from qgis.core import QgsVectorLayer

    layers = [QgsVectorLayer(path, os.path.basename(path), "ogr") for path in POLYGONS]
    QgsProject.instance().addMapLayers(layers)
    report["fields"] = [layer.fields().names() for layer in layers]
    report["classifywater"] = [offered_field("waterlogreg:classifywater", layer) for layer in layers]
    report["others"] = [offered_field(f"waterlogreg:{name}", layers[0]) for name in ("samplepixels", "assessaccuracy")]
    # the user's pick stays where the next layer has that field; else the next layer's preferred one
    report["after_pick"] = [offered_field("waterlogreg:classifywater", layers[0], layers[3], pick="name"),
                            offered_field("waterlogreg:classifywater", layers[0], layers[1], pick="name")]


def batch_and_modeler(report):
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.modeler.ModelerParametersDialog import ModelerParametersDialog
    from qgis.core import QgsProcessingModelAlgorithm
    from qgis.utils import iface

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:classifywater")
    batch = BatchAlgorithmDialog(algorithm, parent=iface.mainWindow())
    panel = batch.mainWidget()
    report["batch_wrapper"] = type(panel.wrappers[0][panel.parameter_to_column["CLASS_FIELD"]]).__name__
    batch.close()
    modeler = ModelerParametersDialog(algorithm, QgsProcessingModelAlgorithm())
    report["modeler_wrapper"] = type(modeler.widget.widget.wrappers["CLASS_FIELD"]).__name__
    modeler.close()


report_after_start([dialogs, batch_and_modeler])
