"""A triage store made from a real detect run on the demo, plus a hostile region; the app
served on loopback for the browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import DEMO, HOSTILE_ID, HOSTILE_NAME, PASSWORD, polygon


@dataclass
class Triage:
    url: str
    out: Path

    def engine(self):
        from pipelines.alerts.store import open_store

        return open_store(self.url)


def _hostile_feature() -> dict:
    props = {"name": HOSTILE_NAME, "score": 0.9, "est_it_mw": 120.0,
             "predicted_class": "ai_training", "alert": True, "declared": False,
             "exceeds_declared": False, "top_reasons": [HOSTILE_NAME]}
    return {"type": "Feature", "id": HOSTILE_ID, "properties": props,
            "geometry": polygon(103.7, 1.35)}


@pytest.fixture(scope="session")
def triage_template(tmp_path_factory):
    """detect on the demo into a SQLite store (evidence packets drawn), a second, hostile
    region, and three users: ana (analyst), vic (viewer), ada (admin)."""
    from pipelines.alerts.accounts import add_user
    from pipelines.alerts.store import open_store, record_run
    from pipelines.detect.run import run_detect
    from pipelines.settings import load_config

    root = tmp_path_factory.mktemp("triage")
    url = f"sqlite:///{root / 'alerts.sqlite'}"
    settings = load_config().defaults.model_copy(update={"alert_store": url})
    # A cache of its own: the session's shared one would hand this run's scored demo to
    # tests that check a run computed every stage (tests/export: run_report's stages).
    shared = os.environ.get("COMPUTEWATCH_CACHE_DIR")
    os.environ["COMPUTEWATCH_CACHE_DIR"] = str(root / "cache")
    try:
        run_detect(str(DEMO), root / "out", settings)
    finally:
        if shared is None:
            os.environ.pop("COMPUTEWATCH_CACHE_DIR")
        else:
            os.environ["COMPUTEWATCH_CACHE_DIR"] = shared
    engine = open_store(url)
    record_run(engine, "hostile", "run-h", "2026-01-01T00:00:00+00:00", [_hostile_feature()],
               evidence_dir=str(root / "out" / "evidence"))
    for name, role in (("ana", "analyst"), ("vic", "viewer"), ("ada", "admin")):
        add_user(engine, name, PASSWORD, role)
    engine.dispose()
    return root


@pytest.fixture
def triage(triage_template, tmp_path) -> Triage:
    """A fresh copy of the template store for one test (the evidence is shared, read only)."""
    shutil.copy(triage_template / "alerts.sqlite", tmp_path / "alerts.sqlite")
    return Triage(f"sqlite:///{tmp_path / 'alerts.sqlite'}", triage_template / "out")


@pytest.fixture
def app(triage):
    from pipelines.settings import UiSettings
    from pipelines.ui.app import create_app

    return create_app(triage.engine(), UiSettings(basemap="none"), Path.cwd())


@pytest.fixture
def served(app):
    """The app on a free loopback port in a thread of this process; its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the app did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
