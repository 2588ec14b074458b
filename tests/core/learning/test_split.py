"""Holding out whole polygons: grouped, stratified, seeded, and honest when it cannot."""

import numpy as np
import pytest
from sklearn import metrics as reference

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning.sampling import Samples
from water_logreg_plugin.core.learning.split import split_by_polygon
from water_logreg_plugin.core.settings import TrainingSettings
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


# (water polygons, land polygons, fraction, water held out, land held out), counted by hand:
# a fraction of each class's polygons, rounded, at least one held out and at least one kept.
@pytest.mark.parametrize("water, land, fraction, water_held, land_held", [
    (10, 10, 0.2, 2, 2),   # 2.0 and 2.0
    (5, 12, 0.3, 2, 4),    # 1.5 → 2, 3.6 → 4
    (2, 2, 0.5, 1, 1),     # 1.0 and 1.0
    (3, 7, 0.9, 2, 6),     # 2.7 → 3 would leave no water polygon to train on: 2; 6.3 → 6
    (4, 9, 0.1, 1, 1),     # 0.4 and 0.9: at least one
])
def test_no_polygon_sits_on_both_sides_and_each_class_is_held_out(water, land, fraction, water_held, land_held):
    labels, polygon_ids = polygon_samples(water, land)
    train, validation, message = split_by_polygon(labels, polygon_ids, fraction, seed=4)
    assert message is None
    assert (train ^ validation).all()  # every pixel on exactly one side
    assert not set(polygon_ids[train]) & set(polygon_ids[validation])
    for label, polygons, held in ((1, water, water_held), (0, land, land_held)):
        held_out = len(np.unique(polygon_ids[validation & (labels == label)]))
        kept = len(np.unique(polygon_ids[train & (labels == label)]))
        assert (held_out, kept) == (held, polygons - held)


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
    # The figures are those of every training pixel, computed here with numpy and scikit-learn.
    (weight, bias), = result.model.layers
    standardized = (values - values.mean(axis=0)) / values.std(axis=0)
    probability = 1 / (1 + np.exp(-(standardized @ weight[0] + bias[0])))
    predicted = (probability >= 0.5).astype(np.uint8)
    assert result.figures["pixels"] == len(labels)
    assert result.figures["overall_accuracy"] == pytest.approx(reference.accuracy_score(labels, predicted))
    assert result.figures["kappa"] == pytest.approx(reference.cohen_kappa_score(labels, predicted))
    assert result.figures["f1"] == pytest.approx(reference.f1_score(labels, predicted))
    assert result.figures["log_loss"] == pytest.approx(reference.log_loss(labels, probability), rel=1e-9)
    assert result.model.training["accuracy"]["source"] == "training pixels"
    assert result.model.training["validation_pixels"] == 0
