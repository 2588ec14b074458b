"""water_logreg_plugin: map water with a PyTorch logistic regression, from QGIS Processing."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    # First, so a torch the installer put into this profile imports in the window and in
    # qgis_process alike.
    from .installer.profile import put_dependencies_on_path

    put_dependencies_on_path()
    from .plugin import WaterLogRegPlugin

    return WaterLogRegPlugin(iface)
