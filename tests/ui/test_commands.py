"""`computewatch users` and `computewatch ui` as an operator runs them."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from pipelines.cli import main


def users(url: str, *args: str, stdin: str = "", monkeypatch=None) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args, "--store", url])


def test_users_are_added_listed_changed_and_disabled(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    assert users(url, "add", "ana", "--role", "analyst", stdin="a long password\n",
                 monkeypatch=monkeypatch) == 0
    assert users(url, "add", "ana", "--role", "viewer", stdin="a long password\n",
                 monkeypatch=monkeypatch) == 1
    assert "already exists" in capsys.readouterr().err
    assert users(url, "add", "bob", "--role", "viewer", stdin="short\n",
                 monkeypatch=monkeypatch) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert users(url, "add", "../x", "--role", "viewer", stdin="a long password\n",
                 monkeypatch=monkeypatch) == 1
    assert "user name" in capsys.readouterr().err
    assert users(url, "set", "ana", "--role", "admin", "--state", "disable",
                 monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert users(url, "list", monkeypatch=monkeypatch) == 0
    listed = capsys.readouterr().out.split()
    assert listed[:3] == ["ana", "admin", "disabled"] and "bob" not in listed
    assert "a long password" not in (tmp_path / "alerts.sqlite").read_bytes().decode("latin-1")


def test_ui_on_a_busy_port_says_so_plainly(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = main(["ui", "--store", f"sqlite:///{tmp_path / 'a.sqlite'}", "--port",
                     str(port)])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_the_ui_command_serves_the_sign_in_page_and_stops_cleanly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ui", "--store", store,
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        deadline, page = time.monotonic() + 60, None
        while page is None and time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200 and "Sign in" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/").headers["location"] == "login"
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert "no users yet" in err and f"triage app on http://127.0.0.1:{port}" in err
    assert "Traceback" not in err and "ERROR" not in err
