"""CLASS_FIELD never silently takes a feature id: GeoPackage's fid with WATER_VALUES 'water,1'
would make polygon 1 the only water polygon and the model quietly wrong. Left empty, it is the
layer's class-like field, chosen by the algorithm (no dialog widget of the plugin's own)."""

import pytest
from osgeo import ogr
from qgis.core import QgsProcessingException
from support.recording_feedback import RecordingFeedback
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


def _labels(path):
    dataset = ogr.Open(str(path))
    return sorted(feature.GetField("label") for feature in dataset.GetLayer())


def test_an_omitted_class_field_is_class_on_every_qgis_and_never_a_guess(run_algorithm, scene, tmp_path):
    """Scripts and qgis_process take the field 'class' when CLASS_FIELD is left out, as its help
    says, on 3.22 as on 3.40+; a layer without that field is refused, not searched for another."""
    raster, polygons = scene
    for name, class_field in (("omitted", {}), ("named", {"CLASS_FIELD": "class"})):
        run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": polygons, "OUTPUT": str(tmp_path / f"{name}.gpkg"),
                                       **class_field})
    assert _labels(tmp_path / "omitted.gpkg") == _labels(tmp_path / "named.gpkg")
    assert set(_labels(tmp_path / "named.gpkg")) == {0, 1}

    typed = write_polygons(tmp_path / "typed.gpkg", standard_polygons(), field="type")
    with pytest.raises(QgsProcessingException, match=r"^The class field 'class' is not a field of 'typed'; "
                                                     r"its fields are: fid, type\."):
        run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": typed,
                                       "OUTPUT": str(tmp_path / "typed_samples.gpkg")})


def test_an_empty_class_field_is_the_layers_class_like_field_said_in_the_log(run_algorithm, scene, tmp_path):
    """What the dialog sends when the layer has no field 'class' (QGIS's own field widget, on every
    QGIS, QGIS 4 included, then shows none): the layer's field named like class / label / type, else
    its first text field, never the fid; the log says which."""
    raster, polygons = scene
    run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
                                   "OUTPUT": str(tmp_path / "named.gpkg")})
    typed = write_polygons(tmp_path / "typed.gpkg", standard_polygons(), field="landcover_type")
    feedback = RecordingFeedback()
    run_algorithm("samplepixels", {"INPUT": raster, "POLYGONS": typed, "CLASS_FIELD": "",
                                   "OUTPUT": str(tmp_path / "typed_samples.gpkg")}, feedback=feedback)
    assert _labels(tmp_path / "typed_samples.gpkg") == _labels(tmp_path / "named.gpkg")
    assert ("Class field: 'landcover_type' of 'typed' (CLASS_FIELD left empty); choose CLASS_FIELD to use another."
            in feedback.lines)


def test_an_empty_class_field_on_a_layer_without_one_is_refused(run_algorithm, tmp_path):
    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    numbered = write_polygons(tmp_path / "numbered.gpkg",
                              [(wkt, index) for index, (wkt, _) in enumerate(standard_polygons(), start=1)],
                              field="area", field_type=ogr.OFTInteger)
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm("classifywater", {"INPUT": raster, "POLYGONS": numbered, "CLASS_FIELD": "",
                                        "OUTPUT": str(tmp_path / "out.tif")})
    assert str(refusal.value) == (
        "CLASS_FIELD is empty and 'numbered' has no field named like class, label or type, nor a text field; "
        "its fields are: fid, area. Choose the field that says water or land.")
    assert not list(tmp_path.glob("out.*"))
