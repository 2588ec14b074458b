"""The plugin object QGIS creates: it registers the Processing provider and, in the QGIS window
where torch is missing, offers the installer (Plugins → Water mapping → Install PyTorch…)."""

import os

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtWidgets import QAction, QPushButton

from .provider import WaterLogRegProvider

# The registry holds the provider's C++ side only; once the Python object is collected its
# algorithms vanish. A script that drops the plugin object must not lose the tools, so a
# registered provider is kept here until unload().
_REGISTERED = set()
MENU = "Water mapping"
# A dynamic property of the application: the message bar offers the installer once per QGIS
# session, not again when the plugin is reloaded or re-enabled.
OFFERED_PROPERTY = "water_logreg_plugin_torch_offered"


class WaterLogRegPlugin:
    """Works with iface=None, as qgis_process and the tests create it."""

    def __init__(self, iface=None):  # noqa: QGS105 — QGIS hands iface to classFactory; None headless
        self.iface = iface
        self.provider = None
        self.installer_action = None
        self.installer_dialog = None

    def initProcessing(self):  # noqa: N802
        self.provider = WaterLogRegProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)
        _REGISTERED.add(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        if self.iface is None:
            return
        from .installer.profile import profile_dependencies_folder, torch_origin

        # Offered where torch is missing; kept where the installer put it, for Uninstall.
        if torch_origin() is not None and not os.path.isdir(profile_dependencies_folder()):
            return
        self.installer_action = QAction("Install PyTorch…", self.iface.mainWindow())
        self.installer_action.triggered.connect(self.show_installer)
        self.iface.addPluginToMenu(MENU, self.installer_action)
        if torch_origin() is None and not QgsApplication.instance().property(OFFERED_PROPERTY):
            QgsApplication.instance().setProperty(OFFERED_PROPERTY, True)
            self.offer_installer()

    def offer_installer(self):
        bar = self.iface.messageBar()
        message = bar.createMessage(MENU, "Training needs PyTorch, which QGIS's Python does not have.")
        button = QPushButton("Install PyTorch…", message)
        button.clicked.connect(self.show_installer)
        button.clicked.connect(lambda: bar.popWidget(message))
        message.layout().addWidget(button)
        bar.pushWidget(message, Qgis.MessageLevel.Info)

    def show_installer(self):
        from .installer.dialog import TorchInstallerDialog

        if self.installer_dialog is None:
            self.installer_dialog = TorchInstallerDialog(self.iface.mainWindow())
        self.installer_dialog.show()
        self.installer_dialog.raise_()
        self.installer_dialog.activateWindow()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            _REGISTERED.discard(self.provider)
            self.provider = None
        if self.installer_action is not None:
            self.iface.removePluginMenu(MENU, self.installer_action)
            self.installer_action = None
        if self.installer_dialog is not None:
            self.installer_dialog.close()
            self.installer_dialog = None
