"""Outputs loaded into the project get the water ramp and the mask palette."""

from qgis.core import QgsProject
from synthetic import standard_polygons, water_scene, write_polygons, write_raster


def test_loaded_outputs_are_styled(provider, qgis_new_project, tmp_path):
    import processing

    raster = write_raster(tmp_path / "scene.tif", water_scene()[0])
    processing.runAndLoadResults("waterlogreg:classifywater", {
        "INPUT": raster, "POLYGONS": write_polygons(tmp_path / "p.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "water.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
    })
    layers = {layer.source(): layer for layer in QgsProject.instance().mapLayers().values()}
    probability = layers[str(tmp_path / "water.tif")]
    renderer = probability.renderer()
    assert renderer.type() == "singlebandpseudocolor"
    ramp = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert (ramp[0].value, ramp[0].label) == (0.0, "0 land")
    assert (ramp[-1].value, ramp[-1].label) == (1.0, "1 water")
    mask = layers[str(tmp_path / "mask.tif")].renderer()
    assert mask.type() == "paletted"
    assert {(c.value, c.label) for c in mask.classes()} == {(0, "land"), (1, "water")}
