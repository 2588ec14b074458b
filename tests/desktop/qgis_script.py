"""What the scripts real QGIS runs by `qgis --code` share: their steps, the JSON report, the end.

The scripts import it from tests/desktop, which `desktop_programs.run_in_qgis` puts on QGIS's
PYTHONPATH (with tests/, for the shared test modules).
"""

import json
import os
import traceback

from qgis.PyQt.QtCore import QTimer


def report_after_start(steps, delay_ms=1000):
    """Once QGIS's event loop runs (a timer of delay_ms), call each step with the report, a dict,
    and note its name under "steps"; then write the report to WATERLOGREG_REPORT — with the
    traceback of a step that failed under "error" — and end the process with os._exit, so that
    no "save the project?" question or slow shutdown can keep QGIS open."""

    def run():
        report = {"steps": []}
        try:
            for step in steps:
                step(report)
                report["steps"].append(step.__name__)
        except Exception:  # noqa: BLE001 — the test reads the traceback from the report
            report["error"] = traceback.format_exc()
        finally:
            with open(os.environ["WATERLOGREG_REPORT"], "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=1)
            os._exit(0)

    QTimer.singleShot(delay_ms, run)
