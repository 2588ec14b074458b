"""Fitting the water model with torch: the optimum of the mean cross-entropy + λ/2·‖A‖².

"PyTorch is numpy with gradients": the binary cross-entropy of the training pixels is a
function of A and b, and autograd gives its gradient. By default (optimizer "exact") a
logistic regression is fitted by Newton's method in float64 (core.learning.solver), which reaches the
optimum to rounding and stops on the Newton decrement; a multi-layer perceptron by L-BFGS with
a strong-Wolfe line search, stopping when the gradient is small. Plain gradient descent (SGD,
learning rate η) and Adam, the course's optimisers, run their steps and are told how far they
ended from the optimum. Every fit records whether it converged and its final gradient norm.
"""

import datetime
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..callbacks import QUIET
from ..device import resolve_device
from ..errors import WaterLogRegError
from ..learning.sampling import missing_class
from ..learning.solver import (
    LBFGS_GRADIENT_TOLERANCE,
    NEWTON_TOLERANCE,
    fit_logistic_regression,
    gradient_norm_of,
    lbfgs_converged,
    lbfgs_step,
    make_lbfgs,
    objective_at,
    one_thread_on_cpu,
)
from ..settings import DEFAULT_SETTINGS
from .network import WaterModel, build_network

NEWTON_RULE = f"Newton decrement²/2 ≤ {NEWTON_TOLERANCE:g}"
GRADIENT_RULE = f"‖∇f‖∞ ≤ {LBFGS_GRADIENT_TOLERANCE:g} · max(1, |f|)"
FIT_BLOCK_BYTES = 64 * 2**20
"""About the most the activations autograd keeps for one block of pixels take: an MLP's pass over
the samples goes block by block, accumulating the gradient, so its memory is bounded by this
whatever the pixel count (one layer of 256 units on 1 M pixels would keep 6 GB at once)."""

WIDE_LAYER = 64  # units; an MLP with a wider layer fits on all of torch's CPU threads
OPTIMIZER_NAMES = {"newton": "Newton's method", "lbfgs": "L-BFGS", "adam": "Adam", "sgd": "Gradient descent (SGD)"}


@dataclass
class _Fit:
    """What one of the fits below hands back: the layers and how the fit ended."""

    optimizer: str  # the method that ran: newton, lbfgs, adam or sgd
    layers: list
    history: dict
    steps: int
    converged: bool
    gradient_norm: float  # Euclidean norm of the objective's gradient over all parameters, at the end
    objective: float  # mean cross-entropy + λ/2·‖weights‖² at the end
    final_loss: float  # mean cross-entropy at the end
    stopping_rule: str
    device: str
    note: str = ""
    extra: dict = field(default_factory=dict)  # learning_rate, objective_gap: where they apply
    messages: list = field(default_factory=list)  # logged after the outcome


def fit_water_model(values, labels, bands, settings=DEFAULT_SETTINGS, callbacks=QUIET, validation=None,
                    training_info=None):
    """Fit the model: minimise the mean binary cross-entropy + λ/2·‖A‖² on standardized bands.

    values: (pixels, bands); labels: 1 water, 0 land; settings: a TrainingSettings (its
    validation_fraction and threshold are the workflow's); validation: optional (values, labels)
    whose loss is recorded along the fit. Returns (WaterModel, history): history holds the
    training and validation losses (binary cross-entropy, the penalty left out) at the start
    and after each step.

    settings.l2_penalty λ adds λ/2·Σw² over the weights (not the biases, in standardized units);
    it equals scikit-learn's LogisticRegression(C=1/(λ·pixels)). The default 1e-5 makes the
    optimum unique and finite (docs/FIT.md); 0 is maximum likelihood, which has no finite
    optimum where the polygons separate water from land: the fit then stops with converged
    False and says so. The model's training block records converged, gradient_norm,
    objective, note and stopping_rule (and objective_gap for SGD and Adam on logistic regression).
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    _check_training_data(values, labels, bands)

    mean, std, features, constant = _standardization(values, bands, callbacks.log)
    if validation is not None and len(validation[1]):
        validation = ((np.asarray(validation[0], dtype=np.float64) - mean) / std,
                      np.asarray(validation[1], dtype=np.float64))
    else:
        validation = None
    device = resolve_device(settings.device)

    started = time.perf_counter()
    if not settings.hidden_layers and settings.optimizer == "exact":
        fit = _newton_fit(features, labels, validation, settings, device, callbacks)
    else:
        # Narrow layers make small operations, where a busy core stalls torch's threads at
        # every barrier; wide ones are matrix products that threads share well.
        with one_thread_on_cpu(device, wanted=max(settings.hidden_layers, default=0) <= WIDE_LAYER):
            fit = _torch_fit(features, labels, validation, settings, device, callbacks)
    seconds = time.perf_counter() - started
    fit.layers[0][0][:, constant] = 0.0  # a constant band tells nothing; rounding may leave 1e-16
    _log_outcome(fit, seconds, callbacks.log)

    import torch

    training = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "water_pixels": int(np.count_nonzero(labels == 1)),
        "land_pixels": int(np.count_nonzero(labels == 0)),
        "final_loss": fit.final_loss,
        "steps": fit.steps,
        "optimizer": fit.optimizer,
        **fit.extra,
        "l2_penalty": float(settings.l2_penalty),
        "converged": bool(fit.converged),
        "gradient_norm": _finite_or_none(fit.gradient_norm),
        "objective": _finite_or_none(fit.objective),
        "stopping_rule": fit.stopping_rule,
        "note": fit.note,
        "seed": int(settings.seed),
        "device": fit.device,
        "seconds": seconds,
        "torch_version": torch.__version__,
    }
    training.update(training_info or {})
    return WaterModel(list(bands), mean, std, fit.layers, training), fit.history


def _newton_fit(features, labels, validation, settings, device, callbacks):
    """Logistic regression by Newton's method in float64 (core.learning.solver)."""
    if device.type == "mps":
        # MPS has no float64; the solver's work beyond one pass over the pixels is a (d+1)² system.
        callbacks.log("Newton's method runs on the CPU: MPS (the Apple GPU) computes no float64.")
        device = resolve_device("cpu")
    callbacks.log(f"Training a logistic regression on {device.type.upper()} by Newton's method (float64), "
                  f"L2 penalty λ = {settings.l2_penalty:g}.")
    # The solver's own summary line is replaced by _log_outcome's, which every optimiser shares.
    weight, bias, report = fit_logistic_regression(
        features, labels, settings.l2_penalty, device, replace(callbacks, log=lambda _text: None),
        max_iterations=settings.max_steps,
    )
    history = {"loss": list(report.loss_history), "validation_loss": []}
    if validation is not None:
        history["validation_loss"] = [objective_at(*validation, 0.0, point[:-1], point[-1])
                                      for point in report.parameter_history]
    fit = _Fit(
        optimizer="newton", layers=[(weight[np.newaxis, :].copy(), np.array([bias]))], history=history,
        steps=report.iterations, converged=report.converged, gradient_norm=report.gradient_norm,
        objective=report.objective, final_loss=report.loss_history[-1], stopping_rule=NEWTON_RULE,
        device=device.type, note=report.note,
    )
    if report.warm_start:
        # The steps and the loss curve are those on all pixels, from the subsample's optimum.
        fit.extra["warm_start"] = report.warm_start
        fit.messages.append(f"Newton's method started from the optimum of {report.warm_start}.")
    return fit


def _torch_fit(features, labels, validation, settings, device, callbacks):
    """An MLP by L-BFGS (optimizer "exact"), or either model by Adam or gradient descent."""
    import torch

    optimizer = "lbfgs" if settings.optimizer == "exact" else settings.optimizer
    learning_rate, l2_penalty, log = settings.step_size, settings.l2_penalty, callbacks.log
    # float64, so that the gradient can get as small as the stopping rule asks; MPS has none.
    dtype = torch.float32 if device.type == "mps" else torch.float64
    kind = "logistic regression" if not settings.hidden_layers else "multi-layer perceptron"
    log(f"Training a {kind} on {device.type.upper()} with {OPTIMIZER_NAMES[optimizer]}, learning rate "
        f"{learning_rate:g}, L2 penalty λ = {l2_penalty:g}"
        + (" (float32: MPS computes no float64)." if dtype == torch.float32 else "."))

    generator = torch.Generator().manual_seed(int(settings.seed))
    network = build_network(features.shape[1], list(settings.hidden_layers), generator).to(device, dtype)
    x = torch.as_tensor(features, dtype=dtype, device=device)
    y = torch.as_tensor(labels, dtype=dtype, device=device)
    if validation is not None:
        validation = (torch.as_tensor(validation[0], dtype=dtype, device=device),
                      torch.as_tensor(validation[1], dtype=dtype, device=device))
    summed_loss = torch.nn.BCEWithLogitsLoss(reduction="sum")
    # Each layer keeps its input and its output (and tanh's) for the backward pass.
    block = max(1024, FIT_BLOCK_BYTES // (3 * x.element_size() * (features.shape[1] + sum(settings.hidden_layers) + 1)))

    def mean_loss(inputs, targets, backward):
        """The mean cross-entropy, block by block; with backward, its gradient added to .grad."""
        total = 0.0
        for start in range(0, len(targets), block):
            part = summed_loss(network(inputs[start:start + block]).squeeze(1), targets[start:start + block])
            part = part / len(targets)
            if backward:
                part.backward()
            total = total + part.detach()
        return total

    parameters = list(network.parameters())
    weights = [module.weight for module in network if isinstance(module, torch.nn.Linear)]
    if optimizer == "lbfgs":
        step_optimizer = make_lbfgs(parameters, learning_rate)
    elif optimizer == "adam":
        step_optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    else:
        step_optimizer = torch.optim.SGD(parameters, lr=learning_rate)
    last = {}  # the latest evaluation: parameter values, objective, data loss, gradients

    def closure():
        # An L-BFGS step begins by evaluating where the previous step's line search ended, and
        # lbfgs_step evaluates it once more for its rule; that point was just evaluated, so its
        # objective and gradient are reused (a third fewer passes over the pixels, 1 M samples).
        if last and all(torch.equal(parameter, value) for parameter, value in zip(parameters, last["at"])):
            for parameter, gradient in zip(parameters, last["gradients"]):
                parameter.grad = gradient.clone()
            return last["objective"]
        step_optimizer.zero_grad()
        loss = mean_loss(x, y, backward=True)
        penalty = 0.5 * l2_penalty * sum(weight.square().sum() for weight in weights)
        penalty.backward()
        objective = loss + penalty.detach()
        last.update(at=[parameter.detach().clone() for parameter in parameters], objective=objective.detach(),
                    loss=float(loss.detach()), gradients=[parameter.grad.detach().clone() for parameter in parameters])
        return objective

    history = {"loss": [], "validation_loss": []}

    def record():
        """The data loss at the point last evaluated, and the held-out loss there."""
        history["loss"].append(last["loss"])
        if validation is not None:
            with torch.no_grad():
                held_out = mean_loss(*validation, backward=False)
            history["validation_loss"].append(float(held_out))

    def checked(objective, step):
        if not math.isfinite(objective):
            raise WaterLogRegError(
                f"Training diverged at step {step} (the loss became {objective}); "
                "lower the learning rate or use the Exact optimiser."
            )
        return objective

    closure()
    record()
    steps, stopped = 0, False
    for step in range(1, settings.max_steps + 1):
        callbacks.check_canceled()
        if optimizer == "lbfgs":
            objective, _, stopped, _ = lbfgs_step(step_optimizer, closure)
            checked(objective, step)
        else:
            checked(float(step_optimizer.step(closure)), step)
            closure()  # the new point, for the curve; the next step's closure() reuses it
        record()
        steps = step
        callbacks.progress(step / settings.max_steps)
        if stopped:
            break
    objective = float(checked(float(closure()), steps))
    gradient = gradient_norm_of(parameters)
    converged = lbfgs_converged(gradient, objective)
    callbacks.progress(1.0)

    layers = [
        (module.weight.detach().cpu().double().numpy(), module.bias.detach().cpu().double().numpy())
        for module in network if isinstance(module, torch.nn.Linear)
    ]
    fit = _Fit(
        optimizer=optimizer, layers=layers, history=history, steps=steps, converged=converged,
        gradient_norm=gradient_norm_of(parameters, order=2), objective=objective, final_loss=last["loss"],
        stopping_rule=GRADIENT_RULE, device=device.type, extra={"learning_rate": learning_rate},
    )
    if not converged:
        fit.note = _torch_note(optimizer, steps, settings.max_steps, stopped, gradient)
    if optimizer != "lbfgs" and not settings.hidden_layers:
        _add_objective_gap(fit, features, labels, l2_penalty, device, log)
    return fit


def _torch_note(optimizer, steps, max_steps, stopped, gradient):
    name = OPTIMIZER_NAMES[optimizer]
    if stopped:
        return (f"{name} stopped after {steps} steps: its line search found no lower objective at the "
                f"computer's precision, with the gradient (∞-norm {gradient:.3g}) still above the rule "
                f"{GRADIENT_RULE}.")
    advice = ("raise MAX_STEPS" if optimizer == "lbfgs"
              else "raise MAX_STEPS or the learning rate η, or choose the Exact optimiser")
    return (f"{name} ran its {max_steps} steps and the gradient (∞-norm {gradient:.3g}) is still above the "
            f"rule {GRADIENT_RULE}; {advice}.")


def _add_objective_gap(fit, features, labels, l2_penalty, device, log):
    """How far SGD or Adam ended above the exact optimum: what η and the steps bought."""
    weight, bias = fit.layers[0][0][0], float(fit.layers[0][1][0])
    _, _, exact = fit_logistic_regression(features, labels, l2_penalty, "cpu" if device.type == "mps" else device)
    gap = objective_at(features, labels, l2_penalty, weight, bias) - exact.objective
    fit.extra["objective_gap"] = _finite_or_none(gap)
    fit.messages.append(
        f"Objective gap to the exact optimum: {gap:.3g} (this fit {fit.objective:.10g}, Newton's method "
        f"{exact.objective:.10g}). More steps or a larger learning rate η shrink it; too large an η diverges.")
    if exact.note:
        fit.messages.append(
            f"The exact fit has no optimum either, so the gap is measured against where it stopped: {exact.note}")


def _log_outcome(fit, seconds, log):
    log(f"{OPTIMIZER_NAMES[fit.optimizer]} after {fit.steps} steps ({seconds:.2f} s): converged: "
        f"{'yes' if fit.converged else 'no'}; gradient norm {fit.gradient_norm:.3g}, objective "
        f"{fit.objective:.10g}, final training loss {fit.final_loss:.6f} (stopping rule: {fit.stopping_rule}).")
    if not fit.converged:
        log(f"Warning: the fit did not converge. {fit.note}")
    for message in fit.messages:
        log(message)


def _finite_or_none(number):
    """JSON has no NaN or infinity: a figure that is not finite is recorded as null."""
    return float(number) if math.isfinite(number) else None


def _check_training_data(values, labels, bands):
    if values.ndim != 2 or values.shape[1] != len(bands) or len(values) != len(labels):
        raise WaterLogRegError("The samples do not match the band list; sample the raster again.")
    if not np.all(np.isfinite(values)):
        raise WaterLogRegError(
            "Some samples hold empty, NaN or infinite band values; remove them or sample again."
        )
    missing = missing_class(labels)
    if missing:
        raise WaterLogRegError(
            f"The samples hold no {missing} pixels; training needs both water (label 1) "
            "and land (label 0)."
        )


def _standardization(values, bands, log):
    """Training mean and standard deviation, the standardized values, and which bands are constant.

    A band whose spread is within rounding of its mean (σ ≤ 1e-12·|mean|) is constant: it keeps
    σ = 1, its standardized values are exactly 0, and it gets no weight. The sums are matrix
    products, 3× faster than numpy's column reductions (1 M × 4, one thread).
    """
    count = len(values)
    mean = np.ones(count) @ values / count
    deviation = values - mean
    std = np.sqrt(np.einsum("ij,ij->j", deviation, deviation) / count)
    constant = ~(std > 1e-12 * np.abs(mean))
    for band, band_mean in zip(np.asarray(bands)[constant], mean[constant]):
        log(f"Warning: band {band} is constant ({band_mean:g}) over the samples; it cannot "
            "tell water from land and is ignored by the model.")
    std = np.where(constant, 1.0, std)
    deviation /= std
    deviation[:, constant] = 0.0
    return mean, std, deviation, constant
