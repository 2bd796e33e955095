"""A real PostgreSQL server on loopback for the store and hostile-input tests, installed
when absent (a pytest plugin module: tests/conftest.py loads it)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import apt_install


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """Start a throwaway cluster (trust auth, loopback only); stop it after the session.

    Its folder sits directly under the system temp dir: pytest's own is private to root,
    and the server runs as the postgres user.
    """
    bindir = _pg_bin()
    if bindir is None:
        apt_install("postgresql", _pg_bin)
        bindir = _pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found and could not be installed")
    data = Path(tempfile.mkdtemp(prefix="cw-pg-")) / "data"
    data.parent.chmod(0o777)
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    port = _free_port()
    subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                             "cw", "--no-sync"], check=True, capture_output=True)
    opts = f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l",
                             str(data.parent / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://cw@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                 "stop"], check=False, capture_output=True)
        shutil.rmtree(data.parent, ignore_errors=True)
