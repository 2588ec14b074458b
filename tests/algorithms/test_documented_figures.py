"""The figures a reader copies from docs/COMMAND_LINE.md, where they come from the bundled
Landsat 8 clip (README's demo figures are checked in test_real_scene.py): read out of the
document (so an edit to it is checked too) and compared with what the documented command gives,
through processing.run (the algorithm qgis_process runs).
"""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "demo", "data")
SCENE = os.path.join(DATA, "landsat8_reservoir.tif")


def document(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def stated(pattern, text, what):
    found = re.search(pattern, text)
    assert found, f"{what}: the document no longer says it in the form this test reads"
    return found.groups()


@pytest.fixture(scope="module")
def documented_run(provider, tmp_path_factory):
    """docs/COMMAND_LINE.md's one-click command on the bundled clip, then the independent
    validation polygons assessed on its map (README's `make demo` figures)."""
    import processing

    if not os.path.exists(SCENE):
        pytest.skip("demo/data has no Landsat scene")
    folder = tmp_path_factory.mktemp("documented")
    classified = processing.run("waterlogreg:classifywater", {
        "INPUT": SCENE, "POLYGONS": os.path.join(DATA, "training_polygons.gpkg"), "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "water.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
    })
    assessed = processing.run("waterlogreg:assessaccuracy", {
        "INPUT": classified["OUTPUT"], "POLYGONS": os.path.join(DATA, "validation_polygons.gpkg"),
        "CLASS_FIELD": "class",
    })
    return classified, assessed


def test_command_line_overall_accuracy(documented_run):
    classified, _ = documented_run
    (accuracy,) = stated(r"`OVERALL_ACCURACY: ([0-9.]+)` on the held-out polygons", document("docs/COMMAND_LINE.md"),
                         "COMMAND_LINE.md's OVERALL_ACCURACY")
    assert classified["OVERALL_ACCURACY"] == pytest.approx(float(accuracy), abs=0.5 * 10 ** -max(
        len(accuracy.partition(".")[2]), 4))


def test_command_line_water_fraction(documented_run):
    classified, _ = documented_run
    (fraction,) = stated(r"`WATER_FRACTION: ([0-9.]+)`", document("docs/COMMAND_LINE.md"),
                         "COMMAND_LINE.md's WATER_FRACTION")
    digits = len(fraction.partition(".")[2])
    assert classified["WATER_FRACTION"] == pytest.approx(float(fraction), abs=0.5 * 10 ** -digits)


def test_command_line_listing_is_the_providers(provider):
    text = document("docs/COMMAND_LINE.md")
    (block,) = stated(r"(?s)The provider lists:\s*```\s*\n(.*?)```", text, "the provider listing")
    lines = [line.strip() for line in block.strip().splitlines()]
    assert lines[0] == provider.name()
    listed = [tuple(line.split("\t")) for line in lines[1:]]
    assert listed == sorted((algorithm.id(), algorithm.displayName()) for algorithm in provider.algorithms())


