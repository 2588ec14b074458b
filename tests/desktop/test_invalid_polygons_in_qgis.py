"""Real QGIS on a virtual screen: a bow-tie polygon refused by each polygon tool, and the next
Processing run in the same QGIS works (QGIS 3.22 crashed on it before)."""

import numpy as np
import pytest
from desktop_programs import TORCH_SITE_PACKAGES, install_from_zip, run_in_qgis
from osgeo import gdal
from support.synthetic import bow_tie, standard_polygons, water_scene, write_polygons, write_raster

BOW_TIE_OVER_WATER = bow_tie(150, 50, 20)  # polygon 9, after the eight standard ones


@pytest.mark.slow
def test_a_bow_tie_is_refused_and_the_next_run_works(plugin_zip, tmp_path):
    install_from_zip(plugin_zip, str(tmp_path / "profiles" / "test"))
    bands, truth = water_scene()
    (tmp_path / "out").mkdir()
    report = run_in_qgis(
        "qgis_invalid_polygons.py", tmp_path, tmp_path / "report.json", TORCH_SITE_PACKAGES, timeout=300,
        WATERLOGREG_SCENE=write_raster(tmp_path / "scene.tif", bands),
        WATERLOGREG_PROBABILITY=write_raster(tmp_path / "probability.tif", np.where(truth, 0.9, 0.1)[None],
                                             nodata=-9999, data_type=gdal.GDT_Float32),
        WATERLOGREG_BOW_TIE=write_polygons(tmp_path / "bow_tie.gpkg",
                                           standard_polygons() + [(BOW_TIE_OVER_WATER, "water")]),
        WATERLOGREG_POLYGONS=write_polygons(tmp_path / "polygons.gpkg", standard_polygons()),
        WATERLOGREG_OUTPUT=str(tmp_path / "out"),
    )
    assert report["refused"] == [
        "Polygon 9 of 'bow_tie' has an invalid geometry (self-intersection at 501600, 3999400)"] * 3
    assert report["next_run"].startswith("samples_")
