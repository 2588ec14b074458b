"""A Processing feedback that keeps what a run logs, for tests that check the log's words."""

from qgis.core import QgsProcessingFeedback


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines, self.warnings = [], []

    def pushInfo(self, info):  # noqa: N802
        self.lines.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802
        self.warnings.append(warning)
        super().pushWarning(warning)
