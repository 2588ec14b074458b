"""The help page shipped inside the plugin (help/index.html), one section per algorithm, written
from each algorithm's shortHelpString and its parameters' help so the two cannot drift apart
(tests/algorithms/test_help_page.py compares the shipped page with a fresh one). A build-time
script above the provider: the algorithms find the page through algorithms.base.help_url, and
nothing in the plugin imports this module.

Regenerate it after changing a help text: `make help-page`, i.e. `python -m water_logreg_plugin.help_page`.
"""

import html
import os

from qgis.core import QgsProcessingParameterDefinition

from .algorithms.base import HELP_PAGE

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } code { background: #f2f2f2; padding: 0 0.2em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; vertical-align: top; }
th { background: #f2f2f2; text-align: left; } nav li { margin: 0.2em 0; }
"""


def _paragraphs(text):
    return "".join(f"<p>{html.escape(part.strip())}</p>" for part in text.split("\n\n") if part.strip())


def _default(parameter):
    value = parameter.defaultValue()
    if value is None or value == "":
        return ""
    options = getattr(parameter, "options", None)
    if options and isinstance(value, int):
        return html.escape(options()[value])
    return html.escape(str(value))


def _section(algorithm):
    rows = []
    for parameter in algorithm.parameterDefinitions():
        optional = parameter.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
        advanced = parameter.flags() & QgsProcessingParameterDefinition.Flag.FlagAdvanced
        notes = ", ".join(note for note, flag in (("optional", optional), ("advanced", advanced)) if flag)
        rows.append(
            f"<tr><td><code>{parameter.name()}</code></td><td>{html.escape(parameter.description())}"
            f"{f' <em>({notes})</em>' if notes else ''}</td><td>{_default(parameter)}</td>"
            f"<td>{html.escape(parameter.help())}</td></tr>"
        )
    outputs = "".join(
        f"<tr><td><code>{output.name()}</code></td><td>{html.escape(output.description())}</td></tr>"
        for output in algorithm.outputDefinitions()
    )
    return (
        f'<section id="{algorithm.name()}"><h2>{html.escape(algorithm.displayName())}</h2>'
        f"<p><code>{algorithm.id()}</code></p>{_paragraphs(algorithm.shortHelpString())}"
        "<h3>Parameters</h3><table><tr><th>Name</th><th>Label</th><th>Default</th><th>What to give</th></tr>"
        f"{''.join(rows)}</table>"
        f"<h3>Outputs</h3><table><tr><th>Name</th><th>What it is</th></tr>{outputs}</table></section>"
    )


def help_page_html(provider):
    """The whole page for the provider's algorithms, in the Toolbox's order (by display name)."""
    algorithms = sorted(provider.algorithms(), key=lambda algorithm: algorithm.displayName())
    contents = "".join(
        f'<li><a href="#{algorithm.name()}">{html.escape(algorithm.displayName())}</a> '
        f"(<code>{algorithm.id()}</code>)</li>" for algorithm in algorithms
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(provider.name())} — help</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{html.escape(provider.name())}</h1>"
        "<p>Draw polygons over water and over land, fit P(water) = σ(Aᵀx + b) with PyTorch, and map "
        "water in multispectral rasters. Every tool is in the Processing Toolbox under "
        f"<em>{html.escape(provider.name())}</em>; parameter names are what scripts, models and "
        "<code>qgis_process</code> use.</p>"
        f"<nav><ul>{contents}</ul></nav>\n"
        + "\n".join(_section(algorithm) for algorithm in algorithms)
        + "\n</body></html>\n"
    )


def write_help_page(path=HELP_PAGE):
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("waterlogreg")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(help_page_html(provider))
    return path


if __name__ == "__main__":
    from .standalone import start_qgis

    application = start_qgis()
    print(write_help_page())
