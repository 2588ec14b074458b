"""Areas from a map without a CRS: waterbodies and waterchange refuse to give them unless MAP_UNITS
says the units of the map's coordinates; wateroccurrence gives no areas and runs.

Such a map (georeferenced by hand, its CRS lost on the way) has a pixel size in units it does not
say; the areas used to be taken as metres without a word, 100 times too small for a map in decimetres.
"""

import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from support.recording_feedback import RecordingFeedback
from support.synthetic import ORIGIN, PIXEL, read

AREA_TOOLS = ("waterbodies", "waterchange")
MAP_UNITS_FEET = 2  # the index of 'feet' among MAP_UNITS' options

# Rows of docs/BAD_INPUT.md's two tables (write_bad_input_table.py collects them).
REFUSED_ROWS = [
    ("A probability map without a CRS (a geotransform, no CRS), MAP_UNITS not given", AREA_TOOLS,
     "The map '<folder>/before.tif' has no CRS: its pixel size (10 × 10) is in units it does not say, so no area "
     "can be given. Assign the map its CRS (Raster ‣ Projections ‣ Assign Projection, or gdal_edit.py -a_srs "
     "EPSG:…), or set MAP_UNITS to the units of its coordinates ('metres', 'feet', 'US survey feet')."),
]
ACCEPTED_ROWS = [
    ("A probability map without a CRS, MAP_UNITS 'feet'", AREA_TOOLS,
     "Runs; a 10 × 10 pixel is 9.290304 m² (10 feet square), and AREA_METHOD says: planar, in feet as given "
     "(the raster has no CRS)."),
    ("Probability maps without a CRS", ("wateroccurrence",),
     "Runs; it counts pixels and gives no area, so it needs no units."),
]
SQUARE_METRES_PER_PIXEL = (PIXEL * 0.3048) ** 2


def write_map(path, water_columns):
    """A 20 × 30 probability map of 10-unit pixels with a geotransform and no CRS: water (0.9) in
    `water_columns`, land (0.1) elsewhere."""
    probability = np.full((20, 30), 0.1, np.float32)
    probability[:, water_columns] = 0.9
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 30, 20, 1, gdal.GDT_Float32)
    dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL))
    dataset.GetRasterBand(1).SetNoDataValue(-9999.0)
    dataset.GetRasterBand(1).WriteArray(probability)
    dataset = None
    return str(path)


@pytest.fixture
def maps(tmp_path):
    """A lake in columns 0–9 before; after, a flood has added columns 10–14."""
    return {"before": write_map(tmp_path / "before.tif", slice(0, 10)),
            "after": write_map(tmp_path / "after.tif", slice(0, 15)), "folder": tmp_path}


def parameters(tool, maps, **more):
    folder = maps["folder"]
    if tool == "waterbodies":
        return dict(INPUT=maps["before"], OUTPUT=str(folder / "bodies.gpkg"), **more)
    return dict(BEFORE=maps["before"], AFTER=maps["after"], OUTPUT=str(folder / "change.tif"), **more)


@pytest.mark.parametrize("tool", AREA_TOOLS)
def test_areas_from_a_map_without_a_crs_are_refused(gdal_exceptions, run_algorithm, maps, tool):
    given = parameters(tool, maps)
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(tool, given)
    assert str(refusal.value) == REFUSED_ROWS[0][2].replace("<folder>", str(maps["folder"]))
    assert [name for name in os.listdir(maps["folder"]) if name not in ("before.tif", "after.tif")] == []


def test_water_bodies_in_the_units_given(run_algorithm, maps):
    feedback = RecordingFeedback()
    result = run_algorithm("waterbodies", parameters("waterbodies", maps, MAP_UNITS=MAP_UNITS_FEET),
                           feedback=feedback)
    assert result["BODIES"] == 1
    assert result["WATER_AREA_HA"] == pytest.approx(200 * SQUARE_METRES_PER_PIXEL / 10_000)
    assert result["AREA_METHOD"] == ACCEPTED_ROWS[0][2].split("AREA_METHOD says: ")[1].rstrip(".")
    assert "Areas are planar, in feet as given (the raster has no CRS)." in feedback.lines


def test_water_change_in_the_units_given(run_algorithm, maps):
    result = run_algorithm("waterchange", parameters("waterchange", maps, MAP_UNITS=MAP_UNITS_FEET))
    assert result["NEW_WATER_HA"] == pytest.approx(100 * SQUARE_METRES_PER_PIXEL / 10_000)
    assert result["STAYS_WATER_HA"] == pytest.approx(200 * SQUARE_METRES_PER_PIXEL / 10_000)
    assert result["AREA_METHOD"] == "planar, in feet as given (the raster has no CRS)"
    classes, _ = read(result["OUTPUT"])
    assert (classes[:, 10:15] == 2).all()


def test_water_occurrence_needs_no_units(run_algorithm, maps):
    result = run_algorithm("wateroccurrence", {"INPUT": [maps["before"], maps["after"]],
                                               "OUTPUT": str(maps["folder"] / "occurrence.tif")})
    occurrence, dataset = read(result["OUTPUT"])
    assert dataset.GetProjection() == ""
    assert (occurrence[:, :10] == 1.0).all() and (occurrence[:, 10:15] == 0.5).all()
    assert result["PERMANENT_WATER_PIXELS"] == 200 and result["WATER_EVER_PIXELS"] == 300
