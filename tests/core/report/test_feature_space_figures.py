"""The report's feature-space figures put every pixel where the model puts it."""

import numpy as np
import pytest

from water_logreg_plugin.core.learning.sampling import Samples
from water_logreg_plugin.core.model import WaterModel
from water_logreg_plugin.core.report import figures


def three_band_model():
    """P(water) = σ(−(green − 1000)/100 … ) with NIR weighing most: A in standardized units."""
    return WaterModel([1, 2, 4], np.array([1000.0, 900.0, 2000.0]), np.array([100.0, 200.0, 500.0]),
                      [(np.array([[-0.5, -0.2, -2.0]]), np.array([0.3]))],
                      training={"band_names": ["green", "red", "blue", "NIR"]})


def samples_for(model, count=600, seed=0):
    rng = np.random.default_rng(seed)
    values = model.mean + model.std * rng.normal(0, 1.5, (count, 3))
    labels = (model.predict_probability(values) >= 0.5).astype(np.uint8)
    return Samples(model.bands, values, labels, np.arange(count), np.zeros(count), np.zeros(count))


def test_across_is_exactly_a_x_plus_b_and_up_is_orthogonal_to_a():
    model = three_band_model()
    values = samples_for(model).values
    coordinates, direction = figures.model_coordinates(model, values)
    weights, intercept = model.coefficients_in_band_units()
    np.testing.assert_allclose(coordinates[:, 0], values @ weights + intercept, rtol=1e-12, atol=1e-9)
    # Water (P ≥ 0.5) is exactly the right of the line at 0, for every pixel, whatever the other bands.
    assert np.array_equal(coordinates[:, 0] >= 0, model.predict_probability(values) >= 0.5)
    normal = model.layers[0][0][0]
    assert abs(direction @ normal) < 1e-9
    assert np.linalg.norm(direction) == pytest.approx(1.0)
    np.testing.assert_allclose(coordinates[:, 1], ((values - model.mean) / model.std) @ direction)


def test_the_other_direction_names_the_bands():
    model = three_band_model()
    _, direction = figures.model_coordinates(model, samples_for(model).values)
    label = figures.direction_label(model, direction)
    assert "·green" in label or "·red" in label or "·NIR" in label
    assert figures.direction_label(model, np.array([0.8, -0.6, 0.0])) == "0.80·green − 0.60·red"


def test_mlp_coordinates_put_the_boundary_at_zero():
    rng = np.random.default_rng(1)
    model = WaterModel([1, 2, 3], np.zeros(3), np.ones(3), [
        (rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(1, 4)), np.array([0.1]))])
    values = rng.normal(size=(300, 3))
    coordinates, _ = figures.model_coordinates(model, values)
    assert np.array_equal(coordinates[:, 0] >= 0, model.predict_probability(values) >= 0.5)


@pytest.mark.parametrize("hidden", [False, True])
def test_model_plot_and_pair_plots_draw(hidden):
    model = three_band_model()
    if hidden:
        rng = np.random.default_rng(2)
        model = WaterModel(model.bands, model.mean, model.std, [
            (rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(1, 4)), np.array([0.1]))],
            training=model.training)
    samples = samples_for(model)
    shown = figures.plotted_subset(samples.labels, np.ones(len(samples.labels), bool),
                                   np.zeros(len(samples.labels), bool))
    figure = figures.model_plot(model, samples, shown)
    axes = figure.axes[0]
    assert axes.get_ylabel().endswith("(standardized bands)")
    assert [text.get_text() for text in axes.get_legend().get_texts()][-1].endswith("P(water) = 0.5)" if not hidden
                                                                                    else "P(water) = 0.5")
    pair = figures.pair_plot(model, samples, shown, 0, 1).axes[0]
    # Three bands: the band pair holds the samples only, no boundary and no shading.
    assert len(pair.lines) == 0 and len(pair.collections) > 0 and all(
        type(collection).__name__ == "PathCollection" for collection in pair.collections)
    assert pair.get_xlabel() == "band 1 (green)"
