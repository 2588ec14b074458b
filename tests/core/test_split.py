"""Holding out whole polygons: grouped, stratified, seeded, and honest when it cannot."""

import numpy as np
import pytest

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.metrics import accuracy_figures
from water_logreg_plugin.core.sampling import Samples
from water_logreg_plugin.core.settings import TrainingSettings
from water_logreg_plugin.core.split import split_by_polygon
from water_logreg_plugin.core.workflow import train_water_model


def polygon_samples(water_polygons, land_polygons, pixels=(5, 40), seed=0):
    """labels and polygon ids of polygons of varying pixel counts; ids are not in class order."""
    rng = np.random.default_rng(seed)
    classes = [1] * water_polygons + [0] * land_polygons
    ids = rng.permutation(np.arange(100, 100 + len(classes)))
    labels, polygon_ids = [], []
    for polygon_id, label in zip(ids, classes):
        count = int(rng.integers(*pixels))
        labels += [label] * count
        polygon_ids += [polygon_id] * count
    return np.array(labels, dtype=np.uint8), np.array(polygon_ids, dtype=np.int64)


@pytest.mark.parametrize("water, land, fraction", [(10, 10, 0.2), (5, 12, 0.3), (2, 2, 0.5), (3, 7, 0.9)])
def test_no_polygon_sits_on_both_sides_and_each_class_is_held_out(water, land, fraction):
    labels, polygon_ids = polygon_samples(water, land)
    train, validation, message = split_by_polygon(labels, polygon_ids, fraction, seed=4)
    assert message is None
    assert (train ^ validation).all()  # every pixel on exactly one side
    assert not set(polygon_ids[train]) & set(polygon_ids[validation])
    for label, polygons in ((1, water), (0, land)):
        held_out = len(np.unique(polygon_ids[validation & (labels == label)]))
        kept = len(np.unique(polygon_ids[train & (labels == label)]))
        assert held_out == min(polygons - 1, max(1, round(fraction * polygons)))
        assert kept == polygons - held_out >= 1


def test_seeded_split_repeats_and_seeds_differ():
    labels, polygon_ids = polygon_samples(12, 12)
    first = split_by_polygon(labels, polygon_ids, 0.25, seed=7)[1]
    np.testing.assert_array_equal(first, split_by_polygon(labels, polygon_ids, 0.25, seed=7)[1])
    others = {tuple(np.unique(polygon_ids[split_by_polygon(labels, polygon_ids, 0.25, seed)[1]]))
              for seed in range(8)}
    assert len(others) > 1


def test_fraction_zero_trains_on_everything_silently():
    labels, polygon_ids = polygon_samples(4, 4)
    train, validation, message = split_by_polygon(labels, polygon_ids, 0.0)
    assert train.all() and not validation.any() and message is None


def test_one_polygon_of_a_class_holds_nothing_out_and_says_so():
    labels, polygon_ids = polygon_samples(1, 6)
    train, validation, message = split_by_polygon(labels, polygon_ids, 0.2)
    assert train.all() and not validation.any()
    assert message.startswith("Only 1 water polygon yields pixels, so no polygon can be held out")
    assert "Draw more polygons of each class" in message


def test_too_few_polygons_gives_training_figures_with_the_message():
    labels, polygon_ids = polygon_samples(4, 1, seed=2)
    rng = np.random.default_rng(2)
    values = np.where(labels[:, None] == 1, 300.0, 1500.0) + rng.normal(0, 400, (len(labels), 2))
    samples = Samples([1, 2], values, labels, polygon_ids, np.zeros(len(labels)), np.zeros(len(labels)))
    logged = []
    result = train_water_model(samples, TrainingSettings(validation_fraction=0.2), Callbacks(log=logged.append))
    assert result.figures_source == "training pixels"
    assert result.messages[0].startswith("Only 1 land polygon yields pixels")
    assert result.messages[0] in logged
    assert not result.validation_mask.any() and result.train_mask.all()
    expected = accuracy_figures(result.model.predict_probability(values), labels)
    assert result.figures == pytest.approx(expected, nan_ok=True)
    assert result.model.training["accuracy"]["source"] == "training pixels"
    assert result.model.training["validation_pixels"] == 0
