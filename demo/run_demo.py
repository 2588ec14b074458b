"""`make demo`: map the water of a real Landsat 8 scene with the plugin, headless.

Runs the Processing algorithms exactly as the Toolbox does (processing.run), on the bundled
clip of LC08_L1TP_224077_20200518 (a reservoir in Paraná, Brazil) and polygons drawn over
it, then writes a quick-look PNG rendered by QGIS with the plugin's own styling.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
SCENE = os.path.join(DATA, "landsat8_reservoir.tif")
TRAINING = os.path.join(DATA, "training_polygons.gpkg")
VALIDATION = os.path.join(DATA, "validation_polygons.gpkg")

sys.path.insert(0, ROOT)
from water_logreg_plugin.standalone import start_qgis  # noqa: E402


def timed(name, parameters):
    import processing

    started = time.perf_counter()
    result = processing.run(f"waterlogreg:{name}", parameters)
    return result, time.perf_counter() - started


def render_quicklook(probability_path, png_path):
    """Natural colour | water probability with the polygons, rendered by QGIS."""
    from qgis.core import (
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsMultiBandColorRenderer,
        QgsRasterLayer,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

    from water_logreg_plugin.styling import style_probability

    scene = QgsRasterLayer(SCENE, "scene")
    renderer = QgsMultiBandColorRenderer(scene.dataProvider(), 3, 2, 1)
    for band, setter in ((3, renderer.setRedContrastEnhancement), (2, renderer.setGreenContrastEnhancement),
                         (1, renderer.setBlueContrastEnhancement)):
        from qgis.core import QgsContrastEnhancement

        enhancement = QgsContrastEnhancement(scene.dataProvider().dataType(band))
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancement.setMinimumValue(6000)
        enhancement.setMaximumValue(11000)
        setter(enhancement)
    scene.setRenderer(renderer)
    probability = QgsRasterLayer(probability_path, "P(water)")
    style_probability(probability)
    training = QgsVectorLayer(TRAINING, "training")
    training.renderer().symbol().setColor(QColor(0, 0, 0, 0))
    training.renderer().symbol().symbolLayer(0).setStrokeColor(QColor("#ff2d95"))
    training.renderer().symbol().symbolLayer(0).setStrokeWidth(0.5)

    panel = 640
    images = []
    for layers in ([training, scene], [training, probability]):
        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setDestinationCrs(scene.crs())
        settings.setExtent(scene.extent())
        settings.setOutputSize(QSize(panel, int(panel * scene.height() / scene.width())))
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
    for index, (image, title) in enumerate(zip(images, ("Landsat 8, natural colour (training polygons in pink)",
                                                        "P(water): 0 land (beige) … 1 water (dark blue)"))):
        painter.drawText(index * (panel + 10) + 4, 20, title)
        painter.drawImage(index * (panel + 10), 30, image)
    painter.setPen(Qt.black)
    painter.end()
    canvas.save(png_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=os.path.join(ROOT, "demo_output"))
    parser.add_argument("--hidden-layers", default="", help="e.g. 16,16 for the multi-layer perceptron")
    arguments = parser.parse_args()
    output = os.path.abspath(arguments.output)
    os.makedirs(output, exist_ok=True)
    application = start_qgis()

    paths = {
        "probability": os.path.join(output, "water_probability.tif"),
        "mask": os.path.join(output, "water_mask.tif"),
        "model": os.path.join(output, "water_model.json"),
        "report": os.path.join(output, "water_report.html"),
        "quicklook": os.path.join(output, "water_quicklook.png"),
    }
    steps = os.path.join(output, "steps")
    os.makedirs(steps, exist_ok=True)
    classified, seconds_classify = timed("classifywater", {
        "INPUT": SCENE, "POLYGONS": TRAINING, "CLASS_FIELD": "class", "WATER_VALUES": "water",
        "HIDDEN_LAYERS": arguments.hidden_layers, "SEED": 0,
        "OUTPUT": paths["probability"], "OUTPUT_MODEL": paths["model"], "OUTPUT_MASK": paths["mask"],
        "OUTPUT_REPORT": paths["report"],
    })
    independent, seconds_assess = timed("assessaccuracy", {
        "INPUT": paths["probability"], "POLYGONS": VALIDATION, "CLASS_FIELD": "class", "WATER_VALUES": "water",
    })
    # The same job in three steps, as a user would chain the tools, for the timings (into steps/).
    samples, seconds_sample = timed("samplepixels", {
        "INPUT": SCENE, "POLYGONS": TRAINING, "CLASS_FIELD": "class", "WATER_VALUES": "water",
        "OUTPUT": os.path.join(steps, "samples.gpkg"),
    })
    _, seconds_train = timed("trainmodel", {
        "SAMPLES": samples["OUTPUT"], "OUTPUT_MODEL": os.path.join(steps, "model.json"),
    })
    _, seconds_predict = timed("predictwater", {
        "INPUT": SCENE, "MODEL": paths["model"], "OUTPUT": os.path.join(steps, "probability.tif"),
    })
    render_quicklook(paths["probability"], paths["quicklook"])

    print()
    print(f"Water on {os.path.relpath(SCENE, ROOT)} (device: {classified['DEVICE_USED']})")
    for label, figures in ((f"{classified['FIGURES_FROM']}", classified),
                           ("independent validation polygons", independent)):
        print(f"  {label} ({figures['ASSESSED_PIXELS']:.0f} pixels): accuracy {figures['OVERALL_ACCURACY']:.4f}, "
              f"kappa {figures['KAPPA']:.4f}, water F1 {figures['F1']:.4f}, IoU {figures['IOU']:.4f}, "
              f"log-loss {figures['LOG_LOSS']:.4f}")
        print(f"    confusion: water→water {figures['TRUE_WATER']:.0f}, water→land {figures['FALSE_LAND']:.0f}, "
              f"land→water {figures['FALSE_WATER']:.0f}, land→land {figures['TRUE_LAND']:.0f}")
    print(f"  water covers {100 * classified['WATER_FRACTION']:.1f} % of the valid pixels")
    print("Timings (processing.run, seconds):")
    for name, seconds in (("classifywater", seconds_classify), ("samplepixels", seconds_sample),
                          ("trainmodel", seconds_train), ("predictwater", seconds_predict),
                          ("assessaccuracy", seconds_assess)):
        print(f"  {name:<15} {seconds:6.2f}")
    print("Files:")
    for name, path in paths.items():
        print(f"  {name:<12} {path}")
    application.exitQgis()


if __name__ == "__main__":
    main()
