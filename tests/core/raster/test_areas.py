"""core.raster.areas: the two ellipsoidal ways (cells between parallels, polygons in LAEA) agree; a raster
without a CRS is measured only in the units the user gives."""

import numpy as np
import pytest
from osgeo import gdal, ogr
from support.synthetic import write_raster

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.raster.areas import AreaMeasure


@pytest.mark.parametrize("latitude", [-70.0, 0.5, 45.0, 60.0])
def test_cells_and_polygons_agree_on_the_ellipsoid(tmp_path, latitude):
    raster = write_raster(tmp_path / "g.tif", np.zeros((1, 200, 200), np.uint8), epsg=4326, nodata=None,
                          data_type=gdal.GDT_Byte, origin=(10.0, latitude), pixel=0.001)
    measure = AreaMeasure(gdal.Open(raster))
    cells = measure.row_pixel_areas(0, 200).sum() * 200
    box = ogr.CreateGeometryFromWkt(
        f"POLYGON ((10 {latitude}, 10.2 {latitude}, 10.2 {latitude - 0.2}, 10 {latitude - 0.2}, 10 {latitude}))")
    assert measure.polygon_area(box) == pytest.approx(cells, rel=1e-6)


def test_a_body_degrees_across_is_measured_as_its_cells(tmp_path):
    raster = write_raster(tmp_path / "g.tif", np.zeros((1, 3000, 3000), np.uint8), epsg=4326, nodata=None,
                          data_type=gdal.GDT_Byte, origin=(-71.3, 47.6), pixel=0.001, options=("SPARSE_OK=YES",))
    measure = AreaMeasure(gdal.Open(raster))
    cells = measure.row_pixel_areas(0, 3000).sum() * 3000
    box = ogr.CreateGeometryFromWkt("POLYGON ((-71.3 47.6, -68.3 47.6, -68.3 44.6, -71.3 44.6, -71.3 47.6))")
    assert measure.polygon_area(box) == pytest.approx(cells, rel=1e-5)


def test_projected_feet_are_turned_into_square_metres(tmp_path):
    raster = write_raster(tmp_path / "ft.tif", np.zeros((1, 10, 10), np.uint8), epsg=2229, nodata=None,
                          data_type=gdal.GDT_Byte, origin=(6_000_000.0, 1_800_000.0), pixel=10.0)
    measure = AreaMeasure(gdal.Open(raster))
    assert measure.description == "planar, in the raster's CRS (EPSG:2229)"
    assert measure.row_pixel_areas(0, 1)[0] == pytest.approx(100 * 0.3048006096 ** 2)


def without_crs(path):
    """A 10 × 10 raster of 10-unit pixels with a geotransform and no CRS."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 10, 10, 1, gdal.GDT_Byte)
    dataset.SetGeoTransform((1000.0, 10.0, 0.0, 2000.0, 0.0, -10.0))
    dataset = None
    return gdal.Open(str(path))


def refusal(dataset, map_units=None):
    """AreaMeasure's message; `except … as` drops the error on leaving, so no cycle (traceback →
    frame → error) keeps the dataset for the collector to free after GDAL has shut down (a segfault)."""
    try:
        AreaMeasure(dataset, map_units)
    except WaterLogRegError as error:
        return str(error)
    raise AssertionError("not refused")


def test_a_raster_without_a_crs_is_refused_unless_its_units_are_given(tmp_path):
    dataset = without_crs(tmp_path / "no-crs.tif")
    assert refusal(dataset) == (
        f"The map '{tmp_path}/no-crs.tif' has no CRS: its pixel size (10 × 10) is in units it does not say, so "
        "no area can be given. Assign the map its CRS (Raster ‣ Projections ‣ Assign Projection, or "
        "gdal_edit.py -a_srs EPSG:…), or set MAP_UNITS to the units of its coordinates ('metres', 'feet', "
        "'US survey feet')."
    )
    measure = AreaMeasure(dataset, "feet")
    assert measure.description == "planar, in feet as given (the raster has no CRS)"
    assert measure.row_pixel_areas(0, 1)[0] == pytest.approx(100 * 0.3048 ** 2)
    square = ogr.CreateGeometryFromWkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))")
    assert AreaMeasure(dataset, "US survey feet").polygon_area(square) == pytest.approx(100 * (1200 / 3937) ** 2)
    assert AreaMeasure(dataset, "metres").row_pixel_areas(0, 1)[0] == 100.0


def test_units_given_for_a_raster_with_a_crs_change_nothing(tmp_path):
    raster = write_raster(tmp_path / "m.tif", np.zeros((1, 10, 10), np.uint8), nodata=None, data_type=gdal.GDT_Byte)
    measure = AreaMeasure(gdal.Open(raster), "feet")
    assert measure.description == "planar, in the raster's CRS (EPSG:32633)"
    assert measure.row_pixel_areas(0, 1)[0] == pytest.approx(100.0)


def test_an_unknown_unit_is_refused(tmp_path):
    assert refusal(without_crs(tmp_path / "no-crs.tif"), "furlongs") == (
        "'furlongs' is not a unit of map coordinates; give one of 'metres', 'feet', 'US survey feet'.")
