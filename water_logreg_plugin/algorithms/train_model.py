"""waterlogreg:trainmodel — fit the water model on a sampled point layer."""

import html
import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QUrl

from ..core.workflow import train_and_save
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import read_samples, vector_file


class TrainModel(WaterLogRegAlgorithm):
    MODEL_LOCATION = "MODEL_LOCATION"

    def name(self):
        return "trainmodel"

    def displayName(self):  # noqa: N802
        return self.tr("Train water model")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Fits P(water) = σ(Aᵀx + b) with PyTorch on the pixels from 'Sample training "
            "pixels': the bands are standardized with the samples' mean and standard deviation, "
            "and A, b minimise the mean binary cross-entropy + λ/2·‖A‖² (L2_PENALTY, default 1e-5): "
            "by default exactly, with Newton's method in float64, on a CUDA GPU when there is one. "
            "The log and the outputs CONVERGED and GRADIENT_NORM say whether the fit reached the "
            "optimum.\n\n"
            "Whole polygons are held out for validation (VALIDATION_FRACTION), so the accuracy "
            "figures tell how the map does away from the training areas.\n\n"
            "Output: a model file (JSON, safe to share: it holds numbers only) for 'Predict "
            "water probability', the device used, the final training loss, whether the fit converged, the "
            "accuracy and calibration figures (Brier score, ECE), and "
            "optionally an HTML report with the loss curve, the samples and the decision boundary "
            "in feature space, the coefficients, the confusion matrix and the reliability curve.\n\n"
            "HIDDEN_LAYERS, e.g. '16,16', stacks dense layers with tanh: a multi-layer perceptron "
            "for water that no plane separates from land."
        )

    def needs_torch(self):
        return True

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(declared.with_help(
            QgsProcessingParameterFeatureSource(
                self.SAMPLES, self.tr("Sampled pixels"), [QgsProcessing.SourceType.TypeVectorPoint]
            ),
            "The point layer from 'Sample training pixels': fields b1, b2, … and label (1 water, 0 land).",
        ))
        self.addParameter(declared.device_parameter())
        self.addParameter(declared.seed_parameter())
        for parameter in declared.training_parameters():
            self.addParameter(parameter)
        self.addParameter(declared.with_help(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_MODEL, self.tr("Model file"), self.tr("Water model (*.json)"),
                QgsProcessing.TEMPORARY_OUTPUT,
            ),
            "Where to save the model (JSON). Left as a temporary file, it is deleted when QGIS "
            "closes: the log and the Results Viewer say where it is.",
        ))
        self.addParameter(declared.report_parameter())
        self.addOutput(QgsProcessingOutputHtml(self.MODEL_LOCATION, self.tr("Where the model file is")))
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, self.tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber(self.FINAL_LOSS, self.tr("Final training loss")))
        declared.add_convergence_outputs(self)
        declared.add_figure_outputs(self)

    def run_algorithm(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.SAMPLES, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.SAMPLES))
        outputs = self.checked_outputs(
            parameters, context, {self.SAMPLES: vector_file(self, parameters, self.SAMPLES, context)})
        model_path, report_path = outputs[self.OUTPUT_MODEL], outputs[self.OUTPUT_REPORT]
        samples = read_samples(source, feedback)
        result = train_and_save(
            samples, model_path, report_path,
            declared.training_settings(self, parameters, context), core_callbacks(feedback),
            training_info={"source_samples": source.sourceName(), **samples.raster},
        )
        return dict(
            declared.figure_outputs(result.figures, result.figures_source),
            OUTPUT_MODEL=model_path, OUTPUT_REPORT=report_path,
            MODEL_LOCATION=say_where_the_model_is(model_path, feedback),
            DEVICE_USED=result.model.fit_outcome.device,
            FINAL_LOSS=result.model.fit_outcome.final_loss,
            **declared.convergence_outputs(result.model.fit_outcome),
        )


def is_temporary(path):
    """Whether `path` lies in Processing's temporary folder, which QGIS empties when it closes."""
    folder = os.path.realpath(QgsProcessingUtils.tempFolder())
    return os.path.commonpath([os.path.realpath(path), folder]) == folder


def say_where_the_model_is(model_path, feedback):
    """Log where the model file is, warn when it is temporary, and write the same words to a
    small HTML page for the Results Viewer (which lists HTML outputs only); returns its path."""
    lines = [f"Model saved to {model_path}."]
    feedback.pushInfo(lines[0])
    if is_temporary(model_path):
        warning = (
            "The model is a temporary file: QGIS deletes it when it closes. To keep it, copy it to "
            "a folder of yours now, or run again with 'Model file' set to a file (e.g. water_model.json)."
        )
        feedback.pushWarning(warning)
        lines.append(warning)
    page = QgsProcessingUtils.generateTempFilename("model_location.html")
    link = QUrl.fromLocalFile(model_path).toString()
    with open(page, "w", encoding="utf-8") as handle:
        handle.write(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Water model file</title></head><body>"
            + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
            + f"<p><a href='{html.escape(link)}'>{html.escape(model_path)}</a></p></body></html>"
        )
    return page
