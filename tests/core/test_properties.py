"""Property tests: many seeded random cases, each result checked against a reference that
does not go through the code under test.

- accuracy figures (core.learning.metrics) against scikit-learn, on 240 label/probability sets with
  strong imbalance, one-class references, all-one-class predictions and ties at the threshold;
  the Brier score against sklearn.metrics.brier_score_loss and the expected calibration error
  against a ten-bin loop written here (scikit-learn has no ECE);
- P(water) of random logistic regressions and MLPs (WaterModel.predict_probability,
  ProbabilityKernel, predict_water) against a float64 numpy formula written here;
- sampled pixels (core.learning.sampling) against matplotlib's point-in-polygon test on the pixel
  centres and against gdal.Rasterize over the whole grid, on random polygons;
- holding out whole polygons (core.learning.split) against properties stated here: whole polygons, both
  classes where possible, the fraction within rounding.
"""

import math
import warnings

import numpy as np
import pytest
from matplotlib.path import Path
from osgeo import gdal, ogr, osr
from sklearn import metrics as reference
from support.synthetic import ORIGIN, PIXEL, UTM_33N, read, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.learning.metrics import FIGURES, accuracy_figures
from water_logreg_plugin.core.learning.sampling import TrainingPolygon, in_memory_vector, sample_pixels
from water_logreg_plugin.core.learning.split import split_by_polygon
from water_logreg_plugin.core.maps.predict import PROBABILITY_NODATA, ProbabilityKernel, predict_water
from water_logreg_plugin.core.model import WaterModel

# ---------------------------------------------------------------- accuracy figures vs scikit-learn

FIGURE_CASES = 240
# Thresholds exactly representable in binary, so "P equal to the threshold" is a real tie.
THRESHOLDS = (0.5, 0.25, 0.75, 0.125, 0.875)


def random_figure_case(seed):
    """(probability, labels, threshold): one of six kinds, picked by the seed."""
    rng = np.random.default_rng(seed)
    kind = seed % 6
    count = int(rng.choice([1, 2, 3, 7, 50, 400, 3000]))
    threshold = float(rng.choice(THRESHOLDS))
    water_share = {0: rng.uniform(0.2, 0.8), 1: rng.choice([0.01, 0.03, 0.97, 0.99]),
                   2: rng.uniform(0.1, 0.9), 3: rng.uniform(0.1, 0.9), 4: rng.choice([0.0, 1.0]),
                   5: rng.uniform(0.0, 1.0)}[kind]
    labels = (rng.random(count) < water_share).astype(np.uint8)
    if kind in (0, 1, 4):  # informative, with noise
        probability = 1 / (1 + np.exp(-(3 * (labels - 0.5) + rng.normal(0, 1.5, count))))
    elif kind == 2:  # every pixel predicted one class
        if rng.random() < 0.5:
            probability = rng.uniform(threshold, 1.0, count)
        else:
            probability = rng.uniform(0.0, threshold, count) * (1 - 1e-9)
    elif kind == 3:  # many ties at the threshold
        probability = rng.choice([threshold, threshold, 0.01, 0.99, rng.uniform()], count)
    else:  # uninformative
        probability = rng.uniform(0, 1, count)
    return np.clip(probability, 1e-6, 1 - 1e-6), labels, threshold


def reference_ece(probability, labels, bins=10):
    """Σ over equal-width bins [k/bins, (k+1)/bins) (the last holding 1) of share · |mean P − water fraction|."""
    probability = np.asarray(probability, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    error = 0.0
    for k in range(bins):
        inside = (probability >= k / bins) & ((probability < (k + 1) / bins) | (k == bins - 1))
        if inside.any():
            error += inside.sum() / len(probability) * abs(probability[inside].mean() - labels[inside].mean())
    return error


def sklearn_figures(probability, labels, threshold):
    """The figures as scikit-learn computes them; a tie at the threshold counts as water (P ≥ threshold)."""
    predicted = (np.asarray(probability) >= threshold).astype(np.uint8)
    nan = {"zero_division": np.nan}
    (true_water, false_land), (false_water, true_land) = reference.confusion_matrix(labels, predicted, labels=[1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = reference.cohen_kappa_score(labels, predicted, labels=[0, 1])
    return {
        "overall_accuracy": reference.accuracy_score(labels, predicted),
        "precision": reference.precision_score(labels, predicted, labels=[0, 1], **nan),
        "recall": reference.recall_score(labels, predicted, labels=[0, 1], **nan),
        "f1": reference.f1_score(labels, predicted, labels=[0, 1], **nan),
        # jaccard_score has no NaN option: IoU is undefined where neither side has water.
        "iou": reference.jaccard_score(labels, predicted, labels=[0, 1], zero_division=0)
        if (labels.any() or predicted.any()) else math.nan,
        "kappa": kappa,
        "log_loss": reference.log_loss(labels, probability, labels=[0, 1]),
        "brier": reference.brier_score_loss(labels, probability, pos_label=1),
        "ece": reference_ece(probability, labels),
        "true_water": true_water, "false_water": false_water, "false_land": false_land, "true_land": true_land,
        "pixels": len(labels),
    }


@pytest.mark.parametrize("seed", range(FIGURE_CASES))
def test_accuracy_figures_equal_scikit_learn(seed):
    probability, labels, threshold = random_figure_case(seed)
    figures = accuracy_figures(probability, labels, threshold)
    expected = sklearn_figures(probability, labels, threshold)
    assert set(figures) == set(FIGURES) == set(expected)
    for key in FIGURES:
        if isinstance(expected[key], (int, np.integer)):
            assert figures[key] == expected[key], key
        elif math.isnan(expected[key]):
            assert math.isnan(figures[key]), (key, figures[key])
        else:
            assert figures[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key


def test_the_figure_cases_cover_the_corners():
    """The 240 cases do hold the awkward ones: ties, one-class references, one-class maps."""
    ties = one_class_reference = one_class_map = imbalanced = 0
    for seed in range(FIGURE_CASES):
        probability, labels, threshold = random_figure_case(seed)
        ties += bool(np.any(probability == threshold))
        one_class_reference += len(np.unique(labels)) == 1
        one_class_map += len(np.unique(probability >= threshold)) == 1
        imbalanced += len(labels) >= 50 and min(labels.mean(), 1 - labels.mean()) < 0.05
    assert min(ties, one_class_reference, one_class_map, imbalanced) >= 20


# ---------------------------------------------------------------- prediction vs a numpy formula

def random_model(rng, band_count, hidden, activation="tanh"):
    mean = rng.uniform(300, 5000, band_count)
    std = rng.uniform(50, 2000, band_count)
    sizes = [band_count, *hidden, 1]
    layers = [(rng.normal(0, 1.5 / np.sqrt(inputs), (outputs, inputs)), rng.normal(0, 0.5, outputs))
              for inputs, outputs in zip(sizes[:-1], sizes[1:])]
    return WaterModel(list(range(1, band_count + 1)), mean, std, layers, {}, activation)


def formula_probability(model, values):
    """σ of the last layer of dense layers with tanh (new models) or ReLU (files from before
    0.3.0) between them, on (x − μ)/σ, in float64."""
    hidden = (np.asarray(values, dtype=np.float64) - model.mean) / model.std
    for index, (weight, bias) in enumerate(model.layers):
        hidden = hidden @ np.asarray(weight).T + bias
        if index < len(model.layers) - 1:
            with np.errstate(over="ignore"):
                hidden = (1 - 2 / (np.exp(2 * hidden) + 1) if model.activation == "tanh"
                          else np.where(hidden > 0, hidden, 0.0))
    logit = hidden[:, 0]
    return 0.5 * (1 + np.tanh(logit / 2))  # σ, written another way


MODEL_CASES = [(seed, bands, hidden, "relu" if seed >= 20 else "tanh") for seed, (bands, hidden) in enumerate(
    [(1, ()), (2, ()), (3, ()), (4, ()), (7, ()), (3, (5,)), (4, (16, 16)), (2, (3, 8, 4)), (6, (32,)), (3, ())] * 3)]


@pytest.mark.parametrize("seed, band_count, hidden, activation", MODEL_CASES)
def test_prediction_equals_the_formula(seed, band_count, hidden, activation):
    rng = np.random.default_rng(seed)
    model = random_model(rng, band_count, list(hidden), activation)
    values = rng.uniform(0, 10000, (2000, band_count))
    expected = formula_probability(model, values)
    np.testing.assert_allclose(model.predict_probability(values), expected, rtol=0, atol=1e-12)

    kernel = ProbabilityKernel(model, "cpu")
    np.testing.assert_allclose(kernel(np.ascontiguousarray(values.T, dtype=np.float32)), expected, rtol=0, atol=2e-5)
    # The map's path: band values as a raster window (bands, rows, width), the fused one for one layer.
    window = values.T.reshape(band_count, 40, 50).astype(np.float32)
    mapped = kernel.probability_of_bands(window, np.ones((40, 50), dtype=bool))
    assert mapped.dtype == np.float32
    np.testing.assert_allclose(mapped.ravel(), expected, rtol=0, atol=2e-5)


@pytest.mark.parametrize("hidden", [(), (8,)])
def test_probability_map_equals_the_formula_with_nodata(tmp_path, hidden):
    rng = np.random.default_rng(11)
    model = random_model(rng, 3, list(hidden))
    bands = rng.integers(1, 6000, (3, 90, 70)).astype(np.uint16)
    bands[1, 10:13, 5:40] = 0  # nodata in one band is nodata for the pixel
    model.training["data_type"] = "UInt16"
    scene = write_raster(tmp_path / "scene.tif", bands)
    predict_water(scene, model, str(tmp_path / "p.tif"), device="cpu")
    mapped, dataset = read(tmp_path / "p.tif")
    nodata = (bands == 0).any(axis=0)
    expected = formula_probability(model, bands.reshape(3, -1).T).reshape(90, 70)
    assert dataset.GetRasterBand(1).GetNoDataValue() == PROBABILITY_NODATA
    np.testing.assert_array_equal(mapped == PROBABILITY_NODATA, nodata)
    np.testing.assert_allclose(mapped[~nodata], expected[~nodata], rtol=0, atol=2e-5)


# ---------------------------------------------------------------- sampling vs point-in-polygon and gdal.Rasterize

ROWS, COLS = 60, 70


def random_star(rng, max_radius, margin=-5):
    """A simple polygon: random radii at sorted random angles around a random centre (pixels),
    the centre at least `margin` pixels inside the raster (a negative margin: maybe outside)."""
    centre = rng.uniform([margin, margin], [COLS - margin, ROWS - margin])
    vertices = int(rng.integers(3, 12))
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = rng.uniform(0.2, 1.0, vertices) * max_radius
    return np.column_stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)])


def to_map(pixel_vertices):
    """Pixel (col, row) coordinates → map coordinates of the synthetic grid."""
    return np.column_stack([ORIGIN[0] + pixel_vertices[:, 0] * PIXEL, ORIGIN[1] - pixel_vertices[:, 1] * PIXEL])


def wkt_of(map_vertices):
    ring = [*map_vertices, map_vertices[0]]
    return "POLYGON ((" + ", ".join(f"{float(x)!r} {float(y)!r}" for x, y in ring) + "))"


def centres_inside(pixel_vertices):
    """(ROWS, COLS) bool: pixel centres inside the polygon, by matplotlib's point-in-polygon test."""
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    centres = np.column_stack([cols.ravel() + 0.5, rows.ravel() + 0.5])
    return Path(pixel_vertices).contains_points(centres).reshape(ROWS, COLS)


def rasterized(wkt):
    """(ROWS, COLS) bool: gdal.Rasterize of the polygon on the whole grid (no ALL_TOUCHED)."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(UTM_33N)
    vector = in_memory_vector()
    layer = vector.CreateLayer("p", srs=srs, geom_type=ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
    layer.CreateFeature(feature)
    grid = gdal.GetDriverByName("MEM").Create("", COLS, ROWS, 1, gdal.GDT_Byte)
    grid.SetGeoTransform((ORIGIN[0], PIXEL, 0, ORIGIN[1], 0, -PIXEL))
    grid.SetSpatialRef(srs)
    assert gdal.Rasterize(grid, vector, burnValues=[1]) is not None
    return grid.ReadAsArray().astype(bool)


def sampled_mask(samples, label):
    """(ROWS, COLS) bool of the sampled pixels of one class, from their centre coordinates."""
    chosen = samples.labels == label
    cols = np.floor((samples.x[chosen] - ORIGIN[0]) / PIXEL).astype(int)
    rows = np.floor((ORIGIN[1] - samples.y[chosen]) / PIXEL).astype(int)
    mask = np.zeros((ROWS, COLS), dtype=bool)
    mask[rows, cols] = True
    assert mask.sum() == chosen.sum(), "a pixel was sampled twice"
    return mask


@pytest.mark.parametrize("seed", range(12))
def test_sampled_pixels_are_the_pixel_centres_inside(tmp_path, seed):
    rng = np.random.default_rng(100 + seed)
    bands = rng.integers(1, 5000, (2, ROWS, COLS)).astype(np.uint16)
    bands[0][rng.random((ROWS, COLS)) < 0.03] = 0  # scattered nodata
    scene = write_raster(tmp_path / "scene.tif", bands)
    polygons, inside, burnt = [], {1: [], 0: []}, {1: [], 0: []}
    for polygon_id in range(int(rng.integers(4, 10))):
        is_water = polygon_id % 2 == 0 or rng.random() < 0.3
        # The first water and land polygons lie well inside, so both classes are there; the
        # others are anything from sub-pixel slivers to polygons hanging over the edge.
        if polygon_id < 2:
            star = random_star(rng, 12.0, margin=15)
        else:
            star = random_star(rng, float(rng.choice([1.5, 6, 15, 30])))
        wkt = wkt_of(to_map(star))
        polygons.append(TrainingPolygon(polygon_id, ogr.CreateGeometryFromWkt(wkt).ExportToWkb(), is_water))
        inside[int(is_water)].append(centres_inside(star))
        burnt[int(is_water)].append(rasterized(wkt))
    valid = (bands != 0).all(axis=0)
    expected = {}
    for source in (inside, burnt):
        water, land = (np.any(source[label], axis=0) if source[label] else np.zeros((ROWS, COLS), bool)
                       for label in (1, 0))
        expected[id(source)] = (water & ~land & valid, land & ~water & valid, water & land & valid)
    # The two references agree (no pixel centre sits on an edge of these random polygons).
    for mine, gdals in zip(expected[id(inside)], expected[id(burnt)]):
        np.testing.assert_array_equal(mine, gdals)
    water, land, conflicting = expected[id(inside)]
    assert water.any() and land.any()

    messages = []
    samples = sample_pixels(scene, [1, 2], polygons, 0, callbacks=Callbacks(log=messages.append))
    np.testing.assert_array_equal(sampled_mask(samples, 1), water)
    np.testing.assert_array_equal(sampled_mask(samples, 0), land)
    assert (samples.water_count, samples.land_count) == (water.sum(), land.sum())
    both_classes = [message for message in messages if "inside both a water and a land polygon" in message]
    expected_counts = [str(conflicting.sum())] if conflicting.any() else []
    assert [message.split(" ")[0] for message in both_classes] == expected_counts
    # Each sample carries its own pixel's band values.
    cols = np.floor((samples.x - ORIGIN[0]) / PIXEL).astype(int)
    rows = np.floor((ORIGIN[1] - samples.y) / PIXEL).astype(int)
    np.testing.assert_array_equal(samples.values, bands[:, rows, cols].T.astype(np.float64))


# ---------------------------------------------------------------- split_by_polygon properties

def random_polygon_samples(rng, water_polygons, land_polygons):
    classes = [1] * water_polygons + [0] * land_polygons
    ids = rng.permutation(np.arange(len(classes))) * 7 + 3
    counts = rng.integers(1, 30, len(classes))
    labels = np.repeat(classes, counts).astype(np.uint8)
    polygon_ids = np.repeat(ids, counts).astype(np.int64)
    order = rng.permutation(len(labels))  # pixels of a polygon need not be contiguous
    return labels[order], polygon_ids[order]


@pytest.mark.parametrize("seed", range(60))
def test_split_holds_out_whole_polygons_of_both_classes_near_the_fraction(seed):
    rng = np.random.default_rng(seed)
    water, land = (int(n) for n in rng.integers(2, 25, 2))
    fraction = float(rng.choice([0.05, 0.1, 0.2, 0.33, 0.5, 0.7, 0.95]))
    labels, polygon_ids = random_polygon_samples(rng, water, land)
    train, validation, message = split_by_polygon(labels, polygon_ids, fraction, seed=seed)
    assert message is None
    assert train.dtype == validation.dtype == bool
    assert np.array_equal(train, ~validation)
    assert not set(polygon_ids[train]) & set(polygon_ids[validation])  # whole polygons
    for label, count in ((1, water), (0, land)):
        held = len(set(polygon_ids[validation & (labels == label)]))
        kept = len(set(polygon_ids[train & (labels == label)]))
        assert held + kept == count
        assert held >= 1 and kept >= 1  # both classes on both sides
        # The share held out is the fraction within rounding, except where that would leave
        # none on one side.
        assert abs(held - fraction * count) <= 0.5 or (held == 1 and fraction * count < 1) or (
            kept == 1 and fraction * count > count - 1), (held, fraction, count)
    again = split_by_polygon(labels, polygon_ids, fraction, seed=seed)[1]
    np.testing.assert_array_equal(again, validation)


@pytest.mark.parametrize("seed", range(10))
def test_split_of_a_class_with_one_polygon_holds_nothing_out(seed):
    rng = np.random.default_rng(seed)
    lonely = int(rng.integers(0, 2))
    labels, polygon_ids = random_polygon_samples(rng, 1 if lonely else int(rng.integers(2, 9)),
                                                 1 if not lonely else int(rng.integers(2, 9)))
    train, validation, message = split_by_polygon(labels, polygon_ids, 0.3, seed=seed)
    assert train.all() and not validation.any()
    assert message.startswith(f"Only 1 {'water' if lonely else 'land'} polygon yields pixels")
