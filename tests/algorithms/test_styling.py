"""Outputs loaded into the project get the water ramp and the mask palette and are named after
their scene, on every run of a session: a rerun, the next scene, a model run."""

import pytest
from qgis.core import QgsProject
from support.processing_models import predict_model
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster


def loaded_by(run):
    """{name: layer} of the layers `run()` adds to the project."""
    before = set(QgsProject.instance().mapLayers())
    run()
    return {layer.name(): layer for layer_id, layer in QgsProject.instance().mapLayers().items()
            if layer_id not in before}


def assert_probability_style(layer):
    renderer = layer.renderer()
    assert renderer.type() == "singlebandpseudocolor"
    ramp = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert (ramp[0].value, ramp[0].label) == (0.0, "0 land")
    assert (ramp[-1].value, ramp[-1].label) == (1.0, "1 water")


def assert_mask_style(layer):
    renderer = layer.renderer()
    assert renderer.type() == "paletted"
    assert {(c.value, c.label) for c in renderer.classes()} == {(0, "land"), (1, "water")}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """Three scenes, the training polygons and a model trained on the first."""
    import processing

    folder = tmp_path_factory.mktemp("scenes")
    paths = [write_raster(folder / f"{name}.tif", water_scene(seed=seed)[0])
             for seed, name in enumerate(("north_shore", "south_shore", "east_bay"))]
    polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
    model = processing.run("waterlogreg:classifywater", {
        "INPUT": paths[0], "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT",
        "OUTPUT_MODEL": str(folder / "model.json"),
    })["OUTPUT_MODEL"]
    return paths, polygons, model


def test_classifywater_loads_styled_named_layers_on_every_run(provider, qgis_new_project, scenes, tmp_path):
    import processing

    paths, polygons, _ = scenes
    for run in range(3):
        loaded = loaded_by(lambda run=run: processing.runAndLoadResults("waterlogreg:classifywater", {
            "INPUT": paths[0], "POLYGONS": polygons, "CLASS_FIELD": "class",
            "OUTPUT": str(tmp_path / f"water_{run}.tif"), "OUTPUT_MASK": "TEMPORARY_OUTPUT",
        }))
        assert sorted(loaded) == ["north_shore — P(water)", "north_shore — water mask"], run
        assert loaded["north_shore — P(water)"].source() == str(tmp_path / f"water_{run}.tif")
        assert_probability_style(loaded["north_shore — P(water)"])
        assert_mask_style(loaded["north_shore — water mask"])


def test_predictwater_loads_styled_named_layers_on_every_run(provider, qgis_new_project, scenes):
    import processing

    paths, _, model = scenes
    for path in paths:
        loaded = loaded_by(lambda path=path: processing.runAndLoadResults("waterlogreg:predictwater", {
            "INPUT": path, "MODEL": model, "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_MASK": "TEMPORARY_OUTPUT",
        }))
        scene = path.rsplit("/", 1)[1][:-4]
        assert sorted(loaded) == [f"{scene} — P(water)", f"{scene} — water mask"]
        assert_probability_style(loaded[f"{scene} — P(water)"])
        assert_mask_style(loaded[f"{scene} — water mask"])


def test_waterindex_loads_styled_named_layers_on_every_run(provider, qgis_new_project, scenes):
    import processing

    paths, _, _ = scenes
    for _ in range(3):
        loaded = loaded_by(lambda: processing.runAndLoadResults("waterlogreg:waterindex", {
            "INPUT": paths[1], "GREEN_BAND": 1, "NIR_BAND": 3, "OUTPUT": "TEMPORARY_OUTPUT",
            "OUTPUT_MASK": "TEMPORARY_OUTPUT",
        }))
        assert sorted(loaded) == ["south_shore — NDWI", "south_shore — water mask"]
        assert loaded["south_shore — NDWI"].renderer().type() == "singlebandpseudocolor"
        assert_mask_style(loaded["south_shore — water mask"])


def test_a_model_with_predictwater_loads_styled_layers_on_every_run(provider, qgis_new_project, scenes):
    import processing

    paths, _, model_file = scenes
    model = predict_model()
    assert [parameter.name() for parameter in model.destinationParameterDefinitions()] == ["predict:water"]
    for path in paths[1:]:
        loaded = loaded_by(lambda path=path: processing.runAndLoadResults(model, {
            "scene": path, "model": model_file, "predict:water": "TEMPORARY_OUTPUT",
        }))
        scene = path.rsplit("/", 1)[1][:-4]
        assert list(loaded) == [f"{scene} — P(water)"]
        assert_probability_style(loaded[f"{scene} — P(water)"])

