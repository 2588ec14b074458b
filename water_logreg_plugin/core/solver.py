"""The exact fit of the logistic regression, and the checks other optimisers report against.

The objective is the mean binary cross-entropy plus λ/2·‖A‖² (the bias is not penalised):
scikit-learn's LogisticRegression(C=1/(λ·n)) objective divided by n. It is smooth and convex,
so Newton's method (IRLS) with a backtracking line search reaches its optimum to rounding in
about ten passes over the pixels, and the Newton decrement tells how far from it we still are.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .callbacks import QUIET
from .errors import WaterLogRegError

NEWTON_TOLERANCE = 1e-10
"""Stop when the Newton decrement²/2 — the objective's predicted excess over the optimum — is below this."""

LBFGS_GRADIENT_TOLERANCE = 1e-6
"""An L-BFGS fit has converged when ‖∇f‖∞ ≤ this · max(1, |f|)."""

LBFGS_MAX_EVALUATIONS = 25
"""Objective evaluations allowed in one L-BFGS step: its strong-Wolfe line search gets all but one."""

HESSIAN_CHUNK_ROWS = 65_536
"""Rows per block of Xᵀ diag(s) X: the temporary is this × bands, whatever the pixel count."""

SEPARATION_NOTE = (
    "The polygons separate water from land perfectly, so maximum likelihood has no finite "
    "optimum: the weights grow without bound and P(water) becomes a 0/1 step. Set L2_PENALTY > 0 "
    "(e.g. 1e-3) for a finite fit with graded probabilities, or add polygons where water and "
    "land meet."
)

_ARMIJO_SLOPE = 1e-4  # the decrease a step must reach, as a fraction of the linear prediction
_MAX_HALVINGS = 60  # 2⁻⁶⁰ of a Newton step is below rounding of any weight
_PSEUDO_INVERSE_CUTOFF = 1e-12  # Hessian eigenvalues below this × the largest are directions the data do not see
_RECESSION_SLACK = 1e-9  # rounding allowed in "no pixel's margin decreases along the step"


@dataclass
class FitReport:
    """How a fit ended. objective and gradient_norm are at the returned weights."""

    converged: bool
    iterations: int  # Newton steps taken
    objective: float  # mean cross-entropy + λ/2·‖A‖²
    gradient_norm: float  # Euclidean norm of the objective's gradient over weights and bias
    note: str = ""  # why it did not converge; empty when it did
    objective_history: list = field(default_factory=list)  # at the start and after each step
    loss_history: list = field(default_factory=list)  # the same points' mean cross-entropy, no penalty


def fit_logistic_regression(
    features,
    labels,
    l2_penalty,
    device="cpu",
    callbacks=QUIET,
    max_iterations=100,
    tolerance=NEWTON_TOLERANCE,
):
    """Minimise mean BCE(σ(features·A + b), labels) + λ/2·‖A‖² by Newton's method.

    features: (n, d) standardized band values; labels: 0 land, 1 water; device: a torch
    device or its name. Works in float64 on that device. Returns (A (d,), b, FitReport).

    Stops when the Newton decrement²/2 ≤ tolerance (the default puts the objective within
    about 1e-10 of the optimum). With λ = 0 on data that a plane separates (completely or
    with ties on the plane), no finite optimum exists: the fit stops with converged False and
    SEPARATION_NOTE instead of chasing weights to infinity.
    """
    import torch

    if not (math.isfinite(l2_penalty) and l2_penalty >= 0):
        raise WaterLogRegError(f"The L2 penalty must be 0 or more, not {l2_penalty}.")
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if features.ndim != 2 or len(features) != len(labels) or not len(labels):
        raise WaterLogRegError("The samples do not match their labels; sample the raster again.")

    device = torch.device(device)
    x = torch.as_tensor(features, device=device)
    y = torch.as_tensor(labels, device=device)
    sign = 2 * y - 1  # +1 water, -1 land: a pixel's margin is sign · logit
    band_count = x.shape[1]
    weight = torch.zeros(band_count, dtype=torch.float64, device=device, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, device=device, requires_grad=True)

    zero = torch.zeros((), dtype=torch.float64, device=device)

    def objective_at(logits, weight):
        # log(1 + eˣ) − y·x, stable for any logit; measured 100× faster than torch's
        # binary_cross_entropy_with_logits in float64 on small samples, as exact.
        loss = (torch.logaddexp(zero, logits) - y * logits).mean()
        return loss + 0.5 * l2_penalty * weight.dot(weight), loss

    report = FitReport(converged=False, iterations=0, objective=math.nan, gradient_norm=math.nan)
    for iteration in range(max_iterations + 1):
        callbacks.check_canceled()
        logits = x @ weight + bias
        objective, loss = objective_at(logits, weight)
        gradient = torch.cat([g.reshape(-1) for g in torch.autograd.grad(objective, (weight, bias))])
        logits = logits.detach()
        report.iterations = iteration
        report.objective = float(objective.detach())
        report.gradient_norm = float(gradient.norm())
        report.objective_history.append(report.objective)
        report.loss_history.append(float(loss.detach()))
        if not math.isfinite(report.objective):
            report.note = f"The objective became {report.objective} at Newton step {iteration}."
            break
        if report.note:
            break  # separation found at the previous step, which was taken so the weights point the right way
        if l2_penalty == 0 and bool((sign * logits).min() > 0):
            report.note = SEPARATION_NOTE
            break
        if iteration == max_iterations:
            report.note = (
                f"Newton's method did not converge in {max_iterations} steps "
                f"(gradient norm {report.gradient_norm:.3g})."
            )
            break

        step = -_pseudo_solve(_hessian(x, logits, l2_penalty), gradient)
        decrement_squared = float(-(gradient @ step))
        logit_change = x @ step[:-1] + step[-1]
        if l2_penalty == 0 and _is_recession_direction(sign * logit_change):
            # Along this direction no pixel's loss rises and some fall, for ever: the weights
            # have no finite optimum, whatever the decrement says once the losses underflow.
            report.note = SEPARATION_NOTE
        elif decrement_squared / 2 <= tolerance:
            report.converged = True
            break

        step_size = 1.0
        for _ in range(_MAX_HALVINGS):
            with torch.no_grad():
                trial, _ = objective_at(logits + step_size * logit_change, weight + step_size * step[:-1])
            if float(trial) <= report.objective - _ARMIJO_SLOPE * step_size * decrement_squared:
                break
            step_size /= 2
        else:
            report.note = (
                "The line search found no decrease along the Newton step (rounding); the objective "
                f"is within about {decrement_squared / 2:.2g} of the optimum."
            )
            break
        with torch.no_grad():
            weight += step_size * step[:-1]
            bias += step_size * step[-1]
        callbacks.progress((iteration + 1) / max_iterations)

    callbacks.progress(1.0)
    callbacks.log(
        f"Newton's method {'converged' if report.converged else 'stopped'} after {report.iterations} "
        f"steps: objective {report.objective:.12g}, gradient norm {report.gradient_norm:.3g}."
        + (f" {report.note}" if report.note else "")
    )
    return weight.detach().cpu().numpy().copy(), float(bias.detach()), report


def _hessian(x, logits, l2_penalty):
    """[[Xᵀ S X + nλI, Xᵀ s], [sᵀ X, Σ s]] / n with s = σ(z)(1 − σ(z)), over blocks of rows."""
    import torch

    band_count = x.shape[1]
    hessian = torch.zeros(band_count + 1, band_count + 1, dtype=torch.float64, device=x.device)
    for start in range(0, len(x), HESSIAN_CHUNK_ROWS):
        rows = x[start:start + HESSIAN_CHUNK_ROWS]
        block_logits = logits[start:start + HESSIAN_CHUNK_ROWS]
        curvature = torch.sigmoid(block_logits) * torch.sigmoid(-block_logits)  # no 1 − p cancellation
        weighted = rows * curvature[:, None]
        hessian[:band_count, :band_count] += rows.T @ weighted
        column = weighted.sum(0)
        hessian[:band_count, band_count] += column
        hessian[band_count, :band_count] += column
        hessian[band_count, band_count] += curvature.sum()
    hessian /= len(x)
    hessian.diagonal()[:band_count] += l2_penalty
    return hessian


def _pseudo_solve(hessian, gradient):
    """H⁺g: a collinear or constant band (λ = 0) makes H singular; those directions get no step."""
    import torch

    eigenvalues, eigenvectors = torch.linalg.eigh(hessian)
    cutoff = _PSEUDO_INVERSE_CUTOFF * eigenvalues.abs().max()
    inverse = torch.where(eigenvalues > cutoff, 1 / eigenvalues, torch.zeros_like(eigenvalues))
    return eigenvectors @ (inverse * (eigenvectors.T @ gradient))


def _is_recession_direction(margin_change):
    """True when no margin falls (to rounding) and some rise: a certificate that the data separate."""
    largest = float(margin_change.abs().max())
    return largest > 0 and float(margin_change.min()) >= -_RECESSION_SLACK * largest


def objective_at(features, labels, l2_penalty, weight, bias):
    """Mean binary cross-entropy + λ/2·‖A‖² at (weight, bias), in float64."""
    logits = np.asarray(features, dtype=np.float64) @ np.asarray(weight, dtype=np.float64) + float(bias)
    labels = np.asarray(labels, dtype=np.float64)
    loss = np.mean(np.logaddexp(0.0, logits) - labels * logits)
    return float(loss + 0.5 * l2_penalty * np.dot(weight, weight))


def objective_gap(features, labels, l2_penalty, weight, bias, device="cpu"):
    """How far (weight, bias) is above the exact optimum's objective, for SGD's and Adam's log.

    With λ = 0 on separable data the optimum is an infimum (0 at infinite weights); the gap is
    then measured against where Newton's method stopped, a lower bound of no use; see FitReport.note.
    """
    _, _, exact = fit_logistic_regression(features, labels, l2_penalty, device=device)
    return objective_at(features, labels, l2_penalty, weight, bias) - exact.objective


def make_lbfgs(parameters, learning_rate, history_size=20):
    """A torch L-BFGS doing one iteration per step() with a working strong-Wolfe line search.

    torch's LBFGS gives its line search max_eval − 1 evaluations, and max_eval defaults to
    max_iter·5//4 = 1 for max_iter=1: no line search at all. max_eval=25 gives it 24, as many
    as torch's own default. Its inner gradient test is set below rounding so that
    lbfgs_converged decides when to stop.
    """
    import torch

    return torch.optim.LBFGS(
        parameters, lr=learning_rate, max_iter=1, max_eval=LBFGS_MAX_EVALUATIONS, history_size=history_size,
        line_search_fn="strong_wolfe", tolerance_grad=1e-15, tolerance_change=1e-15,
    )


def gradient_norm_of(parameters, order=math.inf):
    """The norm (∞ by default) of the gradients stored on `parameters` after backward()."""
    import torch

    gradients = [p.grad.detach().reshape(-1) for p in parameters if p.grad is not None]
    if not gradients:
        return 0.0
    return float(torch.linalg.vector_norm(torch.cat(gradients).double(), ord=order))


def lbfgs_converged(gradient_inf_norm, objective, tolerance=LBFGS_GRADIENT_TOLERANCE):
    """The stopping rule for an L-BFGS fit: ‖∇f‖∞ ≤ tolerance · max(1, |f|)."""
    return gradient_inf_norm <= tolerance * max(1.0, abs(objective))
