"""The first pass's windows kept for the second: read back as written, nothing left behind."""

import os
from collections import namedtuple

import numpy as np
import pytest
from support.tiny_disk import tiny_disk

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.raster import spool as spool_module
from water_logreg_plugin.core.raster.spool import WindowSpool


@pytest.mark.parametrize("memory_windows", [0, 1, 2, 3], ids=lambda count: f"{count} in memory")
def test_windows_come_back_as_written_and_the_file_leaves_no_trace(tmp_path, memory_windows):
    rng = np.random.default_rng(0)
    windows = [rng.normal(size=(rows, 37)).astype(np.float32) for rows in (5, 1, 12)]
    windows[1][0, 3] = np.nan
    memory_bytes = sum(window.nbytes for window in windows[:memory_windows])

    with WindowSpool(tmp_path / "map.tif", np.float32, 18 * 37, memory_bytes) as spool:
        for window in windows:
            spool.write(window)
        assert os.listdir(tmp_path) == []  # no name on POSIX
        spool.rewind()
        for window in windows:
            np.testing.assert_array_equal(spool.read(window.shape), window)
        with pytest.raises(WaterLogRegError, match="ended early"):
            spool.read((1, 37))
    assert os.listdir(tmp_path) == []


def test_a_folder_without_room_is_refused_before_any_work(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(spool_module.shutil, "disk_usage", lambda folder: usage(1 << 30, 0, 100 * 2**20))

    with pytest.raises(WaterLogRegError, match=r"first pass: 8 MB in memory and 120 MB beside the output, but "
                                               r"'.*' has 100 MB free.*WATER_PRIOR"):
        WindowSpool(tmp_path / "map.tif", np.float32, expected_values=32 * 2**20, memory_bytes=8 * 2**20)
    WindowSpool(tmp_path / "map.tif", np.float32, expected_values=27 * 2**20, memory_bytes=8 * 2**20)  # 100 MB fit


def test_what_fits_in_memory_needs_no_free_space_and_no_file(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(spool_module.shutil, "disk_usage", lambda folder: usage(1 << 30, 1 << 30, 0))
    made = []
    monkeypatch.setattr(spool_module.tempfile, "TemporaryFile", lambda **options: made.append(options))
    window = np.arange(12, dtype=np.float32).reshape(3, 4)

    with WindowSpool(tmp_path / "map.tif", np.float32, 12, memory_bytes=window.nbytes) as spool:
        spool.write(window)
        spool.rewind()
        np.testing.assert_array_equal(spool.read((3, 4)), window)
    assert made == []


def test_a_disk_that_fills_under_the_scratch_file_is_a_message(tmp_path):
    window = np.random.default_rng(0).normal(size=(256, 256)).astype(np.float32)  # 256 KiB
    with tiny_disk(tmp_path / "full", "512k") as folder, \
            WindowSpool(folder / "map.tif", np.float32, memory_bytes=window.nbytes) as spool:
        spool.write(window)  # in memory
        with pytest.raises(WaterLogRegError, match=r"^Writing the first pass's scratch file in '.*full' failed "
                                                   r"\(No space left on device\): the disk may be full"):
            for _ in range(4):
                spool.write(window)
