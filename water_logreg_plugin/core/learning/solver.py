"""The exact fit of the logistic regression, and the checks other optimisers report against.

The objective is the mean binary cross-entropy plus λ/2·‖A‖² (the bias is not penalised):
scikit-learn's LogisticRegression(C=1/(λ·n)) objective divided by n. It is smooth and convex,
so Newton's method (IRLS) with a backtracking line search reaches its optimum to rounding in
a handful of steps (6 typical, 15 at most over the tests' 480 fits), and the Newton decrement
tells how far from it we still are.
"""

import math
from contextlib import contextmanager
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from .fit_outcome import FitOutcome

NEWTON_TOLERANCE = 1e-10
"""Stop when the Newton decrement²/2 — the objective's predicted excess over the optimum — is below this."""

LBFGS_GRADIENT_TOLERANCE = 1e-6
"""An L-BFGS fit has converged when ‖∇f‖∞ ≤ this · max(1, |f|)."""

LBFGS_HISTORY = 100
"""Step pairs L-BFGS keeps. Measured on 40 random datasets, MLPs of 4 to 16,16 units, λ = 1e-3:
torch's default 20 left 3 short of the gradient rule after 3 000 steps, 100 none (median 238
steps against 408); 300 gained little more (230)."""

LBFGS_HISTORY_BYTES = 256 * 2**20
"""At most this much float64 history (two vectors of all parameters a pair), for wide MLPs."""

LBFGS_MIN_HISTORY = 5

LBFGS_MAX_EVALUATIONS = 25
"""Objective evaluations allowed in one L-BFGS step: its strong-Wolfe line search gets all but one."""

WARM_START_PIXELS = 262_144
"""From this many pixels on, Newton's method starts at the optimum of a subsample (_warm_start)."""

SUBSAMPLE_PIXELS = 65_536
"""About how many pixels that subsample holds."""

HESSIAN_CHUNK_PIXELS = 65_536
"""Pixels per block of the Hessian's sum: its temporary is this × (bands + 1), whatever the pixel count."""

SEPARATION_NOTE = (
    "The polygons separate water from land perfectly, so maximum likelihood has no finite "
    "optimum: the weights grow without bound and P(water) becomes a 0/1 step. Set L2_PENALTY > 0 "
    "(e.g. 1e-5, the default) for a finite fit with graded probabilities, or add polygons where "
    "water and land meet."
)

_ARMIJO_SLOPE = 1e-4  # the decrease a step must reach, as a fraction of the linear prediction
_MAX_HALVINGS = 60  # 2⁻⁶⁰ of a Newton step is below rounding of any weight
_PSEUDO_INVERSE_CUTOFF = 1e-12  # Hessian eigenvalues below this × the largest are directions the data do not see
_RECESSION_SLACK = 1e-9  # rounding allowed in "no pixel's margin decreases along the step"


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
    device or its name. Works in float64 on that device. Returns (A (d,), b, FitOutcome).

    Stops when the Newton decrement²/2 ≤ tolerance (the default puts the objective within
    about 1e-10 of the optimum). With λ = 0 on data that a plane separates (completely or
    with ties on the plane), no finite optimum exists: the fit stops with converged False and
    SEPARATION_NOTE instead of chasing weights to infinity. Above WARM_START_PIXELS pixels the
    steps start from the optimum of a subsample (FitOutcome.warm_start).
    """
    import torch

    features, labels = _checked_samples(features, labels, l2_penalty)
    device = torch.device(device)
    with one_thread_on_cpu(device):
        start, warm_start = _warm_start(features, labels, l2_penalty, device, callbacks, max_iterations, tolerance)
        rest = callbacks.part(0.1, 1) if warm_start else callbacks
        weight, bias, outcome = _NewtonSolver(features, labels, l2_penalty, device, tolerance).solve(
            start, rest, max_iterations)
    outcome.warm_start = warm_start
    return weight, bias, outcome


def _checked_samples(features, labels, l2_penalty):
    if not (math.isfinite(l2_penalty) and l2_penalty >= 0):
        raise WaterLogRegError(f"The L2 penalty must be 0 or more, not {l2_penalty}.")
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if features.ndim != 2 or len(features) != len(labels) or not len(labels):
        raise WaterLogRegError("The samples do not match their labels; sample the raster again.")
    if not np.all((labels == 0) | (labels == 1)):
        raise WaterLogRegError("Labels must be 1 (water) or 0 (land).")
    return features, labels


def _warm_start(features, labels, l2_penalty, device, callbacks, max_iterations, tolerance):
    """(start, description): the optimum of every k-th pixel of each class, or (None, "").

    From zero, Newton's method needs 5–10 passes over the pixels where water and land are far
    apart (the weights grow about 1.4× a step until the curvature drops); from the optimum
    of a SUBSAMPLE_PIXELS subsample — within sampling error of the full one — it needs 2–3.
    Every k-th pixel of each class keeps the water fraction and reaches every polygon (the
    samples come polygon by polygon). A subsample that stops short (separation with λ = 0)
    gives no start: the full samples decide, from zero.
    """
    if len(labels) < WARM_START_PIXELS:
        return None, ""
    stride = len(labels) // SUBSAMPLE_PIXELS
    chosen = np.concatenate([np.flatnonzero(labels == label)[::stride] for label in (1, 0)])
    quiet = replace(callbacks.part(0, 0.1), log=lambda _text: None)
    weight, bias, outcome = _NewtonSolver(features[chosen], labels[chosen], l2_penalty, device, tolerance).solve(
        None, quiet, max_iterations)
    if not outcome.converged:
        return None, ""
    return (np.append(weight, bias),
            f"one pixel in {stride} of each class ({len(chosen)} pixels, {outcome.steps} Newton steps)")


@contextmanager
def one_thread_on_cpu(device, wanted=True):
    """Newton's passes are a few vector operations over the pixels: one CPU thread does them in
    0.15–0.2 s for 1 M pixels × 4 bands, two threads barely faster. With torch's thread pool,
    a busy second core (QGIS drawing, another program) stalls every operation at its barrier:
    on 2 cores with one busy, 0.5 s for two threads against 0.2 s for one, and 3.2 s in a
    `make bench` run that shared the machine; an MLP of 16 units took 14.2 s against 1.3 s.
    On a GPU, or when not `wanted`, nothing changes."""
    import torch

    if device.type != "cpu" or not wanted:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _Point(NamedTuple):
    """One evaluation of the objective; parameters is a leaf whose graph gives the gradient."""

    parameters: object
    logits: object
    objective: object  # mean cross-entropy + λ/2·‖A‖²
    loss: object  # mean cross-entropy


class _NewtonSolver:
    """Newton's method with Armijo backtracking, in the steps of scikit-learn's NewtonSolver
    (sklearn/linear_model/_glm/_newton_solver.py): setup (__init__), update_gradient,
    stops_before_step, inner_solve, check_convergence, line_search."""

    def __init__(self, features, labels, l2_penalty, device, tolerance):
        import torch

        self.labels, self.l2_penalty, self.tolerance = labels, l2_penalty, tolerance
        self.band_count = features.shape[1]
        self.design = _design(features, device)
        self.y = torch.as_tensor(labels, device=device)
        self.outcome = FitOutcome(
            optimizer="newton", steps=0, converged=False, objective=math.nan, gradient_norm=math.nan,
            final_loss=math.nan, stopping_rule=f"Newton decrement²/2 ≤ {tolerance:g}", device=device.type,
            l2_penalty=float(l2_penalty),
        )
        self.point = self.gradient = self.step = None  # set by solve, update_gradient and inner_solve
        self.decrement_squared = math.nan

    def solve(self, start, callbacks, max_iterations):
        """(A, b, FitOutcome) from `start` ((A, b) as one array; None: _bias_only_start)."""
        import torch

        if start is None:
            start = _bias_only_start(self.labels, self.band_count)
        self.point = self.evaluate(torch.as_tensor(start, dtype=torch.float64, device=self.design.device))
        for iteration in range(max_iterations + 1):
            callbacks.check_canceled()
            self.update_gradient(iteration)
            if self.stops_before_step(iteration, max_iterations):
                break
            self.inner_solve()
            if self.check_convergence() or not self.line_search():
                break
            callbacks.progress((iteration + 1) / max_iterations)
        callbacks.progress(1.0)
        outcome = self.outcome
        callbacks.log(
            f"Newton's method {'converged' if outcome.converged else 'stopped'} after {outcome.steps} "
            f"steps: objective {outcome.objective:.12g}, gradient norm {outcome.gradient_norm:.3g}."
            + (f" {outcome.note}" if outcome.note else "")
        )
        fitted = self.point.parameters.detach().cpu().numpy()
        return fitted[:self.band_count].copy(), float(fitted[self.band_count]), outcome

    def evaluate(self, parameters):
        """The objective at `parameters`, with the graph kept for the gradient."""
        import torch.nn.functional as functional

        parameters = parameters.detach().requires_grad_()
        logits = parameters @ self.design
        # log(1 + eᶻ) − y·z. Above z = 40, log(1 + eᶻ) is z to within 4e-18; softplus's default
        # switch at 20 would cost 2e-9. Forward and backward measured 1.5× faster than with
        # logaddexp (1 M pixels), and 80× faster than binary_cross_entropy_with_logits on a
        # few thousand pixels when the cores are busy (its log-sigmoid starts threads).
        loss = functional.softplus(logits, threshold=40).mean() - self.y.dot(logits) / len(self.y)
        weight = parameters[:self.band_count]
        return _Point(parameters, logits, loss + 0.5 * self.l2_penalty * weight.dot(weight), loss)

    def margins(self, logits):
        """sign · logit, + for a pixel on its own class's side of the plane."""
        import torch

        return torch.where(self.y > 0, logits, -logits)

    def update_gradient(self, iteration):
        """The gradient at the current point, and the point in the outcome and its path."""
        import torch

        point, outcome = self.point, self.outcome
        (self.gradient,) = torch.autograd.grad(point.objective, point.parameters)
        self.point = point._replace(logits=point.logits.detach())
        outcome.steps = iteration
        outcome.objective = float(point.objective.detach())
        outcome.gradient_norm = float(self.gradient.norm())
        outcome.objective_history.append(outcome.objective)
        outcome.loss_history.append(float(point.loss.detach()))
        outcome.final_loss = outcome.loss_history[-1]
        outcome.parameter_history.append(point.parameters.detach().cpu().numpy().copy())

    def stops_before_step(self, iteration, max_iterations):
        """True, with the note, where no step is to be taken from here."""
        outcome = self.outcome
        if not math.isfinite(outcome.objective):
            outcome.note = f"The objective became {outcome.objective} at Newton step {iteration}."
            return True
        if outcome.note:
            return True  # separation found at the previous step, which was taken so the weights point the right way
        if self.l2_penalty == 0 and bool(self.margins(self.point.logits).min() > 0):
            outcome.note = SEPARATION_NOTE
            return True
        if iteration == max_iterations:
            outcome.note = (
                f"Newton's method did not converge in {max_iterations} steps "
                f"(gradient norm {outcome.gradient_norm:.3g})."
            )
            return True
        return False

    def inner_solve(self):
        """The Newton step −H⁺g and the squared Newton decrement gᵀH⁺g."""
        hessian = _hessian(self.design, self.point.logits, self.l2_penalty)
        self.step = -_pseudo_solve(hessian, self.gradient)
        self.decrement_squared = float(-(self.gradient @ self.step))

    def check_convergence(self):
        """True when the decrement says the optimum is reached; notes separation instead when the
        step is a direction of recession."""
        if self.l2_penalty == 0 and _is_recession_direction(self.margins(self.step @ self.design)):
            # Along this direction no pixel's loss rises and some fall, for ever: the weights
            # have no finite optimum, whatever the decrement says once the losses underflow.
            self.outcome.note = SEPARATION_NOTE
        elif self.decrement_squared / 2 <= self.tolerance:
            self.outcome.converged = True
            return True
        return False

    def line_search(self):
        """Armijo backtracking along the step; False, with the note, where no fraction of it
        decreases the objective. The accepted trial's graph gives the next gradient without a new pass."""
        step_size = 1.0
        for _ in range(_MAX_HALVINGS):
            trial = self.evaluate(self.point.parameters.detach() + step_size * self.step)
            if float(trial.objective.detach()) <= (
                    self.outcome.objective - _ARMIJO_SLOPE * step_size * self.decrement_squared):
                self.point = trial
                return True
            step_size /= 2
        self.outcome.note = self.outcome.note or (
            "The line search found no decrease along the Newton step (rounding); the objective "
            f"is within about {self.decrement_squared / 2:.2g} of the optimum."
        )
        return False


def _design(features, device):
    """Bands × pixels with a row of ones for the bias: the Hessian is then one product per block
    of pixels (1.3× faster than pixels × bands with the bias's sums apart; 1 M × 4, one thread).
    numpy transposes into it 4× faster than torch (7 against 30 ms)."""
    import torch

    band_count = features.shape[1]
    design = np.empty((band_count + 1, len(features)))
    design[:band_count] = features.T
    design[band_count] = 1.0
    return torch.from_numpy(design).to(device)


def _bias_only_start(labels, band_count):
    """No weights and the log-odds of water as the bias: the optimum with no bands, a step saved."""
    start = np.zeros(band_count + 1)
    water_fraction = float(labels.mean())
    if 0 < water_fraction < 1:
        start[band_count] = math.log(water_fraction / (1 - water_fraction))
    return start


def _hessian(design, logits, l2_penalty):
    """(X̃ S X̃ᵀ)/n + λ on the weights' diagonal, X̃ the design (bands and ones × pixels), S = σ'(z).

    In blocks of pixels, so the weighted copy is (bands + 1) × HESSIAN_CHUNK_PIXELS whatever the count.
    """
    import torch

    size, pixels = design.shape
    hessian = torch.zeros(size, size, dtype=torch.float64, device=design.device)
    for start in range(0, pixels, HESSIAN_CHUNK_PIXELS):
        block = design[:, start:start + HESSIAN_CHUNK_PIXELS]
        # σ(z)(1 − σ(z)) = e^−|z| / (1 + e^−|z|)²: one exponential, no 1 − p cancellation.
        decay = torch.exp(-logits[start:start + HESSIAN_CHUNK_PIXELS].abs())
        curvature = decay / (1 + decay).square()
        hessian += (block * curvature) @ block.T
    hessian /= pixels
    hessian.diagonal()[:size - 1] += l2_penalty
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

    With λ = 0 on separable data there is no optimum, only an infimum at infinite weights; the
    gap is then measured against where Newton's method stopped, which understates it (it can
    even be negative).
    """
    _, _, exact = fit_logistic_regression(features, labels, l2_penalty, device=device)
    return objective_at(features, labels, l2_penalty, weight, bias) - exact.objective


def make_lbfgs(parameters, learning_rate, history_size=None):
    """A torch L-BFGS doing one iteration per step() with a working strong-Wolfe line search.

    torch's LBFGS gives its line search max_eval − 1 evaluations, and max_eval defaults to
    max_iter·5//4 = 1 for max_iter=1: no line search at all. max_eval=25 gives it 24, as many
    as torch's own default. Its inner gradient test is set below rounding so that
    lbfgs_converged decides when to stop. history_size: by default LBFGS_HISTORY, fewer where
    the parameters are so many that the history would pass LBFGS_HISTORY_BYTES.
    """
    import torch

    parameters = list(parameters)
    if history_size is None:
        count = sum(parameter.numel() for parameter in parameters)
        history_size = max(LBFGS_MIN_HISTORY, min(LBFGS_HISTORY, LBFGS_HISTORY_BYTES // (16 * count)))
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
    """The gradient rule for an L-BFGS fit: ‖∇f‖∞ ≤ tolerance · max(1, |f|)."""
    return gradient_inf_norm <= tolerance * max(1.0, abs(objective))


def lbfgs_step(optimizer, closure, tolerance=LBFGS_GRADIENT_TOLERANCE):
    """One step of a make_lbfgs optimizer, then the stopping rule at the point it reached.

    Returns (objective, gradient ∞-norm, stop, converged). converged: the gradient rule holds.
    stop: converged, or the step left every parameter where it was — the strong-Wolfe search
    found no lower objective at the tensors' precision. float32 gets there first: its
    gradient's floor measured 1e-7 to 1.4e-5 on a few thousand pixels, above the 1e-6 rule,
    with the objective by then within 5e-9 of the optimum. closure() is called once more at
    the new point (free with a closure that caches its last evaluation).
    """
    import torch

    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    before = [parameter.detach().clone() for parameter in parameters]
    optimizer.step(closure)
    objective = float(closure().detach())
    gradient = gradient_norm_of(parameters)
    converged = lbfgs_converged(gradient, objective, tolerance)
    moved = any(not torch.equal(old, parameter.detach()) for old, parameter in zip(before, parameters))
    return objective, gradient, converged or not moved, converged
