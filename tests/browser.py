"""A real browser for the web app's tests: Debian's chromium, installed when absent (as
tests/postgres.py installs PostgreSQL), driven by Playwright with the system executable."""

from __future__ import annotations

import shutil

import pytest

from helpers import apt_install

# What the machine notes ask of headless chromium here: no sandbox as root, no GPU, and no
# background connections (the closed network refuses them, noisily).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session's browser tests."""
    from playwright.sync_api import sync_playwright

    path = _chromium()
    if path is None:
        apt_install("chromium", _chromium)
        path = _chromium()
    if path is None:
        pytest.fail("chromium not found and could not be installed (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
