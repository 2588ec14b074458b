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
from dataclasses import replace

import numpy as np

from ..callbacks import QUIET
from ..device import resolve_device
from ..errors import WaterLogRegError
from ..learning.fit_outcome import FitOutcome
from ..learning.sampling import missing_class
from ..learning.solver import (
    LBFGS_GRADIENT_TOLERANCE,
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

GRADIENT_RULE = f"‖∇f‖∞ ≤ {LBFGS_GRADIENT_TOLERANCE:g} · max(1, |f|)"
FIT_BLOCK_BYTES = 64 * 2**20
"""About the most the activations autograd keeps for one block of pixels take: an MLP's pass over
the samples goes block by block, accumulating the gradient, so its memory is bounded by this
whatever the pixel count (one layer of 256 units on 1 M pixels would keep 6 GB at once)."""

WIDE_LAYER = 64  # units; an MLP with a wider layer fits on all of torch's CPU threads
OPTIMIZER_NAMES = {"newton": "Newton's method", "lbfgs": "L-BFGS", "adam": "Adam", "sgd": "Gradient descent (SGD)"}


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
    False and says so. The model's training block is the FitOutcome's record (converged,
    gradient_norm, objective, note, stopping_rule, and objective_gap for SGD and Adam on
    logistic regression) followed by training_info.
    """
    import torch

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
    layers, history, outcome = _fit(features, labels, validation, settings, device, callbacks)
    gap_lines = []
    if outcome.optimizer in ("adam", "sgd") and not settings.hidden_layers:
        gap_lines = _measure_objective_gap(outcome, layers, features, labels, settings.l2_penalty, device)
    seconds = time.perf_counter() - started
    layers[0][0][:, constant] = 0.0  # a constant band tells nothing; rounding may leave 1e-16
    _log_outcome(outcome, seconds, callbacks.log)
    for line in gap_lines:
        callbacks.log(line)

    outcome = replace(
        outcome, created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        water_pixels=int(np.count_nonzero(labels == 1)), land_pixels=int(np.count_nonzero(labels == 0)),
        seed=int(settings.seed), seconds=seconds, torch_version=torch.__version__,
    )
    training = {**outcome.as_record(), **(training_info or {})}
    return WaterModel(list(bands), mean, std, layers, training), history


def _fit(features, labels, validation, settings, device, callbacks):
    """(layers, history, FitOutcome) of the fit settings.optimizer and settings.hidden_layers ask for."""
    if not settings.hidden_layers and settings.optimizer == "exact":
        return _newton_fit(features, labels, validation, settings, device, callbacks)
    # Narrow layers make small operations, where a busy core stalls torch's threads at
    # every barrier; wide ones are matrix products that threads share well.
    with one_thread_on_cpu(device, wanted=max(settings.hidden_layers, default=0) <= WIDE_LAYER):
        return _torch_fit(features, labels, validation, settings, device, callbacks)


def _newton_fit(features, labels, validation, settings, device, callbacks):
    """Logistic regression by Newton's method in float64 (core.learning.solver)."""
    if device.type == "mps":
        # MPS has no float64; the solver's work beyond one pass over the pixels is a (d+1)² system.
        callbacks.log("Newton's method runs on the CPU: MPS (the Apple GPU) computes no float64.")
        device = resolve_device("cpu")
    callbacks.log(f"Training a logistic regression on {device.type.upper()} by Newton's method (float64), "
                  f"L2 penalty λ = {settings.l2_penalty:g}.")
    # The solver's own summary line is replaced by _log_outcome's, which every optimiser shares.
    weight, bias, outcome = fit_logistic_regression(
        features, labels, settings.l2_penalty, device, replace(callbacks, log=lambda _text: None),
        max_iterations=settings.max_steps,
    )
    history = {"loss": list(outcome.loss_history), "validation_loss": []}
    if validation is not None:
        history["validation_loss"] = [objective_at(*validation, 0.0, point[:-1], point[-1])
                                      for point in outcome.parameter_history]
    return [(weight[np.newaxis, :].copy(), np.array([bias]))], history, outcome


def _torch_fit(features, labels, validation, settings, device, callbacks):
    """An MLP by L-BFGS (optimizer "exact"), or either model by Adam or gradient descent."""
    import torch

    optimizer = "lbfgs" if settings.optimizer == "exact" else settings.optimizer
    # float64, so that the gradient can get as small as the stopping rule asks; MPS has none.
    dtype = torch.float32 if device.type == "mps" else torch.float64
    kind = "logistic regression" if not settings.hidden_layers else "multi-layer perceptron"
    callbacks.log(
        f"Training a {kind} on {device.type.upper()} with {OPTIMIZER_NAMES[optimizer]}, learning rate "
        f"{settings.step_size:g}, L2 penalty λ = {settings.l2_penalty:g}"
        + (" (float32: MPS computes no float64)." if dtype == torch.float32 else "."))

    generator = torch.Generator().manual_seed(int(settings.seed))
    network = build_network(features.shape[1], list(settings.hidden_layers), generator).to(device, dtype)
    objective = _Objective(network, features, labels, settings.l2_penalty, dtype, device)
    if validation is not None:
        validation = tuple(torch.as_tensor(array, dtype=dtype, device=device) for array in validation)
    step_optimizer = _step_optimizer(optimizer, objective.parameters, settings.step_size)
    history = {"loss": [], "validation_loss": []}
    steps, stopped = _run_steps(optimizer, step_optimizer, objective, validation, history, settings.max_steps,
                                callbacks)
    final = _checked(float(objective()), steps)
    gradient = gradient_norm_of(objective.parameters)
    converged = lbfgs_converged(gradient, final)
    callbacks.progress(1.0)

    layers = [
        (module.weight.detach().cpu().double().numpy(), module.bias.detach().cpu().double().numpy())
        for module in network if isinstance(module, torch.nn.Linear)
    ]
    outcome = FitOutcome(
        optimizer=optimizer, steps=steps, converged=converged,
        objective=final, gradient_norm=gradient_norm_of(objective.parameters, order=2),
        final_loss=objective.last_loss, stopping_rule=GRADIENT_RULE, device=device.type,
        l2_penalty=float(settings.l2_penalty), learning_rate=settings.step_size,
    )
    if not converged:
        outcome.note = _torch_note(optimizer, steps, settings.max_steps, stopped, gradient)
    return layers, history, outcome


class _Objective:
    """The mean cross-entropy + λ/2·‖weights‖² of a network over the samples, as the closure
    torch's optimisers call: block by block, the gradient added to .grad, the last
    evaluation remembered."""

    def __init__(self, network, features, labels, l2_penalty, dtype, device):
        import torch

        self.network, self.l2_penalty = network, l2_penalty
        self.x = torch.as_tensor(features, dtype=dtype, device=device)
        self.y = torch.as_tensor(labels, dtype=dtype, device=device)
        self.summed_loss = torch.nn.BCEWithLogitsLoss(reduction="sum")
        linear = [module for module in network if isinstance(module, torch.nn.Linear)]
        # Each layer keeps its input and its output (and tanh's) for the backward pass.
        width = sum(module.in_features for module in linear) + 1
        self.block = max(1024, FIT_BLOCK_BYTES // (3 * self.x.element_size() * width))
        self.parameters = list(network.parameters())
        self.weights = [module.weight for module in linear]
        self.last_at = None  # the parameter values last evaluated, and there:
        self.last_objective = self.last_loss = self.last_gradients = None

    def mean_loss(self, inputs, targets, backward):
        """The mean cross-entropy, block by block; with backward, its gradient added to .grad."""
        total = 0.0
        for start in range(0, len(targets), self.block):
            part = self.summed_loss(self.network(inputs[start:start + self.block]).squeeze(1),
                                    targets[start:start + self.block])
            part = part / len(targets)
            if backward:
                part.backward()
            total = total + part.detach()
        return total

    def held_out_loss(self, inputs, targets):
        import torch

        with torch.no_grad():
            return float(self.mean_loss(inputs, targets, backward=False))

    def __call__(self):
        import torch

        # An L-BFGS step begins by evaluating where the previous step's line search ended, and
        # lbfgs_step evaluates it once more for its rule; that point was just evaluated, so its
        # objective and gradient are reused (a third fewer passes over the pixels, 1 M samples).
        if self.last_at is not None and all(
                torch.equal(parameter, value) for parameter, value in zip(self.parameters, self.last_at)):
            for parameter, gradient in zip(self.parameters, self.last_gradients):
                parameter.grad = gradient.clone()
            return self.last_objective
        for parameter in self.parameters:
            parameter.grad = None  # what the optimiser's zero_grad() does
        loss = self.mean_loss(self.x, self.y, backward=True)
        penalty = 0.5 * self.l2_penalty * sum(weight.square().sum() for weight in self.weights)
        penalty.backward()
        objective = loss + penalty.detach()
        self.last_at = [parameter.detach().clone() for parameter in self.parameters]
        self.last_objective, self.last_loss = objective.detach(), float(loss.detach())
        self.last_gradients = [parameter.grad.detach().clone() for parameter in self.parameters]
        return objective


def _step_optimizer(optimizer, parameters, learning_rate):
    import torch

    if optimizer == "lbfgs":
        return make_lbfgs(parameters, learning_rate)
    if optimizer == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate)
    return torch.optim.SGD(parameters, lr=learning_rate)


def _run_steps(optimizer, step_optimizer, objective, validation, history, max_steps, callbacks):
    """Up to max_steps steps, the losses at the start and after each added to `history`;
    returns (steps taken, whether L-BFGS stopped on its own)."""
    objective()
    _record_losses(objective, validation, history)
    steps, stopped = 0, False
    for step in range(1, max_steps + 1):
        callbacks.check_canceled()
        if optimizer == "lbfgs":
            value, _, stopped, _ = lbfgs_step(step_optimizer, objective)
            _checked(value, step)
        else:
            _checked(float(step_optimizer.step(objective)), step)
            objective()  # the new point, for the curve; the next step's call reuses it
        _record_losses(objective, validation, history)
        steps = step
        callbacks.progress(step / max_steps)
        if stopped:
            break
    return steps, stopped


def _record_losses(objective, validation, history):
    """The data loss at the point last evaluated, and the held-out loss there."""
    history["loss"].append(objective.last_loss)
    if validation is not None:
        history["validation_loss"].append(objective.held_out_loss(*validation))


def _checked(objective, step):
    if not math.isfinite(objective):
        raise WaterLogRegError(
            f"Training diverged at step {step} (the loss became {objective}); "
            "lower the learning rate or use the Exact optimiser."
        )
    return objective


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


def _measure_objective_gap(outcome, layers, features, labels, l2_penalty, device):
    """How far SGD or Adam ended above the exact optimum: what η and the steps bought. Sets
    outcome.objective_gap; returns the lines for the log."""
    weight, bias = layers[0][0][0], float(layers[0][1][0])
    _, _, exact = fit_logistic_regression(features, labels, l2_penalty, "cpu" if device.type == "mps" else device)
    outcome.objective_gap = objective_at(features, labels, l2_penalty, weight, bias) - exact.objective
    lines = [
        f"Objective gap to the exact optimum: {outcome.objective_gap:.3g} (this fit {outcome.objective:.10g}, "
        f"Newton's method {exact.objective:.10g}). More steps or a larger learning rate η shrink it; too large "
        "an η diverges."]
    if exact.note:
        lines.append(
            f"The exact fit has no optimum either, so the gap is measured against where it stopped: {exact.note}")
    return lines


def _log_outcome(outcome, seconds, log):
    log(f"{OPTIMIZER_NAMES[outcome.optimizer]} after {outcome.steps} steps ({seconds:.2f} s): converged: "
        f"{'yes' if outcome.converged else 'no'}; gradient norm {outcome.gradient_norm:.3g}, objective "
        f"{outcome.objective:.10g}, final training loss {outcome.final_loss:.6f} "
        f"(stopping rule: {outcome.stopping_rule}).")
    if not outcome.converged:
        log(f"Warning: the fit did not converge. {outcome.note}")
    if outcome.warm_start:
        # The steps and the loss curve are those on all pixels, from the subsample's optimum.
        log(f"Newton's method started from the optimum of {outcome.warm_start}.")


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
