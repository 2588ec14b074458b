"""The exact fit of the logistic regression, and the checks other optimisers report against.

The objective is the mean binary cross-entropy plus λ/2·‖A‖² (the bias is not penalised):
scikit-learn's LogisticRegression(C=1/(λ·n)) objective divided by n. It is smooth and convex,
so Newton's method (IRLS) with a backtracking line search reaches its optimum to rounding in
a handful of steps (6 typical, 15 at most over the tests' 480 fits), and the Newton decrement
tells how far from it we still are.
"""

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from ..callbacks import QUIET
from ..errors import WaterLogRegError

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
    parameter_history: list = field(default_factory=list)  # the same points' (A, b) as arrays of d + 1
    warm_start: str = ""  # the subsample whose optimum the steps started from; empty: from no weights


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
    SEPARATION_NOTE instead of chasing weights to infinity. Above WARM_START_PIXELS pixels the
    steps start from the optimum of a subsample (FitReport.warm_start).
    """
    import torch

    features, labels = _checked_samples(features, labels, l2_penalty)
    device = torch.device(device)
    with one_thread_on_cpu(device):
        start, warm_start = _warm_start(features, labels, l2_penalty, device, callbacks, max_iterations, tolerance)
        rest = callbacks.part(0.1, 1) if warm_start else callbacks
        weight, bias, report = _newton(features, labels, l2_penalty, device, rest, max_iterations, tolerance, start)
    report.warm_start = warm_start
    return weight, bias, report


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
    weight, bias, report = _newton(features[chosen], labels[chosen], l2_penalty, device, quiet,
                                   max_iterations, tolerance, None)
    if not report.converged:
        return None, ""
    return (np.append(weight, bias),
            f"one pixel in {stride} of each class ({len(chosen)} pixels, {report.iterations} Newton steps)")


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


def _newton(features, labels, l2_penalty, device, callbacks, max_iterations, tolerance, start):
    import torch
    import torch.nn.functional as functional

    band_count = features.shape[1]
    design = _design(features, device)
    y = torch.as_tensor(labels, device=device)

    def evaluate(parameters):
        """(parameters as a leaf, logits, objective, data loss), with the graph kept for the gradient."""
        parameters = parameters.detach().requires_grad_()
        logits = parameters @ design
        # log(1 + eᶻ) − y·z. Above z = 40, log(1 + eᶻ) is z to within 4e-18; softplus's default
        # switch at 20 would cost 2e-9. Forward and backward measured 1.5× faster than with
        # logaddexp (1 M pixels), and 80× faster than binary_cross_entropy_with_logits on a
        # few thousand pixels when the cores are busy (its log-sigmoid starts threads).
        loss = functional.softplus(logits, threshold=40).mean() - y.dot(logits) / len(y)
        weight = parameters[:band_count]
        return parameters, logits, loss + 0.5 * l2_penalty * weight.dot(weight), loss

    def margins(logits):
        """sign · logit, + for a pixel on its own class's side of the plane."""
        return torch.where(y > 0, logits, -logits)

    if start is None:
        start = _bias_only_start(labels, band_count)
    start = torch.as_tensor(start, dtype=torch.float64, device=device)
    parameters, logits, objective, loss = evaluate(start)

    report = FitReport(converged=False, iterations=0, objective=math.nan, gradient_norm=math.nan)
    for iteration in range(max_iterations + 1):
        callbacks.check_canceled()
        (gradient,) = torch.autograd.grad(objective, parameters)
        logits = logits.detach()
        report.iterations = iteration
        report.objective = float(objective.detach())
        report.gradient_norm = float(gradient.norm())
        report.objective_history.append(report.objective)
        report.loss_history.append(float(loss.detach()))
        report.parameter_history.append(parameters.detach().cpu().numpy().copy())
        if not math.isfinite(report.objective):
            report.note = f"The objective became {report.objective} at Newton step {iteration}."
            break
        if report.note:
            break  # separation found at the previous step, which was taken so the weights point the right way
        if l2_penalty == 0 and bool(margins(logits).min() > 0):
            report.note = SEPARATION_NOTE
            break
        if iteration == max_iterations:
            report.note = (
                f"Newton's method did not converge in {max_iterations} steps "
                f"(gradient norm {report.gradient_norm:.3g})."
            )
            break

        step = -_pseudo_solve(_hessian(design, logits, l2_penalty), gradient)
        decrement_squared = float(-(gradient @ step))
        if l2_penalty == 0 and _is_recession_direction(margins(step @ design)):
            # Along this direction no pixel's loss rises and some fall, for ever: the weights
            # have no finite optimum, whatever the decrement says once the losses underflow.
            report.note = SEPARATION_NOTE
        elif decrement_squared / 2 <= tolerance:
            report.converged = True
            break

        # Armijo backtracking; the accepted trial's graph gives the next gradient without a new pass.
        step_size = 1.0
        for _ in range(_MAX_HALVINGS):
            trial = evaluate(parameters.detach() + step_size * step)
            if float(trial[2].detach()) <= report.objective - _ARMIJO_SLOPE * step_size * decrement_squared:
                parameters, logits, objective, loss = trial
                break
            step_size /= 2
        else:
            report.note = report.note or (
                "The line search found no decrease along the Newton step (rounding); the objective "
                f"is within about {decrement_squared / 2:.2g} of the optimum."
            )
            break
        callbacks.progress((iteration + 1) / max_iterations)

    callbacks.progress(1.0)
    callbacks.log(
        f"Newton's method {'converged' if report.converged else 'stopped'} after {report.iterations} "
        f"steps: objective {report.objective:.12g}, gradient norm {report.gradient_norm:.3g}."
        + (f" {report.note}" if report.note else "")
    )
    fitted = parameters.detach().cpu().numpy()
    return fitted[:band_count].copy(), float(fitted[band_count]), report


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
