"""Fitting the water model with torch: full-batch minimisation of the binary cross-entropy.

"PyTorch is numpy with gradients": the binary cross-entropy of the training pixels is a
function of A and b, autograd gives ∂L/∂A and ∂L/∂b, and an optimiser steps downhill.
The default optimiser is full-batch L-BFGS, which reaches the maximum-likelihood solution
in tens of steps; plain gradient descent (SGD, learning rate η) and Adam are there too.
"""

import datetime
import math
import time

import numpy as np

from ..callbacks import QUIET
from ..device import resolve_device
from ..errors import WaterLogRegError
from ..sampling import missing_class
from ..settings import DEFAULT_SETTINGS
from .network import WaterModel, build_network

# L-BFGS stops when the loss changes by less than this (relative) for a few steps: that is
# the float32 resolution of a mean log-loss, i.e. the optimum as far as it can be seen.
CONVERGENCE_TOLERANCE = 1e-7
CONVERGENCE_PATIENCE = 3


def fit_water_model(values, labels, bands, settings=DEFAULT_SETTINGS, callbacks=QUIET, validation=None,
                    training_info=None):
    """Fit the model by full-batch minimisation of the binary cross-entropy.

    values: (pixels, bands); labels: 1 water, 0 land; settings: a TrainingSettings (its
    validation_fraction and threshold are the workflow's); validation: optional (values, labels)
    whose loss is recorded at each step. Returns (WaterModel, history) where history holds
    the per-step training and validation losses (binary cross-entropy, the penalty left out).

    settings.l2_penalty λ adds λ/2·Σw² over the weights (not the biases, in standardized units) to the
    mean cross-entropy. 0, the default, is maximum likelihood; where water and land separate
    perfectly that drives the weights without bound and P(water) becomes a 0/1 step, so a
    small λ (1e-3) keeps probabilities graded across shorelines. It equals scikit-learn's
    LogisticRegression(C=1/(λ·pixels)).
    """
    import torch

    optimizer, learning_rate, l2_penalty = settings.optimizer, settings.step_size, settings.l2_penalty
    hidden_layers, max_steps, seed, log = settings.hidden_layers, settings.max_steps, settings.seed, callbacks.log
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    _check_training_data(values, labels, bands)

    mean, std = _standardization(values, bands, log)
    torch_device = resolve_device(settings.device)
    log(f"Training a {'logistic regression' if not hidden_layers else 'multi-layer perceptron'} "
        f"on {torch_device.type.upper()} with {optimizer.upper()}, learning rate {learning_rate:g}.")

    generator = torch.Generator().manual_seed(int(seed))
    network = build_network(len(bands), list(hidden_layers), generator).to(torch_device)
    features = torch.as_tensor((values - mean) / std, dtype=torch.float32, device=torch_device)
    targets = torch.as_tensor(labels, dtype=torch.float32, device=torch_device)
    if validation is not None and len(validation[1]):
        validation_features = torch.as_tensor(
            (np.asarray(validation[0], dtype=np.float64) - mean) / std,
            dtype=torch.float32, device=torch_device,
        )
        validation_targets = torch.as_tensor(validation[1], dtype=torch.float32, device=torch_device)
    else:
        validation_features = None
    loss_function = torch.nn.BCEWithLogitsLoss()
    step_optimizer = _make_optimizer(optimizer, network.parameters(), learning_rate)

    weights = [module.weight for module in network if isinstance(module, torch.nn.Linear)]
    parameters = list(network.parameters())
    last = {}  # L-BFGS's latest evaluation: parameter values, loss, gradients

    def penalty():
        return 0.5 * l2_penalty * sum(weight.square().sum() for weight in weights)

    def closure():
        # An L-BFGS step (one iteration) begins by evaluating where the previous step's line
        # search ended; that point was just evaluated, so its loss and gradient are reused
        # (a third fewer passes over the pixels, measured on 1 M samples).
        if last and all(torch.equal(parameter, value) for parameter, value in zip(parameters, last["at"])):
            for parameter, gradient in zip(parameters, last["gradients"]):
                parameter.grad = gradient.clone()
            return last["loss"]
        step_optimizer.zero_grad()
        loss = loss_function(network(features).squeeze(1), targets)
        if l2_penalty:
            loss = loss + penalty()
        loss.backward()
        if optimizer == "lbfgs":
            last.update(at=[parameter.detach().clone() for parameter in parameters], loss=loss.detach(),
                        gradients=[parameter.grad.detach().clone() for parameter in parameters])
        return loss

    def cross_entropy(inputs, outputs):
        with torch.no_grad():
            return float(loss_function(network(inputs).squeeze(1), outputs))

    history = {"loss": [], "validation_loss": []}
    objectives = []  # what the optimiser minimises: the cross-entropy plus the penalty
    started = time.perf_counter()
    quiet_steps = 0
    for step in range(max_steps):
        callbacks.check_canceled()
        # step() returns the objective where the step began; the curves show the data's
        # cross-entropy there, so the penalty at that point is taken off and the validation
        # loss is taken before the step too.
        with torch.no_grad():
            start_penalty = float(penalty()) if l2_penalty else 0.0
        if validation_features is not None:
            history["validation_loss"].append(cross_entropy(validation_features, validation_targets))
        objective = step_optimizer.step(closure).item()
        loss = objective - start_penalty
        if not math.isfinite(objective):
            raise WaterLogRegError(
                f"Training diverged at step {step + 1} (the loss became {objective}); "
                "lower the learning rate or use the L-BFGS optimiser."
            )
        history["loss"].append(loss)
        objectives.append(objective)
        callbacks.progress((step + 1) / max_steps)
        if optimizer == "lbfgs" and step > 0:
            change = abs(objectives[-2] - objective)
            quiet_steps = quiet_steps + 1 if change <= CONVERGENCE_TOLERANCE * max(objective, 1e-12) else 0
            if quiet_steps >= CONVERGENCE_PATIENCE:
                break
    final_loss = cross_entropy(features, targets)
    seconds = time.perf_counter() - started
    log(f"Final training loss {final_loss:.6f} after {len(history['loss'])} steps ({seconds:.2f} s).")

    layers = [
        (module.weight.detach().cpu().double().numpy(), module.bias.detach().cpu().double().numpy())
        for module in network if isinstance(module, torch.nn.Linear)
    ]
    training = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "water_pixels": int(np.count_nonzero(labels == 1)),
        "land_pixels": int(np.count_nonzero(labels == 0)),
        "final_loss": final_loss,
        "steps": len(history["loss"]),
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "l2_penalty": float(l2_penalty),
        "seed": int(seed),
        "device": torch_device.type,
        "seconds": seconds,
        "torch_version": torch.__version__,
    }
    training.update(training_info or {})
    return WaterModel(list(bands), mean, std, layers, training), history


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
    """Training mean and standard deviation; a constant band keeps σ = 1 and gets no weight."""
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    for band, band_mean, band_std in zip(bands, mean, std):
        if not band_std > 0:
            log(f"Warning: band {band} is constant ({band_mean:g}) over the samples; it cannot "
                "tell water from land and is ignored by the model.")
    return mean, np.where(std > 0, std, 1.0)


def _make_optimizer(name, parameters, learning_rate):
    import torch

    if name == "lbfgs":
        # One L-BFGS iteration per step() so every step can be canceled and logged.
        return torch.optim.LBFGS(
            parameters, lr=learning_rate, max_iter=1, history_size=20,
            line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=1e-14,
        )
    if name == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate)
    return torch.optim.SGD(parameters, lr=learning_rate)
