"""What every algorithm of the provider shares: group, icon, help and the torch check."""

import importlib.util
import os
import platform
import sys
import sysconfig

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingParameterDefinition
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from ..core.callbacks import Callbacks
from ..core.errors import WaterLogRegError, describe_os_error
from ..core.install.locations import qgis_python
from ..core.raster.outputs import OutputSet, check_outputs
from .parameters import ParameterNames
from .sinks import sink_file

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icon.svg")
# Written by help_page.py (`make help-page`) from the algorithms' help texts.
HELP_PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "help", "index.html")


def help_url(algorithm_name):
    """file:///…/help/index.html#<algorithm name>: the algorithm's section, offline."""
    url = QUrl.fromLocalFile(HELP_PAGE)
    url.setFragment(algorithm_name)
    return url.toString()


def pip_user_flags():
    """--user outside a virtual environment; Debian 12 and Ubuntu ≥ 23.04 mark their Python as
    externally managed (PEP 668) and refuse pip there unless told to."""
    if sys.prefix != sys.base_prefix:
        return ""
    if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")):
        return "--user --break-system-packages "
    return "--user "


# Where plugin.py puts the installer (installer/dialog.py).
INSTALLER_MENU_PATH = "Plugins → Water mapping → Install PyTorch…"


def torch_install_hint():
    """The exact command that installs the CPU build of torch into this QGIS's Python."""
    python = qgis_python()
    if platform.system() == "Windows":
        command = ('Open the "OSGeo4W Shell" from the Start menu and run: '
                   "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu")
    elif platform.system() == "Darwin":
        command = ("In Terminal run: /Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install torch")
    else:
        command = (f"In a terminal run: {python} -m pip install {pip_user_flags()}torch "
                   "--index-url https://download.pytorch.org/whl/cpu  "
                   "(or your distribution's package, e.g. 'sudo apt install python3-torch' where it exists)")
    return command


def torch_missing_message():
    return (
        "This tool needs PyTorch (the Python package 'torch'), which is not installed in the "
        f"Python that QGIS uses ({qgis_python()}, Python {platform.python_version()}). "
        f"Install it from the QGIS window with {INSTALLER_MENU_PATH} (into your QGIS profile, no "
        f"restart needed), or by hand. {torch_install_hint()}. Then restart QGIS."
    )


def core_callbacks(feedback):
    """The core's Callbacks, reporting into the Processing feedback."""
    return Callbacks(
        progress=lambda fraction: feedback.setProgress(100.0 * fraction),
        is_canceled=feedback.isCanceled,
        log=feedback.pushInfo,
    )


class WaterLogRegAlgorithm(QgsProcessingAlgorithm, ParameterNames):
    """Subclasses define name/displayName/help/initAlgorithm and run(); errors become messages.

    A run is all or nothing: when it fails or is canceled, the outputs it had already moved
    into place are removed again (core.raster.outputs.OutputSet). A batch of scenes keeps the scenes
    that were done (all_or_nothing False).
    """

    all_or_nothing = True

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
        """This algorithm's section of the help page inside the plugin (works offline)."""
        return help_url(self.name())

    def needs_torch(self):
        """Only training needs torch: a model file predicts in numpy (core.maps.predict)."""
        return False

    def canExecute(self):  # noqa: N802
        if self.needs_torch() and importlib.util.find_spec("torch") is None:
            return False, torch_missing_message()
        return True, ""

    def with_defaults(self, parameters):
        """`parameters` with every omitted parameter that has a default set to it, as the dialog
        and QGIS 3.40+ do; QGIS 3.22 itself refuses an omitted parameter in processing.run ("no
        value specified", "Incorrect parameter value for CLASS_FIELD"), so a script would work on
        one QGIS and not on another. A parameter given as None stays skipped."""
        filled = dict(parameters)
        for definition in self.parameterDefinitions():
            if definition.name() not in filled and definition.defaultValue() is not None:
                filled[definition.name()] = definition.defaultValue()
        return filled

    def checked_outputs(self, parameters, context, inputs, derived_outputs=None):
        """{output name: path} for every output declared, None for an optional one left out,
        refused before any work when one would overwrite an input or another output or cannot
        be written (core.raster.outputs.check_outputs).

        inputs: {name: path} of the files read. derived_outputs(outputs): the further files
        these outputs imply (a batch's maps inside its folder), checked with them.
        """
        outputs = {}
        # Feature sinks are checked after the other outputs, in the order the messages have.
        for definition in sorted(self.destinationParameterDefinitions(), key=lambda output: output.type() == "sink"):
            name = definition.name()
            if definition.type() == "sink":
                path = sink_file(self, parameters, name, context)
            elif definition.type() in ("fileDestination", "folderDestination"):
                path = self.parameterAsFileOutput(parameters, name, context)
            else:
                path = self.parameterAsOutputLayer(parameters, name, context)
            optional = definition.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
            outputs[name] = (path or None) if optional else path
        kinds = {definition.name(): definition.type() for definition in self.destinationParameterDefinitions()}
        check_outputs(
            inputs, dict(outputs, **(derived_outputs(outputs) if derived_outputs else {})),
            rasters=[name for name, kind in kinds.items() if kind == "rasterDestination"],
            create_folders=[name for name, kind in kinds.items() if kind == "folderDestination"],
        )
        return outputs

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)
        parameters = self.with_defaults(parameters)
        try:
            if not self.all_or_nothing:
                return self.run_algorithm(parameters, context, feedback)
            with OutputSet():
                return self.run_algorithm(parameters, context, feedback)
        except WaterLogRegError as error:
            raise QgsProcessingException(str(error)) from None
        except OSError as error:
            # A disk that fills up or a folder that vanishes mid-run: a message, not a traceback.
            description = describe_os_error(error)
            raise QgsProcessingException(
                f"{description[0].upper()}{description[1:]}. Check the free disk space and that the input "
                "and output folders are still there and writable."
            ) from None

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """QGIS reports a raster file it cannot load as 'not found'; say why GDAL refuses it.
        An omitted parameter with a default is checked as its default."""
        from ..core.raster.reading import check_regular_file, open_raster

        parameters = self.with_defaults(parameters)
        # QGIS would open a named pipe or a device given as a file, and wait on it for ever.
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if definition.type() in ("raster", "file", "source", "vector") and isinstance(value, str):
                try:
                    description = definition.description()
                    check_regular_file(value.split("|", 1)[0], description[:1].lower() + description[1:])
                except WaterLogRegError as error:
                    return False, str(error)
        ok, message = super().checkParameterValues(parameters, context)
        if ok:
            return ok, message
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if (definition.type() == "raster" and isinstance(value, str) and os.path.isfile(value)
                    and not definition.checkValueIsAcceptable(value, context)):
                try:
                    open_raster(value)
                except WaterLogRegError as error:
                    return False, str(error)
        return ok, message

    def run_algorithm(self, parameters, context, feedback):
        raise NotImplementedError
