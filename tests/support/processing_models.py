"""Processing models built as the Model Designer builds them, for tests inside and outside QGIS desktop."""

from qgis.core import (
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
)


def predict_model():
    """A Processing model built as the Model Designer would: scene and model file in,
    predictwater as its one child, the probability map as the model's output."""
    model = QgsProcessingModelAlgorithm("Predict one scene", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("scene", "Scene"), QgsProcessingModelParameter("scene"))
    model.addModelParameter(QgsProcessingParameterFile("model", "Model file", extension="json"),
                            QgsProcessingModelParameter("model"))
    child = QgsProcessingModelChildAlgorithm("waterlogreg:predictwater")
    child.setChildId("predict")
    child.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("scene")])
    child.addParameterSources("MODEL", [QgsProcessingModelChildParameterSource.fromModelParameter("model")])
    output = QgsProcessingModelOutput("water", "Water")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"water": output})
    model.addChildAlgorithm(child)
    model.updateDestinationParameters()
    return model
