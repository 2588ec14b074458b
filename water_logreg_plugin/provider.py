"""The Processing provider "waterlogreg" and its algorithms."""

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms.assess_accuracy import AssessAccuracy
from .algorithms.classify_water import ClassifyWater
from .algorithms.predict_scenes import PredictScenes
from .algorithms.predict_water import PredictWater
from .algorithms.sample_pixels import SamplePixels
from .algorithms.train_model import TrainModel
from .algorithms.water_bodies import WaterBodies
from .algorithms.water_change import WaterChange
from .algorithms.water_index import WaterIndex
from .algorithms.water_occurrence import WaterOccurrence

ICON_PATH = os.path.join(os.path.dirname(__file__), "icon.svg")


class WaterLogRegProvider(QgsProcessingProvider):
    def id(self):
        return "waterlogreg"

    def name(self):
        return "Water mapping (logistic regression)"

    def longName(self):  # noqa: N802
        return "Water mapping with a PyTorch logistic regression"

    def icon(self):
        return QIcon(ICON_PATH)

    def svgIconPath(self):  # noqa: N802
        return ICON_PATH

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in (SamplePixels(), TrainModel(), PredictWater(), PredictScenes(), ClassifyWater(),
                          AssessAccuracy(), WaterIndex(), WaterOccurrence(), WaterChange(), WaterBodies()):
            self.addAlgorithm(algorithm)
