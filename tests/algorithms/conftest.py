"""The good inputs that tests/support/bad_inputs.py spoils, for the tests of bad and odd inputs."""

from collections import namedtuple

import pytest
from support.bad_inputs import Files
from support.synthetic import standard_polygons, water_scene, write_polygons, write_raster


@pytest.fixture(scope="session")
def shared(provider, tmp_path_factory):
    """Samples and a model made once from the good scene, copied into each test's folder."""
    import processing

    folder = tmp_path_factory.mktemp("good")
    bands, _ = water_scene()
    raster = write_raster(folder / "scene.tif", bands)
    polygons = write_polygons(folder / "polygons.gpkg", standard_polygons())
    processing.run("waterlogreg:classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
        "OUTPUT": str(folder / "probability.tif"), "OUTPUT_MODEL": str(folder / "model.json"),
    })
    samples = processing.run("waterlogreg:samplepixels", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class", "OUTPUT": str(folder / "samples.gpkg"),
    })["OUTPUT"]
    return namedtuple("Shared", "bands model samples")(bands, str(folder / "model.json"), samples)


@pytest.fixture
def files(shared, tmp_path):
    yield Files(tmp_path, shared)
    read_only = tmp_path / "read-only"
    if read_only.exists():
        read_only.chmod(0o755)
