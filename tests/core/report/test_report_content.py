"""What the report's plots show, read from the matplotlib Figures the report renders.

report.html passes every Figure through `_image` to turn it into a PNG; a spy on `_image`
(the real function still runs) keeps each Figure with its element id, so a test reads the
plotted data: the loss curve's points, the decision line's ends, the histogram's bars. The
expected values are computed here from the model's numbers with numpy, not by the plotting code.
"""

import math

import numpy as np
import pytest

from water_logreg_plugin.core.learning.sampling import Samples
from water_logreg_plugin.core.report import html, write_training_report
from water_logreg_plugin.core.settings import TrainingSettings
from water_logreg_plugin.core.workflow import train_water_model


@pytest.fixture
def drawn_figures(monkeypatch):
    """{element id: matplotlib Figure} of every plot a report renders during the test."""
    figures = {}
    render = html._image

    def keep(figure, element_id, *arguments):
        figures[element_id] = figure
        return render(figure, element_id, *arguments)

    monkeypatch.setattr(html, "_image", keep)
    return figures


def overlapping_samples(band_count, polygons_per_class=5, pixels=150, seed=0):
    """Water and land polygons whose band values overlap, so the fit is graded, not a step."""
    rng = np.random.default_rng(seed)
    values, labels, polygon_ids = [], [], []
    for polygon in range(2 * polygons_per_class):
        label = polygon % 2
        centre = np.linspace(600, 900, band_count) if label else np.linspace(1400, 1100, band_count)
        values.append(centre + rng.normal(0, 60, band_count) + rng.normal(0, 300, (pixels, band_count)))
        labels += [label] * pixels
        polygon_ids += [polygon] * pixels
    count = len(labels)
    return Samples(list(range(1, band_count + 1)), np.vstack(values), np.array(labels, dtype=np.uint8),
                   np.array(polygon_ids), np.zeros(count), np.zeros(count))


def logit(model, values):
    """Aᵀz + b with z = (x − μ)/σ: the model file's own numbers, one layer."""
    (weight, bias), = model.layers
    return ((np.asarray(values, dtype=np.float64) - model.mean) / model.std) @ weight[0] + bias[0]


def mean_log_loss(model, values, labels):
    score = logit(model, values)
    # −[y log σ(s) + (1 − y) log(1 − σ(s))] = log(1 + e^{−s}) for water, log(1 + e^{s}) for land
    return float(np.mean(np.logaddexp(0, np.where(labels == 1, -score, score))))


def line_labelled(figure, label):
    lines = [line for axes in figure.axes for line in axes.get_lines() if line.get_label() == label]
    assert len(lines) == 1, [line.get_label() for axes in figure.axes for line in axes.get_lines()]
    return lines[0]


def report(tmp_path, samples, settings):
    training = train_water_model(samples, settings)
    write_training_report(tmp_path / "report.html", samples, training)
    return training


def test_loss_curve_plots_the_fit_history(tmp_path, drawn_figures):
    """The exact fit (Newton) records the start and the point after each step: steps + 1 points."""
    samples = overlapping_samples(3)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0.4, seed=2))
    figure = drawn_figures["plot-loss"]
    history = training.history
    steps = len(history["loss"])
    assert steps == training.model.training["steps"] + 1 >= 3

    plotted = line_labelled(figure, "training")
    np.testing.assert_array_equal(plotted.get_xdata(), np.arange(steps))
    np.testing.assert_array_equal(plotted.get_ydata(), history["loss"])
    held_out = line_labelled(figure, "validation (held-out polygons)")
    np.testing.assert_array_equal(held_out.get_xdata(), np.arange(steps))
    np.testing.assert_array_equal(held_out.get_ydata(), history["validation_loss"])

    # And the history is the loss: a logistic regression starts at A = 0, b = 0, i.e. P = ½ for
    # every pixel, whose cross-entropy is ln 2; the last point is the fitted model's log-loss.
    assert plotted.get_ydata()[0] == pytest.approx(math.log(2), rel=1e-6)
    assert held_out.get_ydata()[0] == pytest.approx(math.log(2), rel=1e-6)
    train, validation = training.train_mask, training.validation_mask
    assert plotted.get_ydata()[-1] == pytest.approx(
        mean_log_loss(training.model, samples.values[train], samples.labels[train]), rel=1e-4)
    assert held_out.get_ydata()[-1] == pytest.approx(
        mean_log_loss(training.model, samples.values[validation], samples.labels[validation]), rel=1e-3)
    assert plotted.get_ydata()[-1] < 0.8 * math.log(2)  # it did learn


def test_loss_curve_without_held_out_polygons_has_one_line(tmp_path, drawn_figures):
    samples = overlapping_samples(2)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0, seed=2))
    figure = drawn_figures["plot-loss"]
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["training"]
    np.testing.assert_array_equal(line_labelled(figure, "training").get_ydata(), training.history["loss"])


@pytest.mark.parametrize("band_count", [3, 4])
def test_band_pairs_of_three_or_more_bands_draw_no_decision_line(tmp_path, drawn_figures, band_count):
    """With a third band the plane's trace on a band pair is true for no real pixel (the third
    band is not at its mean), so those panels show the samples only; the model's own figure
    (tests/core/report/test_feature_space_figures.py) carries the exact boundary."""
    samples = overlapping_samples(band_count, seed=band_count)
    report(tmp_path, samples, TrainingSettings(validation_fraction=0.2, seed=1))
    for first in range(band_count):
        for second in range(first + 1, band_count):
            figure = drawn_figures[f"plot-feature-space-b{first + 1}-b{second + 1}"]
            labels = [line.get_label() for axes in figure.axes for line in axes.get_lines()]
            assert "Aᵀx + b = 0" not in labels


@pytest.mark.parametrize("band_count", [2])
def test_decision_line_lies_where_the_logit_is_zero(tmp_path, drawn_figures, band_count):
    """With two bands the band pair is the whole feature space: the line is exactly Aᵀx + b = 0."""
    samples = overlapping_samples(band_count, seed=band_count)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0.2, seed=1))
    model = training.model
    pairs = [(first, second) for first in range(band_count) for second in range(first + 1, band_count)]
    for first, second in pairs:
        figure = drawn_figures[f"plot-feature-space-b{first + 1}-b{second + 1}"]
        line = line_labelled(figure, "Aᵀx + b = 0")
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        (x_low, x_high), (y_low, y_high) = figure.axes[0].get_xlim(), figure.axes[0].get_ylim()
        # Points along the plotted segment, in band units, the other bands at their mean.
        share = np.linspace(0, 1, 11)[:, np.newaxis]
        along = (1 - share) * np.array([xs[0], ys[0]]) + share * np.array([xs[-1], ys[-1]])
        points = np.tile(model.mean, (len(along), 1))
        points[:, first], points[:, second] = along[:, 0], along[:, 1]
        scale = np.abs(model.layers[0][0][0]).sum() + abs(model.layers[0][1][0])
        np.testing.assert_allclose(logit(model, points), 0, atol=1e-9 * scale)
        # The line crosses the plotted box from one edge to the other (it is seen).
        span_x, span_y = abs(xs[-1] - xs[0]) / (x_high - x_low), abs(ys[-1] - ys[0]) / (y_high - y_low)
        assert max(span_x, span_y) == pytest.approx(1.0)
        # And water lies on the side the model says: P > ½ one way off the line, < ½ the other.
        normal = np.array([-(ys[-1] - ys[0]), xs[-1] - xs[0]]) * 1e-3
        middle = points[5].copy()
        off = [middle.copy(), middle.copy()]
        off[0][[first, second]] += normal
        off[1][[first, second]] -= normal
        assert np.sign(logit(model, off[0])) == -np.sign(logit(model, off[1])) != 0


def test_probability_histogram_counts_the_checked_pixels(tmp_path, drawn_figures):
    samples = overlapping_samples(2, seed=5)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0.4, seed=3))
    figure = drawn_figures["plot-probability-histogram"]
    checked = training.validation_mask
    probability = 1 / (1 + np.exp(-logit(training.model, samples.values[checked])))
    labels = samples.labels[checked]
    bins = np.linspace(0, 1, 41)
    axes = figure.axes[0]
    # Stacked bars: one BarContainer per class, each bar's height that class's count in the bin.
    water_bars, land_bars = axes.containers
    np.testing.assert_allclose([bar.get_height() for bar in water_bars],
                               np.histogram(probability[labels == 1], bins)[0])
    np.testing.assert_allclose([bar.get_height() for bar in land_bars],
                               np.histogram(probability[labels == 0], bins)[0])
    threshold = [line for line in axes.get_lines() if line.get_label().startswith("threshold")]
    assert len(threshold) == 1 and list(threshold[0].get_xdata()) == [0.5, 0.5]


def test_one_band_curve_is_the_models_probability(tmp_path, drawn_figures):
    """A one-band model: the P(water) curve over the band is σ(a·z + b) at each plotted value."""
    samples = overlapping_samples(1, seed=7)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0.2, seed=1))
    curve = line_labelled(drawn_figures["plot-feature-space-b1"], "P(water)")
    band_values = np.asarray(curve.get_xdata(), dtype=float)
    expected = 1 / (1 + np.exp(-logit(training.model, band_values[:, np.newaxis])))
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=0, atol=1e-12)
    assert expected.min() < 0.2 and expected.max() > 0.8  # the curve crosses from land to water


def test_three_band_plane_is_where_the_logit_is_zero(tmp_path, drawn_figures):
    """The 3-D plot's surface: every vertex of it satisfies Aᵀx + b = 0. matplotlib 3.6 keeps a
    surface's vertices, in data units, in the Poly3DCollection's `_vec` (4 × N, homogeneous)."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    samples = overlapping_samples(3, seed=4)
    training = report(tmp_path, samples, TrainingSettings(validation_fraction=0.2, seed=1))
    axes = drawn_figures["plot-feature-space-3d"].axes[0]
    surfaces = [collection for collection in axes.collections if isinstance(collection, Poly3DCollection)]
    assert len(surfaces) == 1
    if not hasattr(surfaces[0], "_vec"):
        pytest.skip("this matplotlib keeps a surface's vertices elsewhere")
    vertices = np.asarray(surfaces[0]._vec[:3], dtype=float).T
    assert len(vertices) >= 100
    model = training.model
    scale = np.abs(model.layers[0][0][0]).sum() + abs(model.layers[0][1][0])
    np.testing.assert_allclose(logit(model, vertices), 0, atol=1e-9 * scale)
