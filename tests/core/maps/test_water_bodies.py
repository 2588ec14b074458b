"""core.maps.water_bodies: polygons of water bodies of known size, holes, small bodies, CRSs."""

import os

import numpy as np
import pytest
from osgeo import gdal, ogr
from support.synthetic import write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError
from water_logreg_plugin.core.maps.water_bodies import water_bodies

NODATA = -9999.0


def scene():
    """A 30×40-pixel lake (P 0.9) with a 2×2 island, a 20×10 pond (P 0.8), a 2×2 puddle (P 0.7),
    land (P 0.1) and a nodata strip."""
    probability = np.full((100, 120), 0.1, np.float32)
    probability[10:40, 10:50] = 0.9
    probability[20:22, 20:22] = 0.2  # island: a hole of 4 pixels
    probability[60:80, 70:80] = 0.8
    probability[90:92, 5:7] = 0.7
    probability[95:, :] = NODATA
    return probability


def write_scene(path, **options):
    return write_raster(path, scene()[None], nodata=NODATA, data_type=gdal.GDT_Float32, **options)


def bodies_of(path):
    datasource = ogr.Open(str(path))
    layer = datasource.GetLayer(0)
    rows = sorted(({field: feature.GetField(field) for field in ("area_m2", "area_ha", "mean_p", "holes_filled")}
                   | {"interior_rings": feature.GetGeometryRef().GetGeometryCount() - 1} for feature in layer),
                  key=lambda row: -row["area_m2"])
    return rows, layer.GetSpatialRef().ExportToWkt()


def test_bodies_of_known_size_in_a_projected_crs(tmp_path):
    raster = write_scene(tmp_path / "p.tif")
    summary = water_bodies(raster, tmp_path / "bodies.gpkg")
    rows, wkt = bodies_of(tmp_path / "bodies.gpkg")
    assert summary.bodies == 3 and summary.area_method == "planar, in the raster's CRS (EPSG:32633)"
    lake, pond, puddle = rows
    assert lake["area_m2"] == pytest.approx((1200 - 4) * 100) and lake["interior_rings"] == 1
    assert lake["area_ha"] == pytest.approx(11.96)
    assert pond["area_m2"] == pytest.approx(200 * 100) and puddle["area_m2"] == pytest.approx(400)
    assert lake["mean_p"] == pytest.approx(0.9) and pond["mean_p"] == pytest.approx(0.8)
    assert puddle["mean_p"] == pytest.approx(0.7)
    assert wkt == gdal.Open(raster).GetProjection()
    assert summary.water_area_m2 == pytest.approx(119600 + 20000 + 400)


def test_minimum_area_drops_small_bodies_and_holes_are_filled(tmp_path):
    raster = write_scene(tmp_path / "p.tif")
    summary = water_bodies(raster, tmp_path / "bodies.gpkg", min_area_m2=1000, fill_holes_below_m2=500)
    rows, _ = bodies_of(tmp_path / "bodies.gpkg")
    assert (summary.bodies, summary.dropped_small, summary.holes_filled) == (2, 1, 1)
    lake, pond = rows
    assert lake["area_m2"] == pytest.approx(1200 * 100) and lake["interior_rings"] == 0
    assert lake["holes_filled"] == 1
    # the island's four pixels (P 0.2) now count in the lake's mean
    assert lake["mean_p"] == pytest.approx((1196 * 0.9 + 4 * 0.2) / 1200)
    assert pond["area_m2"] == pytest.approx(20000)


def test_a_hole_larger_than_the_size_stays(tmp_path):
    raster = write_scene(tmp_path / "p.tif")
    water_bodies(raster, tmp_path / "bodies.gpkg", fill_holes_below_m2=300)
    assert bodies_of(tmp_path / "bodies.gpkg")[0][0]["interior_rings"] == 1


def test_geographic_raster_gets_ellipsoidal_areas(tmp_path):
    """0.0001° pixels at 60° N: areas on the WGS 84 ellipsoid within 0.1 %, CRS kept."""
    raster = write_scene(tmp_path / "p.tif", epsg=4326, origin=(10.0, 60.0), pixel=0.0001)
    summary = water_bodies(raster, tmp_path / "bodies.geojson")
    rows, wkt = bodies_of(tmp_path / "bodies.geojson")
    assert summary.area_method.startswith("ellipsoidal, on the ellipsoid of EPSG:4326")
    # at 60° N on WGS 84: 0.0001° of longitude = 5.5800 m, of latitude = 11.1412 m
    pixel = 5.5800 * 11.1412
    assert rows[0]["area_m2"] == pytest.approx(1196 * pixel, rel=0.001)
    assert rows[1]["area_m2"] == pytest.approx(200 * pixel, rel=0.001)
    assert "WGS 84" in wkt


def test_a_mask_is_accepted(tmp_path):
    mask = (scene() >= 0.5).astype(np.uint8)
    raster = write_raster(tmp_path / "mask.tif", mask[None], nodata=None, data_type=gdal.GDT_Byte)
    summary = water_bodies(raster, tmp_path / "bodies.gpkg")
    rows, _ = bodies_of(tmp_path / "bodies.gpkg")
    assert summary.bodies == 3 and rows[0]["mean_p"] == 1.0


def test_unsupported_format_and_cancel_leave_nothing(tmp_path):
    raster = write_scene(tmp_path / "p.tif")
    with pytest.raises(WaterLogRegError, match="not a GeoPackage"):
        water_bodies(raster, tmp_path / "bodies.shp")
    with pytest.raises(Canceled):
        water_bodies(raster, tmp_path / "bodies.gpkg", callbacks=Callbacks(is_canceled=lambda: True))
    assert sorted(os.listdir(tmp_path)) == ["p.tif"]
