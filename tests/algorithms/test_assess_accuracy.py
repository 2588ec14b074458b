"""waterlogreg:assessaccuracy on a probability map with known truth, and predictwater's mask."""

import numpy as np
import pytest
from osgeo import gdal, ogr
from sklearn import metrics as reference
from support.synthetic import pixel_box, read, write_polygons, write_raster

from water_logreg_plugin.core.model import WaterModel, save_model

ROWS, COLS = 100, 120
WATER_P, LAND_P = 0.9, 0.1


@pytest.fixture
def probability_map(tmp_path):
    """A Float32 P(water) map whose errors under the validation polygons are known pixel by pixel.

    Validation polygons (stored in EPSG:4326, the map is UTM 33N): water A 20×20 px holding a
    5×5 block of 0.2 (water called land), water B 20×30 px holding 2×10 nodata pixels, land C
    20×20 px holding a 4×4 block of 0.7 (land called water at 0.5, not at 0.75), land D 30×30 px.
    A block of errors outside every polygon must not count.
    """
    probability = np.full((ROWS, COLS), LAND_P, dtype=np.float32)
    probability[:, 60:] = WATER_P
    probability[12:17, 72:77] = 0.2
    probability[60:62, 80:90] = -9999
    probability[20:24, 15:19] = 0.7
    probability[90:96, 0:10] = 0.95
    raster = write_raster(tmp_path / "probability.tif", probability[np.newaxis], nodata=-9999,
                          data_type=gdal.GDT_Float32)
    polygons = write_polygons(tmp_path / "validation.gpkg", [
        (pixel_box(70, 10, 90, 30), "water"), (pixel_box(70, 50, 90, 80), "water"),
        (pixel_box(10, 10, 30, 30), "land"), (pixel_box(10, 50, 40, 80), "land"),
    ], epsg=4326)
    return raster, polygons


def expected_pixels():
    """(P(water), label) of every pixel the polygons hold, as the map stores them (float32)."""
    groups = [  # (count, probability, label)
        (400 - 25, WATER_P, 1), (25, 0.2, 1), (600 - 20, WATER_P, 1),
        (400 - 16, LAND_P, 0), (16, 0.7, 0), (900, LAND_P, 0),
    ]
    probability = np.concatenate([np.full(count, p, dtype=np.float32) for count, p, _ in groups]).astype(np.float64)
    labels = np.concatenate([np.full(count, label) for count, _, label in groups])
    return probability, labels


def assess(run_algorithm, probability_map, **extra):
    raster, polygons = probability_map
    return run_algorithm("assessaccuracy", {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", **extra})


def test_figures_of_a_map_with_known_errors(run_algorithm, probability_map):
    result = assess(run_algorithm, probability_map)
    assert (result["TRUE_WATER"], result["FALSE_LAND"], result["FALSE_WATER"], result["TRUE_LAND"]) == (
        955, 25, 16, 1284)
    assert result["ASSESSED_PIXELS"] == 2280
    assert result["FIGURES_FROM"] == "validation polygons"
    assert result["OVERALL_ACCURACY"] == pytest.approx((955 + 1284) / 2280, abs=1e-12)
    assert result["PRECISION"] == pytest.approx(955 / 971, abs=1e-12)
    assert result["RECALL"] == pytest.approx(955 / 980, abs=1e-12)
    assert result["IOU"] == pytest.approx(955 / (955 + 25 + 16), abs=1e-12)
    probability, labels = expected_pixels()
    predicted = probability >= 0.5
    assert result["F1"] == pytest.approx(reference.f1_score(labels, predicted), abs=1e-12)
    assert result["KAPPA"] == pytest.approx(reference.cohen_kappa_score(labels, predicted), abs=1e-12)
    assert result["LOG_LOSS"] == pytest.approx(reference.log_loss(labels, probability), rel=1e-9)


def test_threshold_moves_pixels_between_classes(run_algorithm, probability_map):
    result = assess(run_algorithm, probability_map, THRESHOLD=0.75)
    assert (result["TRUE_WATER"], result["FALSE_LAND"], result["FALSE_WATER"], result["TRUE_LAND"]) == (
        955, 25, 0, 1300)
    assert result["PRECISION"] == 1.0
    unchanged = assess(run_algorithm, probability_map)
    assert result["LOG_LOSS"] == unchanged["LOG_LOSS"]  # log-loss does not depend on the threshold


def test_numeric_class_values(run_algorithm, probability_map, tmp_path):
    raster, _ = probability_map
    coded = write_polygons(tmp_path / "coded.gpkg", [
        (pixel_box(70, 10, 90, 30), 3), (pixel_box(10, 10, 30, 30), 7),
    ], field="code", field_type=ogr.OFTInteger)
    result = run_algorithm("assessaccuracy", {
        "INPUT": raster, "POLYGONS": coded, "CLASS_FIELD": "code", "WATER_VALUES": "3"})
    assert (result["TRUE_WATER"], result["FALSE_LAND"], result["FALSE_WATER"], result["TRUE_LAND"]) == (
        375, 25, 16, 384)


def test_predictwater_mask_is_byte_with_nodata_kept(run_algorithm, tmp_path):
    """P = σ(−2 (b1 − 1000)/100); band 2 only carries nodata, which must reach the mask."""
    model = tmp_path / "model.json"
    save_model(WaterModel([1, 2], np.array([1000.0, 500.0]), np.array([100.0, 50.0]),
                          [(np.array([[-2.0, 0.0]]), np.array([0.0]))]), model)
    band1 = np.tile(np.linspace(700, 1300, COLS), (ROWS, 1)).astype(np.uint16)
    band2 = np.full((ROWS, COLS), 500, dtype=np.uint16)
    band2[40:50, :] = 0  # nodata in the second band only
    band1[0:3, 0:4] = 0
    raster = write_raster(tmp_path / "scene.tif", np.stack([band1, band2]))
    result = run_algorithm("predictwater", {
        "INPUT": raster, "MODEL": str(model), "THRESHOLD": 0.3,
        "OUTPUT": str(tmp_path / "p.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
    })
    mask, dataset = read(result["OUTPUT_MASK"])
    probability, probability_dataset = read(result["OUTPUT"])
    band = dataset.GetRasterBand(1)
    assert gdal.GetDataTypeName(band.DataType) == "Byte" and band.GetNoDataValue() == 255
    assert dataset.GetGeoTransform() == probability_dataset.GetGeoTransform()
    nodata = (band1 == 0) | (band2 == 0)
    np.testing.assert_array_equal(mask == 255, nodata)
    np.testing.assert_array_equal(probability == -9999, nodata)
    assert set(np.unique(mask[~nodata])) == {0, 1}
    np.testing.assert_array_equal(mask[~nodata] == 1, probability[~nodata] >= 0.3)
    analytic = 1 / (1 + np.exp(2 * (band1.astype(float) - 1000) / 100))
    clear = ~nodata & (np.abs(analytic - 0.3) > 1e-3)
    np.testing.assert_array_equal(mask[clear] == 1, analytic[clear] >= 0.3)
    assert result["WATER_FRACTION"] == pytest.approx((mask == 1).sum() / (~nodata).sum())
