"""The install as a QgsTask: progress in QGIS's task bar, pip's lines to the dialog, cancel."""

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..core.callbacks import Callbacks
from ..core.install.pip_runner import InstallOutcome, install_torch


class TorchInstallTask(QgsTask):
    """Runs core.install.pip_runner.install_torch off the main thread; `line_logged` carries each
    line of pip's log (a queued signal into the dialog), `ended` the InstallOutcome."""

    line_logged = pyqtSignal(str)
    ended = pyqtSignal(object)

    def __init__(self, plan, environment=None):
        super().__init__("Installing PyTorch (Water mapping)", QgsTask.Flag.CanCancel)
        self.plan = plan
        self.environment = environment
        self.outcome = None

    def run(self):
        callbacks = Callbacks(progress=lambda fraction: self.setProgress(100.0 * fraction),
                              is_canceled=self.isCanceled, log=self.line_logged.emit)
        try:
            self.outcome = install_torch(self.plan, callbacks, self.environment)
        except OSError as error:  # a profile folder it cannot write, pip missing
            self.outcome = InstallOutcome("failed", f"The install could not run: {error}")
        return self.outcome.status == "installed"

    def finished(self, _result):
        """On the main thread, once run() returned (or the task was canceled before it began)."""
        self.ended.emit(self.outcome or InstallOutcome("canceled", "Canceled before pip started; nothing installed."))
