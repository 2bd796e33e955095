"""The command line: exit codes, clean messages, no tracebacks."""

import json

import pytest

from pipelines.cli import main

from helpers import DEMO, feature, make_bundle, polygon


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_validate_demo_is_usable(capsys):
    code, out, _ = run(capsys, "validate", str(DEMO))
    assert code == 0
    assert "Result: usable" in out


@pytest.mark.parametrize("make, message", [
    pytest.param(lambda p: make_bundle(p, facilities=[feature("A", polygon(-77.5, 39.0)),
                                                      feature("A", polygon(-77.49, 39.0))]),
                 "used by more than one feature", id="duplicate-id"),
    pytest.param(lambda p: make_bundle(p, facilities=[]), "no facilities", id="empty"),
    pytest.param(lambda p: p, "no such region bundle folder", id="missing-folder"),
    pytest.param(lambda p: (make_bundle(p), (p / "region.yaml").write_text("name: x\n"))[0],
                 "bbox is required", id="no-bbox"),
])
def test_validate_unusable_exits_1_with_reason(tmp_path, capsys, make, message):
    root = make(tmp_path / "r")
    code, out, _ = run(capsys, "validate", str(root))
    assert code == 1
    assert message in out
    assert "UNUSABLE" in out


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "simulate", "--out", "x", "--preset", "galaxy")[0] == 2
    assert run(capsys, "no-such-command")[0] == 2


def test_detect_on_unusable_bundle_exits_1(tmp_path, capsys):
    root = make_bundle(tmp_path / "r", facilities=[])
    code, _, err = run(capsys, "detect", str(root), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "no facilities" in err


def test_detect_evaluate_and_alert_queue_on_demo(prefect_server, tmp_path, capsys):
    out = tmp_path / "out"
    store = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    code, text, _ = run(capsys, "detect", str(DEMO), "--out", str(out), "--store", store,
                        "--alert-threshold", "0.5")
    assert code == 0
    assert "candidates.geojson" in text
    code, table, _ = run(capsys, "evaluate", str(out / "candidates.geojson"),
                         str(DEMO / "truth.csv"))
    assert code == 0
    assert "recall" in table
    result = json.loads((out / "evaluation.json").read_text())
    assert result["ai_sites_20mw"] == 2
    code, listing, _ = run(capsys, "alerts", "--store", store, "list", "--min-score", "0.5")
    assert code == 0
    first = listing.splitlines()[1].split()[0]
    assert run(capsys, "alerts", "--store", store, "set", first, "dismissed", "--note",
               "known cloud site", "--by", "ana")[0] == 0
    code, shown, _ = run(capsys, "alerts", "--store", store, "show", first)
    assert run(capsys, "alerts", "show", first, "--store", store)[1] == shown  # either place
    assert json.loads(shown)["decisions"][0]["note"] == "known cloud site"
    assert run(capsys, "alerts", "--store", store, "set", first, "gone-fishing", "--note",
               "x", "--by", "ana")[0] == 1
    assert run(capsys, "alerts", "--store", store, "export", str(tmp_path / "q.geojson"))[0] == 0
    queue = json.loads((tmp_path / "q.geojson").read_text())
    assert {f["properties"]["status"] for f in queue["features"] if f["id"] == first} == {
        "dismissed"}


def test_fresh_process_failing_inside_the_flow_prints_no_traceback(tmp_path):
    """In a new process (no test fixture has set up logging) a bundle that fails inside
    the run still gives one line and exit status 1."""
    import os
    import subprocess
    import sys

    root = make_bundle(tmp_path / "r", facilities=[])
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_LOGGING_LEVEL", None)
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "detect", str(root), "--out",
                           str(tmp_path / "o"), "--no-store"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "no facilities" in done.stderr


def test_without_a_server_detect_runs_the_engine_and_never_imports_prefect(tmp_path):
    """No PREFECT_API_URL and no `computewatch serve`: the engine runs in the process, on its
    thread pool; a re-run with no new data reuses the scored candidates."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), COMPUTEWATCH_CACHE_DIR=str(tmp_path / "c"))
    code = ("import sys\nfrom pipelines.cli import main\nrc = main(sys.argv[1:])\n"
            "print('prefect imported:', 'prefect' in sys.modules)\nsys.exit(rc)\n")
    argv = [sys.executable, "-c", code, "detect", str(DEMO), "--out", str(tmp_path / "out"),
            "--store", f"sqlite:///{tmp_path / 'alerts.sqlite'}"]
    for _run in ("first", "again"):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "prefect imported: False" in done.stdout
        assert "Traceback" not in done.stderr
    report = json.loads((tmp_path / "out" / "run_report.json").read_text())
    assert report["reused_results"] is True and report["flow_run_id"] == "local"


def test_serve_and_run_refuse_a_bad_flows_yaml_before_starting_anything(tmp_path, capsys):
    config = tmp_path / "flows.yaml"
    config.write_text("deployments:\n  - {name: d, region: r, output: o, "
                      "schedule: {cron: '0 6 * *'}}\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert "deployments.0.schedule" in capsys.readouterr().err
    config.write_text("deployments:\n  - {name: d, region: r, output: o}\n")
    assert main(["run", "nope", "--config", str(config)]) == 2
    assert "no deployment 'nope'" in capsys.readouterr().err
