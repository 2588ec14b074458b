"""The report's plots, drawn with matplotlib's object API on the Agg canvas (never pyplot:
pyplot keeps global state and picks a GUI backend, neither safe inside a Processing worker
thread). Each function returns a Figure; report.html turns it into an embedded PNG."""

import numpy as np

# Enough points to see each class's cloud; more only slows the drawing and bloats the file.
MAX_PLOTTED_PER_GROUP = 1500
GRID_STEPS = 150
DPI = 100
WATER_COLOUR, LAND_COLOUR, BOUNDARY_COLOUR = "#2171b5", "#c2823c", "#202020"


def new_figure(width=4.6, height=4.0, projection=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(projection=projection)


def loss_curve(history):
    figure, axes = new_figure(5.5, 3.6)
    steps = np.arange(len(history["loss"]))  # 0 is the start, k the point after step k
    axes.plot(steps, history["loss"], color="#444444", label="training")
    if history.get("validation_loss"):
        axes.plot(steps, history["validation_loss"], color="#d62728", label="validation (held-out polygons)")
    if min(history["loss"] + history.get("validation_loss", [])) > 0:
        axes.set_yscale("log")
        _plain_tick_labels(axes.yaxis)
    axes.set_xlabel("optimiser steps taken")
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


def probability_histogram(probability, labels, threshold):
    figure, axes = new_figure(5.5, 3.6)
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


def scene_share_histogram(before, after, training_share, scene_share, threshold):
    """P(water) of the scene sample as the model gives it (for the training pixels' share) and
    as the map gives it (for the scene's share)."""
    figure, axes = new_figure(5.5, 3.6)
    bins = np.linspace(0, 1, 41)
    axes.hist([before, after], bins=bins, color=["#969696", WATER_COLOUR],
              label=[f"for the training pixels' share ({100 * training_share:.1f} % water)",
                     f"for the scene's share ({100 * scene_share:.1f} % water)"])
    axes.axvline(threshold, color=BOUNDARY_COLOUR, linestyle="--", label=f"threshold {threshold:g}")
    axes.set_yscale("symlog", linthresh=1)
    _plain_tick_labels(axes.yaxis)
    axes.set_xlabel("P(water) of the sampled pixels of the scene")
    axes.set_ylabel("pixels")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plotted_subset(labels, train_mask, validation_mask):
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


def _scatter(axes, coordinates, shown):
    """The shown samples at `coordinates` (samples × 2 or 3), coloured by class."""
    for (side, label), indices in shown.items():
        if not len(indices):
            continue
        axes.scatter(
            *coordinates[indices].T,
            s=6 if side == "training" else 14, marker="o" if side == "training" else "x",
            color=WATER_COLOUR if label == 1 else LAND_COLOUR, alpha=0.5, linewidths=0.8,
            label=f"{'water' if label == 1 else 'land'}, {side}",
        )


def _legend(axes, **options):
    """A legend one can read: small text, markers large enough to tell dots from crosses."""
    legend = axes.legend(fontsize="small", markerscale=2.0, framealpha=0.9, **options)
    for handle in legend.legend_handles if hasattr(legend, "legend_handles") else legend.legendHandles:
        if hasattr(handle, "set_alpha"):
            handle.set_alpha(1.0)
    return legend


def _extent(values):
    """Axis limits around the bulk of the values, so one outlier does not squash the plot."""
    low, high = np.percentile(values, [0.5, 99.5])
    pad = 0.08 * (high - low) if high > low else max(abs(low) * 0.05, 1.0)
    return low - pad, high + pad


def _grid_probability(model, axes_columns, axes_values):
    """P(water) over a grid of the given bands (all of the model's bands: exact only then)."""
    meshes = np.meshgrid(*axes_values)
    points = np.tile(model.mean, (meshes[0].size, 1))
    for column, mesh in zip(axes_columns, meshes):
        points[:, column] = mesh.ravel()
    return meshes, model.predict_probability(points).reshape(meshes[0].shape)


def pair_plot(model, samples, shown, first, second):
    """Two bands against each other. With exactly two bands the plane is the whole feature
    space, so P(water) shading and the boundary are exact; with more, a pixel's P(water) also
    depends on the bands not drawn, so no line or shading in this plane would be true of the
    pixels, and only the samples are drawn (model_plot shows where the model puts them)."""
    figure, axes = new_figure()
    x_limits, y_limits = _extent(samples.values[:, first]), _extent(samples.values[:, second])
    if len(model.bands) == 2:
        (x_grid, y_grid), probability = _grid_probability(
            model, (first, second), (np.linspace(*x_limits, GRID_STEPS), np.linspace(*y_limits, GRID_STEPS)))
        axes.contourf(x_grid, y_grid, probability, levels=np.linspace(0, 1, 11), cmap="Blues", alpha=0.35)
        coefficients = model.coefficients_in_band_units()
        if coefficients is None:
            if probability.min() < 0.5 < probability.max():
                axes.contour(x_grid, y_grid, probability, levels=[0.5], colors=BOUNDARY_COLOUR, linewidths=1.5)
            axes.plot([], [], color=BOUNDARY_COLOUR, label="P(water) = 0.5")
        else:
            weights, intercept = coefficients
            line = _line_through_box(weights[first], weights[second], intercept, x_limits, y_limits)
            if line is not None:
                axes.plot(*line, color=BOUNDARY_COLOUR, linewidth=1.5, label="Aᵀx + b = 0")
    _scatter(axes, samples.values[:, [first, second]], shown)
    axes.set_xlim(*x_limits)
    axes.set_ylim(*y_limits)
    axes.set_xlabel(band_label(model, first))
    axes.set_ylabel(band_label(model, second))
    _legend(axes, loc="best")
    figure.tight_layout()
    return figure


def model_coordinates(model, values):
    """Where the model puts each pixel: (decision, other) per row of `values`.

    decision is the model's output before σ (Aᵀx + b for logistic regression), so P(water) =
    σ(decision) and the boundary is exactly decision = 0. other is the direction, in
    standardized bands, along which the pixels spread most among the directions the model
    ignores (orthogonal to A; for an MLP, the first principal component). Returns the two
    columns and the direction's weights per band.
    """
    values = np.asarray(values, dtype=np.float64)
    decision = model.decision_function(values)
    standardized = (values - model.mean) / model.std
    centred = standardized - standardized.mean(axis=0)
    if not model.hidden_layers:
        normal = model.layers[0][0][0].astype(np.float64)
        length = np.linalg.norm(normal)
        if length > 0:
            normal = normal / length
            centred = centred - np.outer(centred @ normal, normal)
    if len(centred) > 1 and np.any(centred):
        direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    else:
        direction = np.zeros(values.shape[1])
        direction[0] = 1.0
    if direction[np.argmax(np.abs(direction))] < 0:
        direction = -direction
    return np.column_stack([decision, standardized @ direction]), direction


def _short_band_name(model, index):
    band = model.bands[index]
    names = model.training.get("band_names")
    name = names[band - 1] if isinstance(names, list) and 0 < band <= len(names) else None
    if isinstance(name, str) and name.strip() and len(name) <= 80:
        return name.strip()[:16]
    return f"b{band}"


def direction_label(model, direction):
    """'0.71·green − 0.70·red + 0.05·NIR' (standardized bands), the largest weights first."""
    order = np.argsort(-np.abs(direction))
    terms = [(direction[index], _short_band_name(model, index)) for index in order[:4]
             if abs(direction[index]) >= 0.05]
    text = ""
    for position, (weight, name) in enumerate(terms):
        sign = ("−" if weight < 0 else "") if position == 0 else (" − " if weight < 0 else " + ")
        text += f"{sign}{abs(weight):.2f}·{name}"
    return text + (" + …" if len(order) > 4 else "")


def model_plot(model, samples, shown):
    """Every drawn pixel where the model puts it: across, its decision value (P(water) = σ of
    it, the boundary exactly at 0); up, the main direction the model ignores."""
    figure, axes = new_figure(5.8, 4.6)
    coordinates, direction = model_coordinates(model, samples.values)
    x_limits = _extent(np.append(coordinates[:, 0], 0.0))
    x_limits = (min(x_limits[0], -1.0), max(x_limits[1], 1.0))
    y_limits = _extent(coordinates[:, 1])
    x_grid, y_grid = np.meshgrid(np.linspace(*x_limits, GRID_STEPS), np.array(y_limits))
    axes.contourf(x_grid, y_grid, 1.0 / (1.0 + np.exp(-x_grid)), levels=np.linspace(0, 1, 11), cmap="Blues",
                  alpha=0.35)
    _scatter(axes, coordinates, shown)
    linear = not model.hidden_layers
    axes.axvline(0.0, color=BOUNDARY_COLOUR, linewidth=1.5,
                 label="Aᵀx + b = 0 (P(water) = 0.5)" if linear else "P(water) = 0.5")
    axes.set_xlim(*x_limits)
    axes.set_ylim(*y_limits)
    axes.set_xlabel("Aᵀx + b   (P(water) = σ(Aᵀx + b))" if linear
                    else "network output before σ   (P(water) = σ(output))")
    axes.set_ylabel(f"{direction_label(model, direction)}\n(standardized bands)", fontsize="small")
    _legend(axes, loc="best")
    figure.tight_layout()
    return figure


def band_label(model, index):
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


def one_band_plot(model, samples, shown):
    figure, axes = new_figure()
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
    axes.set_xlabel(band_label(model, 0))
    axes.set_ylabel("samples")
    _legend(axes)
    figure.tight_layout()
    return figure


def three_d_plot(model, samples, shown):
    figure, axes = new_figure(5.5, 5.0, projection="3d")
    limits = [_extent(samples.values[:, column]) for column in range(3)]
    _scatter(axes, samples.values[:, :3], shown)
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
    axes.set_xlabel(band_label(model, 0))
    axes.set_ylabel(band_label(model, 1))
    axes.set_zlabel(band_label(model, 2))
    _legend(axes, loc="upper left")
    return figure
