"""GDAL calls answer alike with GDAL's exceptions off (QGIS 3.22) and on (QGIS 3.40+ Processing)."""

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.raster.gdal_errors import gdal_outcome, open_outcome
from water_logreg_plugin.core.raster.reading import open_raster, read_block
from water_logreg_plugin.core.raster.writing import OutputRaster, WriteError, create_like


def test_the_fixture_sets_every_module_and_restores_it(gdal_exceptions):
    wanted = gdal_exceptions == "on"
    assert [bool(module.GetUseExceptions()) for module in (gdal, ogr, osr)] == [wanted] * 3


def small_raster(path):
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 4, 3, 1, gdal.GDT_Byte)
    dataset.SetGeoTransform((500000, 10, 0, 4000000, 0, -10))  # open_raster refuses a raster with no place
    dataset.GetRasterBand(1).WriteArray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    dataset = None
    return str(path)


def test_a_file_no_driver_claims_has_the_plain_message(gdal_exceptions, tmp_path):
    text = tmp_path / "scene.tif"
    text.write_text("not a raster")
    assert open_outcome(gdal.OpenEx, text, gdal.OF_RASTER) == (None, "")
    assert open_outcome(gdal.OpenEx, tmp_path / "missing.tif", gdal.OF_RASTER) == (None, "")
    with pytest.raises(WaterLogRegError) as refusal:
        open_raster(text, decode_threads=True)
    assert "(GDAL does not recognise it as a raster)" in str(refusal.value)


def test_a_damaged_file_keeps_the_drivers_message(gdal_exceptions, tmp_path):
    path = small_raster(tmp_path / "scene.tif")
    with open(path, "r+b") as handle:
        handle.truncate(20)
    dataset, reason = open_outcome(gdal.OpenEx, path, gdal.OF_RASTER)
    assert dataset is None and reason


def test_a_failed_read_says_why(gdal_exceptions, tmp_path):
    dataset = open_raster(small_raster(tmp_path / "scene.tif"))
    with pytest.raises(WaterLogRegError, match=r"band 1: Access window out of range in RasterIO\(\)\."):
        read_block(dataset, (0, 0, 5, 5), "the raster")


def test_a_call_that_succeeds_has_no_reason(gdal_exceptions, tmp_path):
    dataset = open_raster(small_raster(tmp_path / "scene.tif"))
    values, reason = gdal_outcome(dataset.ReadAsArray)
    assert values.shape == (3, 4) and reason == ""


def test_a_raster_that_cannot_be_created_or_written_says_why(gdal_exceptions, tmp_path):
    template = open_raster(small_raster(tmp_path / "scene.tif"))
    with pytest.raises(WriteError) as refusal:
        create_like(template, str(tmp_path / "missing" / "out.tif"), 1, gdal.GDT_Byte, 0)
    assert "No such file or directory" in refusal.value.reason
    output = OutputRaster(create_like(template, str(tmp_path / "out.tif"), 1, gdal.GDT_Byte, 0))
    with pytest.raises(WriteError):
        output.read_rows(2, 5)
    output.close()


def test_ogr_and_osr_failures_are_outcomes_too(gdal_exceptions, tmp_path):
    source, reason = gdal_outcome(ogr.GetDriverByName("GPKG").CreateDataSource, str(tmp_path / "no" / "x.gpkg"))
    assert source is None and "unable to open database file" in reason
    code, reason = gdal_outcome(osr.SpatialReference().ImportFromWkt, "not WKT")
    assert code != 0 and reason
