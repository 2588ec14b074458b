"""waterlogreg:predictscenes — one model over many rasters, a failed scene reported and skipped."""

import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsWkbTypes,
)

from ..core.scale.batch import predict_scenes, predict_scenes_with_occurrence
from ..core.scale.cluster import check_scheduler
from ..core.scale.scenes import SUMMARY_COLUMNS, expand_scenes, scene_outputs
from ..styling import style_occurrence, style_on_load
from . import field_types
from . import parameters as declared
from .base import WaterLogRegAlgorithm, core_callbacks
from .sinks import check_layer_format, write_features

SUMMARY_FIELD_TYPES = {"pixels": field_types.LONG, "water_fraction": field_types.DOUBLE, "seconds": field_types.DOUBLE,
                       "training_water_share": field_types.DOUBLE, "scene_water_share": field_types.DOUBLE}


class PredictScenes(WaterLogRegAlgorithm):
    SCENES, FOLDER, PATTERN, SCHEDULER = "SCENES", "FOLDER", "PATTERN", "SCHEDULER"
    OUTPUT_FOLDER, OUTPUT_SUMMARY, OUTPUT_OCCURRENCE = "OUTPUT_FOLDER", "OUTPUT_SUMMARY", "OUTPUT_OCCURRENCE"
    SCENES_OK, SCENES_FAILED = "SCENES_OK", "SCENES_FAILED"
    all_or_nothing = False  # the scenes done before a failure or a cancel are kept

    def name(self):
        return "predictscenes"

    def displayName(self):  # noqa: N802
        return self.tr("Predict water on many scenes")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Applies one model file to many rasters: the layers you pick, plus every file in a "
            "folder that matches a pattern (except the results of this plugin, so the output folder "
            "may be the folder of scenes). Each scene gets its own water-probability GeoTIFF, "
            "<scene>_water.tif in the output folder (Float32, 0 land … 1 water, nodata -9999); "
            "scenes of the same name in different folders get <folder>_<scene>_water.tif, and a "
            "name that is still taken (by a scene of the batch) gets _2, _3, …. The summary "
            "says which output belongs to which scene.\n\n"
            "A scene that cannot be predicted (unreadable, missing bands, another band count or "
            "data type than the model was trained on) is reported in the log and skipped; the "
            "other scenes still run.\n\n"
            "Outputs: a summary table with one row per scene (scene, output, valid pixels, water "
            "fraction, seconds, status and the reason of a failure) and the numbers of scenes "
            "done and failed. Optionally the water occurrence of the batch: for each pixel, the "
            "share of the scenes that saw it in which it is water (P ≥ 0.5), as 'Water occurrence "
            "over dates' computes it.\n\n"
            "Dask scheduler (advanced, optional): the address of a running Dask cluster "
            "(tcp://host:8786) runs the scenes there with the same code as the command line "
            "'python -m water_logreg_plugin.cli predict'; its workers must see the scenes and the "
            "output folder at the same paths. Needs dask[distributed] in QGIS's Python."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(declared.with_help(
            QgsProcessingParameterFile(self.MODEL, self.tr("Model file"), extension="json"),
            "A model file (JSON) saved by 'Train water model' or 'Classify water'.",
        ))
        self.addParameter(declared.with_help(
            QgsProcessingParameterMultipleLayers(
                self.SCENES, self.tr("Scenes"), QgsProcessing.SourceType.TypeRaster, optional=True
            ),
            "Raster layers or files with the same bands as the raster the model was trained on.",
        ))
        self.addParameter(declared.with_help(
            QgsProcessingParameterFile(
                self.FOLDER, self.tr("Folder of scenes"), QgsProcessingParameterFile.Behavior.Folder, optional=True
            ),
            "Optional: every file in this folder whose name matches the pattern is a scene too.",
        ))
        self.addParameter(declared.with_help(
            QgsProcessingParameterString(self.PATTERN, self.tr("File name pattern"), "*.tif", optional=True),
            "Which files of the folder are scenes, e.g. '*.tif' or 'LC08_*.tif;*.jp2' (several "
            "patterns separated by ';').",
        ))
        self.addParameter(declared.device_parameter())
        for parameter in declared.water_prior_parameters():
            self.addParameter(parameter)
        self.addParameter(declared.advanced(declared.with_help(
            QgsProcessingParameterString(self.SCHEDULER, self.tr("Dask scheduler address"), optional=True),
            "Optional: tcp://host:8786 of a running Dask scheduler; empty runs the scenes here, one "
            "after another.",
        )))
        self.addParameter(declared.with_help(
            QgsProcessingParameterFolderDestination(
                self.OUTPUT_FOLDER, self.tr("Output folder"), QgsProcessing.TEMPORARY_OUTPUT),
            "Where the probability rasters go, one <scene>_water.tif per scene; created if missing.",
        ))
        self.addParameter(declared.with_help(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT_SUMMARY, self.tr("Summary"), QgsProcessing.SourceType.TypeVector,
                QgsProcessing.TEMPORARY_OUTPUT, optional=True, createByDefault=True,
            ),
            "A table, one row per scene: scene, output, pixels, water_fraction, training_water_share and "
            "scene_water_share (the shares of water P(water) was moved between; each scene's own by EM), "
            "seconds, worker, status (ok or failed) and reason. Left out, a temporary layer.",
        ))
        self.addParameter(declared.with_help(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_OCCURRENCE, self.tr("Water occurrence of the batch"), optional=True,
                createByDefault=False,
            ),
            "Optional Float32 GeoTIFF on the first scene's grid: water observations ÷ valid "
            "observations over the scenes predicted (P ≥ 0.5 is water; nodata where no scene saw "
            "the pixel). For scenes of one place on several dates.",
        ))
        self.addOutput(QgsProcessingOutputNumber(self.SCENES_OK, self.tr("Scenes predicted")))
        self.addOutput(QgsProcessingOutputNumber(self.SCENES_FAILED, self.tr("Scenes failed")))

    def run_algorithm(self, parameters, context, feedback):
        # parameterAsFileList gives [''] when no layer is picked.
        picked = [path for path in self.parameterAsFileList(parameters, self.SCENES, context) if path]
        callbacks = core_callbacks(feedback)
        scenes = expand_scenes(picked + self.folder_patterns(parameters, context), callbacks)
        model = self.parameterAsFile(parameters, self.MODEL, context)
        scheduler = self.parameterAsString(parameters, self.SCHEDULER, context).strip() or None
        if scheduler:
            check_scheduler(scheduler)  # within a timeout, before any work
        if parameters.get(self.OUTPUT_SUMMARY) is not None:  # written after every scene; before the folder is made
            check_layer_format(self, parameters, self.OUTPUT_SUMMARY, context, summary_fields(),
                               QgsWkbTypes.Type.NoGeometry, QgsCoordinateReferenceSystem())
        # Before any work: nothing overwrites a scene or the model, the folder is made (the help
        # promises it) and the summary can be written.
        outputs = self.checked_outputs(
            parameters, context, dict({self.MODEL: model}, **{f"scene '{scene}'": scene for scene in scenes}),
            derived_outputs=lambda outputs: {
                f"the output of '{os.path.basename(scene)}'": output
                for scene, output in zip(scenes, scene_outputs(scenes, outputs[self.OUTPUT_FOLDER]))},
        )
        output_folder, occurrence = outputs[self.OUTPUT_FOLDER], outputs[self.OUTPUT_OCCURRENCE]
        device = declared.device_choice(self, parameters, context)
        prior = declared.water_prior(self, parameters, context)
        if occurrence:
            results, occurrence = predict_scenes_with_occurrence(
                model, scenes, output_folder, occurrence, device, callbacks, scheduler, prior)
            style_on_load(context, occurrence, style_occurrence, "water occurrence of the batch")
        else:
            results = predict_scenes(model, scenes, output_folder, device, callbacks, scheduler, prior=prior)
        summary_id = (self.write_summary(parameters, context, results)
                      if parameters.get(self.OUTPUT_SUMMARY) is not None else None)
        failed = [result for result in results if result.status != "ok"]
        if failed:
            feedback.reportError(
                f"{len(failed)} of {len(results)} scenes failed and were skipped: "
                + "; ".join(f"{os.path.basename(result.scene)}: {result.reason}" for result in failed),
                fatalError=False,
            )
        return {
            self.OUTPUT_FOLDER: output_folder, self.OUTPUT_SUMMARY: summary_id, self.OUTPUT_OCCURRENCE: occurrence,
            self.SCENES_OK: len(results) - len(failed), self.SCENES_FAILED: len(failed),
        }

    def folder_patterns(self, parameters, context):
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if not folder:
            return []
        patterns = self.parameterAsString(parameters, self.PATTERN, context) or "*"
        return [os.path.join(folder, pattern.strip()) for pattern in patterns.split(";") if pattern.strip()]

    def write_summary(self, parameters, context, results):
        fields = summary_fields()
        rows = []
        for result in results:
            feature = QgsFeature(fields)
            row = result.as_row()
            feature.setAttributes([row[column] for column in SUMMARY_COLUMNS])
            rows.append(feature)
        # The scenes are done; a cancel now would only throw away the table that describes them.
        return write_features(
            self, parameters, self.OUTPUT_SUMMARY, context, fields, QgsWkbTypes.Type.NoGeometry,
            QgsCoordinateReferenceSystem(), [rows], QgsProcessingFeedback(),
        )


def summary_fields():
    """OUTPUT_SUMMARY's fields: a column per SUMMARY_COLUMNS, a row per scene."""
    fields = QgsFields()
    for column in SUMMARY_COLUMNS:
        fields.append(QgsField(column, SUMMARY_FIELD_TYPES.get(column, field_types.TEXT)))
    return fields
