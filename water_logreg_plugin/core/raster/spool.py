"""Window arrays kept between two passes over a raster: in memory up to a budget, the rest in a
scratch file beside the output.

A map adjusted to the scene's share of water needs the share, which needs the whole scene,
before its first window can be written. Reading and decompressing the scene twice would cost
a third more than one pass (benchmarks/RESULTS.md: decompression is about a third of predict),
so the first pass keeps the model's outputs and the second reads them back in order. Through a
file, the operating system's copies cost a 30-megapixel scene about a tenth of its time (1.15 s
against 1.04 s in memory, the bench's quarter), so the first MEMORY_BYTES stay in memory: memory
stays flat however large the scene, and only the part beyond pays for the file. The file has no
name on POSIX and is deleted on close on Windows, so a crash or a kill leaves nothing behind.
"""

import os
import shutil
import tempfile
from collections import deque

import numpy as np

from ..errors import WaterLogRegError

# The model's outputs of a 32-megapixel scene in float32 (a Landsat scene is 61 Mpx, a
# Sentinel-2 tile at 10 m 121 Mpx): peak memory grows by at most this much with the scene.
MEMORY_BYTES = 128 * 2**20


class WindowSpool:
    """Arrays of one dtype, written in order and read back in the same order (a context manager)."""

    def __init__(self, destination, dtype=np.float32, expected_values=0, memory_bytes=None):
        """A spool beside `destination` (the output it serves), refused at once where its folder
        has less free space than what of `expected_values` of `dtype` passes `memory_bytes`
        (None: MEMORY_BYTES)."""
        self.folder = os.path.dirname(os.path.abspath(destination))
        self.dtype = np.dtype(dtype)
        self.memory_left = int(MEMORY_BYTES if memory_bytes is None else memory_bytes)
        needed = int(expected_values) * self.dtype.itemsize - self.memory_left
        free = shutil.disk_usage(self.folder).free if needed > 0 else 0
        if needed > free:
            raise WaterLogRegError(
                f"Adjusting the map to the scene's share of water keeps the model's outputs of a first pass: "
                f"{self.memory_left / 2**20:.0f} MB in memory and {needed / 2**20:.0f} MB beside the output, "
                f"but '{self.folder}' has {free / 2**20:.0f} MB free. Free some disk space, choose "
                "another output folder, or set the water share (WATER_PRIOR) to the training pixels' or a "
                "given share, which need one pass."
            )
        self.in_memory = deque()  # the first arrays, while they fit in memory_left
        self.handle = None  # the scratch file, made when the first array does not fit

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.in_memory.clear()
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def write(self, array):
        """Keep `array` (the spool holds it as it is where it can: the caller leaves it alone)."""
        array = np.ascontiguousarray(array, dtype=self.dtype)
        if self.handle is None and array.nbytes <= self.memory_left:
            self.memory_left -= array.nbytes
            self.in_memory.append(array)
            return
        try:
            if self.handle is None:  # closed by __exit__, like the arrays in memory
                self.handle = tempfile.TemporaryFile(  # noqa: SIM115
                    dir=self.folder, prefix=".waterlogreg-spool-")
            # The file object's write, not numpy's tofile: its error names the reason (ENOSPC).
            self.handle.write(array.data)
        except OSError as error:
            raise self._write_failure(error) from None

    def rewind(self):
        """Back to the first array, to read them in the order they were written (once)."""
        if self.handle is not None:
            try:
                self.handle.flush()
            except OSError as error:
                raise self._write_failure(error) from None
            self.handle.seek(0)

    def _write_failure(self, error):
        return WaterLogRegError(
            f"Writing the first pass's scratch file in '{self.folder}' failed ({error.strerror or error}): "
            "the disk may be full. Free some disk space or choose another output folder."
        )

    def read(self, shape):
        """The next array, of `shape`."""
        count = int(np.prod(shape))
        if self.in_memory:
            array = self.in_memory.popleft()  # gone from the spool once read, so its memory is freed
        elif self.handle is not None:
            array = np.fromfile(self.handle, dtype=self.dtype, count=count)
        else:
            array = np.zeros(0, self.dtype)
        if array.size != count:
            raise WaterLogRegError(
                f"The first pass's scratch file in '{self.folder}' ended early; the disk may be full or "
                "the file was removed. Run again."
            )
        return array.reshape(shape)
