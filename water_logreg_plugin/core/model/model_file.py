"""The model file: JSON (see docs/MODEL_FORMAT.md), numbers and names only, so loading a file a
colleague sent can never run code, as unpickling can."""

import itertools
import json

import numpy as np
from osgeo import gdal

from ..errors import WaterLogRegError
from ..raster.reading import check_regular_file
from ..settings import MAX_LAYER_SIZE, MAX_LAYERS
from .network import ACTIVATIONS, WaterModel

MODEL_FORMAT = "water_logreg_plugin model"
FORMAT_VERSION = 2  # 1: logistic regression only ("weights", "bias"); 2: "layers"
MAX_MODEL_BYTES = 64 * 1024 * 1024
PICKLE_OR_TORCH_MAGIC = (b"\x80", b"PK\x03\x04")
GDAL_TYPE_NAMES = {gdal.GetDataTypeName(code).lower() for code in range(1, gdal.GDT_TypeCount)}


def save_model(model, path):
    """Write the model as JSON; floats are written exactly (shortest round-trip form)."""
    document = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "bands": [int(band) for band in model.bands],
        "standardization": {"mean": model.mean.tolist(), "std": model.std.tolist()},
        "activation": model.activation,
        "layers": [{"weight": weight.tolist(), "bias": bias.tolist()} for weight, bias in model.layers],
        "training": model.training,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, allow_nan=False)
        handle.write("\n")


def load_model(path):
    """Read a model file, refusing anything that is not one, with the reason."""
    check_regular_file(path, "model file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_MODEL_BYTES + 1)
    except OSError as error:
        raise WaterLogRegError(f"The model file '{path}' cannot be read ({error.strerror}).") from None
    if len(raw) > MAX_MODEL_BYTES:
        raise WaterLogRegError(
            f"'{path}' is larger than any model file ({MAX_MODEL_BYTES // 2**20} MB); it is not a model."
        )
    if raw.startswith(PICKLE_OR_TORCH_MAGIC):
        raise WaterLogRegError(
            f"'{path}' is a Python pickle or torch.save file, not a water model. Such files can "
            "run code when opened, so this plugin never opens them; train a model with the "
            "plugin to get a safe JSON model file."
        )
    wide = _wide_text_encoding(raw)
    if wide:
        raise WaterLogRegError(
            f"'{path}' is JSON text in {wide}, but a model file is JSON in UTF-8; save it again as UTF-8 "
            "(Notepad: File ‣ Save As, Encoding UTF-8), or choose the model file the plugin saved."
        )
    try:
        # utf-8-sig: Windows Notepad starts a file saved as UTF-8 with a byte-order mark.
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WaterLogRegError(
            f"'{path}' is not a water model file (it is not complete JSON; it may be truncated "
            "or another kind of file)."
        ) from None
    try:
        return _model_from_document(document)
    except WaterLogRegError as error:
        reason = str(error)
        advice = "" if reason.endswith(".") else (
            "; choose a model file saved by 'Train water model' or 'Classify water'.")
        raise WaterLogRegError(f"'{path}' is not a usable water model: {reason}{advice}") from None


def _wide_text_encoding(raw):
    """'UTF-16' or 'UTF-32' for JSON text in one of them (Notepad's 'Unicode' is UTF-16), which
    would otherwise read as 'not complete JSON'; None for anything else."""
    encoding = json.detect_encoding(raw)
    if not encoding.startswith(("utf-16", "utf-32")):
        return None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return None
    return encoding[:6].upper() if text.lstrip("\ufeff \t\r\n").startswith("{") else None


def _model_from_document(document):
    version = _format_version(document)
    bands, mean, std = _bands_and_standardization(document)
    activation = document.get("activation", "relu")  # files before 0.3.0 hold ReLU networks
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise WaterLogRegError(f"its activation is not one of {', '.join(map(repr, ACTIVATIONS))}")
    layers = _layers(document, version, len(bands))
    training = document.get("training", {})
    if not isinstance(training, dict):
        raise WaterLogRegError("its training metadata is not a mapping")
    _check_data_type(training)
    widest = max(weight.shape[0] for weight, _ in layers)
    if widest > MAX_LAYER_SIZE:
        raise WaterLogRegError(
            f"a layer has {widest} units; this plugin predicts with layers of at most {MAX_LAYER_SIZE} "
            "units, so that a map fits in memory. Train a narrower model (HIDDEN_LAYERS)."
        )
    model = WaterModel(bands, mean, std, layers, training, activation)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        folded = model.folded_layers()[0]
    if not all(np.all(np.isfinite(array)) for array in folded):
        raise WaterLogRegError(
            "its first layer's weights divided by the standard deviations overflow (a standard "
            "deviation too close to 0, or weights too large); the file is damaged or was edited by hand. "
            "Train the model again."
        )
    return model


def _format_version(document):
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise WaterLogRegError("it lacks the model-format marker")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WaterLogRegError("its format version is missing or not a whole number")
    if version > FORMAT_VERSION:
        raise WaterLogRegError(
            f"it was written in model format version {version} by a newer water_logreg_plugin; "
            f"this one reads versions up to {FORMAT_VERSION}. Update the plugin."
        )
    return version


def _bands_and_standardization(document):
    bands = document.get("bands")
    if (not isinstance(bands, list) or not bands
            or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in bands)
            or len(set(bands)) != len(bands)):
        raise WaterLogRegError("its band list is missing or not distinct band numbers from 1")
    standardization = document.get("standardization")
    if not isinstance(standardization, dict):
        raise WaterLogRegError("its standardization is missing")
    mean = _float_array(standardization.get("mean"), (len(bands),), "mean")
    std = _float_array(standardization.get("std"), (len(bands),), "std")
    if not np.all(std > 0):
        raise WaterLogRegError("its standard deviations must be greater than 0")
    return bands, mean, std


def _layers(document, version, band_count):
    """[(weight, bias), …], each taking the previous one's outputs, the last giving one."""
    if version == 1:
        layer_documents = [{"weight": [document.get("weights")], "bias": [document.get("bias")]}]
    else:
        layer_documents = document.get("layers")
    if not isinstance(layer_documents, list) or not layer_documents:
        raise WaterLogRegError("its layers are missing")
    if len(layer_documents) > MAX_LAYERS:
        raise WaterLogRegError(
            f"it has {len(layer_documents)} layers, too many layers: this plugin predicts with at most "
            f"{MAX_LAYERS}. Train a model with fewer hidden layers (HIDDEN_LAYERS)."
        )
    layers = []
    inputs = band_count
    for index, layer in enumerate(layer_documents):
        if not isinstance(layer, dict):
            raise WaterLogRegError(f"layer {index + 1} is not a weight and bias")
        weight = _float_array(layer.get("weight"), None, f"layer {index + 1} weight", dims=2)
        outputs = weight.shape[0]
        if weight.shape[1] != inputs:
            raise WaterLogRegError(f"layer {index + 1} takes {weight.shape[1]} inputs, not {inputs}")
        bias = _float_array(layer.get("bias"), (outputs,), f"layer {index + 1} bias")
        layers.append((weight, bias))
        inputs = outputs
    if inputs != 1:
        raise WaterLogRegError("its last layer must have exactly one output")
    return layers


def _check_data_type(training):
    """The data type the model was trained on, where recorded, is a GDAL type name (any case:
    'uint16' is UInt16); anything else (123) would read as a pixel count in the messages."""
    data_type = training.get("data_type")
    if data_type in (None, ""):
        return  # files before the check was written: not checked
    if str(data_type).strip().lower() not in GDAL_TYPE_NAMES:
        raise WaterLogRegError(
            f"its training data type {json.dumps(data_type)} is not a GDAL data type (Byte, Int16, UInt16, "
            "Float32, …); the file is damaged or was edited by hand. Correct it to the data type of the raster "
            "it was trained on, or train the model again."
        )


def _float_array(value, shape, name, dims=1):
    leaves = _leaf_types(value, dims)
    if str in leaves:
        raise WaterLogRegError(f"its {name} holds text (numbers in quotes), not numbers")
    if bool in leaves:
        raise WaterLogRegError(f"its {name} holds true or false, not numbers")
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise WaterLogRegError(f"its {name} is not a list of numbers") from None
    if array.ndim != dims or array.size == 0 or (shape is not None and array.shape != shape):
        raise WaterLogRegError(f"its {name} has the wrong shape")
    if not np.all(np.isfinite(array)):
        raise WaterLogRegError(f"its {name} holds a non-finite number")
    return array


def _leaf_types(value, dims):
    """The types of the entries of a list (dims 1) or of its rows (dims 2): numpy would take the
    text '0.5' and true as numbers (true as 1), which no model file the plugin writes holds."""
    if not isinstance(value, list):
        return set()
    if dims == 2:
        if not all(isinstance(row, list) for row in value):
            return set(map(type, value))
        return set(map(type, itertools.chain.from_iterable(value)))
    return set(map(type, value))
