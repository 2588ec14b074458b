"""A map on the CPU is computed in numpy, so a model file predicts without torch: its forward
pass equals torch's (the way maps were computed before) to the rounding of float32, on many
random models, and a map on the CPU never imports torch."""

import os
import subprocess
import sys

import numpy as np
import pytest
from support.torch_forward import assert_probability_as_torch_gives, forward_error_bound, torch_logits

from water_logreg_plugin.core.maps.predict import FLOAT32_SAFE_WEIGHT, ProbabilityKernel
from water_logreg_plugin.core.maps.water_share import sigmoid_
from water_logreg_plugin.core.model import WaterModel

MODELS = 200
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def random_model(rng):
    """A logistic regression or an MLP of random widths (tanh, or ReLU as older files have),
    with weights and standardization over many orders of magnitude; one in ten has weights
    past FLOAT32_SAFE_WEIGHT, which the kernel computes in float64."""
    band_count = int(rng.integers(1, 9))
    hidden = [] if rng.random() < 0.3 else list(rng.integers(1, 65, size=rng.integers(1, 4)))
    sizes = [band_count, *hidden, 1]
    weight_scale = 10.0 ** rng.uniform(-3, 3)
    if rng.random() < 0.1:
        weight_scale = FLOAT32_SAFE_WEIGHT * 10
    layers = [(rng.normal(0, weight_scale, (outputs, inputs)), rng.normal(0, weight_scale, outputs))
              for inputs, outputs in zip(sizes[:-1], sizes[1:])]
    mean = rng.normal(0, 10.0 ** rng.uniform(0, 4), band_count)
    std = 10.0 ** rng.uniform(-2, 4, band_count)
    return WaterModel(list(range(1, band_count + 1)), mean, std, layers, {}, str(rng.choice(["tanh", "relu"])))


def random_values(rng, model, pixels=500):
    """Band values around the model's training mean, and some far outside it, up to ±1e7."""
    near = model.mean[:, np.newaxis] + model.std[:, np.newaxis] * rng.normal(0, 3, (len(model.bands), pixels))
    far = rng.choice([-1, 1], (len(model.bands), pixels)) * 10.0 ** rng.uniform(-3, 7, (len(model.bands), pixels))
    return np.concatenate([near, far], axis=1).astype(np.float32)


@pytest.mark.parametrize("seed", range(MODELS))
def test_numpy_forward_pass_equals_torchs_to_float_rounding(seed):
    rng = np.random.default_rng(seed)
    model = random_model(rng)
    values = random_values(rng, model)
    kernel = ProbabilityKernel(model, "cpu")

    logit = kernel.logits(values)
    probability = kernel(values)

    reference = torch_logits(kernel, values)
    assert logit.dtype == reference.dtype == kernel.numpy_dtype
    # Each pass lies within the rounding bound of the exact result, so they lie within twice
    # it of each other (a tolerance a pixel: np.testing.assert_allclose takes one for all).
    bound = forward_error_bound(kernel, values)
    np.testing.assert_array_less(np.abs(logit - reference), 2 * bound + np.finfo(kernel.numpy_dtype).tiny)
    assert_probability_as_torch_gives(probability, kernel, values)
    assert probability.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_torchs_and_saturates_where_torchs_does(dtype):
    """σ to 4 units of roundoff (each within 2), and exactly 0 and 1 on the same logits, so a
    pixel the map called certain stays so (water_share.shifted_probability_)."""
    import torch

    logit = np.concatenate([np.linspace(-800, 800, 400_001), [np.inf, -np.inf, np.nan]]).astype(dtype)
    expected = torch.sigmoid(torch.from_numpy(logit)).numpy()

    probability = sigmoid_(logit.copy())

    np.testing.assert_allclose(probability, expected, rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)
    np.testing.assert_array_equal(probability == 0, expected == 0)
    np.testing.assert_array_equal(probability == 1, expected == 1)


def test_the_bound_catches_more_than_rounding():
    """A bound that let anything pass would make the test above empty: weights off by one part
    in 10⁴ (about 1700 float32 roundings) fall outside it on nearly every pixel."""
    rng = np.random.default_rng(0)
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [(rng.normal(size=(16, 3)), rng.normal(size=16)),
                                                           (rng.normal(size=(1, 16)), rng.normal(size=1))])
    values = rng.normal(size=(3, 1000)).astype(np.float32)
    kernel = ProbabilityKernel(model, "cpu")
    bound = forward_error_bound(kernel, values)
    logit = kernel.logits(values)

    kernel.layers = [(weight * np.float32(1 + 1e-4), bias) for weight, bias in kernel.layers]

    assert np.mean(np.abs(kernel.logits(values) - logit) > 2 * bound) > 0.9


KERNEL_SCRIPT = """
import sys
import numpy as np
from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.maps.predict import ProbabilityKernel
from water_logreg_plugin.core.model import WaterModel
model = WaterModel([1], np.zeros(1), np.ones(1), [(np.ones((4, 1)), np.zeros(4)), (np.ones((1, 4)), np.zeros(1))])
kernel = ProbabilityKernel(model, sys.argv[1])
print(kernel.device, kernel(np.zeros((1, 3), np.float32)).tolist())
print("torch" in sys.modules and sys.modules["torch"] is not None)
try:
    ProbabilityKernel(model, "cuda")
except WaterLogRegError as error:
    print(error)
"""


@pytest.mark.parametrize("blocked, device", [(False, "cpu"), (True, "auto")])
def test_a_map_on_the_cpu_never_imports_torch(blocked, device):
    """DEVICE CPU computes without importing torch (seconds saved); where torch is missing
    Auto is the CPU, and a GPU is refused with the reason."""
    script = ("import sys; sys.modules['torch'] = None\n" if blocked else "") + KERNEL_SCRIPT
    run = subprocess.run([sys.executable, "-c", script, device], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == ["cpu [0.5, 0.5, 0.5]", "False"]
    if blocked:
        assert lines[2] == ("CUDA was asked for, but PyTorch (the Python package 'torch') is not installed, and a map "
                            "reaches the GPU only through it. Choose Auto or CPU (a map on the CPU needs no torch), "
                            "or install torch.")
