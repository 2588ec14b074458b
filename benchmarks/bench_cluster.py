"""Eight scenes through the command line: in this process (sequential) vs `--workers 2`.

    .venv/bin/python benchmarks/bench_cluster.py [--scenes 8] [--size 4096] [--repeats 2]

Builds its own scenes (3 bands, UInt16, tiled like a GeoTIFF from a provider) and a logistic
regression fitted on one of them, in a temporary folder, then times the whole command, start-up
included, and prints one markdown table. Each figure is the best of --repeats runs, because
the machine may be shared. The speed-up's limit is the number of cores divided by the cores a
sequential run already keeps busy.
"""

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, osr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from water_logreg_plugin.core.model import fit_water_model, save_model  # noqa: E402


def write_scene(path, size, seed):
    """Water on the right half, dark in red and near-infrared; land bright; sensor noise."""
    rng = np.random.default_rng(seed)
    water = np.zeros((size, size), dtype=bool)
    water[:, size // 2:] = True
    dataset = gdal.GetDriverByName("GTiff").Create(
        path, size, size, 3, gdal.GDT_UInt16, ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"])
    dataset.SetGeoTransform((500000.0, 10.0, 0, 4000000.0, 0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    dataset.SetProjection(srs.ExportToWkt())
    bands = []
    for index, (water_mean, land_mean) in enumerate(((900, 1100), (600, 1400), (300, 2600))):
        values = np.where(water, water_mean, land_mean) + rng.normal(0, 60, water.shape)
        values = np.clip(values, 1, 10000).astype(np.uint16)
        dataset.GetRasterBand(index + 1).WriteArray(values)
        dataset.GetRasterBand(index + 1).SetNoDataValue(0)
        bands.append(values)
    dataset = None
    return np.stack(bands), water


def timed_run(arguments):
    """Wall seconds the command took, the CPU seconds it and its workers used, its summary rows."""
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "water_logreg_plugin.cli", "predict"] + arguments,
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu_seconds() - cpu_before
    summary = arguments[arguments.index("--summary") + 1]
    with open(summary, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if any(row["status"] != "ok" for row in rows):
        raise SystemExit(f"A scene failed: {rows}")
    return seconds, cpu_seconds, rows


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--size", type=int, default=4096, help="scene width and height in pixels")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_cluster_") as folder:
        scenes = []
        for index in range(args.scenes):
            path = os.path.join(folder, f"scene{index}.tif")
            bands, water = write_scene(path, args.size, index)
            if index == 0:
                pick = np.random.default_rng(0).choice(water.size, 20_000, replace=False)
                model, _ = fit_water_model(bands.reshape(3, -1).T[pick], water.ravel()[pick], [1, 2, 3],
                                           training_info={"data_type": "UInt16"})
                model_path = os.path.join(folder, "model.json")
                save_model(model, model_path)
            scenes.append(path)

        timings = {}
        for label, extra in (("sequential", []), ("--workers 2", ["--workers", "2"])):
            output = os.path.join(folder, label.strip("-").replace(" ", "_"))
            runs = [timed_run(["--model", model_path, "--output-folder", output,
                               "--summary", os.path.join(folder, "summary.csv")] + extra + scenes)
                    for _ in range(args.repeats)]
            timings[label] = min(runs, key=lambda run: run[0])

    sequential, sequential_cpu, sequential_rows = timings["sequential"]
    parallel, _, _ = timings["--workers 2"]
    megapixels = args.scenes * args.size * args.size / 1e6
    # Per-scene time in the sequential run, the first scene (torch's import) left out; CPU
    # seconds of the whole sequential run, start-up included: the figure to size a cluster by.
    per_scene = float(np.median([float(row["seconds"]) for row in sequential_rows[1:]]))
    # A sequential run already keeps more than one core busy (GDAL's DEFLATE threads, torch's),
    # so the speed-up cannot pass cores ÷ cores busy, start-up of the workers aside.
    cores_busy = sequential_cpu / sequential
    print("| scenes | pixels | sequential (s) | --workers 2 (s) | speed-up | cores busy, sequential "
          "| limit here | s per scene, sequential | CPU s per 100 Mpx |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.scenes} × {args.size}² | {megapixels:.0f} Mpx | {sequential:.1f} | {parallel:.1f} "
          f"| {sequential / parallel:.2f}× | {cores_busy:.2f} of {os.cpu_count()} "
          f"| {os.cpu_count() / cores_busy:.2f}× | {per_scene:.2f} | {100 * sequential_cpu / megapixels:.1f} |")


if __name__ == "__main__":
    main()
