"""The water model: y = σ(Aᵀx + b) on standardized bands, fitted with torch.

"PyTorch is numpy with gradients": the binary cross-entropy of the training pixels is a
function of A and b, autograd gives ∂L/∂A and ∂L/∂b, and an optimiser steps downhill.
The default optimiser is full-batch L-BFGS, which reaches the maximum-likelihood solution
in tens of steps; plain gradient descent (SGD, learning rate η) and Adam are there too.
Logistic regression is one dense layer; HIDDEN_LAYERS stacks more (a multi-layer
perceptron with ReLU) without changing anything else.

The model file is JSON (see docs/MODEL_FORMAT.md): numbers and names only, so loading a
file a colleague sent can never run code, as unpickling can.
"""

import datetime
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .device import resolve_device
from .errors import Canceled, WaterLogRegError

MODEL_FORMAT = "water_logreg_plugin model"
FORMAT_VERSION = 2  # 1: logistic regression only ("weights", "bias"); 2: "layers"
MAX_MODEL_BYTES = 64 * 1024 * 1024
PICKLE_OR_TORCH_MAGIC = (b"\x80", b"PK\x03\x04")

OPTIMIZERS = ("lbfgs", "adam", "sgd")
DEFAULT_LEARNING_RATE = {"lbfgs": 1.0, "adam": 0.05, "sgd": 0.5}
DEFAULT_MAX_STEPS = 500
# L-BFGS stops when the loss changes by less than this (relative) for a few steps: that is
# the float32 resolution of a mean log-loss, i.e. the optimum as far as it can be seen.
CONVERGENCE_TOLERANCE = 1e-7
CONVERGENCE_PATIENCE = 3


@dataclass
class WaterModel:
    """Band numbers, standardization and dense layers (in standardized units)."""

    bands: list
    mean: np.ndarray
    std: np.ndarray
    layers: list  # [(weight (out, in), bias (out,)), ...]; the last has one output
    training: dict = field(default_factory=dict)

    @property
    def hidden_layers(self):
        return [weight.shape[0] for weight, _ in self.layers[:-1]]

    @property
    def kind(self):
        if not self.hidden_layers:
            return "logistic regression"
        return f"multi-layer perceptron (hidden layers {','.join(map(str, self.hidden_layers))})"

    def folded_layers(self):
        """The layers with standardization folded into the first: they take raw band values.

        (x − μ)/σ followed by W x + b equals (W/σ) x + (b − (W/σ) μ), so prediction does
        one multiply-add per band instead of three operations.
        """
        weight, bias = self.layers[0]
        folded_weight = weight / self.std[np.newaxis, :]
        folded_bias = bias - folded_weight @ self.mean
        return [(folded_weight, folded_bias)] + list(self.layers[1:])

    def coefficients_in_band_units(self):
        """For logistic regression: A and b in the raster's own units (None for an MLP)."""
        if self.hidden_layers:
            return None
        weight, bias = self.folded_layers()[0]
        return weight[0], float(bias[0])

    def predict_probability(self, values):
        """P(water) for (pixels, bands) values, in float64 numpy (for figures, not maps)."""
        hidden = np.asarray(values, dtype=np.float64).T
        for index, (weight, bias) in enumerate(self.folded_layers()):
            hidden = weight @ hidden + bias[:, np.newaxis]
            if index < len(self.layers) - 1:
                hidden = np.maximum(hidden, 0)
        return 1.0 / (1.0 + np.exp(-hidden[0]))


def parse_hidden_layers(text):
    """'16,16' → [16, 16]; '' → [] (logistic regression)."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        sizes = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        sizes = None
    if not sizes or any(size < 1 or size > 4096 for size in sizes):
        raise WaterLogRegError(
            f"HIDDEN_LAYERS '{text}' is not a list of layer sizes; give comma-separated whole "
            "numbers between 1 and 4096, e.g. '16,16', or leave it empty for logistic regression."
        )
    return sizes


def fit_water_model(
    values,
    labels,
    bands,
    hidden_layers=(),
    optimizer="lbfgs",
    learning_rate=None,
    max_steps=DEFAULT_MAX_STEPS,
    device="auto",
    seed=0,
    validation=None,
    l2_penalty=0.0,
    training_info=None,
    progress=lambda fraction: None,
    is_canceled=lambda: False,
    log=lambda message: None,
):
    """Fit the model by full-batch minimisation of the binary cross-entropy.

    values: (pixels, bands); labels: 1 water, 0 land; validation: optional (values, labels)
    whose loss is recorded at each step. Returns (WaterModel, history) where history holds
    the per-step training and validation losses (binary cross-entropy, the penalty left out).

    l2_penalty λ adds λ/2·Σw² over the weights (not the biases, in standardized units) to the
    mean cross-entropy. 0, the default, is maximum likelihood; where water and land separate
    perfectly that drives the weights without bound and P(water) becomes a 0/1 step, so a
    small λ (1e-3) keeps probabilities graded across shorelines. It equals scikit-learn's
    LogisticRegression(C=1/(λ·pixels)).
    """
    import torch

    optimizer = (optimizer or "lbfgs").lower()
    if optimizer not in OPTIMIZERS:
        raise WaterLogRegError(f"Unknown optimiser '{optimizer}'; choose one of {', '.join(OPTIMIZERS)}.")
    if max_steps < 1:
        raise WaterLogRegError("The number of optimiser steps must be at least 1.")
    learning_rate = learning_rate or DEFAULT_LEARNING_RATE[optimizer]
    if not learning_rate > 0:
        raise WaterLogRegError("The learning rate must be greater than 0.")
    if not (math.isfinite(l2_penalty) and l2_penalty >= 0):
        raise WaterLogRegError(f"The L2 penalty must be 0 or more, not {l2_penalty}.")
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    _check_training_data(values, labels, bands)

    mean, std = _standardization(values, bands, log)
    torch_device = resolve_device(device)
    log(f"Training a {'logistic regression' if not hidden_layers else 'multi-layer perceptron'} "
        f"on {torch_device.type.upper()} with {optimizer.upper()}, learning rate {learning_rate:g}.")

    generator = torch.Generator().manual_seed(int(seed))
    network = _build_network(len(bands), list(hidden_layers), generator).to(torch_device)
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
        if is_canceled():
            raise Canceled()
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
        progress((step + 1) / max_steps)
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
    for label, name in ((1, "water"), (0, "land")):
        if not np.any(labels == label):
            raise WaterLogRegError(
                f"The samples hold no {name} pixels; training needs both water (label 1) "
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


def _build_network(band_count, hidden_layers, generator):
    """Dense layers with ReLU between them; a plain logistic regression starts at zero."""
    import torch

    sizes = [band_count] + hidden_layers + [1]
    modules = []
    for index, (inputs, outputs) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(inputs, outputs, dtype=torch.float32)
        with torch.no_grad():
            if hidden_layers:
                # He initialisation, drawn from our own generator so seeded runs repeat.
                linear.weight.copy_(torch.randn(outputs, inputs, generator=generator) * math.sqrt(2.0 / inputs))
                linear.bias.zero_()
            else:
                linear.weight.zero_()
                linear.bias.zero_()
        modules.append(linear)
        if index < len(sizes) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


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


def save_model(model, path):
    """Write the model as JSON; floats are written exactly (shortest round-trip form)."""
    document = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "bands": [int(band) for band in model.bands],
        "standardization": {"mean": model.mean.tolist(), "std": model.std.tolist()},
        "activation": "relu",
        "layers": [{"weight": weight.tolist(), "bias": bias.tolist()} for weight, bias in model.layers],
        "training": model.training,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, allow_nan=False)
        handle.write("\n")


def load_model(path):
    """Read a model file, refusing anything that is not one, with the reason."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_MODEL_BYTES + 1)
    except OSError as error:
        raise WaterLogRegError(f"The model file '{path}' cannot be read ({error.strerror}).") from None
    if len(raw) > MAX_MODEL_BYTES:
        raise WaterLogRegError(
            f"'{path}' is larger than any model file ({MAX_MODEL_BYTES // 2**20} MB); it is not a model."
        )
    if raw.startswith(PICKLE_OR_TORCH_MAGIC):
        raise WaterLogRegError(
            f"'{path}' is a Python pickle or torch.save file, not a water model. Such files can "
            "run code when opened, so this plugin never opens them; train a model with the "
            "plugin to get a safe JSON model file."
        )
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WaterLogRegError(
            f"'{path}' is not a water model file (it is not complete JSON; it may be truncated "
            "or another kind of file)."
        ) from None
    try:
        return _model_from_document(document)
    except WaterLogRegError as error:
        reason = str(error)
        advice = "" if reason.endswith(".") else (
            "; choose a model file saved by 'Train water model' or 'Classify water'.")
        raise WaterLogRegError(f"'{path}' is not a usable water model: {reason}{advice}") from None


def _model_from_document(document):
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise WaterLogRegError("it lacks the model-format marker")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WaterLogRegError("its format version is missing or not a whole number")
    if version > FORMAT_VERSION:
        raise WaterLogRegError(
            f"it was written in model format version {version} by a newer water_logreg_plugin; "
            f"this one reads versions up to {FORMAT_VERSION}. Update the plugin."
        )
    bands = document.get("bands")
    if (not isinstance(bands, list) or not bands
            or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in bands)
            or len(set(bands)) != len(bands)):
        raise WaterLogRegError("its band list is missing or not distinct band numbers from 1")
    standardization = document.get("standardization")
    if not isinstance(standardization, dict):
        raise WaterLogRegError("its standardization is missing")
    mean = _float_array(standardization.get("mean"), (len(bands),), "mean")
    std = _float_array(standardization.get("std"), (len(bands),), "std")
    if not np.all(std > 0):
        raise WaterLogRegError("its standard deviations must be greater than 0")
    if version == 1:
        layer_documents = [{"weight": [document.get("weights")], "bias": [document.get("bias")]}]
    else:
        layer_documents = document.get("layers")
        if document.get("activation", "relu") != "relu":
            raise WaterLogRegError("its activation is not 'relu'")
    if not isinstance(layer_documents, list) or not layer_documents or len(layer_documents) > 64:
        raise WaterLogRegError("its layers are missing")
    layers = []
    inputs = len(bands)
    for index, layer in enumerate(layer_documents):
        if not isinstance(layer, dict):
            raise WaterLogRegError(f"layer {index + 1} is not a weight and bias")
        weight = _float_array(layer.get("weight"), None, f"layer {index + 1} weight", dims=2)
        outputs = weight.shape[0]
        if weight.shape[1] != inputs:
            raise WaterLogRegError(f"layer {index + 1} takes {weight.shape[1]} inputs, not {inputs}")
        bias = _float_array(layer.get("bias"), (outputs,), f"layer {index + 1} bias")
        layers.append((weight, bias))
        inputs = outputs
    if inputs != 1:
        raise WaterLogRegError("its last layer must have exactly one output")
    training = document.get("training", {})
    if not isinstance(training, dict):
        raise WaterLogRegError("its training metadata is not a mapping")
    return WaterModel(bands, mean, std, layers, training)


def _float_array(value, shape, name, dims=1):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise WaterLogRegError(f"its {name} is not a list of numbers") from None
    if array.ndim != dims or array.size == 0 or (shape is not None and array.shape != shape):
        raise WaterLogRegError(f"its {name} has the wrong shape")
    if not np.all(np.isfinite(array)):
        raise WaterLogRegError(f"its {name} holds a non-finite number")
    return array
