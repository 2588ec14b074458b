"""What the plugin repository and the Processing dialogs show: metadata, help, icons."""

import configparser
import os

import pytest
from desktop_programs import ALGORITHMS, ROOT

REPOSITORY_FIELDS = ("name", "description", "about", "version", "author", "email", "repository", "tracker",
                     "tags", "license", "changelog", "hasProcessingProvider", "qgisMinimumVersion")


def test_metadata_is_complete_for_the_plugin_repository():
    metadata = configparser.ConfigParser()
    metadata.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    general = metadata["general"]
    assert [field for field in REPOSITORY_FIELDS if not general.get(field, "").strip()] == []
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["repository"].startswith("https://") and general["tracker"].startswith("https://")
    assert "@" in general["email"]
    assert general["changelog"].startswith(general["version"])
    assert os.path.exists(os.path.join(ROOT, "water_logreg_plugin", general["icon"]))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_and_parameter_says_what_to_give(provider, name):
    algorithm = provider.algorithm(name)
    assert len(algorithm.shortHelpString()) > 200
    assert "Output" in algorithm.shortHelpString()
    assert not algorithm.icon().isNull()
    assert [parameter.name() for parameter in algorithm.parameterDefinitions() if len(parameter.help()) < 20] == []


def test_provider_has_an_icon(provider):
    assert not provider.icon().isNull()
    assert os.path.exists(provider.svgIconPath())
