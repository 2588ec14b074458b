"""The current QGIS profile's dependencies folder, on sys.path, and the installer's settings."""

import importlib.util
import os
import sys

from qgis.core import QgsApplication, QgsSettings

from ..core.install.locations import add_to_import_path, dependencies_folder, inside, qgis_python
from ..core.install.plan import BUILDS, PipPlan, protected_pins

SETTINGS_GROUP = "water_logreg_plugin/installer"


def profile_dependencies_folder():
    """python/dependencies of the profile QGIS (or qgis_process) runs with."""
    return dependencies_folder(os.path.normpath(QgsApplication.qgisSettingsDirPath()))


def put_dependencies_on_path():
    """At plugin load, in the window and headless alike: a torch the installer put into this
    profile imports everywhere the profile is used (training in QGIS, qgis_process)."""
    folder = profile_dependencies_folder()
    if os.path.isdir(folder):
        add_to_import_path(folder)
    return folder


def torch_origin():
    """Where `import torch` would load from, or None where it would fail."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    return spec.origin if spec else None


def torch_from_elsewhere():
    """True where torch imports from outside this profile's dependencies folder (the user's own
    pip install, a distribution package): then the installer has nothing to offer."""
    origin = torch_origin()
    return origin is not None and not inside(origin, profile_dependencies_folder())


def read_setting(name, default=""):
    return QgsSettings().value(f"{SETTINGS_GROUP}/{name}", default, type=str)


def write_setting(name, value):
    QgsSettings().setValue(f"{SETTINGS_GROUP}/{name}", value)


def qgis_protected_pins():
    """core.install.plan.protected_pins of QGIS's sys.path without the dependencies folder: what
    QGIS itself has. Reading every distribution takes a moment; the dialog reads it once."""
    folder = os.path.abspath(profile_dependencies_folder())
    return tuple(protected_pins([entry for entry in sys.path if os.path.abspath(entry or ".") != folder]))


def current_plan(build_key=None, index_url=None, extra_options=None, protected=None):
    """The install the settings (or the values given) describe, for this QGIS's Python."""
    folder = profile_dependencies_folder()
    build = BUILDS.get(build_key or read_setting("build", "cpu"), BUILDS["cpu"])
    return PipPlan(
        python=qgis_python(), dependencies_folder=folder, build=build,
        index_url=(read_setting("index_url") if index_url is None else index_url).strip(),
        extra_options=(read_setting("pip_options") if extra_options is None else extra_options).strip(),
        protected=qgis_protected_pins() if protected is None else protected,
    )
