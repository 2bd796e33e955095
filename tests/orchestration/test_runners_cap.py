"""The thread runner is bounded (flows.yaml's max_workers, else the core count); Dask is an
extra that says how to install it when it is missing."""

import os
import sys

import pytest

from pipelines.errors import UsageError
from pipelines.orchestration.runners import RunnerSettings, build_runner


def test_thread_runner_is_capped_by_default_and_by_setting():
    assert build_runner(RunnerSettings())._max_workers == (os.cpu_count() or 1)
    assert build_runner(RunnerSettings(max_workers=3))._max_workers == 3


def test_dask_runner_without_the_extra_is_a_usage_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # import fails as if not installed
    with pytest.raises(UsageError, match=r"computewatch\[dask\]"):
        build_runner(RunnerSettings(kind="dask"))
