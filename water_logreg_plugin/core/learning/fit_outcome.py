"""How one fit ended, whichever optimiser ran: what Newton's method (solver.py) and the torch fits
(model/training.py) return, and what a model file's "training" block records
(docs/MODEL_FORMAT.md). Below both, so that neither imports the other for it."""

import math
from dataclasses import dataclass, field

RECORDED = ("final_loss", "steps", "optimizer", "converged", "gradient_norm", "objective", "stopping_rule", "note",
            "device")
"""The keys every fit since convergence was recorded writes; a training block without them holds no FitOutcome."""


@dataclass
class FitOutcome:
    """How a fit ended. objective, gradient_norm and final_loss are at the returned parameters."""

    optimizer: str  # the method that ran: newton, lbfgs, adam or sgd
    steps: int
    converged: bool
    objective: float  # mean cross-entropy + λ/2·‖weights‖²
    gradient_norm: float  # Euclidean norm of the objective's gradient over all parameters
    final_loss: float  # mean cross-entropy, no penalty
    stopping_rule: str
    device: str  # where it ran: cpu, cuda or mps
    l2_penalty: float
    note: str = ""  # why it did not converge; empty when it did
    learning_rate: float | None = None  # L-BFGS, Adam and gradient descent
    warm_start: str = ""  # Newton: the subsample whose optimum the steps started from; empty: none
    objective_gap: float | None = None  # Adam and gradient descent on a logistic regression: above the optimum
    # The run around the fit, filled in by fit_water_model:
    created: str = ""  # ISO 8601, UTC
    water_pixels: int = 0
    land_pixels: int = 0
    seed: int = 0
    seconds: float = math.nan
    torch_version: str = ""
    # Newton's path, at the start and after each step; not recorded in the model file.
    objective_history: list = field(default_factory=list, repr=False)
    loss_history: list = field(default_factory=list, repr=False)
    parameter_history: list = field(default_factory=list, repr=False)  # (A, b) as arrays of d + 1

    def as_record(self):
        """The model file's training block (before the raster's description and the accuracy),
        in its order; JSON has no NaN or infinity, so a figure that is not finite is null."""
        record = {
            "created": self.created,
            "water_pixels": self.water_pixels,
            "land_pixels": self.land_pixels,
            "final_loss": self.final_loss,
            "steps": self.steps,
            "optimizer": self.optimizer,
        }
        if self.learning_rate is not None:
            record["learning_rate"] = self.learning_rate
        if self.warm_start:
            record["warm_start"] = self.warm_start
        if self.objective_gap is not None:
            record["objective_gap"] = finite_or_none(self.objective_gap)
        record.update(
            l2_penalty=float(self.l2_penalty),
            converged=bool(self.converged),
            gradient_norm=finite_or_none(self.gradient_norm),
            objective=finite_or_none(self.objective),
            stopping_rule=self.stopping_rule,
            note=self.note,
            seed=int(self.seed),
            device=self.device,
            seconds=self.seconds,
            torch_version=self.torch_version,
        )
        return record

    @classmethod
    def from_record(cls, record):
        """The FitOutcome a training block records, or None where it records none (a file from
        before convergence was recorded, or written by hand)."""
        if not all(key in record for key in RECORDED):
            return None
        return cls(
            optimizer=record["optimizer"], steps=record["steps"], converged=bool(record["converged"]),
            objective=_number_or_nan(record["objective"]), gradient_norm=_number_or_nan(record["gradient_norm"]),
            final_loss=record["final_loss"], stopping_rule=record["stopping_rule"], device=record["device"],
            l2_penalty=record.get("l2_penalty", math.nan), note=record["note"],
            learning_rate=record.get("learning_rate"), warm_start=record.get("warm_start", ""),
            objective_gap=_number_or_nan(record["objective_gap"]) if "objective_gap" in record else None,
            created=record.get("created", ""), water_pixels=record.get("water_pixels", 0),
            land_pixels=record.get("land_pixels", 0), seed=record.get("seed", 0),
            seconds=record.get("seconds", math.nan), torch_version=record.get("torch_version", ""),
        )


def finite_or_none(number):
    """JSON has no NaN or infinity: a figure that is not finite is recorded as null."""
    return float(number) if math.isfinite(number) else None


def _number_or_nan(value):
    return math.nan if value is None else value
