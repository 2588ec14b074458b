"""Tools over dates, on probability maps already made: occurrence.py how often each pixel was
water, water_change.py what changed between two dates. Built on raster/ and maps/.
"""
