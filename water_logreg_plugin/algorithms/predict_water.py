"""waterlogreg:predictwater — a saved model over a raster: the water-probability map."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
)

from ..core.maps.predict import predict_water
from ..core.model import load_model
from ..styling import layer_name, style_mask, style_on_load, style_probability
from . import layers
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks


class PredictWater(WaterLogRegAlgorithm):

    def name(self):
        return "predictwater"

    def displayName(self):  # noqa: N802
        return self.tr("Predict water probability")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Applies a model file from 'Train water model' or 'Classify water' to a raster with "
            "the same bands, block by block (memory stays flat however big the raster).\n\n"
            "Output: a Float32 GeoTIFF of P(water) from 0 to 1 on the input's grid (same size, "
            "transform and CRS), nodata -9999 wherever a band the model uses is nodata; "
            "optionally a 0/1 water mask at the threshold. Works in batch mode: one model, many rasters."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(declared.raster_parameter(self.INPUT))
        self.addParameter(declared.with_help(
            QgsProcessingParameterFile(self.MODEL, self.tr("Model file"), extension="json"),
            "A model file (JSON) saved by this plugin.",
        ))
        self.addParameter(declared.device_parameter())
        self.addParameter(declared.threshold_parameter())
        self.addParameter(declared.probability_output(self.OUTPUT))
        self.addParameter(declared.mask_output())
        self.addOutput(QgsProcessingOutputString(self.DEVICE_USED, self.tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber(self.WATER_FRACTION,
                                                 self.tr("Fraction of valid pixels that are water")))
        self.addOutput(QgsProcessingOutputNumber(self.VALID_PIXELS, self.tr("Valid pixels")))

    def run_algorithm(self, parameters, context, feedback):
        path, layer = layers.raster_path(self, parameters, context)
        model_path = self.parameterAsFile(parameters, self.MODEL, context)
        outputs = self.checked_outputs(parameters, context, {self.INPUT: path, self.MODEL: model_path})
        output, mask = outputs[self.OUTPUT], outputs[self.OUTPUT_MASK]
        model = load_model(model_path)
        summary = predict_water(
            path, model, output, declared.device_choice(self, parameters, context), mask,
            self.parameterAsDouble(parameters, self.THRESHOLD, context), core_callbacks(feedback),
        )
        style_on_load(context, output, style_probability, layer_name(layer.name(), "P(water)"))
        style_on_load(context, mask, style_mask, layer_name(layer.name(), "water mask"))
        return {
            self.OUTPUT: output, self.OUTPUT_MASK: mask, self.DEVICE_USED: summary.device,
            self.WATER_FRACTION: summary.water_fraction, self.VALID_PIXELS: summary.valid_pixels,
        }
