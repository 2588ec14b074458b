"""The scene's share of water (EM) and P(water) adjusted to it, on scenes whose truth is known."""

import numpy as np
import pytest

from water_logreg_plugin.core.learning.calibration import expected_calibration_error
from water_logreg_plugin.core.maps.water_share import (
    AS_TRAINED,
    GIVEN_SHARE,
    SHARE_LIMIT,
    SceneSample,
    WaterPrior,
    adjust_to_water_share,
    decide_scene_share,
    estimate_scene_water_share,
    logit_shift,
    probability_of_logits,
    shifted_probability_,
    sigmoid_,
    training_water_share,
)


def known_scene(scene_share, training_share, rows=700, cols=700, seed=0):
    """(P(water) as a model trained at `training_share` gives it, float32 (rows, cols); the truth).

    Water pixels have x ~ N(+1, 1), land x ~ N(−1, 1), so the log-likelihood ratio is 2x and
    the model's posterior under the training share is σ(2x + logit π_t), exactly.
    """
    rng = np.random.default_rng(seed)
    truth = rng.random((rows, cols)) < scene_share
    x = rng.normal(np.where(truth, 1.0, -1.0), 1.0)
    logit = 2.0 * x + np.log(training_share / (1 - training_share))
    return probability_of_logits(logit).astype(np.float32), truth


def gathered(probability, window_rows, seed=0, max_pixels=1_000_000, order=1):
    sample = SceneSample(probability.shape[1], probability.shape[0], seed, max_pixels)
    valid = np.isfinite(probability)
    windows = list(range(0, probability.shape[0], window_rows))[::order]
    for row in windows:
        sample.add_window(probability[row:row + window_rows], valid[row:row + window_rows], row)
    return sample


@pytest.mark.parametrize(("scene_share", "training_share"), [
    (0.01, 0.3), (0.01, 0.6), (0.1, 0.6), (0.1, 0.02), (0.5, 0.9), (0.5, 0.2), (0.9, 0.4), (0.9, 0.97),
])
def test_em_finds_the_scene_share_and_the_adjusted_map_is_calibrated(scene_share, training_share):
    probability, truth = known_scene(scene_share, training_share)
    sample = gathered(probability, window_rows=64, max_pixels=200_000)

    estimate = estimate_scene_water_share(sample.values(), training_share)

    assert estimate.converged
    assert estimate.share == pytest.approx(truth.mean(), abs=0.01)
    assert estimate.pixels == len(sample.values()) <= 200_000
    adjusted = adjust_to_water_share(probability, training_share, estimate.share)
    assert expected_calibration_error(adjusted, truth) <= 0.01
    # The map as the model gives it is not calibrated to the scene: the test would fail without the shift.
    assert expected_calibration_error(probability, truth) > 0.02


def test_em_says_when_it_runs_out_of_iterations():
    probability, _ = known_scene(0.1, 0.6, rows=100, cols=100)

    estimate = estimate_scene_water_share(probability, 0.6, max_iterations=2)

    assert (estimate.iterations, estimate.converged) == (2, False)


def test_em_keeps_the_share_inside_its_limits_and_needs_a_probability():
    assert estimate_scene_water_share(np.zeros(100), 0.6).share == SHARE_LIMIT
    assert estimate_scene_water_share(np.ones(100), 0.6).share == 1 - SHARE_LIMIT
    assert estimate_scene_water_share(np.array([np.nan, -9999.0]), 0.6) is None


def test_em_on_the_training_share_itself_stays_there():
    probability, _ = known_scene(0.3, 0.3)

    estimate = estimate_scene_water_share(probability, 0.3)

    assert estimate.share == pytest.approx(0.3, abs=0.01)


def test_certain_pixels_nodata_and_nan_are_not_moved():
    probability = np.array([0.0, 1.0, np.nan, -9999.0, 0.6], dtype=np.float32)

    adjusted = adjust_to_water_share(probability, 0.6, 0.07)

    assert adjusted.dtype == np.float32
    np.testing.assert_array_equal(adjusted[[0, 1, 3]], [0.0, 1.0, -9999.0])
    assert np.isnan(adjusted[2])
    # P = π_t is a pixel the model knows nothing about: it takes the scene's share.
    assert adjusted[4] == pytest.approx(0.07, rel=1e-6)
    assert probability[4] == np.float32(0.6)  # a new array: the input is left as it was


def test_the_adjusted_map_is_float64_logit_arithmetic_rounded_once():
    rng = np.random.default_rng(3)
    probability = np.concatenate([rng.random(200_000), 10.0 ** -rng.uniform(1, 30, 5000),
                                  1 - 10.0 ** -rng.uniform(1, 7, 5000)]).astype(np.float32)
    exact = probability.astype(np.float64)
    shifted = np.log(exact) - np.log1p(-exact) + logit_shift(0.6, 0.07)
    reference = probability_of_logits(shifted).astype(np.float32)

    adjusted = adjust_to_water_share(probability, 0.6, 0.07)

    # Two float64 routes to the same number differ in their last bits, which a rounding to
    # float32 can show as one unit in the last place only where float64 lands on a tie.
    ulps = np.abs(adjusted.view(np.int32) - reference.view(np.int32))
    assert ulps.max() <= 1
    assert np.mean(ulps == 0) > 0.9999


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, float("nan"), True, None, "0.5"])
def test_a_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        adjust_to_water_share(np.zeros(3, np.float32), 0.5, share)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        estimate_scene_water_share(np.zeros(3), share)


def test_the_sample_does_not_depend_on_the_windows_or_their_order():
    probability, _ = known_scene(0.2, 0.5, rows=333, cols=401)
    probability[:40, :50] = np.nan  # nodata: left out of the sample

    one = gathered(probability, 1, max_pixels=20_000).values()
    other = gathered(probability, 77, max_pixels=20_000, order=-1).values()
    # Two Dask chunks, each gathering its rows of the scene's grid, merged.
    rest = SceneSample(401, 333, 0, 20_000)
    rest.add_window(probability[150:], np.isfinite(probability[150:]), 150)
    whole = SceneSample(401, 333, 0, 20_000)
    whole.add_window(probability[:150], np.isfinite(probability[:150]), 0)
    whole.merge(rest)

    np.testing.assert_array_equal(one, other)
    np.testing.assert_array_equal(one, whole.values())
    assert 0 < len(one) <= 20_000
    assert not np.isnan(one).any()


def test_a_small_scene_is_sampled_whole_and_the_seed_moves_a_large_one():
    probability, _ = known_scene(0.2, 0.5, rows=50, cols=60)

    assert len(gathered(probability, 8).values()) == 3000
    np.testing.assert_array_equal(np.sort(gathered(probability, 8).values()), np.sort(probability.ravel()))
    first = SceneSample(5000, 4000, seed=0)
    second = SceneSample(5000, 4000, seed=1)
    assert len(first.rows) * len(first.columns) <= 1_000_000
    assert len(first.rows) * len(first.columns) > 990_000
    assert not np.array_equal(first.rows, second.rows)


def test_the_training_share_is_read_from_the_model_file_or_its_pixel_counts():
    assert training_water_share({"water_share": 0.25, "water_pixels": 1, "land_pixels": 1}) == 0.25
    assert training_water_share({"water_pixels": 1844, "land_pixels": 1213}) == pytest.approx(0.6032, abs=1e-4)
    assert training_water_share({}) is None
    assert training_water_share({"water_pixels": 0, "land_pixels": 10}) is None
    assert training_water_share({"water_pixels": True, "land_pixels": 10}) is None
    assert training_water_share({"water_share": 1.0}) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_second_pass_is_the_model_with_its_bias_moved_and_certain_pixels_stay(dtype):
    rng = np.random.default_rng(5)
    logit = np.concatenate([rng.uniform(-40, 40, 100_000), [-1e4, -800, 17, 40, 800, 1e4, np.nan]]).astype(dtype)
    shift = logit_shift(0.6, 0.07)
    kernel_before = sigmoid_(logit.copy())  # the map without the shift

    adjusted = shifted_probability_(logit.copy(), shift)

    assert adjusted.dtype == dtype
    reference = probability_of_logits(logit.astype(np.float64) + shift)
    uncertain = (kernel_before > 0) & (kernel_before < 1)
    # logit + shift rounds to the type: σ moves by up to P(1 − P)·|logit|·ε, |logit| ≤ 45 here.
    rtol = 45 * np.finfo(dtype).eps
    np.testing.assert_allclose(adjusted[uncertain], reference[uncertain], rtol=rtol, atol=np.finfo(dtype).tiny)
    # What the map called certain before stays certain; the rest moves as the shift says.
    np.testing.assert_array_equal(adjusted[kernel_before == 1], 1)
    np.testing.assert_array_equal(adjusted[kernel_before == 0], 0)
    assert np.isnan(adjusted[-1])


def test_the_prior_choices_and_what_the_log_says():
    probability, truth = known_scene(0.1, 0.6, rows=300, cols=300)

    from_scene = decide_scene_share(WaterPrior(), 0.6, probability)
    as_trained = decide_scene_share(WaterPrior(AS_TRAINED), 0.6)
    given = decide_scene_share(WaterPrior(GIVEN_SHARE, 0.25), 0.6)
    unknown = decide_scene_share(WaterPrior(), None, probability)

    assert from_scene.scene_share == pytest.approx(truth.mean(), abs=0.01)
    assert from_scene.shift == pytest.approx(logit_shift(0.6, from_scene.scene_share))
    assert from_scene.messages[0].startswith("The training pixels are 60.00 % water; the scene is ")
    assert f"(EM, {from_scene.estimate.iterations} steps on 90000 sampled pixels)" in from_scene.messages[0]
    assert (as_trained.scene_share, as_trained.shift, as_trained.estimate) == (0.6, 0.0, None)
    assert (given.scene_share, given.shift) == (0.25, pytest.approx(logit_shift(0.6, 0.25)))
    assert given.messages == ("The training pixels are 60.00 % water; P(water) is adjusted to the given share, "
                              "25.00 % water.",)
    assert (unknown.training_share, unknown.scene_share, unknown.shift) == (None, None, 0.0)
    assert "does not record its training pixels' share" in unknown.messages[0]
    assert WaterPrior().needs_scene and not WaterPrior(GIVEN_SHARE, 0.3).needs_scene


def test_em_that_does_not_settle_is_said_and_a_bad_choice_refused(monkeypatch):
    import water_logreg_plugin.core.maps.water_share as module

    probability, _ = known_scene(0.1, 0.6, rows=100, cols=100)
    monkeypatch.setattr(module, "EM_MAX_ITERATIONS", 2)
    monkeypatch.setattr(module.estimate_scene_water_share, "__defaults__", (module.EM_TOLERANCE, 2))

    outcome = decide_scene_share(WaterPrior(), 0.6, probability)

    assert outcome.messages[1].startswith("Warning: the estimate of the scene's share of water did not settle "
                                          "within 2 EM steps")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        WaterPrior(GIVEN_SHARE, 1.0)
    with pytest.raises(ValueError, match="must be one of scene, training, given"):
        WaterPrior("prior")
    nothing = decide_scene_share(WaterPrior(), 0.6, np.full(10, np.nan))
    assert (nothing.scene_share, nothing.shift) == (0.6, 0.0)
    assert "no valid pixel to estimate its share from" in nothing.messages[0]
