"""Every kind of wrong input, through processing.run: a plain refusal and no file left behind.

ROWS is the table of docs/BAD_INPUT.md (tests/algorithms/write_bad_input_table.py writes the
doc from it, and a test below checks the committed doc is what it writes). Each row is run
through every algorithm it names; the QgsProcessingException must say exactly the row's
message, and no output may exist afterwards, neither under its name nor as a partial file.
"""

import hashlib
import json
import os
import pickle
import shutil
import sys
from collections import namedtuple
from contextlib import contextmanager, nullcontext

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsProcessingException
from recording_feedback import RecordingFeedback
from synthetic import (
    ORIGIN,
    pixel_box,
    read,
    standard_polygons,
    water_scene,
    write_masked_raster,
    write_polygons,
    write_raster,
)

Row = namedtuple("Row", "key input algorithms message")

ROWS = [
    Row("no_features", "Polygon layer with no features",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "The polygon layer 'polygons' has no features; draw training polygons of water and land first."),
    Row("outside", "No polygon overlaps the raster",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "No polygon covers a valid pixel of the raster: the polygons lie outside it (after reprojection "
        "to the raster's CRS), are smaller than a pixel, or cover only nodata. Draw polygons over the raster."),
    Row("outside_after_reprojection",
        "Polygons whose coordinates fall on the raster but whose CRS puts them elsewhere "
        "(UTM 34N numbers over a UTM 33N raster)",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "No polygon covers a valid pixel of the raster: the polygons lie outside it (after reprojection "
        "to the raster's CRS), are smaller than a pixel, or cover only nodata. Draw polygons over the raster."),
    Row("not_polygons", "A layer of points instead of polygons",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "The layer 'polygons' holds point geometries, not polygons; draw training areas as polygons."),
    Row("no_water_value", "No polygon has a WATER_VALUES value (WATER_VALUES 'lake')",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "No polygon has a water value (lake) in the field 'class'; the values found are: land, water. "
        "Set WATER_VALUES to the value(s) that mark water."),
    Row("only_water", "Only water polygons, no land",
        ("samplepixels", "classifywater"),
        "Every polygon is water (field 'class' values: water); training needs land polygons too. "
        "Draw some over land, or correct WATER_VALUES."),
    Row("class_only_nodata", "The land polygons cover only nodata pixels",
        ("samplepixels", "classifywater"),
        "There are no land pixels to train on: the land polygons cover no valid pixel (outside the "
        "raster or only nodata). Training needs polygons of both water and land; check CLASS_FIELD "
        "and WATER_VALUES."),
    Row("class_field_missing", "CLASS_FIELD names no field of the layer ('klass')",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "The class field 'klass' is not a field of 'polygons'; its fields are: fid, class. "
        "Choose the field that says water or land."),
    Row("water_values_empty", "WATER_VALUES empty (' , ')",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "WATER_VALUES is empty; give the value(s) of the class field that mean water, e.g. 'water,1'."),
    Row("band_out_of_range", "Band number out of range (bands 1, 5 of a 3-band raster)",
        ("samplepixels", "classifywater"),
        "Band 5 does not exist: the raster has 3 bands (1 to 3). Choose band numbers within that range."),
    Row("band_twice", "The same band twice (bands 2, 2)",
        ("samplepixels", "classifywater"),
        "Band 2 is chosen more than once; choose each band only once."),
    Row("raster_not_a_raster", "A raster file that is not a raster (text in scene.tif)",
        ("samplepixels", "classifywater", "predictwater", "assessaccuracy"),
        "Unable to execute algorithm\nThe raster '{folder}/scene.tif' cannot be opened (GDAL does not "
        "recognise it as a raster). Check that the file exists, is readable and is a raster format GDAL knows."),
    Row("raster_truncated", "A GeoTIFF cut short (header intact, pixel data missing)",
        ("samplepixels", "classifywater", "assessaccuracy"),
        "Reading the raster failed ({folder}/scene.tif, band 1: IReadBlock failed at X offset 0, Y offset 0: "
        "TIFFReadEncodedTile() failed.); the file may be damaged or incomplete. Check that it displays in "
        "QGIS, or copy or export it again."),
    Row("raster_truncated_predict", "A GeoTIFF cut short (header intact, pixel data missing)",
        ("predictwater",),
        "Reading rows 0–200 of the raster failed ({folder}/scene.tif, band 1: IReadBlock failed at X offset 0, "
        "Y offset 0: TIFFReadEncodedTile() failed.); the file may be damaged or incomplete. Check that it "
        "displays in QGIS, or copy or export it again."),
    Row("model_truncated", "Model file truncated",
        ("predictwater",),
        "'{folder}/model.json' is not a water model file (it is not complete JSON; it may be truncated "
        "or another kind of file)."),
    Row("model_not_json", "Model file that is not a model (a GeoTIFF renamed model.json)",
        ("predictwater",),
        "'{folder}/model.json' is not a water model file (it is not complete JSON; it may be truncated "
        "or another kind of file)."),
    Row("model_pickle", "Model file that is a Python pickle carrying code (os.system payload)",
        ("predictwater",),
        "'{folder}/model.json' is a Python pickle or torch.save file, not a water model. Such files can "
        "run code when opened, so this plugin never opens them; train a model with the plugin to get a "
        "safe JSON model file."),
    Row("model_other_json", "Model file that is JSON but no model",
        ("predictwater",),
        "'{folder}/model.json' is not a usable water model: it lacks the model-format marker; choose a "
        "model file saved by 'Train water model' or 'Classify water'."),
    Row("model_newer_version", "Model file from a newer format version (3)",
        ("predictwater",),
        "'{folder}/model.json' is not a usable water model: it was written in model format version 3 by "
        "a newer water_logreg_plugin; this one reads versions up to 2. Update the plugin."),
    Row("model_missing_bands", "Model built for bands the raster lacks (bands 1-3, a 2-band raster)",
        ("predictwater",),
        "The model uses bands 1, 2, 3, but 'scene.tif' has only 2 bands. Use a raster with the same "
        "bands as the one the model was trained on."),
    Row("model_other_band_count", "Model trained on a 3-band raster, applied to a 4-band raster",
        ("predictwater",),
        "The model was trained on a raster of 3 bands, but 'scene.tif' has 4, so the same band numbers "
        "may hold other wavelengths. Predict only on rasters with the same bands as the one the model "
        "was trained on."),
    Row("output_folder_missing", "Output path in a folder that does not exist",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "The output folder '{folder}/missing' does not exist; create it or choose another output path."),
    Row("output_folder_read_only", "Output path in a folder that cannot be written",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "The output folder '{folder}/read-only' cannot be written (permission denied); "
        "choose a folder you can write to."),
    Row("output_is_input", "OUTPUT is the input raster itself",
        ("predictwater", "classifywater"),
        "OUTPUT is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the input "
        "would be overwritten."),
    Row("output_is_input_through_link", "OUTPUT is a symbolic link to the input raster, spelt with '..'",
        ("predictwater", "classifywater"),
        "OUTPUT is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the input "
        "would be overwritten."),
    Row("model_output_is_input", "OUTPUT_MODEL is the input raster",
        ("classifywater",),
        "OUTPUT_MODEL is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the "
        "input would be overwritten."),
    Row("model_output_is_samples", "OUTPUT_MODEL is the samples layer it trains on",
        ("trainmodel",),
        "OUTPUT_MODEL is the same file as SAMPLES ('{folder}/samples.gpkg'); choose another output path — "
        "the input would be overwritten."),
    Row("output_is_polygons", "OUTPUT (or the report) is the polygon layer",
        ("samplepixels", "assessaccuracy"),
        "{output} is the same file as POLYGONS ('{folder}/polygons.gpkg'); choose another output path — "
        "the input would be overwritten."),
    Row("mask_is_output", "OUTPUT_MASK is the same file as OUTPUT",
        ("predictwater", "classifywater"),
        "OUTPUT_MASK is the same file as OUTPUT ('{folder}/out/probability.tif'); give each output a path "
        "of its own."),
    Row("output_is_folder", "An output path that is an existing folder",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "{output} '{folder}/out' is an existing folder, not a file; give the path of a file, e.g. a new "
        "name inside that folder."),
    Row("output_is_fifo", "An output path that is a named pipe (FIFO)",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "{output} '{folder}/out/pipe' is a named pipe (FIFO), not a regular file; writing the output would "
        "replace it. Choose the path of a file."),
    Row("output_folder_is_a_file", "An output path whose folder is a file (model.json/…)",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "{output} '{folder}/model.json/{output_name}' cannot be written: '{folder}/model.json' is a file, "
        "not a folder. Choose another output path."),
    Row("output_in_system_folder", "An output path in a system folder (/sys)",
        ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
        "The output folder '/sys' cannot be written (permission denied); choose a folder you can write to."),
    Row("raster_output_png", "A raster output ending .png (GDAL cannot create PNG block by block)",
        ("predictwater", "classifywater"),
        "OUTPUT '{folder}/out/probability.png' has the extension '.png', but this tool writes GeoTIFF "
        "rasters; name the file 'probability.tif' (or .tiff), or convert the result afterwards (Raster → "
        "Conversion → Translate)."),
    Row("summary_is_scene", "OUTPUT_SUMMARY is one of the scenes",
        ("predictscenes",),
        "OUTPUT_SUMMARY is the same file as scene '{folder}/scene.tif' ('{folder}/scene.tif'); choose another "
        "output path — the input would be overwritten."),
    Row("scenes_output_folder_is_a_file", "OUTPUT_FOLDER is a file",
        ("predictscenes",),
        "OUTPUT_FOLDER '{folder}/samples.gpkg' cannot be used as a folder: '{folder}/samples.gpkg' is a file. "
        "Choose another output folder."),
    Row("scheduler_not_an_address", "A Dask scheduler address that is a web address (http://localhost:8787/status)",
        ("predictscenes",),
        "'http://localhost:8787/status' is not a Dask scheduler address; give one like tcp://host:8786 (the "
        "address `dask scheduler` prints)."),
    Row("model_fifo", "The model file is a named pipe (FIFO)",
        ("predictwater", "predictscenes"),
        "Unable to execute algorithm\nThe model file '{folder}/model.json' is a named pipe (FIFO), not a "
        "regular file, and reading it could wait for ever; choose a model file saved on disk."),
    Row("raster_fifo", "The raster is a named pipe (FIFO)",
        ("samplepixels", "classifywater", "predictwater", "assessaccuracy"),
        "Unable to execute algorithm\nThe multispectral raster '{folder}/scene.tif' is a named pipe (FIFO), "
        "not a regular file, and reading it could wait for ever; choose a multispectral raster saved on disk."),
    Row("max_pixels_negative", "MAX_PIXELS_PER_CLASS negative (-1)",
        ("samplepixels", "classifywater"),
        "The maximum number of pixels per class cannot be negative; use 0 to keep all pixels."),
    Row("cuda_without_gpu", "DEVICE CUDA on a machine without a CUDA GPU",
        ("trainmodel", "classifywater", "predictwater"),
        "CUDA was asked for, but torch finds no CUDA GPU on this machine (torch {torch}). Choose Auto or CPU, "
        "or install a CUDA build of torch on a machine with an NVIDIA GPU."),
    Row("model_non_finite", "Model file with a weight written as 1e400 (infinite once read)",
        ("predictwater",),
        "'{folder}/model.json' is not a usable water model: its layer 1 weight holds a non-finite number; "
        "choose a model file saved by 'Train water model' or 'Classify water'."),
    Row("model_tiny_std", "Model file with a standard deviation of 1e-310 for a band it uses",
        ("predictwater",),
        "'{folder}/model.json' is not a usable water model: its first layer's weights divided by the standard "
        "deviations overflow (a standard deviation too close to 0, or weights too large); the file is damaged "
        "or was edited by hand. Train the model again."),
    Row("model_too_wide", "Model file with a hidden layer of 100,000 units",
        ("predictwater",),
        "'{folder}/model.json' is not a usable water model: a layer has 100000 units; this plugin predicts "
        "with layers of at most 4096 units, so that a map fits in memory. Train a narrower model (HIDDEN_LAYERS)."),
    Row("model_other_scale", "Model trained on bands without scale/offset, applied to a raster whose bands say "
        "scale 0.0001, offset -0.1",
        ("predictwater",),
        "Band 1 of 'scene.tif' has scale 0.0001 and offset -0.1, but the model was trained on a band of scale 1 "
        "and offset 0: the same stored numbers mean other values. Predict only on rasters of the kind the model "
        "was trained on."),
    Row("assess_several_bands", "A 3-band scene given as the probability map",
        ("assessaccuracy",),
        "The raster 'scene.tif' has 3 bands, so it is not a probability map (one band of P(water) from 0 "
        "to 1). Choose the output of 'Predict water probability' or 'Classify water'."),
    Row("assess_not_probability", "A 1-band UInt16 raster (values 300 and 1000) given as the probability map",
        ("assessaccuracy",),
        "The raster 'scene.tif' holds values from 300 to 1000 under the polygons, so it is not a probability "
        "map (P(water) from 0 to 1). Choose the output of 'Predict water probability' or 'Classify water'."),
]

# Inputs that are not refused: the run completes and says what it did.
ACCEPTED = [
    Row("constant_band", "A band constant over the samples (zero variance)",
        ("trainmodel", "classifywater"),
        "Runs, and logs: Warning: band 3 is constant (1000) over the samples; it cannot tell water from "
        "land and is ignored by the model. No NaN anywhere in the model or the map."),
    Row("nan_and_inf_pixels", "NaN, +inf and -inf pixels in a Float32 raster",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; those pixels are never sampled and are nodata (-9999) in the probability map."),
    Row("nan_nodata", "A Float32 raster whose nodata value is NaN",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; NaN pixels are never sampled and are nodata (-9999) in the probability map."),
    Row("dataset_mask", "A GeoTIFF whose invalid pixels are marked by an internal mask band, no nodata value "
        "(tiled or striped)",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; masked pixels are never sampled and are nodata (-9999) in the probability map."),
    Row("alpha_band", "A GeoTIFF whose invalid pixels are marked by an alpha band (tiled or striped)",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; transparent pixels (alpha 0) are never sampled and are nodata (-9999) in the probability map; "
        "the alpha band is not a training band."),
    Row("null_class", "A polygon whose class is NULL, drawn over water",
        ("samplepixels", "classifywater"),
        "Runs, and logs: Warning: polygons with no value in the field 'class' are neither water nor land and "
        "are skipped: 1 (ids 9). Give them a class to train on them."),
    Row("date_class", "A class field of dates (WATER_VALUES '2021-06-30')",
        ("samplepixels", "classifywater"),
        "Runs; dates are compared as YYYY-MM-DD text, so the polygons dated 2021-06-30 are water."),
    Row("curved_polygons", "CurvePolygon and MultiSurface polygons",
        ("samplepixels", "classifywater"),
        "Runs; arcs are cut into short segments and the pixels are those of the same polygons drawn straight."),
    Row("no_crs", "A polygon layer without a CRS",
        ("samplepixels", "classifywater"),
        "Runs, and logs: Warning: the layer 'polygons' has no CRS; its coordinates are taken to be in the "
        "raster's CRS (EPSG:32633). Set the layer's CRS if they are not."),
    Row("tiny_polygons", "Many polygons smaller than a pixel (300)",
        ("samplepixels",),
        "Runs, and logs one line for them all: 300 polygons yield no pixel: they are smaller than a pixel or "
        "cover no pixel centre (ids 9, 10, 11, 12, 13 and 295 more)."),
    Row("model_byte_order_mark", "A model file saved with a UTF-8 byte-order mark (Windows Notepad)",
        ("predictwater",),
        "Runs; the mark is ignored and the map is the one the model gives without it."),
    Row("model_metadata_as_text", "A model file whose band count and data type were edited to '3' and 'uint16'",
        ("predictwater",),
        "Runs; they are read as 3 bands of UInt16, and a 4-band raster is still refused."),
    Row("model_huge_weights", "A model file with weights of 1e300",
        ("predictwater",),
        "Runs; every valid pixel gets a probability (0 or 1 where the logit is that large), none is nodata."),
]

OUTPUT_NAMES = ("OUTPUT", "OUTPUT_MODEL", "OUTPUT_MASK", "OUTPUT_REPORT", "OUTPUT_SUMMARY", "OUTPUT_FOLDER")


class Files:
    """A good scene, polygons, samples and a model; each row spoils one of them."""

    def __init__(self, folder, shared):
        self.folder = folder
        self.raster = write_raster(folder / "scene.tif", shared.bands)
        self.polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
        self.samples = str(folder / "samples.gpkg")
        shutil.copy(shared.samples, self.samples)
        self.model = str(folder / "model.json")
        shutil.copy(shared.model, self.model)
        self.output_folder = folder / "out"
        self.output_folder.mkdir()

    def parameters(self, algorithm):
        out = self.output_folder
        raster_and_polygons = {"INPUT": self.raster, "POLYGONS": self.polygons, "CLASS_FIELD": "class"}
        return {
            "samplepixels": dict(raster_and_polygons, OUTPUT=str(out / "samples.gpkg")),
            "trainmodel": {"SAMPLES": self.samples, "OUTPUT_MODEL": str(out / "model.json")},
            "predictwater": {"INPUT": self.raster, "MODEL": self.model, "OUTPUT": str(out / "probability.tif"),
                             "OUTPUT_MASK": str(out / "mask.tif")},
            "classifywater": dict(raster_and_polygons, OUTPUT=str(out / "probability.tif"),
                                  OUTPUT_MODEL=str(out / "model.json"), OUTPUT_MASK=str(out / "mask.tif")),
            "assessaccuracy": dict(raster_and_polygons, OUTPUT_REPORT=str(out / "report.html")),
            "predictscenes": {"MODEL": self.model, "SCENES": [self.raster], "OUTPUT_FOLDER": str(out / "water"),
                              "OUTPUT_SUMMARY": str(out / "summary.csv")},
        }[algorithm]

    def spoil_polygons(self, boxes, **layer_options):
        os.remove(self.polygons)
        write_polygons(self.polygons, boxes, **layer_options)

    def spoil_model(self, change):
        with open(self.model, encoding="utf-8") as handle:
            document = json.load(handle)
        change(document)
        with open(self.model, "w", encoding="utf-8") as handle:
            json.dump(document, handle)

    def write_bytes(self, path, data):
        with open(path, "wb") as handle:
            handle.write(data)


class WritesMarker:
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def spoil(row_key, files, parameters):
    """Change the good input as the row says; returns the parameters to run with."""
    boxes = standard_polygons()
    if row_key == "no_features":
        files.spoil_polygons([])
    elif row_key == "outside":
        files.spoil_polygons([(pixel_box(col, 1000, col + 20, 1030), value)
                              for col, value in ((0, "land"), (200, "water"))])
    elif row_key == "outside_after_reprojection":
        files.spoil_polygons(boxes, epsg=32634, source_epsg=32634)
    elif row_key == "not_polygons":
        centroids = [(ogr.CreateGeometryFromWkt(wkt).Centroid().ExportToWkt(), value) for wkt, value in boxes]
        files.spoil_polygons(centroids, geometry_type=ogr.wkbPoint)
    elif row_key == "no_water_value":
        parameters["WATER_VALUES"] = "lake"
    elif row_key == "only_water":
        files.spoil_polygons([box for box in boxes if box[1] == "water"])
    elif row_key == "class_only_nodata":
        bands, _ = water_scene()
        bands[:, :, :120] = 0  # the land half is nodata
        write_raster(files.raster, bands)
    elif row_key == "class_field_missing":
        parameters["CLASS_FIELD"] = "klass"
    elif row_key == "water_values_empty":
        parameters["WATER_VALUES"] = " , "
    elif row_key == "band_out_of_range":
        parameters["BANDS"] = [1, 5]
    elif row_key == "band_twice":
        parameters["BANDS"] = [2, 2]
    elif row_key == "raster_not_a_raster":
        files.write_bytes(files.raster, b"This is a text file, not an image.\n" * 10)
    elif row_key.startswith("raster_truncated"):
        with open(files.raster, "rb") as handle:
            data = handle.read()
        files.write_bytes(files.raster, data[: len(data) // 3])
    elif row_key == "model_truncated":
        with open(files.model, "rb") as handle:
            data = handle.read()
        files.write_bytes(files.model, data[: len(data) // 2])
    elif row_key == "model_not_json":
        shutil.copy(files.raster, files.model)
    elif row_key == "model_pickle":
        files.write_bytes(files.model, pickle.dumps(WritesMarker(files.folder / "payload-ran")))
    elif row_key == "model_other_json":
        files.write_bytes(files.model, b'{"weights": [1, 2, 3], "bias": 0}')
    elif row_key == "model_newer_version":
        files.spoil_model(lambda document: document.update(format_version=3))
    elif row_key == "model_missing_bands":
        write_raster(files.raster, water_scene()[0][:2])
    elif row_key == "model_other_band_count":
        bands = water_scene()[0]
        write_raster(files.raster, np.concatenate([bands, bands[:1]]))
    elif row_key in ("output_folder_missing", "output_folder_read_only"):
        folder = files.folder / ("missing" if row_key == "output_folder_missing" else "read-only")
        if row_key == "output_folder_read_only":
            folder.mkdir()
            folder.chmod(0o555)
        for name in OUTPUT_NAMES:
            if name in parameters:
                parameters[name] = str(folder / os.path.basename(parameters[name]))
    elif row_key == "output_is_input":
        parameters["OUTPUT"] = files.raster
    elif row_key == "output_is_input_through_link":
        os.symlink(files.raster, files.output_folder / "link.tif")
        parameters["OUTPUT"] = str(files.output_folder / ".." / "out" / "link.tif")
    elif row_key == "model_output_is_input":
        parameters["OUTPUT_MODEL"] = files.raster
    elif row_key == "model_output_is_samples":
        parameters["OUTPUT_MODEL"] = files.samples
    elif row_key == "output_is_polygons":
        parameters[first_output(parameters)] = files.polygons
    elif row_key == "mask_is_output":
        parameters["OUTPUT_MASK"] = parameters["OUTPUT"]
    elif row_key == "output_is_folder":
        parameters[first_output(parameters)] = str(files.output_folder)
    elif row_key == "output_is_fifo":
        os.mkfifo(files.output_folder / "pipe")
        parameters[first_output(parameters)] = str(files.output_folder / "pipe")
    elif row_key == "output_folder_is_a_file":
        name = first_output(parameters)
        parameters[name] = os.path.join(files.model, os.path.basename(parameters[name]))
    elif row_key == "output_in_system_folder":
        for name in OUTPUT_NAMES:
            if name in parameters:
                parameters[name] = os.path.join("/sys", os.path.basename(parameters[name]))
    elif row_key == "raster_output_png":
        parameters["OUTPUT"] = str(files.output_folder / "probability.png")
    elif row_key == "summary_is_scene":
        parameters["OUTPUT_SUMMARY"] = files.raster
    elif row_key == "scenes_output_folder_is_a_file":
        parameters["OUTPUT_FOLDER"] = files.samples
    elif row_key == "scheduler_not_an_address":
        parameters["SCHEDULER"] = "http://localhost:8787/status"
    elif row_key == "model_fifo":
        os.remove(files.model)
        os.mkfifo(files.model)
    elif row_key == "raster_fifo":
        os.remove(files.raster)
        os.mkfifo(files.raster)
    elif row_key == "max_pixels_negative":
        parameters["MAX_PIXELS_PER_CLASS"] = -1
    elif row_key == "cuda_without_gpu":
        parameters["DEVICE"] = 2
    elif row_key == "model_non_finite":
        with open(files.model, encoding="utf-8") as handle:
            text = handle.read()
        document = json.loads(text)
        document["layers"][0]["weight"][0][0] = 12345.5
        files.write_bytes(files.model, json.dumps(document).replace("12345.5", "1e400").encode())
    elif row_key == "model_tiny_std":
        files.spoil_model(lambda document: document["standardization"].update(std=[1e-310, 1.0, 1.0]))
    elif row_key == "model_too_wide":
        files.spoil_model(lambda document: document.update(layers=[
            {"weight": [[0.0, 0.0, 0.0]] * 100_000, "bias": [0.0] * 100_000},
            {"weight": [[0.0] * 100_000], "bias": [0.0]}]))
    elif row_key == "model_other_scale":
        dataset = gdal.Open(files.raster, gdal.GA_Update)
        for number in (1, 2, 3):
            dataset.GetRasterBand(number).SetScale(0.0001)
            dataset.GetRasterBand(number).SetOffset(-0.1)
        dataset = None
    elif row_key == "assess_not_probability":
        bands, truth = water_scene()
        write_raster(files.raster, np.where(truth, 300, 1000)[np.newaxis])
    return parameters


@pytest.fixture(scope="module")
def shared(provider, tmp_path_factory):
    """Samples and a model made once from the good scene, copied into each test's folder."""
    import processing

    folder = tmp_path_factory.mktemp("good")
    bands, _ = water_scene()
    raster = write_raster(folder / "scene.tif", bands)
    polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
    processing.run("waterlogreg:classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "probability.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
    })
    samples = processing.run("waterlogreg:samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(folder / "samples.gpkg"),
    })["OUTPUT"]
    return namedtuple("Shared", "bands model samples")(bands, str(folder / "model.json"), samples)


@pytest.fixture
def files(shared, tmp_path):
    yield Files(tmp_path, shared)
    read_only = tmp_path / "read-only"
    if read_only.exists():
        read_only.chmod(0o755)


@contextmanager
def unprivileged():
    """As root every folder is writable; drop to 'nobody' for the run so permissions apply."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def first_output(parameters):
    """The first output an algorithm has (OUTPUT, else OUTPUT_MODEL, else OUTPUT_REPORT)."""
    return next(name for name in OUTPUT_NAMES if name in parameters)


def expected_message(row, files, parameters):
    import torch

    build = "" if torch.version.cuda else ", a CPU-only build"
    output = first_output(parameters)
    return row.message.format(folder=files.folder, torch=torch.__version__ + build, output=output,
                              output_name=os.path.basename(str(parameters[output])))


def checksums(folder):
    """{path: sha256} of every regular file under folder (the inputs), outputs folder left out,
    and so are the statistics QGIS writes beside a raster it loads (.aux.xml) and SQLite's
    journals."""
    sums = {}
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if name != "out"]
        for name in names:
            path = os.path.join(root, name)
            if (os.path.isfile(path) and not os.path.islink(path)
                    and not name.endswith((".aux.xml", "-wal", "-shm"))):
                with open(path, "rb") as handle:
                    sums[path] = hashlib.sha256(handle.read()).hexdigest()
    return sums


def leftovers(parameters, folders, inputs=()):
    """Outputs present under their names (inputs an output was pointed at aside), and partial
    files in the output folders."""
    present = [parameters[name] for name in OUTPUT_NAMES
               if parameters.get(name) and (os.path.isfile if name != "OUTPUT_FOLDER" else os.path.exists)(
                   parameters[name])
               and not any(os.path.samefile(parameters[name], path) for path in inputs if os.path.exists(path))]
    partial = [os.path.join(str(folder), name) for folder in folders if os.path.isdir(folder)
               for name in os.listdir(folder) if "partial" in name]
    return present + partial


CASES = [pytest.param(row, algorithm, id=f"{row.key}-{algorithm}") for row in ROWS for algorithm in row.algorithms]


@pytest.mark.parametrize("row, algorithm", CASES)
def test_refused_with_a_plain_message_and_no_output(run_algorithm, files, row, algorithm):
    if row.key == "cuda_without_gpu":
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA GPU")
    parameters = spoil(row.key, files, files.parameters(algorithm))
    read_only_row = row.key == "output_folder_read_only"
    if read_only_row:
        world_readable(files.folder)
    before = checksums(files.folder)
    with unprivileged() if read_only_row else nullcontext(), pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(algorithm, parameters)
    assert str(refusal.value) == expected_message(row, files, parameters)
    inputs = [files.raster, files.polygons, files.samples, files.model]
    assert leftovers(parameters, [files.output_folder, files.folder / "missing", files.folder / "read-only"],
                     inputs) == []
    assert checksums(files.folder) == before, "an input changed"
    assert not (files.folder / "payload-ran").exists()


def world_readable(folder):
    """Let 'nobody' read the inputs for the read-only-folder row (pytest's folders are private)."""
    for parent in [folder, *folder.parents]:
        if str(parent) in ("/", "/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)


def test_constant_band_trains_with_a_warning_and_no_nan(run_algorithm, files):
    bands, truth = water_scene()
    bands[2] = 1000
    write_raster(files.raster, bands)
    feedback = RecordingFeedback()
    parameters = files.parameters("classifywater")
    result = run_algorithm("classifywater", parameters, feedback=feedback)
    assert ("Warning: band 3 is constant (1000) over the samples; it cannot tell water from land and is "
            "ignored by the model.") in feedback.lines
    probability, _ = read(result["OUTPUT"])
    assert np.isfinite(probability).all() and ((probability >= 0) & (probability <= 1)).all()
    assert ((probability >= 0.5) == truth).mean() > 0.99
    with open(result["OUTPUT_MODEL"]) as handle:
        model = json.load(handle)
    assert model["standardization"]["std"][2] == 1.0
    assert model["layers"][0]["weight"][0][2] == 0.0

    feedback = RecordingFeedback()
    samples = run_algorithm("samplepixels", files.parameters("samplepixels"))["OUTPUT"]
    run_algorithm("trainmodel", {"SAMPLES": samples, "OUTPUT_MODEL": str(files.output_folder / "m2.json")},
                  feedback=feedback)
    assert any(line.startswith("Warning: band 3 is constant (1000)") for line in feedback.lines)


@pytest.mark.parametrize("nodata", [-9999.0, float("nan")], ids=["nan-and-inf", "nan-nodata"])
def test_nan_and_infinite_pixels_become_nodata(run_algorithm, files, nodata):
    bands, truth = water_scene()
    bands = bands.astype(np.float32)
    bad = np.zeros(truth.shape, dtype=bool)
    bands[0, 15:25, 10:30] = np.nan  # inside a land polygon
    bands[1, 15:25, 130:150] = np.inf  # inside a water polygon
    bands[2, 100:105, 100:140] = -np.inf
    bad[15:25, 10:30] = bad[15:25, 130:150] = bad[100:105, 100:140] = True
    write_raster(files.raster, bands, nodata=nodata, data_type=gdal.GDT_Float32)

    samples = run_algorithm("samplepixels", dict(files.parameters("samplepixels"), MAX_PIXELS_PER_CLASS=0))
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(samples["OUTPUT"], "samples")
    values = np.array([[feature[f"b{band}"] for band in (1, 2, 3)] for feature in layer.getFeatures()])
    assert len(values) == 8 * 20 * 30 - 2 * 10 * 20 and np.isfinite(values).all()

    result = run_algorithm("classifywater", files.parameters("classifywater"))
    for path in (result["OUTPUT"], str(files.output_folder / "again.tif")):
        if path != result["OUTPUT"]:
            path = run_algorithm("predictwater", {"INPUT": files.raster, "MODEL": result["OUTPUT_MODEL"],
                                                  "OUTPUT": path})["OUTPUT"]
        probability, _ = read(path)
        assert (probability[bad] == -9999).all()
        valid = probability[~bad]
        assert ((valid >= 0) & (valid <= 1)).all()
        assert ((valid >= 0.5) == truth[~bad]).mean() > 0.99


def test_the_doc_table_is_the_one_the_tests_check():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from write_bad_input_table import DOC_PATH, table_text

    with open(DOC_PATH, encoding="utf-8") as handle:
        committed = handle.read()
    assert committed == table_text(), (
        "docs/BAD_INPUT.md differs from the table in test_bad_input.py; run "
        "'.venv/bin/python tests/algorithms/write_bad_input_table.py' and commit the result."
    )


def accepted(key):
    return next(row for row in ACCEPTED if row.key == key)


def logged(row):
    """The line an ACCEPTED row says is logged."""
    return row.message.split("logs: ", 1)[1] if "logs: " in row.message else row.message.split("line for them all: ")[1]


def sample_counts(path):
    from qgis.core import QgsVectorLayer

    labels = [feature["label"] for feature in QgsVectorLayer(path, "samples").getFeatures()]
    return labels.count(1), labels.count(0)


def run_checked(run_algorithm, files, algorithm, parameters):
    """Run, and check no input changed; returns (result, logged lines)."""
    before = checksums(files.folder)
    feedback = RecordingFeedback()
    result = run_algorithm(algorithm, parameters, feedback=feedback)
    assert checksums(files.folder) == before
    return result, feedback.lines


MASKED_ROWS = slice(15, 25)  # across every training polygon (rows 10–40 and 110–140 hold none)


@pytest.mark.parametrize("layout", [("TILED=YES",), ("BLOCKYSIZE=8",)], ids=["tiled", "striped"])
@pytest.mark.parametrize("kind", ["dataset_mask", "alpha_band"])
def test_masked_pixels_are_never_sampled_and_are_nodata(run_algorithm, files, kind, layout):
    bands, truth = water_scene()
    invalid = np.zeros(truth.shape, dtype=bool)
    invalid[MASKED_ROWS] = True
    os.remove(files.raster)
    write_masked_raster(files.raster, bands, invalid, "alpha" if kind == "alpha_band" else kind, layout)
    row = accepted(kind)
    assert row.algorithms == ("samplepixels", "classifywater", "predictwater")
    result, _ = run_checked(run_algorithm, files, "samplepixels",
                            dict(files.parameters("samplepixels"), MAX_PIXELS_PER_CLASS=0))
    assert sample_counts(result["OUTPUT"]) == (4 * 20 * 30 - 2 * 20 * 10, 4 * 20 * 30 - 2 * 20 * 10)
    result, _ = run_checked(run_algorithm, files, "classifywater", files.parameters("classifywater"))
    again = str(files.output_folder / "again.tif")
    run_checked(run_algorithm, files, "predictwater",
                {"INPUT": files.raster, "MODEL": result["OUTPUT_MODEL"], "OUTPUT": again})
    for path in (result["OUTPUT"], again):
        probability, _ = read(path)
        assert (probability[invalid] == -9999).all()
        assert ((probability[~invalid] >= 0.5) == truth[~invalid]).mean() > 0.99
    with open(result["OUTPUT_MODEL"]) as handle:
        assert json.load(handle)["bands"] == [1, 2, 3]


def polygons_with(files, extra, **options):
    files.spoil_polygons(standard_polygons() + extra, **options)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_a_polygon_without_class_is_skipped_with_a_warning(run_algorithm, files, algorithm):
    polygons_with(files, [(pixel_box(150, 50, 230, 90), None)])  # over water, feature id 9
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0)
    result, lines = run_checked(run_algorithm, files, algorithm, parameters)
    assert logged(accepted("null_class")) in lines
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_date_classes_compare_as_iso_text(run_algorithm, files, algorithm):
    files.spoil_polygons([(wkt, "2021-06-30" if value == "water" else "2021-01-15")
                          for wkt, value in standard_polygons()], field_type=ogr.OFTDate)
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0, WATER_VALUES="2021-06-30")
    result, _ = run_checked(run_algorithm, files, algorithm, parameters)
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


def curved(wkt, multi):
    """The same box as a CurvePolygon (or a MultiSurface) of a compound curve."""
    ring = wkt[len("POLYGON (("):-2]
    polygon = f"CURVEPOLYGON (COMPOUNDCURVE (({ring})))"
    return f"MULTISURFACE ({polygon})" if multi else polygon


@pytest.mark.parametrize("multi", [False, True], ids=["curvepolygon", "multisurface"])
@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_curved_polygons_sample_like_polygons(run_algorithm, files, algorithm, multi):
    files.spoil_polygons([(curved(wkt, multi), value) for wkt, value in standard_polygons()],
                         geometry_type=ogr.wkbMultiSurface if multi else ogr.wkbCurvePolygon)
    result, _ = run_checked(run_algorithm, files, algorithm, dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0))
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


@pytest.mark.parametrize("algorithm", ["samplepixels", "classifywater"])
def test_a_layer_without_crs_is_taken_in_the_rasters(run_algorithm, files, algorithm):
    os.remove(files.polygons)
    datasource = ogr.GetDriverByName("GPKG").CreateDataSource(files.polygons)
    layer = datasource.CreateLayer("polygons", None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for wkt, value in standard_polygons():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        feature.SetField("class", value)
        layer.CreateFeature(feature)
    datasource = None
    parameters = dict(files.parameters(algorithm), MAX_PIXELS_PER_CLASS=0)
    result, lines = run_checked(run_algorithm, files, algorithm, parameters)
    assert logged(accepted("no_crs")) in lines
    if algorithm == "samplepixels":
        assert sample_counts(result["OUTPUT"]) == (4 * 600, 4 * 600)


def test_many_tiny_polygons_give_one_line(run_algorithm, files):
    x, y = ORIGIN[0] + 1000.1, ORIGIN[1] - 1000.1  # a corner of a pixel, away from its centre
    tiny = [(f"POLYGON (({x} {y}, {x + 1} {y}, {x + 1} {y - 1}, {x} {y - 1}, {x} {y}))", "land")] * 300
    polygons_with(files, tiny)
    _, lines = run_checked(run_algorithm, files, "samplepixels", files.parameters("samplepixels"))
    assert logged(accepted("tiny_polygons")) in lines
    assert not [line for line in lines if line.startswith("Polygon ")]


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
    other_band_count = next(row for row in ROWS if row.key == "model_other_band_count")
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
