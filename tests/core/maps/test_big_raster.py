"""A raster larger than the process may hold as one array still predicts, window by window.

The raster is a VRT that repeats one small GeoTIFF 32 × 32 times (16384 × 16384 pixels, 3
bands: 1.6 GB as one array, nothing big on disk). The prediction runs in a child process whose
data memory is capped at 1 GiB, where that one array cannot even be allocated (checked), and
the output is compared with the small file's own prediction in a few sampled windows.
Peak memory is measured by `make bench`, not asserted here.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal
from support.synthetic import water_scene, write_raster

from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA
from water_logreg_plugin.core.model import fit_water_model, save_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TILE = 512
REPEATS = 32
MEMORY_CAP = 1 << 30

CHILD = """
import resource, sys
import numpy as np
sys.path.insert(0, {root!r})
from water_logreg_plugin.core.model import load_model
from water_logreg_plugin.core.maps.predict import predict_water

model = load_model({model!r})
resource.setrlimit(resource.RLIMIT_DATA, ({cap}, {cap}))
try:
    np.ones((3, {size}, {size}), dtype=np.uint16)
    print("one array fits")
except MemoryError:
    print("one array does not fit")
summary = predict_water({vrt!r}, model, {output!r})
print("valid pixels", summary.valid_pixels, flush=True)
"""


def repeated_vrt(tile_path, path, repeats):
    """A VRT of `repeats` × `repeats` copies of a tile, each band pointing at the same file."""
    tile = gdal.Open(tile_path)
    vrt = gdal.GetDriverByName("VRT").Create(path, TILE * repeats, TILE * repeats, 0)
    vrt.SetGeoTransform(tile.GetGeoTransform())
    vrt.SetProjection(tile.GetProjection())
    for band in range(1, tile.RasterCount + 1):
        vrt.AddBand(gdal.GDT_UInt16)
        vrt.GetRasterBand(band).SetNoDataValue(0)
        sources = {
            f"source_{row * repeats + col}":
                f'<SimpleSource><SourceFilename relativeToVRT="0">{tile_path}</SourceFilename>'
                f"<SourceBand>{band}</SourceBand>"
                f'<SrcRect xOff="0" yOff="0" xSize="{TILE}" ySize="{TILE}"/>'
                f'<DstRect xOff="{TILE * col}" yOff="{TILE * row}" xSize="{TILE}" ySize="{TILE}"/></SimpleSource>'
            for row in range(repeats) for col in range(repeats)
        }
        vrt.GetRasterBand(band).SetMetadata(sources, "new_vrt_sources")
    vrt = None
    return path


@pytest.mark.slow
def test_a_raster_too_big_for_memory_as_one_array_predicts(tmp_path):
    bands, truth = water_scene(rows=TILE, cols=TILE)
    bands[:, :8, :8] = 0  # a nodata corner in every copy
    tile = write_raster(tmp_path / "tile.tif", bands)
    vrt = repeated_vrt(tile, str(tmp_path / "big.vrt"), REPEATS)
    model, _ = fit_water_model(bands.reshape(3, -1).T[::37].astype(float), truth.ravel()[::37], [1, 2, 3])
    save_model(model, str(tmp_path / "model.json"))
    output = tmp_path / "water.tif"

    size = TILE * REPEATS
    child = CHILD.format(root=ROOT, model=str(tmp_path / "model.json"), vrt=vrt, output=str(output),
                         cap=MEMORY_CAP, size=size)
    finished = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    lines = finished.stdout.splitlines()
    assert lines[0] == "one array does not fit"
    assert lines[1] == f"valid pixels {(TILE * TILE - 64) * REPEATS ** 2}"

    expected = model.predict_probability(bands.reshape(3, -1).T).reshape(TILE, TILE)
    expected[:8, :8] = PROBABILITY_NODATA
    result = gdal.Open(str(output))
    assert (result.RasterXSize, result.RasterYSize) == (size, size)
    for row, col in [(0, 0), (REPEATS - 1, REPEATS - 1), (13, 29), (REPEATS // 2, 0)]:
        window = result.GetRasterBand(1).ReadAsArray(col * TILE, row * TILE, TILE, TILE)
        np.testing.assert_allclose(window, expected, atol=1e-5)
    assert ((expected[8:, 8:] >= 0.5) == truth[8:, 8:]).mean() > 0.99
