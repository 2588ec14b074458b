"""Real QGIS on a virtual screen, plugin from the ZIP, torch installed: one session in which a
user reruns tools, runs the batch dialog and a model, all loading their results. Every result
loads styled and named after its scene, every time (not only the first run of the session)."""

import os

import pytest
from desktop_programs import TORCH_SITE_PACKAGES, install_from_zip, run_in_qgis
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

SCENES = ("north_shore", "south_shore", "east_bay")
PROBABILITY, MASK = "singlebandpseudocolor", "paletted"


@pytest.mark.slow
def test_every_run_of_a_session_loads_styled_named_layers(plugin_zip, run_algorithm, tmp_path):
    install_from_zip(plugin_zip, str(tmp_path / "profiles" / "test"))
    scenes = [write_raster(tmp_path / f"{name}.tif", water_scene(seed=seed)[0]) for seed, name in enumerate(SCENES)]
    polygons = write_polygons(tmp_path / "training_polygons.gpkg", standard_polygons())
    model = run_algorithm("classifywater", {"INPUT": scenes[0], "POLYGONS": polygons, "CLASS_FIELD": "class",
                                            "OUTPUT_MODEL": str(tmp_path / "model.json")})["OUTPUT_MODEL"]
    report = run_in_qgis("qgis_reruns.py", tmp_path, tmp_path / "report.json", TORCH_SITE_PACKAGES, timeout=300,
                         WATERLOGREG_SCENES=os.pathsep.join(scenes), WATERLOGREG_POLYGONS=polygons,
                         WATERLOGREG_MODEL=model)
    assert "Training needs PyTorch, which QGIS's Python does not have." not in report["message_bar"]
    assert "Water mapping" not in report["plugin_menus"]
    # [layer name, renderer type] of the layers each run added
    assert report["classify"] == [[["north_shore — P(water)", PROBABILITY],
                                   ["north_shore — water mask", MASK]]] * 3
    assert report["predict"] == [[[f"{name} — P(water)", PROBABILITY]] for name in SCENES]
    assert report["batch"] == sorted([f"{name} — P(water)", PROBABILITY] for name in SCENES)
    assert report["model"] == [[[f"{name} — P(water)", PROBABILITY]] for name in SCENES[1:]]
    assert report["dialog_fields"] == ["fid", "class"]
    assert report["dialog_class_field"] == "class"
    # processing.run takes the project's layer of that file, named as the session loaded it
    assert report["fid_error"].startswith("The class field 'fid' of 'training polygons' holds a different number")
