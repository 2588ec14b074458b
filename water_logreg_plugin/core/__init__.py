"""The QGIS-free core: numpy, torch and GDAL only. Nothing here imports qgis or Qt."""
