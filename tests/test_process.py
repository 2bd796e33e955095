"""Process set-up: Prefect's log level follows each call's verbosity."""

import os

from pipelines import process


def test_prefect_level_follows_each_call(monkeypatch):
    monkeypatch.setitem(process._USER_LEVELS, "PREFECT_LOGGING_LEVEL", None)
    process.configure_prefect(verbosity=2)
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"
    process.configure_prefect(verbosity=0)  # a later quiet call in the same process
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "CRITICAL"


def test_the_users_own_level_wins(monkeypatch):
    monkeypatch.setitem(process._USER_LEVELS, "PREFECT_LOGGING_LEVEL", "WARNING")
    process.configure_prefect(verbosity=0)
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "WARNING"
    monkeypatch.setitem(process._USER_LEVELS, "PREFECT_LOGGING_LEVEL", None)
    process.configure_prefect(verbosity=0)
