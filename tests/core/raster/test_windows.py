"""Prediction windows follow the file's layout and stay within the target, whatever the strips."""

import numpy as np
import pytest
from osgeo import gdal
from support.reading_handles import one_reading_handle, record_reading_handles
from support.synthetic import read, water_scene, write_raster

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.maps import predict
from water_logreg_plugin.core.maps.predict import predict_water
from water_logreg_plugin.core.maps.water_share import WaterPrior
from water_logreg_plugin.core.model import WaterModel
from water_logreg_plugin.core.raster.reading import open_raster
from water_logreg_plugin.core.raster.windows import reading_handles, row_windows

LAYOUTS = {"tiled": ("TILED=YES",), "one-row strips": ("BLOCKYSIZE=1",), "strips of 255": ("BLOCKYSIZE=255",),
           "single strip": ("BLOCKYSIZE=1000", "COMPRESS=DEFLATE"), "strips of 7": ("BLOCKYSIZE=7",)}


def green_nir_model(training=None):
    """A logistic regression on water_scene's green (band 1) and NIR (band 3): water where the NIR is low."""
    return WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(np.array([[0.001, 0.0, -0.01]]), np.array([13.5]))],
                      training or {})


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
    model = green_nir_model()
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


def test_two_handles_read_a_geotiff_whose_windows_end_on_block_boundaries_and_one_reads_the_rest(tmp_path):
    bands, _ = water_scene(rows=1000, cols=300)
    tiled = open_raster(write_raster(tmp_path / "tiled.tif", bands))  # 256 × 256 tiles
    aligned = row_windows(tiled, target_pixels=300 * 256)

    handles = reading_handles(tiled, aligned)
    assert len(handles) == 2 and handles[0] is not handles[1]
    assert [handle.GetDescription() for handle in handles] == [tiled.GetDescription()] * 2
    handles = None
    for windows in ([(0, 100), (100, 900)], [(0, 1000)]):  # a block in two windows; one window
        assert reading_handles(tiled, windows) == [tiled]
    vrt = gdal.Translate(str(tmp_path / "scene.vrt"), tiled, format="VRT")
    assert reading_handles(vrt, aligned) == [vrt]  # GDAL decodes in threads for GeoTIFFs only
    in_memory = gdal.Translate("", tiled, format="MEM")
    assert reading_handles(in_memory, aligned) == [in_memory]


def small_aligned_windows(monkeypatch):
    """predict_water in 256-row windows, so a 1000-row test raster takes four."""
    monkeypatch.setattr(predict, "row_windows", lambda dataset: row_windows(dataset, target_pixels=300 * 256))


@pytest.mark.parametrize("prior", [None, WaterPrior()], ids=["one pass", "two passes"])
def test_a_map_read_through_two_handles_is_the_map_read_through_one(tmp_path, monkeypatch, prior):
    bands, _ = water_scene(rows=1000, cols=300)
    bands[2, 600:650, :40] = 0  # band 3 alone is nodata: 2000 pixels it costs the map
    bands[:, 900:, 250:] = 0  # every band: no band's cost
    path = write_raster(tmp_path / "scene.tif", bands)
    model = green_nir_model({"water_pixels": 60, "land_pixels": 40})
    small_aligned_windows(monkeypatch)
    used = record_reading_handles(monkeypatch, predict)
    two = predict_water(path, model, str(tmp_path / "two.tif"), "cpu", prior=prior)
    one_reading_handle(monkeypatch, predict)
    one = predict_water(path, model, str(tmp_path / "one.tif"), "cpu", prior=prior)

    assert len(used[0]) == 2
    np.testing.assert_array_equal(read(tmp_path / "two.tif")[0], read(tmp_path / "one.tif")[0])
    assert (two.valid_pixels, two.water_pixels) == (one.valid_pixels, one.water_pixels)
    assert two.band_coverage == one.band_coverage == [
        "Band 3 is nodata on 2000 pixels where bands 1, 2 have data; BANDS 1,2 would map them."]


def test_a_block_that_cannot_be_read_while_two_windows_are_read_is_a_plain_error_and_no_map(tmp_path, monkeypatch):
    bands, _ = water_scene(rows=1000, cols=300)
    path = write_raster(tmp_path / "scene.tif", bands)  # uncompressed tiles, in order
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) * 2 // 3])  # the tiles of the last windows are missing
    small_aligned_windows(monkeypatch)
    model = green_nir_model()

    with pytest.raises(WaterLogRegError) as error:
        predict_water(path, model, str(tmp_path / "p.tif"), "cpu")
    message = str(error.value)
    error = None  # its traceback holds the raster's handles: freed now, not at exit, where GDAL 3.6 crashes
    assert message.startswith("Reading rows ") and "the file may be damaged or incomplete" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif"]
