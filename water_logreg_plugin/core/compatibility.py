"""The contract between a model file and a raster: what the model records of the raster it was
trained on, and the check that another raster is of the same kind. Both halves live here, so
the fields written and the fields checked cannot drift apart."""

import os

from osgeo import gdal

from .errors import WaterLogRegError
from .raster import open_raster


def raster_description(raster):
    """What the model file records of the raster (a path, or a dataset open_raster gave) it was trained on."""
    dataset = open_raster(raster)
    return {
        "source_raster": os.path.basename(dataset.GetDescription()),
        "band_count": dataset.RasterCount,
        "data_type": gdal.GetDataTypeName(dataset.GetRasterBand(1).DataType),
        # The bands' descriptions (e.g. 'green (B3)'), so the report's plots can say which is which.
        "band_names": [dataset.GetRasterBand(number).GetDescription() for number in range(1, dataset.RasterCount + 1)],
    }


def check_model_fits_raster(model, dataset, raster_name="the raster"):
    """Refuse a raster that lacks the model's bands, or whose band count or data type differs from training."""
    missing = [band for band in model.bands if band > dataset.RasterCount]
    if missing:
        raise WaterLogRegError(
            f"The model uses band{'s' if len(model.bands) > 1 else ''} "
            f"{', '.join(map(str, model.bands))}, but {raster_name} has only "
            f"{dataset.RasterCount} band{'s' if dataset.RasterCount != 1 else ''}. Use a raster "
            "with the same bands as the one the model was trained on."
        )
    trained_band_count = _whole_number(model.training.get("band_count"))
    if trained_band_count and trained_band_count != dataset.RasterCount:
        raise WaterLogRegError(
            f"The model was trained on a raster of {trained_band_count} bands, but {raster_name} "
            f"has {dataset.RasterCount}, so the same band numbers may hold other wavelengths. "
            "Predict only on rasters with the same bands as the one the model was trained on."
        )
    trained_type = str(model.training.get("data_type") or "").strip()
    actual_type = gdal.GetDataTypeName(dataset.GetRasterBand(model.bands[0]).DataType)
    # Compared as GDAL names, whatever the case a hand edit left ('uint16' is 'UInt16').
    if trained_type and trained_type.lower() != actual_type.lower():
        raise WaterLogRegError(
            f"The model was trained on {trained_type} pixels, but {raster_name} holds "
            f"{actual_type} pixels (other units or scaling); predict only on rasters of the "
            "kind the model was trained on."
        )


def _whole_number(value):
    """A band count as recorded, also where a hand edit made it text ('3') or a float (3.0);
    None where it is no whole number (then it is not checked)."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number > 0 else None
