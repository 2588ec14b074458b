"""Output names up to the disk's limit work in every kind of output; longer ones are refused as
too long, before any work."""

import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster

NAME_MAX = 255
GEOPACKAGE_NAME_MAX = NAME_MAX - len("-journal")

# Rows for docs/BAD_INPUT.md's "Refused" table (write_bad_input_table.py collects them).
REFUSED_ROWS = [
    ("An output name of 256 bytes (one more than the disk allows)",
     ("trainmodel", "classifywater", "predictwater", "assessaccuracy", "waterindex", "waterchange",
      "wateroccurrence"),
     "The output name '<file name>' is too long: 256 bytes, and file names on this disk can be at most 255 "
     "bytes. Choose a shorter name."),
    ("A GeoPackage output name of 248 bytes (SQLite's journal would need 256)",
     ("samplepixels", "waterbodies"),
     "The output name '<file name>' is too long: 248 bytes, and the name of a GeoPackage or SQLite file on "
     "this disk can be at most 247 bytes (SQLite writes a file of that name with '-journal' added). Choose a "
     "shorter name."),
]


def long_name(size, extension):
    return "a" * (size - len(extension)) + extension


@pytest.fixture
def inputs(tmp_path):
    bands, truth = water_scene()
    return {
        "scene": write_raster(tmp_path / "scene.tif", bands),
        "probability": write_raster(tmp_path / "probability.tif", np.where(truth, 0.9, 0.1)[None], nodata=-9999,
                                    data_type=gdal.GDT_Float32),
        "polygons": write_polygons(tmp_path / "polygons.gpkg", standard_polygons()),
        "out": tmp_path / "out",
    }


def runs(inputs, longer):
    """(algorithm, parameters, output parameter, refusal row) of a feature output, a vector output
    written by OGR and a raster, with the longest legal name or one byte more."""
    out, extra = inputs["out"], 1 if longer else 0
    geopackage = long_name(GEOPACKAGE_NAME_MAX + extra, ".gpkg")
    return [
        ("samplepixels", {"INPUT": inputs["scene"], "POLYGONS": inputs["polygons"], "CLASS_FIELD": "class",
                          "OUTPUT": str(out / geopackage)}, "OUTPUT", 1),
        ("waterbodies", {"INPUT": inputs["probability"], "OUTPUT": str(out / geopackage)}, "OUTPUT", 1),
        ("predictwater", {"INPUT": inputs["scene"], "MODEL": None,
                          "OUTPUT": str(out / long_name(NAME_MAX + extra, ".tif"))}, "OUTPUT", 0),
    ]


@pytest.mark.parametrize("index", range(3), ids=["samplepixels", "waterbodies", "predictwater"])
def test_the_longest_legal_name_is_written_and_one_more_byte_refused(run_algorithm, inputs, tmp_path, index):
    model = run_algorithm("classifywater", {"INPUT": inputs["scene"], "POLYGONS": inputs["polygons"],
                                            "CLASS_FIELD": "class", "OUTPUT_MODEL": str(tmp_path / "model.json")})
    for longer in (False, True):
        inputs["out"].mkdir()
        algorithm, parameters, output, row = runs(inputs, longer)[index]
        if "MODEL" in parameters:
            parameters["MODEL"] = model["OUTPUT_MODEL"]
        if not longer:
            run_algorithm(algorithm, parameters)
            assert os.listdir(inputs["out"]) == [os.path.basename(parameters[output])]
        else:
            with pytest.raises(QgsProcessingException) as refusal:
                run_algorithm(algorithm, parameters)
            assert str(refusal.value) == REFUSED_ROWS[row][2].replace(
                "<file name>", os.path.basename(parameters[output]))
            assert os.listdir(inputs["out"]) == []
        for name in os.listdir(inputs["out"]):
            os.remove(inputs["out"] / name)
        inputs["out"].rmdir()
