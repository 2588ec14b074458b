"""Which Python QGIS runs, where the profile's dependencies folder is, and whether an NVIDIA
driver is there: plain files and paths, so each platform's layout is testable anywhere."""

import importlib
import os
import shutil
import sys

# Beside the profile's python/plugins, as QGIS plugins that install packages (qpip, Deepness)
# keep them: inside the user's profile, never in QGIS's or the system's site-packages.
DEPENDENCIES_FOLDER_NAME = "dependencies"


def qgis_python_for(system, exec_prefix, executable, version_info):
    """The interpreter of the Python QGIS embeds, for `system` as platform.system() says it.

    Inside QGIS sys.executable is QGIS itself (Windows, macOS) or whichever python3 comes first
    on PATH, so it is only the last resort:
    - Windows (OSGeo4W and the standalone installer): python.exe in sys.exec_prefix;
    - macOS (the QGIS.app bundle): Contents/MacOS/bin/python3, sys.exec_prefix being
      Contents/Frameworks/Python.framework/Versions/3.x inside the same bundle;
    - Linux and the rest: sys.exec_prefix/bin/python3.X, the distribution's interpreter.
    """
    major, minor = version_info[:2]
    if system == "Windows":
        candidates = [os.path.join(exec_prefix, "python.exe"), os.path.join(exec_prefix, "python3.exe")]
    elif system == "Darwin":
        bundle_contents = _bundle_contents(executable) or _bundle_contents(exec_prefix)
        candidates = [os.path.join(bundle_contents, "MacOS", "bin", "python3")] if bundle_contents else []
        candidates.append(os.path.join(exec_prefix, "bin", f"python{major}.{minor}"))
    else:
        candidates = [os.path.join(exec_prefix, "bin", f"python{major}.{minor}"),
                      os.path.join(exec_prefix, "bin", "python3")]
    return next((path for path in candidates if os.path.isfile(path)), executable)


def _bundle_contents(path):
    """…/QGIS.app/Contents for a path inside a macOS application bundle, else None."""
    parts = os.path.normpath(path).split(os.sep)
    for index, part in enumerate(parts[:-1]):
        if part.endswith(".app") and parts[index + 1] == "Contents":
            return os.sep.join(parts[:index + 2]) or os.sep
    return None


def qgis_python():
    """The interpreter of the Python this process runs (QGIS's own, inside QGIS)."""
    import platform

    return qgis_python_for(platform.system(), sys.exec_prefix, sys.executable, sys.version_info)


def dependencies_folder(profile_folder):
    """The folder of a QGIS profile that holds the packages the plugin installs."""
    return os.path.join(profile_folder, "python", DEPENDENCIES_FOLDER_NAME)


def inside(path, folder):
    """Whether `path` lies inside `folder` (…/dependencies-old is beside …/dependencies, not in it)."""
    return os.path.abspath(path).startswith(os.path.abspath(folder) + os.sep)


def add_to_import_path(folder):
    """Put `folder` first on sys.path (once) and make Python look again, so a package installed
    there while QGIS runs imports in the same session. First, because the installer only puts
    there what QGIS's Python lacks or has too old for torch (never numpy or another compiled
    package QGIS's own libraries use: plan.protected_pins keeps those out)."""
    folder = os.path.abspath(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    # A folder that did not exist when Python first looked is cached as "nothing here".
    sys.path_importer_cache.pop(folder, None)
    importlib.invalidate_caches()


def remove_from_import_path(folder):
    folder = os.path.abspath(folder)
    while folder in sys.path:
        sys.path.remove(folder)
    sys.path_importer_cache.pop(folder, None)
    importlib.invalidate_caches()


def nvidia_driver_found(proc_version="/proc/driver/nvidia/version", which=shutil.which):
    """True where an NVIDIA driver is installed: Linux's driver file, or nvidia-smi on PATH
    (Windows installs nvidia-smi.exe with the driver)."""
    return os.path.exists(proc_version) or bool(which("nvidia-smi") or which("nvidia-smi.exe"))
