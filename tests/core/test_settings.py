"""TrainingSettings and Callbacks: the two values that travel through the core."""

import dataclasses

import pytest

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.errors import Canceled, WaterLogRegError
from water_logreg_plugin.core.settings import (
    DEFAULT_LEARNING_RATE,
    DEFAULT_MAX_STEPS,
    DEFAULT_MLP_L2_PENALTY,
    DEFAULT_MLP_MAX_STEPS,
    TrainingSettings,
    parse_hidden_layers,
)


def test_defaults_are_logistic_regression_by_the_exact_fit_with_a_small_penalty():
    settings = TrainingSettings()
    assert settings.hidden_layers == () and settings.optimizer == "exact" and settings.max_steps == 500
    assert settings.step_size == DEFAULT_LEARNING_RATE["exact"]
    assert settings.validation_fraction == 0.2 and settings.threshold == 0.5 and settings.l2_penalty == 1e-5


def test_a_multi_layer_perceptron_gets_its_own_measured_defaults():
    settings = TrainingSettings(hidden_layers=[16, 16])
    assert settings.l2_penalty == DEFAULT_MLP_L2_PENALTY == 1e-3 and settings.max_steps == DEFAULT_MLP_MAX_STEPS
    adam = TrainingSettings(hidden_layers=[16, 16], optimizer="adam")
    assert adam.l2_penalty == 1e-3 and adam.max_steps == DEFAULT_MAX_STEPS == 500  # Adam runs them all
    given = TrainingSettings(hidden_layers=[16, 16], l2_penalty=0, max_steps=7)
    assert given.l2_penalty == 0 and given.max_steps == 7  # 0 is maximum likelihood, not "not set"


@pytest.mark.parametrize("earlier_name", ["lbfgs", "newton", "LBFGS"])
def test_earlier_optimizer_names_mean_the_exact_fit(earlier_name):
    assert TrainingSettings(optimizer=earlier_name).optimizer == "exact"


def test_settings_are_normalised_and_frozen():
    settings = TrainingSettings(hidden_layers=[16, 8], optimizer="ADAM", learning_rate=0)
    assert settings.hidden_layers == (16, 8) and settings.optimizer == "adam"
    assert settings.step_size == DEFAULT_LEARNING_RATE["adam"]  # 0, like None, takes the default
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_steps = 3


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": "bfgs"}, "Unknown optimiser 'bfgs'; choose one of exact, adam, sgd."),
    ({"max_steps": 0}, "The number of optimiser steps must be at least 1."),
    ({"learning_rate": -0.1}, "The learning rate must be greater than 0."),
    ({"learning_rate": float("nan")}, "The learning rate must be greater than 0."),
    ({"l2_penalty": -1}, "The L2 penalty must be 0 or more, not -1."),
    ({"l2_penalty": float("inf")}, "The L2 penalty must be 0 or more, not inf."),
])
def test_bad_settings_are_refused_with_the_reason(changes, message):
    with pytest.raises(WaterLogRegError) as refusal:
        TrainingSettings(**changes)
    assert str(refusal.value) == message


def test_hidden_layers_text():
    assert parse_hidden_layers(" 16, 16 ") == [16, 16] and parse_hidden_layers("") == []
    with pytest.raises(WaterLogRegError, match="HIDDEN_LAYERS '16,x' is not a list of layer sizes"):
        parse_hidden_layers("16,x")


def test_part_fills_its_share_of_the_bar_and_keeps_cancel_and_log():
    reported, logged = [], []
    callbacks = Callbacks(progress=reported.append, log=logged.append, is_canceled=lambda: True)
    part = callbacks.part(0.2, 0.5).part(0.5, 1.0)
    part.progress(0.0)
    part.progress(1.0)
    part.log("hello")
    assert reported == pytest.approx([0.35, 0.5]) and logged == ["hello"]
    with pytest.raises(Canceled):
        part.check_canceled()
