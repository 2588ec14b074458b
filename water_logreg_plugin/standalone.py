"""The plugin's algorithms from a standalone Python script, without a QGIS window.

    from water_logreg_plugin.standalone import start_qgis
    application = start_qgis()
    import processing
    processing.run("waterlogreg:classifywater", {...})
    application.exitQgis()

`make demo` and `make bench` start QGIS this way.
"""

import os
import sys


def start_qgis():
    """A headless QgsApplication with Processing and this plugin's provider, registered as
    QGIS registers them when it loads the plugin; returns the application."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    application = QgsApplication([], False)
    application.initQgis()
    # QGIS's own Processing plugin lives beside the other core plugins, not on sys.path.
    core_plugins = os.path.join(QgsApplication.pkgDataPath(), "python", "plugins")
    if core_plugins not in sys.path:
        sys.path.append(core_plugins)
    from processing.core.Processing import Processing

    Processing.initialize()
    from .plugin import WaterLogRegPlugin

    WaterLogRegPlugin(None).initProcessing()
    return application
