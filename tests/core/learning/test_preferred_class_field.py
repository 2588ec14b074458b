"""The class field taken when CLASS_FIELD is empty: class / label / type by name, else the first
text field, never an id."""

import pytest

from water_logreg_plugin.core.learning.class_field import preferred_class_field

TEXT, NUMBER = True, False


@pytest.mark.parametrize(("fields", "expected"), [
    ([("fid", NUMBER), ("class", TEXT)], "class"),
    ([("fid", NUMBER), ("Class", NUMBER)], "Class"),
    ([("fid", NUMBER), ("name", TEXT), ("classe", TEXT)], "classe"),
    ([("fid", NUMBER), ("name", TEXT), ("landcover_type", TEXT)], "landcover_type"),
    ([("fid", NUMBER), ("LABEL", TEXT)], "LABEL"),
    ([("type", TEXT), ("label", TEXT), ("class", NUMBER)], "class"),
    ([("type", TEXT), ("label", TEXT)], "label"),
    ([("fid", NUMBER), ("notes", TEXT), ("remarks", TEXT)], "notes"),
    ([("fid", NUMBER), ("area", NUMBER), ("notes", TEXT)], "notes"),
    ([("id", TEXT), ("notes", TEXT)], "notes"),
    ([("fid", NUMBER), ("area", NUMBER)], None),
    ([("fid", TEXT)], None),
    ([], None),
])
def test_preferred_class_field(fields, expected):
    assert preferred_class_field(fields) == expected
