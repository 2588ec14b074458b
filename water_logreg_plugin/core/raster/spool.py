"""Window arrays kept between two passes over a raster, in a scratch file beside the output.

A map adjusted to the scene's share of water needs the share, which needs the whole scene,
before its first window can be written. Reading and decompressing the scene twice would cost
a third more than one pass (benchmarks/RESULTS.md: decompression is about a third of predict);
the model's outputs of the first pass, written raw and read back in order, cost a few percent,
mostly from the operating system's file cache. The file has no name on POSIX and is deleted
on close on Windows, so a crash or a kill leaves nothing behind.
"""

import os
import shutil
import tempfile

import numpy as np

from ..errors import WaterLogRegError


class WindowSpool:
    """Arrays of one dtype, written in order and read back in the same order (a context manager)."""

    def __init__(self, destination, dtype=np.float32, expected_values=0):
        """A spool beside `destination` (the output it serves), refused at once where its folder
        has less free space than `expected_values` of `dtype` need."""
        self.folder = os.path.dirname(os.path.abspath(destination))
        self.dtype = np.dtype(dtype)
        needed = int(expected_values) * self.dtype.itemsize
        free = shutil.disk_usage(self.folder).free
        if needed > free:
            raise WaterLogRegError(
                f"Adjusting the map to the scene's share of water keeps the model's outputs of a first pass "
                f"beside the output: {needed / 2**20:.0f} MB, but '{self.folder}' has {free / 2**20:.0f} MB "
                "free. Free some disk space, choose another output folder, or set the water share "
                "(WATER_PRIOR) to the training pixels' or a given share, which need one pass."
            )
        self.handle = None

    def __enter__(self):
        self.handle = tempfile.TemporaryFile(dir=self.folder, prefix=".waterlogreg-spool-")
        return self

    def __exit__(self, *exc_info):
        self.handle.close()
        self.handle = None

    def write(self, array):
        try:
            np.ascontiguousarray(array, dtype=self.dtype).tofile(self.handle)
        except OSError as error:
            raise WaterLogRegError(
                f"Writing the first pass's scratch file in '{self.folder}' failed ({error.strerror or error}): "
                "the disk may be full. Free some disk space or choose another output folder."
            ) from None

    def rewind(self):
        """Back to the first array, to read them in the order they were written."""
        self.handle.flush()
        self.handle.seek(0)

    def read(self, shape):
        """The next array, of `shape`."""
        count = int(np.prod(shape))
        array = np.fromfile(self.handle, dtype=self.dtype, count=count)
        if array.size != count:
            raise WaterLogRegError(
                f"The first pass's scratch file in '{self.folder}' ended early; the disk may be full or "
                "the file was removed. Run again."
            )
        return array.reshape(shape)
