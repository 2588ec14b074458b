"""The forward pass maps made in torch before numpy computed them, and how far two float32
forward passes may lie apart, for the tests that hold numpy's to torch's."""

import numpy as np


def torch_logits(kernel, values):
    """The model's output before σ for (bands, N) values, as torch computed maps on the CPU:
    the kernel's folded layers in its dtype, torch.addmm and torch's own activation."""
    import torch

    activation = {"tanh": torch.tanh_, "relu": torch.relu_}[kernel.activation]
    with torch.no_grad():
        hidden = torch.from_numpy(np.ascontiguousarray(values, dtype=kernel.numpy_dtype))
        for index, (weight, bias) in enumerate(kernel.layers):
            hidden = torch.addmm(torch.from_numpy(bias), torch.from_numpy(weight), hidden)
            if index < len(kernel.layers) - 1:
                hidden = activation(hidden)
        return hidden[0].numpy()


def torch_probability(kernel, values):
    """P(water) (N,) float32 as torch computed maps: torch.sigmoid of torch_logits."""
    import torch

    return torch.sigmoid(torch.from_numpy(torch_logits(kernel, values))).numpy().astype(np.float32, copy=False)


def forward_error_bound(kernel, values):
    """A bound on |computed − exact| of the output before σ, for any forward pass of the kernel's
    layers in its dtype (any summation order, fused or not): its rounding error, not a guess.

    A dense layer computed in a float type of unit roundoff u is within γ(n + 1)·(|W||h| + |b|)
    of W h + b, γ(k) = k·u / (1 − k·u), n its inputs (Higham, Accuracy and Stability of Numerical
    Algorithms, §3.5); tanh and ReLU move an error no further (1-Lipschitz) and tanh rounds
    within 4 units in the last place of its output; an error on h grows by |W| in the next
    layer. Both passes take the same rounded weights and inputs, so only the arithmetic counts.
    """
    unit_roundoff = np.finfo(kernel.numpy_dtype).eps / 2
    hidden = np.asarray(values, dtype=kernel.numpy_dtype).astype(np.float64)
    error = np.zeros_like(hidden)
    for index, (weight, bias) in enumerate(kernel.layers):
        weight, bias = weight.astype(np.float64), bias.astype(np.float64)
        terms = np.abs(weight) @ (np.abs(hidden) + error) + np.abs(bias)
        fan_in = weight.shape[1] + 1
        gamma = fan_in * unit_roundoff / (1 - fan_in * unit_roundoff)
        error = np.abs(weight) @ error + gamma * terms
        hidden = weight @ hidden + bias
        if index < len(kernel.layers) - 1:
            hidden = np.tanh(hidden) if kernel.activation == "tanh" else np.maximum(hidden, 0)
            if kernel.activation == "tanh":
                error = error + 4 * unit_roundoff * (np.abs(hidden) + error)
    return error[0]


def assert_probability_as_torch_gives(probability, kernel, values):
    """P(water) (N,) equals torch's for (bands, N) values to float32 rounding: the logits lie
    within twice forward_error_bound (each pass within it of the exact one), σ' ≤ 1/4 carries
    that, each σ rounds within 2 units in the last place, and maps are float32 whatever the
    kernel's dtype. A tolerance a pixel, so np.testing.assert_array_less, not assert_allclose."""
    expected = torch_probability(kernel, values)
    bound = forward_error_bound(kernel, values)
    np.testing.assert_array_less(np.abs(probability - expected),
                                 4 * np.finfo(np.float32).eps * expected + bound / 2 + np.finfo(np.float32).tiny)
