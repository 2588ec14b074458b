"""How outputs look when they load into the project: a water ramp and a mask palette."""

from qgis.core import (
    QgsColorRampShader,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor

PROBABILITY_RAMP = (
    (0.0, "#f2efe4", "0 land"),
    (0.25, "#d9e7c4", "0.25"),
    (0.5, "#9ecae1", "0.5"),
    (0.75, "#4292c6", "0.75"),
    (1.0, "#08306b", "1 water"),
)


def style_probability(layer):
    shader_function = QgsColorRampShader(0.0, 1.0)
    shader_function.setColorRampType(QgsColorRampShader.Interpolated)
    shader_function.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(value, QColor(color), label) for value, color, label in PROBABILITY_RAMP]
    )
    shader = QgsRasterShader(0.0, 1.0)
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(1.0)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_mask(layer):
    classes = [
        QgsPalettedRasterRenderer.Class(0, QColor("#f2efe4"), "land"),
        QgsPalettedRasterRenderer.Class(1, QColor("#08519c"), "water"),
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.triggerRepaint()


class _StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, style):
        super().__init__()
        self.style = style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if layer is not None and layer.isValid():
            self.style(layer)


# Post-processors must outlive processAlgorithm (QGIS keeps only a C++ pointer), so the
# two instances live here for the life of the plugin.
_POST_PROCESSORS = {"probability": _StyleOnLoad(style_probability), "mask": _StyleOnLoad(style_mask)}


def style_when_loaded(context, output_id, kind):
    """Style `output_id` when Processing loads it into the project (kind: probability or mask)."""
    if output_id and context.willLoadLayerOnCompletion(output_id):
        context.layerToLoadOnCompletionDetails(output_id).setPostProcessor(_POST_PROCESSORS[kind])


OCCURRENCE_RAMP = (
    (0.0, "#f7fbff", "0 never water"),
    (0.5, "#6baed6", "0.5"),
    (1.0, "#08306b", "1 always water"),
)


def style_occurrence(layer):
    shader_function = QgsColorRampShader(0.0, 1.0)
    shader_function.setColorRampType(QgsColorRampShader.Interpolated)
    shader_function.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(value, QColor(color), label) for value, color, label in OCCURRENCE_RAMP]
    )
    shader = QgsRasterShader(0.0, 1.0)
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(1.0)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_change(layer):
    from .core.water_change import CHANGE_CLASSES

    classes = [QgsPalettedRasterRenderer.Class(value, QColor(colour), name)
               for value, (name, colour) in CHANGE_CLASSES.items()]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.triggerRepaint()


def style_water_bodies(layer):
    from qgis.core import QgsFillSymbol

    layer.renderer().setSymbol(QgsFillSymbol.createSimple(
        {"color": "#6baed6", "outline_color": "#08306b", "outline_width": "0.3"}))
    layer.triggerRepaint()


# Post-processors of runs whose results are not yet loaded. QGIS deletes a post-processor once
# it has run (so one instance cannot serve two runs), and the algorithm instance that ran is
# deleted before the results load (QgsProcessingAlgorithm::run works on a copy), so the Python
# side of each run's post-processor lives here until QGIS has deleted its C++ side.
_PENDING_POST_PROCESSORS = []


def style_this_run_when_loaded(context, output_id, style):
    """Style `output_id` with `style(layer)` when Processing loads it into the project, with a
    post-processor of this run's own."""
    from qgis.PyQt import sip

    if output_id and context.willLoadLayerOnCompletion(output_id):
        post_processor = _StyleOnLoad(style)
        _PENDING_POST_PROCESSORS[:] = [done for done in _PENDING_POST_PROCESSORS if not sip.isdeleted(done)]
        _PENDING_POST_PROCESSORS.append(post_processor)
        context.layerToLoadOnCompletionDetails(output_id).setPostProcessor(post_processor)
