"""Model files the algorithms accept with care (docs/BAD_INPUT.md's second table): a byte-order
mark, metadata edited to text, huge weights; and what a model trained from samples records of
its raster."""

import json

import numpy as np
import pytest
from osgeo import ogr
from qgis.core import QgsProcessingException
from support.bad_inputs import REFUSED, expected_message, run_checked
from support.synthetic import ORIGIN, read, water_scene, write_raster


def predict_with(run_algorithm, files, name="probability.tif"):
    result, _ = run_checked(run_algorithm, files, "predictwater",
                            dict(files.parameters("predictwater"), OUTPUT=str(files.output_folder / name)))
    return read(result["OUTPUT"])[0]


def test_model_with_a_byte_order_mark(run_algorithm, files):
    plain = predict_with(run_algorithm, files, "plain.tif")
    with open(files.model, "rb") as handle:
        data = handle.read()
    files.write_bytes(files.model, b"\xef\xbb\xbf" + data)
    np.testing.assert_array_equal(predict_with(run_algorithm, files), plain)


def test_model_metadata_edited_to_text(run_algorithm, files):
    files.spoil_model(lambda document: document["training"].update(band_count="3", data_type="uint16"))
    probability = predict_with(run_algorithm, files)
    assert ((probability >= 0) & (probability <= 1)).all()
    bands = water_scene()[0]
    write_raster(files.raster, np.concatenate([bands, bands[:1]]))
    message = "^The model was trained on a raster of 3 bands, but 'scene.tif' has 4,"
    with pytest.raises(QgsProcessingException, match=message):
        predict_with(run_algorithm, files, "four.tif")


def test_model_with_huge_weights_gives_a_valid_map(run_algorithm, files):
    _, truth = water_scene()

    def huge(document):
        document["layers"] = [{"weight": [[0.0, 0.0, -1e300]], "bias": [1e300 * 1450]}]
        document["standardization"] = {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}

    files.spoil_model(huge)
    probability = predict_with(run_algorithm, files)
    assert (probability != -9999).all() and ((probability == 0) | (probability == 1)).all()
    assert ((probability >= 0.5) == truth).mean() > 0.99


def test_a_model_from_samples_checks_rasters_like_one_from_classifywater(run_algorithm, files):
    samples = run_algorithm("samplepixels", files.parameters("samplepixels"))["OUTPUT"]
    model_path = str(files.output_folder / "from_samples.json")
    _, lines = run_checked(run_algorithm, files, "trainmodel", {"SAMPLES": samples, "OUTPUT_MODEL": model_path})
    assert not [line for line in lines if "does not say which raster" in line]
    with open(model_path, encoding="utf-8") as handle:
        training = json.load(handle)["training"]
    assert (training["band_count"], training["data_type"], training["scale_offset"]) == (3, "UInt16", None)
    bands = water_scene()[0]
    write_raster(files.raster, np.concatenate([bands, bands[:1]]))
    files.model = model_path
    with pytest.raises(QgsProcessingException) as refusal:
        predict_with(run_algorithm, files)
    other_band_count = next(row for row in REFUSED if row.key == "model_other_band_count")
    assert str(refusal.value) == expected_message(other_band_count, files, files.parameters("predictwater"))


def test_samples_without_raster_fields_train_with_a_warning(run_algorithm, files):
    """A samples layer from an older version (no src_ fields) still trains, and says what it lacks."""
    path = str(files.folder / "old_samples.gpkg")
    datasource = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = datasource.CreateLayer("old_samples", None, ogr.wkbPoint)
    for name, kind in (("b1", ogr.OFTReal), ("b2", ogr.OFTReal), ("b3", ogr.OFTReal), ("label", ogr.OFTInteger)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    rng = np.random.default_rng(0)
    for index in range(200):
        water = index % 2
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({ORIGIN[0] + index} {ORIGIN[1]})"))
        for band, (lake, land) in enumerate(((900, 1100), (600, 1400), (300, 2600)), start=1):
            feature.SetField(f"b{band}", float((lake if water else land) + rng.normal(0, 60)))
        feature.SetField("label", water)
        layer.CreateFeature(feature)
    datasource = None
    model_path = str(files.output_folder / "m.json")
    _, lines = run_checked(run_algorithm, files, "trainmodel", {"SAMPLES": path, "OUTPUT_MODEL": model_path})
    assert ("Warning: 'old_samples' does not say which raster its samples came from (no src_bands, src_type and "
            "src_scale fields); the model will not check the band count and data type of the rasters it predicts. "
            "Sample again with 'Sample training pixels' to record them.") in lines
