"""A real browser for the web app's tests: Debian's chromium, installed when absent (as
tests/postgres.py installs PostgreSQL), driven by Playwright with the system executable."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# What the machine notes ask of headless chromium here: no sandbox as root, no GPU, and no
# background connections (the closed network refuses them, noisily).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _install_chromium() -> None:
    """Debian's chromium, once even with several test workers (a lock around apt-get)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(Path(tempfile.gettempdir()) / "cw-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _chromium():
            return
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env,
                       capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env,
                       capture_output=True)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session's browser tests."""
    from playwright.sync_api import sync_playwright

    path = _chromium()
    if path is None:
        _install_chromium()
        path = _chromium()
    if path is None:
        pytest.fail("chromium not found and could not be installed (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
