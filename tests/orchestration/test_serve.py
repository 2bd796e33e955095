"""Scheduled operation end to end: `computewatch serve` starts a real Prefect server on a free
loopback port and serves flows.yaml's deployment with its cron schedule; `computewatch run`
triggers it; the outputs appear; SIGTERM stops serving and the server, without a traceback."""

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import yaml

from helpers import DEMO


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _deployment(api: str, name: str = "demo-test"):
    try:
        r = httpx.get(f"{api}/deployments/name/scheduled-detect/{name}", timeout=5)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def test_serve_schedules_runs_a_triggered_deployment_and_stops_cleanly(tmp_path):
    """The shipped flows.yaml, with its paths moved into tmp_path, plus one more deployment."""
    shipped = yaml.safe_load((DEMO.parents[1] / "flows.yaml").read_text())
    shipped["defaults"]["alert_store"] = "sqlite:///alerts.sqlite"
    demo = shipped["deployments"][0]
    demo.update(region=str(DEMO), output="out-daily")
    shipped["deployments"].append({
        "name": "demo-test", "region": str(DEMO), "output": "out",
        "thresholds": {"export": 0.3, "alert": 0.5},
        "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}})
    config = tmp_path / "flows.yaml"
    config.write_text(yaml.safe_dump(shipped))
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"),
               COMPUTEWATCH_CACHE_DIR=str(tmp_path / "cache"))
    cli = [sys.executable, "-m", "pipelines.cli"]
    serve = subprocess.Popen([*cli, "serve", "--config", str(config)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        state = tmp_path / "prefect" / "server.json"
        _wait(state.is_file, 240, "the Prefect server")
        server = json.loads(state.read_text())
        api = server["api_url"]
        assert api.startswith("http://127.0.0.1:")
        deployment = _wait(lambda: _deployment(api), 120, "the deployment to be served")
        schedule = deployment["schedules"][0]["schedule"]
        assert (schedule["cron"], schedule["timezone"]) == ("0 3 * * *", "Europe/Berlin")
        assert deployment["parameters"] == {"deployment": "demo-test", "config": str(config)}

        daily = _wait(lambda: _deployment(api, "demo-daily"), 60, "the shipped deployment")
        assert daily["schedules"][0]["schedule"]["cron"] == demo["schedule"]["cron"]

        listed = subprocess.run([*cli, "deployments", "--config", str(config)], env=env,
                                capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0 and "demo-test" in listed.stdout
        assert "0 3 * * * (Europe/Berlin)" in listed.stdout and "demo-daily" in listed.stdout

        run = subprocess.run([*cli, "run", "demo-test", "--config", str(config),
                              "--timeout", "400"], env=env, capture_output=True, text=True,
                             timeout=500)
        assert run.returncode == 0, run.stderr
        assert "demo-test: Completed" in run.stdout
        report = json.loads((tmp_path / "out" / "run_report.json").read_text())
        assert report["counts"]["candidates"] >= 1
        assert report["region"] == str(DEMO)
        assert (tmp_path / "alerts.sqlite").is_file()
        # The server's scheduler and the run's log shipping work in batches: poll, with a limit.
        _wait(lambda: httpx.post(f"{api}/flow_runs/filter", timeout=10, json={
            "deployments": {"id": {"any_": [deployment["id"], daily["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).json(), 90,
            "the cron schedule to put future runs on the server")
        _wait(lambda: any(entry["message"].startswith("export: ") for entry in httpx.post(
            f"{api}/logs/filter", timeout=10, json={"limit": 200}).json()), 60,
            "the stage lines to reach the run's log in the Prefect UI")
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=90)
    assert serve.returncode == 0, err
    assert "Traceback" not in err and "Traceback" not in out
    assert "Prefect server stopped" in err
    _wait(lambda: not _alive(server["pid"]), 30, "the server process to end")
    assert not state.exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of an exited child still answers kill(0)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
