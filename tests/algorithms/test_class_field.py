"""CLASS_FIELD never silently takes a feature id: GeoPackage's fid with WATER_VALUES 'water,1'
would make polygon 1 the only water polygon and the model quietly wrong."""

import pytest
from osgeo import ogr
from qgis.core import QgsProcessingException
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture
def scene(tmp_path):
    return (write_raster(tmp_path / "scene.tif", water_scene()[0]),
            write_polygons(tmp_path / "polygons.gpkg", standard_polygons()))


@pytest.mark.parametrize("algorithm", ["classifywater", "samplepixels", "assessaccuracy"])
def test_the_feature_id_is_refused_as_class_field(run_algorithm, scene, tmp_path, algorithm):
    raster, polygons = scene
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(algorithm, {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "fid",
                                  "OUTPUT": str(tmp_path / "out.tif" if algorithm != "samplepixels" else
                                                tmp_path / "out.gpkg")})
    assert str(refusal.value) == (
        "The class field 'fid' of 'polygons' holds a different number for each of its 8 polygons, as a "
        "feature id does, so it cannot say which polygons are water. Pick the class field: the field whose "
        "values say water or land (e.g. 'class' holding 'water' and 'land'), and list its water values in "
        "WATER_VALUES.")
    assert not list(tmp_path.glob("out.*"))


def test_a_numbered_id_field_is_refused(run_algorithm, tmp_path):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    numbered = write_polygons(tmp_path / "numbered.gpkg",
                              [(wkt, index) for index, (wkt, _) in enumerate(standard_polygons(), start=1)],
                              field="id", field_type=ogr.OFTInteger)
    with pytest.raises(QgsProcessingException, match="The class field 'id' of 'numbered' holds a different number"):
        run_algorithm("classifywater", {"INPUT": raster, "POLYGONS": numbered, "CLASS_FIELD": "id",
                                        "OUTPUT": "TEMPORARY_OUTPUT"})


def test_numeric_class_codes_shared_by_polygons_are_a_class_field(run_algorithm, tmp_path):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    coded = write_polygons(tmp_path / "coded.gpkg",
                           [(wkt, 1 if value == "water" else 2) for wkt, value in standard_polygons()],
                           field="code", field_type=ogr.OFTInteger)
    result = run_algorithm("classifywater", {"INPUT": raster, "POLYGONS": coded, "CLASS_FIELD": "code",
                                             "WATER_VALUES": "1", "OUTPUT": "TEMPORARY_OUTPUT"})
    assert result["OVERALL_ACCURACY"] > 0.99


def test_an_omitted_class_field_is_refused_not_guessed(run_algorithm, scene):
    raster, polygons = scene
    with pytest.raises(QgsProcessingException, match="Incorrect parameter value for CLASS_FIELD"):
        run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": polygons, "OUTPUT": "TEMPORARY_OUTPUT"})
