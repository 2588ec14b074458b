"""The water model, split by reason to change: network.py the maths (WaterModel, the torch
layers), training.py the fit, model_file.py the JSON file. Callers import from here."""

from ..settings import DEFAULT_LEARNING_RATE, DEFAULT_MAX_STEPS, OPTIMIZERS, TrainingSettings, parse_hidden_layers
from .model_file import FORMAT_VERSION, MAX_MODEL_BYTES, MODEL_FORMAT, load_model, save_model
from .network import WaterModel
from .training import fit_water_model

__all__ = [
    "DEFAULT_LEARNING_RATE", "DEFAULT_MAX_STEPS", "FORMAT_VERSION", "MAX_MODEL_BYTES", "MODEL_FORMAT", "OPTIMIZERS",
    "TrainingSettings", "WaterModel", "fit_water_model", "load_model", "parse_hidden_layers", "save_model",
]
