"""A real local Prefect server for scheduled operation (the temporary one does not schedule).

`computewatch serve` uses PREFECT_API_URL when it is set; otherwise it starts
`prefect server start` on loopback with its SQLite database in the project's Prefect home,
records where it listens in server.json there (so `computewatch run` finds it), and stops
it on the way out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipelines.errors import ComputewatchError

log = logging.getLogger("computewatch")
START_TIMEOUT_S = 180.0  # first start runs the database migrations (slow on a cold disk)


class ServerError(ComputewatchError):
    """The Prefect server could not be started or reached."""


def prefect_home() -> Path:
    """The Prefect home configure_prefect chose (PREFECT_HOME)."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when the API answers its health check."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class LocalServer:
    """A `prefect server start` child process on loopback."""

    api_url: str
    process: subprocess.Popen | None
    log_path: Path

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 20 s) and forget it."""
        state = prefect_home() / "server.json"
        if state.is_file() and json.loads(state.read_text()).get("api_url") == self.api_url:
            state.unlink(missing_ok=True)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(port: int | None = None) -> LocalServer:
    """Start a Prefect server on 127.0.0.1 and wait until it answers."""
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = home / "server.log"
    env = {**os.environ, "PREFECT_SERVER_API_HOST": "127.0.0.1",
           "PREFECT_SERVER_API_PORT": str(port), "PREFECT_API_URL": api_url}
    with log_path.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    server = LocalServer(api_url, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the Prefect server exited at start (code {process.returncode});"
                              f" its log is {log_path}")
        if healthy(api_url):
            (home / "server.json").write_text(json.dumps({"api_url": api_url,
                                                          "pid": process.pid}))
            log.info("Prefect server at %s (UI: %s; log: %s)", api_url,
                     api_url.removesuffix("/api"), log_path)
            return server
        time.sleep(0.5)
    server.stop()
    raise ServerError(f"the Prefect server did not answer within {START_TIMEOUT_S:.0f} s; "
                      f"its log is {log_path}")


def running_api_url() -> str | None:
    """PREFECT_API_URL if set, else the server `computewatch serve` started, if it answers."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    state = prefect_home() / "server.json"
    if state.is_file():
        url = json.loads(state.read_text()).get("api_url")
        if url and healthy(url):
            return url
    return None


def use_api(url: str) -> AbstractContextManager:
    """Point this process and its children at a Prefect API (settings are read at import)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ["PREFECT_API_URL"] = url
    return temporary_settings(updates={PREFECT_API_URL: url})


@contextmanager
def prefect_api(start: bool, port: int | None = None) -> Iterator[None]:
    """Use a running Prefect server if there is one; else start one if asked, for the block.

    A running server (PREFECT_API_URL, or the one `computewatch serve` started) makes runs
    show in its UI and skips the temporary server's start-up. With start False and no
    server, Prefect's temporary in-process server is used.
    """
    url = running_api_url()
    if url is not None:
        log.info("using the Prefect server at %s", url)
        with use_api(url):
            yield
        return
    if not start:
        yield
        return
    server = start_server(port)
    try:
        with use_api(server.api_url):
            yield
    finally:
        server.stop()
        log.info("Prefect server stopped")
