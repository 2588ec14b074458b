"""core.raster.probability.read_in_turn: the dates of each window in order, two reads at once,
never two at once of one raster (a GDAL dataset serves one thread at a time)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from water_logreg_plugin.core.raster import probability
from water_logreg_plugin.core.raster.probability import read_in_turn
from water_logreg_plugin.core.raster.windows import READ_AHEAD


@pytest.mark.parametrize("raster_count", [1, 2, 3, 5])
def test_reads_come_in_order_two_at_once_and_never_two_of_one_raster(monkeypatch, raster_count):
    lock = threading.Lock()
    reading, overlaps, most_at_once = set(), [], [0]

    def recording_read(raster, row, rows):
        with lock:
            if raster in reading:
                overlaps.append(raster)
            reading.add(raster)
            most_at_once[0] = max(most_at_once[0], len(reading))
        time.sleep(0.002)  # long enough for the other thread's read to start meanwhile
        with lock:
            reading.discard(raster)
        return raster, row

    monkeypatch.setattr(probability, "read_probability", recording_read)
    rasters = [f"date {number}" for number in range(raster_count)]
    windows = [(row, 10) for row in range(0, 120, 10)]
    with ThreadPoolExecutor(max_workers=READ_AHEAD) as pool:
        reads = list(read_in_turn(rasters, windows, pool))

    assert reads == [(window, raster, (rasters[raster], row))
                     for window, (row, _) in enumerate(windows) for raster in range(raster_count)]
    assert overlaps == []
    assert most_at_once[0] == (READ_AHEAD if raster_count >= READ_AHEAD else 1)
