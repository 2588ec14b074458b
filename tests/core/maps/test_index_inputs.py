"""NDWI on bands that are not plain reflectances: a scale and offset the file gives are applied,
and negative values or a green + NIR of 0 or less on a notable share of pixels are reported."""

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import read, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.maps import water_index as wi

NDWI = wi.IndexBands(green=1, infrared=2, index="NDWI", reason="green = band 1, NIR = band 2 (test)")
SCALE, OFFSET = 0.0001, 0.1  # reflectance = stored × 0.0001 + 0.1: dark pixels are stored below 0

# Rows for docs/BAD_INPUT.md's "Accepted, with care" table (write_bad_input_table.py collects them).
ACCEPTED_ROWS = [
    ("Int16 bands that state scale 0.0001 and offset 0.1 (dark pixels stored below 0)", ("waterindex",),
     "Computes the index on scale × value + offset, and logs: The file gives band 1 scale 0.0001 and offset 0.1, "
     "band 2 scale 0.0001 and offset 0.1: the index is computed on scale × value + offset (the values the bands "
     "stand for), not on the stored numbers."),
    ("The same stored numbers without the scale and offset in the file", ("waterindex",),
     "Runs, and logs: Warning: green + NIR is 0 or less on 50.0 % of the valid pixels; there NDWI is nodata (0) "
     "or has its sign flipped (below 0), so the map and its water share are wrong there. The bands should be "
     "reflectances (0 or more). — and: Warning: 100.0 % of the valid pixels have a negative green or NIR value "
     "(down to -800), which reflectances cannot be; NDWI is then outside −1 to 1. If the bands hold "
     "reflectances with an offset, give the file that scale and offset (gdal_edit.py -scale … -offset …) and "
     "run again."),
]


def reflectances():
    """(green, NIR) reflectances: water (left half: 0.08, 0.02, NDWI 0.6) and land (0.08, 0.3)."""
    green = np.full((40, 40), 0.08)
    nir = np.full((40, 40), 0.3)
    nir[:, :20] = 0.02
    return green, nir


def stored(path, with_scaling):
    """An Int16 raster of the reflectances stored as (reflectance − 0.1) / 0.0001."""
    bands = np.round((np.stack(reflectances()) - OFFSET) / SCALE).astype(np.int16)
    write_raster(path, bands, nodata=None, data_type=gdal.GDT_Int16)
    if with_scaling:
        dataset = gdal.Open(str(path), gdal.GA_Update)
        for number in (1, 2):
            dataset.GetRasterBand(number).SetScale(SCALE)
            dataset.GetRasterBand(number).SetOffset(OFFSET)
        dataset = None
    return str(path)


def run(tmp_path, with_scaling):
    lines = []
    summary = wi.water_index(stored(tmp_path / "scene.tif", with_scaling), str(tmp_path / "ndwi.tif"), NDWI,
                             threshold=0.0, callbacks=Callbacks(log=lines.append))
    return summary, read(tmp_path / "ndwi.tif")[0], lines


def test_the_scale_and_offset_the_file_gives_are_applied(tmp_path):
    summary, index, lines = run(tmp_path, with_scaling=True)
    green, nir = reflectances()
    assert index == pytest.approx((green - nir) / (green + nir), abs=1e-3)
    assert summary.water_fraction == 0.5
    assert ACCEPTED_ROWS[0][2].split("logs: ")[1] in lines
    assert not [line for line in lines if line.startswith("Warning")]


def test_negative_values_and_a_sum_of_zero_or_less_are_reported(tmp_path):
    summary, index, lines = run(tmp_path, with_scaling=False)
    assert [line for line in lines if line.startswith("Warning")] == ACCEPTED_ROWS[1][2].split("logs: ")[1].split(
        " — and: ")
    assert summary.water_fraction != 0.5  # what the warnings are about


def test_reflectances_say_nothing(tmp_path):
    bands = np.round(np.stack(reflectances()) * 10000).astype(np.uint16)
    lines = []
    wi.water_index(write_raster(tmp_path / "scene.tif", bands, nodata=None), str(tmp_path / "ndwi.tif"), NDWI,
                   threshold=0.0, callbacks=Callbacks(log=lines.append))
    assert not [line for line in lines if line.startswith("Warning") or "scale" in line]
