"""Command line for the QGIS-free core: a model trained in QGIS over many scenes, on Dask.

    python -m water_logreg_plugin.cli predict --model water_model.json --output-folder out/ \\
        [--workers N | --scheduler tcp://host:8786] [--summary summary.csv] scenes/*.tif

Without --workers or --scheduler the scenes run in this process (one Dask worker thread);
--workers N starts a local Dask cluster of N processes; --scheduler uses a running Dask
cluster, whose workers must see the scenes and the output folder at the same paths.
Nothing on this path imports QGIS.
"""

import argparse
import csv
import math
import os
import sys

from .core.callbacks import Callbacks
from .core.device import DEVICE_CHOICES
from .core.errors import WaterLogRegError
from .core.maps.water_share import FROM_SCENE, GIVEN_SHARE, PRIOR_CHOICES, WaterPrior
from .core.raster.outputs import check_outputs
from .core.raster.writing import atomic_output
from .core.scale.cluster import TASK_PIXELS, check_scheduler, predict_scenes_on_cluster
from .core.scale.scenes import SUMMARY_COLUMNS, expand_scenes, scene_outputs

SUMMARY_NAME = "summary.csv"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m water_logreg_plugin.cli",
        description="Map water with a model file from the water_logreg_plugin QGIS plugin.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser(
        "predict", help="water probability for many scenes, on this machine or a Dask cluster",
        description="Writes OUTPUT_FOLDER/<scene>_water.tif for each scene: P(water) as Float32, "
                    "nodata -9999, exactly as 'Predict water probability' in QGIS writes it. Scenes of "
                    "one name in different folders get <folder>_<scene>_water.tif; a name still taken "
                    "by a scene gets _2, _3, …; the summary shows which output is whose. Results of "
                    "this plugin that a pattern matches are not scenes.",
    )
    predict.add_argument("scenes", nargs="+", metavar="SCENE", help="raster paths or glob patterns (quote them)")
    predict.add_argument("--model", required=True, help="model file (JSON) saved by the plugin")
    predict.add_argument("--output-folder", required=True, help="folder for the outputs (created if missing)")
    where = predict.add_mutually_exclusive_group()
    where.add_argument("--workers", type=whole_number(0), default=0, metavar="N",
                       help="start a local Dask cluster of N worker processes (at most the number of CPU cores, "
                            "unless --oversubscribe)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler, tcp://host:8786")
    predict.add_argument("--summary", metavar="CSV",
                         help=f"where to write the per-scene summary (default OUTPUT_FOLDER/{SUMMARY_NAME})")
    predict.add_argument("--oversubscribe", action="store_true",
                         help="allow --workers beyond the number of CPU cores of this machine")
    predict.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="torch device on each worker")
    predict.add_argument("--water-prior", choices=PRIOR_CHOICES, default=FROM_SCENE,
                         help="the share of water P(water) is for: 'scene', each scene's own, estimated from the "
                              "model's outputs by EM (default, as the QGIS tools); 'training', the training "
                              "pixels' (the model as it is); 'given', --water-share")
    predict.add_argument("--water-share", type=float, metavar="SHARE",
                         help="the share of water for --water-prior given, strictly between 0 and 1")
    predict.add_argument("--seed", type=int, default=0, help="seed of the scene sample the share is estimated on")
    predict.add_argument("--task-pixels", type=whole_number(1), metavar="N",
                         help="split scenes with more pixels into tasks of whole block rows of about N "
                              f"pixels, assembled into one output (default {TASK_PIXELS} with --workers "
                              "2 or more or --scheduler; no split in one process)")
    return parser


def whole_number(least):
    """An argparse type: a whole number of at least `least`, refused before any work otherwise
    (--task-pixels 0 used to fail only once the output folder had been created)."""

    def parse(text):
        try:
            number = float(text)  # 1e6 as well as 1000000
        except ValueError:
            number = math.nan
        if not (number >= least and number.is_integer()):
            raise argparse.ArgumentTypeError(f"give a whole number of {least} or more, not '{text}'")
        return int(number)

    return parse


def main(argv=None):
    args = build_parser().parse_args(argv)
    scenes = expand_scenes(args.scenes, Callbacks(log=lambda line: print(line, file=sys.stderr)))
    summary_path = args.summary or os.path.join(args.output_folder, SUMMARY_NAME)
    try:
        check_workers(args.workers, args.oversubscribe)
        if args.scheduler:
            check_scheduler(args.scheduler)
        check_outputs(
            dict({"--model": args.model}, **{f"scene '{scene}'": scene for scene in scenes}),
            dict({"--output-folder": args.output_folder, "--summary": summary_path},
                 **{f"the output of '{os.path.basename(scene)}'": output
                    for scene, output in zip(scenes, scene_outputs(scenes, args.output_folder))}),
            create_folders=("--output-folder",),
        )
        prior = water_prior(args)
        results = predict_scenes_on_cluster(
            args.model, scenes, args.output_folder, args.device, scheduler=args.scheduler,
            workers=args.workers, task_pixels=args.task_pixels, progress_bar=True, prior=prior,
        )
        write_summary(results, summary_path)
    except WaterLogRegError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f" '{error.filename}'" if error.filename else ""
        print(f"error: reading or writing{where} failed ({error.strerror or error}); check the path, "
              "the free disk space and that the folder can be written.", file=sys.stderr)
        return 2
    print(format_summary(results))
    print(f"Summary written to {summary_path}")
    return 0 if all(result.status == "ok" for result in results) else 1


def water_prior(args):
    """The WaterPrior of --water-prior, --water-share and --seed, refused in words."""
    if args.water_prior == GIVEN_SHARE and args.water_share is None:
        raise WaterLogRegError("--water-prior given needs --water-share, e.g. --water-share 0.08 for 8 % water.")
    try:
        return WaterPrior(args.water_prior, args.water_share if args.water_prior == GIVEN_SHARE else None, args.seed)
    except ValueError as error:
        raise WaterLogRegError(f"--water-share: {error}") from None


def check_workers(workers, oversubscribe=False):
    """A local cluster bigger than the machine only thrashes it: the CPU count bounds --workers."""
    cores = os.cpu_count() or 1
    if workers < 0:
        raise WaterLogRegError(f"--workers must be 0 or more, not {workers}.")
    if workers > cores and not oversubscribe:
        raise WaterLogRegError(
            f"--workers {workers} is more than the {cores} CPU cores of this machine; each worker is a "
            f"process holding a scene's windows in memory. Use --workers {cores} or fewer, or add "
            "--oversubscribe to start that many anyway."
        )


def write_summary(results, path):
    with atomic_output(path) as partial, open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(result.as_row() for result in results)


def format_summary(results):
    """A plain-text table of the scenes, then the totals."""
    header = ("scene", "output", "pixels", "water %", "seconds", "worker", "status")
    rows = [
        (result.scene, os.path.basename(result.output), f"{result.pixels:,}",
         f"{100 * result.water_fraction:.2f}" if result.status == "ok" else "",
         f"{result.seconds:.1f}", result.worker, result.status if result.status == "ok" else f"failed: {result.reason}")
        for result in results
    ]
    widths = [max(len(row[column]) for row in [header] + rows) for column in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
             for row in [header] + rows]
    succeeded = sum(result.status == "ok" for result in results)
    lines.append(f"{succeeded} of {len(results)} scenes ok, "
                 f"{sum(result.pixels for result in results):,} valid pixels, "
                 f"{sum(result.seconds for result in results):.1f} worker-seconds.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
