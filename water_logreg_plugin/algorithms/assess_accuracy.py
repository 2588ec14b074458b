"""waterlogreg:assessaccuracy — how good is a water map, against independent polygons."""

from ..core.workflow import assess_accuracy
from . import layers
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks


class AssessAccuracy(WaterLogRegAlgorithm):

    def name(self):
        return "assessaccuracy"

    def displayName(self):  # noqa: N802
        return self.tr("Assess water map accuracy")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Compares a water-probability raster (from this plugin or any other tool: band 1, "
            "0 … 1) with independent validation polygons of water and land that were not used "
            "in training.\n\n"
            "Every valid pixel under the polygons is counted, called water where its probability "
            "is at least the threshold. Outputs: overall accuracy, precision, recall, F1 and IoU "
            "of water, Cohen's kappa, log-loss and the confusion matrix, and optionally an "
            "HTML report with the confusion matrix and the histogram of probabilities per class."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(declared.with_help(
            declared.raster_parameter(self.INPUT), "A water-probability raster: band 1 holds P(water) from 0 to 1."))
        self.addParameter(declared.polygons_parameter(self.POLYGONS, "Validation polygons"))
        self.addParameter(declared.class_field_parameter(self.POLYGONS))
        self.addParameter(declared.water_values_parameter())
        self.addParameter(declared.threshold_parameter())
        self.addParameter(declared.report_parameter())
        declared.add_figure_outputs(self)

    def run_algorithm(self, parameters, context, feedback):
        path, layer = layers.raster_path(self, parameters, context)
        report_path = self.checked_outputs(parameters, context, {
            self.INPUT: path, self.POLYGONS: layers.vector_file(self, parameters, self.POLYGONS, context)},
        )[self.OUTPUT_REPORT]
        polygons = layers.training_polygons(self, parameters, context, feedback, layer.crs())
        figures, _ = assess_accuracy(
            path, polygons, self.parameterAsDouble(parameters, self.THRESHOLD, context),
            core_callbacks(feedback), report_path=report_path,
        )
        return dict(declared.figure_outputs(figures, "validation polygons"), OUTPUT_REPORT=report_path)
