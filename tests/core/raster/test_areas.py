"""core.raster.areas: the two ellipsoidal ways (cells between parallels, polygons in LAEA) agree."""

import numpy as np
import pytest
from osgeo import gdal, ogr
from support.synthetic import write_raster

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
