"""waterlogreg:waterindex — NDWI or MNDWI of a raster, and a water mask at a given or Otsu threshold."""

from functools import partial

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBand,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ..core.maps.water_index import choose_index_bands, water_index
from ..core.raster.reading import open_raster
from ..styling import layer_name, style_index, style_mask, style_on_load
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import raster_path
from .parameters import raster_parameter, with_help


class WaterIndex(WaterLogRegAlgorithm):
    GREEN_BAND, NIR_BAND, SWIR_BAND, INDEX = "GREEN_BAND", "NIR_BAND", "SWIR_BAND", "INDEX"

    def name(self):
        return "waterindex"

    def displayName(self):  # noqa: N802
        return self.tr("Water index (NDWI / MNDWI)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "A water index from two bands, with no training: water reflects more green light than "
            "infrared, vegetation and soil less.\n\n"
            "NDWI = (green − NIR) / (green + NIR) (McFeeters 1996); with a SWIR band, "
            "MNDWI = (green − SWIR) / (green + SWIR) (Xu 2006), which also keeps built-up land "
            "apart from water. Values run from −1 to 1; open water is usually above 0.\n\n"
            "Bands left empty are taken from the file: its band descriptions ('green', 'NIR', "
            "'SWIR1', 'B03', …), wavelength metadata or colour interpretation; the log says which "
            "bands were used and why. Where the file gives a band a scale or an offset, the index is "
            "computed on scale × value + offset (the reflectance), not on the stored numbers; negative "
            "values, or green + infrared of 0 or less, on a notable share of the pixels are reported.\n\n"
            "Threshold: a pixel is water in the mask when its index is at least the threshold. "
            "Left empty, the threshold is found with Otsu's method: the value that best splits "
            "the histogram of the index into two groups (largest between-group variance). It suits "
            "scenes with a fair share of both water and land; give a threshold (often 0) for "
            "scenes that are nearly all land or all water.\n\n"
            "Outputs: the index as a Float32 GeoTIFF on the input's grid, nodata −9999 where a band "
            "is nodata or green + infrared = 0; optionally a Byte mask (1 water, 0 land, 255 "
            "nodata); the threshold used and the index name."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(raster_parameter(self.INPUT))
        for name, description, help_text in (
            (self.GREEN_BAND, "Green band (empty = from the file)",
             "The green band; left empty, the band the file names green."),
            (self.NIR_BAND, "Near-infrared band (empty = from the file)",
             "The NIR band for NDWI; left empty, the band the file names NIR. Not used when a SWIR band is given."),
            (self.SWIR_BAND, "Short-wave infrared band (optional: MNDWI)",
             "Give a SWIR band (about 1.6 µm, e.g. Landsat 8 B6, Sentinel-2 B11) to compute MNDWI instead of NDWI."),
        ):
            self.addParameter(with_help(
                QgsProcessingParameterBand(name, self.tr(description), None, self.INPUT, optional=True),
                help_text,
            ))
        self.addParameter(with_help(
            QgsProcessingParameterNumber(
                self.THRESHOLD, self.tr("Water threshold (empty = Otsu)"), QgsProcessingParameterNumber.Type.Double,
                None, optional=True, minValue=-1, maxValue=1,
            ),
            "Index value from which a pixel is water; empty finds it with Otsu's method.",
        ))
        self.addParameter(with_help(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT, self.tr("Water index"), QgsProcessing.TEMPORARY_OUTPUT),
            "Float32 GeoTIFF, −1 to 1, nodata −9999.",
        ))
        self.addParameter(with_help(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_MASK, self.tr("Water mask"), optional=True, createByDefault=False,
            ),
            "Optional Byte GeoTIFF: 1 water (index ≥ threshold), 0 land, 255 nodata.",
        ))
        self.addOutput(QgsProcessingOutputNumber(self.THRESHOLD, self.tr("Threshold used")))
        self.addOutput(QgsProcessingOutputString(self.INDEX, self.tr("Index (NDWI or MNDWI)")))
        self.addOutput(QgsProcessingOutputNumber(self.WATER_FRACTION, self.tr("Water fraction of the valid pixels")))
        self.addOutput(QgsProcessingOutputNumber(self.VALID_PIXELS, self.tr("Valid pixels")))

    def run_algorithm(self, parameters, context, feedback):
        path, layer = raster_path(self, parameters, context, self.INPUT)
        outputs = self.checked_outputs(parameters, context, {self.INPUT: path})
        output, mask = outputs[self.OUTPUT], outputs[self.OUTPUT_MASK]
        bands = choose_index_bands(
            open_raster(path),
            green=self.parameterAsInt(parameters, self.GREEN_BAND, context) or None,
            nir=self.parameterAsInt(parameters, self.NIR_BAND, context) or None,
            swir=self.parameterAsInt(parameters, self.SWIR_BAND, context) or None,
        )
        threshold = parameters.get(self.THRESHOLD)
        threshold = None if threshold in (None, "") else self.parameterAsDouble(parameters, self.THRESHOLD, context)
        summary = water_index(path, output, bands, mask, threshold, core_callbacks(feedback))
        style_on_load(context, output, partial(style_index, threshold=summary.threshold),
                      layer_name(layer.name(), summary.index))
        style_on_load(context, mask, style_mask, layer_name(layer.name(), "water mask"))
        return {
            self.OUTPUT: output, self.OUTPUT_MASK: mask, self.THRESHOLD: summary.threshold,
            self.INDEX: summary.index, self.WATER_FRACTION: summary.water_fraction,
            self.VALID_PIXELS: summary.valid_pixels,
        }
