"""waterlogreg:wateroccurrence, waterchange and waterbodies through processing.run, each three times."""

import os

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsProject
from support.synthetic import read, write_raster

NODATA = -9999.0


def write_dates(folder, dates=5, flooded=(0, 2, 4)):
    """A lake water on every date, a flood plain water on `flooded`, land elsewhere."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for date in range(dates):
        probability = np.full((80, 100), 0.1, np.float32)
        probability[10:40, 10:40] = 0.9
        if date in flooded:
            probability[10:40, 50:90] = 0.8
        paths.append(write_raster(os.path.join(folder, f"date{date}.tif"), probability[None], nodata=NODATA,
                                  data_type=gdal.GDT_Float32))
    return paths


@pytest.mark.parametrize("run", range(3))
def test_occurrence(run_algorithm, tmp_path, run):
    paths = write_dates(tmp_path / "dates")
    result = run_algorithm("wateroccurrence", {
        "INPUT": paths, "THRESHOLD": 0.5,
        "OUTPUT": str(tmp_path / "occurrence.tif"), "OUTPUT_COUNT": str(tmp_path / "count.tif"),
    })
    occurrence, _ = read(result["OUTPUT"])
    assert (occurrence[10:40, 10:40] == 1.0).all()
    assert (occurrence[10:40, 50:90] == np.float32(0.6)).all()
    assert (read(result["OUTPUT_COUNT"])[0] == 5).all()
    assert result["DATES"] == 5 and result["REGRIDDED_DATES"] == 0
    assert result["PERMANENT_WATER_PIXELS"] == 900 and result["WATER_EVER_PIXELS"] == 900 + 1200


def test_occurrence_refuses_a_multiband_raster(run_algorithm, tmp_path):
    from qgis.core import QgsProcessingException

    paths = write_dates(tmp_path / "dates")
    scene = write_raster(tmp_path / "scene.tif", np.ones((3, 80, 100), np.uint16))
    with pytest.raises(QgsProcessingException):
        run_algorithm("wateroccurrence", {"INPUT": paths + [scene], "OUTPUT": str(tmp_path / "occurrence.tif")})
    assert not [name for name in os.listdir(tmp_path) if "occurrence" in name]


@pytest.mark.parametrize("run", range(3))
def test_change(run_algorithm, tmp_path, run):
    before, after = write_dates(tmp_path / "dates", dates=2, flooded=(1,))
    result = run_algorithm("waterchange", {"BEFORE": before, "AFTER": after, "OUTPUT": str(tmp_path / "change.tif")})
    classes, _ = read(result["OUTPUT"])
    assert (classes[10:40, 10:40] == 1).all() and (classes[10:40, 50:90] == 2).all()
    assert (classes[40:] == 0).all()
    assert result["NEW_WATER_HA"] == pytest.approx(12.0)  # 1200 pixels of 100 m²
    assert result["STAYS_WATER_HA"] == pytest.approx(9.0)
    assert result["LOST_WATER_HA"] == 0 and result["NO_DATA_HA"] == 0
    assert result["AREA_METHOD"] == "planar, in the raster's CRS (EPSG:32633)"


@pytest.mark.parametrize("run", range(3))
def test_bodies(run_algorithm, tmp_path, run):
    (flooded,) = write_dates(tmp_path / "dates", dates=1)
    result = run_algorithm("waterbodies", {
        "INPUT": flooded, "MIN_AREA": 50000, "OUTPUT": str(tmp_path / "bodies.gpkg"),
    })
    assert result["BODIES"] == 2 and result["WATER_AREA_HA"] == pytest.approx(21.0)
    datasource = ogr.Open(result["OUTPUT"])
    areas = sorted(feature.GetField("area_ha") for feature in datasource.GetLayer(0))
    assert areas == pytest.approx([9.0, 12.0])


def test_temporary_outputs(run_algorithm, tmp_path):
    (date,) = write_dates(tmp_path / "dates", dates=1)
    bodies = run_algorithm("waterbodies", {"INPUT": date, "OUTPUT": "TEMPORARY_OUTPUT"})
    assert bodies["OUTPUT"].endswith(".gpkg") and os.path.exists(bodies["OUTPUT"])
    occurrence = run_algorithm("wateroccurrence", {"INPUT": [date], "OUTPUT": "TEMPORARY_OUTPUT",
                                                   "OUTPUT_COUNT": "TEMPORARY_OUTPUT"})
    assert os.path.exists(occurrence["OUTPUT"]) and os.path.exists(occurrence["OUTPUT_COUNT"])


def test_loaded_outputs_are_styled_on_every_run(provider, qgis_new_project, tmp_path):
    import processing

    before, after = write_dates(tmp_path / "dates", dates=2, flooded=(1,))
    for run in range(3):
        folder = tmp_path / f"run{run}"
        os.makedirs(folder)
        processing.runAndLoadResults("waterlogreg:wateroccurrence", {
            "INPUT": [before, after], "OUTPUT": str(folder / "occurrence.tif")})
        processing.runAndLoadResults("waterlogreg:waterchange", {
            "BEFORE": before, "AFTER": after, "OUTPUT": str(folder / "change.tif")})
        processing.runAndLoadResults("waterlogreg:waterbodies", {"INPUT": after, "OUTPUT": str(folder / "b.gpkg")})
        layers = {layer.source().split("|")[0]: layer for layer in QgsProject.instance().mapLayers().values()}
        occurrence = layers[str(folder / "occurrence.tif")].renderer()
        assert occurrence.type() == "singlebandpseudocolor"
        assert occurrence.shader().rasterShaderFunction().colorRampItemList()[-1].label == "1 always water"
        change = layers[str(folder / "change.tif")].renderer()
        assert change.type() == "paletted"
        assert {(c.value, c.label) for c in change.classes()} == {
            (0, "stays dry"), (1, "stays water"), (2, "new water (flood)"), (3, "lost water")}
        bodies = layers[str(folder / "b.gpkg")].renderer()
        assert bodies.symbol().color().name() == "#6baed6"
    # QGIS deleted each run's post-processors once they had run; none is kept alive for nothing
    from qgis.PyQt import sip

    from water_logreg_plugin import styling

    assert len(styling._HANDED_OVER) <= 3
    assert all(sip.isdeleted(done) for done in styling._HANDED_OVER)
