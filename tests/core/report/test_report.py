"""The HTML report: its numbers are the model's and the figures', and every plot is there."""

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from support.report_html import png_size, read_report

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.learning.metrics import FIGURES, accuracy_figures
from water_logreg_plugin.core.learning.sampling import Samples
from water_logreg_plugin.core.report import MAX_BAND_PAIRS, write_assessment_report, write_training_report
from water_logreg_plugin.core.settings import TrainingSettings
from water_logreg_plugin.core.workflow import train_water_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def polygon_samples(band_count, polygons_per_class=5, pixels=120, seed=0, bands=None):
    """Samples of water and land polygons whose classes overlap a little."""
    rng = np.random.default_rng(seed)
    values, labels, polygon_ids = [], [], []
    for polygon in range(2 * polygons_per_class):
        label = polygon % 2
        centre = np.full(band_count, 600.0 if label else 1400.0) + rng.normal(0, 80, band_count)
        values.append(centre + rng.normal(0, 250, (pixels, band_count)))
        labels += [label] * pixels
        polygon_ids += [polygon] * pixels
    count = len(labels)
    return Samples(bands or list(range(1, band_count + 1)), np.vstack(values), np.array(labels, dtype=np.uint8),
                   np.array(polygon_ids), np.zeros(count), np.zeros(count))


def assert_figures_equal(stated, figures):
    for key in FIGURES:
        if isinstance(figures[key], float) and math.isnan(figures[key]):
            assert math.isnan(stated[key]), key
        else:
            assert stated[key] == figures[key], key  # written exactly (repr), read back exactly


def assert_plot(report, element_id):
    alt, data = report.images[element_id]
    width, height = png_size(data)
    assert alt and width >= 200 and height >= 200


@pytest.mark.parametrize("bands, hidden_layers", [
    ([1, 2], []), ([2, 3, 5], []), ([1, 2, 3, 4], []), ([1, 2, 3], [8, 8]), ([4], []),
])
def test_training_report(tmp_path, bands, hidden_layers):
    samples = polygon_samples(len(bands), bands=bands)
    settings = TrainingSettings(validation_fraction=0.4, hidden_layers=hidden_layers, seed=1, max_steps=150)
    training = train_water_model(samples, settings)
    path = tmp_path / "report.html"
    write_training_report(path, samples, training, settings={"validation_fraction": 0.4, "bands": bands},
                          timings={"sampling": 0.25})
    report = read_report(path)

    assert_figures_equal(report.figures, training.figures)
    assert report.figures["final_loss"] == training.model.training["final_loss"]
    assert report.settings["converged"] == str(training.model.training["converged"])
    assert report.figures["gradient_norm"] == training.model.training["gradient_norm"]
    if not hidden_layers:
        assert report.settings["converged"] == "True" and report.figures["gradient_norm"] < 1e-6
    assert report.settings["figures_source"] == "held-out polygons"
    assert report.settings["threshold"] == "0.5"
    assert report.settings["device"] == "cpu"
    assert report.settings["bands"] == ",".join(map(str, bands))
    assert report.timings == {"sampling": 0.25, "training": training.model.training["seconds"]}
    water, land = samples.labels == 1, samples.labels == 0
    assert report.counts["training_water"] == np.count_nonzero(training.train_mask & water)
    assert report.counts["validation_land"] == np.count_nonzero(training.validation_mask & land)
    assert report.counts["validation_water_polygons"] == report.counts["validation_land_polygons"] == 2
    assert report.counts["steps"] == training.model.training["steps"] == len(training.history["loss"]) - 1

    pairs = [f"plot-feature-space-b{a}-b{b}" for a, b in itertools.combinations(bands, 2)]
    expected = {"plot-loss", "plot-probability-histogram", "plot-reliability", *pairs}
    if len(bands) == 3:
        expected.add("plot-feature-space-3d")
    if len(bands) == 1:
        expected.add(f"plot-feature-space-b{bands[0]}")
    else:
        expected.add("plot-feature-space-model")
    assert set(report.images) == expected
    for element_id in expected:
        assert_plot(report, element_id)
    assert "Loss curve" in report.images["plot-loss"][0]

    if hidden_layers:
        assert report.coefficients == {}
        assert report.settings["model"] == "multi-layer perceptron (hidden layers 8,8)"
        assert report.counts["parameters"] == (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
        assert "has no single coefficient per band" in report.text
    else:
        in_band_units, intercept = training.model.coefficients_in_band_units()
        for index, band in enumerate(bands):
            assert report.coefficients[str(band), "band_units"] == in_band_units[index]
            assert report.coefficients[str(band), "standardized"] == training.model.layers[0][0][0][index]
            assert report.coefficients[str(band), "mean"] == training.model.mean[index]
        assert report.coefficients["intercept", "band_units"] == intercept


def test_map_section_and_no_held_out_polygons(tmp_path):
    from water_logreg_plugin.core.maps.predict import PredictionSummary

    samples = polygon_samples(2, polygons_per_class=1)
    training = train_water_model(samples, TrainingSettings(validation_fraction=0.2))
    path = tmp_path / "report.html"
    write_training_report(path, samples, training, prediction=PredictionSummary(1000, 800, 200, "cpu", 0.5))
    report = read_report(path)
    assert report.settings["figures_source"] == "training pixels"
    assert "no polygon can be held out" in report.text
    assert report.counts["validation_water"] == report.counts["validation_land"] == 0
    assert (report.counts["valid_pixels"], report.counts["water_pixels"], report.counts["water_fraction"]) == (
        800, 200, 0.25)
    assert_figures_equal(report.figures, training.figures)
    assert_plot(report, "plot-loss")


def test_many_bands_draw_a_limited_number_of_pairs(tmp_path):
    samples = polygon_samples(7, polygons_per_class=3, pixels=40)
    training = train_water_model(samples)
    write_training_report(tmp_path / "report.html", samples, training)
    report = read_report(tmp_path / "report.html")
    assert len([name for name in report.images if name.startswith("plot-feature-space-b")]) == MAX_BAND_PAIRS
    assert "plot-feature-space-model" in report.images
    assert f"{21 - MAX_BAND_PAIRS} further band pairs are not drawn" in report.text


def test_assessment_report(tmp_path):
    rng = np.random.default_rng(3)
    labels = (rng.random(3000) < 0.3).astype(np.uint8)
    probability = np.clip(0.6 * labels + 0.2 + rng.normal(0, 0.2, 3000), 0, 1)
    samples = Samples([1], probability[:, None], labels, rng.integers(0, 9, 3000), np.zeros(3000), np.zeros(3000))
    figures = accuracy_figures(probability, labels, 0.6)
    path = tmp_path / "accuracy.html"
    write_assessment_report(path, samples, figures, 0.6, settings={"probability_raster": "<b>&map.tif"})
    report = read_report(path)
    assert_figures_equal(report.figures, figures)
    assert report.settings["threshold"] == "0.6"
    assert report.settings["probability_raster"] == "<b>&map.tif"  # escaped in the file, read back as given
    assert "<b>&map.tif" not in path.read_text()
    assert (report.counts["water"], report.counts["land"]) == (labels.sum(), (1 - labels).sum())
    assert set(report.images) == {"plot-probability-histogram", "plot-reliability"}
    assert_plot(report, "plot-probability-histogram")
    assert_plot(report, "plot-reliability")


# Eight pixels whose bins, means and water fractions are easy to work out by hand.
KNOWN_PROBABILITY = np.array([0.02, 0.08, 0.31, 0.39, 0.35, 0.72, 0.97, 1.0])
KNOWN_LABELS = np.array([0, 0, 1, 0, 0, 1, 1, 1])
# bin 0 [0, 0.1): 0.02, 0.08 → mean 0.05, water 0/2; bin 3 [0.3, 0.4): 0.31, 0.39, 0.35 → mean 0.35,
# water 1/3; bin 7 [0.7, 0.8): 0.72 → 0.72, 1/1; bin 9 [0.9, 1]: 0.97, 1.0 → 0.985, 2/2.
KNOWN_BINS = {0: (2, 0.05, 0.0), 3: (3, 0.35, 1 / 3), 7: (1, 0.72, 1.0), 9: (2, 0.985, 1.0)}


def test_the_reliability_curve_plots_the_hand_computed_bin_means():
    from water_logreg_plugin.core.report.reliability import calibration_curve, reliability_diagram

    figure = reliability_diagram(calibration_curve(KNOWN_PROBABILITY, KNOWN_LABELS))
    (observed,) = [line for line in figure.axes[0].lines if line.get_label() == "observed"]
    expected = np.array([(mean, water) for _, mean, water in KNOWN_BINS.values()])
    np.testing.assert_allclose(observed.get_xydata(), expected, atol=1e-12)
    shares = [bar.get_height() for bar in figure.axes[1].patches]
    np.testing.assert_allclose(shares, [KNOWN_BINS.get(number, (0,))[0] / 8 for number in range(10)], atol=1e-12)


def test_the_report_states_the_hand_computed_reliability_brier_and_ece(tmp_path):
    samples = Samples([1], KNOWN_PROBABILITY[:, None], KNOWN_LABELS, np.arange(8), np.zeros(8), np.zeros(8))
    figures = accuracy_figures(KNOWN_PROBABILITY, KNOWN_LABELS, 0.5)
    write_assessment_report(tmp_path / "accuracy.html", samples, figures, 0.5)
    report = read_report(tmp_path / "accuracy.html")
    for number in range(10):
        count, mean, water = KNOWN_BINS.get(number, (0, math.nan, math.nan))
        assert report.reliability[number, "count"] == count
        if count:
            assert report.reliability[number, "mean_predicted"] == pytest.approx(mean, abs=1e-12)
            assert report.reliability[number, "observed"] == pytest.approx(water, abs=1e-12)
        else:
            assert math.isnan(report.reliability[number, "mean_predicted"])
    brier = np.mean((KNOWN_PROBABILITY - KNOWN_LABELS) ** 2)
    ece = (2 * 0.05 + 3 * abs(0.35 - 1 / 3) + 1 * abs(0.72 - 1) + 2 * abs(0.985 - 1)) / 8
    assert report.figures["brier"] == pytest.approx(brier, abs=1e-15)
    assert report.figures["ece"] == pytest.approx(ece, abs=1e-12)
    assert "Calibration on the validation polygons" in report.text


def test_no_reliability_curve_for_values_that_are_not_probabilities(tmp_path):
    values = np.array([0.0, 10.0, 200.0, 255.0])
    labels = np.array([0, 0, 1, 1])
    samples = Samples([1], values[:, None], labels, np.arange(4), np.zeros(4), np.zeros(4))
    write_assessment_report(tmp_path / "accuracy.html", samples, accuracy_figures(values, labels, 128), 128)
    report = read_report(tmp_path / "accuracy.html")
    assert "plot-reliability" not in report.images and report.reliability == {}
    assert math.isnan(report.figures["brier"]) and math.isnan(report.figures["ece"])


def test_written_atomically(tmp_path):
    samples = polygon_samples(2, polygons_per_class=2, pixels=30)
    training = train_water_model(samples)
    with pytest.raises(WaterLogRegError, match="The output folder .* does not exist"):
        write_training_report(tmp_path / "missing" / "report.html", samples, training)
    path = tmp_path / "report.html"
    path.write_text("an older report")
    write_training_report(path, samples, training)
    assert os.listdir(tmp_path) == ["report.html"]  # no .partial left beside it
    assert path.read_text().startswith("<!DOCTYPE html>")


SCRIPT = """
import gc, sys, threading, weakref
import numpy as np
sys.path[:0] = [{root!r}, {tests!r}, {here!r}]
from test_report import polygon_samples
from water_logreg_plugin.core.report import write_training_report
from water_logreg_plugin.core.settings import TrainingSettings
from water_logreg_plugin.core.workflow import train_water_model

jobs = []
for index, (bands, hidden) in enumerate(([3, []], [2, [4]])):
    samples = polygon_samples(bands, polygons_per_class=3, pixels=60, seed=index)
    jobs.append((samples, train_water_model(samples, TrainingSettings(hidden_layers=hidden))))


class ProcessingContext:
    pass


def caller(samples, training):
    context = ProcessingContext()
    write_training_report({folder!r} + "/first.html", samples, training)
    return weakref.ref(context)


gc.disable()  # what the report leaves in reference cycles would outlive the call
assert caller(*jobs[0])() is None, "the report keeps the caller's frame alive"
gc.enable()
failures = []


def write(index, job):
    try:
        write_training_report({folder!r} + f"/r{{index}}.html", *job)
    except Exception as error:
        failures.append(repr(error))


threads = [threading.Thread(target=write, args=item) for item in enumerate(jobs)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not failures, failures
assert "matplotlib.pyplot" not in sys.modules
print("ok")
"""


@pytest.mark.slow
def test_renders_headless_in_threads_without_pyplot(tmp_path):
    """In a fresh process, with a GUI backend asked for and no display: the report renders from
    two threads at once, never imports pyplot, and leaves nothing holding its caller's frame
    (a Processing context kept alive that way is destroyed by a later garbage collection,
    possibly after QGIS has closed the data sources of its layers: a crash)."""
    environment = dict(os.environ, MPLBACKEND="QtAgg", MPLCONFIGDIR=str(tmp_path / "mpl"))
    environment.pop("DISPLAY", None)
    here = os.path.dirname(os.path.abspath(__file__))
    script = SCRIPT.format(root=ROOT, tests=os.path.join(ROOT, "tests"), here=here, folder=str(tmp_path))
    completed = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr
    for index, plots in ((0, 8), (1, 5)):  # each with its reliability curve
        report = read_report(tmp_path / f"r{index}.html")
        assert len(report.images) == plots
        for element_id in report.images:
            assert_plot(report, element_id)
