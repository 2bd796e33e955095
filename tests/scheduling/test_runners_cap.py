"""The thread runner is bounded: by flows.yaml's max_workers, else by the core count."""

import os

from pipelines.runners import RunnerSettings, build_runner


def test_thread_runner_is_capped_by_default_and_by_setting():
    assert build_runner(RunnerSettings())._max_workers == (os.cpu_count() or 1)
    assert build_runner(RunnerSettings(max_workers=3))._max_workers == 3
