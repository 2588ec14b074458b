"""waterlogreg:wateroccurrence — how often each pixel was water over several dates."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
)

from ..core.dates.occurrence import water_occurrence
from ..core.raster.outputs import describe_repeats, distinct_files
from ..styling import style_occurrence, style_on_load
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import gdal_file
from .parameters import threshold_parameter, with_help


class WaterOccurrence(WaterLogRegAlgorithm):
    INPUT, THRESHOLD, OUTPUT, OUTPUT_COUNT = "INPUT", "THRESHOLD", "OUTPUT", "OUTPUT_COUNT"

    def name(self):
        return "wateroccurrence"

    def displayName(self):  # noqa: N802
        return self.tr("Water occurrence over dates")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "How often each pixel was water, over several water-probability rasters of the same "
            "place (from 'Predict water probability', 'Predict water on many scenes', or any one-band "
            "raster of 0 to 1).\n\n"
            "Occurrence = dates the pixel was water (probability ≥ threshold) ÷ dates it was observed. "
            "A date where the pixel is nodata or NaN (cloud, outside the scene) is not counted at "
            "all, neither as water nor as dry; pixels never observed are nodata (-9999).\n\n"
            "Outputs: the occurrence (Float32, 0 never water … 1 always water) and the number of "
            "valid observations of each pixel (UInt16), both on the grid of the first raster. "
            "Rasters on another grid or CRS are read on that grid (GDAL warp, nearest neighbour; "
            "the log says which). The rasters are read window by window: memory stays flat in the "
            "number of dates and the size of the scenes."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(with_help(
            QgsProcessingParameterMultipleLayers(self.INPUT, self.tr("Water-probability rasters (one per date)"),
                                                 QgsProcessing.SourceType.TypeRaster),
            "One probability raster per date; the first one's grid is the grid of the outputs.",
        ))
        self.addParameter(threshold_parameter("A pixel is water on a date when its probability is at least this."))
        self.addParameter(with_help(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Water occurrence")),
            "Float32 GeoTIFF: water observations ÷ valid observations, nodata -9999 where never observed.",
        ))
        self.addParameter(with_help(
            QgsProcessingParameterRasterDestination(self.OUTPUT_COUNT, self.tr("Valid observations"),
                                                    optional=True, createByDefault=True),
            "UInt16 GeoTIFF: the number of dates on which each pixel was observed (not nodata).",
        ))
        for name, description in (("DATES", "Dates"), ("REGRIDDED_DATES", "Dates read on another grid"),
                                  ("OBSERVED_PIXELS", "Pixels observed at least once"),
                                  ("WATER_EVER_PIXELS", "Pixels water at least once"),
                                  ("PERMANENT_WATER_PIXELS", "Pixels water on every date they were observed")):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(description)))

    def run_algorithm(self, parameters, context, feedback):
        layers = self.parameterAsLayerList(parameters, self.INPUT, context)
        given = parameters.get(self.INPUT)
        if not layers or (isinstance(given, (list, tuple)) and len(layers) != len(given)):
            raise QgsProcessingException(
                "Some of the rasters given as INPUT cannot be loaded; choose raster layers or files.")
        paths, repeats = distinct_files([gdal_file(layer, self.INPUT) for layer in layers])
        if repeats:  # the same observation twice would weigh its date twice
            feedback.pushInfo(
                f"Warning: {len(repeats)} of the rasters in INPUT {'is a file' if len(repeats) == 1 else 'are files'} "
                f"given before ({describe_repeats(repeats)}); each file counts as one date."
            )
        outputs = self.checked_outputs(
            parameters, context, {f"date {number}": path for number, path in enumerate(paths, 1)})
        output, count = outputs[self.OUTPUT], outputs[self.OUTPUT_COUNT]
        summary = water_occurrence(paths, output, count,
                                   threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
                                   callbacks=core_callbacks(feedback))
        style_on_load(context, output, style_occurrence, f"water occurrence ({len(paths)} dates)")
        return {
            self.OUTPUT: output, self.OUTPUT_COUNT: count, "DATES": summary.dates,
            "REGRIDDED_DATES": len(summary.regridded), "OBSERVED_PIXELS": summary.observed_pixels,
            "WATER_EVER_PIXELS": summary.water_ever_pixels, "PERMANENT_WATER_PIXELS": summary.permanent_water_pixels,
        }
