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
