"""water_logreg_plugin: map water with a PyTorch logistic regression, from QGIS Processing."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import WaterLogRegPlugin

    return WaterLogRegPlugin(iface)
