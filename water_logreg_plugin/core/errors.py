"""Errors the core raises for problems a user can fix.

Their messages are written for the person at the Processing dialog: what is wrong
and what to do. The algorithms turn them into QgsProcessingException unchanged.
"""

import os


class WaterLogRegError(Exception):
    """A problem with the input, the model file or the output location."""


class Canceled(WaterLogRegError):  # noqa: N818 — a signal to stop, not a fault
    """The user canceled the run; whatever was being written has been removed."""

    def __init__(self, message="Canceled by the user; no output was written."):
        super().__init__(message)


def describe_os_error(error):
    """An OSError in a user's words: what failed and on which file, never the name of a hidden
    partial or scratch file (those start with a dot and mean nothing to the user)."""
    where = ""
    if error.filename:
        hidden = os.path.basename(os.fspath(error.filename)).startswith(".")
        where = " (a temporary file beside the output)" if hidden else f" ('{error.filename}')"
    return f"reading or writing a file failed{where}: {error.strerror or error}"
