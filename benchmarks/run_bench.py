"""`make bench`: our water mapping side by side with GDAL, scikit-learn and Orfeo ToolBox.

    .venv/bin/python benchmarks/run_bench.py [--repeats 3] [--work benchmarks/work]

Builds (or reuses) the inputs of build_inputs.py, starts QGIS once in this process, and
times every row: predict and the one-click job through `processing.run` (QGIS's start left
out), the peers as the command a user would type (gdal_calc.py, otbcli_*, gdal_rasterize) or
the library call (scikit-learn). Each figure is the median of --repeats runs, and the runs
of a row alternate ours and the peer's, so a neighbour's load falls on both: the ratios are
the result, the seconds are context. Peak memory is measured in a child process per scene.
Prints one markdown table and writes it, with the machine, versions and date, to
benchmarks/RESULTS.md.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, ogr, osr

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)
sys.path.insert(0, BENCH)

import bench_polygons  # noqa: E402
from build_inputs import build_inputs  # noqa: E402

from water_logreg_plugin.core.learning.metrics import accuracy_figures  # noqa: E402
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, sample_pixels  # noqa: E402
from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA  # noqa: E402
from water_logreg_plugin.core.model import fit_water_model, save_model  # noqa: E402
from water_logreg_plugin.core.raster.reading import open_raster  # noqa: E402
from water_logreg_plugin.core.raster.windows import read_ahead, reading_handles, row_windows  # noqa: E402
from water_logreg_plugin.core.raster.writing import GEOTIFF_OPTIONS  # noqa: E402
from water_logreg_plugin.standalone import start_qgis  # noqa: E402

DEMO = os.path.join(ROOT, "demo", "data")
FLOAT_OPTIONS = list(GEOTIFF_OPTIONS) + ["PREDICTOR=3"]
FIT_SAMPLES_PER_CLASS = 500_000
MLP_SAMPLES_PER_CLASS = 50_000
# Rounds of row 3b's own alternation: its two runs differ by a tenth of a second.
SHARE_REPEATS = 7


# ---------------------------------------------------------------- our algorithms

def run_ours(name, parameters):
    import processing

    return processing.run(f"waterlogreg:{name}", parameters)


# ---------------------------------------------------------------- timing helpers

def seconds_of(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_command(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return completed


def alternate(repeats, cold=(), **actions):
    """Median seconds of each action, run in turn `repeats` times after one warm-up round.

    Actions named in `cold` skip the warm-up: separate programs slow enough that a cold page
    cache is lost in their time.
    """
    for name, action in actions.items():
        if name not in cold:
            action()
    times = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            times[name].append(seconds_of(action))
    return {name: statistics.median(values) for name, values in times.items()}


def remove_raster(path):
    for leftover in (path, path + ".aux.xml"):
        if os.path.exists(leftover):
            os.remove(leftover)


# ---------------------------------------------------------------- inputs for the rows

def read_polygons(path, layer_name=None, raster_crs_wkt=None, class_field="class"):
    """TrainingPolygon list (in the raster's CRS) as the plugin's algorithms build it."""
    source = ogr.Open(path)
    layer = source.GetLayerByName(layer_name) if layer_name else source.GetLayer()
    transform = None
    if raster_crs_wkt:
        target = osr.SpatialReference()
        target.ImportFromWkt(raster_crs_wkt)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        own = layer.GetSpatialRef()
        own.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not own.IsSame(target):
            transform = osr.CoordinateTransformation(own, target)
    polygons = []
    for feature in layer:
        geometry = feature.GetGeometryRef().Clone()
        if transform:
            geometry.Transform(transform)
        polygons.append(TrainingPolygon(feature.GetFID(), bytes(geometry.ExportToWkb()),
                                        feature.GetField(class_field) == "water"))
    return polygons


def polygons_with_code(source_path, layer_name, target_epsg, destination):
    """The polygons in the raster's CRS with an integer class field, as Orfeo ToolBox wants them."""
    run_command(["ogr2ogr", "-f", "GPKG", "-overwrite", destination, source_path, "-t_srs", f"EPSG:{target_epsg}",
                 "-dialect", "SQLite", "-nln", "training", "-sql",
                 f"SELECT geom, CASE WHEN class = 'water' THEN 1 ELSE 2 END AS code FROM {layer_name}"])
    return destination


def raster_epsg(path):
    srs = osr.SpatialReference(wkt=gdal.Open(path).GetProjection())
    srs.AutoIdentifyEPSG()
    return srs.GetAuthorityCode(None)


# ---------------------------------------------------------------- the peers

def gdal_calc_command(scene, model, output):
    """gdal_calc.py evaluating σ(Aᵀx + b) on the raw bands into the same Float32 layout."""
    weights, bias = model.coefficients_in_band_units()
    letters = "ABCDEFGH"[:len(model.bands)]
    logit = "+".join(f"({weight!r})*{letter}" for weight, letter in zip(weights, letters)) + f"+({bias!r})"
    command = ["gdal_calc.py", "--quiet", "--overwrite", "--outfile", output, "--type", "Float32",
               "--NoDataValue", str(PROBABILITY_NODATA), "--calc", f"1/(1+exp(-({logit})))"]
    for letter, band in zip(letters, model.bands):
        command += [f"-{letter}", scene, f"--{letter}_band", str(band)]
    for option in FLOAT_OPTIONS:
        command += ["--co", option]
    return command


def otb_statistics(scene, destination):
    run_command(["otbcli_ComputeImagesStatistics", "-il", scene, "-bv", "0", "-out.xml", destination])
    return destination


def otb_train(scene, polygons, statistics_path, model_path):
    """A linear SVM on at most 1000 pixels a class (OTB's documented default, which OTB 8.1 applies
    only with -sample.bm 0: otherwise it trains libsvm on every pixel, for hours on the 500 polygons)."""
    run_command(["otbcli_TrainImagesClassifier", "-io.il", scene, "-io.vd", polygons, "-io.imstat", statistics_path,
                 "-sample.vfn", "code", "-sample.bm", "0", "-sample.mt", "1000", "-sample.mv", "1000",
                 "-classifier", "libsvm", "-classifier.libsvm.k", "linear",
                 "-io.out", model_path, "-rand", "0"])


def otb_classify(scene, statistics_path, model_path, output):
    options = "&".join(f"gdal:co:{option}" for option in GEOTIFF_OPTIONS + ("PREDICTOR=2",))
    run_command(["otbcli_ImageClassifier", "-in", scene, "-imstat", statistics_path, "-model", model_path,
                 "-out", f"{output}?&{options}", "uint8"])


# ---------------------------------------------------------------- the I/O floor

def io_floor(scene, probability, output):
    """Read the bands and write a Float32 band (same options, same windows, same threads) with no arithmetic.

    The pixels written are the probabilities predict wrote, held in memory beforehand, so
    DEFLATE meets exactly the same bytes; only the model's arithmetic is missing. The windows
    are read as predict reads them: two at once, each through its own handle.
    """
    from concurrent.futures import ThreadPoolExecutor

    dataset = open_raster(scene, decode_threads=True)
    windows = row_windows(dataset)
    handles = reading_handles(dataset, windows)
    driver = gdal.GetDriverByName("GTiff")
    target = driver.Create(output, dataset.RasterXSize, dataset.RasterYSize, 1, gdal.GDT_Float32, FLOAT_OPTIONS)
    target.SetGeoTransform(dataset.GetGeoTransform())
    target.SetProjection(dataset.GetProjection())
    target.GetRasterBand(1).SetNoDataValue(PROBABILITY_NODATA)

    def write(row, rows):
        target.GetRasterBand(1).WriteArray(probability[row:row + rows], 0, row)
        target.FlushCache()

    def read(handle, row, rows):
        handle.ReadAsArray(0, row, handle.RasterXSize, rows)
        handle.FlushCache()

    with ThreadPoolExecutor(max_workers=1) as writer, ThreadPoolExecutor(max_workers=len(handles)) as reader:
        pending = None
        for (row, rows), _ in zip(windows, read_ahead(windows, handles, read, reader)):
            if pending is not None:
                pending.result()
            pending = writer.submit(write, row, rows)
        pending.result()
    target = None


# ---------------------------------------------------------------- peak memory, in a child

def memory_status_mb(field):
    """VmRSS (resident now) or VmHWM (peak resident since the last reset) of this process, in MB."""
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {field}")


def peak_memory_child(scene, model_path, output):
    """Run in a fresh process: start QGIS, predict once, print resident MB before and peak during.

    QGIS's own start passes its resting size for a moment (Processing loads every provider),
    so the peak is reset after the start: writing 5 to clear_refs sets VmHWM to VmRSS.
    """
    application = start_qgis()  # noqa: F841 — held so QGIS lives to the end
    from water_logreg_plugin.core.maps.predict import ProbabilityKernel
    from water_logreg_plugin.core.model import load_model

    ProbabilityKernel(load_model(model_path))  # torch's import counts as QGIS's, not as predict's
    baseline = memory_status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
        handle.write("5")
    run_ours("predictwater", {"INPUT": scene, "MODEL": model_path, "DEVICE": 0, "OUTPUT": output})
    print(f"{baseline:.0f} {memory_status_mb('VmHWM'):.0f}")


def peak_memory(scene, model_path, output):
    completed = run_command([sys.executable, __file__, "--peak-memory-child", scene, model_path, output])
    baseline, peak = (float(value) for value in completed.stdout.split()[-2:])
    remove_raster(output)
    return baseline, peak


# ---------------------------------------------------------------- memory by design: layouts and big polygons

BOUNDED_SIZES_MPX = (16, 100)
LAYOUTS = {"tiled": ["TILED=YES", "COMPRESS=DEFLATE"], "striped": ["COMPRESS=DEFLATE"],
           "single-strip": ["COMPRESS=DEFLATE", "BLOCKYSIZE={height}"]}


def build_layout_scene(path, megapixels, layout):
    """A square 4-band UInt16 scene of about `megapixels` Mpx in one of LAYOUTS: smooth land,
    a water stripe on the right eighth (dark NIR), written 512 rows at a time."""
    if os.path.exists(path):
        return path
    side = int(round((megapixels * 1e6) ** 0.5))
    options = [option.format(height=side) for option in LAYOUTS[layout]] + ["BIGTIFF=IF_SAFER"]
    partial = path + ".partial.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(partial, side, side, 4, gdal.GDT_UInt16, options)
    dataset.SetGeoTransform((500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0))
    dataset.SetProjection(spatial_reference_wkt())
    columns = np.arange(side)
    water = columns >= side * 7 // 8
    for row in range(0, side, 512):
        rows = min(512, side - row)
        ripple = (np.add.outer(np.arange(row, row + rows), columns) % 97).astype(np.uint16)
        for band, (land, lake) in enumerate(((1100, 900), (1400, 600), (2600, 300), (2000, 200)), start=1):
            values = np.where(water, lake, land).astype(np.uint16) + ripple
            dataset.GetRasterBand(band).WriteArray(values, 0, row)
    dataset = None
    os.replace(partial, path)
    return path


def spatial_reference_wkt():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    return srs.ExportToWkt()


def bounded_memory_child(kind, scene, output):
    """In a fresh process (no QGIS): sample one land polygon over 7/8 of `scene` and a water box, or
    predict `scene`; print resident MB before and the peak during (VmHWM reset after the imports)."""
    from water_logreg_plugin.core.maps.predict import ProbabilityKernel, predict_water
    from water_logreg_plugin.core.model import TrainingSettings, WaterModel

    dataset = gdal.Open(scene)
    side = dataset.RasterXSize
    model = WaterModel([1, 2, 3, 4], np.zeros(4), np.ones(4),
                       [(np.array([[0.0, 0.0, -0.01, 0.0]]), np.array([14.5]))])
    ProbabilityKernel(model)  # torch's import is not the job's memory
    x0, y0 = 500000.0, 4000000.0
    edge = side * 10.0

    def box(left, right):
        return ogr.CreateGeometryFromWkt(
            f"POLYGON (({x0 + left * edge} {y0}, {x0 + right * edge} {y0}, {x0 + right * edge} {y0 - edge}, "
            f"{x0 + left * edge} {y0 - edge}, {x0 + left * edge} {y0}))").ExportToWkb()

    polygons = [TrainingPolygon(1, box(0, 7 / 8), False), TrainingPolygon(2, box(7 / 8 + 1e-6, 1), True)]
    if kind.startswith("wide:"):  # an MLP with one hidden layer this wide, on the scene's first bands
        width = int(kind.split(":")[1])
        rng = np.random.default_rng(0)
        model = WaterModel([1, 2, 3], np.full(3, 1000.0), np.full(3, 300.0),
                           [(rng.normal(size=(width, 3)), rng.normal(size=width)),
                            (rng.normal(size=(1, width)) / np.sqrt(width), np.zeros(1))])
        ProbabilityKernel(model)
    if kind.startswith("fit:"):  # an MLP of one 256-unit layer fitted on this many samples (5 L-BFGS steps)
        values, labels, bands = fit_samples_of_the_band_model(int(kind.split(":")[1]) // 2)
    baseline = memory_status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
        handle.write("5")
    started = time.perf_counter()
    if kind == "sample":
        sample_pixels(scene, [], polygons, 100_000, 0)
    elif kind.startswith("fit:"):
        fit_water_model(values, labels, bands, TrainingSettings(hidden_layers=(256,), max_steps=5))
    else:
        predict_water(scene, model, output, device="cpu")
    print(f"{baseline:.0f} {memory_status_mb('VmHWM'):.0f} {time.perf_counter() - started:.1f}")


def bounded_memory(kind, scene, output):
    completed = run_command([sys.executable, __file__, "--bounded-memory-child", kind, scene, output])
    baseline, peak, seconds = (float(value) for value in completed.stdout.split()[-3:])
    remove_raster(output)
    return peak - baseline, peak, seconds


def bench_bounded_memory(table, work):
    """Rows 8–10: peak RSS of sampling one polygon over 7/8 of a scene, and of predicting a striped
    and a single-strip scene, at 16 and 100 Mpx: ≤ 1 GB and flat (the job's own share). Row 11:
    predicting with wide hidden layers. Row 12: fitting a wide MLP on 4× the samples."""
    output = os.path.join(work, "bounded.tif")
    for number, (kind, layout, what) in enumerate((
            ("sample", "tiled", "sampling one land polygon over 7/8 of a tiled scene, 100,000 a class"),
            ("predict", "striped", "predicting a striped (untiled DEFLATE) scene"),
            ("predict", "single-strip", "predicting a single-strip DEFLATE scene")), start=8):
        figures = {}
        for megapixels in BOUNDED_SIZES_MPX:
            scene = build_layout_scene(os.path.join(work, f"{layout}_{megapixels}mpx.tif"), megapixels, layout)
            figures[megapixels] = bounded_memory(kind, scene, output)
        (small_job, small_peak, small_s), (big_job, big_peak, big_s) = (figures[size] for size in BOUNDED_SIZES_MPX)
        table.add(f"{number}. peak RSS {what} (MB), no QGIS",
                  f"{BOUNDED_SIZES_MPX[0]} Mpx {small_peak:.0f} (job {small_job:.0f}, {small_s:.0f} s), "
                  f"{BOUNDED_SIZES_MPX[1]} Mpx {big_peak:.0f} (job {big_job:.0f}, {big_s:.0f} s)",
                  "–", f"job {big_job - small_job:+.0f} MB from {BOUNDED_SIZES_MPX[0]} to {BOUNDED_SIZES_MPX[1]} Mpx",
                  "≤ 1 GB, job flat (± 100 MB)", big_peak <= 1024 and abs(big_job - small_job) <= 100)
    demo = os.path.join(DEMO, "landsat8_reservoir.tif")
    widths = {width: bounded_memory(f"wide:{width}", demo, output) for width in (16, 1024, 4096)}
    table.add("11. peak RSS predicting the demo with one hidden layer of 16 / 1024 / 4096 units (MB), no QGIS",
              ", ".join(f"{width}: {peak:.0f} (job {job:.0f}, {seconds:.0f} s)"
                        for width, (job, peak, seconds) in widths.items()),
              "before: 1024 took 8.4 GB, 4096 failed to allocate", "–", "≤ 1 GB each",
              all(peak <= 1024 for _, peak, _ in widths.values()))
    fits = {count: bounded_memory(f"fit:{count}", demo, output) for count in (100_000, 400_000)}
    (small_job, small_peak, small_s), (big_job, big_peak, big_s) = fits.values()
    table.add("12. peak RSS fitting an MLP of one 256-unit layer, 5 L-BFGS steps, 100 k / 400 k samples (MB), no QGIS",
              f"100 k {small_peak:.0f} (job {small_job:.0f}, {small_s:.0f} s), 400 k {big_peak:.0f} "
              f"(job {big_job:.0f}, {big_s:.0f} s)",
              "before (all pixels in one pass): 400 k took 2 743 MB", f"job {big_job - small_job:+.0f} MB",
              "≤ 1 GB, job flat (± 100 MB)", big_peak <= 1024 and abs(big_job - small_job) <= 100)


# ---------------------------------------------------------------- rows

class Table:
    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, row, ours, peer, ratio, target, met):
        self.rows.append((row, ours, peer, ratio, target, "yes" if met else "**no**" if met is not None else "–"))
        print(f"  {row}: {ours} | {peer} | {ratio} | {target} | {self.rows[-1][-1]}", flush=True)

    def markdown(self):
        lines = ["| row | ours | peer | ratio | target | met |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def bench_sampling(table, paths, repeats, work):
    full = paths["scene_full.tif"]
    polygons = read_polygons(paths["polygons.gpkg"])
    samples = sample_pixels(full, [], polygons, 0, 0)
    extent = gdal.Info(full, format="json")["cornerCoordinates"]
    rasterized = os.path.join(work, "rasterized.tif")
    rasterize = ["gdal_rasterize", "-q", "-burn", "1", "-ot", "Byte", "-of", "MEM",
                 "-te", str(extent["lowerLeft"][0]), str(extent["lowerLeft"][1]),
                 str(extent["upperRight"][0]), str(extent["upperRight"][1]),
                 "-ts", "10980", "10980", paths["polygons.gpkg"], rasterized]
    times = alternate(repeats, ours=lambda: sample_pixels(full, [], polygons, 0, 0),
                      peer=lambda: run_command(rasterize))
    pixels = len(samples.labels)
    table.add("6. sample 500 polygons, full scene (s)",
              f"{times['ours']:.2f} ({pixels / times['ours'] / 1e6:.1f} Mpx/s)",
              f"gdal_rasterize {times['peer']:.2f}", f"{times['ours'] / times['peer']:.2f}× gdal_rasterize",
              "report", None)
    return samples


def bench_many_polygons(table, work):
    """Row 6b: sampling one-pixel polygons by the 10,000, 100,000 and 1,000,000 (bench_polygons.py),
    linear in their number; issue 26 measured 127 s for 100,000 before one rasterization a tile."""
    figures = {count: bench_polygons.measure(count, work) for count in bench_polygons.COUNTS}
    seconds = {count: figure[0] for count, figure in figures.items()}
    table.add("6b. sample 10k / 100k / 1M one-pixel polygons (s; peak MB)",
              " / ".join(f"{seconds[count]:.1f}" for count in figures) + "; "
              + " / ".join(f"{figure[2]:.0f}" for figure in figures.values()),
              "127 s for 100k before (issue 26)", f"{seconds[1_000_000] / seconds[10_000]:.0f}× from 10k to 1M",
              f"100k ≤ {bench_polygons.TARGET_SECONDS_100K} s", seconds[100_000] <= bench_polygons.TARGET_SECONDS_100K)


def fit_samples_of_the_band_model(pixels_per_class, seed=0):
    """`--only fit` without the 10980² scene: pixels drawn from build_inputs' own band model
    (wetness and vegetation fields, the shore's blend, sensor noise), labelled by the truth."""
    from build_inputs import WATER_QUANTILE_LEVEL, band_values

    rng = np.random.default_rng(seed)
    wetness = rng.normal(WATER_QUANTILE_LEVEL, 0.4, 3 * pixels_per_class)
    vegetation = rng.normal(0, 1, len(wetness))
    values = band_values(wetness[np.newaxis], vegetation[np.newaxis], rng)[:, 0].T.astype(np.float64)
    labels = (wetness > WATER_QUANTILE_LEVEL).astype(np.uint8)
    keep = np.concatenate([rng.choice(np.flatnonzero(labels == label), pixels_per_class, replace=False)
                           for label in (1, 0)])
    return values[keep], labels[keep], [1, 2, 3, 4]


def fit_samples(samples):
    """FIT_SAMPLES_PER_CLASS pixels of each class from the 500 polygons' samples."""
    rng = np.random.default_rng(0)
    keep = np.concatenate([rng.choice(np.flatnonzero(samples.labels == label), FIT_SAMPLES_PER_CLASS, replace=False)
                           for label in (1, 0)])
    return samples.values[keep], samples.labels[keep]


def bench_fit(table, values, labels, bands, repeats, work):
    """The default fit (Newton, λ = DEFAULT_L2_PENALTY) against scikit-learn's lbfgs and newton-cholesky
    on the same objective (C = 1/(λ·n)); the gap is each objective minus the best of the three."""
    from sklearn.linear_model import LogisticRegression

    from water_logreg_plugin.core.learning.solver import objective_at
    from water_logreg_plugin.core.settings import DEFAULT_L2_PENALTY

    info = {"band_count": 4, "data_type": "UInt16", "source_raster": "scene_full.tif"}
    standardized = (values - values.mean(axis=0)) / values.std(axis=0)
    fitted = {}

    def ours():
        fitted["ours"], _ = fit_water_model(values, labels, bands, training_info=info)

    def peer(solver):
        def fit():  # the standardization too, as ours does it
            scaled = (values - values.mean(axis=0)) / values.std(axis=0)
            fitted[solver] = LogisticRegression(C=1 / (DEFAULT_L2_PENALTY * len(labels)), solver=solver,
                                                max_iter=1000).fit(scaled, labels)
        return fit

    times = alternate(repeats, ours=ours, lbfgs=peer("lbfgs"), newton=peer("newton-cholesky"))
    model = fitted["ours"]
    objectives = {
        "ours": objective_at(standardized, labels, DEFAULT_L2_PENALTY, model.layers[0][0][0], model.layers[0][1][0]),
        **{name: objective_at(standardized, labels, DEFAULT_L2_PENALTY, fitted[solver].coef_[0],
                              fitted[solver].intercept_[0])
           for name, solver in (("lbfgs", "lbfgs"), ("newton", "newton-cholesky"))},
    }
    best = min(objectives.values())
    gap = {name: objective - best for name, objective in objectives.items()}
    ratio = times["ours"] / times["lbfgs"]
    training = model.training
    table.add(f"5. fit, {len(labels) // 10**6} M samples × 4 bands, λ = {DEFAULT_L2_PENALTY:g} (s; gap to the optimum)",
              f"{times['ours']:.2f}; {gap['ours']:.1e}, {training['steps']} Newton steps, converged: "
              f"{'yes' if training['converged'] else 'no'}",
              f"scikit-learn lbfgs {times['lbfgs']:.2f}; {gap['lbfgs']:.1e} · newton-cholesky "
              f"{times['newton']:.2f}; {gap['newton']:.1e}",
              f"{ratio:.2f}× lbfgs's time, {times['ours'] / times['newton']:.2f}× newton-cholesky's",
              "gap ≤ 1e-6, ≤ 0.5× lbfgs's time", gap["ours"] <= 1e-6 and ratio <= 0.5)
    model_path = os.path.join(work, "model.json")
    save_model(model, model_path)
    return model, model_path


def bench_mlp_fit(table, values, labels, bands, repeats):
    """A multi-layer perceptron (16, 16) by L-BFGS against scikit-learn's MLPClassifier(solver="lbfgs",
    activation="tanh") on the same objective (alpha = λ·n), both from their own random start, one
    thread each; a row to report, not a race."""
    from sklearn.neural_network import MLPClassifier

    from water_logreg_plugin.core.settings import DEFAULT_MAX_STEPS, DEFAULT_MLP_L2_PENALTY, TrainingSettings

    rng = np.random.default_rng(1)
    keep = rng.choice(len(labels), min(len(labels), 2 * MLP_SAMPLES_PER_CLASS), replace=False)
    values, labels = values[keep], labels[keep]
    standardized = (values - values.mean(axis=0)) / values.std(axis=0)
    settings = TrainingSettings(hidden_layers=(16, 16))
    fitted = {}

    def ours():
        fitted["ours"], _ = fit_water_model(values, labels, bands, settings)

    def peer():
        scaled = (values - values.mean(axis=0)) / values.std(axis=0)
        fitted["peer"] = MLPClassifier((16, 16), activation="tanh", solver="lbfgs",
                                       alpha=DEFAULT_MLP_L2_PENALTY * len(labels), max_iter=DEFAULT_MAX_STEPS,
                                       random_state=0).fit(scaled, labels)

    times = alternate(repeats, ours=ours, peer=peer)
    training = fitted["ours"].training
    peer_model = fitted["peer"]
    probability = np.clip(peer_model.predict_proba(standardized)[:, 1], 1e-15, 1 - 1e-15)
    peer_objective = float(-np.mean(labels * np.log(probability) + (1 - labels) * np.log1p(-probability))
                           + 0.5 * DEFAULT_MLP_L2_PENALTY * sum(np.sum(w ** 2) for w in peer_model.coefs_))
    table.add(f"5b. fit an MLP 16,16, {len(labels) // 1000} k samples × 4 bands (s; objective)",
              f"{times['ours']:.2f}; {training['objective']:.6f}, {training['steps']} L-BFGS steps, converged: "
              f"{'yes' if training['converged'] else 'no'}, gradient norm {training['gradient_norm']:.1e}",
              f"scikit-learn MLPClassifier lbfgs {times['peer']:.2f}; {peer_objective:.6f}, "
              f"{peer_model.n_iter_} iterations",
              f"{times['ours'] / times['peer']:.2f}× time", "report", None)
    if not training["converged"]:
        table.notes.append(f"Row 5b: {training['note']}")


def bench_predict(table, paths, model, model_path, repeats, work):
    scene = paths["scene_quarter.tif"]
    ours_out, calc_out, otb_out, floor_out = (os.path.join(work, name) for name in
                                              ("ours.tif", "gdal_calc.tif", "otb.tif", "floor.tif"))
    otb_polygons = polygons_with_code(paths["polygons.gpkg"], "polygons", raster_epsg(scene),
                                      os.path.join(work, "polygons_otb.gpkg"))
    otb_statistics_path = otb_statistics(scene, os.path.join(work, "quarter_statistics.xml"))
    otb_model = os.path.join(work, "quarter_svm.txt")
    otb_train(scene, otb_polygons, otb_statistics_path, otb_model)

    as_trained_out = os.path.join(work, "ours_as_trained.tif")

    def ours():  # WATER_PRIOR left out: the scene's share of water by EM, two passes
        run_ours("predictwater", {"INPUT": scene, "MODEL": model_path, "DEVICE": 0, "OUTPUT": ours_out})

    def ours_as_trained():  # the model's P as it is, one pass: what gdal_calc.py computes
        run_ours("predictwater", {"INPUT": scene, "MODEL": model_path, "DEVICE": 0, "WATER_PRIOR": 1,
                                  "OUTPUT": as_trained_out})

    calc = gdal_calc_command(scene, model, calc_out)
    ours_as_trained()
    probability = gdal.Open(as_trained_out).ReadAsArray()
    times = alternate(repeats, cold=("otb",), ours=ours, as_trained=ours_as_trained,
                      gdal_calc=lambda: run_command(calc),
                      otb=lambda: otb_classify(scene, otb_statistics_path, otb_model, otb_out),
                      floor=lambda: io_floor(scene, probability, floor_out))
    calculated = gdal.Open(calc_out).ReadAsArray()
    valid = probability != PROBABILITY_NODATA
    agreement = float(np.max(np.abs(probability[valid] - calculated[valid])))
    same_nodata = bool(np.array_equal(valid, calculated != PROBABILITY_NODATA))
    megapixels = probability.size / 1e6
    speed_up = times["gdal_calc"] / times["ours"]
    table.add(f"1. predict, quarter {megapixels:.0f} Mpx (s)", f"{times['ours']:.2f}",
              f"gdal_calc.py {times['gdal_calc']:.2f}", f"{speed_up:.2f}× faster", "≥ 3.5× faster", speed_up >= 3.5)
    table.notes.append(f"Row 1: our probabilities and gdal_calc.py's differ by at most {agreement:.1e}; "
                       f"nodata pixels {'identical' if same_nodata else 'DIFFER'}.")
    otb_speed_up = times["otb"] / times["ours"]
    table.add("2. predict vs Orfeo ToolBox, quarter (s)", f"{times['ours']:.2f}",
              f"otbcli_ImageClassifier (linear SVM) {times['otb']:.2f}", f"{otb_speed_up:.2f}× faster",
              "≥ 1×", otb_speed_up >= 1)
    floor_ratio = times["as_trained"] / times["floor"]
    table.add("3. predict vs I/O floor, quarter (s)", f"{times['as_trained']:.2f}",
              f"read + write only {times['floor']:.2f}", f"{floor_ratio:.2f}× the floor", "≤ 1.3× the floor",
              floor_ratio <= 1.3)
    # Row 3b compares two runs of ours, so they alternate by themselves: in the round above, the
    # run after Orfeo ToolBox's (tens of seconds, its output still being written back to disk)
    # is always the two-pass one.
    share_times = alternate(max(repeats, SHARE_REPEATS), ours=ours, as_trained=ours_as_trained)
    share_ratio = share_times["ours"] / share_times["as_trained"]
    table.add("3b. predict for the scene's share of water (EM, two passes) vs as in the training pixels, quarter (s)",
              f"{share_times['ours']:.2f}", f"WATER_PRIOR as in the training pixels {share_times['as_trained']:.2f}",
              f"{share_ratio:.2f}×", "≤ 1.15×", share_ratio <= 1.15)
    table.notes.append(f"Row 3b: its two runs alternate by themselves, {max(repeats, SHARE_REPEATS)} rounds after a "
                       "warm-up, away from the peers' programs.")
    table.notes.append("Rows 1–3b: 'ours' is predictwater as a user runs it, P(water) for the scene's share of water "
                       "(EM, two passes, the default); row 3 and the agreement with gdal_calc.py are of the one-pass "
                       "map as the model gives it (WATER_PRIOR as in the training pixels), which is what the peers "
                       "compute.")
    for path in (ours_out, as_trained_out, calc_out, otb_out, floor_out):
        remove_raster(path)


def bench_memory(table, paths, model_path, work):
    output = os.path.join(work, "memory.tif")
    quarter_baseline, quarter = peak_memory(paths["scene_quarter.tif"], model_path, output)
    full_baseline, full = peak_memory(paths["scene_full.tif"], model_path, output)
    growth = (full - quarter) / quarter
    table.add("4. peak RSS during predict (MB), QGIS included", f"quarter {quarter:.0f}, full {full:.0f}",
              f"QGIS + provider + torch at rest: {quarter_baseline:.0f} / {full_baseline:.0f}",
              f"{100 * growth:+.1f} % quarter → full", "≤ 1 GB, < 20 % growth",
              full <= 1024 and growth < 0.2)
    table.notes.append(f"Row 4: predict itself adds {quarter - quarter_baseline:.0f} MB (quarter) and "
                       f"{full - full_baseline:.0f} MB (full scene, 4× the pixels) to the QGIS process at rest.")


def bench_one_click(table, repeats, work):
    scene = os.path.join(DEMO, "landsat8_reservoir.tif")
    training = os.path.join(DEMO, "training_polygons.gpkg")
    validation = read_polygons(os.path.join(DEMO, "validation_polygons.gpkg"),
                               raster_crs_wkt=gdal.Open(scene).GetProjection())
    ours_out, ours_model = os.path.join(work, "demo_ours.tif"), os.path.join(work, "demo_model.json")
    otb_out, otb_model = os.path.join(work, "demo_otb.tif"), os.path.join(work, "demo_svm.txt")
    otb_statistics_path = os.path.join(work, "demo_statistics.xml")
    # Preparing the polygons for Orfeo ToolBox (its CRS, an integer class) is left out of its time.
    otb_polygons = polygons_with_code(training, "training_polygons", raster_epsg(scene),
                                      os.path.join(work, "demo_polygons_otb.gpkg"))

    def ours():
        run_ours("classifywater", {"INPUT": scene, "POLYGONS": training, "CLASS_FIELD": "class",
                                   "OUTPUT": ours_out, "OUTPUT_MODEL": ours_model})

    def peer():
        otb_statistics(scene, otb_statistics_path)
        otb_train(scene, otb_polygons, otb_statistics_path, otb_model)
        otb_classify(scene, otb_statistics_path, otb_model, otb_out)

    times = alternate(repeats, ours=ours, peer=peer)
    ours_figures = held_out_figures(ours_out, validation, lambda values: values)
    # Orfeo ToolBox writes class codes (1 water, 2 land): as a probability, water is 1.
    otb_figures = held_out_figures(otb_out, validation, lambda values: (values == 1).astype(np.float64))
    speed_up = times["peer"] / times["ours"]
    table.add("7. one click on the Landsat 8 demo (s; held-out accuracy, kappa)",
              f"{times['ours']:.2f}; {ours_figures['overall_accuracy']:.4f}, {ours_figures['kappa']:.4f}",
              f"OTB stats + train + classify {times['peer']:.2f}; "
              f"{otb_figures['overall_accuracy']:.4f}, {otb_figures['kappa']:.4f}",
              f"{speed_up:.2f}× faster", "≥ 1×", speed_up >= 1)
    table.notes.append(f"Row 7: accuracy on the {ours_figures['pixels']} pixels of the validation polygons "
                       "(never used in training), at P ≥ 0.5 for ours.")


def held_out_figures(raster, polygons, as_probability):
    samples = sample_pixels(raster, [1], polygons, 0, 0)
    return accuracy_figures(as_probability(samples.values[:, 0]), samples.labels)


def bench_cluster():
    script = os.path.join(BENCH, "bench_cluster.py")
    if not os.path.exists(script):
        return "benchmarks/bench_cluster.py is missing: the Dask row is skipped."
    completed = subprocess.run([sys.executable, script], capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        return f"bench_cluster.py failed (exit {completed.returncode}):\n\n```\n{completed.stderr[-1500:]}\n```"
    return completed.stdout.strip()


# ---------------------------------------------------------------- report

def versions():
    import sklearn
    import torch
    from qgis.core import Qgis

    otb = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "otb-bin"], capture_output=True, text=True).stdout
    return (f"QGIS {Qgis.QGIS_VERSION}, GDAL {gdal.__version__}, numpy {np.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), scikit-learn {sklearn.__version__}, Orfeo ToolBox {otb or '?'}, "
            f"Python {platform.python_version()}")


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}"


def write_results(table, cluster, repeats, seconds):
    text = "\n".join([
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/run_bench.py) on "
        f"{datetime.datetime.now().astimezone().isoformat(timespec='minutes')}, in {seconds / 60:.1f} min.",
        "",
        f"- Machine: {machine()}; load average at the end {os.getloadavg()[0]:.2f} (shared machine).",
        f"- Versions: {versions()}.",
        "- Inputs (benchmarks/build_inputs.py, seeded): 10980 × 10980 × 4 UInt16 scene, tiled 256², DEFLATE, "
        "nodata corner; its 5490 × 5490 quarter; 500 polygons; the bundled Landsat 8 clip "
        "(demo/data, 1000 × 1000 × 3) with its training and validation polygons.",
        f"- Each figure is the median of {repeats} runs after a warm-up; ours and the peer's alternate. "
        "Predict and the one-click job are timed around `processing.run` (QGIS start left out); peers "
        "as the command a user types (process start included).",
        "",
        table.markdown(),
        "",
        *[f"- {note}" for note in table.notes],
        "",
        "## What bounds each row (cProfile and A/B runs on this machine, 2026-11-24)",
        "",
        "- Predict (rows 1–3): before this work a quarter took 1.5–1.8 s, with 0.59 s decompressing the "
        "input on one thread, 0.59 s compressing the whole output in one flush at the end (GDAL's block "
        "cache, 5 % of RAM, held every written block: 1.6 GB peak on the full scene) and 0.35 s of "
        "arithmetic (float copies of the bands, boolean indexing, addmm). Now: the input is opened with "
        "NUM_THREADS (decoding 0.7 → 0.35 s), each window's blocks leave the cache once read, a reader "
        "thread decompresses window n + 1 and a writer thread compresses window n − 1 (NUM_THREADS) "
        "while window n is computed, and a logistic regression is one float32 multiply-add a band on "
        "the raw values plus an in-place sigmoid (21 ms a 2.8 Mpx window). A quarter now takes 2.16 "
        "CPU-s in 1.17 s: both cores are busy, and DEFLATE in and out is most of it; the floor row is "
        "that same pipeline without the arithmetic. Moving it further needs more cores or a cheaper "
        "output layout (the creation options are fixed here to match the peers).",
        "- Two windows at once (rows 1–3b, 2026-12-03, A/B of five alternating runs in fresh processes, "
        "idle): one reader left a core idle between one window's blocks and the next (the first of "
        "two passes kept 1.5 cores busy). Now two windows are read at once, each through its own "
        "handle of the GeoTIFF with its share of the decoding threads (core/raster/windows.py: "
        "reading_handles, read_ahead), the band-coverage count takes half the time (0.22 → 0.12 s on "
        "the quarter's eight windows with nodata) and the second pass does less per pixel: one pass "
        "1.12–1.19 → 0.96–1.04 s, two passes 1.32–1.38 → 1.16–1.17 s, two passes 1.12–1.15× one pass "
        "in those runs. Both passes are CPU-bound on two cores; what two passes add is decoding and "
        "encoding one after the other instead of overlapped, and the scratch file (120 MB written and "
        "read back).",
        "- The first pass's outputs in memory (row 3b, 2026-12-03, the same A/B): the scratch file's 120 MB, "
        "written and read back through the operating system, cost the quarter's two passes about 0.08 s. "
        "The first 128 MB of them now stay in memory (core/raster/spool.py; a larger scene's rest still "
        "goes to the file): two passes 1.19–1.29 → 1.11–1.17 s against one pass's 1.00–1.06 s, 1.18× → "
        "1.10× by the medians; the full scene (352 MB of its outputs through the file) 1.12–1.18×. Row 4 "
        "grows by the 120 MB the quarter keeps in memory.",
        "- torch's thread count: predict on the quarter took 1.17 s with 1 thread and 1.23 s with 2 "
        "(medians of 5, within noise): torch computes only the sigmoid for a logistic regression, so "
        "the plugin leaves torch's process-wide setting to QGIS.",
        "- Sampling (row 6): 0.85 of 1.3 s is GDAL decompressing the ~1100 tiles under the 500 "
        "polygons (DatasetIONumPy); rasterizing is 0.05 s. gdal_rasterize reads no pixels, so the "
        "ratio is the cost of reading the samples' tiles; NUM_THREADS decoding took 7 % off.",
        "- Fit (row 5, remeasured 2026-11-29 with cProfile): the default fit is Newton's method in float64 "
        "(core/learning/solver.py) on one CPU thread (torch's two threads stalled at their barriers whenever the "
        "other core was busy: 3.2 s once). Above 262 144 pixels it starts at the optimum of every k-th "
        "pixel of each class (about 65 536 pixels, ~25 ms), then 2–3 steps on all pixels finish (each "
        "one pass for the objective, autograd's gradient and one for the Hessian in blocks of 65 536 "
        "pixels, ~25 ms); before, 5–10 full steps from zero (0.18–0.45 s). The rest is standardizing "
        "(~20 ms) and the design matrix (~10 ms). scikit-learn's lbfgs at its default tol stops 1e-7 above "
        "the optimum; both peers standardize inside their timing, as ours does, on numpy's default threads.",
        "- MLP (row 5b): tanh between the layers, L-BFGS (history 100) with its strong-Wolfe line search "
        "until ‖∇f‖∞ ≤ 1e-6·max(1, |f|) or MAX_STEPS (3 000 for an MLP) runs out, λ = 1e-3 (the MLP's "
        "default); one CPU thread. scikit-learn's MLPClassifier(activation=\"tanh\") stops when the loss "
        "changes by less than its tol 1e-4, earlier and a little higher. The time is the steps (~53 ms a "
        "step on 100 000 pixels against its ~39 ms).",
        "",
        "## Dask (benchmarks/bench_cluster.py)",
        "",
        cluster,
        "",
    ])
    with open(os.path.join(BENCH, "RESULTS.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print()
    print(table.markdown())
    print()
    print(cluster)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(BENCH, "work"))
    parser.add_argument("--peak-memory-child", nargs=3, metavar=("SCENE", "MODEL", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--bounded-memory-child", nargs=3, metavar=("KIND", "SCENE", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--bounded-memory-only", action="store_true",
                        help="run only rows 8–10 (memory by design: big polygons, strips, a single strip)")
    parser.add_argument("--only", choices=["fit"],
                        help="only the fit rows (5, 5b), on samples of the scene's band model; prints them, "
                             "leaves RESULTS.md alone")
    args = parser.parse_args()
    if args.peak_memory_child:
        return peak_memory_child(*args.peak_memory_child)
    if args.bounded_memory_child:
        return bounded_memory_child(*args.bounded_memory_child)
    if args.bounded_memory_only:
        table = Table()
        os.makedirs(args.work, exist_ok=True)
        bench_bounded_memory(table, args.work)
        print(table.markdown())
        return None
    if args.only == "fit":
        table = Table()
        values, labels, bands = fit_samples_of_the_band_model(FIT_SAMPLES_PER_CLASS)
        with tempfile.TemporaryDirectory(prefix="bench_") as work:
            bench_fit(table, values, labels, bands, args.repeats, work)
            bench_mlp_fit(table, values, labels, bands, args.repeats)
        print(table.markdown())
        print(*[f"- {note}" for note in table.notes], sep="\n")
        return 0

    started = time.perf_counter()
    for program in ("gdal_calc.py", "gdal_rasterize", "otbcli_ImageClassifier"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is missing; run `make bench`, which installs it.")
    paths = build_inputs(args.work)
    application = start_qgis()  # noqa: F841 — held so QGIS lives to the end
    table = Table()
    with tempfile.TemporaryDirectory(prefix="bench_", dir=args.work) as work:
        print("Sampling …", flush=True)
        samples = bench_sampling(table, paths, args.repeats, work)
        bench_many_polygons(table, args.work)
        print("Fitting …", flush=True)
        values, labels = fit_samples(samples)
        model, model_path = bench_fit(table, values, labels, samples.bands, args.repeats, work)
        bench_mlp_fit(table, values, labels, samples.bands, args.repeats)
        print("Predicting …", flush=True)
        bench_predict(table, paths, model, model_path, args.repeats, work)
        print("Peak memory …", flush=True)
        bench_memory(table, paths, model_path, work)
        print("One click on the demo scene …", flush=True)
        bench_one_click(table, args.repeats, work)
        print("Memory by design …", flush=True)
        bench_bounded_memory(table, args.work)
    # "5b. …" after "5. …", "10. …" after "9. …": by the row's number, then its letter.
    table.rows.sort(key=lambda row: (int(re.match(r"\d+", row[0]).group()), row[0]))
    print("Dask …", flush=True)
    cluster = bench_cluster()
    write_results(table, cluster, args.repeats, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
