"""Evidence charts drawn in worker processes are the files drawn in this one."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.export import charts
from pipelines.export.charts import LoadChart, ThermalChart, draw_all


def _jobs(folder, n: int) -> list:
    rng = np.random.default_rng(0)
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], float)
    times = np.arange("2025-10-01", "2025-12-30", dtype="datetime64[h]")
    jobs = []
    for i in range(n):
        chip = rng.normal(0, 2, (80, 80))
        jobs.append((ThermalChart(f"F{i}", chip, (-1200.0, 1200.0, -1200.0, 1200.0),
                                  [square], [square + 300]), folder / f"t{i}.png"))
        mw = 50 + rng.normal(0, 1, len(times))
        jobs.append((LoadChart([f"N{i}"], times, mw, times, 40 + mw, np.arange(168) / 24,
                               mw[:168]), folder / f"l{i}.png"))
    return jobs


def test_worker_processes_draw_the_same_files(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    (tmp_path / "pool").mkdir()
    here, pooled = _jobs(tmp_path / "here", 8), _jobs(tmp_path / "pool", 8)
    draw_all(here, workers=1)
    started = []
    real = charts.subprocess.Popen

    def spy(argv, **kwargs):
        started.append(argv)
        return real(argv, **kwargs)

    monkeypatch.setattr(charts.subprocess, "Popen", spy)
    draw_all(pooled, workers=2)
    assert len(started) == 2 and started[0][1:3] == ["-m", "pipelines.export.charts"]
    for (_, a), (_, b) in zip(here, pooled):
        assert a.read_bytes() == b.read_bytes() and a.read_bytes().startswith(b"\x89PNG")


def test_a_failing_worker_is_an_error_not_a_silent_gap(tmp_path):
    (tmp_path / "a-file").write_text("")
    jobs = _jobs(tmp_path / "a-file", 8)  # a file where the folder should be: workers fail
    with pytest.raises(RuntimeError, match="evidence chart worker failed"):
        draw_all(jobs, workers=2)


def test_few_charts_are_drawn_here(tmp_path, monkeypatch):
    monkeypatch.setattr(charts.subprocess, "Popen", None)  # would fail if a worker started
    jobs = _jobs(tmp_path, 3)
    draw_all(jobs, workers=2)
    assert all(path.is_file() for _, path in jobs)
