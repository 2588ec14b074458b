"""Water probability over a whole raster, window by window.

Windows are whole rows of the raster's blocks, so each block is read once and memory is
flat in the raster's size. The standardization is folded into the first layer, and the
arithmetic runs in float32: in numpy on the CPU, so a map needs no torch, and in torch on a
GPU. GDAL decompresses the input and compresses the output on every core; two windows are read
(each through its own handle of a GeoTIFF) and one is written while the next is computed: on a
CPU the time is that of reading and writing (see benchmarks/RESULTS.md).
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal

from ..callbacks import QUIET
from ..device import prediction_device
from ..model.compatibility import check_model_fits_raster
from ..raster.band_coverage import BandCoverage
from ..raster.reading import open_raster
from ..raster.spool import WindowSpool
from ..raster.windows import (
    SingleStripReader,
    read_ahead,
    read_window,
    reading_handles,
    row_windows,
    single_strip_warning,
)
from ..raster.writing import WriteBehind, output_rasters, write_rows_of
from .water_share import (
    SceneSample,
    decide_scene_share,
    probability_of_logits,
    shifted_probability_,
    training_water_share,
)

PROBABILITY_NODATA = -9999.0
MASK_NODATA = 255
WATER_THRESHOLD = 0.5  # P(water) from which a pixel counts as water, unless told otherwise


@dataclass
class PredictionSummary:
    pixels: int
    valid_pixels: int
    water_pixels: int  # probability ≥ threshold
    device: str
    seconds: float
    water_share: object = None  # water_share.SceneShare: what P(water) is for; None: as the model gives it
    band_coverage: list = field(default_factory=list)  # BandCoverage.log_lines(): a band that costs pixels

    @property
    def water_fraction(self):
        return self.water_pixels / self.valid_pixels if self.valid_pixels else 0.0


# The arrays a kernel builds for one pass of its layers (hidden activations, float32 or
# float64) stay within this budget: pixels a pass = budget / (bytes a pixel × widest layer).
KERNEL_BUDGET_BYTES = 256 * 2**20
# Folded weights beyond this would overflow float32 on band values up to ~1e7: use float64.
FLOAT32_SAFE_WEIGHT = 1e30
# network.ACTIVATIONS in place, on a pass's hidden array (as torch.tanh_ and torch.relu_ did).
IN_PLACE_ACTIVATIONS = {
    "tanh": lambda hidden: np.tanh(hidden, out=hidden),
    "relu": lambda hidden: np.maximum(hidden, 0, out=hidden),
}


class ProbabilityKernel:
    """The model's layers on a device; maps (bands, N) → (N,).

    numpy computes them on the CPU, so a map needs no torch; torch on a GPU. float32 unless
    the folded weights are too large for it (a model with huge coefficients still gives a valid
    map then); the pixels go through the layers in passes whose hidden arrays fit
    KERNEL_BUDGET_BYTES, so memory follows the model's width, not the window's size.
    """

    def __init__(self, model, device="auto"):
        self.device = prediction_device(device)
        folded = model.folded_layers()
        largest = max(max(np.abs(weight).max(), np.abs(bias).max()) for weight, bias in folded)
        self.numpy_dtype = np.float32 if largest <= FLOAT32_SAFE_WEIGHT else np.float64
        self.activation = model.activation
        widest = max(weight.shape[0] for weight, _ in folded)
        bytes_per_pixel = np.dtype(self.numpy_dtype).itemsize * 2 * max(widest, len(model.bands))
        self.pass_pixels = max(1, KERNEL_BUDGET_BYTES // bytes_per_pixel)
        self.layers = [(weight.astype(self.numpy_dtype), bias.astype(self.numpy_dtype)[:, np.newaxis])
                       for weight, bias in folded]
        self.gpu_layers = None
        if self.device != "cpu":
            import torch

            self.gpu_layers = [(torch.as_tensor(weight, device=self.device), torch.as_tensor(bias, device=self.device))
                               for weight, bias in self.layers]
        # A logistic regression on the CPU is one multiply-add a band: numpy does it fused in
        # float32 on the raw band values, without building a (bands, N) float copy.
        self.fused_logistic = None
        if len(folded) == 1 and self.device == "cpu":
            weight, bias = self.layers[0]
            self.fused_logistic = (weight[0], bias[0, 0])

    def logits(self, values):
        """The last layer's output before σ, (N,) in the kernel's dtype, for (bands, N) values."""
        if self.gpu_layers is not None:
            return self._gpu_logits(values)
        logit = np.empty(values.shape[1], dtype=self.numpy_dtype)
        activation = IN_PLACE_ACTIVATIONS[self.activation]
        # Past float32's range a layer gives ±∞, and ∞ − ∞ NaN: the map makes that pixel nodata.
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, values.shape[1], self.pass_pixels):
                hidden = values[:, start:start + self.pass_pixels].astype(self.numpy_dtype, copy=False)
                for index, (weight, bias) in enumerate(self.layers):
                    hidden = weight @ hidden
                    hidden += bias
                    if index < len(self.layers) - 1:
                        activation(hidden)
                logit[start:start + self.pass_pixels] = hidden[0]
        return logit

    def _gpu_logits(self, values):
        import torch

        activation = {"tanh": torch.tanh_, "relu": torch.relu_}[self.activation]
        with torch.no_grad():
            features = torch.from_numpy(values)
            dtype = self.gpu_layers[0][0].dtype
            logit = torch.empty(features.shape[1], dtype=dtype)
            for start in range(0, features.shape[1], self.pass_pixels):
                hidden = features[:, start:start + self.pass_pixels].to(self.device, dtype)
                for index, (weight, bias) in enumerate(self.gpu_layers):
                    hidden = torch.addmm(bias, weight, hidden)
                    if index < len(self.gpu_layers) - 1:
                        hidden = activation(hidden)
                logit[start:start + self.pass_pixels] = hidden[0].cpu()
            return logit.numpy()

    def __call__(self, values):
        """P(water) (N,) float32 for (bands, N) values."""
        return shifted_probability_(self.logits(values), 0.0).astype(np.float32, copy=False)

    def logit_of_bands(self, values, valid):
        """The model's output before σ (rows, width), in the kernel's dtype, from raw band values
        (bands, rows, width). Pixels that are not `valid` may come out as anything, NaN included;
        callers overwrite them with nodata."""
        if self.fused_logistic is None:
            features = np.ascontiguousarray(values.reshape(len(values), -1), dtype=self.numpy_dtype)
            # Pixels that are not valid may hold NaN or ±inf; zero them so no NaN reaches the maths.
            features[:, ~valid.ravel()] = 0
            return self.logits(features).reshape(valid.shape)
        weights, bias = self.fused_logistic
        dtype = self.numpy_dtype
        with np.errstate(over="ignore", invalid="ignore"):
            logit = np.multiply(values[0], weights[0], dtype=dtype)
            term = np.empty_like(logit)
            for band_values, weight in zip(values[1:], weights[1:]):
                np.multiply(band_values, weight, out=term, dtype=dtype)
                logit += term
            logit += bias
        return logit

    def probability_of_bands(self, values, valid):
        """P(water) (rows, width) float32 from raw band values (bands, rows, width); as
        logit_of_bands, pixels that are not `valid` may come out as anything."""
        return shifted_probability_(self.logit_of_bands(values, valid), 0.0).astype(np.float32, copy=False)


def predict_water(
    raster_path,
    model,
    output_path,
    device="auto",
    mask_path=None,
    threshold=WATER_THRESHOLD,
    callbacks=QUIET,
    prior=None,
):
    """Write P(water) as a Float32 GeoTIFF (and optionally a Byte water mask).

    Pixels where any band the model uses is nodata, NaN or infinite get PROBABILITY_NODATA
    (and MASK_NODATA in the mask). Outputs appear under their names only when complete.
    raster_path may be a dataset open_raster gave already. `prior` (water_share.WaterPrior)
    says which share of water P(water) is for; None leaves it as the model gives it. The
    scene's share (FROM_SCENE) takes two passes: the first keeps the model's outputs in a
    scratch file and samples the scene, the second writes them adjusted (docs/WATER_SHARE.md).
    """
    started = time.perf_counter()
    dataset = open_raster(raster_path, decode_threads=True)
    check_model_fits_raster(model, dataset, f"'{os.path.basename(dataset.GetDescription())}'")
    kernel = ProbabilityKernel(model, device)
    callbacks.log(f"Predicting with the {model.kind} on {kernel.device.upper()}.")
    # One DEFLATE strip is read as a stream; another compression in one strip is named in the log.
    strip_reader = SingleStripReader.for_dataset(dataset)
    warning = None if strip_reader else single_strip_warning(dataset)
    if warning:
        callbacks.log(warning)
    training_share = training_water_share(model.training)
    two_passes = prior is not None and prior.needs_scene and training_share is not None
    windows = row_windows(dataset)
    width = dataset.RasterXSize

    # Two windows are read at once, each through its own handle, which counts its band coverage.
    handles = [dataset] if strip_reader else reading_handles(dataset, windows)
    readers = [(handle, BandCoverage(model.bands)) for handle in handles]

    def read(reader, row, rows):  # in a reader thread, as valid_pixels asks of its masks
        handle, coverage = reader
        values, valid = read_window(handle, model.bands, row, rows, strip_reader)
        if not valid.all():  # where every pixel is valid, no band costs the map any
            coverage.add_window(handle, values, 0, row)
        return values, valid

    with ExitStack() as stack:
        outputs = stack.enter_context(output_rasters(callbacks))
        output = outputs.add(output_path, dataset, 1, gdal.GDT_Float32, PROBABILITY_NODATA)
        mask = outputs.add(mask_path, dataset, 1, gdal.GDT_Byte, MASK_NODATA) if mask_path else None
        # Threads read (decompress) windows n + 1 and n + 2 and another writes (compresses)
        # window n − 1 while this one computes window n; no more wait, so memory stays flat.
        reader = stack.enter_context(ThreadPoolExecutor(max_workers=len(readers)))
        writer = stack.enter_context(WriteBehind())
        if two_passes:
            spool = stack.enter_context(WindowSpool(output_path, kernel.numpy_dtype, width * dataset.RasterYSize))
            sample = SceneSample(width, dataset.RasterYSize, prior.seed)
            _first_pass(windows, _logits(read_ahead(windows, readers, read, reader), kernel), spool, sample, writer,
                        callbacks.part(0.0, 0.5))
            water_share = decide_scene_share(prior, training_share, probability_of_logits(sample.values()))
            spool.rewind()
            source = read_ahead(windows, [spool], lambda spool, _row, rows: _spooled_window(spool, rows, width), reader)
            callbacks = callbacks.part(0.5, 1.0)
        else:
            water_share = None if prior is None else decide_scene_share(prior, training_share)
            source = _logits(read_ahead(windows, readers, read, reader), kernel)
        for message in () if water_share is None else water_share.messages:
            callbacks.log(message)
        shift = 0.0 if water_share is None else water_share.shift
        valid_pixels, water_pixels = _write_pass(windows, source, shift, (output, mask), threshold, writer, callbacks)
    coverage = readers[0][1]
    for _, other in readers[1:]:
        coverage.merge(other)
    summary = PredictionSummary(
        dataset.RasterXSize * dataset.RasterYSize, valid_pixels, water_pixels,
        kernel.device, time.perf_counter() - started, water_share, coverage.log_lines(),
    )
    for line in summary.band_coverage:
        callbacks.log(line)
    if not valid_pixels:
        callbacks.log("Warning: every pixel of the map is nodata: every pixel of the raster is nodata, "
                      "masked or not finite in a band the model uses, or the model gives no number there.")
    callbacks.log(f"{summary.valid_pixels} valid pixels, {100 * summary.water_fraction:.2f} % water "
        f"(P ≥ {threshold:g}), {summary.seconds:.2f} s.")
    return summary


def _logits(read_windows, kernel):
    """(the model's output before σ, valid) of each window (values, valid) read, computed in
    this thread while the reader reads the next; an output of NaN is left to the caller."""
    for values, valid in read_windows:
        yield kernel.logit_of_bands(values, valid), valid


def _first_pass(windows, source, spool, sample, writer, callbacks):
    """The model's outputs of every window into the spool (invalid pixels NaN) and the sample."""
    for index, ((row, _), (logit, valid)) in enumerate(zip(windows, source)):
        callbacks.check_canceled()
        valid &= ~np.isnan(logit)  # ∞ − ∞ in a layer: no number; ±∞ is a certain 0 or 1
        sample.add_window(logit, valid, row)
        np.copyto(logit, np.nan, where=~valid)
        writer.submit(spool.write, logit)
        callbacks.progress((index + 1) / len(windows))
    writer.finish()  # the second pass reads the spool back


def _spooled_window(spool, rows, width):
    """(the model's output before σ, None): NaN marks the pixels that are not valid, and
    _write_pass finds them in the probability."""
    return spool.read((rows, width)), None


def _write_pass(windows, source, shift, outputs, threshold, writer, callbacks):
    """P(water) = σ(logit + shift) of each window from `source` (logit, valid or None) into
    the map (and the mask); returns (valid pixels, water pixels)."""
    output, mask = outputs
    valid_pixels = water_pixels = 0
    for index, ((row, _), (logit, valid)) in enumerate(zip(windows, source)):
        callbacks.check_canceled()
        probability = shifted_probability_(logit, shift).astype(np.float32, copy=False)
        finite = np.isfinite(probability)
        valid = finite if valid is None else np.logical_and(valid, finite, out=valid)
        water, invalid = mark_window(probability, valid, threshold)
        valid_pixels += int(np.count_nonzero(valid))
        water_pixels += int(np.count_nonzero(water))
        mask_values = None
        if mask is not None:
            mask_values = water.view(np.uint8)
            np.copyto(mask_values, MASK_NODATA, where=invalid)
        writer.submit(write_rows_of, row, (output, probability), (mask, mask_values))
        callbacks.progress((index + 1) / len(windows))
    writer.finish()
    return valid_pixels, water_pixels


def logit_window(dataset, bands, kernel, row, rows, coverage=None):
    """(the model's output before σ (rows, width), valid bool (rows, width)) for one row window;
    the window is counted into `coverage` (a BandCoverage of `bands`) when given."""
    values, valid = read_window(dataset, bands, row, rows)
    if coverage is not None and not valid.all():  # where every pixel is valid, no band costs any
        coverage.add_window(dataset, values, 0, row)
    return _logit_window(values, valid, kernel)


def mark_window(probability, valid, threshold=WATER_THRESHOLD):
    """Write PROBABILITY_NODATA into `probability` where not valid; returns (water, invalid),
    water being the valid pixels at or above the threshold."""
    invalid = ~valid
    water = valid & (probability >= threshold)
    np.copyto(probability, PROBABILITY_NODATA, where=invalid)
    return water, invalid


def _logit_window(values, valid, kernel):
    """(the model's output before σ, valid): a NaN output (∞ − ∞ in a layer) is no number, so
    not valid; ±∞ is a certain 0 or 1."""
    logit = kernel.logit_of_bands(values, valid)
    valid &= ~np.isnan(logit)
    return logit, valid
