"""What every algorithm of the provider shares: group, icon, help and the torch check."""

import importlib.util
import os
import platform
import sys

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.errors import WaterLogRegError

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icon.svg")
HELP_URL = "https://github.com/water-logreg/water_logreg_plugin#readme"


def torch_install_hint():
    """The exact command that installs the CPU build of torch into this QGIS's Python."""
    python = sys.executable
    if platform.system() == "Windows":
        command = ('Open the "OSGeo4W Shell" from the Start menu and run: '
                   "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu")
    elif platform.system() == "Darwin":
        command = ("In Terminal run: /Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install torch")
    else:
        command = (f"In a terminal run: {python} -m pip install --user torch "
                   "--index-url https://download.pytorch.org/whl/cpu  "
                   "(or your distribution's package, e.g. 'sudo apt install python3-torch' where it exists)")
    return command


def torch_missing_message():
    return (
        "This tool needs PyTorch (the Python package 'torch'), which is not installed in the "
        f"Python that QGIS uses ({sys.executable}, Python {platform.python_version()}). "
        f"{torch_install_hint()}. Then restart QGIS."
    )


class WaterLogRegAlgorithm(QgsProcessingAlgorithm):
    """Subclasses define name/displayName/help/initAlgorithm and run(); errors become messages."""

    def tr(self, text):
        return QCoreApplication.translate(type(self).__name__, text)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def group(self):
        return self.tr("Water mapping")

    def groupId(self):  # noqa: N802
        return "watermapping"

    def icon(self):
        return QIcon(ICON_PATH)

    def helpUrl(self):  # noqa: N802
        return HELP_URL

    def needs_torch(self):
        return True

    def canExecute(self):  # noqa: N802
        if self.needs_torch() and importlib.util.find_spec("torch") is None:
            return False, torch_missing_message()
        return True, ""

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)
        try:
            return self.run_algorithm(parameters, context, feedback)
        except WaterLogRegError as error:
            raise QgsProcessingException(str(error)) from None

    def run_algorithm(self, parameters, context, feedback):
        raise NotImplementedError
