"""Prediction windows follow the file's layout and stay within the target, whatever the strips."""

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read, water_scene, write_raster

from water_logreg_plugin.core.maps.predict import predict_water
from water_logreg_plugin.core.model import WaterModel
from water_logreg_plugin.core.raster.reading import open_raster
from water_logreg_plugin.core.raster.windows import row_windows

LAYOUTS = {"tiled": ("TILED=YES",), "one-row strips": ("BLOCKYSIZE=1",), "strips of 255": ("BLOCKYSIZE=255",),
           "single strip": ("BLOCKYSIZE=1000", "COMPRESS=DEFLATE"), "strips of 7": ("BLOCKYSIZE=7",)}


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_windows_cover_the_raster_within_the_target(tmp_path, layout):
    bands, truth = water_scene(rows=1000, cols=300)
    path = write_raster(tmp_path / "scene.tif", bands, options=LAYOUTS[layout])
    dataset = open_raster(path)
    windows = row_windows(dataset, target_pixels=300 * 512)
    assert windows[0][0] == 0 and sum(rows for _, rows in windows) == 1000
    assert all(row + rows == following for (row, rows), (following, _) in zip(windows, windows[1:]))
    assert max(rows for _, rows in windows) <= 512
    block_rows = dataset.GetRasterBand(1).GetBlockSize()[1]
    if block_rows in (1, 256):
        assert all(row % 256 == 0 for row, _ in windows)  # whole block rows, in output tiles

    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.0, 0.0, -0.01]]), np.array([14.5]))])
    predict_water(path, model, str(tmp_path / "probability.tif"))
    probability, _ = read(tmp_path / "probability.tif")
    assert ((probability >= 0.5) == truth).all()


def test_a_big_single_compressed_strip_is_named_in_the_log(tmp_path, monkeypatch):
    from water_logreg_plugin.core.callbacks import Callbacks
    from water_logreg_plugin.core.maps import predict
    from water_logreg_plugin.core.raster.windows import single_strip_warning

    bands, _ = water_scene(rows=1000, cols=300)
    # One DEFLATE strip is streamed (SingleStripReader); other compressions GDAL decompresses whole.
    path = write_raster(tmp_path / "scene.tif", bands, options=("BLOCKYSIZE=1000", "COMPRESS=LZW"))
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.0, 0.0, -0.01]]), np.array([14.5]))])
    monkeypatch.setattr(predict, "single_strip_warning", lambda dataset: single_strip_warning(dataset, 1000))
    lines = []
    predict_water(path, model, str(tmp_path / "probability.tif"), callbacks=Callbacks(log=lines.append))
    assert ("Warning: the raster is one LZW strip, which GDAL decompresses whole: reading it takes about 3 MB "
            "of memory. A tiled copy reads in small blocks (gdal_translate -co TILED=YES -co COMPRESS=DEFLATE)."
            ) in lines
    lines.clear()
    tiled = write_raster(tmp_path / "tiled.tif", bands)
    predict_water(tiled, model, str(tmp_path / "probability2.tif"), callbacks=Callbacks(log=lines.append))
    assert not [line for line in lines if "strip" in line]


@pytest.mark.parametrize("options", [
    ("COMPRESS=DEFLATE",), ("COMPRESS=DEFLATE", "PREDICTOR=2"), ("COMPRESS=DEFLATE", "INTERLEAVE=BAND"),
    ("COMPRESS=DEFLATE", "INTERLEAVE=BAND", "PREDICTOR=2", "ENDIANNESS=BIG"),
], ids=["pixel", "pixel-predictor", "band", "band-predictor-big-endian"])
@pytest.mark.parametrize("data_type", [gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_Float32], ids=["u16", "i16", "f32"])
def test_a_single_deflate_strip_streams_the_same_values_as_gdal(tmp_path, options, data_type):
    from water_logreg_plugin.core.raster.windows import SingleStripReader

    if data_type == gdal.GDT_Float32 and "PREDICTOR=2" in options:
        pytest.skip("horizontal differencing is for integers")
    rng = np.random.default_rng(1)
    bands = rng.integers(-3000 if data_type == gdal.GDT_Int16 else 0, 3000, size=(3, 700, 123))
    path = write_raster(tmp_path / "strip.tif", bands, data_type=data_type, options=options + ("BLOCKYSIZE=700",))
    dataset = open_raster(path)
    reader = SingleStripReader.for_dataset(dataset, target_pixels=1000)
    assert reader is not None
    for row, rows in [(0, 256), (256, 256), (600, 100), (10, 5)]:  # in order, a skip, then back to the start
        np.testing.assert_array_equal(reader.read([3, 1], row, rows),
                                      dataset.ReadAsArray(0, row, 123, rows, band_list=[3, 1]))


def test_prediction_through_the_stream_equals_gdals(tmp_path, monkeypatch):
    from water_logreg_plugin.core.maps import predict
    from water_logreg_plugin.core.raster.windows import SingleStripReader

    bands, truth = water_scene(rows=1000, cols=300)
    bands[:, 500:520] = 0  # nodata rows
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.001, 0.0, -0.01]]), np.array([13.5]))])
    tiled = write_raster(tmp_path / "tiled.tif", bands)
    predict_water(tiled, model, str(tmp_path / "from_tiles.tif"))
    strip = write_raster(tmp_path / "strip.tif", bands, options=("BLOCKYSIZE=1000", "COMPRESS=DEFLATE", "PREDICTOR=2"))
    used, original = [], SingleStripReader.for_dataset

    def streaming(dataset):
        used.append(original(dataset, target_pixels=1000))
        return used[-1]

    monkeypatch.setattr(predict.SingleStripReader, "for_dataset", staticmethod(streaming))
    monkeypatch.setattr(predict, "row_windows", lambda dataset: row_windows(dataset, target_pixels=300 * 256))
    predict_water(strip, model, str(tmp_path / "from_stream.tif"))
    assert used[0] is not None and len(used[0].streams) == 1
    np.testing.assert_array_equal(read(tmp_path / "from_stream.tif")[0], read(tmp_path / "from_tiles.tif")[0])
    assert (read(tmp_path / "from_stream.tif")[0][500:520] == -9999).all()


def test_the_index_through_the_stream_equals_gdals(tmp_path, monkeypatch):
    from water_logreg_plugin.core.maps import water_index as wi
    from water_logreg_plugin.core.raster.windows import SingleStripReader

    bands, _ = water_scene(rows=1000, cols=300)
    index_bands = wi.IndexBands(green=1, infrared=3, index="NDWI", reason="test")
    tiled = write_raster(tmp_path / "tiled.tif", bands)
    wi.water_index(tiled, str(tmp_path / "from_tiles.tif"), index_bands, None, 0.0)
    strip = write_raster(tmp_path / "strip.tif", bands, options=("BLOCKYSIZE=1000", "COMPRESS=DEFLATE"))
    original = SingleStripReader.for_dataset
    monkeypatch.setattr(wi.SingleStripReader, "for_dataset", staticmethod(lambda dataset: original(dataset, 1000)))
    monkeypatch.setattr(wi, "row_windows", lambda dataset: row_windows(dataset, target_pixels=300 * 256))
    wi.water_index(strip, str(tmp_path / "from_stream.tif"), index_bands, None, 0.0)
    np.testing.assert_array_equal(read(tmp_path / "from_stream.tif")[0], read(tmp_path / "from_tiles.tif")[0])
