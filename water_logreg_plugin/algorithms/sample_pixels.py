"""waterlogreg:samplepixels — the pixels under training polygons, as a point layer."""

import json

from qgis.core import (
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingParameterFeatureSink,
    QgsWkbTypes,
)

from ..core.learning.sampling import sample_pixels
from ..core.model.compatibility import raster_description
from . import field_types, layers
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks
from .layers import SOURCE_FIELDS
from .sinks import check_layer_format, write_features

BATCH = 10_000


class SamplePixels(WaterLogRegAlgorithm):

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
            "'polygon_id' (the feature id of the polygon it came from), and the raster's band count, "
            "data type and scale/offset ('src_bands', 'src_type', 'src_scale'), which the model records "
            "so that it refuses rasters of another kind. Feed it to 'Train water model'.\n\n"
            "A pixel inside both a water and a land polygon is left out; polygons that give no "
            "pixel are listed in the log."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        for parameter in (
            declared.raster_parameter(self.INPUT), declared.bands_parameter(self.INPUT),
            declared.polygons_parameter(self.POLYGONS), declared.class_field_parameter(self.POLYGONS),
            declared.water_values_parameter(), declared.max_pixels_parameter(), declared.seed_parameter(),
        ):
            self.addParameter(parameter)
        self.addParameter(declared.with_help(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, self.tr("Sampled pixels"), defaultValue=QgsProcessing.TEMPORARY_OUTPUT),
            "Points at the sampled pixel centres, in the raster's CRS, with fields b1, b2, …, "
            "label (1 water, 0 land) and polygon_id; the input of 'Train water model'.",
        ))

    def run_algorithm(self, parameters, context, feedback):
        path, layer = layers.raster_path(self, parameters, context)
        self.checked_outputs(parameters, context, {  # before any work: never an input, in a folder that can be written
            self.INPUT: path, self.POLYGONS: layers.vector_file(self, parameters, self.POLYGONS, context)})
        bands = self.parameterAsInts(parameters, self.BANDS, context)
        # The fields of the bands asked for (none where the tool picks them): the same kinds of field.
        check_layer_format(self, parameters, self.OUTPUT, context, sample_fields(bands),
                           QgsWkbTypes.Type.Point, layer.crs())
        polygons = layers.training_polygons(self, parameters, context, feedback, layer.crs())
        samples = sample_pixels(
            path, bands, polygons,
            self.parameterAsInt(parameters, self.MAX_PIXELS_PER_CLASS, context),
            self.parameterAsInt(parameters, self.SEED, context),
            core_callbacks(feedback).part(0.0, 0.5),
        )
        fields = sample_fields(samples.bands)
        description = raster_description(path)
        scaling = description["scale_offset"]
        raster_kind = [description["band_count"], description["data_type"], json.dumps(scaling) if scaling else ""]

        def batches():
            count = len(samples.labels)
            for start in range(0, count, BATCH):
                part = slice(start, start + BATCH)
                batch = []
                for x, y, values, label, polygon_id in zip(
                        samples.x[part].tolist(), samples.y[part].tolist(), samples.values[part].tolist(),
                        samples.labels[part].tolist(), samples.polygon_ids[part].tolist()):
                    feature = QgsFeature(fields)
                    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
                    feature.setAttributes(values + [label, polygon_id] + raster_kind)
                    batch.append(feature)
                yield batch
                feedback.setProgress(50.0 + 50.0 * min(start + BATCH, count) / count)

        sink_id = write_features(
            self, parameters, self.OUTPUT, context, fields, QgsWkbTypes.Type.Point, layer.crs(), batches(), feedback
        )
        return {self.OUTPUT: sink_id}


def sample_fields(bands):
    """The point layer's fields: each band's value, the label, the polygon, and the raster's kind
    on every point (layer metadata and sidecar files are lost in a copy, an export or a merge,
    fields are not; names of ≤ 10 characters survive a Shapefile)."""
    fields = QgsFields()
    for band in bands:
        fields.append(QgsField(f"b{band}", field_types.DOUBLE))
    fields.append(QgsField("label", field_types.INTEGER))
    fields.append(QgsField("polygon_id", field_types.LONG))
    for name, kind in SOURCE_FIELDS:
        fields.append(QgsField(name, kind))
    return fields
