"""waterlogreg:waterbodies — a probability raster (or a mask) to polygons of water bodies."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
)

from ..core.maps.water_bodies import water_bodies
from ..core.raster.areas import SQUARE_METRES_PER_HECTARE
from ..styling import layer_name, style_on_load, style_water_bodies
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import raster_path
from .parameters import map_units, map_units_parameter, threshold_parameter, with_help


class WaterBodies(WaterLogRegAlgorithm):
    INPUT, THRESHOLD, MIN_AREA, FILL_HOLES_SMALLER_THAN, OUTPUT = (
        "INPUT", "THRESHOLD", "MIN_AREA", "FILL_HOLES_SMALLER_THAN", "OUTPUT")

    def name(self):
        return "waterbodies"

    def displayName(self):  # noqa: N802
        return self.tr("Water bodies (polygons)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Turns a water-probability raster, or a 0/1 water mask, into one polygon per water body: "
            "connected water pixels (probability ≥ threshold, sides touching), polygonized with GDAL.\n\n"
            "Bodies smaller than the minimum area are left out; holes in a body (islands, dry "
            "patches) smaller than the given size are filled and become part of it (0 keeps every "
            "hole; a very large size fills them all).\n\n"
            "Output fields: body_id, area_m2, area_ha, mean_p (the mean probability of the body's pixels, "
            "filled holes included) and holes_filled. Areas are planar in the raster's CRS when it "
            "is projected, and ellipsoidal (a Lambert equal-area projection centred on each body) "
            "when it is geographic; AREA_METHOD and the log say which. A map without a CRS is refused "
            "unless MAP_UNITS gives the units of its coordinates. The polygons are in the "
            "raster's CRS. Written as GeoPackage, GeoJSON or FlatGeobuf."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(with_help(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Water probability or mask")),
                                    "A one-band raster of 0 to 1: a probability map or a 0/1 water mask, any CRS."))
        self.addParameter(threshold_parameter("A pixel is water on a date when its probability is at least this."))
        self.addParameter(with_help(
            QgsProcessingParameterNumber(self.MIN_AREA, self.tr("Minimum area (m²)"),
                                         QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0),
            "Water bodies smaller than this are left out; 0 keeps every body, down to one pixel.",
        ))
        self.addParameter(with_help(
            QgsProcessingParameterNumber(self.FILL_HOLES_SMALLER_THAN, self.tr("Fill holes smaller than (m²)"),
                                         QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0),
            "Holes (islands, dry patches) smaller than this are filled; 0 keeps every hole.",
        ))
        self.addParameter(map_units_parameter())
        self.addParameter(with_help(
            QgsProcessingParameterVectorDestination(self.OUTPUT, self.tr("Water bodies"),
                                                    QgsProcessing.SourceType.TypeVectorPolygon),
            "Polygons in the raster's CRS with body_id, area_m2, area_ha, mean_p and holes_filled.",
        ))
        self.addOutput(QgsProcessingOutputNumber("BODIES", self.tr("Number of water bodies")))
        self.addOutput(QgsProcessingOutputNumber("WATER_AREA_HA", self.tr("Area of all water bodies (ha)")))
        self.addOutput(QgsProcessingOutputString("AREA_METHOD", self.tr("How the areas are measured")))

    def run_algorithm(self, parameters, context, feedback):
        raster, layer = raster_path(self, parameters, context, self.INPUT)
        output = self.checked_outputs(parameters, context, {self.INPUT: raster})[self.OUTPUT]
        summary = water_bodies(
            raster, output, threshold=self.parameterAsDouble(parameters, self.THRESHOLD, context),
            min_area_m2=self.parameterAsDouble(parameters, self.MIN_AREA, context),
            fill_holes_below_m2=self.parameterAsDouble(parameters, self.FILL_HOLES_SMALLER_THAN, context),
            map_units=map_units(self, parameters, context),
            callbacks=core_callbacks(feedback),
        )
        style_on_load(context, output, style_water_bodies, layer_name(layer.name(), "water bodies"))
        return {self.OUTPUT: output, "BODIES": summary.bodies,
                "WATER_AREA_HA": summary.water_area_m2 / SQUARE_METRES_PER_HECTARE,
                "AREA_METHOD": summary.area_method}
