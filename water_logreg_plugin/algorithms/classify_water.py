"""waterlogreg:classifywater — polygons in, water-probability map out, in one click."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
)

from ..core.workflow import classify_water
from ..styling import layer_name, style_mask, style_on_load, style_polygon_check, style_probability
from . import layers
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks
from .polygon_check_layer import polygon_check_batches, polygon_check_fields
from .sinks import check_layer_format, write_features


class ClassifyWater(WaterLogRegAlgorithm):
    OUTPUT_POLYGON_CHECK = "OUTPUT_POLYGON_CHECK"

    def name(self):
        return "classifywater"

    def displayName(self):  # noqa: N802
        return self.tr("Classify water (one click)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "The whole job at once: samples the pixels under your water and land polygons, "
            "fits P(water) = σ(Aᵀx + b) with PyTorch (on a GPU when there is one), and writes "
            "the water-probability map of the raster.\n\n"
            "Give a raster, the bands to use, a polygon layer (any CRS) and the field that "
            "says which polygons are water. Some polygons are held out to measure the map: "
            "overall accuracy, precision, recall, F1, IoU, kappa, log-loss, Brier score and "
            "expected calibration error appear in the log and as outputs, with whether the fit "
            "converged (CONVERGED, GRADIENT_NORM).\n\n"
            "Outputs: the probability raster (0 land … 1 water, styled with a water ramp when "
            "loaded), optionally the model file to reuse with 'Predict water probability' on "
            "other scenes, a 0/1 water mask, and an HTML report (loss curve, samples and decision "
            "boundary in feature space, coefficients, confusion matrix, probability histogram, "
            "reliability curve) "
            "that opens from the Results Viewer.\n\n"
            "Hidden layers, e.g. '16,16', fits a multi-layer perceptron instead, for "
            "water that no plane in feature space separates from land.\n\n"
            "By default P(water) is for the scene's share of water, estimated from the model's own outputs "
            "(EM), not for the share you drew; the held-out figures are those of that map. The optional "
            "polygon check lists every input polygon with its verdict: ok, suspect (most of its pixels on "
            "the other side of the model), no valid pixel, or ignored (no class)."
        )

    def needs_torch(self):
        return True

    def initAlgorithm(self, config=None):  # noqa: N802
        for parameter in (
            declared.raster_parameter(self.INPUT), declared.bands_parameter(self.INPUT),
            declared.polygons_parameter(self.POLYGONS), declared.class_field_parameter(self.POLYGONS),
            declared.water_values_parameter(), declared.max_pixels_parameter(),
            declared.device_parameter(), declared.seed_parameter(), declared.threshold_parameter(),
            *declared.water_prior_parameters(), *declared.training_parameters(),
            declared.probability_output(self.OUTPUT),
            declared.with_help(
                QgsProcessingParameterFileDestination(
                    self.OUTPUT_MODEL, self.tr("Model file"), self.tr("Water model (*.json)"),
                    optional=True, createByDefault=False,
                ),
                "Optional: save the model to predict other scenes with 'Predict water probability'.",
            ),
            declared.mask_output(),
            declared.report_parameter(),
            declared.with_help(
                QgsProcessingParameterFeatureSink(
                    self.OUTPUT_POLYGON_CHECK, self.tr("Training polygons checked"),
                    QgsProcessing.SourceType.TypeVectorPolygon, optional=True, createByDefault=False,
                ),
                "Optional: each input polygon with source_fid, class, role, valid_pixels, mean_p_water, "
                "agreement (the share of its sampled pixels on its own class's side of the fitted model; "
                "a held-out polygon's by the model that did not see it) and verdict: ok, suspect, "
                "no valid pixel or ignored. Loaded with suspect polygons red and empty ones grey.",
            ),
        ):
            self.addParameter(parameter)
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, self.tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber(self.FINAL_LOSS, self.tr("Final training loss")))
        self.addOutput(QgsProcessingOutputNumber(self.WATER_FRACTION,
                                                 self.tr("Fraction of valid pixels that are water")))
        declared.add_convergence_outputs(self)
        declared.add_figure_outputs(self)
        declared.add_water_share_outputs(self)

    def run_algorithm(self, parameters, context, feedback):
        path, layer = layers.raster_path(self, parameters, context)
        outputs = self.checked_outputs(parameters, context, {
            self.INPUT: path, self.POLYGONS: layers.vector_file(self, parameters, self.POLYGONS, context)})
        output, model_path = outputs[self.OUTPUT], outputs[self.OUTPUT_MODEL]
        mask, report_path = outputs[self.OUTPUT_MASK], outputs[self.OUTPUT_REPORT]
        if parameters.get(self.OUTPUT_POLYGON_CHECK):  # written last, so its format is tried first
            source = self.parameterAsSource(parameters, self.POLYGONS, context)
            check_layer_format(self, parameters, self.OUTPUT_POLYGON_CHECK, context, polygon_check_fields(),
                               source.wkbType(), source.sourceCrs())
        unclassed = []
        polygons = layers.training_polygons(self, parameters, context, feedback, layer.crs(), unclassed=unclassed)
        settings = declared.training_settings(
            self, parameters, context, threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context))
        result = classify_water(
            path, self.parameterAsInts(parameters, self.BANDS, context), polygons, output, settings,
            core_callbacks(feedback), model_path=model_path, mask_path=mask, report_path=report_path,
            max_pixels_per_class=self.parameterAsInt(parameters, self.MAX_PIXELS_PER_CLASS, context),
            prior=declared.water_prior(self, parameters, context), unclassed_ids=unclassed,
        )
        style_on_load(context, output, style_probability, layer_name(layer.name(), "P(water)"))
        style_on_load(context, mask, style_mask, layer_name(layer.name(), "water mask"))
        check = self.write_polygon_check(parameters, context, feedback, result.polygon_checks)
        training = result.training
        return dict(
            declared.figure_outputs(training.figures, training.figures_source),
            OUTPUT=output, OUTPUT_MODEL=model_path, OUTPUT_MASK=mask, OUTPUT_REPORT=report_path,
            DEVICE_USED=training.model.fit_outcome.device,
            FINAL_LOSS=training.model.fit_outcome.final_loss,
            **declared.convergence_outputs(training.model.fit_outcome),
            WATER_FRACTION=result.prediction.water_fraction,
            OUTPUT_POLYGON_CHECK=check,
            **declared.water_share_outputs(result.prediction.water_share),
        )

    def write_polygon_check(self, parameters, context, feedback, checks):
        """OUTPUT_POLYGON_CHECK when asked for: the checks with the polygons' geometry as drawn."""
        if not parameters.get(self.OUTPUT_POLYGON_CHECK):
            return None
        source = self.parameterAsSource(parameters, self.POLYGONS, context)
        check = write_features(self, parameters, self.OUTPUT_POLYGON_CHECK, context, polygon_check_fields(),
                               source.wkbType(), source.sourceCrs(), polygon_check_batches(source, checks, feedback),
                               feedback)
        style_on_load(context, check, style_polygon_check, "training polygons checked")
        return check
