"""Water bodies: the polygons of connected water pixels, with their area and mean P(water).

Pixels at or above the threshold form a 0/1 mask (written blockwise to a temporary file);
GDAL polygonizes it with 4-connectedness, only the water pixels (the mask is its own mask
band). Bodies smaller than a minimum area are dropped and holes smaller than a size are filled,
both measured on the ground (core.raster.areas). The mean P(water) of each body comes from its pixels'
probabilities: the bodies are rasterized by id and the probabilities summed per id, window by
window. The output is in the raster's CRS.
"""

import os
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, ogr

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..raster.areas import SQUARE_METRES_PER_HECTARE, AreaMeasure
from ..raster.gdal_errors import gdal_outcome
from ..raster.probability import check_threshold, open_on_grid, read_probability
from ..raster.reading import read_block
from ..raster.windows import row_windows
from ..raster.writing import (
    OutputRaster,
    WriteError,
    atomic_output,
    check_output_folder,
    check_written,
    create_like,
    scratch_folder,
)

# Formats written as one file, so the output can be moved into place whole.
VECTOR_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf"}
FIELDS = (("body_id", ogr.OFTInteger), ("area_m2", ogr.OFTReal), ("area_ha", ogr.OFTReal),
          ("mean_p", ogr.OFTReal), ("holes_filled", ogr.OFTInteger))
BODY_ID, AREA_M2, AREA_HA, MEAN_P, HOLES_FILLED = range(len(FIELDS))  # field indices: a lookup by name is slow
MANY_BODIES = 100_000  # more are written with a warning and a MIN_AREA hint
HINT_PIXELS = 10  # the body size the hint's MIN_AREA leaves out
# Scratch layers are read in order only: a spatial index would cost seconds to build on close.
SCRATCH_LAYER_OPTIONS = ["SPATIAL_INDEX=NO"]


@dataclass(frozen=True)
class WaterBodiesSummary:
    bodies: int
    water_area_m2: float  # of the bodies kept, filled holes included
    area_method: str
    dropped_small: int  # bodies under the minimum area
    holes_filled: int


def water_bodies(probability_path, output_path, threshold=0.5, min_area_m2=0.0, fill_holes_below_m2=0.0,
                 map_units=None, callbacks=QUIET):
    """Write the water bodies of a probability raster (or a 0/1 mask) as polygons.

    min_area_m2: bodies smaller than this are left out. fill_holes_below_m2: holes (islands,
    dry patches) smaller than this are filled and become part of the body; 0 keeps every hole.
    map_units: the units of the raster's coordinates when it has no CRS (core.raster.areas.MAP_UNITS);
    without them such a raster is refused.
    """
    check_threshold(threshold)
    if min_area_m2 < 0 or fill_holes_below_m2 < 0:
        raise WaterLogRegError("The minimum area and the hole size cannot be negative.")
    driver_name = VECTOR_DRIVERS.get(os.path.splitext(str(output_path))[1].lower())
    if driver_name is None:
        raise WaterLogRegError(
            f"'{output_path}' is not a GeoPackage (.gpkg), GeoJSON (.geojson) or FlatGeobuf (.fgb) file; "
            "choose one of those for the water bodies."
        )
    check_output_folder(output_path)
    raster = open_on_grid([probability_path])[0]
    dataset = raster.dataset
    measure = AreaMeasure(dataset, map_units)
    callbacks.log(f"Areas are {measure.description}.")
    with scratch_folder(output_path) as scratch:
        mask_path = _write_mask(raster, os.path.join(scratch, "mask.tif"), threshold, callbacks.part(0.0, 0.3))
        scratch_vectors = _polygonize(mask_path, os.path.join(scratch, "bodies.gpkg"), dataset,
                                      callbacks.part(0.3, 0.6))
        bodies = _new_layer(scratch_vectors, "bodies", scratch_vectors.GetLayer("raw").GetSpatialRef(),
                            SCRATCH_LAYER_OPTIONS)
        kept, dropped, filled = _keep_bodies(scratch_vectors.GetLayer("raw"), bodies, measure, min_area_m2,
                                             fill_holes_below_m2, callbacks.part(0.6, 0.7))
        if kept > MANY_BODIES:
            callbacks.log(many_bodies_warning(kept, dataset, measure))
        means = _mean_probability(raster, bodies, kept, os.path.join(scratch, "ids.tif"),
                                  callbacks.part(0.7, 0.95))
        with atomic_output(output_path) as partial:
            output, reason = gdal_outcome(ogr.GetDriverByName(driver_name).CreateDataSource, partial)
            if output is None:
                reason = reason.replace(partial, str(output_path))  # the user's name, not ours
                raise WaterLogRegError(f"The water bodies cannot be written to '{output_path}': {reason}")
            name = os.path.splitext(os.path.basename(str(output_path)))[0]
            water_area = _write_bodies(bodies, means, _new_layer(output, name, bodies.GetSpatialRef()))
            output = bodies = scratch_vectors = None  # closes the files before the output is moved into place
            check_written()
        callbacks.progress(1.0)
    summary = WaterBodiesSummary(kept, water_area, measure.description, dropped, filled)
    callbacks.log(f"{kept} water bodies, {water_area / SQUARE_METRES_PER_HECTARE:.4f} ha in all; "
                  f"{dropped} smaller than the minimum area left out, {filled} holes filled.")
    return summary


def many_bodies_warning(kept, dataset, measure):
    """Said before the bodies are written: millions of one-pixel bodies from a speckled map
    (salt and pepper) take minutes and gigabytes, and MIN_AREA is the remedy."""
    pixel_area = float(measure.row_pixel_areas(dataset.RasterYSize // 2, 1)[0])
    return (
        f"Warning: {kept:,} water bodies will be written (more than {MANY_BODIES:,}): the map is likely "
        "speckled (salt and pepper), and so many bodies take long to write and make a large file. Set "
        f"MIN_AREA to leave the smallest out (MIN_AREA {HINT_PIXELS * pixel_area:.6g} m² leaves out bodies under "
        f"{HINT_PIXELS} pixels), or cancel and smooth the map first."
    )


def _write_mask(raster, path, threshold, callbacks):
    """A Byte GeoTIFF: 1 water, 0 anything else (land, nodata). A scratch file, never moved
    into place: written and closed as an output is, without the partial name."""
    mask = OutputRaster(create_like(raster.dataset, path, 1, gdal.GDT_Byte, 0))
    windows = row_windows(raster.dataset)
    for index, (row, rows) in enumerate(windows):
        callbacks.check_canceled()
        values, valid = read_probability(raster, row, rows)
        mask.write_rows((valid & (values >= threshold)).astype(np.uint8), row)
        callbacks.progress((index + 1) / len(windows))
    mask.close()
    return path


def _polygonize(mask_path, path, template, callbacks):
    mask = gdal.Open(mask_path)
    band = mask.GetRasterBand(1)
    output, reason = gdal_outcome(ogr.GetDriverByName("GPKG").CreateDataSource, path)
    if output is None:
        raise WaterLogRegError(f"A temporary file cannot be written beside the output: {reason}")
    srs = template.GetSpatialRef()
    layer, reason = gdal_outcome(output.CreateLayer, "raw", srs, ogr.wkbPolygon, SCRATCH_LAYER_OPTIONS)
    if layer is None:
        raise WaterLogRegError(f"A temporary file cannot be written beside the output: {reason}")
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))

    def report(fraction, _message, _data):
        callbacks.progress(fraction)
        return 0 if callbacks.is_canceled() else 1

    # One transaction: SQLite commits each feature otherwise, ten times slower in all.
    layer.StartTransaction()
    code, reason = gdal_outcome(gdal.Polygonize, band, band, layer, 0, [], callback=report)
    _commit_transaction(layer)
    callbacks.check_canceled()
    if code != 0:
        raise WaterLogRegError(f"Polygonizing the water mask failed: {reason}")
    return output


def _new_layer(datasource, name, srs, options=()):
    layer, reason = gdal_outcome(datasource.CreateLayer, name, srs, ogr.wkbPolygon, list(options))
    if layer is None:
        raise WaterLogRegError(f"The layer '{name}' cannot be created: {reason}")
    for field_name, field_type in FIELDS:
        layer.CreateField(ogr.FieldDefn(field_name, field_type))
    return layer


def _keep_bodies(raw, layer, measure, min_area_m2, fill_holes_below_m2, callbacks):
    """Copy the bodies at least min_area_m2 large into `layer`, small holes filled:
    (bodies kept, bodies dropped, holes filled)."""
    kept = dropped = filled = 0
    total = max(raw.GetFeatureCount(), 1)
    layer.StartTransaction()
    for index, feature in enumerate(raw):
        if index % 1000 == 0:
            callbacks.check_canceled()
            callbacks.progress(index / total)
        polygon, holes = _fill_holes(feature.GetGeometryRef(), measure, fill_holes_below_m2)
        area = measure.polygon_area(polygon)
        if area < min_area_m2:
            dropped += 1
            continue
        kept += 1
        filled += holes
        body = ogr.Feature(layer.GetLayerDefn())
        body.SetFID(kept)
        body.SetGeometry(polygon)
        body.SetField(BODY_ID, kept)
        body.SetField(AREA_M2, area)
        body.SetField(AREA_HA, area / SQUARE_METRES_PER_HECTARE)
        body.SetField(HOLES_FILLED, holes)
        _create_feature(layer, body)
    _commit_transaction(layer)
    return kept, dropped, filled


def _fill_holes(polygon, measure, fill_holes_below_m2):
    """(polygon without its holes smaller than the size, number of holes removed)."""
    if fill_holes_below_m2 <= 0 or polygon.GetGeometryCount() < 2:
        return polygon.Clone(), 0
    filled = ogr.Geometry(ogr.wkbPolygon)
    filled.AddGeometry(polygon.GetGeometryRef(0))
    removed = 0
    for index in range(1, polygon.GetGeometryCount()):
        ring = polygon.GetGeometryRef(index)
        if measure.ring_area(ring) < fill_holes_below_m2:
            removed += 1
        else:
            filled.AddGeometry(ring)
    return filled, removed


def _mean_probability(raster, layer, bodies, ids_path, callbacks):
    """Mean probability of each body's valid pixels, filled holes included: index = body id."""
    ids = create_like(raster.dataset, ids_path, 1, gdal.GDT_Int32, 0)
    code, reason = gdal_outcome(gdal.RasterizeLayer, ids, [1], layer, options=["ATTRIBUTE=body_id"])
    if code != 0:
        raise WaterLogRegError(f"Rasterizing the water bodies failed: {reason}")
    ids.FlushCache()
    sums, counts = np.zeros(bodies + 1), np.zeros(bodies + 1)
    windows = row_windows(raster.dataset)
    for index, (row, rows) in enumerate(windows):
        callbacks.check_canceled()
        values, valid = read_probability(raster, row, rows)
        body_ids = read_block(ids.GetRasterBand(1), (0, row, raster.dataset.RasterXSize, rows),
                              "the water bodies' scratch file")
        ids.FlushCache()
        valid &= body_ids > 0
        sums += np.bincount(body_ids[valid], weights=values[valid].astype(np.float64), minlength=bodies + 1)
        counts += np.bincount(body_ids[valid], minlength=bodies + 1)
        callbacks.progress((index + 1) / len(windows))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _write_bodies(bodies, means, layer):
    """Copy the bodies into the output with their mean probability; returns their total area in m²."""
    total = 0.0
    layer.StartTransaction()
    bodies.ResetReading()
    for body in bodies:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetFrom(body)
        feature.SetFID(body.GetFID())
        mean = means[body.GetFieldAsInteger(BODY_ID)]
        if np.isfinite(mean):
            feature.SetField(MEAN_P, float(mean))
        total += body.GetFieldAsDouble(AREA_M2)
        _create_feature(layer, feature)
    _commit_transaction(layer)
    return total


def _create_feature(layer, feature):
    """CreateFeature, and a feature GDAL could not write as an error, in both modes."""
    code, reason = gdal_outcome(layer.CreateFeature, feature)
    if code != 0:
        raise WaterLogRegError(f"Writing a water body failed: {reason}")


def _commit_transaction(layer):
    """Commit, and a commit GDAL could not write (a full disk) as an error, in both modes."""
    code, reason = gdal_outcome(layer.CommitTransaction)
    if code != 0:
        raise WriteError(reason or "GDAL could not commit the features")
