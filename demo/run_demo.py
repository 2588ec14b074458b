"""`make demo`: map the water of a real scene with the plugin, headless.

Runs the Processing algorithms exactly as the Toolbox does (processing.run). The default scene
is the bundled Sentinel-2 clip of the Havel lakes near Berlin (blue, green, red, NIR): the
model takes the bands the file names green, red and NIR (the course's pixel), is scored on its
held-out polygons and on independent OpenStreetMap polygons, and is set beside NDWI with Otsu's
threshold (waterlogreg:waterindex) on the same polygons. `--scene landsat` runs the Landsat 8
clip of a reservoir in Paraná (blue, green, red: no NIR, so every band and no NDWI). Both write
a quick-look PNG rendered by QGIS with the plugin's own styling.
"""

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")

sys.path.insert(0, ROOT)
from water_logreg_plugin.standalone import start_qgis  # noqa: E402


@dataclass(frozen=True)
class Scene:
    raster: str
    training: str
    validation: str
    title: str  # of the quick-look's natural-colour panel
    stretch: dict  # {band: (min, max)} in DN for red, green and blue
    red_green_blue: tuple
    has_index: bool  # the file names green and NIR, so NDWI runs beside the model


SCENES = {
    "sentinel2": Scene(
        os.path.join(DATA, "sentinel2_havel.tif"), os.path.join(DATA, "sentinel2_training.gpkg"),
        os.path.join(DATA, "sentinel2_validation.gpkg"), "Sentinel-2, natural colour (training polygons in pink)",
        # 2nd–98th percentiles of the clip: winter haze lifts blue most.
        {3: (620, 1950), 2: (860, 1830), 1: (1200, 2120)}, (3, 2, 1), True,
    ),
    "landsat": Scene(
        os.path.join(DATA, "landsat8_reservoir.tif"), os.path.join(DATA, "training_polygons.gpkg"),
        os.path.join(DATA, "validation_polygons.gpkg"), "Landsat 8, natural colour (training polygons in pink)",
        {3: (6000, 11000), 2: (6000, 11000), 1: (6000, 11000)}, (3, 2, 1), False,
    ),
}
@dataclass
class DemoRun:
    lines: list  # the figures, as `make demo` prints them and README shows them (no timing in them)
    seconds: dict  # {tool: seconds of processing.run}
    paths: dict  # {name: output file}
    device: str
    results: dict  # {step: processing.run's results}


POLYGON_FIELDS = {"CLASS_FIELD": "class", "WATER_VALUES": "water"}


def timed(name, parameters):
    """processing.run of one of the plugin's algorithms: (results, seconds, log lines)."""
    import processing
    from qgis.core import QgsProcessingFeedback

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def pushInfo(self, info):  # noqa: N802
            self.lines.append(info)
            super().pushInfo(info)

    feedback = Recorder()
    started = time.perf_counter()
    result = processing.run(f"waterlogreg:{name}", parameters, feedback=feedback)
    return result, time.perf_counter() - started, feedback.lines


def report_figures(report_path, attribute):
    """{key: value} of the report's elements with `attribute` (e.g. data-index-figure)."""
    with open(report_path, encoding="utf-8") as handle:
        found = re.findall(rf'{attribute}="(\w+)" data-value="([^"]+)"', handle.read())
    return {key: float(value) for key, value in found}


def run_demo(scene_name, output, hidden_layers="", quicklook=True):
    """Every tool on the scene, as a DemoRun."""
    scene = SCENES[scene_name]
    os.makedirs(output, exist_ok=True)
    steps = os.path.join(output, "steps")
    os.makedirs(steps, exist_ok=True)
    paths = {
        "probability": os.path.join(output, "water_probability.tif"),
        "mask": os.path.join(output, "water_mask.tif"),
        "model": os.path.join(output, "water_model.json"),
        "report": os.path.join(output, "water_report.html"),
        "quicklook": os.path.join(output, "water_quicklook.png"),
    }
    if scene.has_index:
        paths["index"] = os.path.join(output, "water_index.tif")
        paths["index_mask"] = os.path.join(output, "water_index_mask.tif")
    seconds = {}
    # BANDS left empty: the file's band roles choose (green, red and NIR when it names them).
    classified, seconds["classifywater"], log = timed("classifywater", {
        "INPUT": scene.raster, "POLYGONS": scene.training, **POLYGON_FIELDS,
        "HIDDEN_LAYERS": hidden_layers, "SEED": 0,
        "OUTPUT": paths["probability"], "OUTPUT_MODEL": paths["model"], "OUTPUT_MASK": paths["mask"],
        "OUTPUT_REPORT": paths["report"],
    })
    independent, seconds["assessaccuracy"], _ = timed("assessaccuracy", {
        "INPUT": paths["probability"], "POLYGONS": scene.validation, **POLYGON_FIELDS,
    })
    # The same model with P(water) for the training pixels' share: the map before the scene's share.
    as_trained_path = os.path.join(steps, "probability_as_trained.tif")
    _, seconds["predictwater (as trained)"], _ = timed("predictwater", {
        "INPUT": scene.raster, "MODEL": paths["model"], "WATER_PRIOR": 1, "OUTPUT": as_trained_path,
    })
    as_trained, seconds["assessaccuracy (as trained)"], _ = timed("assessaccuracy", {
        "INPUT": as_trained_path, "POLYGONS": scene.validation, **POLYGON_FIELDS,
    })
    # The same job tool by tool, as a user would chain them (into steps/).
    samples, seconds["samplepixels"], _ = timed("samplepixels", {
        "INPUT": scene.raster, "POLYGONS": scene.training, **POLYGON_FIELDS,
        "OUTPUT": os.path.join(steps, "samples.gpkg"),
    })
    trained, seconds["trainmodel"], _ = timed("trainmodel", {
        "SAMPLES": samples["OUTPUT"], "OUTPUT_MODEL": os.path.join(steps, "model.json"),
    })
    _, seconds["predictwater"], _ = timed("predictwater", {
        "INPUT": scene.raster, "MODEL": trained["OUTPUT_MODEL"], "OUTPUT": os.path.join(steps, "probability.tif"),
    })

    bands = next(line for line in log if line.startswith("Sampled ")).split(" over bands ")[1].rstrip(".")
    lines = [f"Water on {os.path.relpath(scene.raster, ROOT)}, bands {bands}"]
    lines += [f"  {line}" for line in log if line.startswith("Using ")]
    lines += _figure_lines("logistic regression", classified["FIGURES_FROM"], classified)
    lines += _figure_lines("logistic regression", "independent validation polygons", independent)
    lines.append(f"  water covers {100 * classified['WATER_FRACTION']:.1f} % of the valid pixels")
    lines += _share_lines(classified, as_trained, independent)
    if scene.has_index:
        index, seconds["waterindex"], _ = timed("waterindex", {
            "INPUT": scene.raster, "OUTPUT": paths["index"], "OUTPUT_MASK": paths["index_mask"],
        })
        # The 0/1 mask is scored as it is: a pixel is water where the mask is 1 (≥ 0.5).
        index_assessed, seconds["assessaccuracy (NDWI)"], _ = timed("assessaccuracy", {
            "INPUT": paths["index_mask"], "POLYGONS": scene.validation, **POLYGON_FIELDS,
        })
        name = f"{index['INDEX']} ≥ {index['THRESHOLD']:.4f} (Otsu)"
        held_out = {key.upper(): value for key, value in report_figures(paths["report"], "data-index-figure").items()}
        held_out["ASSESSED_PIXELS"] = held_out.pop("PIXELS")
        lines += _figure_lines(name, classified["FIGURES_FROM"], held_out, log_loss=False)
        lines += _figure_lines(name, "independent validation polygons", index_assessed, log_loss=False)
        lines.append(f"  water covers {100 * index['WATER_FRACTION']:.1f} % of the valid pixels")
    if quicklook:
        render_quicklook(scene, paths["probability"], paths["quicklook"])
    results = {"classified": classified, "independent": independent, "as_trained_independent": as_trained}
    if scene.has_index:
        results.update(index=index, index_held_out=held_out, index_independent=index_assessed)
    return DemoRun(lines, seconds, paths, classified["DEVICE_USED"], results)


def _share_lines(classified, as_trained, scene_share):
    """The map as the model gives it (for the training pixels' share of water) beside the map for
    the scene's share, on the independent polygons."""
    lines = [f"  share of water: training pixels {100 * classified['TRAINING_WATER_SHARE']:.1f} %, "
             f"scene {100 * classified['SCENE_WATER_SHARE']:.1f} % (EM); on the independent polygons:",
             "    P(water) for                 water F1  accuracy  land→water  log-loss  ECE"]
    for name, figures in (("the training pixels' share", as_trained), ("the scene's share (EM)", scene_share)):
        lines.append(f"    {name:<28} {figures['F1']:.4f}    {figures['OVERALL_ACCURACY']:.4f}    "
                     f"{figures['FALSE_WATER']:<10.0f}  {figures['LOG_LOSS']:.3f}     {figures['ECE']:.3f}")
    return lines


def _figure_lines(method, polygons, figures, log_loss=True):
    loss = f", log-loss {figures['LOG_LOSS']:.4f}" if log_loss else ""
    return [
        f"  {method}, {polygons} ({figures['ASSESSED_PIXELS']:.0f} pixels):",
        f"    accuracy {figures['OVERALL_ACCURACY']:.4f}, kappa {figures['KAPPA']:.4f}, "
        f"water F1 {figures['F1']:.4f}, IoU {figures['IOU']:.4f}{loss}",
        f"    confusion: water→water {figures['TRUE_WATER']:.0f}, water→land {figures['FALSE_LAND']:.0f}, "
        f"land→water {figures['FALSE_WATER']:.0f}, land→land {figures['TRUE_LAND']:.0f}",
    ]


def render_quicklook(scene, probability_path, png_path):
    """Natural colour | water probability with the training polygons, rendered by QGIS."""
    from qgis.core import (
        QgsContrastEnhancement,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsMultiBandColorRenderer,
        QgsRasterLayer,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

    from water_logreg_plugin.styling import style_probability

    raster = QgsRasterLayer(scene.raster, "scene")
    renderer = QgsMultiBandColorRenderer(raster.dataProvider(), *scene.red_green_blue)
    setters = (renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
               renderer.setBlueContrastEnhancement)
    for band, setter in zip(scene.red_green_blue, setters):
        enhancement = QgsContrastEnhancement(raster.dataProvider().dataType(band))
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancement.setMinimumValue(scene.stretch[band][0])
        enhancement.setMaximumValue(scene.stretch[band][1])
        setter(enhancement)
    raster.setRenderer(renderer)
    probability = QgsRasterLayer(probability_path, "P(water)")
    style_probability(probability)
    training = QgsVectorLayer(scene.training, "training")
    training.renderer().symbol().setColor(QColor(0, 0, 0, 0))
    training.renderer().symbol().symbolLayer(0).setStrokeColor(QColor("#ff2d95"))
    training.renderer().symbol().symbolLayer(0).setStrokeWidth(0.5)

    panel = 640
    images = []
    for layers in ([training, raster], [training, probability]):
        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setDestinationCrs(raster.crs())
        settings.setExtent(raster.extent())
        settings.setOutputSize(QSize(panel, int(panel * raster.height() / raster.width())))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        images.append(job.renderedImage())
    height = images[0].height()
    canvas = QImage(2 * panel + 10, height + 30, QImage.Format_ARGB32)
    canvas.fill(QColor("white"))
    painter = QPainter(canvas)
    painter.setFont(QFont("Sans", 11))
    titles = (scene.title, "P(water): 0 land (beige) … 1 water (dark blue)")
    for index, (image, title) in enumerate(zip(images, titles)):
        painter.drawText(index * (panel + 10) + 4, 20, title)
        painter.drawImage(index * (panel + 10), 30, image)
    painter.end()
    canvas.save(png_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", choices=sorted(SCENES), default="sentinel2")
    parser.add_argument("--output", default=os.path.join(ROOT, "demo_output"))
    parser.add_argument("--hidden-layers", default="", help="e.g. 16,16 for the multi-layer perceptron")
    arguments = parser.parse_args()
    application = start_qgis()
    run = run_demo(arguments.scene, os.path.abspath(arguments.output), arguments.hidden_layers)
    print()
    print("\n".join(run.lines))
    print(f"Timings (processing.run on {run.device}, seconds):")
    for name, value in run.seconds.items():
        print(f"  {name:<21} {value:6.2f}")
    print("Files:")
    for name, path in run.paths.items():
        print(f"  {name:<12} {path}")
    application.exitQgis()


if __name__ == "__main__":
    main()
