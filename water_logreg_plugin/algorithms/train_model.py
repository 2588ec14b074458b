"""waterlogreg:trainmodel — fit the water model on a sampled point layer."""

import re

import numpy as np
from qgis.core import (
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
)

from ..core.errors import Canceled
from ..core.sampling import Samples
from ..core.workflow import train_and_save
from . import qgis_bridge as bridge
from .base import WaterLogRegAlgorithm

BAND_FIELD = re.compile(r"^b(\d+)$")


class TrainModel(WaterLogRegAlgorithm):
    SAMPLES, DEVICE, SEED, OUTPUT_MODEL = "SAMPLES", "DEVICE", "SEED", "OUTPUT_MODEL"
    DEVICE_USED, FINAL_LOSS = "DEVICE_USED", "FINAL_LOSS"

    def name(self):
        return "trainmodel"

    def displayName(self):  # noqa: N802
        return self.tr("Train water model")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Fits P(water) = σ(Aᵀx + b) with PyTorch on the pixels from 'Sample training "
            "pixels': the bands are standardized with the samples' mean and standard deviation, "
            "and A, b minimise the binary cross-entropy (full batch, L-BFGS by default), on a "
            "CUDA GPU when there is one.\n\n"
            "Whole polygons are held out for validation (VALIDATION_FRACTION), so the accuracy "
            "figures tell how the map does away from the training areas.\n\n"
            "Output: a model file (JSON, safe to share: it holds numbers only) for 'Predict "
            "water probability', the device used, the final training loss and the accuracy figures, and "
            "optionally an HTML report with the loss curve, the samples and the decision boundary "
            "in feature space, the coefficients and the confusion matrix.\n\n"
            "HIDDEN_LAYERS, e.g. '16,16', stacks dense layers with ReLU: a multi-layer perceptron "
            "for water that no plane separates from land."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(bridge.with_help(
            QgsProcessingParameterFeatureSource(
                self.SAMPLES, self.tr("Sampled pixels"), [QgsProcessing.TypeVectorPoint]
            ),
            "The point layer from 'Sample training pixels': fields b1, b2, … and label (1 water, 0 land).",
        ))
        self.addParameter(bridge.device_parameter())
        self.addParameter(bridge.seed_parameter())
        for parameter in bridge.training_parameters():
            self.addParameter(parameter)
        self.addParameter(bridge.with_help(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_MODEL, self.tr("Model file"), self.tr("Water model (*.json)")
            ),
            "Where to save the model (JSON).",
        ))
        self.addParameter(bridge.report_parameter())
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, self.tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber(self.FINAL_LOSS, self.tr("Final training loss")))
        bridge.add_figure_outputs(self)

    def run_algorithm(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.SAMPLES, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.SAMPLES))
        model_path = self.parameterAsFileOutput(parameters, self.OUTPUT_MODEL, context)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        result = train_and_save(
            read_samples(source, feedback), model_path, report_path,
            device=bridge.device_choice(self, parameters, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            training_info={"source_samples": source.sourceName()},
            **bridge.training_settings(self, parameters, context), **bridge.core_callbacks(feedback),
        )
        return dict(
            bridge.figure_outputs(result.figures, result.figures_source),
            OUTPUT_MODEL=model_path, OUTPUT_REPORT=report_path,
            DEVICE_USED=result.model.training["device"],
            FINAL_LOSS=result.model.training["final_loss"],
        )


def read_samples(source, feedback):
    """Band values, labels and polygon ids of a samples layer, as numpy arrays."""
    fields = source.fields()
    band_fields = sorted(
        ((int(match.group(1)), index) for index, name in enumerate(fields.names())
         if (match := BAND_FIELD.match(name))),
    )
    label_index = fields.lookupField("label")
    if not band_fields or label_index < 0:
        raise QgsProcessingException(
            f"'{source.sourceName()}' is not a samples layer: it needs band fields b1, b2, … and "
            f"a 'label' field (its fields are {', '.join(fields.names()) or 'none'}). Make one "
            "with 'Sample training pixels'."
        )
    polygon_index = fields.lookupField("polygon_id")
    wanted = [index for _, index in band_fields] + [label_index] + ([polygon_index] if polygon_index >= 0 else [])
    request = QgsFeatureRequest().setFlags(QgsFeatureRequest.NoGeometry).setSubsetOfAttributes(wanted)
    rows = []
    for feature in source.getFeatures(request):
        if feedback.isCanceled():
            raise Canceled()
        attributes = feature.attributes()
        rows.append([_number(attributes[index]) for index in wanted])
    table = np.array(rows, dtype=np.float64).reshape(-1, len(wanted))
    band_count = len(band_fields)
    labels = table[:, band_count]
    usable = np.isfinite(table[:, :band_count]).all(axis=1) & np.isin(labels, (0, 1))
    if not usable.all():
        feedback.pushInfo(f"{int((~usable).sum())} samples with empty values or a label other than 0/1 are skipped.")
    table = table[usable]
    polygon_ids = table[:, band_count + 1].astype(np.int64) if polygon_index >= 0 else np.arange(len(table))
    return Samples(
        [band for band, _ in band_fields], table[:, :band_count], table[:, band_count].astype(np.uint8),
        polygon_ids, np.zeros(len(table)), np.zeros(len(table)),
    )


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
