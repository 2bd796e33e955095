"""flows.yaml validation and the model file's integrity checks."""

import shutil

import pytest

from pipelines.errors import ModelError, UsageError
from pipelines.model.store import MODEL_PATH, load_model
from pipelines.settings import load_config


def test_shipped_flows_yaml_is_valid():
    cfg = load_config()
    assert cfg.defaults.thresholds.alert >= cfg.defaults.thresholds.export
    assert cfg.deployments and cfg.deployments[0].region == "data/demo"


@pytest.mark.parametrize("text, message", [
    ("defaults:\n  thresholds:\n    alrt: 0.5\n", "defaults.thresholds.alrt"),
    ("defaults:\n  thresholds:\n    export: 0.9\n    alert: 0.5\n", "must not be below"),
    ("deployments:\n  - name: x\n", "deployments.0.region"),
    ("defaults: [\n", "not valid YAML"),
    ("deployments:\n  - {name: x, region: r, output: o, schedule: {cron: '61 * * * *'}}\n",
     "deployments.0.schedule"),
    ("deployments:\n  - {name: x, region: r, output: o, schedule: {cron: '0 * * * *', "
     "timezone: Mars/Base}}\n", "Invalid timezone"),
    ("deployments:\n  - {name: x, region: r, output: o, task_runner: {kind: spark}}\n",
     "deployments.0.task_runner.kind"),
    ("deployments:\n  - {name: x, region: r, output: o}\n  - {name: x, region: s, output: p}\n",
     "names must be unique"),
])
def test_config_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_deployment_settings_fall_back_to_defaults(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text("defaults:\n  hardware_year: 2024\n  thresholds: {export: 0.2, alert: 0.6}\n"
                    "deployments:\n"
                    "  - {name: a, region: r, output: o, thresholds: {export: 0.4, alert: 0.8},\n"
                    "     task_runner: {kind: dask, address: 'tcp://10.0.0.5:8786'},\n"
                    "     alert_store: 'sqlite:///a.sqlite'}\n"
                    "  - {name: b, region: r, output: p}\n")
    cfg = load_config(path)
    a, b = (cfg.settings_for(cfg.deployment(n)) for n in ("a", "b"))
    assert (a.thresholds.export, a.thresholds.alert, a.hardware_year) == (0.4, 0.8, 2024)
    assert (a.task_runner.kind, a.task_runner.address) == ("dask", "tcp://10.0.0.5:8786")
    assert a.alert_store == "sqlite:///a.sqlite"
    assert (b.thresholds.export, b.task_runner.kind) == (0.2, "threads")
    assert b.alert_store == cfg.defaults.alert_store
    with pytest.raises(UsageError, match="no deployment 'c'.*'a', 'b'"):
        cfg.deployment("c")


def test_shipped_deployment_next_run_follows_its_cron():
    dep = load_config().deployments[0]
    first, second = dep.schedule.next_runs(2)
    assert (second - first).total_seconds() == 24 * 3600
    assert (first.hour, first.minute) == (6, 0)


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
