"""Process set-up before any work: where Prefect keeps its state, how logs reach the console."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pipelines.redact import RedactingFormatter
from pipelines.redact import install as install_redaction
from pipelines.resources import WORKSPACE

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}

_USER_LEVELS = {k: os.environ.get(k)
                for k in ("PREFECT_LOGGING_LEVEL", "DASK_LOGGING__DISTRIBUTED")}


def configure_prefect(home: Path | None = None, verbosity: int = 0) -> None:
    """Keep Prefect's state in the project (.prefect/) and its chatter off the console.

    Called by the CLI before Prefect is imported; values set in the environment before
    computewatch started win.
    Prefect's own loggers print failed runs with tracebacks; computewatch reports errors
    itself, so Prefect speaks only with -vv.
    """
    os.environ.setdefault("PREFECT_HOME", str(home or WORKSPACE / ".prefect"))
    # Levels follow this call's verbosity (a -vv call earlier in the process must not leave
    # Prefect speaking), unless the user's environment set them before computewatch started.
    loud = verbosity > 1
    os.environ["PREFECT_LOGGING_LEVEL"] = _USER_LEVELS["PREFECT_LOGGING_LEVEL"] or (
        "DEBUG" if loud else "CRITICAL")
    # Dask workers are separate processes: their log level travels in Dask's own config.
    os.environ["DASK_LOGGING__DISTRIBUTED"] = _USER_LEVELS["DASK_LOGGING__DISTRIBUTED"] or (
        "info" if loud else "error")
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


def configure_logging(verbosity: int) -> None:
    """Computewatch logs to stderr: INFO by default, DEBUG with -v, WARNING with -q.

    Every record of the process is redacted (pipelines/redact.py), whatever its logger.
    """
    install_redaction()
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(message)s" if verbosity < 1 else
                                            "%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("computewatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for noisy in ("prefect", "httpx", "uvicorn", "alembic", "aiosqlite", "docket",
                  "distributed", "dask", "urllib3", "pystac_client", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity > 1 else logging.CRITICAL)
