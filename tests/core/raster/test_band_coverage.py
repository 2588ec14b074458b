"""A band that costs coverage: pixels only one band leaves as nodata, counted and said."""

import numpy as np
from osgeo import gdal
from support.small_windows import windows_of_rows
from support.synthetic import water_scene, write_masked_raster, write_raster

from water_logreg_plugin.core.raster.band_coverage import band_coverage, band_words


def six_bands(tmp_path, **options):
    bands, _ = water_scene(rows=300, cols=200)
    bands = np.concatenate([bands, bands])  # six bands
    bands[5, :40, :] = 0  # band 6 alone: 40 rows of 200 pixels
    bands[:, 290:, :] = 0  # every band: not a loss of any one band
    bands[5, 100:110, :10] = 0
    bands[1, 100:110, :10] = 0  # bands 2 and 6 together: neither band alone would map them
    bands[2, 200, 5:8] = 0  # band 3 alone: three pixels
    return write_raster(tmp_path / "six.tif", bands, **options)


def test_the_pixels_one_band_alone_leaves_out_are_counted_and_said(tmp_path):
    coverage = band_coverage(six_bands(tmp_path), [1, 2, 3, 4, 5, 6])

    assert coverage.lost.tolist() == [0, 0, 3, 0, 0, 8000]
    assert coverage.sentences() == [
        "band 3 is nodata on 3 pixels where bands 1, 2, 4–6 have data; BANDS 1,2,4,5,6 would map them",
        "band 6 is nodata on 8000 pixels where bands 1–5 have data; BANDS 1,2,3,4,5 would map them",
    ]


def test_the_count_does_not_depend_on_the_windows(tmp_path, monkeypatch):
    path = six_bands(tmp_path, options=("TILED=YES", "BLOCKYSIZE=16", "BLOCKXSIZE=16"))
    import water_logreg_plugin.core.raster.band_coverage as module

    windows_of_rows(monkeypatch, module)
    assert band_coverage(path, [1, 2, 3, 4, 5, 6]).lost.tolist() == [0, 0, 3, 0, 0, 8000]


def test_the_chosen_bands_only_and_a_per_dataset_mask_costs_no_band_anything(tmp_path):
    bands, _ = water_scene(rows=60, cols=50)
    invalid = np.zeros((60, 50), dtype=bool)
    invalid[:20] = True
    path = write_masked_raster(tmp_path / "masked.tif", bands, invalid, "dataset_mask")

    assert band_coverage(path, [1, 3]).sentences() == []
    # Without band 6 among the chosen, band 2's gap under band 6's is band 2's alone.
    assert band_coverage(six_bands(tmp_path), [1, 2, 3]).sentences() == [
        "band 2 is nodata on 100 pixels where bands 1, 3 have data; BANDS 1,3 would map them",
        "band 3 is nodata on 3 pixels where bands 1, 2 have data; BANDS 1,2 would map them"]
    assert band_coverage(six_bands(tmp_path), [6]).sentences() == []  # nothing to map without it


def test_nan_and_a_float_band_count_as_nodata(tmp_path):
    values = np.ones((2, 10, 10), dtype=np.float32)
    values[1, 0, :4] = np.nan
    path = write_raster(tmp_path / "float.tif", values, nodata=None, data_type=gdal.GDT_Float32)

    assert band_coverage(path, [1, 2]).sentences() == [
        "band 2 is nodata on 4 pixels where band 1 has data; BANDS 1 would map them"]


def test_band_words():
    assert band_words([2]) == "band 2"
    assert band_words([1, 2, 3, 4, 5]) == "bands 1–5"
    assert band_words([7, 1, 2, 3, 5, 6, 9, 10]) == "bands 1–3, 5–7, 9, 10"


def test_predict_says_which_band_costs_the_map_pixels(tmp_path):
    from water_logreg_plugin.core.callbacks import Callbacks
    from water_logreg_plugin.core.maps.predict import predict_water
    from water_logreg_plugin.core.model.network import WaterModel

    bands, _ = water_scene(rows=80, cols=60)
    bands[2, 10:20, :] = 0  # band 3 alone: 600 pixels
    bands[:, 70:, :] = 0  # every band: costs no band anything
    path = write_raster(tmp_path / "scene.tif", bands)
    model = WaterModel([1, 2, 3], np.full(3, 1000.0), np.full(3, 500.0), [(np.array([[0.1, -0.5, -2.0]]), np.zeros(1))],
                       {"water_pixels": 10, "land_pixels": 10})
    lines = []

    predict_water(path, model, tmp_path / "p.tif", "cpu", callbacks=Callbacks(log=lines.append))

    assert "Band 3 is nodata on 600 pixels where bands 1, 2 have data; BANDS 1,2 would map them." in lines
