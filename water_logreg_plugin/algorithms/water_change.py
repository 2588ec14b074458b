"""waterlogreg:waterchange — what became water and what dried up between two dates."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.dates.water_change import LOST_WATER, NEW_WATER, NO_DATA, STAYS_DRY, STAYS_WATER, water_change
from ..styling import layer_name, style_change, style_on_load
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import raster_path
from .parameters import map_units, map_units_parameter, threshold_parameter, with_help

AREA_OUTPUTS = {
    "STAYS_DRY_HA": (STAYS_DRY, "Area that stays dry (ha)"),
    "STAYS_WATER_HA": (STAYS_WATER, "Area that stays water (ha)"),
    "NEW_WATER_HA": (NEW_WATER, "New water, flooded (ha)"),
    "LOST_WATER_HA": (LOST_WATER, "Water lost (ha)"),
    "NO_DATA_HA": (NO_DATA, "Area without data on either date (ha)"),
}


class WaterChange(WaterLogRegAlgorithm):
    BEFORE, AFTER, THRESHOLD, OUTPUT = "BEFORE", "AFTER", "THRESHOLD", "OUTPUT"

    def name(self):
        return "waterchange"

    def displayName(self):  # noqa: N802
        return self.tr("Water change between two dates")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Compares two water-probability rasters of the same place, before and after (a flood, "
            "a dry season), and classes each pixel:\n"
            "0 stays dry, 1 stays water, 2 new water (flood), 3 lost water, 255 no data (nodata "
            "on either date).\n\n"
            "A pixel is water when its probability is at least the threshold. Output: a Byte "
            "GeoTIFF on the grid of the before raster, with its palette and class names; the after "
            "raster is read on that grid when it differs (GDAL warp, nearest neighbour).\n\n"
            "The area of each class appears in the log and as numeric outputs in hectares, "
            "measured planar in a projected CRS and on the ellipsoid in a geographic one "
            "(AREA_METHOD says which). A map without a CRS is refused unless MAP_UNITS gives the units "
            "of its coordinates."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(with_help(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before (probability)")),
                                    "The water-probability raster of the earlier date; its grid is the output's."))
        self.addParameter(with_help(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After (probability)")),
                                    "The water-probability raster of the later date."))
        self.addParameter(threshold_parameter("A pixel is water on a date when its probability is at least this."))
        self.addParameter(map_units_parameter())
        self.addParameter(with_help(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Water change")),
            "Byte GeoTIFF: 0 stays dry, 1 stays water, 2 new water, 3 lost water, 255 no data.",
        ))
        for name, (_, description) in AREA_OUTPUTS.items():
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(description)))
        self.addOutput(QgsProcessingOutputString("AREA_METHOD", self.tr("How the areas are measured")))

    def run_algorithm(self, parameters, context, feedback):
        before, before_layer = raster_path(self, parameters, context, self.BEFORE)
        after, after_layer = raster_path(self, parameters, context, self.AFTER)
        output = self.checked_outputs(parameters, context, {self.BEFORE: before, self.AFTER: after})[self.OUTPUT]
        summary = water_change(before, after, output,
                               threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
                               map_units=map_units(self, parameters, context),
                               callbacks=core_callbacks(feedback))
        style_on_load(context, output, style_change,
                      layer_name(f"{before_layer.name()} → {after_layer.name()}", "water change"))
        areas = {name: summary.area_ha(value) for name, (value, _) in AREA_OUTPUTS.items()}
        return dict(areas, OUTPUT=output, AREA_METHOD=summary.area_method)
