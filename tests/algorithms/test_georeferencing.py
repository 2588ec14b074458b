"""A scene georeferenced only by ground control points or RPCs, or not at all, is refused by
every tool before any work, saying so and how to put it on a grid: read as it is, it gave maps at
pixel coordinates with no CRS, areas in square pixels and polygons 'outside' the raster."""

import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from support.synthetic import ORIGIN, PIXEL, standard_polygons, water_scene, write_polygons, write_raster

RASTER_TOOLS = ("samplepixels", "classifywater", "predictwater", "assessaccuracy", "waterindex", "waterbodies",
                "wateroccurrence", "waterchange")
WARP = "Raster ‣ Projections ‣ Warp (Reproject), or gdalwarp {}'scene.tif' warped.tif, then use warped.tif"

# Rows for docs/BAD_INPUT.md's "Refused" table (write_bad_input_table.py collects them); Predict water on many
# scenes gives the same words as the reason its scene failed.
REFUSED_ROWS = [
    ("A scene georeferenced only by ground control points (no geotransform)", RASTER_TOOLS,
     "The raster '<folder>/scene.tif' is georeferenced only by 4 ground control points (GCPs): it has no "
     "geotransform, so its pixels lie on no map grid. Warp it to a grid first: " + WARP.format("") + "."),
    ("A scene georeferenced only by RPCs", RASTER_TOOLS,
     "The raster '<folder>/scene.tif' is georeferenced only by RPCs (rational polynomial coefficients): it has "
     "no geotransform, so its pixels lie on no map grid. Orthorectify it to a grid first: "
     + WARP.format("-rpc ") + " (a DEM makes it exact: -to RPC_DEM=dem.tif)."),
    ("A scene with neither a geotransform nor ground control points", RASTER_TOOLS,
     "The raster '<folder>/scene.tif' has no georeferencing (no geotransform, no ground control points): its "
     "pixels have no place on the ground, so no polygon, area or map can be matched to them. Georeference it "
     "(Raster ‣ Georeferencer) or use the original, georeferenced file."),
]
KINDS = ("gcps", "rpcs", "none")


def ungridded(path, values, kind, data_type=gdal.GDT_UInt16):
    """A GeoTIFF of `values` (bands, rows, cols) with GCPs at its corners, RPCs, or nothing."""
    count, rows, cols = values.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, count, data_type)
    for index in range(count):
        dataset.GetRasterBand(index + 1).WriteArray(values[index])
    if kind == "gcps":
        srs = gdal.osr.SpatialReference()
        srs.ImportFromEPSG(32633)
        corners = [(0, 0), (cols, 0), (0, rows), (cols, rows)]
        dataset.SetGCPs([gdal.GCP(ORIGIN[0] + col * PIXEL, ORIGIN[1] - row * PIXEL, 0, col, row)
                         for col, row in corners], srs)
    elif kind == "rpcs":
        dataset.SetMetadata({"LINE_OFF": "100", "SAMP_OFF": "120", "LAT_OFF": "36", "LONG_OFF": "15",
                             "HEIGHT_OFF": "0", "LINE_SCALE": "100", "SAMP_SCALE": "120", "LAT_SCALE": "0.01",
                             "LONG_SCALE": "0.01", "HEIGHT_SCALE": "100",
                             "LINE_NUM_COEFF": " ".join(["0", "0", "-1"] + ["0"] * 17),
                             "LINE_DEN_COEFF": " ".join(["1"] + ["0"] * 19),
                             "SAMP_NUM_COEFF": " ".join(["0", "1"] + ["0"] * 18),
                             "SAMP_DEN_COEFF": " ".join(["1"] + ["0"] * 19)}, "RPC")
    dataset = None
    return str(path)


@pytest.fixture
def files(run_algorithm, tmp_path):
    """A good scene's model, and the folder for the scene under test."""
    bands, _ = water_scene()
    good = write_raster(tmp_path / "good.tif", bands)
    polygons = write_polygons(tmp_path / "polygons.gpkg", standard_polygons())
    model = run_algorithm("classifywater", {"INPUT": good, "POLYGONS": polygons, "CLASS_FIELD": "class",
                                            "OUTPUT_MODEL": str(tmp_path / "model.json")})["OUTPUT_MODEL"]
    (tmp_path / "out").mkdir()
    return {"folder": tmp_path, "bands": bands, "polygons": polygons, "model": model, "out": tmp_path / "out",
            "good_probability": write_raster(tmp_path / "p.tif", np.full((1, 200, 240), 0.5, np.float32),
                                             nodata=-9999, data_type=gdal.GDT_Float32)}


def parameters(tool, files, scene):
    out = files["out"]
    polygons = {"POLYGONS": files["polygons"], "CLASS_FIELD": "class"}
    return {
        "samplepixels": dict(polygons, INPUT=scene, OUTPUT=str(out / "samples.gpkg")),
        "classifywater": dict(polygons, INPUT=scene, OUTPUT=str(out / "probability.tif")),
        "predictwater": {"INPUT": scene, "MODEL": files["model"], "OUTPUT": str(out / "probability.tif")},
        "assessaccuracy": dict(polygons, INPUT=scene, OUTPUT_REPORT=str(out / "report.html")),
        "waterindex": {"INPUT": scene, "GREEN_BAND": 1, "NIR_BAND": 3, "OUTPUT": str(out / "ndwi.tif")},
        "waterbodies": {"INPUT": scene, "OUTPUT": str(out / "bodies.gpkg")},
        "wateroccurrence": {"INPUT": [files["good_probability"], scene], "OUTPUT": str(out / "occurrence.tif")},
        "waterchange": {"BEFORE": scene, "AFTER": files["good_probability"], "OUTPUT": str(out / "change.tif")},
    }[tool]


def scene_for(tool, files, kind):
    """The scene's bands, or a P(water) map for the tools that read one."""
    path = files["folder"] / "scene.tif"
    if tool in ("assessaccuracy", "waterbodies", "wateroccurrence", "waterchange"):
        return ungridded(path, np.full((1, 200, 240), 0.9, np.float32), kind, gdal.GDT_Float32)
    return ungridded(path, files["bands"], kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tool", RASTER_TOOLS)
def test_refused_before_any_work(run_algorithm, files, tool, kind):
    scene = scene_for(tool, files, kind)
    with pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(tool, parameters(tool, files, scene))
    message = str(refusal.value)
    assert message == REFUSED_ROWS[KINDS.index(kind)][2].replace("<folder>", str(files["folder"]))
    assert os.listdir(files["out"]) == []


def test_a_batch_says_why_its_scene_failed(run_algorithm, files):
    scene = scene_for("predictscenes", files, "gcps")
    result = run_algorithm("predictscenes", {"MODEL": files["model"], "SCENES": [scene],
                                             "OUTPUT_FOLDER": str(files["out"] / "maps"),
                                             "OUTPUT_SUMMARY": str(files["out"] / "summary.csv")})
    assert result["SCENES_FAILED"] == 1
    with open(files["out"] / "summary.csv", encoding="utf-8") as summary:
        assert "is georeferenced only by 4 ground control points (GCPs)" in summary.read()
