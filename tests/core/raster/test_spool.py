"""The first pass's windows kept for the second: read back as written, nothing left behind."""

import os
from collections import namedtuple

import numpy as np
import pytest

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.raster import spool as spool_module
from water_logreg_plugin.core.raster.spool import WindowSpool


def test_windows_come_back_as_written_and_the_file_leaves_no_trace(tmp_path):
    rng = np.random.default_rng(0)
    windows = [rng.normal(size=(rows, 37)).astype(np.float32) for rows in (5, 1, 12)]
    windows[1][0, 3] = np.nan

    with WindowSpool(tmp_path / "map.tif", np.float32, expected_values=18 * 37) as spool:
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

    with pytest.raises(WaterLogRegError, match=r"120 MB, but '.*' has 100 MB free.*WATER_PRIOR"):
        WindowSpool(tmp_path / "map.tif", np.float32, expected_values=30 * 2**20)
