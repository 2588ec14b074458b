"""Run inside real QGIS by `qgis --code`: a bow-tie polygon through each tool that reads polygons,
under Processing's own 'Invalid features filtering' setting (stop, by default), then a run with
good polygons. QGIS 3.22 crashed on that next run before the plugin read polygons itself.

Environment: WATERLOGREG_REPORT (the JSON file to write), WATERLOGREG_SCENE,
WATERLOGREG_PROBABILITY (a P(water) map of it), WATERLOGREG_BOW_TIE and WATERLOGREG_POLYGONS
(polygon layers with and without the bow-tie), WATERLOGREG_OUTPUT (a folder for the outputs).
"""

import os

from qgis_script import report_after_start

SCENE = os.environ["WATERLOGREG_SCENE"]
PROBABILITY = os.environ["WATERLOGREG_PROBABILITY"]
OUTPUT = os.environ["WATERLOGREG_OUTPUT"]


def parameters(tool, polygons):
    common = {"POLYGONS": polygons, "CLASS_FIELD": "class"}
    return {
        "samplepixels": dict(common, INPUT=SCENE, OUTPUT=os.path.join(OUTPUT, f"samples_{len(polygons)}.gpkg")),
        "classifywater": dict(common, INPUT=SCENE, OUTPUT="TEMPORARY_OUTPUT"),
        "assessaccuracy": dict(common, INPUT=PROBABILITY),
    }[tool]


def refused_then_next(report):
    import processing
    from qgis.core import QgsProcessingException

    report["refused"] = []
    for tool in ("samplepixels", "classifywater", "assessaccuracy"):
        try:
            processing.run(f"waterlogreg:{tool}", parameters(tool, os.environ["WATERLOGREG_BOW_TIE"]))
            report["refused"].append(None)
        except QgsProcessingException as refusal:
            report["refused"].append(str(refusal).split(";")[0])
    result = processing.run("waterlogreg:samplepixels", parameters("samplepixels", os.environ["WATERLOGREG_POLYGONS"]))
    report["next_run"] = os.path.basename(result["OUTPUT"])


report_after_start([refused_then_next])
