"""The exact fit against scikit-learn on a few hundred datasets of the shapes users meet."""

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.linear_model import LogisticRegression
from support.synthetic import random_dataset, standardized

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError
from water_logreg_plugin.core.learning import solver
from water_logreg_plugin.core.learning.solver import (
    SEPARATION_NOTE,
    fit_logistic_regression,
    gradient_norm_of,
    lbfgs_converged,
    lbfgs_step,
    make_lbfgs,
    objective_at,
    objective_gap,
)

DATASETS = 240
MATCH = 1e-6  # ours must end at most this far above the better of scikit-learn's two solvers


def separates(features, labels):
    """Whether a plane separates the classes, ties on the plane allowed (Konis's linear program)."""
    signed = (2 * labels - 1)[:, None] * np.column_stack([features, np.ones(len(labels))])
    result = linprog(-signed.sum(0), A_ub=-signed, b_ub=np.zeros(len(labels)), bounds=(-1, 1), method="highs")
    return -result.fun > 1e-3


def best_scikit_learn_objective(features, labels, l2_penalty, solvers=("lbfgs", "newton-cholesky")):
    objectives = []
    for name in solvers:
        model = LogisticRegression(
            C=1 / (l2_penalty * len(labels)) if l2_penalty else np.inf, solver=name, tol=1e-12, max_iter=10_000,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # collinear bands: scikit-learn warns, then solves anyway
            model.fit(features, labels)
        objectives.append(objective_at(features, labels, l2_penalty, model.coef_[0], model.intercept_[0]))
    return min(objectives)


@pytest.mark.parametrize("seed", range(DATASETS))
def test_matches_scikit_learn_or_reports_separation(seed):
    features, labels, description = random_dataset(seed)
    l2_penalty = 10 ** np.random.default_rng(seed).uniform(-6, -1)

    weight, bias, report = fit_logistic_regression(features, labels, l2_penalty)
    assert report.converged and not report.note, description
    assert report.objective <= best_scikit_learn_objective(features, labels, l2_penalty) + MATCH, description
    assert report.objective == pytest.approx(objective_at(features, labels, l2_penalty, weight, bias), abs=1e-12)
    assert report.objective_history[-1] == report.objective
    assert all(later <= earlier for earlier, later in zip(report.objective_history, report.objective_history[1:]))

    weight, bias, report = fit_logistic_regression(features, labels, 0.0)
    if separates(features, labels):
        assert not report.converged and report.note == SEPARATION_NOTE, description
    else:
        assert report.converged and not report.note, description
        assert report.objective <= best_scikit_learn_objective(features, labels, 0.0) + MATCH, description


@pytest.mark.parametrize("seed", range(8))
def test_many_pixels_start_from_a_subsample_and_reach_the_same_optimum(seed, monkeypatch):
    """Above WARM_START_PIXELS the steps start at a subsample's optimum; the end must not move."""
    features, labels, description = random_dataset(1000 + seed, rows=solver.WARM_START_PIXELS + 40_000)
    l2_penalty = 10 ** np.random.default_rng(seed).uniform(-6, -2)

    weight, bias, report = fit_logistic_regression(features, labels, l2_penalty)
    assert report.converged and not report.note, description
    assert report.warm_start.startswith("one pixel in "), description
    assert report.objective <= best_scikit_learn_objective(features, labels, l2_penalty, ("newton-cholesky",)) + MATCH
    assert report.objective == pytest.approx(objective_at(features, labels, l2_penalty, weight, bias), abs=1e-12)

    # λ = 0: a separable subsample gives no start, so separation is still decided on all pixels,
    # and the end is where the steps from no weights end.
    warm = fit_logistic_regression(features, labels, 0.0)[2]
    monkeypatch.setattr(solver, "WARM_START_PIXELS", 10**12)
    cold = fit_logistic_regression(features, labels, 0.0)[2]
    assert (warm.converged, warm.note) == (cold.converged, cold.note), description
    if cold.converged:
        assert warm.objective == pytest.approx(cold.objective, abs=1e-9), description
    assert cold.warm_start == ""


def test_the_datasets_cover_separable_and_overlapping_classes():
    separable = sum(separates(*random_dataset(seed)[:2]) for seed in range(0, DATASETS, 4))
    assert 5 <= separable <= DATASETS // 4 - 5


def test_perfect_separation_stops_with_the_note_not_a_fake_convergence():
    features = np.linspace(-1, 1, 200)[:, None]
    labels = (features[:, 0] > 0.01).astype(np.float64)
    weight, bias, report = fit_logistic_regression(features, labels, 0.0)
    assert not report.converged
    assert "Set L2_PENALTY > 0" in report.note and "no finite optimum" in report.note
    assert weight[0] > 0  # pointing the right way, however far it went
    # The same data with a penalty have a finite optimum.
    _, _, report = fit_logistic_regression(features, labels, 1e-3)
    assert report.converged and report.gradient_norm < 1e-6


def test_ties_on_the_separating_plane_are_separation_too():
    # Byte values: water ≤ 99 < land, except both classes at exactly 100 — quasi-complete separation.
    rng = np.random.default_rng(1)
    values = np.round(rng.uniform(80, 120, 1000))
    labels = np.where(values == 100, rng.random(1000) < 0.5, values < 100).astype(np.float64)
    _, _, report = fit_logistic_regression(standardized(values[:, None]), labels, 0.0)
    assert not report.converged and report.note == SEPARATION_NOTE


def test_cancel_raises_canceled():
    features, labels, _ = random_dataset(0)
    asked = []

    def is_canceled():
        asked.append(True)
        return len(asked) > 2

    with pytest.raises(Canceled):
        fit_logistic_regression(features, labels, 1e-3, callbacks=Callbacks(is_canceled=is_canceled))


def test_progress_rises_to_one_and_the_log_tells_the_outcome():
    features, labels, _ = random_dataset(3)
    fractions, lines = [], []
    fit_logistic_regression(features, labels, 1e-3, callbacks=Callbacks(progress=fractions.append, log=lines.append))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(lines) == 1 and lines[0].startswith("Newton's method converged")


def test_refuses_a_negative_penalty():
    with pytest.raises(WaterLogRegError, match="0 or more"):
        fit_logistic_regression(np.zeros((4, 1)), np.array([0, 1, 0, 1.0]), -1.0)


def test_refuses_labels_other_than_zero_and_one():
    with pytest.raises(WaterLogRegError, match="1 \\(water\\) or 0 \\(land\\)"):
        fit_logistic_regression(np.zeros((3, 1)), np.array([0, 1, 2.0]), 1e-3)


def test_make_lbfgs_gives_the_line_search_its_evaluations():
    """torch gives the strong-Wolfe search max_eval − 1 evaluations; max_eval defaults to 1 at max_iter=1."""
    import torch

    parameter = torch.zeros(2, requires_grad=True)
    assert torch.optim.LBFGS([parameter], max_iter=1).defaults["max_eval"] == 1
    lbfgs = make_lbfgs([parameter], learning_rate=1.0)
    assert lbfgs.defaults["max_iter"] == 1 and lbfgs.defaults["max_eval"] == 25
    assert lbfgs.defaults["line_search_fn"] == "strong_wolfe"


def test_objective_gap_is_zero_at_the_optimum_and_the_excess_elsewhere():
    features, labels, _ = random_dataset(5)
    weight, bias, report = fit_logistic_regression(features, labels, 1e-3)
    assert objective_gap(features, labels, 1e-3, weight, bias) == pytest.approx(0.0, abs=1e-12)
    at_zero = objective_at(features, labels, 1e-3, np.zeros_like(weight), 0.0)
    assert at_zero == pytest.approx(math.log(2))
    assert objective_gap(features, labels, 1e-3, np.zeros_like(weight), 0.0) == pytest.approx(
        math.log(2) - report.objective, abs=1e-12
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs_with_its_line_search_reaches_the_optimum(dtype):
    """make_lbfgs on a torch layer (as the MLP path uses it) ends where Newton's method does.

    float64 stops on the gradient rule; float32, whose gradient cannot get that small, stops
    when a step no longer moves the parameters.
    """
    import torch

    dtype = getattr(torch, dtype)
    features, labels, _ = random_dataset(7)
    l2_penalty = 1e-3
    _, _, exact = fit_logistic_regression(features, labels, l2_penalty)
    layer = torch.nn.Linear(features.shape[1], 1, dtype=dtype)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    x, y = torch.as_tensor(features, dtype=dtype), torch.as_tensor(labels, dtype=dtype)
    optimizer = make_lbfgs(layer.parameters(), learning_rate=1.0)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(layer(x).squeeze(1), y)
        loss = loss + 0.5 * l2_penalty * layer.weight.square().sum()
        loss.backward()
        return loss

    for _ in range(200):
        objective, gradient, stop, converged = lbfgs_step(optimizer, closure)
        if stop:
            break
    assert stop
    assert converged == lbfgs_converged(gradient, objective)
    if dtype == torch.float64:
        assert converged and gradient_norm_of(layer.parameters(), order=2) < 1e-5
    weight = layer.weight.detach().double().numpy()[0]
    assert objective_at(features, labels, l2_penalty, weight, float(layer.bias.detach())) <= exact.objective + MATCH
