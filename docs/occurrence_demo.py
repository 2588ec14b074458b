"""The README's occurrence picture: five simulated dates of the Landsat demo scene, their occurrence.

    make demo-landsat && .venv/bin/python docs/occurrence_demo.py demo_output/landsat/water_probability.tif \
        docs/img/occurrence_demo.png

Only one date of the demo scene ships, so the other dates are simulated from its probability
map: the water's edge is moved in and out by a few pixels (a signed distance to the shore,
through a logistic), as a reservoir's level falls and rises, and one date has a cloud of nodata.
Their occurrence and count are computed with the plugin's core (water_occurrence), then drawn
with matplotlib.
"""

import os
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from water_logreg_plugin.core.dates.occurrence import water_occurrence

LEVELS = (-6.0, -3.0, 0.0, 4.0, 9.0)  # shore shift of each date, in pixels (negative: lower water)
NODATA = -9999.0
VIEW = (slice(150, 750), slice(300, 1000))  # the drowned valleys, where the shore moves most


def proximity(mask):
    """Distance in pixels from each pixel to the nearest pixel where `mask` is true."""
    driver = gdal.GetDriverByName("MEM")
    source = driver.Create("", mask.shape[1], mask.shape[0], 1, gdal.GDT_Byte)
    source.GetRasterBand(1).WriteArray(mask.astype(np.uint8))
    target = driver.Create("", mask.shape[1], mask.shape[0], 1, gdal.GDT_Float32)
    gdal.ComputeProximity(source.GetRasterBand(1), target.GetRasterBand(1), ["VALUES=1", "DISTUNITS=PIXEL"])
    return target.GetRasterBand(1).ReadAsArray()


def simulate_dates(probability_path, folder):
    source = gdal.Open(probability_path)
    probability = source.GetRasterBand(1).ReadAsArray()
    water = probability >= 0.5
    shore_distance = np.where(water, proximity(~water), -proximity(water))  # > 0 inside the water
    paths = []
    for index, level in enumerate(LEVELS):
        simulated = (1.0 / (1.0 + np.exp(-np.clip(shore_distance + level, -30, 30)))).astype(np.float32)
        simulated[probability == NODATA] = NODATA
        if index == 1:
            simulated[200:420, 650:900] = NODATA  # a cloud on the second date
        path = os.path.join(folder, f"date{index + 1}.tif")
        gdal.Translate(path, source, format="GTiff")
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.GetRasterBand(1).WriteArray(simulated)
        dataset = None
        paths.append(path)
    return paths


def draw(paths, occurrence_path, count_path, png_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    ramp = LinearSegmentedColormap.from_list("occurrence", ["#f7fbff", "#6baed6", "#08306b"])
    ramp.set_bad("#bdbdbd")
    figure = plt.figure(figsize=(10, 6.4), dpi=100)
    grid = figure.add_gridspec(2, 5, height_ratios=(1, 2.6), hspace=0.12, wspace=0.05)
    for index, path in enumerate(paths):
        values = gdal.Open(path).ReadAsArray()[VIEW]
        axis = figure.add_subplot(grid[0, index])
        axis.imshow(np.ma.masked_equal(values, NODATA) >= 0.5, cmap=ramp, vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"date {index + 1}" + (" (cloud)" if (values == NODATA).any() else ""), fontsize=9)
        axis.set_axis_off()
    occurrence = gdal.Open(occurrence_path).ReadAsArray()[VIEW]
    axis = figure.add_subplot(grid[1, :3])
    image = axis.imshow(np.ma.masked_equal(occurrence, NODATA), cmap=ramp, vmin=0, vmax=1, interpolation="nearest")
    axis.set_title("water occurrence (water dates ÷ valid dates)", fontsize=10)
    axis.set_axis_off()
    figure.colorbar(image, ax=axis, fraction=0.04, pad=0.02, ticks=np.linspace(0, 1, 6))
    count = gdal.Open(count_path).ReadAsArray()[VIEW]
    axis = figure.add_subplot(grid[1, 3:])
    image = axis.imshow(count, cmap="YlOrBr_r", vmin=0, vmax=len(paths), interpolation="nearest")
    axis.set_title("valid observations", fontsize=10)
    axis.set_axis_off()
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.02, ticks=range(len(paths) + 1))
    figure.savefig(png_path, bbox_inches="tight")


def main(probability_path, png_path):
    with tempfile.TemporaryDirectory() as folder:
        paths = simulate_dates(probability_path, folder)
        occurrence, count = os.path.join(folder, "occurrence.tif"), os.path.join(folder, "count.tif")
        summary = water_occurrence(paths, occurrence, count)
        draw(paths, occurrence, count, png_path)
    print(summary)


if __name__ == "__main__":
    main(*sys.argv[1:3])
