"""Every Processing parameter and output the provider declares, each once, by the names in
ParameterNames (a contract: scripts, models and qgis_process call the tools by them), and the
reading of the training parameters back into a TrainingSettings."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBand,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..core.learning.metrics import FIGURE_TABLE
from ..core.maps.water_share import AS_TRAINED, FROM_SCENE, GIVEN_SHARE, WaterPrior
from ..core.raster.areas import MAP_UNITS
from ..core.settings import (
    DEFAULT_L2_PENALTY,
    DEFAULT_LEARNING_RATE,
    DEFAULT_MAX_STEPS,
    DEFAULT_MLP_L2_PENALTY,
    DEFAULT_MLP_MAX_STEPS,
    DEFAULT_SETTINGS,
    OPTIMIZERS,
    TrainingSettings,
    parse_hidden_layers,
)

DEVICE_OPTIONS = ("Auto (CUDA, else MPS, else CPU)", "CPU", "CUDA")
DEVICE_VALUES = ("auto", "cpu", "cuda")
# Indices 0, 1, 2 are a contract (batch files, models); option 0 was "L-BFGS" before the exact fit.
OPTIMIZER_OPTIONS = (
    "Exact (Newton for logistic regression, L-BFGS for a multi-layer perceptron)", "Adam", "Gradient descent (SGD)",
)
OPTIMIZER_VALUES = OPTIMIZERS  # the enum's indices, in OPTIMIZER_OPTIONS' order
DEFAULT_WATER_VALUES = "water,1"
# Indices 0, 1, 2 are a contract (batch files, models).
WATER_PRIOR_OPTIONS = ("Estimate from the scene (EM)", "As in the training pixels", "A given share")
WATER_PRIOR_VALUES = (FROM_SCENE, AS_TRAINED, GIVEN_SHARE)
# Index 0 (none given) is the default; the others follow core.raster.areas.MAP_UNITS.
MAP_UNITS_OPTIONS = ("Not given: a map without a CRS is refused", *MAP_UNITS)
MAP_UNITS_VALUES = (None, *MAP_UNITS)


class ParameterNames:
    """The names of the parameters and outputs more than one algorithm has; every algorithm
    class inherits them as its constants. An algorithm's own names sit in its class."""

    INPUT, BANDS, POLYGONS, CLASS_FIELD, WATER_VALUES = "INPUT", "BANDS", "POLYGONS", "CLASS_FIELD", "WATER_VALUES"
    MAX_PIXELS_PER_CLASS, SEED, DEVICE, THRESHOLD = "MAX_PIXELS_PER_CLASS", "SEED", "DEVICE", "THRESHOLD"
    VALIDATION_FRACTION, HIDDEN_LAYERS, OPTIMIZER = "VALIDATION_FRACTION", "HIDDEN_LAYERS", "OPTIMIZER"
    LEARNING_RATE, MAX_STEPS, L2_PENALTY = "LEARNING_RATE", "MAX_STEPS", "L2_PENALTY"
    MODEL, SAMPLES = "MODEL", "SAMPLES"
    OUTPUT, OUTPUT_MODEL, OUTPUT_MASK, OUTPUT_REPORT = "OUTPUT", "OUTPUT_MODEL", "OUTPUT_MASK", "OUTPUT_REPORT"
    DEVICE_USED, FINAL_LOSS = "DEVICE_USED", "FINAL_LOSS"
    WATER_FRACTION, VALID_PIXELS = "WATER_FRACTION", "VALID_PIXELS"
    FIGURES_FROM = "FIGURES_FROM"
    CONVERGED, GRADIENT_NORM = "CONVERGED", "GRADIENT_NORM"
    WATER_PRIOR, WATER_PRIOR_VALUE = "WATER_PRIOR", "WATER_PRIOR_VALUE"
    MAP_UNITS = "MAP_UNITS"
    TRAINING_WATER_SHARE, SCENE_WATER_SHARE = "TRAINING_WATER_SHARE", "SCENE_WATER_SHARE"


Names = ParameterNames


def with_help(parameter, text):
    parameter.setHelp(text)
    return parameter


def advanced(parameter, decimals=None):
    parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
    if decimals is not None:  # the dialog's spin box shows 6 decimals unless told
        parameter.setMetadata({"widget_wrapper": {"decimals": decimals}})
    return parameter


def raster_parameter(name=Names.INPUT):
    return with_help(
        QgsProcessingParameterRasterLayer(name, "Multispectral raster"),
        "The image to map water in, as a file GDAL reads (GeoTIFF, JP2, VRT, …), any CRS.",
    )


def bands_parameter(parent=Names.INPUT):
    return with_help(
        QgsProcessingParameterBand(
            Names.BANDS, "Bands to use (empty = green, red and NIR when named, else all)", None, parent,
            optional=True, allowMultiple=True,
        ),
        "The bands that describe a pixel. Empty = green, red and NIR when the file names them (band "
        "description, wavelength or colour interpretation), else all bands; the log says which and why.",
    )


def polygons_parameter(name=Names.POLYGONS, description="Training polygons"):
    return with_help(
        QgsProcessingParameterFeatureSource(name, description, [QgsProcessing.SourceType.TypeVectorPolygon]),
        "Polygons drawn over water and over land, in any CRS (they are reprojected to the "
        "raster's). Every pixel whose centre lies inside a polygon is a sample.",
    )


def class_field_parameter(parent=Names.POLYGONS):
    # QGIS's own field widget in every dialog: it shows 'class' where the chosen layer has it and
    # stays empty where not; empty, the algorithm takes the layer's class-like field (layers.py).
    return with_help(
        QgsProcessingParameterField(Names.CLASS_FIELD, "Class field", "class", parent, optional=True),
        "The field of the polygon layer that says what each polygon is, e.g. 'class' holding water and "
        "land. Empty = the layer's field named like class, label or type (e.g. landcover_type), else its "
        "first text field; the log says which. Scripts and qgis_process take 'class' unless told. A "
        "field that numbers the polygons, such as a GeoPackage's fid, is refused.",
    )


def water_values_parameter():
    return with_help(
        QgsProcessingParameterString(Names.WATER_VALUES, "Class values meaning water", DEFAULT_WATER_VALUES),
        "Comma-separated values of the class field that mean water (not case-sensitive); "
        "every other value is land.",
    )


def max_pixels_parameter():
    return with_help(
        QgsProcessingParameterNumber(
            Names.MAX_PIXELS_PER_CLASS, "Maximum pixels per class (0 = all)",
            QgsProcessingParameterNumber.Type.Integer, 100000,
        ),
        "At most this many pixels of each class are kept, drawn at random with the seed; 0 keeps all.",
    )


def seed_parameter():
    return with_help(
        QgsProcessingParameterNumber(
            Names.SEED, "Random seed", QgsProcessingParameterNumber.Type.Integer, 0, minValue=0
        ),
        "Runs with the same seed and input give the same samples, split and model.",
    )


def device_parameter():
    return with_help(
        QgsProcessingParameterEnum(Names.DEVICE, "Device", list(DEVICE_OPTIONS), defaultValue=0),
        "Where the work runs: Auto takes a CUDA GPU if there is one, else an Apple GPU (MPS), else the CPU. "
        "A GPU is reached through torch; training always needs torch, a map on the CPU does not.",
    )


def threshold_parameter(
    help_text="A pixel is called water when its probability is at least this (for the mask and the figures).",
):
    return with_help(
        QgsProcessingParameterNumber(
            Names.THRESHOLD, "Water threshold", QgsProcessingParameterNumber.Type.Double, 0.5, minValue=0, maxValue=1
        ),
        help_text,
    )


def map_units_parameter():
    """MAP_UNITS: what a map without a CRS measures its pixels in, so its areas can be given."""
    return advanced(with_help(
        QgsProcessingParameterEnum(Names.MAP_UNITS, "Units of a map without a CRS", list(MAP_UNITS_OPTIONS),
                                   defaultValue=0),
        "Used only when the map has no CRS (a map georeferenced by hand, one whose CRS was lost): the units "
        "of its coordinates and pixel size, so that areas can be given in m² and ha. Not given, such a map "
        "is refused. A map with a CRS is measured in its CRS's units, whatever this says.",
    ))


def map_units(algorithm, parameters, context):
    return MAP_UNITS_VALUES[algorithm.parameterAsEnum(parameters, Names.MAP_UNITS, context)]


def report_parameter():
    """OUTPUT_REPORT: declared as HTML, so QGIS lists it in the Results Viewer after the run."""
    return with_help(
        QgsProcessingParameterFileDestination(
            Names.OUTPUT_REPORT, "Report", "HTML files (*.html)", optional=True, createByDefault=False,
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
                Names.VALIDATION_FRACTION, "Fraction of polygons held out for validation",
                QgsProcessingParameterNumber.Type.Double, DEFAULT_SETTINGS.validation_fraction,
                minValue=0, maxValue=0.9,
            ),
            "This share of the polygons of each class is kept out of training and used to "
            "measure the model; 0 trains on all and reports figures on the training pixels.",
        ),
        with_help(
            QgsProcessingParameterString(
                Names.HIDDEN_LAYERS, "Hidden layers (empty = logistic regression)", "", optional=True
            ),
            "Empty: logistic regression, σ(Aᵀx + b). '16,16': a multi-layer perceptron with two "
            "hidden layers of 16 units (tanh), for water a plane cannot separate from land.",
        ),
        advanced(with_help(
            QgsProcessingParameterEnum(Names.OPTIMIZER, "Optimiser", list(OPTIMIZER_OPTIONS), defaultValue=0),
            "Exact: a logistic regression is fitted by Newton's method in float64, which reaches the "
            "optimum of the mean cross-entropy + λ/2·‖A‖² in a handful of steps and stops when the "
            "Newton decrement says it is there; a multi-layer perceptron by L-BFGS with a line search, "
            "stopping when the gradient is small. Adam and gradient descent (the course's plain step of "
            "size η) run MAX_STEPS steps, and the log says how far they ended from the exact optimum. "
            "Every fit says in the log and the outputs whether it converged.",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                Names.LEARNING_RATE, "Learning rate η (0 = the optimiser's default)",
                QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0,
            ),
            f"Step size; 0 takes {DEFAULT_LEARNING_RATE['adam']:g} for Adam, {DEFAULT_LEARNING_RATE['sgd']:g} for "
            f"gradient descent and {DEFAULT_LEARNING_RATE['exact']:g} for the multi-layer perceptron's L-BFGS. "
            "Newton's method (Exact, logistic regression) takes none.",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                Names.MAX_STEPS, "Maximum optimiser steps (not set = the fit's default)",
                QgsProcessingParameterNumber.Type.Integer, None, optional=True, minValue=1,
            ),
            "Training stops here, or earlier once the Exact fit has converged; a fit that stops here "
            f"unconverged says so. Not set: {DEFAULT_MLP_MAX_STEPS} for a multi-layer perceptron's L-BFGS, "
            f"{DEFAULT_MAX_STEPS} otherwise (Newton's method needs 15 at most; Adam and gradient descent "
            "run them all).",
        )),
        advanced(with_help(
            QgsProcessingParameterNumber(
                Names.L2_PENALTY, "L2 penalty λ (not set = the model's default; 0 = maximum likelihood)",
                QgsProcessingParameterNumber.Type.Double, None, optional=True, minValue=0,
            ),
            "Adds λ/2·Σw² (the weights in standardized units, not the biases) to the mean cross-entropy: "
            f"for a logistic regression scikit-learn's C = 1/(λ·pixels). Not set: {DEFAULT_L2_PENALTY:g} for a "
            f"logistic regression and {DEFAULT_MLP_L2_PENALTY:g} for a multi-layer perceptron, both chosen by "
            "measurement: they make the optimum unique and finite and keep the probabilities graded where "
            "your polygons separate water from land. 0 is maximum likelihood: where the polygons separate "
            "perfectly it has no finite optimum, and the fit stops saying so (not converged).",
        ), decimals=8),
    ]


def water_prior_parameters():
    """WATER_PRIOR and WATER_PRIOR_VALUE: the share of water P(water) is for."""
    return [
        with_help(
            QgsProcessingParameterEnum(Names.WATER_PRIOR, "Share of water the probabilities are for",
                                       list(WATER_PRIOR_OPTIONS), defaultValue=0),
            "A model's P(water) is for the share of water in its training pixels, which is what you drew "
            "(often far more water than the scene holds), so ambiguous pixels lean towards water. Estimate "
            "from the scene (EM): the scene's share is estimated from the model's own outputs on a sample of "
            "up to a million of its pixels, and P(water) is adjusted to it (logit P + logit scene share − "
            "logit training share). As in the training pixels: P(water) as the model gives it. A given share: "
            "P(water) for WATER_PRIOR_VALUE. P of exactly 0 or 1 and nodata stay as they are.",
        ),
        with_help(
            QgsProcessingParameterNumber(
                Names.WATER_PRIOR_VALUE, "Given share of water (0–1, for 'A given share')",
                QgsProcessingParameterNumber.Type.Double, 0.1, minValue=0, maxValue=1,
            ),
            "The scene's share of water when you know it (0.08 = 8 % of its valid pixels); used only with "
            "'A given share'. It must lie strictly between 0 and 1.",
        ),
    ]


def water_prior(algorithm, parameters, context):
    """The WaterPrior of water_prior_parameters() and SEED (which seeds the scene sample)."""
    choice = WATER_PRIOR_VALUES[algorithm.parameterAsEnum(parameters, Names.WATER_PRIOR, context)]
    share = algorithm.parameterAsDouble(parameters, Names.WATER_PRIOR_VALUE, context)
    seed = algorithm.parameterAsInt(parameters, Names.SEED, context) if algorithm.parameterDefinition(Names.SEED) else 0
    if choice == GIVEN_SHARE and not 0 < share < 1:
        raise QgsProcessingException(
            f"WATER_PRIOR_VALUE is {share:g}; a given share of water must lie strictly between 0 and 1 "
            "(0.08 for 8 % water). Give the scene's share, or choose 'Estimate from the scene (EM)'."
        )
    return WaterPrior(choice, share if choice == GIVEN_SHARE else None, seed)


def add_water_share_outputs(algorithm):
    """TRAINING_WATER_SHARE and SCENE_WATER_SHARE: the shares P(water) was moved between."""
    algorithm.addOutput(QgsProcessingOutputNumber(Names.TRAINING_WATER_SHARE, "Share of water in the training pixels"))
    algorithm.addOutput(QgsProcessingOutputNumber(
        Names.SCENE_WATER_SHARE, "Share of water the probabilities are for (the scene's)"))


def water_share_outputs(water_share):
    """The outputs of add_water_share_outputs from a prediction's SceneShare (None where unknown)."""
    if water_share is None:
        return {Names.TRAINING_WATER_SHARE: None, Names.SCENE_WATER_SHARE: None}
    return {Names.TRAINING_WATER_SHARE: water_share.training_share, Names.SCENE_WATER_SHARE: water_share.scene_share}


def probability_output(name=Names.OUTPUT):
    return with_help(
        QgsProcessingParameterRasterDestination(name, "Water probability", QgsProcessing.TEMPORARY_OUTPUT),
        "Float32 GeoTIFF, 0 (land) to 1 (water), nodata -9999 where any band used is nodata.",
    )


def mask_output():
    return with_help(
        QgsProcessingParameterRasterDestination(Names.OUTPUT_MASK, "Water mask", optional=True, createByDefault=False),
        "Optional Byte GeoTIFF: 1 water (probability ≥ threshold), 0 land, 255 nodata.",
    )


def training_settings(algorithm, parameters, context, threshold=0.5):
    """The TrainingSettings of training_parameters(), DEVICE and SEED."""
    return TrainingSettings(
        validation_fraction=algorithm.parameterAsDouble(parameters, Names.VALIDATION_FRACTION, context),
        hidden_layers=parse_hidden_layers(algorithm.parameterAsString(parameters, Names.HIDDEN_LAYERS, context)),
        optimizer=OPTIMIZER_VALUES[algorithm.parameterAsEnum(parameters, Names.OPTIMIZER, context)],
        learning_rate=algorithm.parameterAsDouble(parameters, Names.LEARNING_RATE, context) or None,
        max_steps=optional_number(algorithm, parameters, Names.MAX_STEPS, context, int),
        l2_penalty=optional_number(algorithm, parameters, Names.L2_PENALTY, context),
        device=device_choice(algorithm, parameters, context),
        seed=algorithm.parameterAsInt(parameters, Names.SEED, context),
        threshold=threshold,
    )


def optional_number(algorithm, parameters, name, context, kind=float):
    """The number given, or None where it was left unset (parameterAsDouble would read 0)."""
    if parameters.get(name) is None:
        return None
    return kind(algorithm.parameterAsDouble(parameters, name, context))


def device_choice(algorithm, parameters, context):
    return DEVICE_VALUES[algorithm.parameterAsEnum(parameters, Names.DEVICE, context)]


def add_convergence_outputs(algorithm):
    """CONVERGED (1 yes, 0 no) and GRADIENT_NORM of the fit, as numbers for batch runs and models."""
    algorithm.addOutput(QgsProcessingOutputNumber(Names.CONVERGED, "Fit converged (1 yes, 0 no)"))
    algorithm.addOutput(QgsProcessingOutputNumber(Names.GRADIENT_NORM, "Final gradient norm of the fit"))


def convergence_outputs(outcome):
    """The outputs of add_convergence_outputs from how the fit ended (a FitOutcome)."""
    return {Names.CONVERGED: int(bool(outcome.converged)), Names.GRADIENT_NORM: outcome.gradient_norm}


def add_figure_outputs(algorithm):
    """Numeric outputs for the accuracy figures, so batch runs and models can use them."""
    for figure in FIGURE_TABLE:
        algorithm.addOutput(QgsProcessingOutputNumber(figure.output, figure.label))
    algorithm.addOutput(QgsProcessingOutputString(Names.FIGURES_FROM, "Figures measured on"))


def figure_outputs(figures, source):
    return dict({figure.output: figures[figure.key] for figure in FIGURE_TABLE}, FIGURES_FROM=source)
