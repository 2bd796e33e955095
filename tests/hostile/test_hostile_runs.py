"""Hostile runs end to end through the command line: what a bundle, a setting or a store URL
can make the tool do. Each case ends in a clear message or a counted skip; never a
traceback, never a write outside the output folder, never a secret in the output."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.model.store import MODEL_PATH

from helpers import DEMO, copy_demo, make_bundle

SECRET = "s3cr3t-Pa55"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def rename_ids(root: Path, renames: dict[str, str]) -> None:
    """Give the demo's facilities hostile ids, everywhere the bundle names them."""
    path = root / "facilities.geojson"
    doc = json.loads(path.read_text())
    for f in doc["features"]:
        fid = f["properties"]["facility_id"]
        f["properties"]["facility_id"] = renames.get(fid, fid)
    path.write_text(json.dumps(doc))


def test_hostile_facility_ids_never_write_outside_out(prefect_server, tmp_path, capsys):
    escape = tmp_path / "escaped"
    renames = {"F000001": "../../../escaped/x", "F000003": str(escape / "abs"),
               "F000002": ".."}
    root = copy_demo(tmp_path / "region")
    rename_ids(root, renames)
    out = tmp_path / "out" / "nested"
    before = tree(tmp_path)
    code, _, err = run(capsys, "detect", str(root), "--out", str(out), "--store",
                       f"sqlite:///{tmp_path / 'alerts.sqlite'}")
    assert code == 0, err
    written = tree(tmp_path) - before
    allowed = {tmp_path / "out", tmp_path / "alerts.sqlite"}
    assert all(p in allowed or out in p.parents or p == out or
               (tmp_path / "alerts.sqlite-journal") == p for p in written), sorted(written)
    assert not escape.exists()
    candidates = json.loads((out / "candidates.geojson").read_text())
    alerts = [f for f in candidates["features"] if f["properties"]["alert"]]
    assert {f["id"] for f in alerts} & set(renames.values())
    for f in alerts:
        summary = (out / f["properties"]["evidence"]).resolve()
        assert out.resolve() in summary.parents and summary.is_file()
        if f["id"] in renames.values():  # a path-like id gets an escaped folder name
            assert summary.parent.name.startswith("_")
    # A re-run prunes stale packets only inside out/evidence.
    code, _, _ = run(capsys, "detect", str(root), "--out", str(out), "--no-store")
    assert code == 0 and not escape.exists()


def test_store_password_reaches_no_output_log_or_prefect_database(
        prefect_server, postgres_url, tmp_path, capsys, monkeypatch):
    """The store URL with a password: the run works, the password is nowhere to be found.

    A Prefect server is in play (PREFECT_API_URL), so detect runs as a flow whose parameters
    Prefect keeps in its database.
    """
    import sqlalchemy
    from prefect.settings import get_current_settings

    monkeypatch.setenv("PREFECT_API_URL", get_current_settings().api.url)

    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS cwpw")
        conn.exec_driver_sql(f"CREATE ROLE cwpw LOGIN SUPERUSER PASSWORD '{SECRET}'")
    admin.dispose()
    url = postgres_url.replace("//cw@", f"//cwpw:{SECRET}@")
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "-v", "detect", str(DEMO), "--out", str(out),
                               "--store", url)
    assert code == 0, stderr
    assert SECRET not in stdout + stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    db_files = _prefect_database_files()
    assert db_files
    for path in db_files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert _prefect_parameters_mention(db_files[0], "cwpw@127.0.0.1")


def _prefect_database_files() -> list[Path]:
    """The SQLite database of the Prefect server the tests run against, with its journals."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url.get_secret_value()
    db = Path(url.split("///", 1)[1])
    return sorted((p for p in db.parent.glob(db.name + "*") if p.is_file()),
                  key=lambda p: len(p.name))


def _prefect_parameters_mention(db: Path, text: str) -> bool:
    """The detect run's parameters in the Prefect database hold the password-free URL."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT parameters FROM flow_run").fetchall()
    return any(text in (r[0] or "") for r in rows)


@pytest.mark.parametrize("argv", [
    pytest.param(["alerts", "--store", f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db",
                  "list"], id="alerts-unreachable-store"),
    pytest.param(["detect", str(DEMO), "--store",
                  f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db"], id="detect-unreachable"),
    pytest.param(["-vv", "alerts", "--store", f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db",
                  "list"], id="alerts-unreachable-store-vv"),
])
def test_failing_store_never_echoes_its_password(tmp_path, capsys, argv):
    if argv[0] == "detect":
        argv = [*argv, "--out", str(tmp_path / "o")]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert "alert store" in err and "***" in err
    assert SECRET not in out + err


def test_verbose_http_logs_are_redacted(capsys):
    """At -vv the HTTP libraries log request URLs: keys in them are masked."""
    import logging

    from pipelines.process import configure_logging

    configure_logging(2)
    try:
        handler = logging.getLogger("computewatch").handlers[0]
        logging.getLogger("httpx").addHandler(handler)
        logging.getLogger("httpx").info('HTTP Request: GET https://api.eia.gov/v2/x?api_key=%s '
                                        '"HTTP/1.1 200 OK"', SECRET)
        try:
            raise ValueError(f"postgresql://u:{SECRET}@h/db failed")
        except ValueError:
            logging.getLogger("computewatch").exception("boom")
    finally:
        logging.getLogger("httpx").handlers.clear()
        configure_logging(0)
    err = capsys.readouterr().err
    assert "api_key=***" in err and "u:***@h" in err
    assert SECRET not in err


@pytest.mark.parametrize("argv, code, message", [
    pytest.param(["detect", str(DEMO), "--export-threshold", "5"], 2, "thresholds.export",
                 id="export-threshold-out-of-range"),
    pytest.param(["detect", str(DEMO), "--hardware-year", "1900"], 2, "hardware_year",
                 id="hardware-year-1900"),
    pytest.param(["detect", str(DEMO), "--alert-threshold", "0.1"], 2, "must not be below",
                 id="alert-below-export"),
    pytest.param(["detect", str(DEMO), "--store", "sqlite:////nonexistent/dir/a.sqlite"], 1,
                 "/nonexistent/dir/a.sqlite", id="store-folder-missing"),
    pytest.param(["detect", str(DEMO), "--store", "nosuchdb://x"], 1, "alert store",
                 id="store-bad-url"),
    pytest.param(["detect", "{tmp}/nobundle"], 1, "no such region bundle folder",
                 id="region-missing"),
])
def test_detect_refuses_before_any_work(tmp_path, capsys, argv, code, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    started = time.monotonic()
    got, _, err = run(capsys, *argv, "--out", str(tmp_path / "o"))
    assert got == code and message in err, err
    assert time.monotonic() - started < 20  # refused in preflight, not after scoring


def test_detect_refuses_an_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "o").write_text("not a folder")
    code, _, err = run(capsys, "detect", str(DEMO), "--out", str(tmp_path / "o"), "--no-store")
    assert code == 1 and "is not a folder" in err


def test_detect_refuses_an_out_it_cannot_create(tmp_path, capsys):
    (tmp_path / "f").write_text("a file")
    code, _, err = run(capsys, "detect", str(DEMO), "--out", str(tmp_path / "f" / "o"),
                       "--no-store")
    assert code == 1 and "cannot write there" in err


def test_store_that_is_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "store").mkdir()
    code, _, err = run(capsys, "detect", str(DEMO), "--out", str(tmp_path / "o"), "--store",
                       f"sqlite:///{tmp_path / 'store'}")
    assert code == 1 and "cannot be opened for writing" in err and str(tmp_path) in err


def test_huge_region_is_refused_naming_region_yaml(tmp_path, capsys):
    root = make_bundle(tmp_path / "r", region={"name": "big", "bbox": [-100, 30, -80, 40]})
    code, _, err = run(capsys, "detect", str(root), "--out", str(tmp_path / "o"), "--no-store")
    assert code == 1 and "region.yaml" in err and "max_grid_pixels" in err


def test_corrupt_model_with_matching_checksum_is_a_clear_error(tmp_path, monkeypatch):
    from pipelines.errors import ModelError
    from pipelines.model import store as model_store

    bad = tmp_path / "classifier.skops"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "classifier.skops.sha256").write_text(model_store.sha256(bad) + "\n")
    with pytest.raises(ModelError, match="not a readable skops model"):
        model_store.load_model(bad)
    assert MODEL_PATH.is_file()


def test_cron_that_never_fires_is_refused(tmp_path, capsys):
    config = tmp_path / "flows.yaml"
    config.write_text("deployments:\n  - name: never\n    region: data/demo\n"
                      "    output: out/x\n    schedule: {cron: '0 0 30 2 *'}\n")
    code, _, err = run(capsys, "deployments", "--config", str(config))
    assert code == 2 and "never fires" in err and "deployments.0.schedule" in err


def test_alerts_export_does_not_create_folders(tmp_path, capsys):
    store = f"sqlite:///{tmp_path / 'a.sqlite'}"
    target = tmp_path / "nonexistent" / "dir" / "q.geojson"
    code, _, err = run(capsys, "alerts", "--store", store, "export", str(target))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "nonexistent").exists()


def test_alerts_show_and_set_need_a_region_for_an_ambiguous_id(tmp_path, capsys):
    from pipelines.alerts.store import open_store, record_run

    store = f"sqlite:///{tmp_path / 'a.sqlite'}"
    engine = open_store(store)
    feature = {"type": "Feature", "id": "F1", "geometry": None,
               "properties": {"facility_id": "F1", "score": 0.9, "est_it_mw": 50.0,
                              "predicted_class": "ai_training", "alert": True}}
    for region in ("north", "south"):
        record_run(engine, region, f"run-{region}", "2026-01-01T00:00:00+00:00",
                   [json.loads(json.dumps(feature))])
    code, _, err = run(capsys, "alerts", "--store", store, "show", "F1")
    assert code == 1 and "several regions" in err and "north" in err and "south" in err
    code, out, _ = run(capsys, "alerts", "--store", store, "show", "F1", "--region", "south")
    assert code == 0 and json.loads(out)["region"] == "south"
    assert {h["region"] for h in json.loads(out)["history"]} == {"south"}
    code, _, err = run(capsys, "alerts", "--store", store, "set", "F1", "investigating",
                       "--note", "n", "--by", "ana")
    assert code == 1 and "several regions" in err
    code, _, _ = run(capsys, "alerts", "--store", store, "set", "F1", "investigating",
                     "--note", "n", "--by", "ana", "--region", "north")
    assert code == 0


def _prefect_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return home


def test_stale_server_json_is_removed_not_attached_to(tmp_path, monkeypatch, caplog):
    from pipelines.orchestration.server import running_api_url

    home = _prefect_home(tmp_path, monkeypatch)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (home / "server.json").write_text(json.dumps({"api_url": "http://127.0.0.1:9/api",
                                                  "pid": dead.pid}))
    assert running_api_url() is None
    assert not (home / "server.json").exists()


def test_a_live_process_that_is_not_a_prefect_server_is_not_attached_to(tmp_path, monkeypatch):
    from pipelines.orchestration.server import running_api_url

    home = _prefect_home(tmp_path, monkeypatch)
    (home / "server.json").write_text(json.dumps({"api_url": "http://127.0.0.1:9/api",
                                                  "pid": os.getpid()}))
    assert running_api_url() is None


def test_second_serve_refuses_and_stop_ends_the_first(tmp_path, monkeypatch):
    """A serve-lock holder in another process: a second serve refuses; --stop ends it."""
    from pipelines.errors import ServerError
    from pipelines.orchestration.server import serve_lock, stop_serving

    home = _prefect_home(tmp_path, monkeypatch)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\n"
         "from pipelines.orchestration.server import serve_lock\n"
         "with serve_lock():\n    print('held', flush=True)\n    time.sleep(60)\n"],
        env={**os.environ, "PREFECT_HOME": str(home)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ServerError, match=f"pid {holder.pid}"), serve_lock():
            pass
        assert "asked to stop" in stop_serving(timeout=10)
        assert holder.wait(timeout=10) == -signal.SIGTERM
        with serve_lock():
            pass
    finally:
        holder.kill()
