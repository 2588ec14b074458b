"""Processing's batch dialog driven the way a user drives it, on QGIS 3.22 and on 3.40+.

3.22 runs the rows one after another inside runAlgorithm(); 3.40+ runs each row as a background
task and returns at once, so a caller waits for the dialog to say it is done. 3.40+ also
evaluates a row's values in a context given to parametersForRow().
"""

import inspect
import time
from contextlib import contextmanager


@contextmanager
def batch_dialog(algorithm_id, parent=None):
    """Processing's batch dialog of `algorithm_id`, deleted afterwards: a dialog left behind
    would answer its table's signals while QGIS shuts down, after the map canvas has gone."""
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from qgis.core import QgsApplication
    from qgis.PyQt import sip

    dialog = BatchAlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById(algorithm_id),
                                  parent=parent)
    try:
        yield dialog
    finally:
        if not sip.isdeleted(dialog):
            dialog.close()
            sip.delete(dialog)


def parameters_for_row(panel, row, context, destination_project=None):
    """(parameters, ok) of one row of the batch table, as the dialog reads it when Run is pressed."""
    if "context" in inspect.signature(panel.parametersForRow).parameters:
        return panel.parametersForRow(row, context=context, destinationProject=destination_project,
                                      warnOnInvalid=True)
    return panel.parametersForRow(row, destinationProject=destination_project, warnOnInvalid=True)


def run_batch(dialog, timeout_s=300):
    """Show the dialog, press Run and return once every row has run and its layers have loaded:
    the dialog turns its Cancel button off when the batch is over. Shown, as a user sees it: 3.40+
    deletes a batch dialog that is not visible when its last row ends (the user closed it), and
    with it that row's context and feedback while its layers load."""
    from qgis.PyQt.QtCore import QCoreApplication

    dialog.show()
    dialog.runAlgorithm()
    deadline = time.monotonic() + timeout_s
    while dialog.cancelButton().isEnabled():
        if time.monotonic() > deadline:
            raise AssertionError(f"the batch dialog had not finished after {timeout_s} s")
        QCoreApplication.processEvents()
        time.sleep(0.01)
