"""The window that installs torch: what, where, which build and index, pip's log, the outcome."""

import html
import importlib.metadata
import os
import platform
import sys

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..core.install.locations import add_to_import_path, inside, nvidia_driver_found
from ..core.install.pip_runner import PYPI, modules_loaded_elsewhere, uninstall
from ..core.install.plan import BUILDS
from .profile import (
    current_plan,
    profile_dependencies_folder,
    qgis_protected_pins,
    torch_from_elsewhere,
    torch_origin,
    write_setting,
)
from .task import TorchInstallTask

TITLE = "Install PyTorch — Water mapping"


class TorchInstallerDialog(QDialog):
    """Install runs pip as a QgsTask (core/install does the work); Uninstall removes the folder."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.task = None
        self.outcome = None
        self.folder = profile_dependencies_folder()
        self.protected = qgis_protected_pins()
        self.plan = current_plan(protected=self.protected)
        self._build_widgets()
        self._show_state()

    def _build_widgets(self):
        self.what = QLabel(wordWrap=True)
        self.build = QComboBox()
        for build in BUILDS.values():
            if build.key == "cpu" or nvidia_driver_found():
                self.build.addItem(f"{build.label}, {build.approximate_size}", build.key)
        self.build.setCurrentIndex(max(self.build.findData(self.plan.build.key), 0))
        self.index_url = QLineEdit(self.plan.index_url,
                                   placeholderText="pip's own configuration (pip.conf, PIP_INDEX_URL)")
        self.use_build_index = QPushButton("Use PyTorch's index for this build")
        self.pip_options = QLineEdit(self.plan.extra_options, placeholderText="e.g. --proxy http://proxy:3128")
        self.progress = QProgressBar(maximum=100)
        self.outcome_label = QLabel(wordWrap=True, textInteractionFlags=self.what.textInteractionFlags())
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMinimumHeight(160)
        self.install_button, self.cancel_button = QPushButton("Install"), QPushButton("Cancel install")
        self.uninstall_button, self.close_button = QPushButton("Uninstall"), QPushButton("Close")
        self._lay_out()
        self.build.currentIndexChanged.connect(self._show_state)
        self.index_url.textChanged.connect(self._show_state)
        self.pip_options.textChanged.connect(self._show_state)
        self.use_build_index.clicked.connect(
            lambda: self.index_url.setText(BUILDS[self.build.currentData()].public_index))
        self.install_button.clicked.connect(self.install)
        self.cancel_button.clicked.connect(self.cancel)
        self.uninstall_button.clicked.connect(self.uninstall)
        self.close_button.clicked.connect(self.close)

    def _lay_out(self):
        form = QFormLayout()
        form.addRow("Build:", self.build)
        index_row = QHBoxLayout()
        index_row.addWidget(self.index_url)
        index_row.addWidget(self.use_build_index)
        form.addRow("Package index:", index_row)
        form.addRow("pip options:", self.pip_options)
        buttons = QHBoxLayout()
        for button in (self.install_button, self.cancel_button, self.uninstall_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.what)
        layout.addLayout(form)
        for widget in (self.progress, self.outcome_label, self.log):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.resize(760, 560)

    def _edited_plan(self):
        return current_plan(self.build.currentData(), self.index_url.text(), self.pip_options.text(), self.protected)

    def _show_state(self):
        """The text that says what will be installed where, and which buttons can be pressed."""
        self.plan = self._edited_plan()
        running = self.task is not None
        elsewhere = torch_from_elsewhere()
        self.what.setText(what_and_where(self.plan, torch_origin() if elsewhere else None))
        self.install_button.setEnabled(not running and not elsewhere)
        self.cancel_button.setEnabled(running)
        self.uninstall_button.setEnabled(not running and os.path.isdir(self.folder))
        for widget in (self.build, self.index_url, self.use_build_index, self.pip_options):
            widget.setEnabled(not running)

    def install(self):
        self.plan = self._edited_plan()
        write_setting("build", self.plan.build.key)
        write_setting("index_url", self.plan.index_url)
        write_setting("pip_options", self.plan.extra_options)
        self.log.clear()
        self.outcome_label.setText("Installing… (the task bar at the bottom of QGIS shows it too)")
        self.progress.setValue(0)
        self.task = TorchInstallTask(self.plan)
        self.task.line_logged.connect(self.log.appendPlainText)
        self.task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task.ended.connect(self._installed)
        QgsApplication.taskManager().addTask(self.task)
        self._show_state()

    def cancel(self):
        if self.task is not None:
            self.task.cancel()

    def _installed(self, outcome):
        """The task's end, on the main thread: the folder on sys.path, torch checked, in words."""
        self.task = None
        self.outcome = outcome
        text = outcome.message
        if outcome.status == "installed":
            add_to_import_path(self.folder)
            text = same_session_verdict(self.folder, outcome)
            self.progress.setValue(100)
        else:  # nothing was installed: the bar says so, not how far pip got
            self.progress.setValue(0)
        self.outcome_label.setText(text)
        self._show_state()

    def uninstall(self):
        origin = torch_origin()
        loaded = "torch" in sys.modules and origin is not None and inside(origin, self.folder)
        uninstall(self.folder)
        self.log.clear()
        self.progress.setValue(0)
        self.outcome_label.setText(f"Removed {self.folder}."
                                   + (" torch stays loaded until QGIS restarts." if loaded else ""))
        self._show_state()


def what_and_where(plan, torch_elsewhere=None):
    """The paragraph at the top of the dialog."""
    if torch_elsewhere:
        return (f"PyTorch is already installed for QGIS's Python ({html.escape(torch_elsewhere)}); "
                "there is nothing to install.")
    numpy_pins = [pin for pin in plan.protected if pin.lower().startswith("numpy==")]
    numpy_pin = numpy_pins[0] if numpy_pins else "numpy (none found)"
    others = len(plan.protected) - len(numpy_pins)
    index = plan.index_url or "pip's own configuration"
    if plan.pip_requirement != plan.requirement and not plan.index_url:
        index += f" and PyTorch's CPU index ({plan.build.public_index}), the home of the CPU build"
    # pip's own configuration, or PyPI named: PyPI's build may not be the one chosen.
    from_pypi = not plan.index_url or plan.index_url.rstrip("/") == PYPI.rstrip("/")
    hint = pypi_build_hint(plan.build) if from_pypi and plan.pip_requirement == plan.requirement else ""
    return (
        f"<b>What:</b> {html.escape(plan.pip_requirement)} (PyTorch), {html.escape(plan.build.label)} build, "
        f"{plan.build.approximate_size}, and the packages it needs that QGIS's Python lacks.<br>"
        f"<b>Where:</b> {html.escape(plan.dependencies_folder)} — a folder of your QGIS profile, put on "
        "Python's path when the plugin loads. QGIS's own packages and the system's are left as they "
        f"are: {html.escape(numpy_pin)} and {others} other compiled packages are pinned.<br>"
        f"<b>How:</b> {html.escape(plan.python)} -m pip, from {html.escape(index)}.{html.escape(hint)}")


def pypi_build_hint(build):
    """PyPI's torch is the CUDA build on Linux and the CPU build elsewhere; say when that is not
    the build chosen."""
    linux = platform.system() == "Linux"
    if (build.key == "cpu") == linux:
        other = "CUDA" if linux else "CPU"
        return (f" PyPI's torch is the {other} build on this system; for the {build.label} build choose "
                f"PyTorch's index ({build.public_index}) or a mirror of it.")
    return ""


def same_session_verdict(folder, outcome):
    """Whether training works now, or exactly why QGIS must restart first."""
    stale = modules_loaded_elsewhere(folder)
    if stale:
        names = ", ".join(stale)
        return (f"{outcome.message}\nRestart QGIS before training: this session had already loaded "
                f"{names} from elsewhere, and torch needs the copies just installed.")
    origin = torch_origin()
    if origin is None or not inside(origin, folder):
        return f"{outcome.message}\nRestart QGIS: torch does not import from {folder} in this session."
    version = importlib.metadata.version("torch")
    return (f"PyTorch {version} is installed in {folder}. Train water model and Classify water "
            f"work now, in this session.\nInstalled: {', '.join(outcome.installed)}.")
