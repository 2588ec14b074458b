"""L-BFGS as the plugin ran it (no line search) against make_lbfgs with its stopping rule.

    .venv/bin/python benchmarks/lbfgs_line_search.py [--datasets 36]

On the random datasets of tests/core/learning/test_solver.py (λ = 1e-3), a torch linear layer fit
one L-BFGS iteration per step: "before" is torch.optim.LBFGS(max_iter=1) without max_eval
(so its strong-Wolfe search gets no evaluation) stopped when the objective changed by
≤ 1e-7 relatively for 3 steps, as the model module did; "make_lbfgs" is core.learning.solver's optimizer
stopped by core.learning.solver.lbfgs_step. The gap is the objective minus the exact optimum's
(core.learning.solver.fit_logistic_regression).
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "core"))

from test_solver import random_dataset  # noqa: E402

from water_logreg_plugin.core.learning.solver import fit_logistic_regression, lbfgs_step, make_lbfgs, objective_at  # noqa: E402

L2_PENALTY = 1e-3
MAX_STEPS = 500


def fit_layer(features, labels, dtype, with_line_search):
    """(objective at the end, steps taken)."""
    import torch

    layer = torch.nn.Linear(features.shape[1], 1, dtype=dtype)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    x, y = torch.as_tensor(features, dtype=dtype), torch.as_tensor(labels, dtype=dtype)
    if with_line_search:
        optimizer = make_lbfgs(layer.parameters(), 1.0)
    else:
        optimizer = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=1, history_size=20,
                                      line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(layer(x).squeeze(1), y)
        loss = loss + 0.5 * L2_PENALTY * layer.weight.square().sum()
        loss.backward()
        return loss

    objectives, quiet_steps = [], 0
    for step in range(1, MAX_STEPS + 1):
        if with_line_search:
            if lbfgs_step(optimizer, closure)[2]:
                break
        else:
            objectives.append(optimizer.step(closure).item())
            if step > 1:
                change = abs(objectives[-2] - objectives[-1])
                quiet_steps = quiet_steps + 1 if change <= 1e-7 * max(objectives[-1], 1e-12) else 0
                if quiet_steps >= 3:
                    break
    weight = layer.weight.detach().double().numpy()[0]
    return objective_at(features, labels, L2_PENALTY, weight, float(layer.bias.detach())), step


def main():
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=36)
    arguments = parser.parse_args()
    datasets = [random_dataset(seed)[:2] for seed in range(arguments.datasets)]
    optima = [fit_logistic_regression(features, labels, L2_PENALTY)[2].objective for features, labels in datasets]
    print(f"{arguments.datasets} datasets, λ = {L2_PENALTY:g}")
    print("| optimizer | dtype | gap > 1e-5 | gap > 1e-6 | worst gap | steps (median, max) |")
    print("|---|---|---:|---:|---:|---|")
    for with_line_search in (False, True):
        for dtype in (torch.float32, torch.float64):
            runs = [fit_layer(features, labels, dtype, with_line_search) for features, labels in datasets]
            gaps = np.array([objective for objective, _ in runs]) - optima
            steps = [taken for _, taken in runs]
            print(f"| {'make_lbfgs + lbfgs_step' if with_line_search else 'before (max_eval 1)'} | "
                  f"{str(dtype).split('.')[-1]} | {int((gaps > 1e-5).sum())} | {int((gaps > 1e-6).sum())} | "
                  f"{gaps.max():.1e} | {int(np.median(steps))}, {max(steps)} |")


if __name__ == "__main__":
    main()
