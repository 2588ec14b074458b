"""predictwater in Processing's batch dialog: one model, three rasters, three outputs.

The test drives QGIS's own BatchAlgorithmDialog the way a user fills it in: scenes added one a
row, the model set in the first row and filled down, an output per row, then Run.
"""

import numpy as np
from support.synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


def column_filler(panel, parameter_name):
    """The widget in the batch table's header row that fills a column (Fill Down, Add Files…)."""
    return panel.tblParameters.cellWidget(0, panel.parameter_to_column[parameter_name])


def test_predictwater_in_the_batch_dialog(provider, run_algorithm, tmp_path):
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects
    from qgis.core import QgsApplication

    bands, _ = water_scene()
    model = run_algorithm("classifywater", {
        "INPUT": write_raster(tmp_path / "training.tif", bands),
        "POLYGONS": write_polygons(tmp_path / "polygons.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "OUTPUT": str(tmp_path / "training_water.tif"),
        "OUTPUT_MODEL": str(tmp_path / "model.json"),
    })["OUTPUT_MODEL"]
    scenes, truths = [], []
    for seed, (rows, cols) in enumerate(((50, 60), (70, 40), (30, 90)), start=1):
        scene_bands, truth = water_scene(rows, cols, seed=seed)
        scenes.append(write_raster(tmp_path / f"scene_{seed}.tif", scene_bands))
        truths.append(truth)
    outputs = [str(tmp_path / f"scene_{seed}_water.tif") for seed in (1, 2, 3)]

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:predictwater")
    dialog = BatchAlgorithmDialog(algorithm)
    panel = dialog.mainWidget()
    panel.checkLoadLayersOnCompletion.setChecked(False)
    context = dataobjects.createContext()
    for row, (scene, output) in enumerate(zip(scenes, outputs)):
        column_filler(panel, "INPUT").setRowValue(row, scene, context)
        column_filler(panel, "OUTPUT").setRowValue(row, output, context)
    panel.wrappers[0][panel.parameter_to_column["MODEL"]].setParameterValue(model, context)
    column_filler(panel, "MODEL").fillDown()
    rows = [panel.parametersForRow(row, warnOnInvalid=True) for row in range(panel.batchRowCount())]
    assert [ok for _, ok in rows] == [True] * 3
    assert [parameters["MODEL"] for parameters, _ in rows] == [model] * 3

    dialog.runAlgorithm()

    for output, scene, truth in zip(outputs, scenes, truths):
        probability, dataset = read(output)
        assert (dataset.RasterYSize, dataset.RasterXSize) == truth.shape
        assert dataset.GetGeoTransform() == read(scene)[1].GetGeoTransform()
        assert ((probability >= 0.5) == truth).mean() > 0.99
        assert np.all((probability >= 0) & (probability <= 1))
    assert sorted(path.name for path in tmp_path.glob("*_water.tif")) == [
        "scene_1_water.tif", "scene_2_water.tif", "scene_3_water.tif", "training_water.tif"]


def test_batch_rows_load_styled_layers_named_after_their_scene(provider, run_algorithm, qgis_new_project, tmp_path):
    """'Load layers on completion' with temporary outputs: every row's layer loads, styled and
    named after its scene (each row runs in a context of its own, deleted after the row)."""
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects
    from qgis.core import QgsApplication, QgsProject

    model = run_algorithm("classifywater", {
        "INPUT": write_raster(tmp_path / "training.tif", water_scene()[0]),
        "POLYGONS": write_polygons(tmp_path / "polygons.gpkg", standard_polygons()),
        "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_MODEL": str(tmp_path / "model.json"),
    })["OUTPUT_MODEL"]
    names = ("north_shore", "south_shore", "east_bay")
    scenes = [write_raster(tmp_path / f"{name}.tif", water_scene(50, 60, seed=seed)[0])
              for seed, name in enumerate(names, start=1)]

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("waterlogreg:predictwater")
    dialog = BatchAlgorithmDialog(algorithm)
    panel = dialog.mainWidget()
    panel.checkLoadLayersOnCompletion.setChecked(True)
    context = dataobjects.createContext()
    for row, scene in enumerate(scenes):
        column_filler(panel, "INPUT").setRowValue(row, scene, context)
        column_filler(panel, "OUTPUT").setRowValue(row, "TEMPORARY_OUTPUT", context)
    panel.wrappers[0][panel.parameter_to_column["MODEL"]].setParameterValue(model, context)
    column_filler(panel, "MODEL").fillDown()

    dialog.runAlgorithm()

    loaded = {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}
    assert sorted(loaded) == sorted(f"{name} — P(water)" for name in names)
    assert {layer.renderer().type() for layer in loaded.values()} == {"singlebandpseudocolor"}
    assert all(layer.isValid() for layer in loaded.values())
