"""Fixtures for the tests that start real programs (helpers in desktop_programs.py)."""

import subprocess

import pytest
from desktop_programs import PLUGIN_ZIP, ROOT, install_from_zip


@pytest.fixture(scope="session")
def plugin_zip():
    """The ZIP of the code as it is now."""
    subprocess.run(["make", "-s", "package"], cwd=ROOT, check=True, capture_output=True, timeout=60)
    return PLUGIN_ZIP


@pytest.fixture
def qgis_config(plugin_zip, tmp_path):
    """A throw-away QGIS settings folder (QGIS_CUSTOM_CONFIG_PATH) whose default profile has the
    plugin unzipped but not yet enabled."""
    config = tmp_path / "qgis-config"
    install_from_zip(plugin_zip, str(config / "profiles" / "default"), enable=False)
    return str(config)
