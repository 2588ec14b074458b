"""How outputs look when they load into the project: a water ramp and a mask palette."""

import threading

from qgis.core import (
    QgsColorRampShader,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt import sip
from qgis.PyQt.QtGui import QColor

PROBABILITY_RAMP = (
    (0.0, "#f2efe4", "0 land"),
    (0.25, "#d9e7c4", "0.25"),
    (0.5, "#9ecae1", "0.5"),
    (0.75, "#4292c6", "0.75"),
    (1.0, "#08306b", "1 water"),
)


def style_probability(layer):
    _style_ramp(layer, PROBABILITY_RAMP, 0.0, 1.0)


def _style_ramp(layer, stops, low, high):
    """A pseudo-colour ramp over [low, high] through (value, colour, label) stops."""
    shader_function = QgsColorRampShader(low, high)
    shader_function.setColorRampType(QgsColorRampShader.Type.Interpolated)
    shader_function.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(value, QColor(color), label) for value, color, label in stops]
    )
    shader = QgsRasterShader(low, high)
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_mask(layer):
    classes = [
        QgsPalettedRasterRenderer.Class(0, QColor("#f2efe4"), "land"),
        QgsPalettedRasterRenderer.Class(1, QColor("#08519c"), "water"),
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.triggerRepaint()


def style_index(layer, threshold=0.0):
    """A diverging ramp for NDWI / MNDWI over [-1, 1]: brown (land) through white at the
    threshold to blue (water), so blue is exactly what the mask calls water."""
    threshold = min(max(float(threshold), -0.99), 0.99)
    stops = (
        (-1.0, "#8c510a", "-1 land"),
        ((threshold - 1) / 2, "#d8b365", f"{(threshold - 1) / 2:.2f}"),
        (threshold, "#f5f5f5", f"{threshold:.2f} threshold"),
        ((threshold + 1) / 2, "#6baed6", f"{(threshold + 1) / 2:.2f}"),
        (1.0, "#08306b", "1 water"),
    )
    _style_ramp(layer, stops, -1.0, 1.0)


OCCURRENCE_RAMP = (
    (0.0, "#f7fbff", "0 never water"),
    (0.5, "#6baed6", "0.5"),
    (1.0, "#08306b", "1 always water"),
)


def style_occurrence(layer):
    _style_ramp(layer, OCCURRENCE_RAMP, 0.0, 1.0)


def style_change(layer):
    from .core.dates.water_change import CHANGE_CLASSES

    classes = [QgsPalettedRasterRenderer.Class(value, QColor(colour), name)
               for value, (name, colour) in CHANGE_CLASSES.items()]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.triggerRepaint()


def style_water_bodies(layer):
    from qgis.core import QgsFillSymbol

    layer.renderer().setSymbol(QgsFillSymbol.createSimple(
        {"color": "#6baed6", "outline_color": "#08306b", "outline_width": "0.3"}))
    layer.triggerRepaint()


# The polygon check's verdicts: (fill, outline); a suspect polygon stands out, an empty one is grey.
VERDICT_COLOURS = {
    "ok": ("#00000000", "#238b45"),
    "suspect": ("#e31a1c99", "#a50f15"),
    "no valid pixel": ("#96969699", "#525252"),
    "ignored": ("#00000000", "#969696"),
}


def style_polygon_check(layer):
    """OUTPUT_POLYGON_CHECK by verdict: suspect red, no valid pixel grey, ok outlined green."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsFillSymbol, QgsRendererCategory

    categories = [
        QgsRendererCategory(verdict, QgsFillSymbol.createSimple(
            {"color": fill, "outline_color": outline, "outline_width": "0.5"}), verdict)
        for verdict, (fill, outline) in VERDICT_COLOURS.items()
    ]
    layer.setRenderer(QgsCategorizedSymbolRenderer("verdict", categories))
    layer.triggerRepaint()


class _StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Styles and names one output of one run when Processing loads it. It holds only its style
    function and a name: postProcessLayer uses its own arguments, never the run's feedback,
    context or layers, which QGIS may have deleted by then (3.40+ runs batch rows as tasks)."""

    def __init__(self, style, name):
        super().__init__()
        self.style = style
        self.name = name

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if layer is None or not layer.isValid():
            return
        if self.name:
            layer.setName(self.name)
        self.style(layer)


# The post-processors handed to a context, by id, until QGIS has deleted their C++ part: QGIS
# keeps only C++ pointers, and a Python subclass's object must live as long as its C++ part.
# Runs can hand theirs over at the same time (tasks, a model's children), hence the lock.
_HANDED_OVER = {}
_HANDED_OVER_LOCK = threading.Lock()


def layer_name(scene, what):
    """The name of a loaded output: its scene first, so ten batch rows give ten names."""
    return f"{scene} — {what}" if scene else what


def style_on_load(context, output_id, style, name=None):
    """Style `output_id` with `style(layer)` and name it `name` when Processing loads it into
    the project (the dialog, a batch row, a model, processing.runAndLoadResults).

    A new post-processor per run and output: the context takes it over and deletes it with
    itself, so one instance must never serve two runs. Neither the algorithm nor the
    LayerDetails wrapper outlives the run (processing.run() runs a copy of the algorithm, in a
    temporary context, before the layers load), so the Python object is kept in _HANDED_OVER
    until QGIS has deleted its C++ part. Called from processAlgorithm, which 3.40+ runs in a
    background task for a dialog run or a batch row. Returns the post-processor (None when the
    output is not loaded).
    """
    if not output_id or not context.willLoadLayerOnCompletion(output_id):
        return None
    details = context.layerToLoadOnCompletionDetails(output_id)
    if name:
        # forceName: QGIS would otherwise name a file output after its file and ignore ours.
        details.name = name
        details.forceName = True
    post_processor = _StyleOnLoad(style, name)
    with _HANDED_OVER_LOCK:
        for key in [key for key, kept in _HANDED_OVER.items() if sip.isdeleted(kept)]:
            del _HANDED_OVER[key]
        _HANDED_OVER[id(post_processor)] = post_processor
    details.setPostProcessor(post_processor)
    return post_processor
