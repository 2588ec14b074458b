"""Validity is what GDAL says: nodata, NaN, per-dataset and per-band mask bands, alpha — in
sampling, prediction and the water index, on tiled and striped files alike."""

import numpy as np
import pytest
from osgeo import gdal, ogr
from support.synthetic import ORIGIN, PIXEL, pixel_box, read, water_scene

from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels
from water_logreg_plugin.core.maps import water_index as wi
from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA, predict_water
from water_logreg_plugin.core.model.network import WaterModel
from water_logreg_plugin.core.raster.reading import open_raster, resolve_bands, valid_pixels

ROWS, COLS = 60, 80
MASKED_ROWS = slice(20, 30)  # invalid by the mask, over both the land and the water polygons
KINDS = ["dataset_mask", "band_mask", "alpha", "nodata", "nan"]
LAYOUTS = {"tiled": ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"], "striped": ["BLOCKYSIZE=7"],
           "single_strip": [f"BLOCKYSIZE={ROWS}"]}


def masked_raster(path, kind, layout):
    """The water scene (water right of column 40) with rows 20–29 marked invalid the `kind` way."""
    bands, truth = water_scene(rows=ROWS, cols=COLS)
    options = list(LAYOUTS[layout])
    count = 3
    data_type = gdal.GDT_Float32 if kind == "nan" else gdal.GDT_UInt16
    if kind == "alpha":
        count, options = 4, options + ["PHOTOMETRIC=RGB", "ALPHA=YES"]
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "NO" if kind == "band_mask" else "YES")
    try:
        dataset = gdal.GetDriverByName("GTiff").Create(str(path), COLS, ROWS, count, data_type, options)
        dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0, ORIGIN[1], 0, -PIXEL))
        valid = np.full((ROWS, COLS), 255, np.uint8)
        valid[MASKED_ROWS] = 0
        values = bands.astype(np.float32 if kind == "nan" else np.uint16)
        if kind == "nodata":
            values[:, MASKED_ROWS] = 7
        if kind == "nan":
            values[1, MASKED_ROWS] = np.nan
        for number in range(1, 4):
            dataset.GetRasterBand(number).WriteArray(values[number - 1])
            if kind == "nodata":
                dataset.GetRasterBand(number).SetNoDataValue(7)
        if kind == "dataset_mask":
            dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
            dataset.GetRasterBand(1).GetMaskBand().WriteArray(valid)
        elif kind == "band_mask":
            for number in range(1, 4):
                dataset.GetRasterBand(number).CreateMaskBand(0)
                # Only band 2 is masked: a pixel is invalid when any band the model uses is.
                dataset.GetRasterBand(number).GetMaskBand().WriteArray(valid if number == 2 else valid * 0 + 255)
        elif kind == "alpha":
            dataset.GetRasterBand(4).WriteArray(valid.astype(np.uint16))
        dataset = None
    finally:
        gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
    return str(path), truth


@pytest.fixture(params=[(kind, layout) for kind in KINDS for layout in LAYOUTS],
                ids=lambda case: f"{case[0]}-{case[1]}")
def raster(request, tmp_path):
    return masked_raster(tmp_path / "scene.tif", *request.param)


def expected_valid():
    valid = np.ones((ROWS, COLS), dtype=bool)
    valid[MASKED_ROWS] = False
    return valid


def polygon(polygon_id, wkt, is_water):
    return TrainingPolygon(polygon_id, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), is_water)


def test_valid_pixels_follow_gdal(raster):
    path, _ = raster
    dataset = open_raster(path)
    bands = resolve_bands(dataset, [])
    assert bands == [1, 2, 3]  # an alpha band is transparency, never a training band
    values = dataset.ReadAsArray(0, 10, COLS, 30, band_list=bands)
    np.testing.assert_array_equal(valid_pixels(dataset, bands, values, 0, 10), expected_valid()[10:40])


def test_masked_pixels_are_never_sampled(raster):
    path, _ = raster
    samples = sample_pixels(path, [], [polygon(1, pixel_box(5, 10, 25, 40), False),
                                       polygon(2, pixel_box(50, 10, 70, 40), True)], 0)
    assert samples.land_count == samples.water_count == 20 * 30 - 20 * 10
    rows = np.floor((ORIGIN[1] - samples.y) / PIXEL).astype(int)
    assert not np.isin(rows, range(20, 30)).any()


def test_masked_pixels_are_nodata_in_the_map_and_the_index(raster, tmp_path):
    path, truth = raster
    # Water is dark in NIR (band 3): P(water) = σ(-(nir - 1450) / 100).
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.0, 0.0, -0.01]]), np.array([14.5]))])
    predict_water(path, model, str(tmp_path / "probability.tif"))
    probability, _ = read(tmp_path / "probability.tif")
    valid = expected_valid()
    assert (probability[~valid] == PROBABILITY_NODATA).all()
    assert ((probability[valid] >= 0.5) == truth[valid]).all()

    bands = wi.IndexBands(green=1, infrared=2, index="NDWI", reason="test")
    wi.water_index(path, str(tmp_path / "index.tif"), bands, threshold=0.0)
    index, _ = read(tmp_path / "index.tif")
    assert (index[~valid] == wi.INDEX_NODATA).all() and (index[valid] != wi.INDEX_NODATA).all()
