"""core.scale.scenes's per-scene work on a Dask cluster: in this process, local worker processes, or
an existing scheduler (SLURM, Kubernetes, machines of your own).

Dask does the scheduling, the retries when a worker dies and the progress bar; this module
only says what the tasks are:

- a scene of at most `task_pixels` pixels is one task, `scenes.predict_scene` (the very code
  `waterlogreg:predictwater` runs);
- a larger scene is split into windows of whole block rows (`raster.row_windows`); each
  chunk task writes the model's outputs before σ for its windows into a temporary GeoTIFF in a
  scratch folder beside the outputs and gathers its rows of the scene sample
  (`maps.water_share.SceneSample`); one assembly task merges the samples, decides the share of
  water the map is for (the scene's by EM, as in process: the same grid, in the same order), and
  writes σ(output + shift) of the chunks, in order, into a single output written by
  `raster.writing.output_raster` — the first and second passes of `maps.predict`, spread out.

Every file a task writes appears under its name only when complete, so a task that Dask
reruns after its worker died simply writes it again. What a killed worker leaves half-written
(hidden `.partial` files, the scratch folder) is removed when the run ends.

Scenes and the output folder must be at the same paths on the machine that submits and on
every worker (a shared file system); paths are made absolute before they are sent. Dask is
imported only here, inside functions, so the plugin works without it.
"""

import asyncio
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..errors import WaterLogRegError
from ..maps.predict import PROBABILITY_NODATA, ProbabilityKernel, logit_window, mark_window
from ..maps.water_share import (
    SceneSample,
    decide_scene_share,
    probability_of_logits,
    shifted_probability_,
    training_water_share,
)
from ..model.compatibility import check_model_fits_raster
from ..raster.band_coverage import BandCoverage
from ..raster.gdal_errors import gdal_outcome
from ..raster.reading import open_raster
from ..raster.windows import WINDOW_PIXELS, row_windows
from ..raster.writing import output_raster, output_rasters, remove_stale_partials, scratch_folder
from .scenes import SceneResult, check_batch, failure_reason, predict_scene, scene_outputs

# A scene with more pixels than this is split over several tasks of about this many pixels
# (64 of predict_water's windows, some 20 s of one core). A whole Sentinel-2 tile (121 Mpx)
# stays one task, with no scratch copy; a mosaic of a country spreads over the cluster.
TASK_PIXELS = 1 << 28
CONNECT_TIMEOUT_S = 30
DASK_REQUIREMENT = "dask[distributed]==2026.8.0"


@dataclass
class ChunkResult:
    """One chunk task's windows, written as rows first_row… of the scene into `path`."""

    path: str
    windows: list  # [(row, rows)] in scene rows, consecutive
    sample: object = None  # its rows of the scene's SceneSample
    coverage: object = None  # BandCoverage of its rows
    seconds: float = 0.0
    worker: str = ""
    reason: str = ""  # why the chunk could not be written; empty when it was


@contextmanager
def dask_client(scheduler=None, workers=0):
    """A distributed.Client: to `scheduler`, else to a LocalCluster of `workers` processes
    on 127.0.0.1, else (workers=0) to one worker thread in this process."""
    distributed = _distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster  # noqa: N806 — Dask's classes
    if scheduler:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 — whatever the far end did, a message
            raise _not_a_scheduler(scheduler, error) from None
        with client:
            yield client
        return
    if workers < 0:
        raise WaterLogRegError(f"The number of workers must be 0 or more, not {workers}.")
    import dask

    # One thread a worker: GDAL's DEFLATE threads already share the cores within a scene.
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which also stops glibc from adapting its mmap
    # threshold, so every window's arrays would be mapped and zeroed afresh (measured: a
    # quarter slower per scene); memory stays flat without it, as windows are reused.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=max(workers, 1), threads_per_worker=1, processes=workers > 0,
            host="127.0.0.1" if workers > 0 else None, dashboard_address=None,
        )
    with cluster, Client(cluster) as client:
        yield client


def _distributed():
    """Dask's distributed package, imported only when a run asks for Dask."""
    try:
        import distributed
    except ImportError:
        raise WaterLogRegError(
            f"Running on Dask needs Dask's distributed scheduler; install it with "
            f"pip install '{DASK_REQUIREMENT}'."
        ) from None
    return distributed


SCHEDULER_ADDRESS = re.compile(r"^((tcp|tls|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}/?$")


def check_scheduler(address, timeout=CONNECT_TIMEOUT_S):
    """Refuse, within `timeout` seconds, an address that is no Dask scheduler: a malformed one,
    nobody listening, a server of another kind (a web server, whose answer Dask would read
    as a frame exabytes long) or one that never answers (Dask's own connect waits for ever)."""
    if not SCHEDULER_ADDRESS.match(address):
        raise WaterLogRegError(
            f"'{address}' is not a Dask scheduler address; give one like tcp://host:8786 "
            "(the address `dask scheduler` prints)."
        )
    _distributed()
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            reply = pool.submit(asyncio.run, _scheduler_identity(address, timeout)).result(timeout * 3 + 5)
        except Exception as error:  # noqa: BLE001 — whatever the far end did, a message
            raise _not_a_scheduler(address, error) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = reply.get("type") if isinstance(reply, dict) and reply.get("type") else "server of another kind"
        raise _not_a_scheduler(address, f"it answered as a {kind}")


async def _scheduler_identity(address, timeout):
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def _not_a_scheduler(address, error):
    """The message for an address that is no Dask scheduler; `error` is what connecting raised,
    or a reason. Whatever a server of another kind answered (a web server's "HTTP/1.0 400 …",
    which Dask reads as the length of a frame: a MemoryError, a ValueError, a closed stream —
    which one depends on the Python and Dask versions) is one plain reason."""
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        reason = "no answer within the connect timeout"
    elif isinstance(error, OSError) and error.strerror:
        reason = error.strerror
    elif isinstance(error, BaseException):
        reason = "it answered, but not in Dask's protocol"
    else:
        reason = str(error)
    return WaterLogRegError(
        f"'{address}' is not a Dask scheduler or does not answer ({reason}). Check the address "
        "(e.g. tcp://host:8786), that `dask scheduler` runs there and that no firewall is in the way."
    )


def predict_scenes_on_cluster(
    model,
    scenes,
    output_folder,
    device="auto",
    scheduler=None,
    workers=0,
    task_pixels=None,
    progress_bar=False,
    callbacks=QUIET,
    prior=None,
):
    """Predict every scene into output_folder/<scene>_water.tif on Dask; returns [SceneResult]
    in the order of `scenes`. A scene that fails is a failed SceneResult with its reason.
    `prior` (water_share.WaterPrior): the share of water each map is for, as in process.

    `task_pixels` (default TASK_PIXELS where tasks run side by side) splits larger scenes;
    with a single worker thread splitting would only copy each scene once more, so by
    default it does not happen there.
    `progress_bar` shows Dask's own progress bar on the terminal (it blocks until the end);
    `callbacks` serve a caller such as a Processing algorithm.
    """
    model = check_batch(model, scenes, output_folder)
    if task_pixels is None:
        task_pixels = TASK_PIXELS if scheduler or workers > 1 else math.inf
    if task_pixels < 1:
        raise WaterLogRegError(f"The pixels per task must be at least 1, not {task_pixels}.")
    output_folder = os.path.abspath(output_folder)
    scenes = [os.path.abspath(scene) for scene in scenes]
    outputs = scene_outputs(scenes, output_folder)
    try:
        chunks_beside = os.path.join(output_folder, "waterlogreg-chunks")
        with scratch_folder(chunks_beside) as scratch, dask_client(scheduler, workers) as client:
            callbacks.log(f"Dask scheduler {client.scheduler.address}, {len(client.nthreads())} workers.")
            slots = [
                _submit_scene(client, model, scene, output, scratch, index, device, task_pixels, prior)
                for index, (scene, output) in enumerate(zip(scenes, outputs))
            ]
            futures = [slot for slot in slots if not isinstance(slot, SceneResult)]
            try:
                if progress_bar and futures:
                    from distributed import progress as dask_progress

                    dask_progress(futures, notebook=False)
                _wait(futures, callbacks)
            except BaseException:
                client.cancel(futures)
                raise
            results = [slot if isinstance(slot, SceneResult) else _scene_result(slot, scene, output)
                       for slot, scene, output in zip(slots, scenes, outputs)]
    finally:
        for output in outputs:  # hidden partial outputs of ended processes (a live run's stay)
            remove_stale_partials(output)
    for result in results:
        for line in result.log_lines():
            callbacks.log(line)
    return results


def split_scene(dataset, task_pixels=TASK_PIXELS):
    """The scene's row windows grouped into tasks of about `task_pixels`; one group when it fits."""
    if dataset.RasterXSize * dataset.RasterYSize <= task_pixels:
        return [row_windows(dataset)]
    windows = row_windows(dataset, min(task_pixels, WINDOW_PIXELS))
    per_task = max(1, task_pixels // (windows[0][1] * dataset.RasterXSize))
    return [windows[start:start + per_task] for start in range(0, len(windows), per_task)]


def _submit_scene(client, model, scene, output, scratch, index, device, task_pixels, prior):
    """The scene's final future, or a failed SceneResult when it cannot even be planned."""
    try:
        dataset = open_raster(scene)
        check_model_fits_raster(model, dataset, f"'{os.path.basename(scene)}'")
        groups = split_scene(dataset, task_pixels)
    except WaterLogRegError as error:
        return SceneResult(scene=scene, output=output, reason=str(error))
    if len(groups) == 1:
        return client.submit(_predict_whole_scene, model, scene, output, device, prior, pure=False)
    seed = 0 if prior is None else prior.seed
    chunks = [
        client.submit(_predict_chunk, model, scene, os.path.join(scratch, f"{index:05d}-{number:05d}.tif"),
                      windows, device, seed, pure=False)
        for number, windows in enumerate(groups)
    ]
    return client.submit(_assemble_scene, scene, output, chunks, training_water_share(model.training), prior,
                         pure=False)


def _wait(futures, callbacks):
    from distributed import as_completed

    completed = as_completed(futures)
    done = 0
    while not completed.is_empty():
        callbacks.check_canceled()
        finished = completed.next_batch(block=False)
        if finished:
            done += len(finished)
            callbacks.progress(done / len(futures))
        else:
            time.sleep(0.1)


def _scene_result(future, scene, output):
    if future.status == "finished":
        return future.result()
    # Dask gives up on a task after its workers died several times running it (KilledWorker).
    error = future.exception()
    return SceneResult(scene=scene, output=output, reason=failure_reason(error))


def _worker_address():
    from distributed import get_worker

    return get_worker().address


def _predict_whole_scene(model, scene, output, device, prior):
    result = predict_scene(model, scene, output, device, prior=prior)
    result.worker = _worker_address()
    return result


def _predict_chunk(model, scene, chunk_path, windows, device, seed):
    """The first pass over the chunk's windows: the model's outputs before σ (NaN where not
    valid) into the chunk's file, and the chunk's rows of the scene sample and of the band coverage."""
    started = time.perf_counter()
    chunk = ChunkResult(chunk_path, windows, worker=_worker_address())
    try:
        dataset = open_raster(scene)
        kernel = ProbabilityKernel(model, device)
        chunk.sample = SceneSample(dataset.RasterXSize, dataset.RasterYSize, seed)
        chunk.coverage = BandCoverage(model.bands)
        first_row = windows[0][0]
        data_type = gdal.GDT_Float32 if kernel.numpy_dtype == np.float32 else gdal.GDT_Float64
        with output_rasters() as outputs:
            output = outputs.add_dataset(
                chunk_path, lambda partial: _create_chunk(partial, dataset, windows, scene, chunk_path, data_type))
            for row, rows in windows:
                logit, valid = logit_window(dataset, model.bands, kernel, row, rows, chunk.coverage)
                chunk.sample.add_window(logit, valid, row)
                np.copyto(logit, np.nan, where=~valid)
                output.write_rows(logit, row - first_row)
    except Exception as error:  # noqa: BLE001 — reported on the scene, the other scenes go on
        chunk.reason = failure_reason(error)
    chunk.seconds = time.perf_counter() - started
    return chunk


def _create_chunk(partial, dataset, windows, scene, chunk_path, data_type):
    """The chunk's file: the windows' rows of the scene, scratch only, so uncompressed (writing and
    reading it back cost no DEFLATE) and without georeferencing."""
    output, reason = gdal_outcome(
        gdal.GetDriverByName("GTiff").Create,
        partial, dataset.RasterXSize, sum(rows for _, rows in windows), 1, data_type,
    )
    if output is None:
        raise WaterLogRegError(
            f"A part of '{os.path.basename(scene)}' cannot be written beside the outputs in "
            f"'{os.path.dirname(os.path.dirname(chunk_path))}' ({reason}); check the "
            "free disk space.")
    return output


def _assemble_scene(scene, output_path, chunks, training_share, prior):
    """The second pass: the chunks' σ(output + shift) into one output; the scene's SceneResult
    (seconds: all its tasks')."""
    started = time.perf_counter()
    result = SceneResult(scene=scene, output=output_path,
                         worker=" ".join(sorted({chunk.worker for chunk in chunks})))
    try:
        failed = [chunk.reason for chunk in chunks if chunk.reason]
        if failed:
            raise WaterLogRegError(failed[0])
        # Chunks are deleted only after the output is in place, so a missing chunk means an
        # earlier attempt of this task finished before its worker died: nothing left to do.
        if all(os.path.exists(chunk.path) for chunk in chunks):
            water_share = _scene_share(chunks, training_share, prior)
            result.pixels, water = _copy_chunks(scene, output_path, chunks, 0.0 if water_share is None else
                                                water_share.shift)
            result.water_fraction = water / result.pixels if result.pixels else 0.0
            result.record_shares(water_share)
            result.notes = _band_coverage(chunks).log_lines()
        elif not os.path.exists(output_path):
            raise WaterLogRegError(f"The chunks of '{scene}' vanished before they were assembled; run it again.")
    except Exception as error:  # noqa: BLE001 — reported on the scene, the other scenes go on
        result.reason = failure_reason(error)
    else:
        result.status = "ok"
        for chunk in chunks:
            if os.path.exists(chunk.path):
                os.remove(chunk.path)
    result.seconds = sum(chunk.seconds for chunk in chunks) + time.perf_counter() - started
    return result


def _scene_share(chunks, training_share, prior):
    """The SceneShare of the scene from its chunks' samples, merged in row order (None: as the
    model gives it)."""
    if prior is None:
        return None
    if not prior.needs_scene or training_share is None:
        return decide_scene_share(prior, training_share)
    sample = chunks[0].sample
    for chunk in chunks[1:]:
        sample.merge(chunk.sample)
    return decide_scene_share(prior, training_share, probability_of_logits(sample.values()))


def _band_coverage(chunks):
    """The scene's BandCoverage from its chunks' counts."""
    coverage = chunks[0].coverage
    for chunk in chunks[1:]:
        coverage.merge(chunk.coverage)
    return coverage


def _copy_chunks(scene, output_path, chunks, shift):
    """σ(output + shift) of every chunk's windows into the scene's output; (valid pixels, water pixels)."""
    dataset = open_raster(scene)
    width = dataset.RasterXSize
    valid_pixels = water_pixels = 0
    with output_raster(output_path, dataset, 1, gdal.GDT_Float32, PROBABILITY_NODATA) as output:
        for chunk in chunks:
            source = open_raster(chunk.path, work_file=True)
            first_row = chunk.windows[0][0]
            for row, rows in chunk.windows:
                logit, reason = gdal_outcome(source.GetRasterBand(1).ReadAsArray, 0, row - first_row, width, rows)
                if logit is None:
                    raise WaterLogRegError(f"Reading back a predicted part of '{os.path.basename(scene)}' failed: "
                                           f"{reason}")
                valid = ~np.isnan(logit)
                probability = shifted_probability_(logit, shift).astype(np.float32, copy=False)
                valid &= np.isfinite(probability)
                water, _ = mark_window(probability, valid)
                valid_pixels += int(np.count_nonzero(valid))
                water_pixels += int(np.count_nonzero(water))
                output.write_rows(probability, row)
    return valid_pixels, water_pixels
