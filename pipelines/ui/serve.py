"""Serving the triage app with uvicorn, and reading a new user's password safely."""

from __future__ import annotations

import getpass
import logging
import socket
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from pipelines.alerts.accounts import list_users
from pipelines.errors import UsageError
from pipelines.settings import UiSettings

log = logging.getLogger("computewatch")


def _check_listen(host: str, port: int) -> None:
    """Fail with a plain message (not uvicorn's log line) when the address is taken."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
                         "another with --port or --host") from None


def serve(engine: Engine, ui: UiSettings, config_dir: Path, host: str, port: int,
          forwarded_allow_ips: str, access_log: bool) -> None:
    """Run the app until interrupted; X-Forwarded-* headers trusted only from the proxy."""
    import uvicorn

    from pipelines.ui.app import create_app

    app = create_app(engine, ui, config_dir)
    if not list_users(engine):
        log.warning("no users yet: add one with `computewatch users add NAME --role admin`")
    _check_listen(host, port)
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("listening on %s over plain http: passwords and session cookies cross the "
                    "network in clear unless a TLS proxy is in front (README: Triage in the "
                    "browser)", host)
    log.info("triage app on http://%s:%d (Ctrl+C stops)", host, port)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=access_log,
                proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                server_header=False)


def read_password(stdin: TextIO | None = None) -> str:
    """A password typed twice at a terminal, or the first line of a pipe (for scripts)."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ")
    return first
