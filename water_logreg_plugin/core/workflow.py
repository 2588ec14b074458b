"""The jobs the algorithms run, each a few calls into the core, top-down.

train_water_model: hold out polygons → fit → figures.
train_and_save:    train_water_model → save the model (→ HTML report).
classify_water:    sample → train_water_model → save the model → predict (→ model against NDWI, report).
"""

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .callbacks import QUIET
from .errors import WaterLogRegError
from .learning.metrics import accuracy_figures, format_figures
from .learning.polygon_check import check_training_polygons, polygon_check_lines, polygon_check_summary
from .learning.sampling import sample_pixels
from .learning.split import split_by_polygon
from .maps.index_comparison import compare_with_index
from .maps.predict import predict_water
from .maps.water_share import adjust_to_water_share
from .model import fit_water_model, save_model
from .model.compatibility import raster_description
from .raster.outputs import all_or_nothing
from .raster.reading import open_raster
from .raster.writing import atomic_output, check_output_folders
from .report import write_assessment_report, write_training_report
from .settings import DEFAULT_SETTINGS


@dataclass
class TrainingResult:
    model: object
    history: dict
    figures: dict  # accuracy_figures() on held-out polygons, else on the training pixels
    figures_source: str  # "held-out polygons" or "training pixels"
    train_mask: np.ndarray
    validation_mask: np.ndarray
    messages: list = field(default_factory=list)


def train_water_model(samples, settings=DEFAULT_SETTINGS, callbacks=QUIET, training_info=None):
    """Fit on the training polygons and measure the model on the held-out ones."""
    log = callbacks.log
    train_mask, validation_mask, note = split_by_polygon(
        samples.labels, samples.polygon_ids, settings.validation_fraction, settings.seed
    )
    messages = [note] if note else []
    if note:
        log(note)
    held_out = bool(validation_mask.any())
    if held_out:
        log(f"Holding out {len(np.unique(samples.polygon_ids[validation_mask]))} polygons "
            f"({int(validation_mask.sum())} pixels) for validation.")
    model, history = fit_water_model(
        samples.values[train_mask], samples.labels[train_mask], samples.bands, settings, callbacks,
        validation=(samples.values[validation_mask], samples.labels[validation_mask]) if held_out else None,
        training_info=training_info,
    )
    checked = validation_mask if held_out else train_mask
    threshold = settings.threshold
    figures = accuracy_figures(
        model.predict_probability(samples.values[checked]), samples.labels[checked], threshold
    )
    source = "held-out polygons" if held_out else "training pixels"
    model.training["accuracy"] = dict(recorded(figures), source=source, threshold=threshold)
    model.training["validation_pixels"] = int(validation_mask.sum())
    log(format_figures(figures, f"Accuracy on {source}"))
    return TrainingResult(model, history, figures, source, train_mask, validation_mask, messages)


@all_or_nothing
def train_and_save(samples, model_path, report_path=None, settings=DEFAULT_SETTINGS, callbacks=QUIET,
                   training_info=None):
    """Train on samples, save the model file and, when asked, the HTML report; returns the
    TrainingResult."""
    check_output_folders(model_path, report_path)
    result = train_water_model(samples, settings, callbacks, training_info)
    write_model(result.model, model_path)
    if report_path:
        write_training_report(report_path, samples, result, dict(
            settings.as_report(), bands=samples.bands, seed=settings.seed, device_asked=settings.device))
        callbacks.log(f"Report written to {report_path}.")
    callbacks.check_canceled()  # a cancel up to the last output in place removes them all
    return result


def write_model(model, path):
    with atomic_output(path) as partial:
        save_model(model, partial)


@dataclass
class ClassificationResult:
    samples: object
    training: TrainingResult
    prediction: object
    polygon_checks: list = field(default_factory=list)  # polygon_check.PolygonCheck, one an input polygon


@all_or_nothing
def classify_water(raster_path, bands, polygons, output_path, settings=DEFAULT_SETTINGS, callbacks=QUIET,
                   model_path=None, mask_path=None, report_path=None, max_pixels_per_class=100_000, prior=None,
                   unclassed_ids=()):
    """The one-click job: polygons → samples → model → probability raster (→ HTML report).

    prior: the share of water the map is for (water_share.WaterPrior; None: the training
    pixels'); the held-out figures are those of that map. unclassed_ids: features without a
    class, listed as ignored by the polygon check."""
    check_output_folders(output_path, model_path, mask_path, report_path)
    started = time.perf_counter()
    raster = open_raster(raster_path, decode_threads=True)
    samples = sample_pixels(raster, bands, polygons, max_pixels_per_class, settings.seed, callbacks.part(0.0, 0.2))
    training = train_water_model(samples, settings, callbacks.part(0.2, 0.5), raster_description(raster))
    checks = check_polygons(samples, polygons, training, settings.threshold, unclassed_ids, callbacks.log)
    prediction = predict_water(raster, training.model, output_path, settings.device, mask_path, settings.threshold,
                               callbacks.part(0.5, 0.9 if report_path else 1.0), prior)
    figures_for_the_map(samples, training, prediction.water_share, settings.threshold, callbacks.log)
    if model_path:
        write_model(training.model, model_path)
    if report_path:
        comparison = compare_with_index(raster, output_path, samples, training, settings.threshold,
                                        callbacks.part(0.9, 1.0))
        if comparison is not None:
            log_comparison(comparison, callbacks)
        report_settings = dict(
            settings.as_report(), raster=os.path.basename(str(raster_path)), bands=samples.bands,
            max_pixels_per_class=max_pixels_per_class, seed=settings.seed, device_asked=settings.device,
        )
        write_training_report(report_path, samples, training, report_settings, prediction, {
            "training": training.model.fit_outcome.seconds, "prediction": prediction.seconds,
            "whole_job": time.perf_counter() - started,
        }, index_comparison=comparison, polygon_checks=checks)
        callbacks.log(f"Report written to {report_path}.")
    callbacks.check_canceled()  # a cancel up to the last output in place removes them all
    return ClassificationResult(samples, training, prediction, checks)


def check_polygons(samples, polygons, training, threshold, unclassed_ids, log):
    """The training polygons checked against the fitted model (held-out ones against the model
    that did not see them, which is the same model: the fit leaves them out); a count of each
    verdict logged, then the suspect polygons and those with no valid pixel, one line each
    (sampling groups those without pixels by reason; here each is named, next to the suspect)."""
    probability = training.model.predict_probability(samples.values)
    held_out = np.unique(samples.polygon_ids[training.validation_mask])
    checks = check_training_polygons(polygons, samples.polygon_ids, probability, threshold,
                                     samples.polygon_pixels or None, held_out, unclassed_ids)
    log(polygon_check_summary(checks))
    for line in polygon_check_lines(checks, threshold, samples.empty_reasons):
        log(line)
    return checks


def recorded(figures):
    """The figures as the model file records them: JSON has no NaN, so a ratio with an empty
    denominator (precision where nothing is called water) is null."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in figures.items()}


def figures_for_the_map(samples, training, water_share, threshold, log):
    """The held-out figures again, on P(water) adjusted as the map is (the map the user gets),
    when the map's share differs from the training pixels'; the model file records them."""
    if water_share is None or not water_share.shift:
        return
    checked = training.validation_mask if training.validation_mask.any() else training.train_mask
    probability = adjust_to_water_share(training.model.predict_probability(samples.values[checked]),
                                        water_share.training_share, water_share.scene_share)
    training.figures = accuracy_figures(probability, samples.labels[checked], threshold)
    training.model.training["accuracy"] = dict(recorded(training.figures), source=training.figures_source,
                                               threshold=threshold, water_share=water_share.scene_share)
    log(format_figures(training.figures, f"Accuracy on {training.figures_source}, P(water) for "
                                         f"{100 * water_share.scene_share:.2f} % water as the map is"))


def log_comparison(comparison, callbacks):
    """The index's figures beside the model's, for the log."""
    callbacks.log(comparison.reason)
    for name, figures in ((f"{comparison.index} ≥ {comparison.threshold:.4f} (Otsu)", comparison.index_figures),
                          ("the model", comparison.model_figures)):
        callbacks.log(f"{name} on the {comparison.source}: accuracy {figures['overall_accuracy']:.4f}, "
                      f"kappa {figures['kappa']:.4f}, water F1 {figures['f1']:.4f}, IoU {figures['iou']:.4f}.")


def assess_accuracy(probability_path, polygons, threshold=0.5, callbacks=QUIET, report_path=None):
    """Figures of an existing probability map against independent validation polygons.

    Every valid pixel under the polygons counts (no cap), so the figures are exact.
    """
    check_output_folders(report_path)
    started = time.perf_counter()
    raster = open_raster(probability_path)
    name = os.path.basename(raster.GetDescription())
    # The polygons are checked first, so a refusal about them reads the same for any raster.
    samples = sample_pixels(raster, [1], polygons, 0, 0, callbacks)
    if raster.RasterCount != 1:
        raise WaterLogRegError(
            f"The raster '{name}' has {raster.RasterCount} bands, so it is not a probability map (one band "
            "of P(water) from 0 to 1). Choose the output of 'Predict water probability' or 'Classify water'."
        )
    low, high = float(samples.values.min()), float(samples.values.max())
    if low < 0 or high > 1:
        raise WaterLogRegError(
            f"The raster '{name}' holds values from {low:g} to {high:g} under the polygons, so it is not a "
            "probability map (P(water) from 0 to 1). Choose the output of 'Predict water probability' or "
            "'Classify water'."
        )
    figures = accuracy_figures(samples.values[:, 0], samples.labels, threshold)
    callbacks.log(format_figures(figures, "Accuracy against the validation polygons"))
    if report_path:
        write_assessment_report(
            report_path, samples, figures, threshold,
            {"probability_raster": os.path.basename(str(probability_path))},
            {"reading_pixels": time.perf_counter() - started},
        )
        callbacks.log(f"Report written to {report_path}.")
    return figures, samples
