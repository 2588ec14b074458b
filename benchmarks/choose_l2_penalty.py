"""Which L2_PENALTY to default to: held-out log-loss, Brier score and calibration for each λ.

    .venv/bin/python benchmarks/choose_l2_penalty.py [--seeds 10]

(a) Synthetic scenes whose P(water) is known: 4 correlated bands at DN scale, true
    P = σ(steepness · plane), labels drawn from it. Three ways of taking training pixels:
    "anywhere" (pixels drawn at random, as a statistician would); "clear areas" (only where
    the true P is below 0.1 or above 0.9, as people draw polygons: in open water and on dry
    land, away from the shore), labels still drawn from P; and "clear areas, labelled by
    polygon" (the same pixels, each labelled by the side it lies on, as a polygon labels all
    its pixels: no label noise, so the classes separate). Scored on held-out pixels drawn
    anywhere, against their labels and against the true P (mean |ΔP|).
(b) The bundled Landsat 8 scene with its training polygons (30 % of the polygons of each
    class held out, by polygon, --seeds splits) and its independent validation polygons.

Every fit is core.learning.solver.fit_logistic_regression on standardized bands, as the plugin fits.
A λ = 0 fit that stops on separation (no finite optimum) is scored where it stopped and
counted in the "separated" column.
"""

import argparse
import os
import sys

import numpy as np
from osgeo import gdal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from run_bench import read_polygons  # noqa: E402  (beside this file)

from water_logreg_plugin.core.learning.calibration import brier_score, expected_calibration_error  # noqa: E402
from water_logreg_plugin.core.learning.metrics import log_loss  # noqa: E402
from water_logreg_plugin.core.learning.sampling import sample_pixels  # noqa: E402
from water_logreg_plugin.core.learning.solver import fit_logistic_regression  # noqa: E402
from water_logreg_plugin.core.learning.split import split_by_polygon  # noqa: E402

PENALTIES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
DEMO = os.path.join(ROOT, "demo", "data")
BANDS = 4


def fitted_probability(training_values, training_labels, l2_penalty, test_values):
    """(P(water) on test_values, whether the fit stopped on separation)."""
    mean = training_values.mean(0)
    std = training_values.std(0)
    std = np.where(std > 0, std, 1.0)
    weight, bias, report = fit_logistic_regression((training_values - mean) / std, training_labels, l2_penalty)
    logits = (test_values - mean) / std @ weight + bias
    return np.exp(-np.logaddexp(0.0, -logits)), not report.converged


def scores(probability, labels, true_probability=None):
    row = {
        "log-loss": log_loss(probability, labels),
        "Brier": brier_score(probability, labels),
        "ECE": expected_calibration_error(probability, labels),
    }
    if true_probability is not None:
        row["mean |ΔP|"] = float(np.mean(np.abs(probability - true_probability)))
    return row


def synthetic_scene(rng, pixels, steepness):
    """Band values at DN scale and the true P(water) of each pixel."""
    mixing = np.eye(BANDS) + 0.7 * rng.normal(size=(BANDS, BANDS))
    latent = rng.normal(size=(pixels, BANDS)) @ mixing
    plane = rng.normal(size=BANDS)
    score = (latent - latent.mean(0)) / latent.std(0) @ plane
    score = (score - np.quantile(score, 0.7)) / score.std()  # about 30 % water
    return 8_000 + 1_500 * latent, 1 / (1 + np.exp(-steepness * score))


def synthetic_rows(seeds, training_pixels):
    rows = []
    for steepness in (2.0, 8.0):
        for sampling in ("anywhere", "clear areas", "clear areas, labelled by polygon"):
            totals = {penalty: [] for penalty in PENALTIES}
            separated = {penalty: 0 for penalty in PENALTIES}
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                values, truth = synthetic_scene(rng, 200_000, steepness)
                labels = (rng.random(len(truth)) < truth).astype(np.float64)
                test = np.arange(100_000, 200_000)
                pool = np.arange(100_000)
                if sampling != "anywhere":
                    pool = pool[(truth[pool] < 0.1) | (truth[pool] > 0.9)]
                train = rng.choice(pool, training_pixels, replace=False)
                training_labels = labels[train] if sampling != "clear areas, labelled by polygon" else (
                    (truth[train] > 0.5).astype(np.float64))
                for penalty in PENALTIES:
                    probability, stopped = fitted_probability(values[train], training_labels, penalty, values[test])
                    totals[penalty].append(scores(probability, labels[test], truth[test]))
                    separated[penalty] += stopped
            for penalty in PENALTIES:
                mean = {key: np.mean([row[key] for row in totals[penalty]]) for key in totals[penalty][0]}
                rows.append((f"synthetic, steepness {steepness:g}, {training_pixels} px {sampling}", penalty,
                             f"{separated[penalty]}/{seeds}", mean))
    return rows


def real_rows(seeds):
    raster = os.path.join(DEMO, "landsat8_reservoir.tif")
    wkt = gdal.Open(raster).GetProjection()
    training, validation = (
        sample_pixels(raster, [], read_polygons(os.path.join(DEMO, name), raster_crs_wkt=wkt), max_pixels_per_class=0)
        for name in ("training_polygons.gpkg", "validation_polygons.gpkg"))
    print(f"Landsat scene: {training.water_count} water and {training.land_count} land training pixels, "
          f"{validation.water_count} water and {validation.land_count} land validation pixels.")
    rows = []
    held_out = {penalty: [] for penalty in PENALTIES}
    independent = {penalty: [] for penalty in PENALTIES}
    separated = {penalty: 0 for penalty in PENALTIES}
    for seed in range(seeds):
        fit_mask, held_mask, message = split_by_polygon(training.labels, training.polygon_ids, 0.3, seed)
        if message:
            raise SystemExit(message)
        for penalty in PENALTIES:
            test_values = np.vstack([training.values[held_mask], validation.values])
            probability, stopped = fitted_probability(
                training.values[fit_mask], training.labels[fit_mask].astype(np.float64), penalty, test_values,
            )
            held = int(held_mask.sum())
            held_out[penalty].append(scores(probability[:held], training.labels[held_mask]))
            independent[penalty].append(scores(probability[held:], validation.labels))
            separated[penalty] += stopped
    for name, table in (("held-out training polygons", held_out), ("validation polygons", independent)):
        for penalty in PENALTIES:
            mean = {key: np.mean([row[key] for row in table[penalty]]) for key in table[penalty][0]}
            rows.append((f"Landsat 8 reservoir, {name}", penalty, f"{separated[penalty]}/{seeds}", mean))
    # All training polygons, as the plugin fits by default: is the fit separated at all?
    for penalty in PENALTIES:
        _, stopped = fitted_probability(training.values, training.labels.astype(np.float64), penalty,
                                        training.values[:1])
        rows.append(("Landsat 8 reservoir, all training polygons: separated?", penalty, str(int(stopped)), {}))
    return rows


def print_table(rows):
    columns = ("log-loss", "Brier", "ECE", "mean |ΔP|")
    print("| data | λ | separated | " + " | ".join(columns) + " |")
    print("|---|---:|---:|" + "---:|" * len(columns))
    for data, penalty, separated, row in rows:
        cells = " | ".join(f"{row[key]:.4f}" if key in row else "" for key in columns)
        print(f"| {data} | {penalty:g} | {separated} | {cells} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--training-pixels", type=int, default=2_000)
    arguments = parser.parse_args()
    gdal.UseExceptions()
    rows = synthetic_rows(arguments.seeds, arguments.training_pixels) + real_rows(arguments.seeds)
    print_table(rows)


if __name__ == "__main__":
    main()
