import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import os
import tempfile

import pytest

from pipelines.process import configure_prefect

pytest_plugins = ["postgres", "browser"]

# Source retries back off 0.01 s, 0.04 s, ... instead of 5 s, 20 s, ... (read when a flow runs).
os.environ["COMPUTEWATCH_RETRY_BASE_SECONDS"] = "0.01"
# Two test workers share two cores: OpenMP's default of a thread per core in each worker made
# a 600-row gradient-boosting fit take ten minutes instead of two seconds (threads spinning
# against each other), so each worker's numerical libraries get one thread.
os.environ["OMP_NUM_THREADS"] = "1"
# Prefect configures its loggers when first imported, from the environment of that moment: a
# test module importing it before the first CLI call must find it quiet, as a user's process
# does (the CLI configures Prefect before importing it).
configure_prefect(home=Path(tempfile.mkdtemp(prefix="cw-prefect-home-")))

# Markers from what a test needs, so a development loop can leave the heavy ones out
# (`./run pytest -m "not prefect and not postgres and not slow"`); the README's command
# runs everything.
NEEDS = {"prefect_server": "prefect", "postgres_url": "postgres", "browser": "browser"}
SLOW_MODULES = {"test_fuzz_reader.py", "test_dask.py", "test_serve.py"}


def pytest_collection_modifyitems(config, items):
    """Mark each test prefect, postgres or slow from its fixtures and module."""
    for item in items:
        for fixture, marker in NEEDS.items():
            if fixture in item.fixturenames:
                item.add_marker(getattr(pytest.mark, marker))
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def stage_cache(tmp_path_factory):
    """Stage results of the tests go to a temporary cache, never the project's."""
    path = tmp_path_factory.mktemp("stage-cache")
    os.environ["COMPUTEWATCH_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One temporary Prefect server (SQLite) for every flow test of the session."""
    os.environ.pop("PREFECT_API_URL", None)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """detect run once on the embedded demo with the shipped settings, as the CLI runs it when
    no Prefect server is in play (no Prefect here); tests read its outputs."""
    from pipelines.detect.run import run_detect
    from pipelines.settings import load_config

    from helpers import DEMO

    out = tmp_path_factory.mktemp("demo-out")
    settings = load_config().defaults.model_copy(update={"alert_store": ""})
    report = run_detect(str(DEMO), out, settings)
    return out, report
