"""What a fit needs, as one value: defaults and checks in one place.

scikit-learn keeps an estimator's settings as its constructor's parameters and checks them
once; QGIS passes one QgsProcessingContext rather than its fields. TrainingSettings does the
same for the core: the algorithms build one from their parameters, and it travels whole from
workflow to the fit, so a setting added later changes this file and the code that uses it.
"""

import math
from dataclasses import dataclass

from .errors import WaterLogRegError

# "exact": Newton's method for logistic regression, L-BFGS with a line search for an MLP; both
# stop on a rule of the gradient (Newton: its decrement). "lbfgs" and "newton", earlier names, mean the same.
OPTIMIZERS = ("exact", "adam", "sgd")
OPTIMIZER_ALIASES = {"lbfgs": "exact", "newton": "exact"}
DEFAULT_LEARNING_RATE = {"exact": 1.0, "adam": 0.05, "sgd": 0.5}  # Newton's method takes none
DEFAULT_MAX_STEPS = 500  # Newton's method (it needs 15 at most), Adam and gradient descent
DEFAULT_MLP_MAX_STEPS = 10000  # L-BFGS on a multi-layer perceptron; measured: docs/FIT.md
DEFAULT_L2_PENALTY = 1e-5  # logistic regression; measured: docs/FIT.md, "The default L2_PENALTY"
DEFAULT_MLP_L2_PENALTY = 1e-3  # multi-layer perceptron; measured: docs/FIT.md, "The multi-layer perceptron"
MAX_LAYER_SIZE = 4096
MAX_LAYERS = 64  # hidden layers and the output layer: what a model file may hold


def default_l2_penalty(hidden_layers):
    """λ when none is given. An MLP's weights keep sharpening its boundary where the classes
    nearly separate: at the logistic regression's 1e-5 its fit needed thousands of L-BFGS steps
    to reach a small gradient, and its probabilities were further from the truth on synthetic
    shores (docs/FIT.md, "The multi-layer perceptron")."""
    return DEFAULT_MLP_L2_PENALTY if hidden_layers else DEFAULT_L2_PENALTY


def default_max_steps(optimizer, hidden_layers):
    """MAX_STEPS when none is given: L-BFGS on an MLP needed up to 2 000 steps to a small
    gradient on the tests' random datasets (docs/FIT.md); the others stop or run 500."""
    return DEFAULT_MLP_MAX_STEPS if hidden_layers and optimizer == "exact" else DEFAULT_MAX_STEPS


@dataclass(frozen=True)
class TrainingSettings:
    hidden_layers: tuple = ()  # () is logistic regression; (16, 16) a multi-layer perceptron
    optimizer: str = "exact"
    learning_rate: float = None  # None (or 0): the optimiser's DEFAULT_LEARNING_RATE
    max_steps: int = None  # None: the fit's default (default_max_steps)
    l2_penalty: float = None  # λ of λ/2·Σw²; 0 is maximum likelihood; None: the model's default
    validation_fraction: float = 0.2  # share of each class's polygons held out
    device: str = "auto"
    seed: int = 0
    threshold: float = 0.5  # P(water) from which a pixel counts as water in the figures

    def __post_init__(self):
        object.__setattr__(self, "hidden_layers", tuple(int(size) for size in self.hidden_layers or ()))
        optimizer = (self.optimizer or "exact").lower()
        object.__setattr__(self, "optimizer", OPTIMIZER_ALIASES.get(optimizer, optimizer))
        if self.l2_penalty is None:
            object.__setattr__(self, "l2_penalty", default_l2_penalty(self.hidden_layers))
        if self.max_steps is None:
            object.__setattr__(self, "max_steps", default_max_steps(self.optimizer, self.hidden_layers))
        if self.optimizer not in OPTIMIZERS:
            raise WaterLogRegError(f"Unknown optimiser '{self.optimizer}'; choose one of {', '.join(OPTIMIZERS)}.")
        if self.max_steps < 1:
            raise WaterLogRegError("The number of optimiser steps must be at least 1.")
        if not self.step_size > 0:
            raise WaterLogRegError("The learning rate must be greater than 0.")
        if not (math.isfinite(self.l2_penalty) and self.l2_penalty >= 0):
            raise WaterLogRegError(f"The L2 penalty must be 0 or more, not {self.l2_penalty}.")

    @property
    def step_size(self):
        """The learning rate the optimiser uses: the one given, else its default."""
        return self.learning_rate or DEFAULT_LEARNING_RATE[self.optimizer]

    def as_report(self):
        """The settings as the report's Settings table shows them, in the order asked."""
        return {
            "validation_fraction": self.validation_fraction, "hidden_layers": list(self.hidden_layers),
            "optimizer": self.optimizer, "learning_rate": self.learning_rate, "max_steps": self.max_steps,
            "l2_penalty": self.l2_penalty,
        }


DEFAULT_SETTINGS = TrainingSettings()



def parse_hidden_layers(text):
    """'16,16' → [16, 16]; '' → [] (logistic regression)."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        sizes = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        sizes = None
    if not sizes or any(size < 1 or size > MAX_LAYER_SIZE for size in sizes):
        raise WaterLogRegError(
            f"HIDDEN_LAYERS '{text}' is not a list of layer sizes; give comma-separated whole "
            f"numbers between 1 and {MAX_LAYER_SIZE}, e.g. '16,16', or leave it empty for logistic regression."
        )
    if len(sizes) >= MAX_LAYERS:  # the model file could not be read back
        raise WaterLogRegError(
            f"HIDDEN_LAYERS '{text}' asks for {len(sizes)} hidden layers; a model holds at most "
            f"{MAX_LAYERS - 1}, and two or three are plenty for water."
        )
    return sizes
