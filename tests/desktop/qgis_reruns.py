"""Run inside real QGIS by `qgis --code`: what a user does in one session, reported as JSON.

First, that nothing offers the torch installer (torch imports here). Then classify water three
times, predict three scenes, the batch dialog over three scenes with "load layers on
completion", a Processing model twice, then the dialog's CLASS_FIELD default and a run with
CLASS_FIELD fid. Each step records the layers it added: name and renderer.

Environment: WATERLOGREG_REPORT (the JSON file to write), WATERLOGREG_SCENES (paths joined by
os.pathsep), WATERLOGREG_POLYGONS, WATERLOGREG_MODEL (a model file for the scenes).
"""

import os

from qgis.core import QgsApplication, QgsProject
from qgis_script import report_after_start

SCENES = os.environ["WATERLOGREG_SCENES"].split(os.pathsep)
POLYGONS = os.environ["WATERLOGREG_POLYGONS"]
MODEL = os.environ["WATERLOGREG_MODEL"]


def added_by(step):
    """[(name, renderer type)] of the layers `step()` adds to the project, by name."""
    before = set(QgsProject.instance().mapLayers())
    step()
    return sorted((layer.name(), layer.renderer().type() if hasattr(layer, "renderer") and layer.renderer() else None)
                  for layer_id, layer in QgsProject.instance().mapLayers().items() if layer_id not in before)


def classify_three_times(report):
    import processing

    report["classify"] = [added_by(lambda: processing.runAndLoadResults("waterlogreg:classifywater", {
        "INPUT": SCENES[0], "POLYGONS": POLYGONS, "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT",
        "OUTPUT_MASK": "TEMPORARY_OUTPUT"})) for _ in range(3)]


def predict_each_scene(report):
    import processing

    report["predict"] = [added_by(lambda scene=scene: processing.runAndLoadResults("waterlogreg:predictwater", {
        "INPUT": scene, "MODEL": MODEL, "OUTPUT": "TEMPORARY_OUTPUT"})) for scene in SCENES]


def batch_with_loading(report):
    from processing.tools import dataobjects
    from qgis.utils import iface
    from support.batch_dialog import batch_dialog, run_batch

    with batch_dialog("waterlogreg:predictwater", parent=iface.mainWindow()) as dialog:
        panel = dialog.mainWidget()
        panel.checkLoadLayersOnCompletion.setChecked(True)
        context = dataobjects.createContext()
        for row, scene in enumerate(SCENES):
            panel.tblParameters.cellWidget(0, panel.parameter_to_column["INPUT"]).setRowValue(row, scene, context)
            panel.tblParameters.cellWidget(0, panel.parameter_to_column["OUTPUT"]).setRowValue(
                row, "TEMPORARY_OUTPUT", context)
        panel.wrappers[0][panel.parameter_to_column["MODEL"]].setParameterValue(MODEL, context)
        panel.tblParameters.cellWidget(0, panel.parameter_to_column["MODEL"]).fillDown()
        report["batch"] = added_by(lambda: run_batch(dialog))


def model_twice(report):
    import processing
    from support.processing_models import output_parameter, predict_model

    model = predict_model()
    output = output_parameter(model)
    report["model"] = [added_by(lambda scene=scene: processing.runAndLoadResults(model, {
        "scene": scene, "model": MODEL, output: "TEMPORARY_OUTPUT"})) for scene in SCENES[1:]]


def class_field(report):
    import processing
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from processing.tools import dataobjects
    from qgis.core import QgsProcessingException, QgsVectorLayer
    from qgis.utils import iface

    polygons = QgsVectorLayer(POLYGONS, "training polygons", "ogr")
    QgsProject.instance().addMapLayer(polygons)
    dialog = AlgorithmDialog(
        QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:classifywater"),
        parent=iface.mainWindow())
    dialog.mainWidget().wrappers["POLYGONS"].setParameterValue(polygons, dataobjects.createContext())
    report["dialog_fields"] = polygons.fields().names()
    report["dialog_class_field"] = dialog.mainWidget().wrappers["CLASS_FIELD"].parameterValue()
    dialog.close()
    try:
        processing.run("waterlogreg:classifywater", {
            "INPUT": SCENES[0], "POLYGONS": POLYGONS, "CLASS_FIELD": "fid", "OUTPUT": "TEMPORARY_OUTPUT"})
        report["fid_error"] = None
    except QgsProcessingException as error:
        report["fid_error"] = str(error)


def installer_not_offered(report):
    """torch imports here: no message bar offer, no Plugins → Water mapping menu."""
    from qgis.utils import iface

    report["message_bar"] = [item.text() for item in iface.messageBar().items()]
    report["plugin_menus"] = [action.text() for action in iface.pluginMenu().actions()]


report_after_start([installer_not_offered, classify_three_times, predict_each_scene, batch_with_loading, model_twice,
                    class_field])
