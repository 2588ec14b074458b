"""Water occurrence over 20 dates of 4096² pixels: time and peak memory.

    .venv/bin/python benchmarks/bench_dates.py [--work benchmarks/work] [--repeats 3]

Builds once (cached under benchmarks/work/dates/) 20 Float32 probability rasters of 4096 ×
4096, tiled 256², DEFLATE with the floating-point predictor, as predictwater writes them: a
smooth wetness field of lakes and rivers, a water level that rises and falls over the dates,
noise, and a cloud strip of nodata on every fourth date. Then times core.dates.occurrence's
water_occurrence (occurrence and count written) in a child process per run, so each peak RSS
is that run's alone (VmHWM); the same for the first 5 and 10 dates (memory flat in the number of
dates) and for 20 dates of a 2048² corner (memory flat in scene size), each beside the time it
takes only to decode the same windows (the floor). Prints a markdown table.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, osr

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

SIZE = 4096
DATES = 20
SEED = 20261129
OPTIONS = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=3",
           "NUM_THREADS=ALL_CPUS"]
NODATA = -9999.0


def wetness_field(rng):
    """A smooth field of two octaves: lakes and rivers hundreds of pixels across, shores of tens."""
    field = np.zeros((SIZE, SIZE), np.float32)
    for cells, weight in ((16, 1.0), (128, 0.35)):
        coarse = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
        step = SIZE // cells
        fine = np.kron(coarse, np.ones((step, step), np.float32))[:SIZE, :SIZE]
        # a box blur of one coarse cell smooths the blocky upsampling
        kernel = np.ones(step, np.float32) / step
        fine = np.apply_along_axis(lambda line, kernel=kernel: np.convolve(line, kernel, mode="same"), 0, fine)
        fine = np.apply_along_axis(lambda line, kernel=kernel: np.convolve(line, kernel, mode="same"), 1, fine)
        field += weight * fine
    return field


def build_dates(folder):
    """The 20 dates, written under a temporary name and renamed when complete."""
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"date{index:02d}.tif") for index in range(DATES)]
    if all(os.path.exists(path) for path in paths):
        return paths
    rng = np.random.default_rng(SEED)
    wetness = wetness_field(rng)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    levels = 0.6 + 0.25 * np.sin(np.linspace(0, 2 * np.pi, DATES, endpoint=False))
    for index, (path, level) in enumerate(zip(paths, levels)):
        if os.path.exists(path):
            continue
        started = time.perf_counter()
        logit = 6.0 * (wetness - level) + rng.normal(0, 0.8, wetness.shape).astype(np.float32)
        probability = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
        if index % 4 == 3:
            probability[SIZE // 3:SIZE // 3 + 400] = NODATA
        partial = path + ".partial.tif"
        dataset = gdal.GetDriverByName("GTiff").Create(partial, SIZE, SIZE, 1, gdal.GDT_Float32, OPTIONS)
        dataset.SetGeoTransform((300000.0, 10.0, 0, 5000000.0, 0, -10.0))
        dataset.SetProjection(srs.ExportToWkt())
        dataset.GetRasterBand(1).SetNoDataValue(NODATA)
        dataset.GetRasterBand(1).WriteArray(probability)
        dataset = None
        os.replace(partial, path)
        print(f"built {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return paths


def corner_vrts(paths, folder, size):
    """VRTs of the top-left size² corner of each date."""
    os.makedirs(folder, exist_ok=True)
    corners = []
    for path in paths:
        corner = os.path.join(folder, os.path.basename(path).replace(".tif", f"_{size}.vrt"))
        if not os.path.exists(corner):
            gdal.Translate(corner, path, format="VRT", srcWin=[0, 0, size, size])
        corners.append(corner)
    return corners


def peak_rss_mb():
    """This process's peak resident memory. Linux's VmHWM belongs to the program now running;
    getrusage's ru_maxrss also counts the parent's memory copied at fork, before exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(paths):
    """Run in the child: one water_occurrence; prints seconds and peak RSS (MB)."""
    from water_logreg_plugin.core.dates.occurrence import water_occurrence

    folder = tempfile.mkdtemp(prefix="occurrence-", dir=os.path.dirname(paths[0]))
    started = time.perf_counter()
    water_occurrence(paths, os.path.join(folder, "occurrence.tif"), os.path.join(folder, "count.tif"))
    seconds = time.perf_counter() - started
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    print(f"{seconds:.3f} {peak_rss_mb():.1f}")


def read_floor(paths):
    """Run in the child: only decode every date, window by window as occurrence reads them (the
    next dates in threads of their own, each decoding on its share of the cores)."""
    from concurrent.futures import ThreadPoolExecutor

    from water_logreg_plugin.core.raster.probability import READING_THREADS, open_on_grid, read_in_turn
    from water_logreg_plugin.core.raster.windows import READ_AHEAD, row_windows

    rasters = open_on_grid(paths, decode_threads=READING_THREADS)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=READ_AHEAD) as reader:
        for _ in read_in_turn(rasters, row_windows(rasters[0].dataset), reader):
            pass
    print(f"{time.perf_counter() - started:.3f} {peak_rss_mb():.1f}")


def at_rest():
    """Peak RSS (MB) of a child that imports the core and GDAL and does nothing."""
    import water_logreg_plugin.core.dates.occurrence  # noqa: F401

    print(f"0 {peak_rss_mb():.1f}")


def child(arguments):
    output = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True)
    seconds, peak = output.stdout.split()
    return float(seconds), float(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=os.path.join(BENCH, "work"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--at-rest", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.at_rest:
        return at_rest()
    if arguments.measure:
        return measure(arguments.measure)
    if arguments.floor:
        return read_floor(arguments.floor)
    dates = build_dates(os.path.join(arguments.work, "dates"))
    corners = corner_vrts(dates, os.path.join(arguments.work, "dates", "corner"), SIZE // 2)
    rest = child(["--at-rest"])[1]
    rows = [("20 dates of 4096²", dates), ("10 dates of 4096²", dates[:10]), ("5 dates of 4096²", dates[:5]),
            ("20 dates of 2048² (corner)", corners)]
    print(f"Peak RSS of the process at rest (numpy, GDAL, the core imported): {rest:.0f} MB\n")
    print(f"| input | seconds (median of {arguments.repeats}) | read-only floor (s) | Mpx·dates/s | "
          "peak RSS (MB) | above rest (MB) |")
    print("|---|---|---|---|---|---|")
    for label, paths in rows:
        runs, floors = [], []
        for _ in range(arguments.repeats):  # alternated, so a neighbour's load falls on both
            runs.append(child(["--measure", *paths]))
            floors.append(child(["--floor", *paths])[0])
        seconds = statistics.median(run[0] for run in runs)
        peak = max(run[1] for run in runs)
        size = gdal.Open(paths[0]).RasterXSize
        throughput = size * size * len(paths) / 1e6 / seconds
        print(f"| {label} | {seconds:.2f} | {statistics.median(floors):.2f} | {throughput:.0f} | {peak:.0f} | "
              f"{peak - rest:.0f} |", flush=True)


if __name__ == "__main__":
    main()
