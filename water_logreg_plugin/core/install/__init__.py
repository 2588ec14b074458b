"""Installing torch into a folder of the QGIS profile with QGIS's own pip; never imports QGIS.

locations: which Python QGIS runs and where the profile's dependencies folder is.
plan: what pip is asked to do (the torch build, the index, the constraints) as argv.
pip_runner: pip run as a cancelable subprocess, the folder moved into place whole, the outcome.
"""
