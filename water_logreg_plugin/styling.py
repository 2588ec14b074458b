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
