"""Polygon layers the algorithms accept with care (docs/BAD_INPUT.md's second table): a polygon
without class, classes that are dates, curved polygons, a layer without CRS, polygons smaller
than a pixel."""

import os

import pytest
from osgeo import ogr
from support.bad_inputs import accepted, logged, run_checked, sample_counts
from support.synthetic import ORIGIN, pixel_box, standard_polygons


def polygons_with(files, extra, **options):
    files.spoil_polygons(standard_polygons() + extra, **options)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_a_polygon_without_class_is_skipped_with_a_warning(run_algorithm, files, algorithm):
    polygons_with(files, [(pixel_box(150, 50, 230, 90), None)])  # over water, feature id 9
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0)
    result, lines = run_checked(run_algorithm, files, algorithm, parameters)
    assert logged(accepted("null_class")) in lines
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_date_classes_compare_as_iso_text(run_algorithm, files, algorithm):
    files.spoil_polygons([(wkt, "2021-06-30" if value == "water" else "2021-01-15")
                          for wkt, value in standard_polygons()], field_type=ogr.OFTDate)
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0, WATER_VALUES="2021-06-30")
    result, _ = run_checked(run_algorithm, files, algorithm, parameters)
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


def curved(wkt, multi):
    """The same box as a CurvePolygon (or a MultiSurface) of a compound curve."""
    ring = wkt[len("POLYGON (("):-2]
    polygon = f"CURVEPOLYGON (COMPOUNDCURVE (({ring})))"
    return f"MULTISURFACE ({polygon})" if multi else polygon


@pytest.mark.parametrize("multi", [False, True], ids=["curvepolygon", "multisurface"])
@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_curved_polygons_sample_like_polygons(run_algorithm, files, algorithm, multi):
    files.spoil_polygons([(curved(wkt, multi), value) for wkt, value in standard_polygons()],
                         geometry_type=ogr.wkbMultiSurface if multi else ogr.wkbCurvePolygon)
    result, _ = run_checked(run_algorithm, files, algorithm, dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0))
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_a_layer_without_crs_is_taken_in_the_rasters(run_algorithm, files, algorithm):
    os.remove(files.polygons)
    datasource = ogr.GetDriverByName("GPKG").CreateDataSource(files.polygons)
    layer = datasource.CreateLayer("polygons", None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for wkt, value in standard_polygons():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        feature.SetField("class", value)
        layer.CreateFeature(feature)
    datasource = None
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0)
    result, lines = run_checked(run_algorithm, files, algorithm, parameters)
    assert logged(accepted("no_crs")) in lines
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


def test_many_tiny_polygons_give_one_line(run_algorithm, files):
    x, y = ORIGIN[0] + 1000.1, ORIGIN[1] - 1000.1  # a corner of a pixel, away from its centre
    tiny = [(f"POLYGON (({x} {y}, {x + 1} {y}, {x + 1} {y - 1}, {x} {y - 1}, {x} {y}))", "land")] * 300
    polygons_with(files, tiny)
    _, lines = run_checked(run_algorithm, files, "samplepixels", files.parameters("samplepixels"))
    assert logged(accepted("tiny_polygons")) in lines
    assert not [line for line in lines if line.startswith("Polygon ")]
