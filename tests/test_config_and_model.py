"""flows.yaml validation and the model file's integrity checks."""

import shutil

import pytest

from pipelines.config import load_config
from pipelines.errors import UsageError
from pipelines.model_store import MODEL_PATH, ModelError, load_model


def test_shipped_flows_yaml_is_valid():
    cfg = load_config()
    assert cfg.defaults.thresholds.alert >= cfg.defaults.thresholds.export
    assert cfg.deployments and cfg.deployments[0].region == "data/demo"


@pytest.mark.parametrize("text, message", [
    ("defaults:\n  thresholds:\n    alrt: 0.5\n", "defaults.thresholds.alrt"),
    ("defaults:\n  thresholds:\n    export: 0.9\n    alert: 0.5\n", "must not be below"),
    ("deployments:\n  - name: x\n", "deployments.0.region"),
    ("defaults: [\n", "not valid YAML"),
])
def test_config_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_model_loads_and_refuses_a_tampered_file(tmp_path):
    model = load_model()
    assert model.version and model.features
    copy = tmp_path / "classifier.skops"
    shutil.copy(MODEL_PATH, copy)
    shutil.copy(MODEL_PATH.with_suffix(".skops.sha256"), tmp_path / "classifier.skops.sha256")
    assert load_model(copy).version == model.version
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(copy)
