"""A speckled map (salt and pepper) gives a body a pixel: more than MANY_BODIES are written with a
warning and a MIN_AREA that would leave them out."""

import numpy as np
from osgeo import gdal
from support.synthetic import write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.maps import water_bodies as bodies_module
from water_logreg_plugin.core.maps.water_bodies import water_bodies

# A row for docs/BAD_INPUT.md's "Accepted, with care" table (write_bad_input_table.py collects them).
ACCEPTED_ROWS = [
    ("A speckled map giving 101,250 one-pixel water bodies (10 m pixels)", ("waterbodies",),
     "Writes them, and logs before writing: Warning: 101,250 water bodies will be written (more than 100,000): "
     "the map is likely speckled (salt and pepper), and so many bodies take long to write and make a large "
     "file. Set MIN_AREA to leave the smallest out (MIN_AREA 1000 m² leaves out bodies under 10 pixels), or "
     "cancel and smooth the map first."),
]


def checkerboard(path, size):
    """Water on every other pixel: with 4-connectedness each is a body of its own (size² / 2)."""
    rows, cols = np.indices((size, size))
    probability = np.where((rows + cols) % 2 == 0, 0.9, 0.1).astype(np.float32)
    return write_raster(path, probability[None], nodata=-9999, data_type=gdal.GDT_Float32)


def test_more_bodies_than_many_are_written_with_a_warning_and_a_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(bodies_module, "MANY_BODIES", 100)  # the same words as for 100,000, in a second
    raster = checkerboard(tmp_path / "speckled.tif", 20)
    lines = []
    summary = water_bodies(raster, str(tmp_path / "bodies.gpkg"), callbacks=Callbacks(log=lines.append))
    assert summary.bodies == 200
    expected = ACCEPTED_ROWS[0][2].split("logs before writing: ")[1].replace("101,250", "200").replace("100,000", "100")
    assert expected in lines
    hinted = float(expected.split("MIN_AREA ")[2].split(" m²")[0])
    assert water_bodies(raster, str(tmp_path / "fewer.gpkg"), min_area_m2=hinted).bodies == 0


def test_as_many_as_many_say_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(bodies_module, "MANY_BODIES", 200)
    lines = []
    water_bodies(checkerboard(tmp_path / "speckled.tif", 20), str(tmp_path / "bodies.gpkg"),
                 callbacks=Callbacks(log=lines.append))
    assert not [line for line in lines if line.startswith("Warning")]
