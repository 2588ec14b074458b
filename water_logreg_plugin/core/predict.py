"""Water probability over a whole raster, window by window.

Windows are whole rows of the raster's blocks, so each block is read once and memory is
flat in the raster's size. The standardization is folded into the first layer, and the
arithmetic runs in float32 on the chosen torch device.
"""

import os
import time
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from .device import resolve_device
from .errors import Canceled, WaterLogRegError
from .raster import atomic_output, create_like, nodata_values, open_raster, row_windows, valid_pixel_mask

PROBABILITY_NODATA = -9999.0
MASK_NODATA = 255


@dataclass
class PredictionSummary:
    pixels: int
    valid_pixels: int
    water_pixels: int  # probability ≥ threshold
    device: str
    seconds: float

    @property
    def water_fraction(self):
        return self.water_pixels / self.valid_pixels if self.valid_pixels else 0.0


def check_model_fits_raster(model, dataset, raster_name="the raster"):
    """Refuse a raster that lacks the model's bands, or whose data type differs from training."""
    missing = [band for band in model.bands if band > dataset.RasterCount]
    if missing:
        raise WaterLogRegError(
            f"The model uses band{'s' if len(model.bands) > 1 else ''} "
            f"{', '.join(map(str, model.bands))}, but {raster_name} has only "
            f"{dataset.RasterCount} band{'s' if dataset.RasterCount != 1 else ''}. Use a raster "
            "with the same bands as the one the model was trained on."
        )
    trained_type = model.training.get("data_type")
    actual_type = gdal.GetDataTypeName(dataset.GetRasterBand(model.bands[0]).DataType)
    if trained_type and trained_type != actual_type:
        raise WaterLogRegError(
            f"The model was trained on {trained_type} pixels, but {raster_name} holds "
            f"{actual_type} pixels (other units or scaling); predict only on rasters of the "
            "kind the model was trained on."
        )


class ProbabilityKernel:
    """The model's layers as float32 torch tensors on a device; maps (bands, N) → (N,)."""

    def __init__(self, model, device="auto"):
        import torch

        self.device = resolve_device(device)
        self.layers = [
            (torch.as_tensor(weight, dtype=torch.float32, device=self.device),
             torch.as_tensor(bias, dtype=torch.float32, device=self.device).unsqueeze(1))
            for weight, bias in model.folded_layers()
        ]

    def __call__(self, values):
        import torch

        with torch.no_grad():
            hidden = torch.from_numpy(values).to(self.device)
            for index, (weight, bias) in enumerate(self.layers):
                hidden = torch.addmm(bias, weight, hidden)
                if index < len(self.layers) - 1:
                    hidden = torch.relu(hidden)
            return torch.sigmoid(hidden[0]).cpu().numpy()


def predict_water(
    raster_path,
    model,
    output_path,
    device="auto",
    mask_path=None,
    threshold=0.5,
    progress=lambda fraction: None,
    is_canceled=lambda: False,
    log=lambda message: None,
):
    """Write P(water) as a Float32 GeoTIFF (and optionally a Byte water mask).

    Pixels where any band the model uses is nodata, NaN or infinite get PROBABILITY_NODATA
    (and MASK_NODATA in the mask). Outputs appear under their names only when complete.
    """
    started = time.perf_counter()
    dataset = open_raster(raster_path)
    check_model_fits_raster(model, dataset, f"'{os.path.basename(str(raster_path))}'")
    kernel = ProbabilityKernel(model, device)
    nodata = nodata_values(dataset, model.bands)
    log(f"Predicting with the {model.kind} on {kernel.device.type.upper()}.")

    with ExitStack() as stack:
        partial = stack.enter_context(atomic_output(output_path))
        partial_mask = stack.enter_context(atomic_output(mask_path)) if mask_path else None
        output = create_like(dataset, partial, 1, gdal.GDT_Float32, PROBABILITY_NODATA)
        mask = create_like(dataset, partial_mask, 1, gdal.GDT_Byte, MASK_NODATA) if mask_path else None
        valid_pixels = water_pixels = 0
        windows = row_windows(dataset)
        for index, (row, rows) in enumerate(windows):
            if is_canceled():
                raise Canceled()
            probability, valid = predict_window(dataset, model.bands, nodata, kernel, row, rows)
            valid_count = int(np.count_nonzero(valid))
            water = valid & (probability >= threshold)
            valid_pixels += valid_count
            water_pixels += int(np.count_nonzero(water))
            probability[~valid] = PROBABILITY_NODATA
            _write(output, probability, row)
            if mask is not None:
                mask_values = water.astype(np.uint8)
                mask_values[~valid] = MASK_NODATA
                _write(mask, mask_values, row)
            progress((index + 1) / len(windows))
        gdal.ErrorReset()
        output.FlushCache()
        if mask is not None:
            mask.FlushCache()
        output = mask = None  # closes the files before they are moved into place
        if gdal.GetLastErrorType() >= gdal.CE_Failure:
            raise WaterLogRegError(f"Writing the output failed: {gdal.GetLastErrorMsg()}")
    summary = PredictionSummary(
        dataset.RasterXSize * dataset.RasterYSize, valid_pixels, water_pixels,
        kernel.device.type, time.perf_counter() - started,
    )
    log(f"{summary.valid_pixels} valid pixels, {100 * summary.water_fraction:.2f} % water "
        f"(P ≥ {threshold:g}), {summary.seconds:.2f} s.")
    return summary


def predict_window(dataset, bands, nodata, kernel, row, rows):
    """(probability float32 (rows, width), valid bool (rows, width)) for one row window."""
    width = dataset.RasterXSize
    gdal.ErrorReset()
    values = dataset.ReadAsArray(0, row, width, rows, band_list=bands)
    if values is None:
        raise WaterLogRegError(f"Reading rows {row}–{row + rows} failed: {gdal.GetLastErrorMsg()}")
    values = values.reshape(len(bands), rows, width)
    valid = valid_pixel_mask(values, nodata)
    features = np.ascontiguousarray(values.reshape(len(bands), -1), dtype=np.float32)
    # Pixels that are not valid may hold NaN or ±inf; zero them so no NaN reaches the maths.
    features[:, ~valid.ravel()] = 0
    probability = kernel(features).reshape(rows, width)
    valid &= np.isfinite(probability)
    return probability, valid


def _write(dataset, values, row):
    gdal.ErrorReset()
    if dataset.GetRasterBand(1).WriteArray(values, 0, row) != 0:
        raise WaterLogRegError(f"Writing the output failed: {gdal.GetLastErrorMsg()}")
