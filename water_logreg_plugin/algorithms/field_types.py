"""Field types in the form the running QGIS takes them.

QGIS 3.38 moved QgsField to QMetaType.Type, the only form QGIS 4 (Qt6, where QVariant.Type is
gone) knows; QGIS 3.22–3.36 take QVariant.Type. The numbers agree, the Python types do not, so
every field the plugin makes or compares goes through these names.
"""

from qgis.core import Qgis
from qgis.PyQt.QtCore import QMetaType

if Qgis.QGIS_VERSION_INT >= 33800:
    INTEGER = QMetaType.Type.Int
    LONG = QMetaType.Type.LongLong
    DOUBLE = QMetaType.Type.Double
    TEXT = QMetaType.Type.QString
    BOOLEAN = QMetaType.Type.Bool
else:
    from qgis.PyQt.QtCore import QVariant

    INTEGER = QVariant.Int  # noqa: QGS402 — QGIS before 3.38 takes nothing else
    LONG = QVariant.LongLong  # noqa: QGS402
    DOUBLE = QVariant.Double  # noqa: QGS402
    TEXT = QVariant.String  # noqa: QGS402
    BOOLEAN = QVariant.Bool  # noqa: QGS402
