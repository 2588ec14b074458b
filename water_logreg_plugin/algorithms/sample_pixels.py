"""waterlogreg:samplepixels — the pixels under training polygons, as a point layer."""

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingParameterFeatureSink,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.sampling import sample_pixels
from . import qgis_bridge as bridge
from .base import WaterLogRegAlgorithm

BATCH = 10_000


class SamplePixels(WaterLogRegAlgorithm):
    INPUT, BANDS, POLYGONS, CLASS_FIELD = "INPUT", "BANDS", "POLYGONS", "CLASS_FIELD"
    WATER_VALUES, MAX_PIXELS_PER_CLASS, SEED, OUTPUT = "WATER_VALUES", "MAX_PIXELS_PER_CLASS", "SEED", "OUTPUT"

    def name(self):
        return "samplepixels"

    def displayName(self):  # noqa: N802
        return self.tr("Sample training pixels")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Takes every pixel whose centre lies inside a training polygon (polygons in any CRS "
            "are reprojected to the raster's), skips nodata, and keeps at most the maximum "
            "number of pixels per class, drawn with the seed.\n\n"
            "Output: a point layer in the raster's CRS, one point per pixel centre, with one "
            "field per band (b1, b2, … by band number), 'label' (1 water, 0 land) and "
            "'polygon_id' (the feature id of the polygon it came from). Feed it to 'Train water model'.\n\n"
            "A pixel inside both a water and a land polygon is left out; polygons that give no "
            "pixel are listed in the log."
        )

    def needs_torch(self):
        return False

    def initAlgorithm(self, config=None):  # noqa: N802
        for parameter in (
            bridge.raster_parameter(self.INPUT), bridge.bands_parameter(self.INPUT),
            bridge.polygons_parameter(self.POLYGONS), bridge.class_field_parameter(self.POLYGONS),
            bridge.water_values_parameter(), bridge.max_pixels_parameter(), bridge.seed_parameter(),
        ):
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Sampled pixels")))

    def run_algorithm(self, parameters, context, feedback):
        path, layer = bridge.raster_path(self, parameters, context)
        polygons = bridge.training_polygons(self, parameters, context, feedback, layer.crs())
        samples = sample_pixels(
            path, self.parameterAsInts(parameters, self.BANDS, context), polygons,
            self.parameterAsInt(parameters, self.MAX_PIXELS_PER_CLASS, context),
            self.parameterAsInt(parameters, self.SEED, context),
            **bridge.core_callbacks(feedback),
        )
        fields = QgsFields()
        for band in samples.bands:
            fields.append(QgsField(f"b{band}", QVariant.Double))
        fields.append(QgsField("label", QVariant.Int))
        fields.append(QgsField("polygon_id", QVariant.LongLong))
        sink, sink_id = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, QgsWkbTypes.Point, layer.crs()
        )
        rows = zip(samples.x.tolist(), samples.y.tolist(), samples.values.tolist(),
                   samples.labels.tolist(), samples.polygon_ids.tolist())
        batch = []
        for x, y, values, label, polygon_id in rows:
            feature = QgsFeature(fields)
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
            feature.setAttributes(values + [label, polygon_id])
            batch.append(feature)
            if len(batch) == BATCH:
                if feedback.isCanceled():
                    break
                sink.addFeatures(batch, QgsFeatureSink.FastInsert)
                batch = []
        sink.addFeatures(batch, QgsFeatureSink.FastInsert)
        return {self.OUTPUT: sink_id}
