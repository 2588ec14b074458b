"""Rasters in and out, with GDAL: the bottom layer of the core.

reading.py opens a raster in plain words and holds the one rule for valid pixels; windows.py
reads it window by window in the file's own layout; writing.py writes every output raster
atomically; outputs.py checks a run's outputs before any work; band_roles.py says what each
band is; areas.py measures pixels and polygons on the ground; probability.py opens probability
maps as inputs, on one grid. Nothing here knows about models or water.
"""
