"""Areas on the ground of pixels and polygons, right for the raster's CRS.

A projected CRS gives planar areas in its own units (metres, or feet scaled to metres). A
geographic CRS gives ellipsoidal areas: for a pixel, the exact area of the cell between two
parallels and two meridians on the CRS's ellipsoid; for a polygon, its planar area in a
Lambert azimuthal equal-area projection (on the same ellipsoid) centred within a degree of it.
A raster without a CRS (georeferenced by hand, or its CRS lost on the way) has its pixel size in
units the file does not say: it is refused unless the user gives those units.
"""

import math

import numpy as np
from osgeo import ogr, osr

from ..errors import WaterLogRegError

SQUARE_METRES_PER_HECTARE = 10_000.0
# The units a user can give the coordinates of a raster without a CRS, in metres each.
MAP_UNITS = {"metres": 1.0, "feet": 0.3048, "US survey feet": 1200.0 / 3937.0}


class AreaMeasure:
    """How areas are measured for one raster: `description` says which way, for the log.

    map_units: a key of MAP_UNITS, the units of the raster's coordinates when it has no CRS
    (not needed, and not used, when it has one).
    """

    def __init__(self, dataset, map_units=None):
        if map_units is not None and map_units not in MAP_UNITS:
            raise WaterLogRegError(f"'{map_units}' is not a unit of map coordinates; give one of {_unit_names()}.")
        self.geotransform = dataset.GetGeoTransform()
        wkt = dataset.GetProjection()
        self.srs = None
        if wkt:
            self.srs = osr.SpatialReference()
            self.srs.ImportFromWkt(wkt)
            self.srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        elif map_units is None:
            raise WaterLogRegError(_no_crs_message(dataset))
        self.map_units = map_units
        self.geographic = bool(self.srs is not None and self.srs.IsGeographic())
        self.description = self._describe()
        self._transforms = {}

    def _describe(self):
        if self.srs is None:
            return f"planar, in {self.map_units} as given (the raster has no CRS)"
        name = _crs_name(self.srs)
        if self.geographic:
            return f"ellipsoidal, on the ellipsoid of {name} (the raster's CRS is geographic)"
        return f"planar, in the raster's CRS ({name})"

    def row_pixel_areas(self, first_row, rows):
        """Area in m² of one pixel of each of the rows [first_row, first_row + rows)."""
        _, width, row_x, top, column_y, height = self.geotransform
        if not self.geographic:
            return np.full(rows, abs(width * height - row_x * column_y) * self._unit_square_metres())
        degrees = self.srs.GetAngularUnits() * 180.0 / math.pi
        edges = top + (first_row + np.arange(rows + 1)) * height
        latitudes = np.radians(np.clip(edges * degrees, -90.0, 90.0))
        semi_major, inverse_flattening = self.srs.GetSemiMajor(), self.srs.GetInvFlattening()
        flattening = 1.0 / inverse_flattening if inverse_flattening else 0.0
        semi_minor = semi_major * (1.0 - flattening)
        zone = _authalic_zone(latitudes, math.sqrt(flattening * (2.0 - flattening)))
        return math.radians(abs(width) * degrees) * semi_minor ** 2 * np.abs(np.diff(zone))

    def polygon_area(self, geometry):
        """Area in m² of an OGR polygon in the raster's CRS."""
        if not self.geographic:
            return geometry.GetArea() * self._unit_square_metres()
        envelope = geometry.GetEnvelope()
        transform = self._equal_area_around((envelope[0] + envelope[1]) / 2, (envelope[2] + envelope[3]) / 2)
        projected = geometry.Clone()
        # Pixel edges run along parallels: short segments keep them curved in the projection.
        projected.Segmentize(max(abs(self.geotransform[1]), abs(self.geotransform[5])))
        projected.Transform(transform)
        return projected.GetArea()

    def _equal_area_around(self, x, y):
        """A transformation to LAEA centred near (x, y): any centre keeps areas, a near one keeps the
        short edges nearly straight; one per whole degree serves every body around it."""
        degrees = self.srs.GetAngularUnits() * 180.0 / math.pi
        centre = (round(y * degrees), round(x * degrees))
        if centre not in self._transforms:
            equal_area = osr.SpatialReference()
            equal_area.CopyGeogCSFrom(self.srs)
            equal_area.SetLAEA(float(centre[0]), float(centre[1]), 0.0, 0.0)
            equal_area.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            self._transforms[centre] = osr.CoordinateTransformation(self.srs, equal_area)
        return self._transforms[centre]

    def ring_area(self, ring):
        polygon = ogr.Geometry(ogr.wkbPolygon)
        polygon.AddGeometry(ring)
        return self.polygon_area(polygon)

    def _unit_square_metres(self):
        return (self.srs.GetLinearUnits() if self.srs is not None else MAP_UNITS[self.map_units]) ** 2


def _no_crs_message(dataset):
    pixel = f"{abs(dataset.GetGeoTransform()[1]):g} × {abs(dataset.GetGeoTransform()[5]):g}"
    return (
        f"The map '{dataset.GetDescription()}' has no CRS: its pixel size ({pixel}) is in units it does not "
        "say, so no area can be given. Assign the map its CRS (Raster ‣ Projections ‣ Assign Projection, or "
        f"gdal_edit.py -a_srs EPSG:…), or set MAP_UNITS to the units of its coordinates ({_unit_names()})."
    )


def _unit_names():
    return ", ".join(f"'{name}'" for name in MAP_UNITS)


def _authalic_zone(latitudes, eccentricity):
    """The area of the ellipsoid's zone from the equator to each latitude, ÷ 2πb²: a cell between
    two latitudes and Δλ radians of longitude has b² · Δλ · (the difference of this) square metres."""
    sine = np.sin(latitudes)
    if eccentricity == 0.0:
        return sine
    e_sine = eccentricity * sine
    return sine / (2.0 * (1.0 - e_sine ** 2)) + np.log((1.0 + e_sine) / (1.0 - e_sine)) / (4.0 * eccentricity)


def _crs_name(srs):
    authority, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    if authority and code:
        return f"{authority}:{code}"
    return srs.GetName() or "custom CRS"
