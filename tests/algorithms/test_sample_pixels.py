"""waterlogreg:samplepixels through processing.run."""

from qgis.core import QgsCoordinateReferenceSystem, QgsVectorLayer, QgsWkbTypes
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster


def sample(run_algorithm, raster, polygons, tmp_path, **extra):
    parameters = {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
                  "OUTPUT": str(tmp_path / "samples.gpkg"), **extra}
    return QgsVectorLayer(run_algorithm("samplepixels", parameters)["OUTPUT"], "samples")


def rows(layer):
    return sorted((f["b1"], f["b3"], f["label"], round(f.geometry().asPoint().x(), 6),
                   round(f.geometry().asPoint().y(), 6)) for f in layer.getFeatures())


def test_point_layer_of_pixel_centres(run_algorithm, tmp_path):
    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    layer = sample(run_algorithm, raster, write_polygons(tmp_path / "p.gpkg", standard_polygons()), tmp_path,
                   BANDS=[1, 3], MAX_PIXELS_PER_CLASS=500, SEED=2)
    assert layer.isValid()
    # After the GeoPackage fid; src_ say what the raster was, for the model's checks.
    assert layer.fields().names()[1:] == ["b1", "b3", "label", "polygon_id", "src_bands", "src_type", "src_scale"]
    assert QgsWkbTypes.geometryType(layer.wkbType()) == QgsWkbTypes.PointGeometry
    assert layer.crs() == QgsCoordinateReferenceSystem("EPSG:32633")
    features = list(layer.getFeatures())
    assert sum(f["label"] == 1 for f in features) == 500
    assert sum(f["label"] == 0 for f in features) == 500
    for feature in features[:50]:
        point = feature.geometry().asPoint()
        col, row = int((point.x() - 500000) / 10), int((4000000 - point.y()) / 10)
        assert feature["b1"] == bands[0, row, col] and feature["b3"] == bands[2, row, col]
        assert feature["label"] == int(truth[row, col])
        assert (feature["src_bands"], feature["src_type"], feature["src_scale"]) == (3, "UInt16", "")


def test_polygons_in_another_crs_give_the_same_pixels(run_algorithm, tmp_path):
    bands, _ = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    # The boxes follow pixel edges, half a pixel from every centre, so storing them in
    # lon/lat or Web Mercator and reprojecting back keeps every centre on the same side.
    native = write_polygons(tmp_path / "utm.gpkg", standard_polygons())
    geographic = write_polygons(tmp_path / "wgs84.gpkg", standard_polygons(), epsg=4326)
    mercator = write_polygons(tmp_path / "mercator.gpkg", standard_polygons(), epsg=3857)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    expected = rows(sample(run_algorithm, raster, native, tmp_path / "a", MAX_PIXELS_PER_CLASS=0))
    assert len(expected) == 8 * 20 * 30
    assert rows(sample(run_algorithm, raster, geographic, tmp_path / "b", MAX_PIXELS_PER_CLASS=0)) == expected
    assert rows(sample(run_algorithm, raster, mercator, tmp_path / "c", MAX_PIXELS_PER_CLASS=0)) == expected
