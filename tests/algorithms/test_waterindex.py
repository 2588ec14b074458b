"""waterlogreg:waterindex through processing.run: values, nodata, mask, threshold, bands, styling."""

import gc

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProject
from qgis.PyQt import sip
from support.recording_feedback import RecordingFeedback
from support.synthetic import read, write_raster

from water_logreg_plugin import styling


def scene(tmp_path, descriptions=("blue", "green", "red", "NIR"), name="scene.tif"):
    """4 bands; water (high green, low NIR) in the left quarter; a nodata pixel at (0, 0)."""
    rng = np.random.default_rng(0)
    rows, cols = 60, 80
    water = np.zeros((rows, cols), dtype=bool)
    water[:, :20] = True
    green = np.where(water, 1400, 700) + rng.normal(0, 30, water.shape)
    nir = np.where(water, 500, 1600) + rng.normal(0, 30, water.shape)
    bands = np.stack([green * 1.1, green, green * 0.9, nir]).astype(np.uint16)
    bands[:, 0, 0] = 0
    path = write_raster(tmp_path / name, bands)
    dataset = gdal.Open(path, gdal.GA_Update)
    for number, description in enumerate(descriptions, start=1):
        dataset.GetRasterBand(number).SetDescription(description)
    dataset = None
    return path, bands, water


def ndwi(green, nir):
    green, nir = green.astype(np.float64), nir.astype(np.float64)
    with np.errstate(invalid="ignore"):  # the nodata pixel is 0 / 0
        return (green - nir) / (green + nir)


def test_index_values_nodata_mask_and_otsu(run_algorithm, tmp_path):
    path, bands, water = scene(tmp_path)
    result = run_algorithm("waterindex", {
        "INPUT": path, "OUTPUT": str(tmp_path / "ndwi.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
    })
    index, dataset = read(result["OUTPUT"])
    expected = ndwi(bands[1], bands[3])
    assert index[0, 0] == -9999.0
    np.testing.assert_allclose(index.ravel()[1:], expected.ravel()[1:], rtol=1e-6)
    assert dataset.GetGeoTransform() == gdal.Open(path).GetGeoTransform()
    assert result["INDEX"] == "NDWI"
    assert -0.3 < result["THRESHOLD"] < 0.3
    mask, _ = read(result["OUTPUT_MASK"])
    assert mask[0, 0] == 255
    water[0, 0] = False
    np.testing.assert_array_equal(mask.ravel()[1:] == 1, water.ravel()[1:])
    assert result["VALID_PIXELS"] == water.size - 1
    assert result["WATER_FRACTION"] == pytest.approx(np.count_nonzero(water) / (water.size - 1))


def test_given_threshold_and_bands(run_algorithm, tmp_path):
    path, bands, _ = scene(tmp_path, descriptions=("", "", "", ""))
    result = run_algorithm("waterindex", {
        "INPUT": path, "GREEN_BAND": 2, "NIR_BAND": 4, "THRESHOLD": 0.5,
        "OUTPUT": str(tmp_path / "ndwi.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
    })
    assert result["THRESHOLD"] == 0.5
    index, _ = read(result["OUTPUT"])
    mask, _ = read(result["OUTPUT_MASK"])
    valid = index != -9999.0
    np.testing.assert_array_equal(mask[valid], (index[valid] >= 0.5).astype(np.uint8))


def test_swir_band_gives_mndwi(run_algorithm, tmp_path):
    path, bands, _ = scene(tmp_path)
    result = run_algorithm("waterindex", {
        "INPUT": path, "SWIR_BAND": 3, "THRESHOLD": 0.0, "OUTPUT": str(tmp_path / "mndwi.tif"),
    })
    assert result["INDEX"] == "MNDWI"
    index, _ = read(result["OUTPUT"])
    np.testing.assert_allclose(index.ravel()[1:], ndwi(bands[1], bands[2]).ravel()[1:], rtol=1e-6)


def test_a_band_that_does_not_exist_is_refused(run_algorithm, tmp_path):
    path, _, _ = scene(tmp_path)
    with pytest.raises(QgsProcessingException,
                       match=r"Band 7 does not exist: the raster has 4 bands \(1 to 4\)"):
        run_algorithm("waterindex", {"INPUT": path, "NIR_BAND": 7, "OUTPUT": str(tmp_path / "ndwi.tif")})
    assert not (tmp_path / "ndwi.tif").exists()


def test_a_raster_that_names_no_bands_asks_for_them(run_algorithm, tmp_path):
    path, _, _ = scene(tmp_path, descriptions=("", "", "", ""))
    with pytest.raises(QgsProcessingException, match="does not say which band is green"):
        run_algorithm("waterindex", {"INPUT": path, "OUTPUT": str(tmp_path / "ndwi.tif")})


def test_the_log_says_which_bands_and_why(run_algorithm, tmp_path):
    feedback = RecordingFeedback()
    path, _, _ = scene(tmp_path)
    run_algorithm("waterindex", {"INPUT": path, "OUTPUT": str(tmp_path / "ndwi.tif")}, feedback=feedback)
    assert ("NDWI with green = band 2 (from the band description), NIR = band 4 (from the band description)."
            in feedback.lines)
    assert any(line.startswith("Otsu's threshold on the NDWI histogram: ") for line in feedback.lines)


def test_three_runs_in_one_session_are_each_styled(provider, qgis_new_project, tmp_path):
    import processing

    for run in range(3):
        path, _, _ = scene(tmp_path, name=f"scene{run}.tif")
        threshold = [None, 0.1, -0.2][run]
        parameters = {
            "INPUT": path, "OUTPUT": str(tmp_path / f"ndwi{run}.tif"), "OUTPUT_MASK": str(tmp_path / f"mask{run}.tif"),
        }
        if threshold is not None:
            parameters["THRESHOLD"] = threshold
        result = processing.runAndLoadResults("waterlogreg:waterindex", parameters)
        if threshold is not None:
            assert result["THRESHOLD"] == threshold
        layers = {layer.source(): layer for layer in QgsProject.instance().mapLayers().values()}
        renderer = layers[str(tmp_path / f"ndwi{run}.tif")].renderer()
        assert renderer.type() == "singlebandpseudocolor"
        ramp = renderer.shader().rasterShaderFunction().colorRampItemList()
        assert [item.value for item in (ramp[0], ramp[2], ramp[-1])] == pytest.approx(
            [-1.0, result["THRESHOLD"], 1.0])
        assert ramp[2].label == f"{result['THRESHOLD']:.2f} threshold"
        mask = layers[str(tmp_path / f"mask{run}.tif")].renderer()
        assert mask.type() == "paletted"
        assert {(c.value, c.label) for c in mask.classes()} == {(0, "land"), (1, "water")}
    # Each run's post-processors went with its context: none is kept alive for ever.
    gc.collect()
    assert styling._HANDED_OVER and all(sip.isdeleted(kept) for kept in styling._HANDED_OVER)
