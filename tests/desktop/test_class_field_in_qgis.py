"""Real QGIS on a virtual screen, plugin from the ZIP: the dialog's CLASS_FIELD, QGIS's own field
widget (the plugin has none, as QGIS 4 wants), shows 'class' where the layer has it and is empty
where not, and the algorithm then takes the layer's class-like field (class / label / type by
name, else the first text field), never its fid; the batch panel and the modeler too have QGIS's
own widget."""

import os

import pytest
from desktop_programs import TORCH_SITE_PACKAGES, install_from_zip, run_in_qgis
from osgeo import ogr, osr
from support.synthetic import UTM_33N


def polygons_with_fields(path, names):
    """A GeoPackage (fid added by GDAL) of one square whose text fields are `names`."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(UTM_33N)
    datasource = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = datasource.CreateLayer("polygons", srs, ogr.wkbPolygon)
    for name in names:
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"))
    for name in names:
        feature.SetField(name, "water")
    layer.CreateFeature(feature)
    datasource = None
    return str(path)


@pytest.mark.slow
def test_dialog_offers_the_class_like_field(plugin_zip, tmp_path):
    install_from_zip(plugin_zip, str(tmp_path / "profiles" / "test"))
    polygons = [polygons_with_fields(tmp_path / f"polygons_{index}.gpkg", names)
                for index, names in enumerate((["name", "landcover_type"], ["label"], ["notes"], ["name", "class"]))]
    report = run_in_qgis("qgis_class_field.py", tmp_path, tmp_path / "report.json", TORCH_SITE_PACKAGES,
                         timeout=300, WATERLOGREG_POLYGONS=os.pathsep.join(polygons))
    assert report["fields"] == [["fid", "name", "landcover_type"], ["fid", "label"], ["fid", "notes"],
                                ["fid", "name", "class"]]
    assert report["classifywater"] == [["", "landcover_type"], ["", "label"], ["", "notes"], ["class", "class"]]
    assert report["others"] == [["", "landcover_type"], ["", "landcover_type"]]
    # C++ wrappers, as Python sees them
    assert report["dialog_wrapper"] == report["batch_wrapper"] == "QgsAbstractProcessingParameterWidgetWrapper"
    assert report["modeler_wrapper"] == "QgsProcessingModelerParameterWidget"
