"""What long work reports back while it runs: progress, cancel and log, as one value.

QGIS's QgsProcessingMultiStepFeedback gives each sub-step its own 0–100 % of one progress
bar; `Callbacks.part(start, end)` does the same for the core, which never imports QGIS.
"""

from dataclasses import dataclass, replace
from typing import Callable

from .errors import Canceled


def _ignore(_value):
    return None


def _never():
    return False


@dataclass(frozen=True)
class Callbacks:
    progress: Callable[[float], None] = _ignore  # fraction of this step done, 0…1
    is_canceled: Callable[[], bool] = _never
    log: Callable[[str], None] = _ignore

    def part(self, start, end):
        """The same callbacks for a sub-step that fills [start, end] of this step's bar."""
        outer = self.progress
        return replace(self, progress=lambda fraction: outer(start + (end - start) * fraction))

    def check_canceled(self):
        """Raise Canceled when the user asked to stop."""
        if self.is_canceled():
            raise Canceled()


QUIET = Callbacks()
