"""The Help button of every algorithm opens its own section of the page shipped in the plugin."""

import html
import re
from pathlib import Path

import pytest
from qgis.PyQt.QtCore import QUrl

from water_logreg_plugin.algorithms.base import HELP_PAGE
from water_logreg_plugin.help_page import help_page_html

ALGORITHMS = ["assessaccuracy", "classifywater", "predictscenes", "predictwater", "samplepixels", "trainmodel",
              "waterindex"]


def test_the_shipped_page_is_the_one_the_help_texts_make(provider):
    """Edit a help text, run `make help-page`; otherwise this fails."""
    assert Path(HELP_PAGE).read_text(encoding="utf-8") == help_page_html(provider)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_help_url_opens_the_algorithms_section_of_a_local_file(provider, name):
    algorithm = provider.algorithm(name)
    url = QUrl(algorithm.helpUrl())
    assert url.isLocalFile() and url.fragment() == name
    page = Path(url.toLocalFile())
    assert page.is_file() and page.parent.parent.name == "water_logreg_plugin"
    text = page.read_text(encoding="utf-8")
    section = re.search(rf'<section id="{name}">(.*?)</section>', text, re.S).group(1)
    assert algorithm.displayName() in section
    first_paragraph = algorithm.shortHelpString().split("\n\n")[0]
    assert html.escape(first_paragraph) in section
    for parameter in algorithm.parameterDefinitions():
        assert f"<code>{parameter.name()}</code>" in section

