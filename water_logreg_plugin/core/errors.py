"""Errors the core raises for problems a user can fix.

Their messages are written for the person at the Processing dialog: what is wrong
and what to do. The algorithms turn them into QgsProcessingException unchanged.
"""


class WaterLogRegError(Exception):
    """A problem with the input, the model file or the output location."""


class Canceled(WaterLogRegError):  # noqa: N818 — a signal to stop, not a fault
    """The user canceled the run; whatever was being written has been removed."""

    def __init__(self, message="Canceled by the user; no output was written."):
        super().__init__(message)
