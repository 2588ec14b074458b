"""Which field of a polygon layer says what each polygon is: the algorithms' choice when CLASS_FIELD
is empty (the dialog, where the layer has no field 'class'), and the names that mark a field as
numbering the polygons instead."""

import re

FEATURE_ID_NAMES = re.compile(r"^(fid|id|gid|ogc_fid|objectid|pk|pkuid|rowid)$", re.IGNORECASE)
# In this order: 'class' (also 'classe', 'Class_2') beats 'label', which beats 'type' ('landcover_type').
CLASS_WORDS = ("class", "label", "type")


def preferred_class_field(fields):
    """The name among `fields`, (name, is_text) pairs in layer order, to take as the class field:
    the first named like class / label / type (case-insensitive), else the first text field,
    never one named like a feature id; None when there is none."""
    candidates = [(name, is_text) for name, is_text in fields if not FEATURE_ID_NAMES.match(name)]
    for word in CLASS_WORDS:
        for name, _ in candidates:
            if word in name.lower():
                return name
    return next((name for name, is_text in candidates if is_text), None)
