"""Turning QGIS layers, parameters and feedback into what the core takes, and back."""

import os
import re
import shutil
import tempfile

from qgis.core import (
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProperty,
    QgsWkbTypes,
)

from ..core.errors import Canceled
from ..core.raster import check_output_folder
from ..core.sampling import TrainingPolygon

DEVICE_OPTIONS = ("Auto (CUDA, else MPS, else CPU)", "CPU", "CUDA")
DEVICE_VALUES = ("auto", "cpu", "cuda")
OPTIMIZER_OPTIONS = ("L-BFGS (reaches the optimum in few steps)", "Adam", "Gradient descent (SGD)")
OPTIMIZER_VALUES = ("lbfgs", "adam", "sgd")
DEFAULT_WATER_VALUES = "water,1"


def with_help(parameter, text):
    parameter.setHelp(text)
    return parameter


def advanced(parameter):
    parameter.setFlags(parameter.flags() | parameter.FlagAdvanced)
    return parameter


def raster_parameter(name="INPUT"):
    return with_help(
        QgsProcessingParameterRasterLayer(name, "Multispectral raster"),
        "The image to map water in, as a file GDAL reads (GeoTIFF, JP2, VRT, …), any CRS.",
    )


def bands_parameter(parent="INPUT"):
    return with_help(
        QgsProcessingParameterBand(
            "BANDS", "Bands to use (empty = all)", None, parent, optional=True, allowMultiple=True
        ),
        "The bands that describe a pixel, e.g. green, red and near-infrared. Leave empty to use every band.",
    )


def polygons_parameter(name="POLYGONS", description="Training polygons"):
    return with_help(
        QgsProcessingParameterFeatureSource(name, description, [QgsProcessing.TypeVectorPolygon]),
        "Polygons drawn over water and over land, in any CRS (they are reprojected to the "
        "raster's). Every pixel whose centre lies inside a polygon is a sample.",
    )


def class_field_parameter(parent="POLYGONS"):
    return with_help(
        QgsProcessingParameterField("CLASS_FIELD", "Class field", None, parent),
        "The field of the polygon layer that says what each polygon is.",
    )


def water_values_parameter():
    return with_help(
        QgsProcessingParameterString("WATER_VALUES", "Class values meaning water", DEFAULT_WATER_VALUES),
        "Comma-separated values of the class field that mean water (not case-sensitive); "
        "every other value is land.",
    )


def max_pixels_parameter():
    return with_help(
        QgsProcessingParameterNumber(
            "MAX_PIXELS_PER_CLASS", "Maximum pixels per class (0 = all)",
            QgsProcessingParameterNumber.Integer, 100000,
        ),
        "At most this many pixels of each class are kept, drawn at random with the seed; 0 keeps all.",
    )


def seed_parameter():
    return with_help(
        QgsProcessingParameterNumber("SEED", "Random seed", QgsProcessingParameterNumber.Integer, 0, minValue=0),
        "Runs with the same seed and input give the same samples, split and model.",
    )


def device_parameter():
    return with_help(
        QgsProcessingParameterEnum("DEVICE", "Device", list(DEVICE_OPTIONS), defaultValue=0),
        "Where torch computes: Auto takes a CUDA GPU if there is one, else an Apple GPU (MPS), else the CPU.",
    )


def threshold_parameter():
    return with_help(
        QgsProcessingParameterNumber(
            "THRESHOLD", "Water threshold", QgsProcessingParameterNumber.Double, 0.5, minValue=0, maxValue=1
        ),
        "A pixel is called water when its probability is at least this (for the mask and the figures).",
    )


def report_parameter():
    """OUTPUT_REPORT: declared as HTML, so QGIS lists it in the Results Viewer after the run."""
    return with_help(
        QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", "Report", "HTML files (*.html)", optional=True, createByDefault=False,
        ),
        "Optional: one self-contained HTML page with the accuracy figures, the confusion matrix, "
        "the histogram of predicted probabilities and, for a trained model, the loss curve, the "
        "samples and decision boundary in feature space, the coefficients and the settings.",
    )


def training_parameters():
    """HIDDEN_LAYERS, VALIDATION_FRACTION and the optimiser settings (advanced)."""
    return [
        with_help(
            QgsProcessingParameterNumber(
                "VALIDATION_FRACTION", "Fraction of polygons held out for validation",
                QgsProcessingParameterNumber.Double, 0.2, minValue=0, maxValue=0.9,
            ),
            "This share of the polygons of each class is kept out of training and used to "
            "measure the model; 0 trains on all and reports figures on the training pixels.",
        ),
        with_help(
            QgsProcessingParameterString(
                "HIDDEN_LAYERS", "Hidden layers (empty = logistic regression)", "", optional=True
            ),
            "Empty: logistic regression, σ(Aᵀx + b). '16,16': a multi-layer perceptron with two "
            "hidden layers of 16 units (ReLU), for water a plane cannot separate from land.",
        ),
        advanced(with_help(
            QgsProcessingParameterEnum("OPTIMIZER", "Optimiser", list(OPTIMIZER_OPTIONS), defaultValue=0),
            "L-BFGS reaches the maximum-likelihood fit in tens of steps; gradient descent is the "
            "course's plain step of size η.",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                "LEARNING_RATE", "Learning rate η (0 = the optimiser's default)",
                QgsProcessingParameterNumber.Double, 0.0, minValue=0,
            ),
            "Step size; 0 takes 1.0 for L-BFGS, 0.05 for Adam and 0.5 for gradient descent.",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                "MAX_STEPS", "Maximum optimiser steps", QgsProcessingParameterNumber.Integer, 500, minValue=1,
            ),
            "Training stops here, or earlier once L-BFGS has converged.",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                "L2_PENALTY", "L2 penalty λ (0 = maximum likelihood)",
                QgsProcessingParameterNumber.Double, 0.0, minValue=0,
            ),
            "Adds λ/2·Σw² to the loss. Where your polygons separate water from land perfectly, "
            "0 gives a 0/1 step at the shoreline; a small λ such as 0.001 keeps the probabilities "
            "graded there.",
        )),
    ]


def training_settings(algorithm, parameters, context):
    """The keyword arguments of train_water_model that come from training_parameters()."""
    from ..core.model import parse_hidden_layers

    return {
        "validation_fraction": algorithm.parameterAsDouble(parameters, "VALIDATION_FRACTION", context),
        "hidden_layers": parse_hidden_layers(algorithm.parameterAsString(parameters, "HIDDEN_LAYERS", context)),
        "optimizer": OPTIMIZER_VALUES[algorithm.parameterAsEnum(parameters, "OPTIMIZER", context)],
        "learning_rate": algorithm.parameterAsDouble(parameters, "LEARNING_RATE", context) or None,
        "max_steps": algorithm.parameterAsInt(parameters, "MAX_STEPS", context),
        "l2_penalty": algorithm.parameterAsDouble(parameters, "L2_PENALTY", context),
    }


def device_choice(algorithm, parameters, context):
    return DEVICE_VALUES[algorithm.parameterAsEnum(parameters, "DEVICE", context)]


def raster_path(algorithm, parameters, context, name="INPUT"):
    """The file behind a raster parameter, refused where GDAL cannot read it directly."""
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        raise QgsProcessingException(
            f"The raster given as {name} cannot be loaded; choose a raster layer or a raster file."
        )
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The raster '{layer.name()}' comes from the '{layer.providerType()}' provider; this "
            "tool reads rasters with GDAL. Save it as a GeoTIFF first (Export → Save As)."
        )
    return layer.source(), layer


def core_callbacks(feedback):
    """progress, is_canceled and log for the core, reporting into the Processing feedback."""
    return {
        "progress": lambda fraction: feedback.setProgress(100.0 * fraction),
        "is_canceled": feedback.isCanceled,
        "log": feedback.pushInfo,
    }


def sink_file(algorithm, parameters, name, context):
    """The file a feature sink parameter writes, checked writable; None for a memory layer,
    a database table or a layer inside an existing file, which are left to QGIS."""
    value = parameters.get(name)
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.valueAsString(context.expressionContext())[0]
    value = str(value or "")
    if (value in ("", "TEMPORARY_OUTPUT") or "|" in value or re.match(r"^\w{2,}:", value)
            or not os.path.splitext(value)[1]):
        return None
    check_output_folder(value)
    return os.path.abspath(value)


def write_features(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback):
    """Write batches of features to the sink `name`; returns its destination id.

    A file is written in a hidden folder beside its destination and moved into place only
    when complete, so a cancel, an error or a kill never leaves a file that looks finished.
    """
    destination = sink_file(algorithm, parameters, name, context)
    if destination is None:
        return _add_batches(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback)
    folder, file_name = os.path.split(destination)
    staging = tempfile.mkdtemp(prefix=f".{os.path.splitext(file_name)[0]}.partial-", dir=folder)
    staged = os.path.join(staging, file_name)
    staged_parameters = dict(parameters)
    original = parameters.get(name)
    if isinstance(original, QgsProcessingOutputLayerDefinition):
        staged_parameters[name] = QgsProcessingOutputLayerDefinition(original)
        staged_parameters[name].sink = QgsProperty.fromValue(staged)
    else:
        staged_parameters[name] = staged
    try:
        staged_id = _add_batches(algorithm, staged_parameters, name, context, fields, geometry_type, crs,
                                 batches, feedback)
        # A shapefile is several files: its sidecars move first, the file users open last.
        for sidecar in sorted(os.listdir(staging), key=lambda entry: entry == file_name):
            os.replace(os.path.join(staging, sidecar), os.path.join(folder, sidecar))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    destination_id = staged_id.replace(staged, destination)
    to_load = context.layersToLoadOnCompletion()
    if staged_id in to_load:
        to_load[destination_id] = to_load.pop(staged_id)
        context.setLayersToLoadOnCompletion(to_load)
    return destination_id


def _add_batches(algorithm, parameters, name, context, fields, geometry_type, crs, batches, feedback):
    """Create the sink, add every batch, and close it (the file is complete only once closed)."""
    sink, sink_id = algorithm.parameterAsSink(parameters, name, context, fields, geometry_type, crs)
    if sink is None:
        raise QgsProcessingException(algorithm.invalidSinkError(parameters, name))
    for batch in batches:
        if feedback.isCanceled():
            raise Canceled()
        if not sink.addFeatures(batch, QgsFeatureSink.FastInsert):
            raise QgsProcessingException(f"Writing the features failed: {sink.lastError()}")
    del sink
    return sink_id


def parse_water_values(text):
    values = {_normalise(value) for value in (text or "").split(",")} - {""}
    if not values:
        raise QgsProcessingException(
            "WATER_VALUES is empty; give the value(s) of the class field that mean water, "
            "e.g. 'water,1'."
        )
    return values


def training_polygons(algorithm, parameters, context, feedback, raster_crs,
                      layer_name="POLYGONS", field_name="CLASS_FIELD"):
    """The polygons as TrainingPolygon in the raster's CRS, labelled water or land."""
    source = algorithm.parameterAsSource(parameters, layer_name, context)
    if source is None:
        raise QgsProcessingException(algorithm.invalidSourceError(parameters, layer_name))
    geometry_type = QgsWkbTypes.geometryType(source.wkbType())
    if geometry_type != QgsWkbTypes.PolygonGeometry:
        raise QgsProcessingException(
            f"The layer '{source.sourceName()}' holds {QgsWkbTypes.geometryDisplayString(geometry_type).lower()} "
            "geometries, not polygons; draw training areas as polygons."
        )
    class_field = algorithm.parameterAsString(parameters, field_name, context)
    field_index = source.fields().lookupField(class_field) if class_field else -1
    if field_index < 0:
        raise QgsProcessingException(
            f"The class field '{class_field}' is not a field of '{source.sourceName()}'; "
            f"its fields are: {', '.join(source.fields().names()) or 'none'}. Choose the field that says water or land."
        )
    water_values = parse_water_values(algorithm.parameterAsString(parameters, "WATER_VALUES", context))
    if source.featureCount() == 0:
        raise QgsProcessingException(
            f"The polygon layer '{source.sourceName()}' has no features; "
            "draw training polygons of water and land first."
        )
    request = (
        QgsFeatureRequest()
        .setDestinationCrs(raster_crs, context.transformContext())
        .setSubsetOfAttributes([field_index])
    )
    polygons, found_values = [], set()
    for feature in source.getFeatures(request):
        if feedback.isCanceled():
            raise Canceled()
        value = _normalise(feature.attribute(field_index))
        found_values.add(value)
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            feedback.pushInfo(f"Polygon {feature.id()} has no geometry and is skipped.")
            continue
        polygons.append(TrainingPolygon(int(feature.id()), bytes(geometry.asWkb()), value in water_values))
    if not any(polygon.is_water for polygon in polygons):
        raise QgsProcessingException(
            f"No polygon has a water value ({', '.join(sorted(water_values))}) in the field "
            f"'{class_field}'; the values found are: {', '.join(sorted(found_values)) or 'none'}. "
            "Set WATER_VALUES to the value(s) that mark water."
        )
    if all(polygon.is_water for polygon in polygons):
        raise QgsProcessingException(
            f"Every polygon is water (field '{class_field}' values: {', '.join(sorted(found_values))}); "
            "training needs land polygons too. Draw some over land, or correct WATER_VALUES."
        )
    return polygons


def _normalise(value):
    """Class values compared as text: ' Water ' = 'water', 1 = 1.0 = '1'."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


FIGURE_OUTPUTS = {
    "OVERALL_ACCURACY": ("overall_accuracy", "Overall accuracy"),
    "PRECISION": ("precision", "Precision of water"),
    "RECALL": ("recall", "Recall of water"),
    "F1": ("f1", "F1 of water"),
    "IOU": ("iou", "IoU of water"),
    "KAPPA": ("kappa", "Cohen's kappa"),
    "LOG_LOSS": ("log_loss", "Log-loss"),
    "TRUE_WATER": ("true_water", "Water pixels called water"),
    "FALSE_WATER": ("false_water", "Land pixels called water"),
    "FALSE_LAND": ("false_land", "Water pixels called land"),
    "TRUE_LAND": ("true_land", "Land pixels called land"),
    "ASSESSED_PIXELS": ("pixels", "Pixels assessed"),
}


def add_figure_outputs(algorithm):
    """Numeric outputs for the accuracy figures, so batch runs and models can use them."""
    from qgis.core import QgsProcessingOutputNumber, QgsProcessingOutputString

    for name, (_, description) in FIGURE_OUTPUTS.items():
        algorithm.addOutput(QgsProcessingOutputNumber(name, description))
    algorithm.addOutput(QgsProcessingOutputString("FIGURES_FROM", "Figures measured on"))


def figure_outputs(figures, source):
    return dict({name: figures[key] for name, (key, _) in FIGURE_OUTPUTS.items()}, FIGURES_FROM=source)
