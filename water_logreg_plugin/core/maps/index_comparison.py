"""The model against NDWI on the same held-out pixels, and where on the scene they disagree.

NDWI's threshold is Otsu's on the whole scene's histogram, as waterlogreg:waterindex finds it
(the same bins and rule, from water_index), so the figures are those of the mask that tool
writes. Two passes over the scene: the first sums the histogram, the second compares the
NDWI mask with the probability map the model wrote, pixel by pixel, and keeps every k-th row
and column of that comparison as a small map for the report.
"""

import math
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..learning.metrics import accuracy_figures
from ..raster.band_roles import band_roles
from ..raster.reading import open_raster, read_block
from ..raster.windows import read_window, row_windows
from .predict import PROBABILITY_NODATA
from .water_index import (
    OTSU_BINS,
    band_scaling,
    choose_index_bands,
    index_histogram,
    normalized_difference,
    otsu_threshold,
)

# Small-map classes; NODATA where either the map or the index has no value.
NODATA, BOTH_LAND, BOTH_WATER, MODEL_ONLY, INDEX_ONLY = 0, 1, 2, 3, 4
MAP_SIZE = 600  # the small map's longer side, in pixels at most


@dataclass
class IndexComparison:
    index: str  # "NDWI"
    reason: str  # which bands, and how they are known
    threshold: float  # Otsu's threshold of the index on the scene
    source: str  # "held-out polygons" or "training pixels"
    model_figures: dict  # accuracy_figures of the model on those pixels
    index_figures: dict  # accuracy_figures of index ≥ threshold on the same pixels
    scene_counts: dict  # {"both_land", "both_water", "model_only", "index_only"}: pixels of the whole scene
    agreement_map: np.ndarray  # uint8 classes above, every `step`-th row and column
    step: int


def compare_with_index(raster, probability_path, samples, training, threshold=0.5, callbacks=QUIET):
    """IndexComparison of the model's map with NDWI, or None when the file does not name green and NIR."""
    dataset = open_raster(raster)
    roles = band_roles(dataset)
    if "green" not in roles or "nir" not in roles:
        return None
    bands = choose_index_bands(dataset)
    band_list = [bands.green, bands.infrared]
    windows = row_windows(dataset)
    checked = training.validation_mask if training.validation_mask.any() else training.train_mask
    rows, cols = _pixel_positions(dataset.GetGeoTransform(), samples.x[checked], samples.y[checked])
    checked_index = np.full(len(rows), np.nan)
    counts = np.zeros(OTSU_BINS, np.int64)

    first = callbacks.part(0.0, 0.5)
    for number, (row, height) in enumerate(windows):
        callbacks.check_canceled()
        index, valid = _index_window(dataset, band_list, row, height)
        counts += index_histogram(index[valid])
        inside = (rows >= row) & (rows < row + height)
        picked = index[rows[inside] - row, cols[inside]]
        checked_index[inside] = np.where(valid[rows[inside] - row, cols[inside]], picked, np.nan)
        first.progress((number + 1) / len(windows))
    index_threshold = otsu_threshold(counts)

    probability_dataset = open_raster(probability_path)
    step = max(1, math.ceil(max(dataset.RasterXSize, dataset.RasterYSize) / MAP_SIZE))
    pieces, totals = [], np.zeros(5, np.int64)
    second = callbacks.part(0.5, 1.0)
    for number, (row, height) in enumerate(windows):
        callbacks.check_canceled()
        index, valid = _index_window(dataset, band_list, row, height)
        probability = read_block(probability_dataset.GetRasterBand(1), (0, row, dataset.RasterXSize, height),
                                 f"rows {row}–{row + height} of the probability raster")
        classes = _agreement(probability, index, valid, threshold, index_threshold)
        totals += np.bincount(classes.ravel(), minlength=5)
        pieces.append(classes[(-row) % step::step, ::step])
        second.progress((number + 1) / len(windows))

    has_index = ~np.isnan(checked_index)
    labels = samples.labels[checked][has_index]
    model_probability = training.model.predict_probability(samples.values[checked][has_index])
    called_water = (checked_index[has_index] >= index_threshold).astype(np.float64)
    return IndexComparison(
        bands.index, bands.reason, index_threshold, training.figures_source,
        accuracy_figures(model_probability, labels, threshold), accuracy_figures(called_water, labels),
        {"both_land": int(totals[BOTH_LAND]), "both_water": int(totals[BOTH_WATER]),
         "model_only": int(totals[MODEL_ONLY]), "index_only": int(totals[INDEX_ONLY])},
        np.concatenate(pieces), step,
    )


def _index_window(dataset, band_list, row, height):
    """The index of one window as waterlogreg:waterindex computes it (the bands' scale and offset applied)."""
    values, valid = read_window(dataset, band_list, row, height)
    scaling = band_scaling(dataset, band_list)
    values = scaling.apply(values) if scaling else values
    return normalized_difference(values[0], values[1], valid)


def _agreement(probability, index, valid, threshold, index_threshold):
    model_water = probability >= threshold
    index_water = index >= index_threshold
    classes = np.where(model_water, np.where(index_water, BOTH_WATER, MODEL_ONLY),
                       np.where(index_water, INDEX_ONLY, BOTH_LAND)).astype(np.uint8)
    classes[~valid | (probability == np.float32(PROBABILITY_NODATA))] = NODATA
    return classes


def _pixel_positions(transform, x, y):
    """(rows, cols) of the pixels whose centres are at x, y."""
    inverse = gdal.InvGeoTransform(transform)
    cols = np.floor(inverse[0] + inverse[1] * x + inverse[2] * y).astype(np.int64)
    rows = np.floor(inverse[3] + inverse[4] * x + inverse[5] * y).astype(np.int64)
    return rows, cols
