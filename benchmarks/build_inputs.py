"""The benchmark's inputs, built once from a seeded generator and cached under benchmarks/work/.

    .venv/bin/python benchmarks/build_inputs.py [--work benchmarks/work]

- scene_full.tif: 10980 × 10980 (a Sentinel-2 tile at 10 m), 4 bands UInt16 (blue, green,
  red, near-infrared), tiled 256², DEFLATE with the horizontal predictor, nodata 0 on a
  corner the swath misses. The pixels follow a smooth "wetness" field of two octaves (lakes
  and rivers some hundreds of pixels across, shore detail of tens) plus sensor noise, so
  DEFLATE meets what it meets in real data (neither white noise nor flat colour).
- scene_quarter.tif: its top-left 5490 × 5490 quarter, same layout.
- polygons.gpkg: 500 training rectangles (250 water, 250 land) in the scene's CRS, field
  `class` (water/land) for the plugin and `code` (1 water, 2 land) for Orfeo ToolBox. Each is
  labelled by the truth at its centre, so some straddle a shore: the classes overlap, as
  hand-drawn polygons do, and an unpenalised logistic regression has a finite optimum.

Every file is written under a temporary name and renamed when complete, so an interrupted
build is redone, never reused.
"""

import argparse
import os
import sys

import numpy as np
from osgeo import gdal, ogr, osr

FULL_SIZE = 10980
QUARTER_SIZE = FULL_SIZE // 2
PIXEL_SIZE = 10.0
ORIGIN = (300000.0, 5000040.0)
EPSG = 32633
SEED = 20240607
POLYGONS_PER_CLASS = 250
SCENE_OPTIONS = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "PREDICTOR=2",
                 "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER"]
# Mean digital numbers (reflectance × 10000) of the four bands over land and over deep water.
LAND_MEANS = np.array([900.0, 1100.0, 1300.0, 2800.0])
WATER_MEANS = np.array([700.0, 750.0, 500.0, 300.0])
VEGETATION_SWING = np.array([-150.0, 100.0, -350.0, 900.0])
SENSOR_NOISE = np.array([60.0, 60.0, 70.0, 120.0])
WATER_QUANTILE_LEVEL = 0.55  # wetness above this is water: about a fifth of the scene
ROWS_PER_PASS = 512


def interpolation_matrix(size, cells):
    """(size, cells) bilinear weights mapping a coarse grid of `cells` onto `size` pixels."""
    position = (np.arange(size) + 0.5) / size * (cells - 1)
    lower = np.minimum(position.astype(int), cells - 2)
    fraction = position - lower
    matrix = np.zeros((size, cells))
    matrix[np.arange(size), lower] = 1 - fraction
    matrix[np.arange(size), lower + 1] = fraction
    return matrix


class Landscape:
    """Smooth fields over the full grid, evaluated a band of rows at a time."""

    def __init__(self, rng):
        self.octaves = []
        for cells, amplitude in ((48, 1.0), (240, 0.45), (900, 0.12)):
            for field in ("wetness", "vegetation"):
                coarse = rng.standard_normal((cells, cells))
                weights = interpolation_matrix(FULL_SIZE, cells)
                self.octaves.append((field, amplitude, coarse, weights))

    def fields(self, row, rows):
        wetness = np.zeros((rows, FULL_SIZE))
        vegetation = np.zeros((rows, FULL_SIZE))
        for field, amplitude, coarse, weights in self.octaves:
            values = weights[row:row + rows] @ coarse @ weights.T
            (wetness if field == "wetness" else vegetation)[...] += amplitude * values
        return wetness, vegetation


def band_values(wetness, vegetation, rng):
    """(4, rows, cols) UInt16 digital numbers; the shore blends land into water over a few pixels."""
    water_share = 1 / (1 + np.exp(-(wetness - WATER_QUANTILE_LEVEL) * 12))
    values = np.empty((4,) + wetness.shape, dtype=np.uint16)
    for band in range(4):
        land = LAND_MEANS[band] + VEGETATION_SWING[band] * np.tanh(vegetation)
        level = land + (WATER_MEANS[band] - land) * water_share
        noisy = level + rng.normal(0, SENSOR_NOISE[band], wetness.shape)
        values[band] = np.clip(noisy, 1, 65535)
    return values


def outside_swath(row, rows):
    """The top-left corner the satellite's swath misses (nodata), as in many Sentinel-2 tiles."""
    rows_index = np.arange(row, row + rows)[:, None]
    cols_index = np.arange(FULL_SIZE)[None, :]
    return rows_index + cols_index < FULL_SIZE // 3


def spatial_reference():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    return srs


def build_scene(path):
    rng = np.random.default_rng(SEED)
    landscape = Landscape(rng)
    partial = path + ".partial.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(partial, FULL_SIZE, FULL_SIZE, 4, gdal.GDT_UInt16, SCENE_OPTIONS)
    dataset.SetGeoTransform((ORIGIN[0], PIXEL_SIZE, 0, ORIGIN[1], 0, -PIXEL_SIZE))
    dataset.SetProjection(spatial_reference().ExportToWkt())
    for band, name in enumerate(("blue", "green", "red", "nir"), start=1):
        dataset.GetRasterBand(band).SetNoDataValue(0)
        dataset.GetRasterBand(band).SetDescription(name)
    truth = np.zeros((FULL_SIZE // 16, FULL_SIZE // 16), dtype=bool)  # every 16th pixel, for polygons
    for row in range(0, FULL_SIZE, ROWS_PER_PASS):
        rows = min(ROWS_PER_PASS, FULL_SIZE - row)
        wetness, vegetation = landscape.fields(row, rows)
        values = band_values(wetness, vegetation, rng)
        values[:, outside_swath(row, rows)] = 0
        dataset.WriteRaster(0, row, FULL_SIZE, rows, values.tobytes())
        sampled_rows = np.arange(row, row + rows)
        sampled_rows = sampled_rows[sampled_rows % 16 == 8]
        wet = wetness[sampled_rows - row][:, 8::16] > WATER_QUANTILE_LEVEL
        truth[(sampled_rows - 8) // 16] = wet[:, :truth.shape[1]]
        print(f"  scene rows {row + rows}/{FULL_SIZE}", end="\r", flush=True)
    dataset = None
    os.replace(partial, path)
    np.save(path + ".truth.npy", truth)
    print()


def build_quarter(full_path, path):
    partial = path + ".partial.tif"
    gdal.Translate(partial, full_path, srcWin=[0, 0, QUARTER_SIZE, QUARTER_SIZE], creationOptions=SCENE_OPTIONS)
    os.replace(partial, path)


def build_polygons(full_path, path):
    """500 rectangles 30–90 pixels a side inside the swath; class from the truth at the centre."""
    truth = np.load(full_path + ".truth.npy")
    rng = np.random.default_rng(SEED + 1)
    partial = path + ".partial.gpkg"
    if os.path.exists(partial):
        os.remove(partial)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(partial)
    layer = source.CreateLayer("polygons", spatial_reference(), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    layer.CreateField(ogr.FieldDefn("code", ogr.OFTInteger))
    wanted = {True: POLYGONS_PER_CLASS, False: POLYGONS_PER_CLASS}
    layer.StartTransaction()
    while any(wanted.values()):
        width, height = rng.integers(30, 91, size=2)
        col = int(rng.integers(0, FULL_SIZE - width))
        row = int(rng.integers(0, FULL_SIZE - height))
        centre_row, centre_col = row + height // 2, col + width // 2
        if outside_swath(row, 1)[0, col] or outside_swath(centre_row, 1)[0, centre_col]:
            continue
        is_water = bool(truth[min(centre_row // 16, truth.shape[0] - 1), min(centre_col // 16, truth.shape[1] - 1)])
        if not wanted[is_water]:
            continue
        wanted[is_water] -= 1
        x0, y0 = ORIGIN[0] + col * PIXEL_SIZE, ORIGIN[1] - row * PIXEL_SIZE
        x1, y1 = x0 + width * PIXEL_SIZE, y0 - height * PIXEL_SIZE
        ring = f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(ring))
        feature.SetField("class", "water" if is_water else "land")
        feature.SetField("code", 1 if is_water else 2)
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None
    os.replace(partial, path)


def build_inputs(work):
    """Paths of the inputs, building the ones not already cached."""
    os.makedirs(work, exist_ok=True)
    paths = {name: os.path.join(work, name) for name in ("scene_full.tif", "scene_quarter.tif", "polygons.gpkg")}
    if not os.path.exists(paths["scene_full.tif"]):
        print("Building the 10980 × 10980 scene (once; cached in benchmarks/work/) …", flush=True)
        build_scene(paths["scene_full.tif"])
    if not os.path.exists(paths["scene_quarter.tif"]):
        build_quarter(paths["scene_full.tif"], paths["scene_quarter.tif"])
    if not os.path.exists(paths["polygons.gpkg"]):
        build_polygons(paths["scene_full.tif"], paths["polygons.gpkg"])
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"))
    args = parser.parse_args()
    gdal.UseExceptions()
    for name, path in build_inputs(args.work).items():
        print(f"{name}: {os.path.getsize(path) / 2**20:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
