"""Training pixels from polygons: every pixel whose centre lies inside a polygon.

Each polygon is rasterized by GDAL on its own window of the raster grid (so one polygon's
pixels are known exactly, whatever overlaps it), cut into sub-windows when large; its
pixels' band values are read from that window, invalid pixels (raster.valid_pixels: nodata,
NaN, mask, alpha) are dropped, and a seeded draw keeps at most N pixels a class as it reads.
"""

from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, ogr

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..raster.band_roles import default_training_bands
from ..raster.reading import open_raster, read_block, resolve_bands, valid_pixels
from ..raster.windows import single_strip_warning

WATER, LAND = 1, 0
# A polygon is read in windows of at most this many pixels (16 MB of 4 UInt16 bands).
SAMPLING_WINDOW_PIXELS = 1 << 21


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
    # What the raster was (compatibility.raster_description's band_count, data_type), so a model
    # trained on samples read back from a layer checks the rasters it predicts; {} where unknown.
    raster: dict = field(default_factory=dict)

    @property
    def water_count(self):
        return int(np.count_nonzero(self.labels == WATER))

    @property
    def land_count(self):
        return int(np.count_nonzero(self.labels == LAND))


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
    are reported through `callbacks.log`, in one line a reason.

    Memory does not grow with the polygons' size: a polygon is read in windows of at most
    SAMPLING_WINDOW_PIXELS, and each class keeps only its capped draw while reading (each
    pixel gets a random key from `seed` and its position, and the smallest keys stay), so the
    draw is the same whatever the windows and the order of the polygons.
    """
    _check_request(max_pixels_per_class, polygons)
    # A polygon's window spans several blocks: they decompress on every core at once.
    dataset = open_raster(raster_path, decode_threads=True)
    bands = _chosen_bands(dataset, bands, callbacks.log)
    drawn = {WATER: _ClassDraw(max_pixels_per_class, seed), LAND: _ClassDraw(max_pixels_per_class, seed)}
    tally = _draw_polygons(_Grid(dataset), bands, polygons, drawn, callbacks)
    messages = _logged_summary(tally, callbacks.log)
    pixel_index, values, labels, polygon_ids = _combine(drawn[WATER].result(), drawn[LAND].result(), len(bands))
    _check_both_classes(labels, [polygon.is_water for polygon in polygons])
    rows, cols = np.divmod(pixel_index, dataset.RasterXSize)
    x, y = _pixel_centres(dataset.GetGeoTransform(), rows, cols)
    samples = Samples(bands, values, labels, polygon_ids, x, y, messages)
    callbacks.log(f"Sampled {samples.water_count} water and {samples.land_count} land pixels "
        f"from {tally.sampled_polygons} polygons over bands {', '.join(map(str, bands))}.")
    return samples


def _check_request(max_pixels_per_class, polygons):
    if max_pixels_per_class is None or max_pixels_per_class < 0:
        raise WaterLogRegError(
            "The maximum number of pixels per class cannot be negative; use 0 to keep all pixels."
        )
    if not polygons:
        raise WaterLogRegError(
            "The polygon layer has no features; draw training polygons of water and land first."
        )


def _chosen_bands(dataset, bands, log):
    """The bands asked for, checked, or default_training_bands with its reason logged; and the
    warning for a raster stored in one strip."""
    if bands:
        bands = resolve_bands(dataset, bands)
    else:
        bands, reason = default_training_bands(dataset)
        log(reason)
    warning = single_strip_warning(dataset)
    if warning:
        log(warning)
    return bands


@dataclass
class _Tally:
    """What the polygons yielded, beyond the pixels drawn."""

    empty_polygons: list = field(default_factory=list)  # (polygon, reason) for each that yields no pixel
    conflicting: int = 0  # pixels inside both a water and a land polygon
    sampled_polygons: int = 0


@dataclass
class _PolygonYield:
    """What one polygon's sub-windows found."""

    inside: bool = False  # some pixel centre lies inside it
    valid: bool = False  # and some of those pixels hold valid values
    conflicting: int = 0  # pixels also inside a polygon of the other class (counted for water polygons)

    def empty_reason(self):
        if not self.inside:
            return TOO_SMALL
        return None if self.valid else ONLY_NODATA


def _draw_polygons(grid, bands, polygons, drawn, callbacks):
    """Every polygon's pixels into its class's draw, polygon by polygon; returns the _Tally."""
    geometries = [ogr.CreateGeometryFromWkb(polygon.wkb) for polygon in polygons]
    windows = np.array([grid.window(geometry) or (0, 0, 0, 0) for geometry in geometries], dtype=np.int64)
    is_water = np.array([polygon.is_water for polygon in polygons], dtype=bool)
    tally = _Tally()
    for index, polygon in enumerate(polygons):
        callbacks.check_canceled()
        geometry = geometries[index]
        if geometry is None or geometry.IsEmpty():
            tally.empty_polygons.append((polygon, EMPTY_GEOMETRY))
        elif not windows[index][2]:
            tally.empty_polygons.append((polygon, OUTSIDE))
        else:
            overlapping = _overlapping(windows, index)
            earlier_same = [geometries[other] for other in overlapping
                            if other < index and is_water[other] == polygon.is_water]
            other_class = [geometries[other] for other in overlapping if is_water[other] != polygon.is_water]
            found = _PolygonYield()
            for window in grid.sub_windows(windows[index]):
                callbacks.check_canceled()
                _sample_window(grid, bands, window, geometry, earlier_same, other_class, polygon, drawn, found)
            tally.conflicting += found.conflicting
            reason = found.empty_reason()
            if reason:
                tally.empty_polygons.append((polygon, reason))
            else:
                tally.sampled_polygons += 1
            callbacks.progress((index + 1) / len(polygons))
    return tally


def _logged_summary(tally, log):
    """The lines about polygons without pixels and ambiguous pixels, logged; refuses when no
    polygon yielded a pixel. Returns the lines the Samples keep."""
    messages = _summarise_empty(tally.empty_polygons)
    for message in messages:
        log(message)
    if not tally.sampled_polygons:
        raise WaterLogRegError(
            "No polygon covers a valid pixel of the raster: the polygons lie outside it "
            "(after reprojection to the raster's CRS), are smaller than a pixel, or cover "
            "only nodata. Draw polygons over the raster."
        )
    if tally.conflicting:
        message = (
            f"{tally.conflicting} pixel{'s lie' if tally.conflicting != 1 else ' lies'} inside both a water "
            "and a land polygon; they are left out of training."
        )
        messages.append(message)
        log(message)
    return messages


def _check_both_classes(labels, polygon_is_water):
    missing = missing_class(labels)
    if missing:
        has_polygons = missing_class(polygon_is_water) != missing
        raise WaterLogRegError(
            f"There are no {missing} pixels to train on: "
            + (
                f"the {missing} polygons cover no valid pixel (outside the raster or only nodata). "
                if has_polygons
                else f"no polygon is marked as {missing}. "
            )
            + "Training needs polygons of both water and land; check CLASS_FIELD and WATER_VALUES."
        )


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


# Why a polygon yields no pixel: (one polygon, several polygons).
EMPTY_GEOMETRY = ("its geometry is empty or invalid", "their geometry is empty or invalid")
OUTSIDE = ("it lies outside the raster", "they lie outside the raster")
TOO_SMALL = ("it is smaller than a pixel or covers no pixel centre",
             "they are smaller than a pixel or cover no pixel centre")
ONLY_NODATA = ("all its pixels are nodata", "all their pixels are nodata")
LISTED_IDS = 5


def _summarise_empty(empty_polygons):
    """One log line a reason: a polygon by its id and class, or a count and a few ids."""
    by_reason = {}
    for polygon, reason in empty_polygons:
        by_reason.setdefault(reason, []).append(polygon)
    messages = []
    for reason, group in by_reason.items():
        if len(group) == 1:
            polygon = group[0]
            messages.append(f"Polygon {polygon.polygon_id} ({'water' if polygon.is_water else 'land'}) "
                            f"yields no pixel: {reason[0]}.")
            continue
        ids = ", ".join(str(polygon.polygon_id) for polygon in group[:LISTED_IDS])
        more = f" and {len(group) - LISTED_IDS} more" if len(group) > LISTED_IDS else ""
        messages.append(f"{len(group)} polygons yield no pixel: {reason[1]} (ids {ids}{more}).")
    return messages


class _Grid:
    """The raster's pixel grid: polygon windows, sub-windows and burning polygons on them."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.transform = dataset.GetGeoTransform()
        self.inverse = gdal.InvGeoTransform(self.transform)
        self.srs = dataset.GetSpatialRef()
        self.block_rows = max(1, dataset.GetRasterBand(1).GetBlockSize()[1])

    def window(self, geometry):
        """(col, row, width, height) covering the geometry's envelope, clipped; None outside."""
        if geometry is None or geometry.IsEmpty():
            return None
        min_x, max_x, min_y, max_y = geometry.GetEnvelope()
        corners = [gdal.ApplyGeoTransform(self.inverse, x, y) for x in (min_x, max_x) for y in (min_y, max_y)]
        cols = [corner[0] for corner in corners]
        rows = [corner[1] for corner in corners]
        if not all(np.isfinite(cols + rows)):
            return None
        col_start = max(0, int(np.floor(min(cols))))
        col_end = min(self.dataset.RasterXSize, int(np.ceil(max(cols))))
        row_start = max(0, int(np.floor(min(rows))))
        row_end = min(self.dataset.RasterYSize, int(np.ceil(max(rows))))
        if col_end <= col_start or row_end <= row_start:
            return None
        return col_start, row_start, col_end - col_start, row_end - row_start

    def sub_windows(self, window):
        """Row bands of a polygon's window of at most SAMPLING_WINDOW_PIXELS, cut on block rows
        where a block row fits, so a block is decompressed once."""
        col, row, width, height = (int(value) for value in window)
        rows_per = max(1, SAMPLING_WINDOW_PIXELS // width)
        if rows_per >= self.block_rows:
            rows_per -= rows_per % self.block_rows
        end = row + height
        start = row
        while start < end:
            # Stop on a block (or sub-window) boundary of the raster, not of the polygon.
            stop = min(end, (start // rows_per + 1) * rows_per)
            yield col, start, width, stop - start
            start = stop

    def burn(self, geometries, window):
        """True where a pixel centre of the window lies inside any of the geometries."""
        col_off, row_off, width, height = window
        transform = self.transform
        target = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Byte)
        if self.srs is not None:
            target.SetSpatialRef(self.srs)
        target.SetGeoTransform((
            transform[0] + col_off * transform[1] + row_off * transform[2], transform[1], transform[2],
            transform[3] + col_off * transform[4] + row_off * transform[5], transform[4], transform[5],
        ))
        vector = ogr.GetDriverByName("Memory").CreateDataSource("")
        layer = vector.CreateLayer("polygons", srs=self.srs, geom_type=ogr.wkbUnknown)
        for geometry in geometries:
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(geometry)
            layer.CreateFeature(feature)
        # Without ALL_TOUCHED GDAL burns exactly the pixels whose centre is inside.
        gdal.RasterizeLayer(target, [1], layer, burn_values=[1])
        return target.ReadAsArray().astype(bool)


def _overlapping(windows, index):
    """Indices of the other polygons whose pixel windows meet polygon `index`'s."""
    col, row, width, height = windows[index]
    meets = ((windows[:, 2] > 0) & (windows[:, 0] < col + width) & (windows[:, 0] + windows[:, 2] > col)
             & (windows[:, 1] < row + height) & (windows[:, 1] + windows[:, 3] > row))
    meets[index] = False
    return np.flatnonzero(meets)


def _sample_window(grid, bands, window, geometry, earlier_same, other_class, polygon, drawn, found):
    """Add one sub-window's pixels of a polygon to its class's draw, noting in `found` (a
    _PolygonYield) what it held."""
    inside = grid.burn([geometry], window)
    if not inside.any():
        return
    found.inside = True
    inside, values, small = _read_covered(grid.dataset, bands, window, inside)
    if not inside.any():
        return
    found.valid = True
    if earlier_same:
        inside &= ~grid.burn(earlier_same, small)  # counted once, by the first polygon
    if other_class:
        ambiguous = inside & grid.burn(other_class, small)
        if polygon.is_water:
            found.conflicting += int(np.count_nonzero(ambiguous))
        inside &= ~ambiguous
    _draw(drawn[WATER if polygon.is_water else LAND], grid.dataset.RasterXSize, inside, values, small,
          polygon.polygon_id)


def _read_covered(dataset, bands, window, inside):
    """(inside, values, small window): the band values of the rows and columns the polygon
    covers in this sub-window, and its pixels there that are valid."""
    hit_rows, hit_cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    top, left = int(hit_rows[0]), int(hit_cols[0])
    inside = inside[top:hit_rows[-1] + 1, left:hit_cols[-1] + 1]
    height, width = inside.shape
    col_off, row_off = int(window[0]) + left, int(window[1]) + top
    values = read_block(dataset, (col_off, row_off, width, height), "the raster", band_list=bands)
    values = values.reshape(len(bands), height, width)
    inside &= valid_pixels(dataset, bands, values, col_off, row_off)
    if width * height >= SAMPLING_WINDOW_PIXELS // 2:
        dataset.FlushCache()  # a large polygon's blocks are not needed again
    return inside, values, (col_off, row_off, width, height)


def _draw(draw, raster_width, inside, values, small, polygon_id):
    """Offer the pixels `inside` the small window to one class's draw."""
    col_off, row_off = small[:2]
    local_rows, local_cols = np.nonzero(inside)
    pixel_index = (local_rows + row_off).astype(np.int64) * raster_width + (local_cols + col_off)
    keys = draw.keys(pixel_index)
    # Only pixels that can still be drawn get their band values copied out.
    admitted = draw.admits(keys)
    if admitted is not None:
        keys, pixel_index, local_rows, local_cols = (
            array[admitted] for array in (keys, pixel_index, local_rows, local_cols))
    draw.add(keys, pixel_index, values[:, local_rows, local_cols].T.astype(np.float64), polygon_id)


class _ClassDraw:
    """At most `cap` pixels of one class (0: all), drawn while reading: the pixels with the
    smallest keys, a key being a hash of the pixel's position and the seed."""

    def __init__(self, cap, seed):
        self.cap = cap
        self.salt = np.uint64((int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64)
        self.parts = []
        self.held = 0
        self.largest_kept = None  # once `cap` pixels are held, a pixel with a larger key never is

    def keys(self, pixel_index):
        return _mix(pixel_index.astype(np.uint64) ^ self.salt)

    def admits(self, keys):
        """Which of these keys can still be drawn (None: all of them)."""
        return None if self.largest_kept is None else keys < self.largest_kept

    def add(self, keys, pixel_index, values, polygon_id):
        self.parts.append((keys, pixel_index, values, np.full(len(pixel_index), polygon_id, np.int64)))
        self.held += len(pixel_index)
        if self.cap and self.held > 2 * self.cap:
            self._trim()

    def _trim(self):
        keys, pixel_index, values, polygon_ids = (np.concatenate(part) for part in zip(*self.parts))
        if self.cap and len(keys) > self.cap:
            keep = np.argpartition(keys, self.cap - 1)[:self.cap]
            keys, pixel_index, values, polygon_ids = keys[keep], pixel_index[keep], values[keep], polygon_ids[keep]
            self.largest_kept = keys.max()
        self.parts = [(keys, pixel_index, values, polygon_ids)]
        self.held = len(keys)

    def result(self):
        """(pixel_index, values, polygon_ids) of the drawn pixels, in the raster's pixel order."""
        if not self.parts:
            return None
        self._trim()
        _, pixel_index, values, polygon_ids = self.parts[0]
        order = np.argsort(pixel_index, kind="stable")
        return pixel_index[order], values[order], polygon_ids[order]


def _mix(z):
    """splitmix64's finaliser: a well-spread 64-bit hash of each (uint64) value."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _combine(water, land, band_count):
    """One (pixel_index, values, labels, polygon_ids) from the two classes' draws."""
    parts = [(part, label) for part, label in ((water, WATER), (land, LAND)) if part is not None]
    if not parts:
        return (np.zeros(0, np.int64), np.zeros((0, band_count)), np.zeros(0, np.uint8), np.zeros(0, np.int64))
    pixel_index = np.concatenate([part[0] for part, _ in parts])
    values = np.concatenate([part[1] for part, _ in parts])
    labels = np.concatenate([np.full(len(part[0]), label, np.uint8) for part, label in parts])
    polygon_ids = np.concatenate([part[2] for part, _ in parts])
    return pixel_index, values, labels, polygon_ids


def _pixel_centres(transform, rows, cols):
    col_centre = cols + 0.5
    row_centre = rows + 0.5
    x = transform[0] + col_centre * transform[1] + row_centre * transform[2]
    y = transform[3] + col_centre * transform[4] + row_centre * transform[5]
    return x, y
