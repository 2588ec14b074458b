"""Which L2_PENALTY to default to for the multi-layer perceptron: held-out log-loss, Brier score,
calibration and accuracy for each λ.

    .venv/bin/python benchmarks/choose_mlp_penalty.py [--seeds 5] [--training-pixels 3000] [--threads 1]

The model is the plugin's HIDDEN_LAYERS "16,16" (tanh between the layers), fitted by
core.model.training.fit_water_model as the plugin fits it: L-BFGS in float64 on standardized
bands until ‖∇f‖∞ ≤ 1e-6·max(1, |f|), objective = mean cross-entropy + λ/2·Σ(weights²), the
biases not penalised; at most --max-steps (4000) steps. Each λ in PENALTIES is scored, with the
logistic regression (HIDDEN_LAYERS empty, Newton's method) at its default λ = 1e-5 as a
reference row. The network's initialisation seed (TrainingSettings.seed) is the run's seed, so
the seeds vary both the data and the start. Every row gives how many fits converged, their
median steps and median seconds (wall clock on --device, default the CPU, with --threads torch
threads, default 1: the MLP's fit runs on torch's default thread pool, and on 2 cores with the
other one busy two threads made the fits 10-60× slower than one), and the mean over the seeds of
log-loss, Brier score, ECE (10 bins) and accuracy at P ≥ 0.5 against the labels.

(a) The bundled Sentinel-2 clip demo/data/sentinel2_havel.tif (B02, B03, B04, B08), with bands
    2, 3, 4 (green, red, NIR, as the demo classifies) and with all 4 bands; pixels sampled by
    core.learning.sampling.sample_pixels under demo/data/sentinel2_training.gpkg and
    sentinel2_validation.gpkg (field "class", "water" is water, anything else land).
    (i) 30 % of each class's training polygons held out, by polygon (core.learning.split.split_by_polygon,
    one split a seed), the fit on the rest; (ii) the fit on all training polygons, scored on
    every pixel of the independent validation polygons. The training polygons hold 3 498 pixels,
    under the --max-training-pixels cap (20 000, a seeded subsample were it exceeded).
(b) Synthetic scenes whose P(water) is known and not a logistic function of the bands, so the
    perceptron matters: 4 correlated bands at DN scale, z1, z2 two orthogonal standardized
    directions of them, true P = σ(steepness · g) with g = 0.6 − |z1| ("two-sided": water
    between two thresholds of one index, which no straight boundary separates) or
    g = z1 − 0.7·z2² − its 70 % quantile ("curved": 30 % water behind a parabolic shore).
    Training pixels (--training-pixels) are taken only in clear areas (true P < 0.1 or > 0.9)
    and labelled by the side they lie on, as a polygon labels its pixels; 50 000 test pixels
    are drawn anywhere, labelled from the true P, and scored against those labels and against
    the true P (mean |ΔP|). The "oracle" row scores the true P itself.

λ = 0 is maximum likelihood: where the training pixels separate, its loss heads to 0 and the
fit stops as soon as the gradient rule, relative to max(1, |f|), is met.
"""

import argparse
import os
import sys
import time

import numpy as np
from osgeo import gdal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from run_bench import read_polygons  # noqa: E402  (beside this file)

from water_logreg_plugin.core.learning.calibration import brier_score, expected_calibration_error  # noqa: E402
from water_logreg_plugin.core.learning.metrics import log_loss  # noqa: E402
from water_logreg_plugin.core.learning.sampling import sample_pixels  # noqa: E402
from water_logreg_plugin.core.learning.split import split_by_polygon  # noqa: E402
from water_logreg_plugin.core.model.training import fit_water_model  # noqa: E402
from water_logreg_plugin.core.settings import TrainingSettings  # noqa: E402

PENALTIES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
HIDDEN_LAYERS = (16, 16)
REFERENCE = ("logistic regression", (), 1e-5)
MODELS = [REFERENCE] + [("MLP 16,16", HIDDEN_LAYERS, penalty) for penalty in PENALTIES]
DEMO = os.path.join(ROOT, "demo", "data")
RASTER = os.path.join(DEMO, "sentinel2_havel.tif")
BANDS = 4
SHAPES = ("two-sided", "curved")
STEEPNESSES = (4.0, 16.0)
TEST_PIXELS = 50_000


def fit_and_predict(values, labels, bands, hidden_layers, penalty, seed, options, test_values):
    """(P(water) on test_values, the model's training block)."""
    if len(values) > options.max_training_pixels:
        keep = np.random.default_rng(seed).choice(len(values), options.max_training_pixels, replace=False)
        values, labels = values[keep], labels[keep]
    settings = TrainingSettings(hidden_layers=hidden_layers, l2_penalty=penalty, max_steps=options.max_steps,
                                device=options.device, seed=seed)
    model, _ = fit_water_model(values, np.asarray(labels, dtype=np.float64), bands, settings)
    return model.predict_probability(test_values), model.training


def scores(probability, labels, true_probability=None):
    labels = np.asarray(labels, dtype=np.float64)
    row = {
        "log-loss": log_loss(probability, labels),
        "Brier": brier_score(probability, labels),
        "ECE": expected_calibration_error(probability, labels),
        "accuracy": float(np.mean((probability >= 0.5) == (labels == 1))),
    }
    if true_probability is not None:
        row["mean |ΔP|"] = float(np.mean(np.abs(probability - true_probability)))
    return row


class Tally:
    """Scores and fit outcomes of one (data, model) cell over the seeds."""

    def __init__(self):
        self.scores, self.converged, self.steps, self.seconds = [], 0, [], []

    def add(self, row, training=None):
        self.scores.append(row)
        if training is not None:
            self.converged += bool(training["converged"])
            self.steps.append(training["steps"])
            self.seconds.append(training["seconds"])

    def summary(self):
        mean = {key: float(np.mean([row[key] for row in self.scores])) for key in self.scores[0]}
        if self.steps:
            mean.update(fits=f"{self.converged}/{len(self.steps)}", steps=float(np.median(self.steps)),
                        seconds=float(np.median(self.seconds)))
        return mean


def progress(text, started):
    print(f"[{time.perf_counter() - started:6.0f} s] {text}", file=sys.stderr, flush=True)


def sentinel2_rows(options, started):
    wkt = gdal.Open(RASTER).GetProjection()
    training_polygons = read_polygons(os.path.join(DEMO, "sentinel2_training.gpkg"), raster_crs_wkt=wkt)
    validation_polygons = read_polygons(os.path.join(DEMO, "sentinel2_validation.gpkg"), raster_crs_wkt=wkt)
    rows = []
    for bands, name in (([2, 3, 4], "green, red, NIR"), ([1, 2, 3, 4], "all 4 bands")):
        training = sample_pixels(RASTER, bands, training_polygons, max_pixels_per_class=0)
        validation = sample_pixels(RASTER, bands, validation_polygons, max_pixels_per_class=0)
        print(f"Sentinel-2, {name}: {training.water_count} water and {training.land_count} land training "
              f"pixels, {validation.water_count} water and {validation.land_count} land validation pixels.")
        held_out = {model: Tally() for model in MODELS}
        independent = {model: Tally() for model in MODELS}
        for seed in range(options.seeds):
            fit_mask, held_mask, message = split_by_polygon(training.labels, training.polygon_ids, 0.3, seed)
            if message:
                raise SystemExit(message)
            for model in MODELS:
                _, hidden_layers, penalty = model
                probability, report = fit_and_predict(
                    training.values[fit_mask], training.labels[fit_mask], bands, hidden_layers, penalty, seed,
                    options, training.values[held_mask])
                held_out[model].add(scores(probability, training.labels[held_mask]), report)
                probability, report = fit_and_predict(
                    training.values, training.labels, bands, hidden_layers, penalty, seed, options,
                    validation.values)
                independent[model].add(scores(probability, validation.labels), report)
            progress(f"Sentinel-2, {name}, seed {seed} done", started)
        for table, what in ((held_out, "held-out training polygons"), (independent, "validation polygons")):
            rows += [(f"S2 {name}, {what}", model, table[model].summary()) for model in MODELS]
    return rows


def synthetic_scene(rng, pixels, shape, steepness):
    """Band values at DN scale and the true P(water) of each pixel."""
    mixing = np.eye(BANDS) + 0.7 * rng.normal(size=(BANDS, BANDS))
    latent = rng.normal(size=(pixels, BANDS)) @ mixing
    directions = np.linalg.qr(rng.normal(size=(BANDS, 2)))[0]
    z = (latent - latent.mean(0)) / latent.std(0) @ directions
    z = (z - z.mean(0)) / z.std(0)
    if shape == "two-sided":
        g = 0.6 - np.abs(z[:, 0])
    else:
        g = z[:, 0] - 0.7 * z[:, 1] ** 2
        g = g - np.quantile(g, 0.7)
    return 8_000 + 1_500 * latent, 1 / (1 + np.exp(-steepness * g))


def synthetic_rows(options, started):
    rows = []
    for shape in SHAPES:
        for steepness in STEEPNESSES:
            tallies = {model: Tally() for model in MODELS}
            oracle = Tally()
            for seed in range(options.seeds):
                rng = np.random.default_rng(seed)
                pool_size = max(4 * options.training_pixels, 20_000)
                values, truth = synthetic_scene(rng, pool_size + TEST_PIXELS, shape, steepness)
                pool = np.flatnonzero((truth[:pool_size] < 0.1) | (truth[:pool_size] > 0.9))
                train = rng.choice(pool, options.training_pixels, replace=False)
                training_labels = (truth[train] > 0.5).astype(np.float64)  # by side, as a polygon labels
                test = np.arange(pool_size, pool_size + TEST_PIXELS)
                test_labels = (rng.random(TEST_PIXELS) < truth[test]).astype(np.float64)
                oracle.add(scores(truth[test], test_labels, truth[test]))
                for model in MODELS:
                    _, hidden_layers, penalty = model
                    probability, report = fit_and_predict(values[train], training_labels, list(range(1, BANDS + 1)),
                                                          hidden_layers, penalty, seed, options, values[test])
                    tallies[model].add(scores(probability, test_labels, truth[test]), report)
                progress(f"synthetic {shape}, steepness {steepness:g}, seed {seed} done", started)
            data = f"synthetic {shape}, steepness {steepness:g}"
            rows.append((data, ("oracle (true P)", None, None), oracle.summary()))
            rows += [(data, model, tallies[model].summary()) for model in MODELS]
    return rows


def print_table(rows):
    columns = ("log-loss", "Brier", "ECE", "accuracy", "mean |ΔP|")
    print("| data | model | λ | converged | median steps | median s | " + " | ".join(columns) + " |")
    print("|---|---|---:|---:|---:|---:|" + "---:|" * len(columns))
    for data, (name, _, penalty), row in rows:
        cells = " | ".join(f"{row[key]:.4f}" if key in row else "" for key in columns)
        fits = (f"{row['fits']} | {row['steps']:.0f} | {row['seconds']:.2f}" if "fits" in row else " | | ")
        print(f"| {data} | {name} | {'' if penalty is None else f'{penalty:g}'} | {fits} | {cells} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--training-pixels", type=int, default=3_000, help="synthetic training pixels per fit")
    parser.add_argument("--max-training-pixels", type=int, default=20_000, help="cap on any fit's pixels")
    parser.add_argument("--max-steps", type=int, default=4_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-sentinel2", action="store_true")
    options = parser.parse_args()
    gdal.UseExceptions()
    if options.threads:
        import torch

        torch.set_num_threads(options.threads)
    started = time.perf_counter()
    rows = []
    if not options.skip_sentinel2:
        rows += sentinel2_rows(options, started)
    if not options.skip_synthetic:
        rows += synthetic_rows(options, started)
    print_table(rows)
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
