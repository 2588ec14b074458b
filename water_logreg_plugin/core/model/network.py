"""The water model's maths: y = σ(Aᵀx + b) on standardized bands, or dense layers with tanh.

Logistic regression is one dense layer; HIDDEN_LAYERS stacks more (a multi-layer perceptron)
without changing anything else. Between the layers sits tanh, smooth everywhere, so the fit's
gradient rule can hold at its end; ReLU's kinks left most fits without a gradient to test
(docs/FIT.md, "The multi-layer perceptron"); model files from before, with ReLU, still
predict. WaterModel holds numpy arrays only, so predicting needs no torch (figures, reports,
and maps on the CPU: core.maps.predict); build_network makes the torch layers the fit trains.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..learning.fit_outcome import FitOutcome

ACTIVATIONS = {"tanh": np.tanh, "relu": lambda hidden: np.maximum(hidden, 0)}
"""The functions between dense layers, by the name a model file gives: new fits use tanh."""


@dataclass
class WaterModel:
    """Band numbers, standardization and dense layers (in standardized units)."""

    bands: list
    mean: np.ndarray
    std: np.ndarray
    layers: list  # [(weight (out, in), bias (out,)), ...]; the last has one output
    # The model file's training block: FitOutcome.as_record(), then where the samples came from,
    # the raster's description and the accuracy (docs/MODEL_FORMAT.md).
    training: dict = field(default_factory=dict)
    activation: str = "tanh"  # between the layers; a key of ACTIVATIONS

    @property
    def fit_outcome(self):
        """How the fit ended, as its training block records it; None where the block records no fit."""
        return FitOutcome.from_record(self.training)

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

    def decision_function(self, values):
        """The output before σ (Aᵀx + b for logistic regression) for (pixels, bands) values, in
        float64 numpy (for figures, not maps): P(water) = σ(it), 0 on the decision boundary."""
        hidden = np.asarray(values, dtype=np.float64).T
        activation = ACTIVATIONS[self.activation]
        for index, (weight, bias) in enumerate(self.folded_layers()):
            hidden = weight @ hidden + bias[:, np.newaxis]
            if index < len(self.layers) - 1:
                hidden = activation(hidden)
        return hidden[0]

    def predict_probability(self, values):
        """P(water) for (pixels, bands) values, in float64 numpy (for figures, not maps)."""
        # exp(-log(1 + e^-z)) = σ(z), without overflow for any finite z.
        return np.exp(-np.logaddexp(0.0, -self.decision_function(values)))


def build_network(band_count, hidden_layers, generator):
    """Dense layers with tanh between them; a plain logistic regression starts at zero."""
    import torch

    sizes = [band_count] + hidden_layers + [1]
    modules = []
    for index, (inputs, outputs) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(inputs, outputs, dtype=torch.float32)
        with torch.no_grad():
            if hidden_layers:
                # Glorot's initialisation for tanh (unit gain on each layer's inputs), drawn from
                # our own generator so seeded runs repeat.
                linear.weight.copy_(torch.randn(outputs, inputs, generator=generator)
                                    * math.sqrt(2.0 / (inputs + outputs)))
                linear.bias.zero_()
            else:
                linear.weight.zero_()
                linear.bias.zero_()
        modules.append(linear)
        if index < len(sizes) - 2:
            modules.append(torch.nn.Tanh())
    return torch.nn.Sequential(*modules)

