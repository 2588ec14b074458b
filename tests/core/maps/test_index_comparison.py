"""Default bands from the file's band roles, and the report's model against NDWI, on a scene
whose truth is known (water right, land left; NDWI 0.5 on water, about -0.4 on land)."""

import numpy as np
import pytest
from osgeo import gdal, ogr
from support.report_html import read_report
from support.synthetic import standard_polygons, water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels
from water_logreg_plugin.core.maps.index_comparison import BOTH_LAND, BOTH_WATER, NODATA
from water_logreg_plugin.core.raster.windows import row_windows
from water_logreg_plugin.core.workflow import classify_water


def named_scene(tmp_path, descriptions, rows=200):
    """The synthetic green, red, NIR scene with these band descriptions, and its truth."""
    bands, truth = water_scene(rows=rows)
    bands[:, :5, :7] = 0  # a nodata corner
    path = write_raster(tmp_path / "scene.tif", bands)
    dataset = gdal.Open(path, gdal.GA_Update)
    for number, description in enumerate(descriptions, start=1):
        dataset.GetRasterBand(number).SetDescription(description)
    dataset = None
    return path, truth


def polygons():
    return [TrainingPolygon(number, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), value == "water")
            for number, (wkt, value) in enumerate(standard_polygons())]


def test_empty_bands_take_green_red_nir_from_the_file_and_say_why(tmp_path):
    path, _ = named_scene(tmp_path, ["NIR", "green", "red"])
    lines = []
    samples = sample_pixels(path, [], polygons(), callbacks=Callbacks(log=lines.append))
    assert samples.bands == [2, 3, 1]
    assert lines[0] == ("Using green, red and NIR as the file names them: green = band 2 (band description), "
                        "red = band 3 (band description), NIR = band 1 (band description).")


def test_the_bands_given_win_over_the_band_roles(tmp_path):
    path, _ = named_scene(tmp_path, ["green", "red", "NIR"])
    lines = []
    samples = sample_pixels(path, [1, 3], polygons(), callbacks=Callbacks(log=lines.append))
    assert samples.bands == [1, 3]
    assert not any(line.startswith("Using ") for line in lines)


def test_without_nir_every_band_is_used(tmp_path):
    path, _ = named_scene(tmp_path, ["green", "red", ""])
    lines = []
    assert sample_pixels(path, None, polygons(), callbacks=Callbacks(log=lines.append)).bands == [1, 2, 3]
    assert lines[0].startswith("Using all 3 bands: the file does not say which band is NIR")


def test_the_report_sets_ndwi_beside_the_model(tmp_path):
    path, truth = named_scene(tmp_path, ["green", "red", "NIR"])
    lines = []
    report = tmp_path / "report.html"
    result = classify_water(path, [], polygons(), str(tmp_path / "probability.tif"),
                            callbacks=Callbacks(log=lines.append), report_path=str(report))
    text = report.read_text(encoding="utf-8")
    assert 'id="model-vs-index"' in text and 'id="plot-model-vs-index"' in text
    # NDWI is 0.5 on the water and about -0.4 on the land: Otsu's threshold lies between.
    threshold = float(read_report(report).settings["index_threshold"])
    assert -0.35 < threshold < 0.45
    held_out = int(result.training.validation_mask.sum())
    for attribute in ("data-index-figure", "data-model-figure"):
        assert f'{attribute}="overall_accuracy" data-value="1.0"' in text
        assert f'{attribute}="pixels" data-value="{held_out}"' in text
    counts = read_report(report).counts
    valid = np.ones_like(truth)
    valid[:5, :7] = False
    assert counts["scene_both_water"] == np.count_nonzero(truth & valid)
    assert counts["scene_both_land"] == np.count_nonzero(~truth & valid)
    assert counts["scene_model_only"] == counts["scene_index_only"] == 0
    assert any(line.startswith("NDWI ≥ ") and "on the held-out polygons: accuracy 1.0000" in line for line in lines)


def test_no_comparison_where_the_file_names_no_nir(tmp_path):
    path, _ = named_scene(tmp_path, ["", "", ""])
    report = tmp_path / "report.html"
    classify_water(path, [], polygons(), str(tmp_path / "probability.tif"), report_path=str(report))
    assert 'id="model-vs-index"' not in report.read_text(encoding="utf-8")


def test_the_small_map_keeps_the_classes_and_the_nodata(tmp_path):
    from water_logreg_plugin.core.maps.index_comparison import compare_with_index

    path, truth = named_scene(tmp_path, ["green", "red", "NIR"])
    result = classify_water(path, [], polygons(), str(tmp_path / "probability.tif"))
    comparison = compare_with_index(path, str(tmp_path / "probability.tif"), result.samples, result.training)
    assert comparison.step == 1  # 240 × 200 fits the map as it is
    expected = np.where(truth, BOTH_WATER, BOTH_LAND)
    expected[:5, :7] = NODATA
    np.testing.assert_array_equal(comparison.agreement_map, expected)
    assert comparison.index_figures["overall_accuracy"] == pytest.approx(1.0)


def test_the_small_map_takes_every_kth_row_and_column_across_windows(tmp_path, monkeypatch):
    import water_logreg_plugin.core.maps.index_comparison as index_comparison

    monkeypatch.setattr(index_comparison, "MAP_SIZE", 200)
    # Windows of 256 rows: the map's rows must stay every third row of the scene across them.
    monkeypatch.setattr(index_comparison, "row_windows", lambda dataset: row_windows(dataset, target_pixels=1))
    path, truth = named_scene(tmp_path, ["green", "red", "NIR"], rows=600)
    result = classify_water(path, [], polygons(), str(tmp_path / "probability.tif"))
    comparison = index_comparison.compare_with_index(
        path, str(tmp_path / "probability.tif"), result.samples, result.training)
    assert comparison.step == 3
    expected = np.where(truth, BOTH_WATER, BOTH_LAND)
    expected[:5, :7] = NODATA
    np.testing.assert_array_equal(comparison.agreement_map, expected[::3, ::3])

