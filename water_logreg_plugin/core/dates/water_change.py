"""Water change between two dates: stays dry, stays water, new water, lost water, no data.

The after raster is read on the before raster's grid (warped when it differs). A pixel is
classed only where both dates observed it; the area of each class is measured on the ground
(planar in a projected CRS, ellipsoidal in a geographic one; see core.raster.areas).
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..raster.areas import SQUARE_METRES_PER_HECTARE, AreaMeasure
from ..raster.probability import READING_THREADS, check_threshold, open_on_grid, read_in_turn
from ..raster.windows import READ_AHEAD, row_windows
from ..raster.writing import WriteBehind, check_output_folder, output_raster

STAYS_DRY, STAYS_WATER, NEW_WATER, LOST_WATER, NO_DATA = 0, 1, 2, 3, 255
# value: (name, colour) — the GeoTIFF's colour table and category names, and the QGIS palette.
CHANGE_CLASSES = {
    STAYS_DRY: ("stays dry", "#f2efe4"),
    STAYS_WATER: ("stays water", "#2171b5"),
    NEW_WATER: ("new water (flood)", "#e6550d"),
    LOST_WATER: ("lost water", "#74c476"),
}


@dataclass(frozen=True)
class ChangeSummary:
    pixels: dict  # class value → pixel count (NO_DATA included)
    area_m2: dict  # class value → area in m²
    area_method: str
    regridded: bool  # the after raster was warped onto the before raster's grid

    def area_ha(self, value):
        return self.area_m2[value] / SQUARE_METRES_PER_HECTARE


def water_change(before_path, after_path, output_path, threshold=0.5, map_units=None, callbacks=QUIET):
    """Write the UInt8 change classes (255 no data, with a colour table) on the before raster's grid.

    map_units: the units of the before raster's coordinates when it has no CRS
    (core.raster.areas.MAP_UNITS); without them such a raster is refused.
    """
    check_threshold(threshold)
    check_output_folder(output_path)
    before, after = open_on_grid([before_path, after_path], decode_threads=READING_THREADS)
    if after.regridded:
        callbacks.log(f"'{after.path}' is on another grid or CRS than '{before.path}'; it is read on the "
                      "before raster's grid (GDAL warp, nearest neighbour).")
    measure = AreaMeasure(before.dataset, map_units)
    pixels = dict.fromkeys((*CHANGE_CLASSES, NO_DATA), 0)
    area = dict.fromkeys(pixels, 0.0)
    with ExitStack() as stack:
        output = stack.enter_context(output_raster(output_path, before.dataset, 1, gdal.GDT_Byte, NO_DATA))
        output.set_colour_table(_colour_table())
        windows = row_windows(before.dataset)
        # Both dates are read at once (threads of their own) and the last window is written in
        # another while this thread classes the window.
        reader = stack.enter_context(ThreadPoolExecutor(max_workers=READ_AHEAD))
        writer = stack.enter_context(WriteBehind())
        reads = read_in_turn([before, after], windows, reader)
        for (index, _, before_read), (_, _, after_read) in zip(reads, reads):  # a window's two dates in turn
            callbacks.check_canceled()
            row, rows = windows[index]
            classes = change_classes(before_read, after_read, threshold)
            row_areas = measure.row_pixel_areas(row, rows)
            for value in pixels:
                in_class = classes == value
                pixels[value] += int(in_class.sum())
                area[value] += float(in_class.sum(axis=1) @ row_areas)
            writer.submit(output.write_rows, classes, row)
            callbacks.progress((index + 1) / len(windows))
    _name_classes(output_path)
    summary = ChangeSummary(pixels, area, measure.description, after.regridded)
    callbacks.log(f"Areas ({measure.description}): " + ", ".join(
        f"{name} {summary.area_ha(value):.4f} ha" for value, (name, _) in CHANGE_CLASSES.items()))
    return summary


def change_classes(before, after, threshold):
    """UInt8 classes from the (values, valid) of both dates."""
    (before_values, before_valid), (after_values, after_valid) = before, after
    was_water, is_water = before_values >= threshold, after_values >= threshold
    classes = np.where(was_water, np.where(is_water, STAYS_WATER, LOST_WATER),
                       np.where(is_water, NEW_WATER, STAYS_DRY)).astype(np.uint8)
    classes[~(before_valid & after_valid)] = NO_DATA
    return classes


def _colour_table():
    """The palette, stored in the GeoTIFF itself."""
    table = gdal.ColorTable()
    for value, (_, colour) in CHANGE_CLASSES.items():
        table.SetColorEntry(value, tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) + (255,))
    table.SetColorEntry(NO_DATA, (0, 0, 0, 0))
    return table


def _name_classes(path):
    """Category names, which a GeoTIFF keeps in its .aux.xml sidecar: written once the file is in
    place (atomic_output drops sidecars of the partial file)."""
    names = [""] * (NO_DATA + 1)
    for value, (name, _) in CHANGE_CLASSES.items():
        names[value] = name
    names[NO_DATA] = "no data"
    dataset = gdal.Open(str(path))
    dataset.GetRasterBand(1).SetCategoryNames(names)
    dataset = None
