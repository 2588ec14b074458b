"""Any output name the disk allows is written (the hidden partial and scratch names stay short),
and a name it does not allow is refused as too long, not blamed on a full disk."""

import os

import pytest
from support.synthetic import water_scene, write_raster

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.maps.predict import predict_water
from water_logreg_plugin.core.model import fit_water_model, load_model, save_model
from water_logreg_plugin.core.raster.writing import partial_path, run_id, scratch_folder

NAME_MAX = 255
AUX_XML = len(".aux.xml")  # what GDAL may add to a partial name


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    bands, truth = water_scene(seed=9)
    model, _ = fit_water_model(bands.reshape(3, -1).T[::20], truth.ravel()[::20], [1, 2, 3],
                               training_info={"data_type": "UInt16"})
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, path)
    return str(path)


def name_of(size, letter="a", extension=".tif"):
    """A file name of `size` bytes (letters of 1 or 2 bytes)."""
    body = size - len(extension)
    return letter * (body // len(letter.encode())) + "b" * (body % len(letter.encode())) + extension


@pytest.mark.parametrize("size", [1 + 4, 100, 120, 121, 230, 254, NAME_MAX])
@pytest.mark.parametrize("letter", ["a", "é"])
def test_every_partial_name_is_legal(tmp_path, size, letter):
    destination = str(tmp_path / name_of(size, letter))
    partial = os.path.basename(partial_path(destination, run_id()))
    assert len(os.fsencode(partial)) + AUX_XML <= NAME_MAX
    assert partial.startswith(".") and partial.endswith(".tif")
    assert os.fsencode(partial).decode("utf-8")  # no character cut in half


def test_two_long_names_that_begin_alike_have_partials_of_their_own(tmp_path):
    first, second = name_of(240, extension="_1.tif"), name_of(240, extension="_2.tif")
    assert partial_path(str(tmp_path / first), "run") != partial_path(str(tmp_path / second), "run")


@pytest.mark.parametrize("size", [230, 254, NAME_MAX])
def test_a_raster_with_the_longest_legal_name_is_written(tmp_path, model_file, size):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=20, cols=20)[0])
    destination = tmp_path / name_of(size)
    predict_water(scene, load_model(model_file), str(destination))
    assert sorted(os.listdir(tmp_path)) == sorted(["scene.tif", destination.name])


def test_a_scratch_folder_beside_the_longest_legal_name(tmp_path):
    destination = str(tmp_path / name_of(NAME_MAX, extension=".csv"))
    with scratch_folder(destination) as folder:
        staged = os.path.join(folder, os.path.basename(destination))
        with open(staged, "w") as handle:
            handle.write("staged")
    assert os.listdir(tmp_path) == []


def test_a_name_the_disk_does_not_allow_is_refused_as_too_long(tmp_path, model_file):
    scene = write_raster(tmp_path / "scene.tif", water_scene(rows=20, cols=20)[0])
    name = name_of(NAME_MAX + 1)
    with pytest.raises(WaterLogRegError) as refusal:
        predict_water(scene, load_model(model_file), str(tmp_path / name))
    assert str(refusal.value) == (
        f"The output name '{name}' is too long: 256 bytes, and file names on this disk can be at most 255 "
        "bytes. Choose a shorter name.")
    assert os.listdir(tmp_path) == ["scene.tif"]
