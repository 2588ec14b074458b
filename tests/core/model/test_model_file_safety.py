"""Model files from strangers: loading never runs code, and any damage gives a model or a clear error."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.payloads import WritesMarker

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.model import TrainingSettings, WaterModel, fit_water_model, load_model, save_model

# The Processing dialog offers *.json; the core opens whatever path it is given, so the
# names a colleague's file might carry are tried too.
EXTENSIONS = ["json", "JSON", "pt", "pth", "pkl", "pickle", "bin", "model", ""]


def pickled_payloads(marker):
    """The payload as every pickle protocol writes it, and inside a torch.save-style ZIP."""
    payloads = {f"pickle-protocol-{protocol}": pickle.dumps(WritesMarker(marker), protocol=protocol)
                for protocol in range(pickle.HIGHEST_PROTOCOL + 1)}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("archive/data.pkl", payloads["pickle-protocol-2"])
    payloads["torch-zip"] = archive.getvalue()
    return payloads


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_a_pickle_with_a_payload_is_refused_and_never_runs(tmp_path, extension):
    marker = tmp_path / "payload-ran"
    for kind, payload in pickled_payloads(marker).items():
        path = tmp_path / (f"model.{extension}" if extension else "model")
        path.write_bytes(payload)
        with pytest.raises(WaterLogRegError) as refusal:
            load_model(str(path))
        assert str(path) in str(refusal.value), kind
        assert not marker.exists(), kind
    # Unpickling the same bytes does run it: the marker test would notice.
    pickle.loads(pickled_payloads(marker)["pickle-protocol-2"])
    assert marker.exists()


@pytest.fixture(scope="module")
def valid_model_bytes(tmp_path_factory):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, (50, 3)), rng.normal(3, 1, (50, 3))])
    labels = np.repeat([0, 1], 50)
    model, _ = fit_water_model(values, labels, [1, 2, 3], TrainingSettings(hidden_layers=[4], max_steps=20),
                               training_info={"band_count": 3, "data_type": "UInt16"})
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, str(path))
    return path.read_bytes()


def load_or_refuse(tmp_path, data):
    """A usable WaterModel or a WaterLogRegError naming the file; anything else fails the test."""
    path = tmp_path / "model.json"
    path.write_bytes(data)
    try:
        model = load_model(str(path))
    except WaterLogRegError as error:
        assert str(path) in str(error)
        return None
    assert isinstance(model, WaterModel)
    assert np.isfinite(model.mean).all() and (model.std > 0).all()
    inputs = len(model.bands)
    for weight, bias in model.layers:
        assert weight.shape[1] == inputs and bias.shape == (weight.shape[0],)
        assert np.isfinite(weight).all() and np.isfinite(bias).all()
        inputs = weight.shape[0]
    assert inputs == 1
    return model


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_byte_level_damage_gives_a_model_or_a_clear_error(tmp_path, valid_model_bytes, data):
    raw = bytearray(valid_model_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and position < len(raw):
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position:position + data.draw(st.integers(1, 64))]
        elif action == "insert":
            raw[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        elif action == "truncate":
            del raw[position:]
    load_or_refuse(tmp_path, bytes(raw))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def paths(document, prefix=()):
    """Every (path, value) in a JSON document, containers included."""
    yield prefix, document
    items = (document.items() if isinstance(document, dict)
             else enumerate(document) if isinstance(document, list) else [])
    for key, value in items:
        yield from paths(value, prefix + (key,))


@FUZZ
@given(data=st.data())
def test_structural_damage_gives_a_model_or_a_clear_error(tmp_path, valid_model_bytes, data):
    document = json.loads(valid_model_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        targets = [path for path, _ in paths(document) if path]
        if not targets:
            break
        path = data.draw(st.sampled_from(targets))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    load_or_refuse(tmp_path, json.dumps(document).encode())


def test_deep_nesting_and_huge_numbers_are_refused(tmp_path):
    for data in (b"[" * 100_000 + b"]" * 100_000, b'{"format": 1e999}', b"\xef\xbb\xbf{}", b"", b"\x00" * 10):
        assert load_or_refuse(tmp_path, data) is None


def test_the_untouched_file_loads(tmp_path, valid_model_bytes):
    model = load_or_refuse(tmp_path, valid_model_bytes)
    assert model.bands == [1, 2, 3] and model.hidden_layers == [4]
