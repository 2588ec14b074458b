"""The jobs the algorithms run, each a few calls into the core, top-down.

train_water_model: hold out polygons → fit → figures.
train_and_save:    train_water_model → save the model (→ HTML report).
classify_water:    sample → train_water_model → save the model → predict.
"""

import os
import time
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal

from .metrics import accuracy_figures, format_figures
from .model import fit_water_model, save_model
from .predict import predict_water
from .raster import atomic_output, check_output_folders, open_raster
from .report import write_assessment_report, write_training_report
from .sampling import sample_pixels
from .split import split_by_polygon


@dataclass
class TrainingResult:
    model: object
    history: dict
    figures: dict  # accuracy_figures() on held-out polygons, else on the training pixels
    figures_source: str  # "held-out polygons" or "training pixels"
    train_mask: np.ndarray
    validation_mask: np.ndarray
    messages: list = field(default_factory=list)


def train_water_model(
    samples,
    validation_fraction=0.2,
    hidden_layers=(),
    optimizer="lbfgs",
    learning_rate=None,
    max_steps=500,
    device="auto",
    seed=0,
    threshold=0.5,
    training_info=None,
    l2_penalty=0.0,
    progress=lambda fraction: None,
    is_canceled=lambda: False,
    log=lambda message: None,
):
    """Fit on the training polygons and measure the model on the held-out ones."""
    train_mask, validation_mask, note = split_by_polygon(
        samples.labels, samples.polygon_ids, validation_fraction, seed
    )
    messages = [note] if note else []
    if note:
        log(note)
    held_out = bool(validation_mask.any())
    if held_out:
        log(f"Holding out {len(np.unique(samples.polygon_ids[validation_mask]))} polygons "
            f"({int(validation_mask.sum())} pixels) for validation.")
    model, history = fit_water_model(
        samples.values[train_mask], samples.labels[train_mask], samples.bands,
        hidden_layers=hidden_layers, optimizer=optimizer, learning_rate=learning_rate,
        max_steps=max_steps, device=device, seed=seed, l2_penalty=l2_penalty,
        validation=(samples.values[validation_mask], samples.labels[validation_mask]) if held_out else None,
        training_info=training_info, progress=progress, is_canceled=is_canceled, log=log,
    )
    checked = validation_mask if held_out else train_mask
    figures = accuracy_figures(
        model.predict_probability(samples.values[checked]), samples.labels[checked], threshold
    )
    source = "held-out polygons" if held_out else "training pixels"
    model.training["accuracy"] = dict(figures, source=source, threshold=threshold)
    model.training["validation_pixels"] = int(validation_mask.sum())
    log(format_figures(figures, f"Accuracy on {source}"))
    return TrainingResult(model, history, figures, source, train_mask, validation_mask, messages)


def train_and_save(samples, model_path, report_path=None, device="auto", seed=0, training_info=None,
                   progress=lambda fraction: None, is_canceled=lambda: False, log=lambda message: None,
                   **settings):
    """Train on samples (train_water_model's `settings`), save the model file and, when asked,
    the HTML report; returns the TrainingResult."""
    check_output_folders(model_path, report_path)
    result = train_water_model(samples, device=device, seed=seed, training_info=training_info,
                               progress=progress, is_canceled=is_canceled, log=log, **settings)
    write_model(result.model, model_path)
    if report_path:
        write_training_report(report_path, samples, result, dict(settings, bands=samples.bands, seed=seed,
                                                                 device_asked=device))
        log(f"Report written to {report_path}.")
    return result


def write_model(model, path):
    with atomic_output(path) as partial:
        save_model(model, partial)


def raster_description(raster_path):
    """What the model file records of the raster it was trained on."""
    dataset = open_raster(raster_path)
    return {
        "source_raster": os.path.basename(str(raster_path)),
        "band_count": dataset.RasterCount,
        "data_type": gdal.GetDataTypeName(dataset.GetRasterBand(1).DataType),
        # The bands' descriptions (e.g. 'green (B3)'), so the report's plots can say which is which.
        "band_names": [dataset.GetRasterBand(number).GetDescription() for number in range(1, dataset.RasterCount + 1)],
    }


@dataclass
class ClassificationResult:
    samples: object
    training: TrainingResult
    prediction: object


def classify_water(
    raster_path,
    bands,
    polygons,
    output_path,
    model_path=None,
    mask_path=None,
    max_pixels_per_class=100_000,
    seed=0,
    device="auto",
    validation_fraction=0.2,
    hidden_layers=(),
    optimizer="lbfgs",
    learning_rate=None,
    max_steps=500,
    threshold=0.5,
    l2_penalty=0.0,
    progress=lambda fraction: None,
    is_canceled=lambda: False,
    log=lambda message: None,
    report_path=None,
):
    """The one-click job: polygons → samples → model → probability raster (→ HTML report)."""
    check_output_folders(output_path, model_path, mask_path, report_path)
    started = time.perf_counter()
    samples = sample_pixels(
        raster_path, bands, polygons, max_pixels_per_class, seed,
        progress=_part_of(progress, 0.0, 0.2), is_canceled=is_canceled, log=log,
    )
    training = train_water_model(
        samples, validation_fraction, hidden_layers, optimizer, learning_rate, max_steps,
        device, seed, threshold, training_info=raster_description(raster_path), l2_penalty=l2_penalty,
        progress=_part_of(progress, 0.2, 0.5), is_canceled=is_canceled, log=log,
    )
    prediction = predict_water(
        raster_path, training.model, output_path, device, mask_path, threshold,
        progress=_part_of(progress, 0.5, 1.0), is_canceled=is_canceled, log=log,
    )
    if model_path:
        write_model(training.model, model_path)
    if report_path:
        settings = {
            "raster": os.path.basename(str(raster_path)), "bands": samples.bands,
            "max_pixels_per_class": max_pixels_per_class, "validation_fraction": validation_fraction,
            "hidden_layers": list(hidden_layers), "max_steps": max_steps, "l2_penalty": l2_penalty,
            "device_asked": device,
        }
        write_training_report(report_path, samples, training, settings, prediction, {
            "training": training.model.training["seconds"], "prediction": prediction.seconds,
            "whole_job": time.perf_counter() - started,
        })
        log(f"Report written to {report_path}.")
    return ClassificationResult(samples, training, prediction)


def _part_of(progress, start, end):
    """A progress callback for one step that fills [start, end] of the whole job."""
    return lambda fraction: progress(start + (end - start) * fraction)


def assess_accuracy(probability_path, polygons, threshold=0.5, progress=lambda f: None,
                    is_canceled=lambda: False, log=lambda message: None, report_path=None):
    """Figures of an existing probability map against independent validation polygons.

    Every valid pixel under the polygons counts (no cap), so the figures are exact.
    """
    check_output_folders(report_path)
    started = time.perf_counter()
    samples = sample_pixels(probability_path, [1], polygons, 0, 0, progress, is_canceled, log)
    figures = accuracy_figures(samples.values[:, 0], samples.labels, threshold)
    log(format_figures(figures, "Accuracy against the validation polygons"))
    if report_path:
        write_assessment_report(
            report_path, samples, figures, threshold,
            {"probability_raster": os.path.basename(str(probability_path))},
            {"reading_pixels": time.perf_counter() - started},
        )
        log(f"Report written to {report_path}.")
    return figures, samples
