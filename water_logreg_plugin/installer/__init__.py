"""The QGIS side of installing torch: the profile's folder and settings, the QgsTask, the dialog.
The work itself is core/install's, which has no QGIS in it."""
