"""One scene of a batch: where its output goes, what it reports, why it failed.

The in-process batch (core.batch) and the Dask path (core.cluster) both build on this module
and on nothing of each other, so the same scene gives the same row whichever runs it.
"""

import glob
import os
import socket
import time
from dataclasses import asdict, dataclass

from .callbacks import QUIET, Callbacks
from .errors import Canceled, WaterLogRegError
from .model import load_model
from .predict import predict_water

SUMMARY_COLUMNS = ("scene", "output", "pixels", "water_fraction", "seconds", "worker", "status", "reason")


@dataclass
class SceneResult:
    scene: str
    output: str
    pixels: int = 0
    water_fraction: float = float("nan")
    seconds: float = 0.0
    worker: str = ""
    status: str = "failed"  # "ok" or "failed"
    reason: str = ""

    def as_row(self):
        return asdict(self)

    def describe(self):
        """One line for a log: the scene, then its water and time, or why it failed."""
        if self.status != "ok":
            return f"{os.path.basename(self.scene)}: {self.status} — {self.reason}"
        where = f" on {self.worker}" if self.worker else ""
        return (f"{os.path.basename(self.scene)}: ok, {100 * self.water_fraction:.2f} % water, "
                f"{self.seconds:.1f} s{where}")


def failure_reason(error):
    """What a failed scene reports: our own messages as they are, anything else with its type."""
    return str(error) if isinstance(error, WaterLogRegError) else f"{type(error).__name__}: {error}"


def expand_scenes(patterns):
    """Paths and glob patterns → the scene files, in the order given, each once."""
    scenes = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        scenes.extend(match for match in matches if match not in scenes)
    return scenes


def output_path_for(scene, output_folder, suffix="_water.tif"):
    stem = os.path.splitext(os.path.basename(scene))[0]
    return os.path.join(output_folder, stem + suffix)


def predict_scene(model, scene, output_path, device="auto", callbacks=QUIET):
    """Predict one scene; any problem becomes a failed SceneResult with the reason."""
    started = time.perf_counter()
    result = SceneResult(scene=scene, output=output_path, worker=socket.gethostname())
    try:
        # Only the cancel: one scene's progress and log lines would drown the batch's own.
        summary = predict_water(scene, model, output_path, device,
                                callbacks=Callbacks(is_canceled=callbacks.is_canceled))
    except Canceled:
        raise
    except Exception as error:  # noqa: BLE001 — one broken scene must not stop a batch
        result.reason = failure_reason(error)
    else:
        result.status = "ok"
        result.pixels = summary.valid_pixels
        result.water_fraction = summary.water_fraction
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
