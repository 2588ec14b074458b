"""Maps of one scene: predict.py the water probability window by window, water_index.py NDWI and
MNDWI, water_bodies.py polygons of connected water, index_comparison.py the model against the
index. Built on raster/, learning/ and model/.
"""
