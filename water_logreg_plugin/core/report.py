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

from .raster import atomic_output

# Enough points to see each class's cloud; more only slows the drawing and bloats the file.
MAX_PLOTTED_PER_GROUP = 1500
# Pairs of bands drawn in feature space; a 10-band model has 45 pairs, too many to look at.
MAX_BAND_PAIRS = 10
GRID_STEPS = 150
DPI = 80
_DRAWING = threading.Lock()
WATER_COLOUR, LAND_COLOUR, BOUNDARY_COLOUR = "#2171b5", "#c2823c", "#202020"

FIGURE_NAMES = {
    "overall_accuracy": "Overall accuracy",
    "precision": "Precision of water",
    "recall": "Recall of water",
    "f1": "F1 of water",
    "iou": "IoU of water",
    "kappa": "Cohen's kappa",
    "log_loss": "Log-loss",
    "pixels": "Pixels assessed",
}

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
                          title="Water model report"):
    """The report of a fitted model: accuracy, loss curve, feature space, coefficients, run.

    samples: the Samples the model was trained on; training: a workflow.TrainingResult;
    settings: what the user chose, shown as given; prediction: a PredictionSummary when a
    map was made; timings: {step name: seconds}.
    """
    model = training.model
    checked = training.validation_mask if training.validation_mask.any() else training.train_mask
    probability = model.predict_probability(samples.values[checked])
    threshold = model.training.get("accuracy", {}).get("threshold", 0.5)
    timings = dict(timings or {})
    timings.setdefault("training", model.training.get("seconds"))
    sections = _drawn(_training_sections, samples, training, probability, checked, threshold)
    if prediction is not None:
        sections.append(_map_section(prediction, threshold))
    sections.append(_run_section(dict(settings or {}), model.training, timings))
    _write(path, title, sections)


def _training_sections(samples, training, probability, checked, threshold):
    model = training.model
    return [
        _summary(model.kind, training.figures_source, training.messages + list(samples.messages)),
        _accuracy_section(training.figures, probability, samples.labels[checked], threshold,
                          training.figures_source),
        _loss_section(training.history, model),
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
    with atomic_output(path) as partial:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(document)


# Sections -------------------------------------------------------------------------------

def _summary(kind, source, messages):
    notes = "".join(f'<p class="note">{_text(message)}</p>' for message in messages if message)
    return (f'<p>Model: <span data-setting="model" data-value="{_text(kind)}">{_text(kind)}</span>. '
            f'Figures measured on <span data-setting="figures_source" data-value="{_text(source)}">'
            f"{_text(source)}</span>.</p>{notes}")


def _accuracy_section(figures, probability, labels, threshold, source):
    rows = "".join(
        f'<tr><td class="name">{name}</td>{_cell("data-figure", key, figures[key])}</tr>'
        for key, name in FIGURE_NAMES.items()
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
        _probability_histogram(probability, labels, threshold), "plot-probability-histogram",
        f"Histogram of the predicted water probability of the pixels of the {source}, by reference class",
        f"P(water) of the {len(labels)} pixels of the {source}; the dashed line is the threshold "
        f"{threshold:g}: water pixels left of it and land pixels right of it are errors.",
    )
    return (f'<h2 id="accuracy">Accuracy on the {_text(source)}</h2>'
            f'<p>A pixel is called water where P(water) ≥ '
            f'{_cell_inline("data-setting", "threshold", float(threshold))}.</p>'
            f'<table id="figures"><tr><th class="name">Figure</th><th>Value</th></tr>{rows}</table>'
            f"<p>Confusion matrix (pixels):</p>{confusion}{histogram}")


def _loss_section(history, model):
    steps = len(history["loss"])
    image = _image(
        _loss_curve(history), "plot-loss",
        "Loss curve: binary cross-entropy of the training and validation pixels over optimiser steps",
        f"Mean binary cross-entropy after each of the {steps} optimiser steps "
        f"({_text(model.training.get('optimizer', '').upper())}); the validation curve is the "
        "held-out polygons' loss. A validation loss that rises while training falls means overfitting.",
    )
    return (f'<h2 id="training">Training</h2><p><span data-count="steps" data-value="{steps}">{steps}</span> '
            "steps, final training loss "
            f'{_cell_inline("data-figure", "final_loss", model.training.get("final_loss", math.nan))}.</p>{image}')


def _feature_space_section(model, samples, train_mask, validation_mask):
    band_count = len(model.bands)
    shown = _plotted_subset(samples.labels, train_mask, validation_mask)
    boundary = ("the line Aᵀx + b = 0" if not model.hidden_layers
                else "the P(water) = 0.5 contour")
    others = " with the other bands at their training mean" if band_count > 2 else ""
    images = []
    if band_count == 1:
        images.append(_image(
            _one_band_plot(model, samples, shown), f"plot-feature-space-b{model.bands[0]}",
            f"Band {model.bands[0]} values by class with the model's water probability",
            "Band values of the samples by class, and P(water) along the band (right axis).",
        ))
    pairs = list(itertools.combinations(range(band_count), 2))
    for first, second in pairs[:MAX_BAND_PAIRS]:
        names = f"b{model.bands[first]}-b{model.bands[second]}"
        images.append(_image(
            _pair_plot(model, samples, shown, first, second), f"plot-feature-space-{names}",
            f"Samples in feature space, band {model.bands[first]} against band {model.bands[second]}, "
            f"coloured by class, with the decision boundary",
            f"{_band_label(model, first)} against {_band_label(model, second)}: the boundary is {boundary}"
            f"{others}; shading is P(water).",
        ))
    if band_count == 3:
        images.append(_image(
            _three_d_plot(model, samples, shown), "plot-feature-space-3d",
            "Samples in the three-band feature space with the decision surface",
            "The three bands together; " + (
                "the surface is the decision plane Aᵀx + b = 0." if not model.hidden_layers
                else "grey points mark where P(water) crosses 0.5 on a grid (the MLP's decision surface)."),
        ))
    left_out = len(pairs) - MAX_BAND_PAIRS
    note = f"<p>{left_out} further band pairs are not drawn.</p>" if left_out > 0 else ""
    return ('<h2 id="feature-space">Feature space</h2><p>Dots are training pixels, crosses '
            f"held-out pixels (at most {MAX_PLOTTED_PER_GROUP} of each class and side drawn).</p>"
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
        f'<tr data-band="{band}"><td class="name">{_text(_band_label(model, index))}</td>'
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
    return _table_section("Map", "map", [
        ("Pixels in the raster", "pixels", prediction.pixels),
        ("Valid pixels", "valid_pixels", prediction.valid_pixels),
        (f"Water pixels (P ≥ {threshold:g})", "water_pixels", prediction.water_pixels),
        ("Water fraction of valid pixels", "water_fraction", prediction.water_fraction),
    ], "data-count")


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


# Plots -----------------------------------------------------------------------------------

def _figure(width=4.6, height=4.0, projection=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(projection=projection)


def _loss_curve(history):
    figure, axes = _figure(5.5, 3.6)
    steps = np.arange(1, len(history["loss"]) + 1)
    axes.plot(steps, history["loss"], color="#444444", label="training")
    if history.get("validation_loss"):
        axes.plot(steps, history["validation_loss"], color="#d62728", label="validation (held-out polygons)")
    if min(history["loss"] + history.get("validation_loss", [])) > 0:
        axes.set_yscale("log")
        _plain_tick_labels(axes.yaxis)
    axes.set_xlabel("optimiser step")
    axes.set_ylabel("binary cross-entropy")
    axes.legend()
    figure.tight_layout()
    return figure


def _plain_tick_labels(axis):
    """Log-axis labels as plain text: the default ones go through the mathtext parser, which
    leaves reference cycles (holding the report's data) at every label."""
    from matplotlib.ticker import LogFormatter

    axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=True))


def _probability_histogram(probability, labels, threshold):
    figure, axes = _figure(5.5, 3.6)
    bins = np.linspace(0, 1, 41)
    labels = np.asarray(labels)
    axes.hist([np.asarray(probability)[labels == 1], np.asarray(probability)[labels == 0]], bins=bins,
              color=[WATER_COLOUR, LAND_COLOUR], label=["water (reference)", "land (reference)"], stacked=True)
    axes.axvline(threshold, color=BOUNDARY_COLOUR, linestyle="--", label=f"threshold {threshold:g}")
    axes.set_yscale("symlog", linthresh=1)
    _plain_tick_labels(axes.yaxis)
    axes.set_xlabel("predicted P(water)")
    axes.set_ylabel("pixels")
    axes.legend()
    figure.tight_layout()
    return figure


def _plotted_subset(labels, train_mask, validation_mask):
    """Indices of the samples drawn: a seeded, capped draw per class and side."""
    rng = np.random.default_rng(0)
    groups = {}
    for side, mask in (("training", train_mask), ("validation", validation_mask)):
        for label in (1, 0):
            indices = np.flatnonzero(mask & (labels == label))
            if len(indices) > MAX_PLOTTED_PER_GROUP:
                indices = np.sort(rng.choice(indices, MAX_PLOTTED_PER_GROUP, replace=False))
            groups[side, label] = indices
    return groups


def _scatter(axes, samples, shown, columns):
    for (side, label), indices in shown.items():
        if not len(indices):
            continue
        axes.scatter(
            *(samples.values[indices, column] for column in columns),
            s=6 if side == "training" else 14, marker="o" if side == "training" else "x",
            color=WATER_COLOUR if label == 1 else LAND_COLOUR, alpha=0.5, linewidths=0.8,
            label=f"{'water' if label == 1 else 'land'}, {side}",
        )


def _extent(values):
    """Axis limits around the bulk of the values, so one outlier does not squash the plot."""
    low, high = np.percentile(values, [0.5, 99.5])
    pad = 0.08 * (high - low) if high > low else max(abs(low) * 0.05, 1.0)
    return low - pad, high + pad


def _grid_probability(model, axes_columns, axes_values):
    """P(water) over a grid of the given bands, the other bands at their training mean."""
    meshes = np.meshgrid(*axes_values)
    points = np.tile(model.mean, (meshes[0].size, 1))
    for column, mesh in zip(axes_columns, meshes):
        points[:, column] = mesh.ravel()
    return meshes, model.predict_probability(points).reshape(meshes[0].shape)


def _pair_plot(model, samples, shown, first, second):
    figure, axes = _figure()
    x_limits, y_limits = _extent(samples.values[:, first]), _extent(samples.values[:, second])
    (x_grid, y_grid), probability = _grid_probability(
        model, (first, second), (np.linspace(*x_limits, GRID_STEPS), np.linspace(*y_limits, GRID_STEPS)))
    axes.contourf(x_grid, y_grid, probability, levels=np.linspace(0, 1, 11), cmap="Blues", alpha=0.35)
    _scatter(axes, samples, shown, (first, second))
    coefficients = model.coefficients_in_band_units()
    if coefficients is None:
        if probability.min() < 0.5 < probability.max():
            axes.contour(x_grid, y_grid, probability, levels=[0.5], colors=BOUNDARY_COLOUR, linewidths=1.5)
        axes.plot([], [], color=BOUNDARY_COLOUR, label="P(water) = 0.5")
    else:
        weights, intercept = coefficients
        others = [index for index in range(len(model.bands)) if index not in (first, second)]
        constant = intercept + float(weights[others] @ model.mean[others])
        line = _line_through_box(weights[first], weights[second], constant, x_limits, y_limits)
        if line is not None:
            axes.plot(*line, color=BOUNDARY_COLOUR, linewidth=1.5, label="Aᵀx + b = 0")
    axes.set_xlim(*x_limits)
    axes.set_ylim(*y_limits)
    axes.set_xlabel(_band_label(model, first))
    axes.set_ylabel(_band_label(model, second))
    axes.legend(fontsize="x-small", loc="best")
    figure.tight_layout()
    return figure


def _band_label(model, index):
    """'band 3 (red (B4))' where the training raster named its bands, else 'band 3'. The names
    come from the model file, which may be foreign: anything but short text is ignored."""
    band = model.bands[index]
    names = model.training.get("band_names")
    name = names[band - 1] if isinstance(names, list) and 0 < band <= len(names) else None
    if isinstance(name, str) and name.strip() and len(name) <= 80:
        return f"band {band} ({name.strip()})"
    return f"band {band}"


def _line_through_box(weight_x, weight_y, constant, x_limits, y_limits):
    """Two points of weight_x·x + weight_y·y + constant = 0 spanning the box (None if no line)."""
    if weight_x == 0 and weight_y == 0:
        return None
    if abs(weight_y * (y_limits[1] - y_limits[0])) >= abs(weight_x * (x_limits[1] - x_limits[0])):
        xs = np.array(x_limits)
        return xs, -(weight_x * xs + constant) / weight_y
    ys = np.array(y_limits)
    return -(weight_y * ys + constant) / weight_x, ys


def _one_band_plot(model, samples, shown):
    figure, axes = _figure()
    limits = _extent(samples.values[:, 0])
    bins = np.linspace(*limits, 41)
    for label, colour, name in ((1, WATER_COLOUR, "water"), (0, LAND_COLOUR, "land")):
        values = samples.values[samples.labels == label, 0]
        axes.hist(values, bins=bins, color=colour, alpha=0.6, label=name)
    grid = np.linspace(*limits, GRID_STEPS)
    curve = axes.twinx()
    curve.plot(grid, model.predict_probability(grid[:, np.newaxis]), color=BOUNDARY_COLOUR, label="P(water)")
    curve.set_ylim(0, 1)
    curve.set_ylabel("P(water)")
    axes.set_xlabel(_band_label(model, 0))
    axes.set_ylabel("samples")
    axes.legend(fontsize="x-small")
    figure.tight_layout()
    return figure


def _three_d_plot(model, samples, shown):
    figure, axes = _figure(5.5, 5.0, projection="3d")
    limits = [_extent(samples.values[:, column]) for column in range(3)]
    _scatter(axes, samples, shown, (0, 1, 2))
    coefficients = model.coefficients_in_band_units()
    if coefficients is None:
        (*meshes,), probability = _grid_probability(
            model, (0, 1, 2), [np.linspace(*limit, 24) for limit in limits])
        water = probability >= 0.5
        crossing = np.zeros_like(water)
        for axis in range(3):
            change = np.diff(water, axis=axis)
            crossing[tuple(slice(None, -1) if a == axis else slice(None) for a in range(3))] |= change
        axes.scatter(*(mesh[crossing] for mesh in meshes), s=2, color="#808080", alpha=0.4,
                     label="P(water) = 0.5")
    else:
        weights, intercept = coefficients
        spans = np.array([high - low for low, high in limits])
        solved = int(np.argmax(np.abs(weights) * spans))
        if weights[solved] != 0:
            free = [index for index in range(3) if index != solved]
            grids = np.meshgrid(np.linspace(*limits[free[0]], 20), np.linspace(*limits[free[1]], 20))
            plane = -(intercept + weights[free[0]] * grids[0] + weights[free[1]] * grids[1]) / weights[solved]
            plane[(plane < limits[solved][0]) | (plane > limits[solved][1])] = np.nan
            coordinates = [None] * 3
            coordinates[free[0]], coordinates[free[1]], coordinates[solved] = grids[0], grids[1], plane
            axes.plot_surface(*coordinates, color="#808080", alpha=0.35, linewidth=0)
    for setter, limit in zip((axes.set_xlim, axes.set_ylim, axes.set_zlim), limits):
        setter(*limit)
    axes.set_xlabel(_band_label(model, 0))
    axes.set_ylabel(_band_label(model, 1))
    axes.set_zlabel(_band_label(model, 2))
    axes.legend(fontsize="x-small", loc="upper left")
    return figure


# HTML pieces -----------------------------------------------------------------------------

def _image(figure, element_id, alt, caption):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
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
