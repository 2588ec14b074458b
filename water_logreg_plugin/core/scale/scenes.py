"""One scene of a batch: where its output goes, what it reports, why it failed.

The in-process batch (core.scale.batch) and the Dask path (core.scale.cluster) both build on this module
and on nothing of each other, so the same scene gives the same row whichever runs it.
"""

import glob
import os
import re
import socket
import time
from dataclasses import dataclass, field

from osgeo import gdal

from ..callbacks import QUIET, Callbacks
from ..errors import Canceled, WaterLogRegError, describe_os_error
from ..maps.predict import predict_water
from ..model import load_model
from ..raster.gdal_errors import open_outcome
from ..raster.outputs import describe_repeats, distinct_files
from ..raster.writing import OUTPUT_SOFTWARE

SUMMARY_COLUMNS = ("scene", "output", "pixels", "water_fraction", "training_water_share", "scene_water_share",
                   "seconds", "worker", "status", "reason")


@dataclass
class SceneResult:
    scene: str
    output: str
    pixels: int = 0
    water_fraction: float = float("nan")
    # The shares of water P(water) was moved between (NaN: as the model gives it, or unknown).
    training_water_share: float = float("nan")
    scene_water_share: float = float("nan")
    seconds: float = 0.0
    worker: str = ""
    status: str = "failed"  # "ok" or "failed"
    reason: str = ""
    # What the scene's log adds to its line, not a summary column: a band that costs the map pixels.
    notes: list = field(default_factory=list)

    def as_row(self):
        return {column: getattr(self, column) for column in SUMMARY_COLUMNS}

    def log_lines(self):
        """The scene's line for a batch's log, then its notes, each naming the scene."""
        name = os.path.basename(self.scene)
        return [self.describe(), *(f"{name}: {note}" for note in self.notes)]

    def describe(self):
        """One line for a log: the scene, then its water and time, or why it failed."""
        if self.status != "ok":
            return f"{os.path.basename(self.scene)}: {self.status} — {self.reason}"
        where = f" on {self.worker}" if self.worker else ""
        share = ("" if self.scene_water_share != self.scene_water_share
                 else f" (P(water) for {100 * self.scene_water_share:.2f} % water)")
        return (f"{os.path.basename(self.scene)}: ok, {100 * self.water_fraction:.2f} % water{share}, "
                f"{self.seconds:.1f} s{where}")

    def record_shares(self, water_share):
        """The shares of a prediction's SceneShare (water_share.py), where it has them."""
        if water_share is not None:
            for name in ("training_water_share", "scene_water_share"):
                value = getattr(water_share, name.replace("_water", ""))
                setattr(self, name, float("nan") if value is None else value)


def failure_reason(error):
    """What a failed scene reports: our own messages as they are, anything else with its type."""
    if isinstance(error, WaterLogRegError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return describe_os_error(error)
    return f"{type(error).__name__}: {error}"


def expand_scenes(patterns, callbacks=QUIET):
    """Paths and glob patterns → the scene files, in the order given, each file once.

    A file a pattern matches that this plugin wrote (a probability map of an earlier run,
    TIFFTAG_SOFTWARE = OUTPUT_SOFTWARE) is no scene: a batch whose output folder is its
    scene folder never takes its own results for scenes, and a rerun does the same work.
    One file under several spellings (a path and a glob matching it, 'dir/../a.tif', a link)
    is one scene, its first spelling kept, and the log says so: predicted twice, it would
    also count twice in the batch's occurrence.
    """
    scenes = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            scenes.extend(match for match in sorted(glob.glob(pattern)) if not is_plugin_output(match))
        else:
            scenes.append(pattern)
    scenes, repeats = distinct_files(scenes)
    if repeats:
        callbacks.log(
            f"Warning: {len(repeats)} of the scene paths {'names' if len(repeats) == 1 else 'name'} a file "
            f"given before ({describe_repeats(repeats)}); each file is predicted once, under its first name."
        )
    return scenes


OUTPUT_NAME = re.compile(r"_water(_\d+)?\.tif$")


def is_plugin_output(path):
    """True for a raster this plugin wrote, by its name and the software tag create_like sets."""
    if not OUTPUT_NAME.search(path) or not os.path.isfile(path):
        return False
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset, _ = open_outcome(gdal.OpenEx, path, gdal.OF_RASTER | gdal.OF_READONLY)
        return dataset is not None and dataset.GetMetadataItem("TIFFTAG_SOFTWARE") == OUTPUT_SOFTWARE
    finally:
        gdal.PopErrorHandler()


def _file_key(path):
    return os.path.normcase(os.path.realpath(path))


def scene_outputs(scenes, output_folder, suffix="_water"):
    """Each scene's output path, in scene order; never one scene's result on another's, nor on
    any scene of the batch.

    The rule: <stem>_water.tif; scenes that share a stem are told apart by their folder's name,
    <folder>_<stem>_water.tif; a name still taken (by an earlier scene's output or by a scene
    of the batch) gets _2, _3, … : <stem>_water_2.tif.
    """
    stems = [os.path.splitext(os.path.basename(scene))[0] for scene in scenes]
    taken = {_file_key(scene) for scene in scenes}
    outputs = []
    for scene, stem in zip(scenes, stems):
        if stems.count(stem) > 1:
            parent = os.path.basename(os.path.dirname(os.path.abspath(scene)))
            stem = f"{parent}_{stem}" if parent else stem
        output, number = os.path.join(output_folder, f"{stem}{suffix}.tif"), 2
        while _file_key(output) in taken:
            output, number = os.path.join(output_folder, f"{stem}{suffix}_{number}.tif"), number + 1
        taken.add(_file_key(output))
        outputs.append(output)
    return outputs


def predict_scene(model, scene, output_path, device="auto", callbacks=QUIET, prior=None):
    """Predict one scene (P(water) for the share `prior` says, its own scene's by EM
    for FROM_SCENE); any problem becomes a failed SceneResult with the reason."""
    started = time.perf_counter()
    result = SceneResult(scene=scene, output=output_path, worker=socket.gethostname())
    try:
        # Only the cancel: one scene's progress and log lines would drown the batch's own.
        summary = predict_water(scene, model, output_path, device,
                                callbacks=Callbacks(is_canceled=callbacks.is_canceled), prior=prior)
    except Canceled:
        raise
    except Exception as error:  # noqa: BLE001 — one broken scene must not stop a batch
        result.reason = failure_reason(error)
    else:
        result.status = "ok"
        result.pixels = summary.valid_pixels
        result.water_fraction = summary.water_fraction
        result.record_shares(summary.water_share)
        result.notes = list(summary.band_coverage)
    result.seconds = time.perf_counter() - started
    return result


def check_batch(model, scenes, output_folder):
    """Refuse a batch that cannot start; returns the WaterModel (`model` may be a file path)."""
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    if not os.path.isdir(output_folder):
        raise WaterLogRegError(f"The output folder '{output_folder}' does not exist; create it first.")
    if not scenes:
        raise WaterLogRegError("No scene was given (or no file matches the patterns).")
    return model
