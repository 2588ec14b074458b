"""Small rasters and polygon layers with known truth, built with GDAL/OGR."""

import numpy as np
from osgeo import gdal, ogr, osr

UTM_33N = 32633
ORIGIN = (500000.0, 4000000.0)
PIXEL = 10.0


def write_raster(path, bands, epsg=UTM_33N, nodata=0, data_type=gdal.GDT_UInt16,
                 origin=ORIGIN, pixel=PIXEL, options=("TILED=YES",)):
    """A GeoTIFF from a (bands, rows, cols) array."""
    bands = np.asarray(bands)
    count, rows, cols = bands.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, count, data_type, list(options))
    dataset.SetGeoTransform((origin[0], pixel, 0, origin[1], 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    for index in range(count):
        band = dataset.GetRasterBand(index + 1)
        band.WriteArray(bands[index])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    dataset = None
    return str(path)


def water_scene(rows=200, cols=240, seed=0, separable=True):
    """(bands, truth): water in the right half, a separable 3-band scene (green, red, nir).

    Water is dark in red and near-infrared, land bright; noise keeps classes apart
    when `separable`, overlapping otherwise.
    """
    rng = np.random.default_rng(seed)
    truth = np.zeros((rows, cols), dtype=bool)
    truth[:, cols // 2:] = True
    noise = 60 if separable else 400
    means_water, means_land = (900, 600, 300), (1100, 1400, 2600)
    bands = np.stack([
        np.where(truth, water, land) + rng.normal(0, noise, truth.shape)
        for water, land in zip(means_water, means_land)
    ])
    return np.clip(bands, 1, 10000).astype(np.uint16), truth


def pixel_box(col0, row0, col1, row1, origin=ORIGIN, pixel=PIXEL):
    """A rectangle polygon (WKT) over pixel columns col0..col1 and rows row0..row1."""
    x0, x1 = origin[0] + col0 * pixel, origin[0] + col1 * pixel
    y0, y1 = origin[1] - row0 * pixel, origin[1] - row1 * pixel
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def bow_tie(col0, row0, size):
    """A square of `size` pixels whose corners are joined in the wrong order (WKT): two triangles
    meeting at its centre, a self-intersection, the usual hand-drawn mistake."""
    x0, y0 = ORIGIN[0] + col0 * PIXEL, ORIGIN[1] - row0 * PIXEL
    x1, y1 = x0 + size * PIXEL, y0 - size * PIXEL
    return f"POLYGON (({x0} {y0}, {x1} {y1}, {x1} {y0}, {x0} {y1}, {x0} {y0}))"


def write_polygons(path, polygons, epsg=UTM_33N, field="class", source_epsg=UTM_33N, field_type=ogr.OFTString,
                   geometry_type=ogr.wkbMultiPolygon):
    """A GeoPackage layer from [(wkt in source_epsg, class value)], stored in `epsg`."""
    source_srs, target_srs = osr.SpatialReference(), osr.SpatialReference()
    source_srs.ImportFromEPSG(source_epsg)
    target_srs.ImportFromEPSG(epsg)
    for srs in (source_srs, target_srs):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source_srs, target_srs)
    datasource = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = datasource.CreateLayer("polygons", target_srs, geometry_type)
    layer.CreateField(ogr.FieldDefn(field, field_type))
    for wkt, value in polygons:
        feature = ogr.Feature(layer.GetLayerDefn())
        geometry = ogr.CreateGeometryFromWkt(wkt)
        geometry.Transform(transform)
        if geometry_type == ogr.wkbMultiPolygon and geometry.GetGeometryType() == ogr.wkbPolygon:
            geometry = ogr.ForceToMultiPolygon(geometry)
        feature.SetGeometry(geometry)
        feature.SetField(field, value)
        layer.CreateFeature(feature)
    datasource = None
    return str(path)


def standard_polygons(rows=200, cols=240):
    """Four water and four land boxes, one of each class per quadrant."""
    half = cols // 2
    boxes = []
    for quadrant_row in (0, rows // 2):
        for offset in (10, 50):
            boxes.append((pixel_box(offset, quadrant_row + 10, offset + 20, quadrant_row + 40), "land"))
            boxes.append((pixel_box(half + offset, quadrant_row + 10, half + offset + 20, quadrant_row + 40), "water"))
    return boxes


def read(path, band=1):
    dataset = gdal.Open(str(path))
    return dataset.GetRasterBand(band).ReadAsArray(), dataset


def write_masked_raster(path, bands, invalid, kind, options=("TILED=YES",)):
    """A UInt16 GeoTIFF like write_raster, without nodata, whose `invalid` pixels (rows, cols) are
    marked by an internal per-dataset mask band (kind 'dataset_mask') or an alpha band ('alpha')."""
    bands = np.asarray(bands)
    count, rows, cols = bands.shape
    options = list(options) + (["PHOTOMETRIC=RGB", "ALPHA=YES"] if kind == "alpha" else [])
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
    try:
        dataset = gdal.GetDriverByName("GTiff").Create(
            str(path), cols, rows, count + (kind == "alpha"), gdal.GDT_UInt16, options)
        dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0, ORIGIN[1], 0, -PIXEL))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(UTM_33N)
        dataset.SetProjection(srs.ExportToWkt())
        for index in range(count):
            dataset.GetRasterBand(index + 1).WriteArray(bands[index])
        valid = np.where(invalid, 0, 255).astype(np.uint8)
        if kind == "alpha":
            dataset.GetRasterBand(count + 1).WriteArray(valid)
        else:
            dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
            dataset.GetRasterBand(1).GetMaskBand().WriteArray(valid)
        dataset = None
    finally:
        gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
    return str(path)


# ---------------------------------------------------------------- training samples without a raster

def standardized(values):
    """As the model standardizes: training mean and σ, σ = 1 for a constant band."""
    std = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)


def random_dataset(seed, rows=None):
    """(standardized features, labels, description) of one random training set.

    3–12 correlated bands, each as DN (~10 000s), reflectance (0–1) or Byte (0–255, with ties);
    classes overlapping, steep or separable; balanced, 1:20 or 1:100 (so a class may hold a
    handful of pixels); sometimes a constant band and sometimes a duplicated (collinear) one.
    """
    rng = np.random.default_rng(seed)
    bands = int(rng.integers(3, 13))
    rows = rows or int(rng.integers(200, 3001))
    mixing = np.eye(bands) + rng.uniform(0, 2) * rng.normal(size=(bands, bands))
    latent = standardized(rng.normal(size=(rows, bands)) @ mixing)
    score = latent @ rng.normal(size=bands)
    water_fraction = float(rng.choice([0.5, 1 / 21, 1 / 101]))
    classes = str(rng.choice(["overlapping", "steep", "separable"]))
    threshold = np.quantile(score, 1 - water_fraction)
    if classes == "separable":
        labels = score > threshold
    else:
        steepness = 1.0 if classes == "overlapping" else 10.0
        labels = rng.random(rows) < 1 / (1 + np.exp(-steepness * (score - threshold) / score.std()))
    order = np.argsort(score)
    labels[order[-2:]] = True  # at least two pixels of each class
    labels[order[:2]] = False

    scales = rng.choice(["DN", "reflectance", "Byte"], size=bands)
    values = np.empty_like(latent)
    for band, scale in enumerate(scales):
        if scale == "DN":
            values[:, band] = 10_000 + 2_000 * latent[:, band]
        elif scale == "reflectance":
            values[:, band] = 1 / (1 + np.exp(-latent[:, band]))
        else:
            values[:, band] = np.clip(np.round(100 + 30 * latent[:, band]), 0, 255)
    extras = []
    if rng.random() < 0.25:
        values[:, rng.integers(bands)] = 7.0
        extras.append("constant band")
    if rng.random() < 0.25:
        source, target = rng.choice(bands, 2, replace=False)
        values[:, target] = 3 * values[:, source] + 5
        extras.append("duplicated band")
    description = (
        f"seed {seed}: {rows}×{bands} {'/'.join(scales)}, {classes}, water {water_fraction:.3f} "
        f"({int(labels.sum())} pixels) {', '.join(extras)}"
    )
    return standardized(values), labels.astype(np.float64), description
