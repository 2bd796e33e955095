"""A real local Prefect server for scheduled operation (the temporary one does not schedule).

`computewatch serve` uses PREFECT_API_URL when it is set; otherwise it starts
`prefect server start` on loopback with its SQLite database in the project's Prefect home,
records where it listens in server.json there (so `computewatch run` finds it), and stops
it on the way out.

serve owns its server: one serve per Prefect home (a lock file held while it runs); the
server is asked by the kernel to stop when serve dies, even by SIGKILL (Linux parent-death
signal); a server.json whose process is gone or is not a Prefect server is stale and is
removed, never attached to; `computewatch serve --stop` stops a serve and its server.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import ServerError

log = logging.getLogger("computewatch")
START_TIMEOUT_S = 180.0  # first start runs the database migrations (slow on a cold disk)


def prefect_home() -> Path:
    """The Prefect home configure_prefect chose (PREFECT_HOME)."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the server's child process: ask the kernel for SIGTERM when serve dies (Linux)."""
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def is_prefect_server(pid: int) -> bool:
    """True when pid is alive and runs `prefect server start`."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"prefect" in cmdline and b"server" in cmdline and b"start" in cmdline


def _state() -> dict | None:
    """server.json, or None when absent or unreadable."""
    path = prefect_home() / "server.json"
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when the API answers its health check."""
    import httpx  # 0.1 s to import: only when a server is in play

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
            start_new_session=True, preexec_fn=_die_with_parent)
    server = LocalServer(api_url, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the Prefect server exited at start (code {process.returncode});"
                              f" its log is {log_path}")
        if healthy(api_url):
            (home / "server.json").write_text(json.dumps({"api_url": api_url,
                                                          "pid": process.pid,
                                                          "serve_pid": os.getpid()}))
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
    state = _state()
    if state is None:
        return None
    url, pid, owner = state.get("api_url"), state.get("pid"), state.get("serve_pid")
    if not isinstance(pid, int) or not is_prefect_server(pid):
        log.warning("%s is stale (its Prefect server, pid %s, is gone): removed",
                    prefect_home() / "server.json", pid)
        (prefect_home() / "server.json").unlink(missing_ok=True)
        return None
    if isinstance(owner, int) and not _alive(owner):
        log.warning("the Prefect server (pid %s) outlived the serve that started it (pid %s): "
                    "stopping it", pid, owner)
        stop_serving()
        return None
    return url if isinstance(url, str) and healthy(url) else None


@contextmanager
def serve_lock() -> Iterator[None]:
    """Hold the one-serve-per-project lock; refuse if another serve holds it."""
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    with (home / "serve.lock").open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise ServerError(f"another `computewatch serve` (pid {holder}) already serves "
                              f"this project ({home}); stop it with `computewatch serve "
                              "--stop` or use `computewatch run`") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)


def stop_serving(timeout: float = 30.0) -> str:
    """Stop the project's serve and its server (or an orphaned server); say what was done."""
    state = _state()
    done = []
    lock = prefect_home() / "serve.lock"
    holder = lock.read_text().strip() if lock.is_file() else ""
    if holder.isdigit() and _alive(int(holder)):
        os.kill(int(holder), signal.SIGTERM)
        done.append(f"serve (pid {holder}) asked to stop")
        _wait_gone(int(holder), timeout)
    pid = state.get("pid") if state else None
    if isinstance(pid, int) and is_prefect_server(pid):
        os.killpg(pid, signal.SIGTERM)
        done.append(f"Prefect server (pid {pid}) stopped")
        if not _wait_gone(pid, timeout):
            os.killpg(pid, signal.SIGKILL)
    (prefect_home() / "server.json").unlink(missing_ok=True)
    return "; ".join(done) or "nothing was running"


def _alive(pid: int) -> bool:
    """True while pid runs (a zombie, or a process gone meanwhile, is not alive)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except PermissionError:
        return True
    except (ProcessLookupError, OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


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
