"""Training pixels from polygons: every pixel whose centre lies inside a polygon.

Each polygon is rasterized by GDAL on its own small window of the raster grid (so one
polygon's pixels are known exactly, whatever overlaps it), its pixels' band values are
read from that window, nodata is dropped, and a seeded cap keeps at most N pixels a class.
"""

from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, ogr

from .band_roles import default_training_bands
from .callbacks import QUIET
from .errors import WaterLogRegError
from .raster import nodata_values, open_raster, resolve_bands, valid_pixel_mask

WATER, LAND = 1, 0


@dataclass
class TrainingPolygon:
    """One polygon, already in the raster's CRS, as WKB; multi-part polygons are one."""

    polygon_id: int
    wkb: bytes
    is_water: bool


@dataclass
class Samples:
    """Sampled pixels: one row per pixel centre."""

    bands: list
    values: np.ndarray  # (pixels, bands) float64
    labels: np.ndarray  # (pixels,) uint8, 1 water, 0 land
    polygon_ids: np.ndarray  # (pixels,) int64
    x: np.ndarray  # pixel-centre coordinates in the raster's CRS
    y: np.ndarray
    messages: list = field(default_factory=list)

    @property
    def water_count(self):
        return int(np.count_nonzero(self.labels == WATER))

    @property
    def land_count(self):
        return int(np.count_nonzero(self.labels == LAND))

    def subset(self, keep):
        return Samples(
            self.bands, self.values[keep], self.labels[keep], self.polygon_ids[keep],
            self.x[keep], self.y[keep], list(self.messages),
        )


def sample_pixels(
    raster_path,
    bands,
    polygons,
    max_pixels_per_class=100_000,
    seed=0,
    callbacks=QUIET,
):
    """Sample the pixels under `polygons` (TrainingPolygon, in the raster's CRS).

    bands: 1-based band numbers; empty or None takes default_training_bands (green, red and
    NIR when the file names them, else every band) and logs which and why.
    max_pixels_per_class: keep at most this many pixels of each class, drawn with `seed`;
    0 keeps all. A pixel inside several polygons of one class counts once; a pixel inside
    both a water and a land polygon is ambiguous and dropped. Polygons that yield no pixel
    are reported through `callbacks.log`.
    """
    if max_pixels_per_class is None or max_pixels_per_class < 0:
        raise WaterLogRegError(
            "The maximum number of pixels per class cannot be negative; use 0 to keep all pixels."
        )
    if not polygons:
        raise WaterLogRegError(
            "The polygon layer has no features; draw training polygons of water and land first."
        )
    # A polygon's window spans several blocks: they decompress on every core at once.
    dataset = open_raster(raster_path, decode_threads=True)
    if bands:
        bands = resolve_bands(dataset, bands)
    else:
        bands, reason = default_training_bands(dataset)
        callbacks.log(reason)
    nodata = nodata_values(dataset, bands)

    pieces = []
    empty_polygons = []
    for index, polygon in enumerate(polygons):
        callbacks.check_canceled()
        rows, cols, values, reason = _pixels_in_polygon(dataset, bands, nodata, polygon)
        if reason:
            empty_polygons.append((polygon, reason))
        else:
            pieces.append((polygon, rows, cols, values))
        callbacks.progress((index + 1) / len(polygons))

    messages = [
        f"Polygon {polygon.polygon_id} ({'water' if polygon.is_water else 'land'}) "
        f"yields no pixel: {reason}."
        for polygon, reason in empty_polygons
    ]
    for message in messages:
        callbacks.log(message)
    if not pieces:
        raise WaterLogRegError(
            "No polygon covers a valid pixel of the raster: the polygons lie outside it "
            "(after reprojection to the raster's CRS), are smaller than a pixel, or cover "
            "only nodata. Draw polygons over the raster."
        )

    rows = np.concatenate([piece[1] for piece in pieces])
    cols = np.concatenate([piece[2] for piece in pieces])
    values = np.concatenate([piece[3] for piece in pieces])
    labels = np.concatenate(
        [np.full(len(piece[1]), WATER if piece[0].is_water else LAND, np.uint8) for piece in pieces]
    )
    polygon_ids = np.concatenate(
        [np.full(len(piece[1]), piece[0].polygon_id, np.int64) for piece in pieces]
    )

    keep, conflicting = _resolve_overlaps(rows * dataset.RasterXSize + cols, labels)
    if conflicting:
        message = (
            f"{conflicting} pixel{'s lie' if conflicting != 1 else ' lies'} inside both a water "
            "and a land polygon; they are left out of training."
        )
        messages.append(message)
        callbacks.log(message)
    rows, cols, values, labels, polygon_ids = (
        array[keep] for array in (rows, cols, values, labels, polygon_ids)
    )

    missing = missing_class(labels)
    if missing:
        has_polygons = missing_class([polygon.is_water for polygon in polygons]) != missing
        raise WaterLogRegError(
            f"There are no {missing} pixels to train on: "
            + (
                f"the {missing} polygons cover no valid pixel (outside the raster or only nodata). "
                if has_polygons
                else f"no polygon is marked as {missing}. "
            )
            + "Training needs polygons of both water and land; check CLASS_FIELD and WATER_VALUES."
        )

    keep = _cap_per_class(labels, max_pixels_per_class, seed)
    rows, cols, values, labels, polygon_ids = (
        array[keep] for array in (rows, cols, values, labels, polygon_ids)
    )
    x, y = _pixel_centres(dataset.GetGeoTransform(), rows, cols)
    samples = Samples(bands, values, labels, polygon_ids, x, y, messages)
    callbacks.log(f"Sampled {samples.water_count} water and {samples.land_count} land pixels "
        f"from {len(pieces)} polygons over bands {', '.join(map(str, bands))}.")
    return samples


def missing_class(labels):
    """'water' or 'land' when `labels` (1/True water, 0/False land) lack that class, else None:
    the one rule that a fit needs both classes, for polygons, sampled pixels and the fit alike."""
    labels = np.asarray(labels)
    for label, name in ((WATER, "water"), (LAND, "land")):
        if not np.any(labels == label):
            return name
    return None


def check_polygon_classes(polygons, class_field, water_values, found_values):
    """Refuse training polygons that are all land or all water, naming the field's values."""
    missing = missing_class([polygon.is_water for polygon in polygons])
    if missing == "water":
        raise WaterLogRegError(
            f"No polygon has a water value ({', '.join(sorted(water_values))}) in the field "
            f"'{class_field}'; the values found are: {', '.join(sorted(found_values)) or 'none'}. "
            "Set WATER_VALUES to the value(s) that mark water."
        )
    if missing == "land":
        raise WaterLogRegError(
            f"Every polygon is water (field '{class_field}' values: {', '.join(sorted(found_values))}); "
            "training needs land polygons too. Draw some over land, or correct WATER_VALUES."
        )


def _pixels_in_polygon(dataset, bands, nodata, polygon):
    """(rows, cols, values, None) of one polygon's valid pixels, or a reason for none."""
    geometry = ogr.CreateGeometryFromWkb(polygon.wkb)
    if geometry is None or geometry.IsEmpty():
        return None, None, None, "its geometry is empty or invalid"
    transform = dataset.GetGeoTransform()
    window = _pixel_window(transform, geometry.GetEnvelope(), dataset.RasterXSize, dataset.RasterYSize)
    if window is None:
        return None, None, None, "it lies outside the raster"
    col_off, row_off, width, height = window

    mask_dataset = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Byte)
    if dataset.GetSpatialRef() is not None:
        mask_dataset.SetSpatialRef(dataset.GetSpatialRef())
    mask_dataset.SetGeoTransform((
        transform[0] + col_off * transform[1] + row_off * transform[2], transform[1], transform[2],
        transform[3] + col_off * transform[4] + row_off * transform[5], transform[4], transform[5],
    ))
    vector = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = vector.CreateLayer("polygon", srs=dataset.GetSpatialRef(), geom_type=ogr.wkbUnknown)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(geometry)
    layer.CreateFeature(feature)
    # Without ALL_TOUCHED GDAL burns exactly the pixels whose centre is inside.
    gdal.RasterizeLayer(mask_dataset, [1], layer, burn_values=[1])
    inside = mask_dataset.ReadAsArray().astype(bool)
    if not inside.any():
        return None, None, None, "it is smaller than a pixel or covers no pixel centre"

    window_values = dataset.ReadAsArray(col_off, row_off, width, height, band_list=bands)
    if window_values is None:
        raise WaterLogRegError(
            f"Reading the raster failed ({gdal.GetLastErrorMsg()}); the file may be damaged or "
            "incomplete. Check that it displays in QGIS, or copy or export it again."
        )
    window_values = window_values.reshape(len(bands), height, width)
    inside &= valid_pixel_mask(window_values, nodata)
    if not inside.any():
        return None, None, None, "all its pixels are nodata"
    local_rows, local_cols = np.nonzero(inside)
    values = window_values[:, local_rows, local_cols].T.astype(np.float64)
    return local_rows + row_off, local_cols + col_off, values, None


def _pixel_window(transform, envelope, raster_width, raster_height):
    """The pixel window (col, row, width, height) covering an envelope, clipped to the raster."""
    min_x, max_x, min_y, max_y = envelope
    inverse = gdal.InvGeoTransform(transform)
    corners = [gdal.ApplyGeoTransform(inverse, x, y) for x in (min_x, max_x) for y in (min_y, max_y)]
    cols = [corner[0] for corner in corners]
    rows = [corner[1] for corner in corners]
    col_start = max(0, int(np.floor(min(cols))))
    col_end = min(raster_width, int(np.ceil(max(cols))))
    row_start = max(0, int(np.floor(min(rows))))
    row_end = min(raster_height, int(np.ceil(max(rows))))
    if col_end <= col_start or row_end <= row_start:
        return None
    return col_start, row_start, col_end - col_start, row_end - row_start


def _resolve_overlaps(pixel_index, labels):
    """Indices to keep: each pixel once; pixels claimed by both classes dropped."""
    order = np.argsort(pixel_index, kind="stable")
    sorted_index = pixel_index[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_index[1:] != sorted_index[:-1]
    group = np.cumsum(first) - 1
    sorted_labels = labels[order]
    has_water = np.zeros(group[-1] + 1, dtype=bool)
    has_land = np.zeros(group[-1] + 1, dtype=bool)
    has_water[group[sorted_labels == WATER]] = True
    has_land[group[sorted_labels == LAND]] = True
    ambiguous = has_water & has_land
    keep = order[first & ~ambiguous[group]]
    return np.sort(keep), int(np.count_nonzero(ambiguous))


def _cap_per_class(labels, max_pixels_per_class, seed):
    """Indices of at most `max_pixels_per_class` pixels of each class, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    keep = []
    for label in (WATER, LAND):
        members = np.flatnonzero(labels == label)
        if max_pixels_per_class and len(members) > max_pixels_per_class:
            members = np.sort(rng.choice(members, max_pixels_per_class, replace=False))
        keep.append(members)
    return np.sort(np.concatenate(keep))


def _pixel_centres(transform, rows, cols):
    col_centre = cols + 0.5
    row_centre = rows + 0.5
    x = transform[0] + col_centre * transform[1] + row_centre * transform[2]
    y = transform[3] + col_centre * transform[4] + row_centre * transform[5]
    return x, y
