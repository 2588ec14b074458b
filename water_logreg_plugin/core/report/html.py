"""The HTML report: one self-contained file a person opens to judge a water model or map.

Plots are PNGs embedded as base64, so the file can be mailed or archived alone. They are
drawn with matplotlib's object API on the Agg canvas (never pyplot): pyplot keeps global
state and picks a GUI backend, neither of which is safe inside a Processing worker thread.
Even so, matplotlib's text layout shares parsers and caches between threads (two reports
drawn at once fail in its mathtext parser), so a lock lets one report draw at a time. And
matplotlib's parser (pyparsing) leaves exception tracebacks in reference cycles; they hold
every frame below them, so the drawing runs on a thread of its own, where those frames do
not include the caller's (a Processing context whose layers must close while QGIS runs).

Every number a test or a script may want to read sits in an element with a data attribute
(data-figure, data-coefficient, data-count, data-setting, data-timing) and its exact value
in data-value, e.g. <td data-figure="kappa" data-value="0.9512345">0.9512</td>.
"""

import base64
import concurrent.futures
import datetime
import html
import io
import itertools
import math
import threading

import numpy as np

from ..learning.metrics import FIGURE_TABLE
from ..learning.polygon_check import IGNORED, NO_VALID_PIXEL, OK, SUSPECT, flagged, verdict_counts
from ..maps.water_share import adjust_to_water_share
from ..raster.writing import atomic_output
from . import figures as plots
from . import index_map as index_plots
from .reliability import calibration_curve, reliability_diagram

# Pairs of bands drawn in feature space; a 10-band model has 45 pairs, too many to look at.
MAX_BAND_PAIRS = 10
# Rows of suspect or empty polygons the report lists; the polygon check output holds them all.
MAX_LISTED_POLYGONS = 500
_DRAWING = threading.Lock()

STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 1em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f2f2f2; } td.name, th.name { text-align: left; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figcaption { font-size: 0.85em; max-width: 32em; }
p.note { background: #fff4ce; padding: 0.5em; border-left: 4px solid #e0a800; }
"""


def write_training_report(path, samples, training, settings=None, prediction=None, timings=None,
                          title="Water model report", index_comparison=None, polygon_checks=None):
    """The report of a fitted model: accuracy, loss curve, feature space, coefficients, run.

    samples: the Samples the model was trained on; training: a workflow.TrainingResult;
    settings: what the user chose, shown as given; prediction: a PredictionSummary when a
    map was made; timings: {step name: seconds}; index_comparison: an IndexComparison, shown
    as the section 'Model against NDWI'; polygon_checks: the polygon_check.PolygonCheck list,
    counted by verdict with the suspect and empty polygons listed.
    """
    model = training.model
    checked = training.validation_mask if training.validation_mask.any() else training.train_mask
    probability = model.predict_probability(samples.values[checked])
    share = getattr(prediction, "water_share", None)
    if share is not None and share.shift:  # the figures and plots of the map as the user gets it
        probability = adjust_to_water_share(probability, share.training_share, share.scene_share)
    threshold = model.training.get("accuracy", {}).get("threshold", 0.5)
    timings = dict(timings or {})
    timings.setdefault("training", model.fit_outcome.seconds)
    sections = _drawn(_training_sections, samples, training, probability, checked, threshold)
    if prediction is not None:
        sections.append(_map_section(prediction, threshold))
    if share is not None and share.sample_probability is not None and share.sample_probability.size:
        sections.append(_drawn(_scene_share_section, share, threshold))
    if polygon_checks:
        sections.append(_polygon_check_section(polygon_checks))
    if index_comparison is not None:
        sections.append(_drawn(_index_section, index_comparison, threshold))
    sections.append(_run_section(dict(settings or {}), model.training, timings))
    _write(path, title, sections)


def _training_sections(samples, training, probability, checked, threshold):
    model = training.model
    return [
        _summary(model.kind, training.figures_source, training.messages + list(samples.messages)),
        _accuracy_section(training.figures, probability, samples.labels[checked], threshold,
                          training.figures_source),
        _loss_section(training.history, model.fit_outcome),
        _feature_space_section(model, samples, training.train_mask, training.validation_mask),
        _coefficients_section(model),
        _training_samples_section(samples, training.train_mask, training.validation_mask),
    ]


def write_assessment_report(path, samples, figures, threshold, settings=None, timings=None,
                            title="Water map accuracy report"):
    """The report of a probability map against validation polygons (samples of its band 1)."""
    source = "validation polygons"
    accuracy = _drawn(_accuracy_section, figures, samples.values[:, 0], samples.labels, threshold, source)
    sections = [
        _summary("probability map", source, list(samples.messages)),
        accuracy,
        _table_section("Validation pixels", "samples", [
            ("Water pixels", "water", samples.water_count),
            ("Land pixels", "land", samples.land_count),
            ("Water polygons", "water_polygons", _polygon_count(samples, samples.labels == 1)),
            ("Land polygons", "land_polygons", _polygon_count(samples, samples.labels == 0)),
        ], "data-count"),
        _run_section(dict(settings or {}), {}, dict(timings or {})),
    ]
    _write(path, title, sections)


def _drawn(function, *arguments):
    """function(*arguments) on a drawing thread of its own, one drawing at a time."""
    with _DRAWING, concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="water-report") as drawing:
        return drawing.submit(function, *arguments).result()


def _write(path, title, sections):
    document = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_text(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        f'<p>Written {datetime.datetime.now().astimezone().isoformat(timespec="seconds")} '
        "by water_logreg_plugin.</p>",
        *sections,
        "</body></html>",
    ])
    with atomic_output(path) as partial, open(partial, "w", encoding="utf-8") as handle:
        handle.write(document)


# Sections -------------------------------------------------------------------------------

def _summary(kind, source, messages):
    notes = "".join(f'<p class="note">{_text(message)}</p>' for message in messages if message)
    return (f'<p>Model: <span data-setting="model" data-value="{_text(kind)}">{_text(kind)}</span>. '
            f'Figures measured on <span data-setting="figures_source" data-value="{_text(source)}">'
            f"{_text(source)}</span>.</p>{notes}")


def _accuracy_section(figures, probability, labels, threshold, source):
    rows = "".join(
        f'<tr><td class="name">{figure.label}</td>{_cell("data-figure", figure.key, figures[figure.key])}</tr>'
        for figure in FIGURE_TABLE if not figure.confusion
    )
    confusion = (
        '<table id="confusion-matrix"><tr><th class="name">reference ↓ / predicted →</th>'
        "<th>water</th><th>land</th></tr>"
        f'<tr><th class="name">water</th>{_cell("data-figure", "true_water", figures["true_water"])}'
        f'{_cell("data-figure", "false_land", figures["false_land"])}</tr>'
        f'<tr><th class="name">land</th>{_cell("data-figure", "false_water", figures["false_water"])}'
        f'{_cell("data-figure", "true_land", figures["true_land"])}</tr></table>'
    )
    histogram = _image(
        plots.probability_histogram(probability, labels, threshold), "plot-probability-histogram",
        f"Histogram of the predicted water probability of the pixels of the {source}, by reference class",
        f"P(water) of the {len(labels)} pixels of the {source}; the dashed line is the threshold "
        f"{threshold:g}: water pixels left of it and land pixels right of it are errors.",
    )
    return (f'<h2 id="accuracy">Accuracy on the {_text(source)}</h2>'
            f'<p>A pixel is called water where P(water) ≥ '
            f'{_cell_inline("data-setting", "threshold", float(threshold))}.</p>'
            f'<table id="figures"><tr><th class="name">Figure</th><th>Value</th></tr>{rows}</table>'
            f"<p>Confusion matrix (pixels):</p>{confusion}{histogram}"
            + _calibration_section(figures, probability, labels, source))


def _calibration_section(figures, probability, labels, source):
    """The reliability curve and its table (data-reliability per bin); see report/calibration.py."""
    curve = calibration_curve(probability, labels)
    if curve is None:
        return ""
    rows = "".join(
        f'<tr data-bin="{number}"><td class="name">{entry.lower:.1f}–{entry.upper:.1f}</td>'
        f'{_cell("data-reliability", "count", entry.count)}'
        f'{_cell("data-reliability", "mean_predicted", entry.mean_predicted)}'
        f'{_cell("data-reliability", "observed", entry.observed)}</tr>'
        for number, entry in enumerate(curve)
    )
    image = _image(
        reliability_diagram(curve), "plot-reliability",
        f"Reliability curve: observed water fraction against mean predicted P(water) on the {source}",
        f"The {len(labels)} pixels of the {source} in {len(curve)} bins of predicted P(water): a calibrated "
        "model's points lie on the diagonal; above it the map says less water than there is, below it more.",
    )
    return (f'<h2 id="calibration">Calibration on the {_text(source)}</h2>'
            f"<p>Brier score {_shown(figures['brier'])} (mean squared difference between P(water) and the "
            f"0/1 label) and expected calibration error {_shown(figures['ece'])} (the pixel-weighted mean "
            "distance of the points below from the diagonal), beside log-loss "
            f"{_shown(figures['log_loss'])}.</p>"
            '<table id="reliability-table"><tr><th class="name">P(water) bin</th><th>Pixels</th>'
            f"<th>Mean predicted P</th><th>Observed water fraction</th></tr>{rows}</table>{image}")


def _loss_section(history, outcome):
    steps = outcome.steps
    image = _image(
        plots.loss_curve(history), "plot-loss",
        "Loss curve: binary cross-entropy of the training and validation pixels over optimiser steps",
        f"Mean binary cross-entropy at the start and after each of the {steps} optimiser steps "
        f"({_text(outcome.optimizer.upper())}); the validation curve is the "
        "held-out polygons' loss. A validation loss that rises while training falls means overfitting.",
    )
    return (f'<h2 id="training">Training</h2><p><span data-count="steps" data-value="{steps}">{steps}</span> '
            "steps, final training loss "
            f'{_cell_inline("data-figure", "final_loss", outcome.final_loss)}.'
            f"{_convergence(outcome)}</p>{image}")


def _convergence(outcome):
    """Whether the fit reached its optimum: the stopping rule, the final gradient norm, the note."""
    converged = outcome.converged
    text = (f' Converged: <span data-setting="converged" data-value="{converged}">{"yes" if converged else "no"}'
            "</span> (stopping rule "
            f'{_text(outcome.stopping_rule)}), final gradient norm '
            f'{_cell_inline("data-figure", "gradient_norm", outcome.gradient_norm)}.')
    if outcome.objective_gap is not None and math.isfinite(outcome.objective_gap):
        text += (" Objective gap to the exact optimum "
                 f'{_cell_inline("data-figure", "objective_gap", outcome.objective_gap)}.')
    if outcome.note:
        text += f'</p><p class="note">{_text(outcome.note)}'
    return text


def _feature_space_section(model, samples, train_mask, validation_mask):
    band_count = len(model.bands)
    shown = plots.plotted_subset(samples.labels, train_mask, validation_mask)
    linear = not model.hidden_layers
    boundary = "the line Aᵀx + b = 0" if linear else "the P(water) = 0.5 contour"
    images = []
    if band_count >= 2:
        images.append(_image(
            plots.model_plot(model, samples, shown), "plot-feature-space-model",
            "Samples where the model puts them: the model's decision value across, the main other "
            "direction up, with the decision boundary",
            "Every drawn pixel at its exact place for the model. Across: "
            + ("Aᵀx + b, the model's normal direction; P(water) = σ(Aᵀx + b)" if linear
               else "the network's output before σ; P(water) = σ(output)")
            + ", so the vertical line at 0 is the decision boundary and the shading P(water), both exact. "
            "Up: the direction (in standardized bands) along which the pixels spread most "
            + ("among those the model ignores (orthogonal to A)." if linear else "(first principal component)."),
        ))
    if band_count == 1:
        images.append(_image(
            plots.one_band_plot(model, samples, shown), f"plot-feature-space-b{model.bands[0]}",
            f"Band {model.bands[0]} values by class with the model's water probability",
            "Band values of the samples by class, and P(water) along the band (right axis).",
        ))
    pairs = list(itertools.combinations(range(band_count), 2))
    for first, second in pairs[:MAX_BAND_PAIRS]:
        names = f"b{model.bands[first]}-b{model.bands[second]}"
        images.append(_image(
            plots.pair_plot(model, samples, shown, first, second), f"plot-feature-space-{names}",
            f"Samples in feature space, band {model.bands[first]} against band {model.bands[second]}, "
            "coloured by class" + (", with the decision boundary" if band_count == 2 else ""),
            f"{plots.band_label(model, first)} against {plots.band_label(model, second)}"
            + (f": the boundary is {boundary} and shading is P(water), exact (the model uses these two bands "
               "only)." if band_count == 2 else
               f": the samples only. The model also uses the other {band_count - 2} band(s), so no line in this "
               "plane separates its water from its land; the first figure shows where the model puts each pixel."),
        ))
    if band_count == 3:
        images.append(_image(
            plots.three_d_plot(model, samples, shown), "plot-feature-space-3d",
            "Samples in the three-band feature space with the decision surface",
            "The three bands together; " + (
                "the surface is the decision plane Aᵀx + b = 0." if not model.hidden_layers
                else "grey points mark where P(water) crosses 0.5 on a grid (the MLP's decision surface)."),
        ))
    left_out = len(pairs) - MAX_BAND_PAIRS
    note = f"<p>{left_out} further band pairs are not drawn.</p>" if left_out > 0 else ""
    return ('<h2 id="feature-space">Feature space</h2><p>Dots are training pixels, crosses '
            f"held-out pixels (at most {plots.MAX_PLOTTED_PER_GROUP} of each class and side drawn).</p>"
            + "".join(images) + note)


def _coefficients_section(model):
    coefficients = model.coefficients_in_band_units()
    if coefficients is None:
        parameters = sum(weight.size + bias.size for weight, bias in model.layers)
        return ('<h2 id="coefficients">Coefficients</h2><p>A multi-layer perceptron with hidden layers '
                f'{",".join(map(str, model.hidden_layers))} and {_cell_inline("data-count", "parameters", parameters)} '
                "parameters has no single coefficient per band; its feature-space plots show what it learned.</p>")
    in_band_units, intercept = coefficients
    standardized, standardized_bias = model.layers[0][0][0], float(model.layers[0][1][0])
    rows = "".join(
        f'<tr data-band="{band}"><td class="name">{_text(plots.band_label(model, index))}</td>'
        f'{_cell("data-coefficient", "standardized", standardized[index])}'
        f'{_cell("data-coefficient", "band_units", in_band_units[index])}'
        f'{_cell("data-coefficient", "mean", model.mean[index])}'
        f'{_cell("data-coefficient", "std", model.std[index])}</tr>'
        for index, band in enumerate(model.bands)
    )
    rows += (f'<tr data-band="intercept"><td class="name">intercept b</td>'
             f'{_cell("data-coefficient", "standardized", standardized_bias)}'
             f'{_cell("data-coefficient", "band_units", intercept)}<td></td><td></td></tr>')
    return ('<h2 id="coefficients">Coefficients</h2><p>P(water) = σ(Aᵀx + b). Standardized: per unit '
            "of (x − mean)/std, so their sizes compare how much each band matters. In band units: per "
            "unit of the raster's own values, the form to use elsewhere (e.g. in the raster calculator).</p>"
            '<table id="coefficients-table"><tr><th class="name">Band</th><th>A standardized</th>'
            f"<th>A in band units</th><th>Training mean</th><th>Training std</th></tr>{rows}</table>")


def _training_samples_section(samples, train_mask, validation_mask):
    water, land = samples.labels == 1, samples.labels == 0
    rows = []
    for side, mask in (("training", train_mask), ("validation", validation_mask)):
        rows += [
            (f"Water pixels, {side}", f"{side}_water", int(np.count_nonzero(mask & water))),
            (f"Land pixels, {side}", f"{side}_land", int(np.count_nonzero(mask & land))),
            (f"Water polygons, {side}", f"{side}_water_polygons", _polygon_count(samples, mask & water)),
            (f"Land polygons, {side}", f"{side}_land_polygons", _polygon_count(samples, mask & land)),
        ]
    return _table_section("Samples", "samples", rows, "data-count")


def _map_section(prediction, threshold):
    rows = [
        ("Pixels in the raster", "pixels", prediction.pixels),
        ("Valid pixels", "valid_pixels", prediction.valid_pixels),
        (f"Water pixels (P ≥ {threshold:g})", "water_pixels", prediction.water_pixels),
        ("Water fraction of valid pixels", "water_fraction", prediction.water_fraction),
    ]
    share = getattr(prediction, "water_share", None)
    if share is not None and share.training_share is not None:
        # P(water) is a posterior for a share of water: the training pixels', moved to the scene's.
        rows += [("Share of water in the training pixels", "training_water_share", share.training_share),
                 ("Share of water P(water) is for (the scene's)", "scene_water_share", share.scene_share)]
        if share.estimate is not None:
            rows.append(("EM steps to the scene's share", "em_steps", share.estimate.iterations))
    return _table_section("Map", "map", rows, "data-count")


def _scene_share_section(share, threshold):
    before = share.sample_probability
    after = adjust_to_water_share(before, share.training_share, share.scene_share)
    figure = plots.scene_share_histogram(before, after, share.training_share, share.scene_share, threshold)
    return (f'<h2 id="scene-share">The scene\'s share of water</h2>'
            f"<p>{_text(' '.join(share.messages))}</p>"
            + _image(figure, "plot-scene-share", "P(water) of the scene before and after the scene's share",
                     f"P(water) of {before.size} sampled pixels of the scene, for the training pixels' share "
                     f"and for the scene's"))


def _polygon_check_section(checks):
    """How many training polygons got each verdict, and a row for each to look at: the suspect
    ones (most of their pixels on the other side of the fitted model) and those with no valid pixel."""
    counts = verdict_counts(checks)
    count_rows = "".join(
        f'<tr><td class="name">{_text(verdict)}</td>'
        f'{_cell("data-count", "polygons_" + verdict.replace(" ", "_"), counts[verdict])}</tr>'
        for verdict in (OK, SUSPECT, NO_VALID_PIXEL, IGNORED))
    to_look_at = flagged(checks)
    rows = "".join(
        f'<tr data-polygon="{check.source_fid}"><td>{check.source_fid}</td>'
        f'{_polygon_cell("class", "" if check.class_value is None else check.class_value)}'
        f'{_polygon_cell("verdict", check.verdict)}{_polygon_cell("agreement", check.agreement)}'
        f'{_polygon_cell("valid_pixels", check.valid_pixels)}</tr>'
        for check in to_look_at[:MAX_LISTED_POLYGONS])
    if not to_look_at:
        listed = "<p>Every polygon with a class yields valid pixels, and none looks like the other class.</p>"
    else:
        more = len(to_look_at) - MAX_LISTED_POLYGONS
        listed = ("<p>Polygons to look at: a suspect one has most of its pixels on the other side of the fitted "
                  "model (agreement below 0.5; a held-out polygon judged by the model that did not see it), "
                  "so check its class and its outline; one with no valid pixel lies outside the raster, "
                  "covers no pixel centre or lies in nodata in some band, and teaches nothing.</p>"
                  '<table id="polygon-check-table"><tr><th>Feature id</th><th class="name">Class</th>'
                  f'<th class="name">Verdict</th><th>Agreement</th><th>Valid pixels</th></tr>{rows}</table>'
                  + (f"<p>… and {more} more, not listed here; the polygon check output lists them all.</p>"
                     if more > 0 else ""))
    return (f'<h2 id="polygon-check">Training polygons checked</h2>'
            f'<table id="polygon-check-counts">{count_rows}</table>{listed}')


def _polygon_cell(key, value):
    """A cell of the polygon table; data-value is empty where the value is None (no pixel)."""
    if value is None:
        return f'<td data-polygon-check="{key}" data-value="">n/a</td>'
    name = ' class="name"' if isinstance(value, str) else ""
    return f"<td{name} {_attributes('data-polygon-check', key, value)}>{_shown(value)}</td>"


def _index_section(comparison, threshold):
    """The model's figures beside the index mask's on the same pixels, and where they disagree."""
    keys = ("overall_accuracy", "kappa", "f1", "iou", "precision", "recall",
            "true_water", "false_land", "false_water", "true_land", "pixels")
    labels = {figure.key: figure.label for figure in FIGURE_TABLE}
    rows = "".join(
        f'<tr><td class="name">{labels[key]}</td>{_cell("data-model-figure", key, comparison.model_figures[key])}'
        f'{_cell("data-index-figure", key, comparison.index_figures[key])}</tr>'
        for key in keys
    )
    counts = comparison.scene_counts
    disagree = counts["model_only"] + counts["index_only"]
    valid = disagree + counts["both_land"] + counts["both_water"]
    index = _text(comparison.index)
    image = _image(
        index_plots.agreement_map(comparison), "plot-model-vs-index",
        f"Map of the scene: where the model and {index} agree on water and land, and where they disagree",
        (f"The scene, one pixel of every {comparison.step} × {comparison.step}" if comparison.step > 1
         else "The scene")
        + f": the model (P ≥ {threshold:g}) and {index} ≥ {comparison.threshold:.4f} disagree on "
        f"{disagree} of {valid} valid pixels ({100 * disagree / valid if valid else 0:.2f} %): "
        f"{counts['model_only']} are water for the model only, {counts['index_only']} for {index} only.",
    )
    return (f'<h2 id="model-vs-index">Model against {index}</h2>'
            f"<p>{_text(comparison.reason)} The water mask is {index} ≥ "
            f'{_cell_inline("data-setting", "index_threshold", comparison.threshold)}, Otsu\'s threshold on '
            f"the whole scene, as the tool Water index (NDWI / MNDWI) finds it; both are scored on the "
            f"same pixels of the {_text(comparison.source)}.</p>"
            f'<table id="model-vs-index-table"><tr><th class="name">Figure</th><th>Model</th>'
            f"<th>{index}</th></tr>{rows}</table>"
            + '<p>Pixels of the whole scene:</p><table id="model-vs-index-scene-table">' + "".join(
                f'<tr><td class="name">{name}</td>{_cell("data-count", f"scene_{key}", counts[key])}</tr>'
                for name, key in (("Water for both", "both_water"), ("Land for both", "both_land"),
                                  ("Water for the model only", "model_only"),
                                  (f"Water for {index} only", "index_only")))
            + "</table>" + image)


def _run_section(settings, training_metadata, timings):
    shown = {key: value for key, value in settings.items() if key != "threshold"}  # shown with the figures
    for key in ("device", "optimizer", "learning_rate", "seed", "torch_version", "source_raster",
                "source_samples", "band_count", "data_type", "created"):
        if key in training_metadata:
            shown.setdefault(key, training_metadata[key])
    if "device" in training_metadata:
        shown["device"] = training_metadata["device"]  # the one used, not the one asked for
    setting_rows = [(key.replace("_", " "), key, _setting_value(value)) for key, value in shown.items()]
    timing_rows = [(f"{name.replace('_', ' ')} (s)", name, seconds)
                   for name, seconds in timings.items() if seconds is not None]
    return (_table_section("Settings", "settings", setting_rows, "data-setting")
            + _table_section("Timing", "timing", timing_rows, "data-timing"))


def _table_section(title, element_id, rows, attribute):
    body = "".join(f'<tr><td class="name">{_text(name)}</td>{_cell(attribute, key, value)}</tr>'
                   for name, key, value in rows)
    return f'<h2 id="{element_id}">{_text(title)}</h2><table id="{element_id}-table">{body}</table>'


# HTML pieces -----------------------------------------------------------------------------

def _image(figure, element_id, alt, caption):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=plots.DPI)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img id="{element_id}" alt="{_text(alt)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{_text(caption)}</figcaption></figure>")


def _cell(attribute, key, value):
    return f"<td {_attributes(attribute, key, value)}>{_shown(value)}</td>"


def _cell_inline(attribute, key, value):
    return f"<span {_attributes(attribute, key, value)}>{_shown(value)}</span>"


def _attributes(attribute, key, value):
    exact = repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)
    return f'{attribute}="{_text(key)}" data-value="{_text(exact)}"'


def _shown(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"
    return _text(value)


def _setting_value(value):
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) if value else "none"
    return "none" if value is None else value


def _polygon_count(samples, mask):
    return int(len(np.unique(samples.polygon_ids[mask])))


def _text(value):
    return html.escape(str(value), quote=True)
