"""A full disk under a feature output (samplepixels) or under waterbodies' work files and output:
the same plain sentence predictwater and classifywater give, and nothing left on the disk."""

import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster
from support.tiny_disk import tiny_disk

FULL_DISK = ("Writing '{output}' failed: the disk is full (No space left on device). Free some disk space or "
             "choose another folder, then run again.")

# Rows for docs/BAD_INPUT.md's "Refused" table (write_bad_input_table.py collects them).
REFUSED_ROWS = [
    ("A disk that fills up while the output is written",
     ("samplepixels", "waterbodies"), FULL_DISK.replace("{output}", "<output>")),
]


@pytest.fixture(params=["64k", "256k"])
def full_disk(tmp_path, request):
    """A tiny tmpfs (mounting one needs root; skipped elsewhere): 64 KiB fills while the layer is
    created, 256 KiB while the features are added or committed."""
    with tiny_disk(tmp_path / "full", request.param) as folder:
        yield folder


@pytest.mark.parametrize("extension", [".gpkg", ".shp"])
def test_samplepixels_says_the_disk_is_full(run_algorithm, tmp_path, full_disk, extension):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())
    output = str(full_disk / f"samples{extension}")
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
                                       "MAX_PIXELS_PER_CLASS": 0, "OUTPUT": output})
    assert str(refusal.value) == FULL_DISK.format(output=output)
    assert os.listdir(full_disk) == []


def test_waterbodies_says_the_disk_is_full(run_algorithm, tmp_path, full_disk):
    salt_and_pepper = (np.random.default_rng(0).random((300, 300)) > 0.5).astype(np.float32)
    raster = write_raster(tmp_path / "probability.tif", salt_and_pepper[None], nodata=-9999,
                          data_type=gdal.GDT_Float32)
    output = str(full_disk / "bodies.gpkg")
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm("waterbodies", {"INPUT": raster, "OUTPUT": output})
    assert str(refusal.value) == FULL_DISK.format(output=output)
    assert os.listdir(full_disk) == []
