"""samplepixels → trainmodel → predictwater, the three-step path, through processing.run."""

import json

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture
def trained(run_algorithm, tmp_path):
    bands, truth = water_scene()
    bands[:, 0:5, 0:7] = 0  # a nodata corner
    raster = write_raster(tmp_path / "scene.tif", bands)
    polygons = write_polygons(tmp_path / "p.gpkg", standard_polygons(), epsg=4326)
    samples = run_algorithm("samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "s.gpkg"),
    })["OUTPUT"]
    result = run_algorithm("trainmodel", {"SAMPLES": samples, "SEED": 1, "OUTPUT_MODEL": str(tmp_path / "m.json")})
    return raster, truth, result


def test_trainmodel_reports_device_and_loss(trained):
    _, _, result = trained
    assert result["DEVICE_USED"] == "cpu"
    assert 0 <= result["FINAL_LOSS"] < 0.01
    with open(result["OUTPUT_MODEL"]) as handle:
        model = json.load(handle)
    assert model["bands"] == [1, 2, 3]
    # Four 20 × 30-pixel boxes a class; one of each is held out (VALIDATION_FRACTION 0.2).
    assert (model["training"]["water_pixels"], model["training"]["land_pixels"]) == (1800, 1800)
    assert result["FIGURES_FROM"] == "held-out polygons"
    assert result["ASSESSED_PIXELS"] == model["training"]["validation_pixels"] == 1200
    assert result["OVERALL_ACCURACY"] == 1.0


def test_predictwater_probability_raster(run_algorithm, trained, tmp_path):
    raster, truth, result = trained
    output = run_algorithm("predictwater", {
        "INPUT": raster, "MODEL": result["OUTPUT_MODEL"], "OUTPUT": str(tmp_path / "prob.tif"),
    })
    probability, dataset = read(output["OUTPUT"])
    source = gdal.Open(raster)
    assert (dataset.RasterXSize, dataset.RasterYSize) == (source.RasterXSize, source.RasterYSize)
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    assert dataset.GetSpatialRef().IsSame(source.GetSpatialRef())
    band = dataset.GetRasterBand(1)
    assert gdal.GetDataTypeName(band.DataType) == "Float32"
    assert band.GetNoDataValue() == -9999
    assert band.GetBlockSize() == [256, 256]
    assert dataset.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
    assert (probability[0:5, 0:7] == -9999).all()
    valid = probability != -9999
    assert valid.sum() == probability.size - 35
    assert ((probability[valid] >= 0) & (probability[valid] <= 1)).all()
    assert ((probability >= 0.5) == truth)[valid].mean() >= 0.99
    assert output["DEVICE_USED"] == "cpu"
    assert output["WATER_FRACTION"] == pytest.approx(truth[valid].mean(), abs=0.01)


def test_model_for_other_bands_is_refused(run_algorithm, trained, tmp_path):
    _, _, result = trained
    two_bands = write_raster(tmp_path / "two.tif", water_scene()[0][:2])
    with pytest.raises(QgsProcessingException, match=r"The model uses bands 1, 2, 3, but 'two.tif' has only 2 bands"):
        run_algorithm("predictwater", {"INPUT": two_bands, "MODEL": result["OUTPUT_MODEL"],
                                       "OUTPUT": str(tmp_path / "never.tif")})
    assert not (tmp_path / "never.tif").exists()


def test_water_mask_output(run_algorithm, trained, tmp_path):
    raster, truth, result = trained
    output = run_algorithm("predictwater", {
        "INPUT": raster, "MODEL": result["OUTPUT_MODEL"], "THRESHOLD": 0.5,
        "OUTPUT": str(tmp_path / "prob.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
    })
    mask, dataset = read(output["OUTPUT_MASK"])
    assert gdal.GetDataTypeName(dataset.GetRasterBand(1).DataType) == "Byte"
    assert (mask[0:5, 0:7] == 255).all()
    valid = mask != 255
    np.testing.assert_array_equal(mask[valid] == 1, truth[valid])
