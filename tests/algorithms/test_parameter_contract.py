"""Each algorithm's parameter and output names and types: a contract that batch files, models,
qgis_process command lines and scripts rely on (README, "Parameter names … are a contract").

The table below is the contract, written out by hand. Adding a parameter, an output or an
algorithm is one explicit edit here; a removal, a rename, a changed type or an unlisted
addition fails, naming what differs.
"""

import pytest

FIGURE_OUTPUTS = {
    "OVERALL_ACCURACY": "outputNumber", "PRECISION": "outputNumber", "RECALL": "outputNumber",
    "F1": "outputNumber", "IOU": "outputNumber", "KAPPA": "outputNumber", "LOG_LOSS": "outputNumber",
    "BRIER": "outputNumber", "ECE": "outputNumber",
    "TRUE_WATER": "outputNumber", "FALSE_WATER": "outputNumber", "FALSE_LAND": "outputNumber",
    "TRUE_LAND": "outputNumber", "ASSESSED_PIXELS": "outputNumber", "FIGURES_FROM": "outputString",
}
WATER_PRIOR_PARAMETERS = {"WATER_PRIOR": "enum", "WATER_PRIOR_VALUE": "number"}
WATER_SHARE_OUTPUTS = {"TRAINING_WATER_SHARE": "outputNumber", "SCENE_WATER_SHARE": "outputNumber"}
TRAINING_PARAMETERS = {
    "SEED": "number", "VALIDATION_FRACTION": "number", "HIDDEN_LAYERS": "string", "OPTIMIZER": "enum",
    "LEARNING_RATE": "number", "MAX_STEPS": "number", "L2_PENALTY": "number",
}

# algorithm id: (parameters {name: QGIS type}, outputs {name: QGIS type})
CONTRACT = {
    "assessaccuracy": (
        {"INPUT": "raster", "POLYGONS": "source", "CLASS_FIELD": "field", "WATER_VALUES": "string",
         "THRESHOLD": "number", "OUTPUT_REPORT": "fileDestination"},
        {"OUTPUT_REPORT": "outputHtml", **FIGURE_OUTPUTS},
    ),
    "classifywater": (
        {"INPUT": "raster", "BANDS": "band", "POLYGONS": "source", "CLASS_FIELD": "field", "WATER_VALUES": "string",
         "MAX_PIXELS_PER_CLASS": "number", "DEVICE": "enum", "THRESHOLD": "number", **WATER_PRIOR_PARAMETERS,
         **TRAINING_PARAMETERS,
         "OUTPUT": "rasterDestination", "OUTPUT_MODEL": "fileDestination", "OUTPUT_MASK": "rasterDestination",
         "OUTPUT_REPORT": "fileDestination", "OUTPUT_POLYGON_CHECK": "sink"},
        {"OUTPUT": "outputRaster", "OUTPUT_MODEL": "outputFile", "OUTPUT_MASK": "outputRaster",
         "OUTPUT_REPORT": "outputHtml", "DEVICE_USED": "outputString", "FINAL_LOSS": "outputNumber",
         "WATER_FRACTION": "outputNumber", "CONVERGED": "outputNumber", "GRADIENT_NORM": "outputNumber",
         "OUTPUT_POLYGON_CHECK": "outputVector", **FIGURE_OUTPUTS, **WATER_SHARE_OUTPUTS},
    ),
    "predictscenes": (
        {"MODEL": "file", "SCENES": "multilayer", "FOLDER": "file", "PATTERN": "string", "DEVICE": "enum",
         **WATER_PRIOR_PARAMETERS, "SCHEDULER": "string", "OUTPUT_FOLDER": "folderDestination",
         "OUTPUT_SUMMARY": "sink",
         "OUTPUT_OCCURRENCE": "rasterDestination"},
        {"OUTPUT_FOLDER": "outputFolder", "OUTPUT_SUMMARY": "outputVector", "OUTPUT_OCCURRENCE": "outputRaster",
         "SCENES_OK": "outputNumber", "SCENES_FAILED": "outputNumber"},
    ),
    "predictwater": (
        {"INPUT": "raster", "MODEL": "file", "DEVICE": "enum", "THRESHOLD": "number", **WATER_PRIOR_PARAMETERS,
         "OUTPUT": "rasterDestination", "OUTPUT_MASK": "rasterDestination"},
        {"OUTPUT": "outputRaster", "OUTPUT_MASK": "outputRaster", "DEVICE_USED": "outputString",
         "WATER_FRACTION": "outputNumber", "VALID_PIXELS": "outputNumber", **WATER_SHARE_OUTPUTS},
    ),
    "samplepixels": (
        {"INPUT": "raster", "BANDS": "band", "POLYGONS": "source", "CLASS_FIELD": "field", "WATER_VALUES": "string",
         "MAX_PIXELS_PER_CLASS": "number", "SEED": "number", "OUTPUT": "sink"},
        {"OUTPUT": "outputVector"},
    ),
    "trainmodel": (
        {"SAMPLES": "source", "DEVICE": "enum", **TRAINING_PARAMETERS, "OUTPUT_MODEL": "fileDestination",
         "OUTPUT_REPORT": "fileDestination"},
        {"OUTPUT_MODEL": "outputFile", "OUTPUT_REPORT": "outputHtml", "DEVICE_USED": "outputString",
         "FINAL_LOSS": "outputNumber", "MODEL_LOCATION": "outputHtml", "CONVERGED": "outputNumber",
         "GRADIENT_NORM": "outputNumber", **FIGURE_OUTPUTS},
    ),
    "waterindex": (
        {"INPUT": "raster", "GREEN_BAND": "band", "NIR_BAND": "band", "SWIR_BAND": "band", "THRESHOLD": "number",
         "OUTPUT": "rasterDestination", "OUTPUT_MASK": "rasterDestination"},
        {"OUTPUT": "outputRaster", "OUTPUT_MASK": "outputRaster", "THRESHOLD": "outputNumber",
         "INDEX": "outputString", "WATER_FRACTION": "outputNumber", "VALID_PIXELS": "outputNumber"},
    ),
    "wateroccurrence": (
        {"INPUT": "multilayer", "THRESHOLD": "number", "OUTPUT": "rasterDestination",
         "OUTPUT_COUNT": "rasterDestination"},
        {"OUTPUT": "outputRaster", "OUTPUT_COUNT": "outputRaster", "DATES": "outputNumber",
         "REGRIDDED_DATES": "outputNumber", "OBSERVED_PIXELS": "outputNumber", "WATER_EVER_PIXELS": "outputNumber",
         "PERMANENT_WATER_PIXELS": "outputNumber"},
    ),
    "waterchange": (
        {"BEFORE": "raster", "AFTER": "raster", "THRESHOLD": "number", "MAP_UNITS": "enum",
         "OUTPUT": "rasterDestination"},
        {"OUTPUT": "outputRaster", "STAYS_DRY_HA": "outputNumber", "STAYS_WATER_HA": "outputNumber",
         "NEW_WATER_HA": "outputNumber", "LOST_WATER_HA": "outputNumber", "NO_DATA_HA": "outputNumber",
         "AREA_METHOD": "outputString"},
    ),
    "waterbodies": (
        {"INPUT": "raster", "THRESHOLD": "number", "MIN_AREA": "number", "FILL_HOLES_SMALLER_THAN": "number",
         "MAP_UNITS": "enum", "OUTPUT": "vectorDestination"},
        {"OUTPUT": "outputVector", "BODIES": "outputNumber", "WATER_AREA_HA": "outputNumber",
         "AREA_METHOD": "outputString"},
    ),
}


def differences(expected, found):
    """Readable lines for what the provider declares against the table."""
    lines = [f"missing or renamed: {name} ({kind})" for name, kind in expected.items() if name not in found]
    lines += [f"not in the table (add it to CONTRACT if intended): {name} ({kind})"
              for name, kind in found.items() if name not in expected]
    lines += [f"type of {name} changed: {expected[name]} → {found[name]}"
              for name in expected.keys() & found.keys() if expected[name] != found[name]]
    return sorted(lines)


def test_the_provider_has_exactly_the_algorithms_of_the_contract(provider):
    assert sorted(algorithm.name() for algorithm in provider.algorithms()) == sorted(CONTRACT)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_parameter_names_and_types(provider, name):
    algorithm = provider.algorithm(name)
    assert algorithm is not None, f"waterlogreg:{name} is gone"
    found = {definition.name(): definition.type() for definition in algorithm.parameterDefinitions()}
    assert differences(CONTRACT[name][0], found) == []


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_output_names_and_types(provider, name):
    algorithm = provider.algorithm(name)
    assert algorithm is not None, f"waterlogreg:{name} is gone"
    found = {definition.name(): definition.type() for definition in algorithm.outputDefinitions()}
    assert differences(CONTRACT[name][1], found) == []


def test_the_figure_outputs_are_the_metrics_table():
    """FIGURE_TABLE names the outputs the algorithms declare; the contract pins those names."""
    from water_logreg_plugin.core.learning.metrics import FIGURE_TABLE

    assert {figure.output for figure in FIGURE_TABLE} | {"FIGURES_FROM"} == set(FIGURE_OUTPUTS)
