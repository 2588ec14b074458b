"""The exact fit (core.learning.solver) against scikit-learn's lbfgs and newton-cholesky on 1 M samples.

    .venv/bin/python benchmarks/bench_solver.py [--pixels 1000000] [--bands 4] [--repeats 3]

Same standardized samples and objective for every solver: mean cross-entropy + λ/2·‖A‖²,
scikit-learn with C = 1/(λ·n). Each row is run in a child process of its own, so its peak
memory (maximum resident set, less the samples and both libraries already loaded) is its own; the seconds are
the median of --repeats fits in that child, after one untimed warm-up fit. "gap" is the
objective minus the best of all rows: how far from the optimum each solver ends. The runs
share the machine with whatever else runs: the ratios are the result, the seconds context.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from water_logreg_plugin.core.learning.solver import fit_logistic_regression, objective_at  # noqa: E402

SOLVERS = {
    # name: (scikit-learn solver or None for ours, scikit-learn tol)
    "ours (Newton, decrement²/2 ≤ 1e-10)": (None, None),
    "scikit-learn lbfgs, tol 1e-4 (default)": ("lbfgs", 1e-4),
    "scikit-learn lbfgs, tol 1e-8": ("lbfgs", 1e-8),
    "scikit-learn newton-cholesky, tol 1e-4 (default)": ("newton-cholesky", 1e-4),
    "scikit-learn newton-cholesky, tol 1e-8": ("newton-cholesky", 1e-8),
}


def samples(pixels, bands, seed=0):
    """Correlated bands at DN scale, overlapping classes, one pixel in four water; standardized."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(bands) + 0.5 * rng.normal(size=(bands, bands))
    values = 10_000 + 2_000 * rng.normal(size=(pixels, bands)) @ mixing
    score = (values - values.mean(0)) / values.std(0) @ rng.normal(size=bands)
    labels = (rng.random(pixels) < 1 / (1 + np.exp(-3 * (score - np.quantile(score, 0.75))))).astype(np.float64)
    return (values - values.mean(0)) / values.std(0), labels


def fit_once(name, features, labels, l2_penalty):
    solver, tol = SOLVERS[name]
    if solver is None:
        weight, bias, report = fit_logistic_regression(features, labels, l2_penalty)
        return weight, bias, report.steps
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1 / (l2_penalty * len(labels)), solver=solver, tol=tol, max_iter=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(features, labels)
    return model.coef_[0], model.intercept_[0], int(model.n_iter_[0])


def child(name, pixels, bands, l2_penalty, repeats):
    import sklearn.linear_model  # noqa: F401 — both libraries loaded before the baseline: their
    import torch  # noqa: F401 — code is not the fit's memory

    features, labels = samples(pixels, bands)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fit_once(name, features, labels, l2_penalty)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        weight, bias, iterations = fit_once(name, features, labels, l2_penalty)
        seconds.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": statistics.median(seconds), "iterations": iterations,
        "objective": objective_at(features, labels, l2_penalty, weight, bias),
        "peak_mib": (peak - loaded) / 1024, "samples_mib": features.nbytes / 2**20,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=1_000_000)
    parser.add_argument("--bands", type=int, default=4)
    parser.add_argument("--l2-penalty", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.pixels, arguments.bands, arguments.l2_penalty, arguments.repeats)
        return

    rows = {}
    for name in SOLVERS:
        output = subprocess.run(
            [sys.executable, __file__, "--child", name, "--pixels", str(arguments.pixels), "--bands",
             str(arguments.bands), "--l2-penalty", str(arguments.l2_penalty), "--repeats", str(arguments.repeats)],
            check=True, capture_output=True, text=True,
        ).stdout
        rows[name] = json.loads(output.strip().splitlines()[-1])
    best = min(row["objective"] for row in rows.values())
    reference = rows["scikit-learn lbfgs, tol 1e-4 (default)"]["seconds"]
    print(f"{arguments.pixels:,} samples × {arguments.bands} bands, λ = {arguments.l2_penalty:g}, "
          f"samples {rows[next(iter(rows))]['samples_mib']:.0f} MiB, median of {arguments.repeats}")
    print("| solver | seconds | × sklearn lbfgs default | iterations | gap to best | peak extra MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['seconds']:.3f} | {row['seconds'] / reference:.2f} | {row['iterations']} | "
              f"{row['objective'] - best:.1e} | {row['peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
