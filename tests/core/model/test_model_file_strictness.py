"""A model file holds numbers where numbers go, in UTF-8, with at most MAX_LAYERS layers and a
GDAL data type: anything else is refused, saying what is wrong."""

import json

import numpy as np
import pytest
from support.synthetic import water_scene

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.model import fit_water_model, load_model, save_model
from water_logreg_plugin.core.settings import parse_hidden_layers

ADVICE = "; choose a model file saved by 'Train water model' or 'Classify water'."

# Rows for docs/BAD_INPUT.md's "Refused" table (write_bad_input_table.py collects them);
# all through Predict water probability.
REFUSED_ROWS = [
    ("Model file with its weights as text ([[\"0.5\", …]])", ("predictwater",),
     "'<folder>/model.json' is not a usable water model: its layer 1 weight holds text (numbers in quotes), "
     "not numbers" + ADVICE),
    ("Model file with its weights as true/false", ("predictwater",),
     "'<folder>/model.json' is not a usable water model: its layer 1 weight holds true or false, not numbers"
     + ADVICE),
    ("Model file saved as UTF-16 (Notepad's 'Unicode')", ("predictwater",),
     "'<folder>/model.json' is JSON text in UTF-16, but a model file is JSON in UTF-8; save it again as UTF-8 "
     "(Notepad: File ‣ Save As, Encoding UTF-8), or choose the model file the plugin saved."),
    ("Model file with 65 layers", ("predictwater",),
     "'<folder>/model.json' is not a usable water model: it has 65 layers, too many layers: this plugin "
     "predicts with at most 64. Train a model with fewer hidden layers (HIDDEN_LAYERS)."),
    ("Model file whose training data_type is 123", ("predictwater",),
     "'<folder>/model.json' is not a usable water model: its training data type 123 is not a GDAL data type "
     "(Byte, Int16, UInt16, Float32, …); the file is damaged or was edited by hand. Correct it to the data "
     "type of the raster it was trained on, or train the model again."),
]


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    bands, truth = water_scene(seed=9)
    model, _ = fit_water_model(bands.reshape(3, -1).T[::20], truth.ravel()[::20], [1, 2, 3],
                               training_info={"data_type": "UInt16"})
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, path)
    return json.loads(path.read_text())


def refusal(tmp_path, document, encoding="utf-8"):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document), encoding=encoding)
    with pytest.raises(WaterLogRegError) as refused:
        load_model(str(path))
    return str(refused.value)


def expected(index, tmp_path):
    return REFUSED_ROWS[index][2].replace("<folder>", str(tmp_path))


def edited(document, change):
    copy = json.loads(json.dumps(document))
    change(copy)
    return copy


def test_weights_as_text_are_refused(tmp_path, document):
    def quoted(copy):
        copy["layers"][0]["weight"] = [[str(value) for value in row] for row in copy["layers"][0]["weight"]]
    assert refusal(tmp_path, edited(document, quoted)) == expected(0, tmp_path)


@pytest.mark.parametrize("where", ["weight", "bias", "mean"])
def test_true_and_false_are_not_numbers(tmp_path, document, where):
    def booleans(copy):
        if where == "weight":
            copy["layers"][0]["weight"][0][1] = True  # among numbers: numpy would take it as 1
        elif where == "bias":
            copy["layers"][0]["bias"] = [True]
        else:
            copy["standardization"]["mean"][2] = False
    message = refusal(tmp_path, edited(document, booleans))
    name = {"weight": "layer 1 weight", "bias": "layer 1 bias", "mean": "mean"}[where]
    assert message == expected(1, tmp_path).replace("layer 1 weight", name)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_said_to_be_utf16(tmp_path, document, encoding):
    assert refusal(tmp_path, document, encoding) == expected(2, tmp_path)


def test_65_layers_are_too_many(tmp_path, document):
    def deep(copy):
        hidden = {"weight": [[0.1]], "bias": [0.0]}
        copy["layers"] = [{"weight": [[0.1, 0.1, 0.1]], "bias": [0.0]}] + [hidden] * 64
    assert refusal(tmp_path, edited(document, deep)) == expected(3, tmp_path)


def test_64_layers_load(tmp_path, document):
    copy = edited(document, lambda copy: copy.update(
        layers=[{"weight": [[0.1, 0.1, 0.1]], "bias": [0.0]}] + [{"weight": [[0.1]], "bias": [0.0]}] * 63))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(copy))
    assert len(load_model(str(path)).layers) == 64


def test_hidden_layers_that_could_not_be_read_back_are_refused():
    with pytest.raises(WaterLogRegError, match=r"^HIDDEN_LAYERS '.*' asks for 64 hidden layers; a model holds at most"):
        parse_hidden_layers(",".join(["4"] * 64))
    assert parse_hidden_layers(",".join(["4"] * 63)) == [4] * 63


@pytest.mark.parametrize("data_type", [123, "123", "pixels"])
def test_a_data_type_that_is_no_gdal_type_is_refused(tmp_path, document, data_type):
    message = refusal(tmp_path, edited(document, lambda copy: copy["training"].update(data_type=data_type)))
    assert message == expected(4, tmp_path).replace("123", json.dumps(data_type))


@pytest.mark.parametrize("data_type", ["UInt16", "uint16", " Float32 ", "", None])
def test_gdal_type_names_in_any_case_load(tmp_path, document, data_type):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(edited(document, lambda copy: copy["training"].update(data_type=data_type))))
    assert np.isfinite(load_model(str(path)).layers[0][0]).all()
