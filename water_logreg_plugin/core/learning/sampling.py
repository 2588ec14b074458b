"""Training pixels from polygons: every pixel whose centre lies inside a polygon.

The raster is cut into tiles; on each tile that polygons reach, GDAL rasterizes all of them at
once by their index, the water polygons in one band and the land ones in another, the first
polygon of a class winning where several overlap: one rasterization a tile, however many
polygons (one a polygon, with each polygon's overlaps looked up, grew with their square). The
band values are read where a polygon lies, invalid pixels (raster.valid_pixels: nodata, NaN,
mask, alpha) are dropped, a pixel in both a water and a land polygon is left out, and a
seeded draw keeps at most N pixels a class as it reads. A polygon that gets no pixel, or no
valid one, in the shared rasterization is burned alone, on its own window, to tell why.
"""

from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, ogr

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..raster.band_roles import default_training_bands
from ..raster.gdal_errors import gdal_outcome
from ..raster.reading import open_raster, read_block, resolve_bands, valid_pixels
from ..raster.windows import single_strip_warning

WATER, LAND = 1, 0
# A polygon burned alone is read in windows of at most this many pixels (16 MB of 4 UInt16 bands).
SAMPLING_WINDOW_PIXELS = 1 << 21
# Tiles of about TILE_PIXELS, TILE_COLUMNS wide where the raster is wider: the polygons of one
# tile are held in memory at a time, and a tile's rasterization stays small.
TILE_PIXELS = 1 << 20
TILE_COLUMNS = 1024


@dataclass
class TrainingPolygon:
    """One polygon, already in the raster's CRS, as WKB; multi-part polygons are one."""

    polygon_id: int
    wkb: bytes
    is_water: bool
    class_value: str = ""  # the class field's value as drawn, for the polygon check; "" where unknown


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
    # Every polygon sampled: {polygon id: its pixels valid in every band}, counted before the
    # per-class draw and ambiguity, 0 for a polygon that yields none; a pixel inside overlapping
    # polygons of one class counts for the first of them, as it is drawn (the tiled sampling burns
    # each pixel once a class); {} where unknown (samples read back from a layer).
    polygon_pixels: dict = field(default_factory=dict)
    # {polygon id: why it yields no pixel}, in the log's words.
    empty_reasons: dict = field(default_factory=dict)

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
    samples = Samples(bands, values, labels, polygon_ids, x, y, messages, polygon_pixels=tally.polygon_pixels,
                      empty_reasons={polygon.polygon_id: reason[0] for polygon, reason in tally.empty_polygons})
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
    polygon_pixels: dict = field(default_factory=dict)  # {polygon id: valid pixels inside it}


def _draw_polygons(grid, bands, polygons, drawn, callbacks):
    """Every polygon's pixels into its class's draw, tile by tile; returns the _Tally."""
    # Geometries are made from the WKB where needed, never all at once: a million polygons'
    # OGR geometries held together took more memory than their pixels.
    wkbs = [polygon.wkb for polygon in polygons]
    windows, has_window, empty = grid.windows_of(wkbs)
    is_water = np.array([polygon.is_water for polygon in polygons], dtype=bool)
    polygon_ids = np.array([polygon.polygon_id for polygon in polygons], dtype=np.int64)
    found = _Found(np.zeros(len(polygons), bool), np.zeros(len(polygons), np.int64))
    tally = _Tally()
    tiles = grid.tiles_of(windows, has_window)
    for number, tile in enumerate(sorted(tiles)):
        callbacks.check_canceled()
        members = tiles.pop(tile)
        water = grid.burn_indices(tile, [index for index in members if is_water[index]], wkbs)
        land = grid.burn_indices(tile, [index for index in members if not is_water[index]], wkbs)
        tally.conflicting += _sample_tile(grid, bands, tile, water, land, polygon_ids, drawn, found)
        callbacks.progress(0.95 * (number + 1) / (number + 1 + len(tiles)))
    _settle_alone(grid, bands, wkbs, windows, has_window, found, callbacks.part(0.95, 1.0))
    for index, polygon in enumerate(polygons):
        reason = (EMPTY_GEOMETRY if empty[index]
                  else OUTSIDE if not has_window[index]
                  else TOO_SMALL if not found.inside[index]
                  else ONLY_NODATA if not found.valid[index] else None)
        tally.polygon_pixels[polygon.polygon_id] = int(found.valid[index])
        if reason:
            tally.empty_polygons.append((polygon, reason))
        else:
            tally.sampled_polygons += 1
    return tally


@dataclass
class _Found:
    """What each polygon (by index) held: a pixel centre inside it, and its pixels valid in every
    band (a pixel inside overlapping polygons of one class is counted for the first of them)."""

    inside: np.ndarray
    valid: np.ndarray  # int64 counts


def _sample_tile(grid, bands, tile, water, land, polygon_ids, drawn, found):
    """Draw one tile's pixels, given the indices (+1, 0 none) of the water and land polygon that
    holds each; marks what the polygons held in `found`; returns the pixels in both classes."""
    hits = (water > 0) | (land > 0)
    if not hits.any():
        return 0
    for indices in (water, land):
        found.inside[np.unique(indices[indices > 0]) - 1] = True
    hit, values, small = _read_covered(grid.dataset, bands, tile, hits)
    top, left = small[1] - tile[1], small[0] - tile[0]
    water, land = (indices[top:top + small[3], left:left + small[2]] for indices in (water, land))
    for indices in (water, land):
        held, pixels = np.unique(indices[hit & (indices > 0)], return_counts=True)
        found.valid[held - 1] += pixels
    ambiguous = hit & (water > 0) & (land > 0)
    for indices, label in ((water, WATER), (land, LAND)):
        picked = hit & (indices > 0) & ~ambiguous
        _draw(drawn[label], grid.dataset.RasterXSize, picked, values, small, polygon_ids[indices[picked] - 1])
    return int(np.count_nonzero(ambiguous))


def _settle_alone(grid, bands, wkbs, windows, has_window, found, callbacks):
    """Polygons that got no pixel, or no valid one, may owe it to earlier polygons of their class
    (a shared pixel goes to the first): each is burned alone on its own window, since why a
    polygon yields nothing is about the polygon itself. Usually none or a few."""
    unsettled = np.flatnonzero(has_window & ~(found.inside & (found.valid > 0)))
    for number, index in enumerate(unsettled):
        callbacks.check_canceled()
        for window in grid.sub_windows(windows[index]):
            inside = grid.burn([_geometry(wkbs[index])], window)
            if not inside.any():
                continue
            found.inside[index] = True
            found.valid[index] += int(np.count_nonzero(_read_covered(grid.dataset, bands, window, inside)[0]))
        callbacks.progress((number + 1) / len(unsettled))


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


def _geometry(wkb):
    """The OGR geometry of a polygon's WKB; None for a WKB GDAL cannot read, in both modes."""
    return gdal_outcome(ogr.CreateGeometryFromWkb, wkb)[0]


class _Grid:
    """The raster's pixel grid: polygon windows, sub-windows and burning polygons on them."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.transform = dataset.GetGeoTransform()
        self.inverse = gdal.InvGeoTransform(self.transform)
        self.srs = dataset.GetSpatialRef()
        self.block_rows = max(1, dataset.GetRasterBand(1).GetBlockSize()[1])

    def windows_of(self, wkbs):
        """(col, row, width, height) covering each polygon's envelope, clipped to the raster, as an
        (n, 4) int64 array; which polygons have one (not empty, not outside); which are empty (or
        not geometries). In numpy: a call a polygon took half of a sampling of 100,000 one-pixel
        polygons."""
        envelopes = np.full((len(wkbs), 4), np.nan)
        empty = np.zeros(len(wkbs), bool)
        for index, wkb in enumerate(wkbs):
            geometry = _geometry(wkb)
            if geometry is None or geometry.IsEmpty():
                empty[index] = True
            else:
                envelopes[index] = geometry.GetEnvelope()
        xs, ys = (envelopes[:, 0], envelopes[:, 1]), (envelopes[:, 2], envelopes[:, 3])
        inverse = self.inverse
        cols = np.stack([inverse[0] + inverse[1] * x + inverse[2] * y for x in xs for y in ys])
        rows = np.stack([inverse[3] + inverse[4] * x + inverse[5] * y for x in xs for y in ys])
        with np.errstate(invalid="ignore"):
            start_col = np.maximum(0, np.floor(cols.min(axis=0)))
            end_col = np.minimum(self.dataset.RasterXSize, np.ceil(cols.max(axis=0)))
            start_row = np.maximum(0, np.floor(rows.min(axis=0)))
            end_row = np.minimum(self.dataset.RasterYSize, np.ceil(rows.max(axis=0)))
            has_window = (np.isfinite(cols).all(axis=0) & np.isfinite(rows).all(axis=0)
                          & (end_col > start_col) & (end_row > start_row))
        windows = np.zeros((len(wkbs), 4), np.int64)
        windows[has_window] = np.stack([start_col, start_row, end_col - start_col, end_row - start_row],
                                       axis=1)[has_window].astype(np.int64)
        return windows, has_window, empty

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

    def tiles_of(self, windows, has_window):
        """{tile (col, row, width, height): [indices of the polygons whose window meets it]}; tiles
        of about TILE_PIXELS, in whole block rows where a block row fits."""
        width, height = self.dataset.RasterXSize, self.dataset.RasterYSize
        tile_cols = min(width, TILE_COLUMNS)
        tile_rows = max(1, TILE_PIXELS // tile_cols)
        if tile_rows >= self.block_rows:
            tile_rows -= tile_rows % self.block_rows
        tiles = {}
        for index in np.flatnonzero(has_window).tolist():
            col, row, cols, rows = windows[index].tolist()
            for tile_row in range(row // tile_rows, (row + rows - 1) // tile_rows + 1):
                for tile_col in range(col // tile_cols, (col + cols - 1) // tile_cols + 1):
                    tiles.setdefault((tile_row, tile_col), []).append(index)
        return {(tile_col * tile_cols, tile_row * tile_rows, min(tile_cols, width - tile_col * tile_cols),
                 min(tile_rows, height - tile_row * tile_rows)): members
                for (tile_row, tile_col), members in tiles.items()}

    def burn(self, geometries, window):
        """True where a pixel centre of the window lies inside any of the geometries."""
        layer_source, layer = self._layer()
        for geometry in geometries:
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(geometry)
            gdal_outcome(layer.CreateFeature, feature)
        target = self._window_raster(window, gdal.GDT_Byte)
        # Without ALL_TOUCHED GDAL burns exactly the pixels whose centre is inside. A geometry GDAL
        # cannot burn burns nothing, whether its exceptions are on or off.
        gdal_outcome(gdal.RasterizeLayer, target, [1], layer, burn_values=[1])
        return target.ReadAsArray().astype(bool)

    def burn_indices(self, window, indices, wkbs):
        """Int32 (rows, cols) of the window: 1 + the smallest of `indices` whose polygon holds the
        pixel centre (GDAL burns in layer order, so they are laid down last first), 0 where none."""
        if not indices:
            return np.zeros((window[3], window[2]), np.int32)
        layer_source, layer = self._layer(ogr.FieldDefn("index", ogr.OFTInteger))
        definition = layer.GetLayerDefn()
        for index in sorted(indices, reverse=True):
            feature = ogr.Feature(definition)
            feature.SetGeometryDirectly(_geometry(wkbs[index]))
            feature.SetField(0, index + 1)
            gdal_outcome(layer.CreateFeature, feature)
        target = self._window_raster(window, gdal.GDT_Int32)
        gdal_outcome(gdal.RasterizeLayer, target, [1], layer, options=["ATTRIBUTE=index"])
        return target.ReadAsArray()

    def _layer(self, field_definition=None):
        """An empty in-memory layer in the raster's CRS (its data source is returned too: the layer
        lives only as long as it)."""
        source = in_memory_vector()
        layer = source.CreateLayer("polygons", srs=self.srs, geom_type=ogr.wkbUnknown)
        if field_definition is not None:
            layer.CreateField(field_definition)
        return source, layer

    def _window_raster(self, window, data_type):
        """An in-memory raster of 0 on the window (col, row, width, height) of the raster's grid."""
        col_off, row_off, width, height = (int(value) for value in window)
        transform = self.transform
        target = gdal.GetDriverByName("MEM").Create("", width, height, 1, data_type)
        if self.srs is not None:
            target.SetSpatialRef(self.srs)
        target.SetGeoTransform((
            transform[0] + col_off * transform[1] + row_off * transform[2], transform[1], transform[2],
            transform[3] + col_off * transform[4] + row_off * transform[5], transform[4], transform[5],
        ))
        return target


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


def _draw(draw, raster_width, inside, values, small, polygon_ids):
    """Offer the pixels `inside` the small window to one class's draw; `polygon_ids` are those of
    the polygons they came from, in the row-major order of the pixels."""
    col_off, row_off = small[:2]
    local_rows, local_cols = np.nonzero(inside)
    pixel_index = (local_rows + row_off).astype(np.int64) * raster_width + (local_cols + col_off)
    keys = draw.keys(pixel_index)
    # Only pixels that can still be drawn get their band values copied out.
    admitted = draw.admits(keys)
    if admitted is not None:
        keys, pixel_index, local_rows, local_cols, polygon_ids = (
            array[admitted] for array in (keys, pixel_index, local_rows, local_cols, polygon_ids))
    draw.add(keys, pixel_index, values[:, local_rows, local_cols].T.astype(np.float64), polygon_ids)


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

    def add(self, keys, pixel_index, values, polygon_ids):
        self.parts.append((keys, pixel_index, values, np.asarray(polygon_ids, np.int64)))
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


def in_memory_vector():
    """An empty in-memory vector dataset. GDAL 3.11 made MEM its in-memory vector driver too and
    deprecated "Memory", which then warns on every use (QGIS 3.44's GDAL 3.13); 3.10 and older
    have only "Memory" for vectors."""
    driver = gdal.GetDriverByName("MEM")
    if driver is None or driver.GetMetadataItem(gdal.DCAP_VECTOR) != "YES":
        driver = gdal.GetDriverByName("Memory")
    return driver.Create("", 0, 0, 0, gdal.GDT_Unknown)
