"""The plugin object QGIS creates: it registers the Processing provider, nothing else."""

from qgis.core import QgsApplication

from .provider import WaterLogRegProvider


class WaterLogRegPlugin:
    """Works with iface=None, as qgis_process and the tests create it."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802
        self.provider = WaterLogRegProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
