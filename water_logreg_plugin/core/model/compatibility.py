"""The contract between a model file and a raster: what the model records of the raster it was
trained on, and the check that another raster is of the same kind. Both halves live here, so
the fields written and the fields checked cannot drift apart."""

import math
import os

from osgeo import gdal

from ..errors import WaterLogRegError
from ..raster.reading import open_raster


def raster_description(raster):
    """What the model file records of the raster (a path, or a dataset open_raster gave) it was trained on."""
    dataset = open_raster(raster)
    return {
        "source_raster": os.path.basename(dataset.GetDescription()),
        "band_count": dataset.RasterCount,
        "data_type": gdal.GetDataTypeName(dataset.GetRasterBand(1).DataType),
        # The bands' descriptions (e.g. 'green (B3)'), so the report's plots can say which is which.
        "band_names": [dataset.GetRasterBand(number).GetDescription() for number in range(1, dataset.RasterCount + 1)],
        # Models learn from the stored numbers, not scale × value + offset: a raster whose bands
        # say another scale or offset holds other reflectances in the same numbers, so it is refused.
        "scale_offset": scale_offset(dataset),
    }


def scale_offset(dataset):
    """[[scale, offset], …] a band, or None where every band has scale 1 and offset 0 (or none)."""
    pairs = [[dataset.GetRasterBand(number).GetScale() or 1.0, dataset.GetRasterBand(number).GetOffset() or 0.0]
             for number in range(1, dataset.RasterCount + 1)]
    return None if all(pair == [1.0, 0.0] for pair in pairs) else pairs


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
    _check_scale_offset(model, dataset, raster_name)
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


def _check_scale_offset(model, dataset, raster_name):
    trained, actual = model.training.get("scale_offset"), scale_offset(dataset)
    if not isinstance(trained, list) and trained is not None:
        return  # metadata edited into something else: not checked, as an unknown band count is not

    def pair(pairs, band):
        try:
            return [float(pairs[band - 1][0]), float(pairs[band - 1][1])] if pairs else [1.0, 0.0]
        except (IndexError, TypeError, ValueError):
            return None

    for band in model.bands:
        expected, found = pair(trained, band), pair(actual, band)
        if expected is not None and found is not None and not all(
                math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(expected, found)):
            raise WaterLogRegError(
                f"Band {band} of {raster_name} has scale {found[0]:g} and offset {found[1]:g}, but the model "
                f"was trained on a band of scale {expected[0]:g} and offset {expected[1]:g}: the same stored "
                "numbers mean other values. Predict only on rasters of the kind the model was trained on."
            )
