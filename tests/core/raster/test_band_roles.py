"""Band roles from band descriptions, wavelength metadata and colour interpretation."""

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import write_raster

from water_logreg_plugin.core.raster.band_roles import (
    band_roles,
    central_wavelength_um,
    default_training_bands,
    role_from_description,
)


def raster(tmp_path, count, configure=lambda band, number: None, name="in.tif"):
    """A small GeoTIFF of `count` bands; configure(band, number) sets what the test needs."""
    path = write_raster(tmp_path / name, np.ones((count, 2, 2), dtype=np.uint16))
    dataset = gdal.Open(path, gdal.GA_Update)
    for number in range(1, count + 1):
        configure(dataset.GetRasterBand(number), number)
    dataset = None
    return gdal.Open(path)  # read back: what the file keeps, not what the handle remembers


@pytest.mark.parametrize("description, role", [
    ("blue (B02)", "blue"), ("green (B03)", "green"), ("red (B04)", "red"), ("NIR (B08)", "nir"),
    ("Green", "green"), ("Band 4 - near infrared", "nir"), ("near-infrared", "nir"), ("nir", "nir"),
    ("SWIR1", "swir1"), ("SWIR 1", "swir1"), ("swir", "swir1"), ("SWIR2", "swir2"), ("swir 2", "swir2"),
    ("B03", "green"), ("B8A", "nir"), ("Sentinel-2 B08", "nir"), ("Sentinel-2 B11", "swir1"), ("S2 B12", "swir2"),
    ("red edge 1", None), ("rededge", None), ("B11", None), ("B3", None), ("Landsat 8 B5", None),
    ("", None), (None, None), ("Band 1", None), ("thermal", None),
])
def test_descriptions(description, role):
    assert role_from_description(description) == role


def test_roles_from_descriptions_and_the_training_default(tmp_path):
    names = ["blue (B02)", "green (B03)", "red (B04)", "NIR (B08)"]
    dataset = raster(tmp_path, 4, lambda band, number: band.SetDescription(names[number - 1]))
    assert band_roles(dataset) == {"blue": 1, "green": 2, "red": 3, "nir": 4}
    bands, reason = default_training_bands(dataset)
    assert bands == [2, 3, 4]
    assert reason == ("Using green, red and NIR as the file names them: green = band 2 (band description), "
                      "red = band 3 (band description), NIR = band 4 (band description).")


def test_roles_from_colour_interpretation(tmp_path):
    colours = [gdal.GCI_BlueBand, gdal.GCI_GreenBand, gdal.GCI_RedBand, gdal.GCI_Undefined]
    dataset = raster(tmp_path, 4, lambda band, number: band.SetColorInterpretation(colours[number - 1]))
    assert dataset.GetRasterBand(2).GetColorInterpretation() == gdal.GCI_GreenBand
    assert band_roles(dataset) == {"blue": 1, "green": 2, "red": 3}
    bands, reason = default_training_bands(dataset)
    assert bands == [1, 2, 3, 4]
    assert reason == ("Using all 4 bands: the file does not say which band is NIR (no band description, "
                      "wavelength or colour interpretation names it).")


def test_roles_from_imagery_central_wavelength(tmp_path):
    wavelengths = ["0.443", "0.560", "0.665", "0.842", "1.610", "2.190", "0.705"]

    def configure(band, number):
        band.SetMetadataItem("CENTRAL_WAVELENGTH_UM", wavelengths[number - 1], "IMAGERY")

    dataset = raster(tmp_path, 7, configure)
    assert central_wavelength_um(dataset.GetRasterBand(4)) == pytest.approx(0.842)
    assert band_roles(dataset) == {"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "swir2": 6}
    bands, reason = default_training_bands(dataset)
    assert bands == [2, 3, 4]
    assert "NIR = band 4 (wavelength metadata)" in reason


@pytest.mark.parametrize("items, expected_um", [
    ({"wavelength": "560", "wavelength_units": "Nanometers"}, 0.56),
    ({"WAVELENGTH": "842", "WAVELENGTH_UNIT": "nm"}, 0.842),
    ({"wavelength": "0.665", "wavelength_units": "Micrometers"}, 0.665),
    ({"wavelength": "1610"}, 1.61),
    ({"wavelength": "0.49"}, 0.49),
    ({"wavelength": "n/a"}, None),
    ({}, None),
])
def test_envi_and_sentinel2_style_wavelength_items(tmp_path, items, expected_um):
    dataset = raster(tmp_path, 1, lambda band, number: band.SetMetadata(items))
    wavelength = central_wavelength_um(dataset.GetRasterBand(1))
    assert wavelength == (pytest.approx(expected_um) if expected_um is not None else None)


def test_description_wins_over_wavelength_and_colour(tmp_path):
    def configure(band, number):
        band.SetDescription("NIR")
        band.SetMetadataItem("CENTRAL_WAVELENGTH_UM", "0.56", "IMAGERY")
        band.SetColorInterpretation(gdal.GCI_RedBand)

    assert band_roles(raster(tmp_path, 1, configure)) == {"nir": 1}


def test_the_lower_band_takes_a_repeated_role(tmp_path):
    names = ["green", "NIR (B08)", "NIR (B8A)"]
    assert band_roles(raster(tmp_path, 3, lambda band, number: band.SetDescription(names[number - 1]))) == {
        "green": 1, "nir": 2,
    }


def test_a_file_that_names_nothing(tmp_path):
    dataset = raster(tmp_path, 3)
    assert band_roles(dataset) == {}
    bands, reason = default_training_bands(dataset)
    assert bands == [1, 2, 3]
    assert reason.startswith("Using all 3 bands: the file does not say which band is green, red, NIR")


def test_the_sentinel2_demo_raster():
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "demo", "data", "sentinel2_havel.tif")
    dataset = gdal.Open(path)
    assert band_roles(dataset) == {"blue": 1, "green": 2, "red": 3, "nir": 4}
    assert [dataset.GetRasterBand(n).GetDescription() for n in range(1, 5)] == [
        "blue (B02)", "green (B03)", "red (B04)", "NIR (B08)",
    ]
    assert central_wavelength_um(dataset.GetRasterBand(4)) == pytest.approx(0.8328)
