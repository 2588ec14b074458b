"""Sampling many small polygons: time and peak memory for 10,000, 100,000 and 1,000,000.

    .venv/bin/python benchmarks/bench_polygons.py [--work benchmarks/work] [--counts 10000,100000,1000000]

One-pixel square polygons (each covers one pixel centre), half water and half land, at
distinct random pixels (seeded) of a 3-band UInt16 scene just large enough to hold them at a
quarter of its pixels; every pixel kept (MAX_PIXELS_PER_CLASS 0). Each count runs
core.learning.sampling.sample_pixels in a child process, so its peak RSS (VmHWM, reset after the
polygons are built) is that run's alone. Issue 26's figures before one rasterization a tile:
20,000 polygons 8.5 s, 100,000 127 s, 1,000,000 not done in 10 minutes. Prints a markdown table.
"""

import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal, ogr, osr

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

SEED = 20261202
ORIGIN, PIXEL = (500000.0, 4000000.0), 10.0
TARGET_SECONDS_100K = 30  # issue 26: at most 30 s for 100,000 one-pixel polygons


def memory_mb(field):
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {field}")


def scene_for(count, work):
    """A scene of at least 4 × count pixels (cached under work/polygons/)."""
    side = math.ceil(math.sqrt(4 * count))
    path = os.path.join(work, "polygons", f"scene_{side}.tif")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        bands = np.random.default_rng(SEED).integers(1, 10000, (3, side, side), dtype=np.uint16)
        dataset = gdal.GetDriverByName("GTiff").Create(path, side, side, 3, gdal.GDT_UInt16,
                                                       ["TILED=YES", "COMPRESS=DEFLATE"])
        dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0, ORIGIN[1], 0, -PIXEL))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32633)
        dataset.SetProjection(srs.ExportToWkt())
        for index in range(3):
            dataset.GetRasterBand(index + 1).WriteArray(bands[index])
        dataset = None
    return path, side


def child(count, work):
    """In a fresh process: build the polygons, reset the peak, sample; print seconds and MB."""
    from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels

    path, side = scene_for(count, work)
    cells = np.random.default_rng(SEED).choice(side * side, count, replace=False)
    polygons = []
    for number, cell in enumerate(cells.tolist()):
        row, col = divmod(cell, side)
        x, y = ORIGIN[0] + col * PIXEL, ORIGIN[1] - row * PIXEL
        ring = f"{x} {y}, {x + PIXEL} {y}, {x + PIXEL} {y - PIXEL}, {x} {y - PIXEL}, {x} {y}"
        wkb = ogr.CreateGeometryFromWkt(f"POLYGON (({ring}))").ExportToWkb()
        polygons.append(TrainingPolygon(number + 1, bytes(wkb), number % 2 == 0))
    baseline = memory_mb("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
        handle.write("5")
    started = time.perf_counter()
    samples = sample_pixels(path, [1, 2, 3], polygons, 0, 0)
    seconds = time.perf_counter() - started
    assert len(samples.labels) == count, "every one-pixel polygon gives its pixel"
    print(f"{seconds:.2f} {baseline:.0f} {memory_mb('VmHWM'):.0f} {side}")


COUNTS = (10_000, 100_000, 1_000_000)


def measure(count, work):
    """(seconds, MB at rest, peak MB, scene side) of sampling `count` polygons, in a child process."""
    completed = subprocess.run([sys.executable, __file__, "--work", work, "--child", str(count)],
                               capture_output=True, text=True, check=True)
    seconds, baseline, peak, side = completed.stdout.split()[-4:]
    return float(seconds), float(baseline), float(peak), int(side)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=os.path.join(BENCH, "work"))
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.work)
    lines = ["| one-pixel polygons | scene | sampling (s) | peak RSS during sampling (MB; polygons built before) | "
             "target |", "|---|---|---|---|---|"]
    for count in (int(part) for part in args.counts.split(",")):
        seconds, baseline, peak, side = measure(count, args.work)
        target = f"≤ {TARGET_SECONDS_100K} s" if count == 100_000 else "linear"
        lines.append(f"| {count:,} | {side}² | {seconds:.2f} | {peak:.0f} (at rest {baseline:.0f}) | {target} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
