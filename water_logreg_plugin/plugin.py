"""The plugin object QGIS creates: it registers the Processing provider, nothing else."""

from qgis.core import QgsApplication

from .provider import WaterLogRegProvider

# The registry holds the provider's C++ side only; once the Python object is collected its
# algorithms vanish. A script that drops the plugin object must not lose the tools, so a
# registered provider is kept here until unload().
_REGISTERED = set()


class WaterLogRegPlugin:
    """Works with iface=None, as qgis_process and the tests create it."""

    def __init__(self, iface=None):  # noqa: QGS105 — QGIS hands iface to classFactory; None headless
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802
        self.provider = WaterLogRegProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)
        _REGISTERED.add(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            _REGISTERED.discard(self.provider)
            self.provider = None
