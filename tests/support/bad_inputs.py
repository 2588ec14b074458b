"""The bad inputs the algorithms are tried with, one row each, and the inputs they accept with care.

REFUSED is the first table of docs/BAD_INPUT.md, ACCEPTED the second
(tests/algorithms/write_bad_input_table.py writes the doc from them). A refused row is the
function that spoils the good inputs (Files) as the row says: its name is the row's key, its
decorator gives the input in words, the algorithms that must refuse it and their message word
for word; tests/algorithms/test_bad_input.py runs every row through every algorithm it names.
"""

import hashlib
import json
import os
import pickle
import shutil
from collections import namedtuple

import numpy as np
from osgeo import gdal, ogr

from support.payloads import WritesMarker
from support.recording_feedback import RecordingFeedback
from support.synthetic import pixel_box, standard_polygons, water_scene, write_polygons, write_raster

Refused = namedtuple("Refused", "key input algorithms message spoil")
Accepted = namedtuple("Accepted", "key input algorithms message")

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


def first_output(parameters):
    """The first output an algorithm has (OUTPUT, else OUTPUT_MODEL, else OUTPUT_REPORT)."""
    return next(name for name in OUTPUT_NAMES if name in parameters)


def outputs_into(folder, parameters):
    """Every output of `parameters` moved, under its own file name, into `folder`."""
    for name in OUTPUT_NAMES:
        if name in parameters:
            parameters[name] = os.path.join(folder, os.path.basename(parameters[name]))


def cut_short(path):
    """The file's first third: a GeoTIFF's header intact, its pixel data missing."""
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[: len(data) // 3])


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


def run_checked(run_algorithm, files, algorithm, parameters):
    """Run, and check no input changed; returns (result, logged lines)."""
    before = checksums(files.folder)
    feedback = RecordingFeedback()
    result = run_algorithm(algorithm, parameters, feedback=feedback)
    assert checksums(files.folder) == before
    return result, feedback.lines


def expected_message(row, files, parameters):
    import torch

    build = "" if torch.version.cuda else ", a CPU-only build"
    output = first_output(parameters)
    return row.message.format(folder=files.folder, torch=torch.__version__ + build, output=output,
                              output_name=os.path.basename(str(parameters[output])))


def accepted(key):
    return next(row for row in ACCEPTED if row.key == key)


def logged(row):
    """The line an ACCEPTED row says is logged."""
    return row.message.split("logs: ", 1)[1] if "logs: " in row.message else row.message.split("line for them all: ")[1]


def sample_counts(path):
    from qgis.core import QgsVectorLayer

    labels = [feature["label"] for feature in QgsVectorLayer(path, "samples").getFeatures()]
    return labels.count(1), labels.count(0)


REFUSED = []


def refused(input, algorithms, message):
    """Adds the decorated spoiling function to REFUSED, as the row named after it."""

    def add(spoil):
        REFUSED.append(Refused(spoil.__name__, input, algorithms, message, spoil))
        return spoil

    return add


@refused(
    "Polygon layer with no features",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "The polygon layer 'polygons' has no features; draw training polygons of water and land first.",
)
def no_features(files, parameters):
    files.spoil_polygons([])


@refused(
    "No polygon overlaps the raster",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "No polygon covers a valid pixel of the raster: the polygons lie outside it (after reprojection "
    "to the raster's CRS), are smaller than a pixel, or cover only nodata. Draw polygons over the raster.",
)
def outside(files, parameters):
    files.spoil_polygons([(pixel_box(col, 1000, col + 20, 1030), value)
                          for col, value in ((0, "land"), (200, "water"))])


@refused(
    "Polygons whose coordinates fall on the raster but whose CRS puts them elsewhere "
    "(UTM 34N numbers over a UTM 33N raster)",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "No polygon covers a valid pixel of the raster: the polygons lie outside it (after reprojection "
    "to the raster's CRS), are smaller than a pixel, or cover only nodata. Draw polygons over the raster.",
)
def outside_after_reprojection(files, parameters):
    files.spoil_polygons(standard_polygons(), epsg=32634, source_epsg=32634)


@refused(
    "A layer of points instead of polygons",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "The layer 'polygons' holds point geometries, not polygons; draw training areas as polygons.",
)
def not_polygons(files, parameters):
    centroids = [(ogr.CreateGeometryFromWkt(wkt).Centroid().ExportToWkt(), value) for wkt, value in standard_polygons()]
    files.spoil_polygons(centroids, geometry_type=ogr.wkbPoint)


@refused(
    "No polygon has a WATER_VALUES value (WATER_VALUES 'lake')",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "No polygon has a water value (lake) in the field 'class'; the values found are: land, water. "
    "Set WATER_VALUES to the value(s) that mark water.",
)
def no_water_value(files, parameters):
    parameters["WATER_VALUES"] = "lake"


@refused(
    "Only water polygons, no land",
    ("samplepixels", "classifywater"),
    "Every polygon is water (field 'class' values: water); training needs land polygons too. "
    "Draw some over land, or correct WATER_VALUES.",
)
def only_water(files, parameters):
    files.spoil_polygons([box for box in standard_polygons() if box[1] == "water"])


@refused(
    "The land polygons cover only nodata pixels",
    ("samplepixels", "classifywater"),
    "There are no land pixels to train on: the land polygons cover no valid pixel (outside the "
    "raster or only nodata). Training needs polygons of both water and land; check CLASS_FIELD "
    "and WATER_VALUES.",
)
def class_only_nodata(files, parameters):
    bands, _ = water_scene()
    bands[:, :, :120] = 0  # the land half is nodata
    write_raster(files.raster, bands)


@refused(
    "CLASS_FIELD names no field of the layer ('klass')",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "The class field 'klass' is not a field of 'polygons'; its fields are: fid, class. "
    "Choose the field that says water or land.",
)
def class_field_missing(files, parameters):
    parameters["CLASS_FIELD"] = "klass"


@refused(
    "WATER_VALUES empty (' , ')",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "WATER_VALUES is empty; give the value(s) of the class field that mean water, e.g. 'water,1'.",
)
def water_values_empty(files, parameters):
    parameters["WATER_VALUES"] = " , "


@refused(
    "Band number out of range (bands 1, 5 of a 3-band raster)",
    ("samplepixels", "classifywater"),
    "Band 5 does not exist: the raster has 3 bands (1 to 3). Choose band numbers within that range.",
)
def band_out_of_range(files, parameters):
    parameters["BANDS"] = [1, 5]


@refused(
    "The same band twice (bands 2, 2)",
    ("samplepixels", "classifywater"),
    "Band 2 is chosen more than once; choose each band only once.",
)
def band_twice(files, parameters):
    parameters["BANDS"] = [2, 2]


@refused(
    "A raster file that is not a raster (text in scene.tif)",
    ("samplepixels", "classifywater", "predictwater", "assessaccuracy"),
    "Unable to execute algorithm\nThe raster '{folder}/scene.tif' cannot be opened (GDAL does not "
    "recognise it as a raster). Check that the file exists, is readable and is a raster format GDAL knows.",
)
def raster_not_a_raster(files, parameters):
    files.write_bytes(files.raster, b"This is a text file, not an image.\n" * 10)


@refused(
    "A GeoTIFF cut short (header intact, pixel data missing)",
    ("samplepixels", "classifywater", "assessaccuracy"),
    "Reading the raster failed ({folder}/scene.tif, band 1: IReadBlock failed at X offset 0, Y offset 0: "
    "TIFFReadEncodedTile() failed.); the file may be damaged or incomplete. Check that it displays in "
    "QGIS, or copy or export it again.",
)
def raster_truncated(files, parameters):
    cut_short(files.raster)


@refused(
    "A GeoTIFF cut short (header intact, pixel data missing)",
    ("predictwater",),
    "Reading rows 0–200 of the raster failed ({folder}/scene.tif, band 1: IReadBlock failed at X offset 0, "
    "Y offset 0: TIFFReadEncodedTile() failed.); the file may be damaged or incomplete. Check that it "
    "displays in QGIS, or copy or export it again.",
)
def raster_truncated_predict(files, parameters):
    cut_short(files.raster)


@refused(
    "Model file truncated",
    ("predictwater",),
    "'{folder}/model.json' is not a water model file (it is not complete JSON; it may be truncated "
    "or another kind of file).",
)
def model_truncated(files, parameters):
    with open(files.model, "rb") as handle:
        data = handle.read()
    files.write_bytes(files.model, data[: len(data) // 2])


@refused(
    "Model file that is not a model (a GeoTIFF renamed model.json)",
    ("predictwater",),
    "'{folder}/model.json' is not a water model file (it is not complete JSON; it may be truncated "
    "or another kind of file).",
)
def model_not_json(files, parameters):
    shutil.copy(files.raster, files.model)


@refused(
    "Model file that is a Python pickle carrying code (os.system payload)",
    ("predictwater",),
    "'{folder}/model.json' is a Python pickle or torch.save file, not a water model. Such files can "
    "run code when opened, so this plugin never opens them; train a model with the plugin to get a "
    "safe JSON model file.",
)
def model_pickle(files, parameters):
    files.write_bytes(files.model, pickle.dumps(WritesMarker(files.folder / "payload-ran")))


@refused(
    "Model file that is JSON but no model",
    ("predictwater",),
    "'{folder}/model.json' is not a usable water model: it lacks the model-format marker; choose a "
    "model file saved by 'Train water model' or 'Classify water'.",
)
def model_other_json(files, parameters):
    files.write_bytes(files.model, b'{"weights": [1, 2, 3], "bias": 0}')


@refused(
    "Model file from a newer format version (3)",
    ("predictwater",),
    "'{folder}/model.json' is not a usable water model: it was written in model format version 3 by "
    "a newer water_logreg_plugin; this one reads versions up to 2. Update the plugin.",
)
def model_newer_version(files, parameters):
    files.spoil_model(lambda document: document.update(format_version=3))


@refused(
    "Model built for bands the raster lacks (bands 1-3, a 2-band raster)",
    ("predictwater",),
    "The model uses bands 1, 2, 3, but 'scene.tif' has only 2 bands. Use a raster with the same "
    "bands as the one the model was trained on.",
)
def model_missing_bands(files, parameters):
    write_raster(files.raster, water_scene()[0][:2])


@refused(
    "Model trained on a 3-band raster, applied to a 4-band raster",
    ("predictwater",),
    "The model was trained on a raster of 3 bands, but 'scene.tif' has 4, so the same band numbers "
    "may hold other wavelengths. Predict only on rasters with the same bands as the one the model "
    "was trained on.",
)
def model_other_band_count(files, parameters):
    bands = water_scene()[0]
    write_raster(files.raster, np.concatenate([bands, bands[:1]]))


@refused(
    "Output path in a folder that does not exist",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "The output folder '{folder}/missing' does not exist; create it or choose another output path.",
)
def output_folder_missing(files, parameters):
    outputs_into(files.folder / "missing", parameters)


@refused(
    "Output path in a folder that cannot be written",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "The output folder '{folder}/read-only' cannot be written (permission denied); "
    "choose a folder you can write to.",
)
def output_folder_read_only(files, parameters):
    folder = files.folder / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    outputs_into(folder, parameters)


@refused(
    "OUTPUT is the input raster itself",
    ("predictwater", "classifywater"),
    "OUTPUT is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the input "
    "would be overwritten.",
)
def output_is_input(files, parameters):
    parameters["OUTPUT"] = files.raster


@refused(
    "OUTPUT is a symbolic link to the input raster, spelt with '..'",
    ("predictwater", "classifywater"),
    "OUTPUT is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the input "
    "would be overwritten.",
)
def output_is_input_through_link(files, parameters):
    os.symlink(files.raster, files.output_folder / "link.tif")
    parameters["OUTPUT"] = str(files.output_folder / ".." / "out" / "link.tif")


@refused(
    "OUTPUT_MODEL is the input raster",
    ("classifywater",),
    "OUTPUT_MODEL is the same file as INPUT ('{folder}/scene.tif'); choose another output path — the "
    "input would be overwritten.",
)
def model_output_is_input(files, parameters):
    parameters["OUTPUT_MODEL"] = files.raster


@refused(
    "OUTPUT_MODEL is the samples layer it trains on",
    ("trainmodel",),
    "OUTPUT_MODEL is the same file as SAMPLES ('{folder}/samples.gpkg'); choose another output path — "
    "the input would be overwritten.",
)
def model_output_is_samples(files, parameters):
    parameters["OUTPUT_MODEL"] = files.samples


@refused(
    "OUTPUT (or the report) is the polygon layer",
    ("samplepixels", "assessaccuracy"),
    "{output} is the same file as POLYGONS ('{folder}/polygons.gpkg'); choose another output path — "
    "the input would be overwritten.",
)
def output_is_polygons(files, parameters):
    parameters[first_output(parameters)] = files.polygons


@refused(
    "OUTPUT_MASK is the same file as OUTPUT",
    ("predictwater", "classifywater"),
    "OUTPUT_MASK is the same file as OUTPUT ('{folder}/out/probability.tif'); give each output a path "
    "of its own.",
)
def mask_is_output(files, parameters):
    parameters["OUTPUT_MASK"] = parameters["OUTPUT"]


@refused(
    "An output path that is an existing folder",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "{output} '{folder}/out' is an existing folder, not a file; give the path of a file, e.g. a new "
    "name inside that folder.",
)
def output_is_folder(files, parameters):
    parameters[first_output(parameters)] = str(files.output_folder)


@refused(
    "An output path that is a named pipe (FIFO)",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "{output} '{folder}/out/pipe' is a named pipe (FIFO), not a regular file; writing the output would "
    "replace it. Choose the path of a file.",
)
def output_is_fifo(files, parameters):
    os.mkfifo(files.output_folder / "pipe")
    parameters[first_output(parameters)] = str(files.output_folder / "pipe")


@refused(
    "An output path whose folder is a file (model.json/…)",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "{output} '{folder}/model.json/{output_name}' cannot be written: '{folder}/model.json' is a file, "
    "not a folder. Choose another output path.",
)
def output_folder_is_a_file(files, parameters):
    name = first_output(parameters)
    parameters[name] = os.path.join(files.model, os.path.basename(parameters[name]))


@refused(
    "An output path in a system folder (/sys)",
    ("samplepixels", "trainmodel", "classifywater", "predictwater", "assessaccuracy"),
    "The output folder '/sys' cannot be written (permission denied); choose a folder you can write to.",
)
def output_in_system_folder(files, parameters):
    outputs_into("/sys", parameters)


@refused(
    "A raster output ending .png (GDAL cannot create PNG block by block)",
    ("predictwater", "classifywater"),
    "OUTPUT '{folder}/out/probability.png' has the extension '.png', but this tool writes GeoTIFF "
    "rasters; name the file 'probability.tif' (or .tiff), or convert the result afterwards (Raster → "
    "Conversion → Translate).",
)
def raster_output_png(files, parameters):
    parameters["OUTPUT"] = str(files.output_folder / "probability.png")


@refused(
    "OUTPUT_SUMMARY is one of the scenes",
    ("predictscenes",),
    "OUTPUT_SUMMARY is the same file as scene '{folder}/scene.tif' ('{folder}/scene.tif'); choose another "
    "output path — the input would be overwritten.",
)
def summary_is_scene(files, parameters):
    parameters["OUTPUT_SUMMARY"] = files.raster


@refused(
    "OUTPUT_FOLDER is a file",
    ("predictscenes",),
    "OUTPUT_FOLDER '{folder}/samples.gpkg' cannot be used as a folder: '{folder}/samples.gpkg' is a file. "
    "Choose another output folder.",
)
def scenes_output_folder_is_a_file(files, parameters):
    parameters["OUTPUT_FOLDER"] = files.samples


@refused(
    "A Dask scheduler address that is a web address (http://localhost:8787/status)",
    ("predictscenes",),
    "'http://localhost:8787/status' is not a Dask scheduler address; give one like tcp://host:8786 (the "
    "address `dask scheduler` prints).",
)
def scheduler_not_an_address(files, parameters):
    parameters["SCHEDULER"] = "http://localhost:8787/status"


@refused(
    "The model file is a named pipe (FIFO)",
    ("predictwater", "predictscenes"),
    "Unable to execute algorithm\nThe model file '{folder}/model.json' is a named pipe (FIFO), not a "
    "regular file, and reading it could wait for ever; choose a model file saved on disk.",
)
def model_fifo(files, parameters):
    os.remove(files.model)
    os.mkfifo(files.model)


@refused(
    "The raster is a named pipe (FIFO)",
    ("samplepixels", "classifywater", "predictwater", "assessaccuracy"),
    "Unable to execute algorithm\nThe multispectral raster '{folder}/scene.tif' is a named pipe (FIFO), "
    "not a regular file, and reading it could wait for ever; choose a multispectral raster saved on disk.",
)
def raster_fifo(files, parameters):
    os.remove(files.raster)
    os.mkfifo(files.raster)


@refused(
    "MAX_PIXELS_PER_CLASS negative (-1)",
    ("samplepixels", "classifywater"),
    "The maximum number of pixels per class cannot be negative; use 0 to keep all pixels.",
)
def max_pixels_negative(files, parameters):
    parameters["MAX_PIXELS_PER_CLASS"] = -1


@refused(
    "DEVICE CUDA on a machine without a CUDA GPU",
    ("trainmodel", "classifywater", "predictwater"),
    "CUDA was asked for, but torch finds no CUDA GPU on this machine (torch {torch}). Choose Auto or CPU, "
    "or install a CUDA build of torch on a machine with an NVIDIA GPU.",
)
def cuda_without_gpu(files, parameters):
    parameters["DEVICE"] = 2


@refused(
    "Model file with a weight written as 1e400 (infinite once read)",
    ("predictwater",),
    "'{folder}/model.json' is not a usable water model: its layer 1 weight holds a non-finite number; "
    "choose a model file saved by 'Train water model' or 'Classify water'.",
)
def model_non_finite(files, parameters):
    with open(files.model, encoding="utf-8") as handle:
        text = handle.read()
    document = json.loads(text)
    document["layers"][0]["weight"][0][0] = 12345.5
    files.write_bytes(files.model, json.dumps(document).replace("12345.5", "1e400").encode())


@refused(
    "Model file with a standard deviation of 1e-310 for a band it uses",
    ("predictwater",),
    "'{folder}/model.json' is not a usable water model: its first layer's weights divided by the standard "
    "deviations overflow (a standard deviation too close to 0, or weights too large); the file is damaged "
    "or was edited by hand. Train the model again.",
)
def model_tiny_std(files, parameters):
    files.spoil_model(lambda document: document["standardization"].update(std=[1e-310, 1.0, 1.0]))


@refused(
    "Model file with a hidden layer of 100,000 units",
    ("predictwater",),
    "'{folder}/model.json' is not a usable water model: a layer has 100000 units; this plugin predicts "
    "with layers of at most 4096 units, so that a map fits in memory. Train a narrower model (HIDDEN_LAYERS).",
)
def model_too_wide(files, parameters):
    files.spoil_model(lambda document: document.update(layers=[
        {"weight": [[0.0, 0.0, 0.0]] * 100_000, "bias": [0.0] * 100_000},
        {"weight": [[0.0] * 100_000], "bias": [0.0]}]))


@refused(
    "Model trained on bands without scale/offset, applied to a raster whose bands say "
    "scale 0.0001, offset -0.1",
    ("predictwater",),
    "Band 1 of 'scene.tif' has scale 0.0001 and offset -0.1, but the model was trained on a band of scale 1 "
    "and offset 0: the same stored numbers mean other values. Predict only on rasters of the kind the model "
    "was trained on.",
)
def model_other_scale(files, parameters):
    dataset = gdal.Open(files.raster, gdal.GA_Update)
    for number in (1, 2, 3):
        dataset.GetRasterBand(number).SetScale(0.0001)
        dataset.GetRasterBand(number).SetOffset(-0.1)
    dataset = None


@refused(
    "A 3-band scene given as the probability map",
    ("assessaccuracy",),
    "The raster 'scene.tif' has 3 bands, so it is not a probability map (one band of P(water) from 0 "
    "to 1). Choose the output of 'Predict water probability' or 'Classify water'.",
)
def assess_several_bands(files, parameters):
    """The good scene as it is: three bands."""


@refused(
    "A 1-band UInt16 raster (values 300 and 1000) given as the probability map",
    ("assessaccuracy",),
    "The raster 'scene.tif' holds values from 300 to 1000 under the polygons, so it is not a probability "
    "map (P(water) from 0 to 1). Choose the output of 'Predict water probability' or 'Classify water'.",
)
def assess_not_probability(files, parameters):
    bands, truth = water_scene()
    write_raster(files.raster, np.where(truth, 300, 1000)[np.newaxis])


@refused(
    "Sampled pixels asked for as a DXF file (DXF takes no fields of its own)",
    ("samplepixels",),
    "Sampled pixels cannot be written to '{folder}/out/samples.dxf': DXF layer does not support arbitrary field "
    "creation, field 'label' not created. Choose a format that holds it, such as GeoPackage (.gpkg), then run "
    "again.",
)
def samples_as_dxf(files, parameters):
    parameters["OUTPUT"] = str(files.output_folder / "samples.dxf")


@refused(
    "The polygon check asked for as a GPX file (GPX takes points and lines), refused before the work",
    ("classifywater",),
    "Training polygons checked cannot be written to '{folder}/out/check.gpx': Geometry type of `Multi Polygon' "
    "not supported in GPX. Choose a format that holds it, such as GeoPackage (.gpkg), then run again.",
)
def polygon_check_as_gpx(files, parameters):
    parameters["OUTPUT_POLYGON_CHECK"] = str(files.output_folder / "check.gpx")


@refused(
    "The batch summary asked for as a DXF file, refused before any scene is mapped",
    ("predictscenes",),
    "Summary cannot be written to '{folder}/out/summary.dxf': DXF layer does not support arbitrary field "
    "creation, field 'scene' not created. Choose a format that holds it, such as GeoPackage (.gpkg), then run "
    "again.",
)
def summary_as_dxf(files, parameters):
    parameters["OUTPUT_SUMMARY"] = str(files.output_folder / "summary.dxf")


# Inputs that are not refused: the run completes and says what it did.
ACCEPTED = [
    Accepted("constant_band", "A band constant over the samples (zero variance)",
        ("trainmodel", "classifywater"),
        "Runs, and logs: Warning: band 3 is constant (1000) over the samples; it cannot tell water from "
        "land and is ignored by the model. No NaN anywhere in the model or the map."),
    Accepted("nan_and_inf_pixels", "NaN, +inf and -inf pixels in a Float32 raster",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; those pixels are never sampled and are nodata (-9999) in the probability map."),
    Accepted("nan_nodata", "A Float32 raster whose nodata value is NaN",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; NaN pixels are never sampled and are nodata (-9999) in the probability map."),
    Accepted("dataset_mask", "A GeoTIFF whose invalid pixels are marked by an internal mask band, no nodata value "
        "(tiled or striped)",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; masked pixels are never sampled and are nodata (-9999) in the probability map."),
    Accepted("alpha_band", "A GeoTIFF whose invalid pixels are marked by an alpha band (tiled or striped)",
        ("samplepixels", "classifywater", "predictwater"),
        "Runs; transparent pixels (alpha 0) are never sampled and are nodata (-9999) in the probability map; "
        "the alpha band is not a training band."),
    Accepted("null_class", "A polygon whose class is NULL, drawn over water",
        ("samplepixels", "classifywater"),
        "Runs, and logs: Warning: polygons with no value in the field 'class' are neither water nor land and "
        "are skipped: 1 (ids 9). Give them a class to train on them."),
    Accepted("date_class", "A class field of dates (WATER_VALUES '2021-06-30')",
        ("samplepixels", "classifywater"),
        "Runs; dates are compared as YYYY-MM-DD text, so the polygons dated 2021-06-30 are water."),
    Accepted("curved_polygons", "CurvePolygon and MultiSurface polygons",
        ("samplepixels", "classifywater"),
        "Runs; arcs are cut into short segments and the pixels are those of the same polygons drawn straight."),
    Accepted("no_crs", "A polygon layer without a CRS",
        ("samplepixels", "classifywater"),
        "Runs, and logs: Warning: the layer 'polygons' has no CRS; its coordinates are taken to be in the "
        "raster's CRS (EPSG:32633). Set the layer's CRS if they are not."),
    Accepted("tiny_polygons", "Many polygons smaller than a pixel (300)",
        ("samplepixels",),
        "Runs, and logs one line for them all: 300 polygons yield no pixel: they are smaller than a pixel or "
        "cover no pixel centre (ids 9, 10, 11, 12, 13 and 295 more)."),
    Accepted("model_byte_order_mark", "A model file saved with a UTF-8 byte-order mark (Windows Notepad)",
        ("predictwater",),
        "Runs; the mark is ignored and the map is the one the model gives without it."),
    Accepted("model_metadata_as_text", "A model file whose band count and data type were edited to '3' and 'uint16'",
        ("predictwater",),
        "Runs; they are read as 3 bands of UInt16, and a 4-band raster is still refused."),
    Accepted("model_huge_weights", "A model file with weights of 1e300",
        ("predictwater",),
        "Runs; every valid pixel gets a probability (0 or 1 where the logit is that large), none is nodata."),
]
