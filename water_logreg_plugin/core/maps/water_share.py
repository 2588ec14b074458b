"""P(water) for the scene, not for the drawing: the scene's share of water and the map adjusted to it.

A model's P(water) is a posterior under the share of water in its *training* pixels, which is
whatever the user drew (60 % water in the demo, on a scene about 8 % water), so every
ambiguous pixel leans towards the drawn share. With the scene's share π_s and the training
share π_t, Bayes' rule gives the posterior for the scene by a shift of the logit:

    logit P' = logit P + logit π_s − logit π_t

π_s is estimated from the model's own outputs on the scene by the EM procedure of Saerens,
Latinne & Decaestecker (Neural Computation 14(1), 2002): adjust the posteriors to a guess of
the share, take their mean as the next guess, until the guess stops moving.

The estimate runs on SceneSample: a seeded grid of rows and columns chosen from the scene's
size alone, so it is the same whatever the windows (in process, on Dask) and holds at most
MAX_SAMPLE_PIXELS values, however large the scene.
"""

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

# A share estimated from a million pixels cannot be told from 0 below one in a million: the
# estimate stays within [SHARE_LIMIT, 1 − SHARE_LIMIT], so its logit is finite.
SHARE_LIMIT = 1e-6
MAX_SAMPLE_PIXELS = 1_000_000
EM_TOLERANCE = 1e-6
EM_MAX_ITERATIONS = 1000
# Pixels adjusted at a time: float64 copies of this many values stay in the CPU's cache.
ADJUST_CHUNK_PIXELS = 1 << 16


# What a map's P(water) is for: WATER_PRIOR's choices.
FROM_SCENE, AS_TRAINED, GIVEN_SHARE = "scene", "training", "given"
PRIOR_CHOICES = (FROM_SCENE, AS_TRAINED, GIVEN_SHARE)


@dataclass(frozen=True)
class WaterPrior:
    """The share of water a map's P(water) is for: the scene's, estimated by EM (the default),
    the training pixels' (the model as it is), or a given share (0 < share < 1)."""

    choice: str = FROM_SCENE
    share: Optional[float] = None  # GIVEN_SHARE only
    seed: int = 0  # of the scene sample

    def __post_init__(self):
        if self.choice not in PRIOR_CHOICES:
            raise ValueError(f"The water prior must be one of {', '.join(PRIOR_CHOICES)}, not {self.choice!r}.")
        if self.choice == GIVEN_SHARE:
            check_share(self.share, "given share of water")

    @property
    def needs_scene(self):
        """True when the share comes from the scene, so the map takes two passes."""
        return self.choice == FROM_SCENE


@dataclass(frozen=True)
class WaterShareEstimate:
    """The scene's share of water by EM, from `pixels` sampled valid pixels."""

    share: float
    iterations: int
    converged: bool
    pixels: int


@dataclass(frozen=True)
class SceneShare:
    """What the map was adjusted to and why: the shares, the EM estimate (FROM_SCENE), the logit
    shift the map's P(water) carries (0: as the model gives it) and the log's sentences."""

    training_share: Optional[float]
    scene_share: Optional[float]
    estimate: Optional[WaterShareEstimate]
    shift: float
    messages: tuple
    # P(water) of the scene sample as the model gives it (FROM_SCENE), for the report's histogram.
    sample_probability: Optional[np.ndarray] = field(default=None, compare=False, repr=False)


def training_water_share(training):
    """The share of water in a model's training pixels, from its `training` metadata; None
    where the file records neither `water_share` nor `water_pixels` and `land_pixels`."""
    recorded = training.get("water_share")
    if _is_share(recorded):
        return float(recorded)
    water, land = training.get("water_pixels"), training.get("land_pixels")
    if not all(isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in (water, land)):
        return None
    if not water or not land:
        return None
    return water / (water + land)


def decide_scene_share(prior, training_share, sample_probability=None):
    """The SceneShare of a map: `training_share` from training_water_share (None where the model
    file records none), `sample_probability` P(water) of the scene sample (FROM_SCENE only)."""
    if prior.choice == AS_TRAINED:
        words = () if training_share is None else (
            f"{_shares_sentence(training_share)}; P(water) is left for that share, as the model gives it.",)
        return SceneShare(training_share, training_share, None, 0.0, words)
    if training_share is None:
        return SceneShare(None, None, None, 0.0, (
            "The model file does not record its training pixels' share of water (a model from before "
            "0.3.0 without water_pixels and land_pixels), so P(water) is left as the model gives it, "
            "for the share of water it was trained on.",))
    if prior.choice == GIVEN_SHARE:
        return SceneShare(training_share, prior.share, None, logit_shift(training_share, prior.share), (
            f"{_shares_sentence(training_share)}; P(water) is adjusted to the given share, "
            f"{_percent(prior.share)} water.",))
    estimate = estimate_scene_water_share(sample_probability, training_share)
    if estimate is None:
        return SceneShare(training_share, training_share, None, 0.0, (
            f"{_shares_sentence(training_share)}; the scene has no valid pixel to estimate its share from, "
            "so P(water) is left as the model gives it.",))
    messages = [
        f"{_shares_sentence(training_share)}; the scene is {_percent(estimate.share)} water by the model's "
        f"own outputs (EM, {estimate.iterations} step{'s' if estimate.iterations != 1 else ''} on "
        f"{estimate.pixels} sampled pixels); P(water) is adjusted to the scene's share."
    ]
    if not estimate.converged:
        messages.append(
            f"Warning: the estimate of the scene's share of water did not settle within {estimate.iterations} "
            f"EM steps (the last moved it by {EM_TOLERANCE:g} or more); the map uses the last estimate, "
            f"{_percent(estimate.share)}. Set WATER_PRIOR to a given share if you know it."
        )
    return SceneShare(training_share, estimate.share, estimate, logit_shift(training_share, estimate.share),
                      tuple(messages), np.asarray(sample_probability, dtype=np.float64))


def _shares_sentence(training_share):
    return f"The training pixels are {_percent(training_share)} water"


def _percent(share):
    """A share in words: '7.45 %', and '0.0012 %' where two decimals would say 0."""
    percent = 100 * share
    return f"{percent:.2f} %" if percent >= 0.01 else f"{percent:.2g} %"


def _is_share(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1


def estimate_scene_water_share(probability, training_share, tolerance=EM_TOLERANCE,
                               max_iterations=EM_MAX_ITERATIONS):
    """The scene's share of water by EM (Saerens et al. 2002) from P(water) of its pixels under
    the training share; None when `probability` holds no value in [0, 1].

    From π = training_share, each step adjusts every P to π and takes the mean as the next π;
    it stops when π moves by less than `tolerance`, or after `max_iterations` steps (then
    `converged` is False and the last π is returned).
    """
    probability = np.asarray(probability, dtype=np.float64).ravel()
    probability = probability[(probability >= 0) & (probability <= 1)]
    if not probability.size:
        return None
    check_share(training_share, "training share of water")
    complement = 1.0 - probability
    # Two buffers for every step: fresh arrays of a million values each step cost more than the sums.
    weighted, denominator = np.empty_like(probability), np.empty_like(probability)
    share = float(training_share)
    for iteration in range(1, max_iterations + 1):
        # r·P / (r·P + 1 − P) is σ(logit P + log r) without a logarithm: exact at P = 0 and 1.
        np.multiply(probability, odds_ratio(share, training_share), out=weighted)
        np.add(weighted, complement, out=denominator)
        np.divide(weighted, denominator, out=weighted)
        new_share = min(max(float(np.mean(weighted)), SHARE_LIMIT), 1.0 - SHARE_LIMIT)
        moved = abs(new_share - share)
        share = new_share
        if moved < tolerance:
            return WaterShareEstimate(share, iteration, True, probability.size)
    return WaterShareEstimate(share, max_iterations, False, probability.size)


def check_share(share, what):
    """Refuse a share that is not strictly between 0 and 1."""
    if not _is_share(share):
        raise ValueError(f"The {what} must lie strictly between 0 and 1, not {share!r}.")


def odds_ratio(scene_share, training_share):
    """exp(logit π_s − logit π_t): the factor on the odds of water that moves P to the scene."""
    return (scene_share / (1.0 - scene_share)) * ((1.0 - training_share) / training_share)


def logit_shift(training_share, scene_share):
    """logit π_s − logit π_t: what the map adds to the model's output before σ (its last bias)."""
    return math.log(odds_ratio(scene_share, training_share))


def probability_of_logits(logits):
    """σ(logit) in float64, without overflow: P(water) of the model outputs a SceneSample holds."""
    with np.errstate(invalid="ignore"):  # NaN in, NaN out
        return np.exp(-np.logaddexp(0.0, -np.asarray(logits, dtype=np.float64)))


def adjust_to_water_share(probability, training_share, scene_share):
    """P(water) adjusted from the training share to the scene's, as float32 (a new array).

    logit P' = logit P + logit π_s − logit π_t, computed in float64 and rounded once: P = 0 and
    P = 1 stay, and any value outside [0, 1] (nodata, NaN) is passed through untouched.
    """
    check_share(training_share, "training share of water")
    check_share(scene_share, "scene's share of water")
    source = np.asarray(probability)
    adjusted = np.array(source, dtype=np.float32, copy=True)
    flat = adjusted.reshape(-1)
    ratio = odds_ratio(scene_share, training_share)
    for start in range(0, flat.size, ADJUST_CHUNK_PIXELS):
        chunk = flat[start:start + ADJUST_CHUNK_PIXELS]
        values = chunk.astype(np.float64)
        inside = (values >= 0) & (values <= 1)
        weighted = ratio * values
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            result = weighted / (weighted + (1.0 - values))
        np.copyto(chunk, result, where=inside, casting="same_kind")
    return adjusted


def sigmoid_(values):
    """σ(x) = 1 / (1 + e^−x) in place, in the array's float type (as torch.sigmoid_ computes it,
    to its last bit or two); returns `values`. Below the type's range e^−x is ∞ and σ exactly 0;
    NaN stays NaN."""
    with np.errstate(over="ignore"):
        np.negative(values, out=values)
        np.exp(values, out=values)
        values += 1
        np.reciprocal(values, out=values)
    return values


def shifted_probability_(logit, shift):
    """σ(logit + shift) in place: the map's second pass, on the model's outputs (before σ) that
    the first pass kept, as float32 or float64 as the kernel computed them; returns `logit`.

    This is the map of the model whose last bias is moved by logit_shift(), computed as the
    kernel computes any map. A pixel whose σ(logit) is exactly 0 or 1 stays so (the model is as
    certain as the arithmetic can say); NaN stays NaN.
    """
    if shift == 0:  # σ(logit + 0) is σ(logit): nothing moves
        return sigmoid_(logit)
    lowest_positive, highest_below_one = _saturation(logit.dtype)
    # sigmoid_ is monotone, so a shift can only move the certain pixels on one side off 0 or 1.
    if shift > 0:
        pinned, certain = logit < lowest_positive, 0
    else:
        pinned, certain = logit > highest_below_one, 1
    logit += logit.dtype.type(shift)
    sigmoid_(logit)
    np.copyto(logit, certain, where=pinned)
    return logit


_SATURATION = {}


def _saturation(dtype):
    """(smallest logit whose σ is above 0, largest whose σ is below 1) of sigmoid_ in `dtype`,
    found once by bisection over that type's numbers (σ is monotone)."""
    dtype = np.dtype(dtype)
    if dtype not in _SATURATION:
        _SATURATION[dtype] = (_last_inside(dtype, 0.0, -1e4, lambda p: p > 0),
                              _last_inside(dtype, 0.0, 1e4, lambda p: p < 1))
    return _SATURATION[dtype]


def _last_inside(dtype, inside, outside, holds):
    """The number of `dtype` between `inside` (where holds(σ) is true) and `outside` (false)
    that is last before the step."""

    def holds_at(value):
        # 64 values, so numpy's vector path computes σ, as it does for a map's windows.
        return holds(sigmoid_(np.full(64, value, dtype=dtype))[0])

    inside, outside = dtype.type(inside), dtype.type(outside)
    while True:
        middle = dtype.type(inside + (outside - inside) / 2)
        if middle in (inside, outside):
            return inside
        if holds_at(middle):
            inside = middle
        else:
            outside = middle


class SceneSample:
    """Values (P(water), or the model's outputs before σ) of a seeded grid of the scene's pixels,
    gathered window by window.

    The grid's rows and columns are drawn once from `seed` and the scene's size (rows in
    proportion to columns, at most `max_pixels` in all), so the sample is the same whatever
    the windows it is gathered from, and windows may come in any order (values() sorts them
    into the scene's pixel order). Only valid pixels are kept.
    """

    def __init__(self, width, height, seed=0, max_pixels=MAX_SAMPLE_PIXELS):
        self.width, self.height = int(width), int(height)
        rng = np.random.default_rng([int(seed), self.width, self.height])
        if self.width * self.height <= max_pixels:
            row_count, column_count = self.height, self.width
        else:
            row_count = min(self.height, max(1, int(np.sqrt(max_pixels * self.height / self.width))))
            column_count = min(self.width, max(1, max_pixels // row_count))
        self.rows = np.sort(rng.choice(self.height, row_count, replace=False))
        self.columns = np.sort(rng.choice(self.width, column_count, replace=False))
        self.parts = []  # (first pixel index, values), one a window

    def add_window(self, probability, valid, row):
        """Keep the grid's valid pixels of one window: `probability` and `valid` are
        (rows, width) arrays of the scene's rows row…"""
        first, last = np.searchsorted(self.rows, [row, row + probability.shape[0]])
        if first == last:
            return
        local_rows = self.rows[first:last] - row
        keep = valid[local_rows][:, self.columns]
        values = probability[local_rows][:, self.columns][keep]
        self.parts.append((int(self.rows[first]) * self.width, values))  # in their own type: a float64 kernel's
        # outputs may lie beyond float32's range

    def merge(self, other):
        """Take in the windows another SceneSample of the same scene gathered (a Dask chunk's)."""
        self.parts.extend(other.parts)

    def values(self):
        """The sampled values (P(water), or the model's outputs before σ), in the scene's pixel order."""
        if not self.parts:
            return np.zeros(0, np.float32)
        self.parts.sort(key=lambda part: part[0])
        return np.concatenate([values for _, values in self.parts])
