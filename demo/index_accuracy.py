"""Model against index on the Sentinel-2 Havel clip: accuracy of the NDWI (Otsu) mask and of
the logistic regression, on the training and on the independent validation polygons.

The index is scored here with numpy, GDAL and OGR alone (polygons rasterised on the raster's
grid with gdal.Rasterize, pixel-centre rule), the model through processing.run as a user would.

    QT_QPA_PLATFORM=offscreen python demo/index_accuracy.py [--output demo_output/index]
"""

import argparse
import os
import sys

from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
SCENE = os.path.join(DATA, "sentinel2_havel.tif")
TRAINING = os.path.join(DATA, "sentinel2_training.gpkg")
VALIDATION = os.path.join(DATA, "sentinel2_validation.gpkg")

sys.path.insert(0, ROOT)
from water_logreg_plugin.core.learning.metrics import accuracy_figures  # noqa: E402
from water_logreg_plugin.standalone import start_qgis  # noqa: E402


def reference_labels(polygons, grid):
    """(labels bool, inside bool) on the grid of `grid`: 1 water, 0 land, from the field `class`."""
    layers = gdal.OpenEx(polygons, gdal.OF_VECTOR)
    burned = gdal.GetDriverByName("MEM").Create("", grid.RasterXSize, grid.RasterYSize, 1, gdal.GDT_Byte)
    burned.SetGeoTransform(grid.GetGeoTransform())
    burned.SetProjection(grid.GetProjection())
    burned.GetRasterBand(1).Fill(255)
    for label, value in (("land", 0), ("water", 1)):
        gdal.Rasterize(burned, layers, burnValues=[value], where=f"class = '{label}'")
    values = burned.ReadAsArray()
    return values == 1, values != 255


def score(prediction, nodata, polygons, grid):
    """accuracy_figures of a 0/1 (or probability) raster inside the polygons, nodata left out."""
    labels, inside = reference_labels(polygons, grid)
    keep = inside & (prediction != nodata)
    return accuracy_figures(prediction[keep], labels[keep])


def line(name, figures):
    recall_land = figures["true_land"] / (figures["true_land"] + figures["false_water"])
    return (f"  {name:<38} {figures['pixels']:>7} px  accuracy {figures['overall_accuracy']:.4f}  "
            f"kappa {figures['kappa']:.4f}  water F1 {figures['f1']:.4f}  IoU {figures['iou']:.4f}  "
            f"water recall {figures['recall']:.4f}  land recall {recall_land:.4f}  "
            f"(water→land {figures['false_land']}, land→water {figures['false_water']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=os.path.join(ROOT, "demo_output", "index"))
    output = os.path.abspath(parser.parse_args().output)
    os.makedirs(output, exist_ok=True)
    application = start_qgis()
    import processing

    index = processing.run("waterlogreg:waterindex", {
        "INPUT": SCENE, "OUTPUT": os.path.join(output, "ndwi.tif"),
        "OUTPUT_MASK": os.path.join(output, "ndwi_mask.tif"),
    })
    models = {}
    # Bands given, not left empty: empty would take green, red and NIR from the band roles.
    for name, bands in (("all 4 bands", [1, 2, 3, 4]), ("green, red, NIR", [2, 3, 4])):
        stem = "probability_" + "_".join(map(str, bands))
        models[name] = processing.run("waterlogreg:classifywater", {
            "INPUT": SCENE, "BANDS": bands, "POLYGONS": TRAINING, "CLASS_FIELD": "class", "WATER_VALUES": "water",
            "SEED": 0, "OUTPUT": os.path.join(output, f"{stem}.tif"),
            "OUTPUT_MODEL": os.path.join(output, f"{stem}.json"),
        })
    grid = gdal.Open(SCENE)
    mask = gdal.Open(index["OUTPUT_MASK"]).ReadAsArray()
    print(f"{index['INDEX']} on {os.path.relpath(SCENE, ROOT)}: Otsu threshold {index['THRESHOLD']:.4f}, "
          f"{100 * index['WATER_FRACTION']:.2f} % of {index['VALID_PIXELS']:.0f} valid pixels water")
    for name, model in models.items():
        print(f"Logistic regression ({name}, seed 0): {100 * model['WATER_FRACTION']:.2f} % water")
    for title, polygons in (("training polygons", TRAINING), ("validation polygons (OSM, EPSG:4326)", VALIDATION)):
        print(title)
        print(line(f"NDWI ≥ {index['THRESHOLD']:.4f} (Otsu)", score(mask, 255, polygons, grid)))
        for name, model in models.items():
            probability = gdal.Open(model["OUTPUT"]).ReadAsArray()
            print(line(f"logistic regression, {name}", score(probability, -9999.0, polygons, grid)))
    grid = None  # a GDAL dataset still open when QGIS exits crashes the process
    application.exitQgis()


if __name__ == "__main__":
    main()
