"""What the tools over dates (occurrence, change, water bodies) share on the QGIS side."""

from qgis.core import QgsProcessingException, QgsProcessingParameterNumber

from ..core.callbacks import Callbacks


def described(parameter, text):
    parameter.setHelp(text)
    return parameter


def water_threshold_parameter(name="THRESHOLD"):
    return described(
        QgsProcessingParameterNumber(name, "Water threshold", QgsProcessingParameterNumber.Double, 0.5,
                                     minValue=0, maxValue=1),
        "A pixel is water on a date when its probability is at least this.",
    )


def feedback_callbacks(feedback):
    """The core's Callbacks, reporting into the Processing feedback."""
    return Callbacks(progress=lambda fraction: feedback.setProgress(100.0 * fraction),
                     is_canceled=feedback.isCanceled, log=feedback.pushInfo)


def gdal_source(layer, name):
    """The file GDAL reads behind a raster layer."""
    if layer is None:
        raise QgsProcessingException(f"The raster given as {name} cannot be loaded; choose a raster layer or file.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The raster '{layer.name()}' comes from the '{layer.providerType()}' provider; this tool reads "
            "rasters with GDAL. Save it as a GeoTIFF first (Export → Save As)."
        )
    return layer.source()
