"""The Processing dialog's CLASS_FIELD widget: when the polygon layer changes, it offers the
layer's class-like field (core.learning.class_field.preferred_class_field) instead of leaving it empty.

QGIS 3.22's own field widget (C++) only knows the parameter's static default, 'class', and
shows nothing where the layer lacks it. Only the standard dialog gets this wrapper (QGIS's
Python field wrapper, deprecated but kept to 4.0, with the choice added); the batch panel and
the modeler get QGIS's own widget, made as WidgetWrapperFactory.create_wrapper makes it.
qgis_process and processing.run use no widget: there the default stays 'class'.
Imported only by the dialog, through the parameter's metadata (parameters.class_field_parameter).
"""

from processing.gui.wrappers import DIALOG_MODELER, DIALOG_STANDARD, TableFieldWidgetWrapper, dialogTypes
from qgis.gui import QgsGui

from ..core.learning.class_field import preferred_class_field
from . import field_types


class ClassFieldWidgetWrapper(TableFieldWidgetWrapper):
    def __new__(cls, param, dialog, row=0, col=0, **kwargs):
        kind = dialogTypes.get(dialog.__class__.__name__, DIALOG_STANDARD)
        if kind == DIALOG_STANDARD:
            return super().__new__(cls)
        # Elsewhere QGIS's own wrapper: returned from __new__, it is used as is (no __init__ here).
        registry = QgsGui.processingGuiRegistry()
        if kind == DIALOG_MODELER:
            return registry.createModelerParameterWidget(dialog.model, dialog.childId, param, dialog.context)
        wrapper = registry.createParameterWidgetWrapper(param, kind)
        wrapper.setDialog(dialog)
        return wrapper

    def refreshItems(self):  # noqa: N802
        """Keeps the user's field where the new layer has it, else takes the preferred one."""
        picked = self.widget.currentField()
        super().refreshItems()  # the layer's fields, then the static default where the layer has it
        if self._layer is None:
            return
        names = self._layer.fields().names()
        choice = picked if picked in names else preferred_class_field(
            [(field.name(), field.type() == field_types.TEXT) for field in self._layer.fields()])
        if choice:
            self.widget.setField(choice)
