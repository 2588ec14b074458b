"""NDWI / MNDWI: values against the formula, nodata, 16-bit overflow, Otsu, the mask, files."""

import os

import numpy as np
import pytest
from osgeo import gdal
from support.reading_handles import one_reading_handle, record_reading_handles
from support.synthetic import read, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError
from water_logreg_plugin.core.maps import water_index as wi
from water_logreg_plugin.core.raster.windows import row_windows

NDWI_2_3 = wi.IndexBands(green=1, infrared=2, index="NDWI", reason="green = band 1, NIR = band 2 (test)")


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of 256 rows, so a 600-row raster is read and written in three."""
    monkeypatch.setattr(wi, "row_windows", lambda dataset: row_windows(dataset, target_pixels=1))


def formula(green, infrared):
    green, infrared = np.asarray(green, dtype=np.float64), np.asarray(infrared, dtype=np.float64)
    return (green - infrared) / (green + infrared)


def test_values_follow_the_formula_in_every_window(tmp_path, small_windows):
    rng = np.random.default_rng(1)
    bands = rng.integers(1, 65536, size=(2, 600, 20)).astype(np.uint16)
    path = write_raster(tmp_path / "in.tif", bands, nodata=None)
    summary = wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, threshold=0.0)
    index, dataset = read(tmp_path / "ndwi.tif")
    np.testing.assert_allclose(index, formula(*bands), rtol=1e-6, atol=1e-7)
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert dataset.GetRasterBand(1).GetNoDataValue() == wi.INDEX_NODATA
    source = gdal.Open(path)
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    assert dataset.GetProjection() == source.GetProjection()
    assert (dataset.RasterXSize, dataset.RasterYSize) == (20, 600)
    assert summary.valid_pixels == summary.pixels == 12000
    assert summary.water_pixels == int(np.count_nonzero(bands[0] >= bands[1]))


def test_16_bit_values_near_the_top_do_not_overflow(tmp_path):
    green = np.array([[65535, 65535, 65000, 40000]], dtype=np.uint16)
    nir = np.array([[65000, 65535, 65535, 40001]], dtype=np.uint16)
    path = write_raster(tmp_path / "in.tif", np.stack([green, nir]), nodata=None)
    wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, threshold=0.0)
    index, _ = read(tmp_path / "ndwi.tif")
    np.testing.assert_allclose(index[0], [535 / 130535, 0.0, -535 / 130535, -1 / 80001], rtol=1e-6)


def test_zero_denominator_nodata_and_nan_give_nodata(tmp_path):
    green = np.array([[0, 100, 300, 0, 50]], dtype=np.float32)
    nir = np.array([[0, 100, 100, 20, np.nan]], dtype=np.float32)
    green[0, 1] = -9  # the band's nodata value
    path = write_raster(tmp_path / "in.tif", np.stack([green, nir]), nodata=-9, data_type=gdal.GDT_Float32)
    summary = wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, tmp_path / "mask.tif", threshold=0.0)
    index, _ = read(tmp_path / "ndwi.tif")
    mask, mask_dataset = read(tmp_path / "mask.tif")
    nodata = wi.INDEX_NODATA
    np.testing.assert_allclose(index[0], [nodata, nodata, 0.5, -1.0, nodata])
    np.testing.assert_array_equal(mask[0], [255, 255, 1, 0, 255])
    assert mask_dataset.GetRasterBand(1).DataType == gdal.GDT_Byte
    assert mask_dataset.GetRasterBand(1).GetNoDataValue() == wi.MASK_NODATA
    assert (summary.valid_pixels, summary.water_pixels) == (2, 1)


def test_given_threshold_makes_the_mask(tmp_path, small_windows):
    rng = np.random.default_rng(2)
    bands = rng.integers(1, 3000, size=(2, 600, 16)).astype(np.uint16)
    bands[0, 5, 5] = 0  # nodata
    path = write_raster(tmp_path / "in.tif", bands)
    summary = wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, tmp_path / "mask.tif", threshold=0.25)
    index, _ = read(tmp_path / "ndwi.tif")
    mask, _ = read(tmp_path / "mask.tif")
    valid = index != wi.INDEX_NODATA
    assert not valid[5, 5] and mask[5, 5] == 255
    np.testing.assert_array_equal(mask[valid], (index[valid] >= np.float32(0.25)).astype(np.uint8))
    assert (summary.threshold, summary.threshold_from) == (0.25, "given")
    assert summary.water_pixels == int(np.count_nonzero(mask == 1))


def water_and_land(rows=600, cols=40, seed=3):
    """Green/NIR with water (NDWI ≈ +0.4) on the left third, land (≈ −0.4) elsewhere, and the truth."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((rows, cols), dtype=bool)
    truth[:, : cols // 3] = True
    green = np.where(truth, 1400, 600) + rng.normal(0, 30, truth.shape)
    nir = np.where(truth, 600, 1400) + rng.normal(0, 30, truth.shape)
    return np.stack([green, nir]).astype(np.uint16), truth


def test_otsu_splits_water_from_land_and_the_mask_matches(tmp_path, small_windows):
    bands, truth = water_and_land()
    bands[:, 0, 0] = 0
    path = write_raster(tmp_path / "in.tif", bands)
    reported = []
    summary = wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, tmp_path / "mask.tif",
                             callbacks=Callbacks(progress=reported.append))
    assert summary.threshold_from == "Otsu"
    assert -0.3 < summary.threshold < 0.3
    mask, _ = read(tmp_path / "mask.tif")
    assert mask[0, 0] == 255
    truth[0, 0] = False
    np.testing.assert_array_equal(mask[1:] == 1, truth[1:])
    assert summary.water_pixels == int(np.count_nonzero(truth))
    assert summary.valid_pixels == truth.size - 1
    assert reported == sorted(reported) and reported[-1] == pytest.approx(1.0)


def test_otsu_without_a_mask_still_reports_the_threshold(tmp_path):
    bands, truth = water_and_land(rows=50)
    path = write_raster(tmp_path / "in.tif", bands)
    summary = wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3)
    assert -0.3 < summary.threshold < 0.3
    assert summary.water_pixels == int(np.count_nonzero(truth))
    assert sorted(os.listdir(tmp_path)) == ["in.tif", "ndwi.tif"]


def test_otsu_takes_the_middle_of_an_empty_gap():
    counts = np.zeros(wi.OTSU_BINS, dtype=np.int64)
    counts[100:201] = 5  # land: bins 100–200
    counts[700:801] = 3  # water: bins 700–800
    width = 2 / wi.OTSU_BINS
    # Every edge from the top of bin 200 (edge 201) to the bottom of bin 700 (edge 700) splits equally.
    expected = -1 + (201 + 700) / 2 * width
    assert wi.otsu_threshold(counts) == pytest.approx(expected)


def brute_force_otsu(values):
    """The threshold between sorted values that minimises the within-class variance."""
    values = np.sort(values)
    best, best_split = np.inf, None
    for split in range(1, len(values)):
        low, high = values[:split], values[split:]
        within = low.var() * len(low) + high.var() * len(high)
        if within < best:
            best, best_split = within, (values[split - 1] + values[split]) / 2
    return best_split


def test_otsu_on_a_histogram_agrees_with_otsu_on_the_values():
    rng = np.random.default_rng(4)
    values = np.concatenate([rng.normal(-0.3, 0.08, 700), rng.normal(0.35, 0.1, 300)])
    threshold = wi.otsu_threshold(wi.index_histogram(values))
    assert threshold == pytest.approx(brute_force_otsu(values), abs=0.01)


def test_histogram_puts_values_outside_the_range_in_the_end_bins():
    counts = wi.index_histogram(np.array([-5.0, -1.0, 0.0, 0.999, 1.0, 7.0]))
    assert counts.sum() == 6
    assert counts[0] == 2 and counts[-1] == 3 and counts[wi.OTSU_BINS // 2] == 1


def test_otsu_refuses_a_single_value_and_an_empty_histogram():
    counts = np.zeros(wi.OTSU_BINS, dtype=np.int64)
    with pytest.raises(WaterLogRegError, match="No pixel has an index value"):
        wi.otsu_threshold(counts)
    counts[500] = 10
    with pytest.raises(WaterLogRegError, match="give a threshold"):
        wi.otsu_threshold(counts)


def test_mndwi_uses_the_swir_band(tmp_path):
    green = np.full((1, 3), 1000, dtype=np.uint16)
    nir = np.full((1, 3), 3000, dtype=np.uint16)
    swir = np.array([[500, 1000, 3000]], dtype=np.uint16)
    path = write_raster(tmp_path / "in.tif", np.stack([green, nir, swir]))
    bands = wi.choose_index_bands(gdal.Open(path), green=1, nir=2, swir=3)
    assert (bands.green, bands.infrared, bands.index) == (1, 3, "MNDWI")
    summary = wi.water_index(path, tmp_path / "mndwi.tif", bands, threshold=0.0)
    index, _ = read(tmp_path / "mndwi.tif")
    np.testing.assert_allclose(index[0], formula(green[0], swir[0]), rtol=1e-6)
    assert (summary.index, summary.water_pixels) == ("MNDWI", 2)


def named_raster(path, descriptions):
    bands = np.ones((len(descriptions), 2, 2), dtype=np.uint16)
    write_raster(path, bands)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    for number, description in enumerate(descriptions, start=1):
        dataset.GetRasterBand(number).SetDescription(description)
    dataset = None
    return gdal.Open(str(path))


def test_bands_default_to_the_named_green_and_nir(tmp_path):
    dataset = named_raster(tmp_path / "in.tif", ["blue (B02)", "green (B03)", "red (B04)", "NIR (B08)", "SWIR1"])
    bands = wi.choose_index_bands(dataset)
    assert (bands.green, bands.infrared, bands.index) == (2, 4, "NDWI")
    assert bands.reason == ("NDWI with green = band 2 (from the band description), "
                            "NIR = band 4 (from the band description). "
                            "Band 5 is SWIR1: give it as the SWIR band for MNDWI.")
    given = wi.choose_index_bands(dataset, nir=3)
    assert (given.green, given.infrared) == (2, 3)
    assert "NIR = band 3 (as given)" in given.reason
    assert wi.choose_index_bands(dataset, swir=5).index == "MNDWI"


def test_band_choice_errors_say_what_to_do(tmp_path):
    dataset = named_raster(tmp_path / "in.tif", ["", "", ""])
    with pytest.raises(WaterLogRegError, match="does not say which band is green .* choose the green band"):
        wi.choose_index_bands(dataset)
    with pytest.raises(WaterLogRegError, match=r"Band 7 does not exist: the raster has 3 bands \(1 to 3\)"):
        wi.choose_index_bands(dataset, green=1, nir=7)
    with pytest.raises(WaterLogRegError, match="Green and NIR are both band 2"):
        wi.choose_index_bands(dataset, green=2, nir=2)


def test_a_cancel_leaves_no_file(tmp_path, small_windows):
    bands, _ = water_and_land()
    path = write_raster(tmp_path / "in.tif", bands)
    calls = []

    def cancel_on_second_window():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Canceled):
        wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, tmp_path / "mask.tif",
                       callbacks=Callbacks(is_canceled=cancel_on_second_window))
    assert os.listdir(tmp_path) == ["in.tif"]


def test_a_missing_output_folder_is_refused_before_any_work(tmp_path):
    bands, _ = water_and_land(rows=10)
    path = write_raster(tmp_path / "in.tif", bands)
    with pytest.raises(WaterLogRegError, match="does not exist"):
        wi.water_index(path, tmp_path / "ndwi.tif", NDWI_2_3, tmp_path / "nowhere" / "mask.tif")
    assert os.listdir(tmp_path) == ["in.tif"]


def test_the_index_read_through_two_handles_is_the_index_read_through_one(tmp_path, small_windows, monkeypatch):
    rng = np.random.default_rng(2)
    bands = rng.integers(1, 4000, size=(2, 600, 300)).astype(np.uint16)
    bands[:, 100:140, :30] = 0  # nodata
    path = write_raster(tmp_path / "in.tif", bands)
    used = record_reading_handles(monkeypatch, wi)
    two = wi.water_index(path, tmp_path / "two.tif", NDWI_2_3, tmp_path / "two_mask.tif")
    one_reading_handle(monkeypatch, wi)
    one = wi.water_index(path, tmp_path / "one.tif", NDWI_2_3, tmp_path / "one_mask.tif")

    assert len(used[0]) == 2
    used.clear()
    for name in ("", "_mask"):
        np.testing.assert_array_equal(read(tmp_path / f"two{name}.tif")[0], read(tmp_path / f"one{name}.tif")[0])
    assert two == one
