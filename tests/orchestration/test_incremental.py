"""Incremental, idempotent detect runs: a re-run with no new data reuses everything and writes
the same candidates; a new scene is the only one read; a crash after the alert store was
written, followed by a re-run, gives what one clean run gives; only transient scene errors
are retried."""

import json
import shutil

import pytest

from pipelines.bundle.imagery import Scene
from pipelines.orchestration.retry import is_transient

from helpers import copy_demo, detect_settings


@pytest.fixture
def region(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    return copy_demo(tmp_path / "region")


def _features(out) -> dict:
    return {f["id"]: f["properties"]
            for f in json.loads((out / "candidates.geojson").read_text())["features"]}


def _add_scene(region, days: int = 3) -> str:
    """A further acquisition: an existing scene's pixels under a new id and date."""
    items = sorted((region / "imagery").glob("*.json"))
    item = json.loads(items[-1].read_text())
    item["id"] = item["id"] + "_REPEAT"
    when = item["properties"]["datetime"]
    item["properties"]["datetime"] = when[:8] + f"{int(when[8:10]) % 25 + days:02d}" + when[10:]
    (region / "imagery" / f"{item['id']}.json").write_text(json.dumps(item))
    return item["id"]


def test_rerun_reuses_results_and_a_new_scene_is_the_only_one_read(prefect_server, region,
                                                                    tmp_path):
    from pipelines.orchestration.flows import detect_flow

    store = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    first = detect_flow(str(region), str(tmp_path / "out"), detect_settings(store=store))
    geojson = (tmp_path / "out" / "candidates.geojson").read_bytes()
    assert first["reused_results"] is False
    assert first["scenes_this_run"] == {"read": 12, "from_cache": 0, "failed": 0}

    again = detect_flow(str(region), str(tmp_path / "out"), detect_settings(store=store))
    assert again["reused_results"] is True
    assert again["run_id"] == first["run_id"]
    assert "thermal" not in again["stage_seconds"] and "read" not in again["stage_seconds"]
    assert (tmp_path / "out" / "candidates.geojson").read_bytes() == geojson
    assert again["inputs_sha256"] == first["inputs_sha256"]

    new_id = _add_scene(region)
    third = detect_flow(str(region), str(tmp_path / "out"), detect_settings(store=store))
    assert third["scenes_this_run"] == {"read": 1, "from_cache": 12, "failed": 0}
    assert third["run_id"] != first["run_id"]
    assert f"scene:{new_id}.json" in third["inputs_sha256"]


def test_crash_after_the_store_commit_then_rerun_equals_one_clean_run(prefect_server, region,
                                                                     tmp_path, monkeypatch):
    import pipelines.detect.run as run
    import pipelines.orchestration.flows as flows

    store = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    out = tmp_path / "out"

    def crash(*args, **kwargs):
        raise RuntimeError("killed while writing the candidates")

    with monkeypatch.context() as m:
        m.setattr(run, "write_candidates", crash)
        with pytest.raises(RuntimeError, match="killed"):
            flows.detect_flow(str(region), str(out), detect_settings(store=store))
    assert not (out / "candidates.geojson").exists()
    flows.detect_flow(str(region), str(out), detect_settings(store=store))

    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "clean-cache"))
    clean = tmp_path / "clean"
    flows.detect_flow(str(region), str(clean),
                      detect_settings(store=f"sqlite:///{tmp_path / 'c.sqlite'}"))
    got, want = _features(out), _features(clean)
    assert got.keys() == want.keys() and got
    for fid in want:
        for key in ("first_seen", "last_seen"):  # when each run happened
            got[fid].pop(key), want[fid].pop(key)
        assert got[fid] == want[fid], fid
        assert got[fid]["alert_state"] == "new"
    assert sorted(p.name for p in (out / "evidence").iterdir()) == \
        sorted(p.name for p in (clean / "evidence").iterdir())


@pytest.mark.parametrize("message, retried", [("HTTP response code: 503", True),
                                              ("HTTP response code: 404", False)])
def test_only_transient_scene_errors_are_retried(prefect_server, region, tmp_path, monkeypatch,
                                                message, retried):
    from pipelines.orchestration.flows import detect_flow

    victim = sorted(p.stem for p in (region / "imagery").glob("*.json"))[0]
    calls = []
    original = Scene.read

    def flaky(self, grid):
        if self.scene_id == victim:
            calls.append(1)
            if len(calls) == 1 or not retried:
                raise OSError(f"{self.scene_id}: {message}")
        return original(self, grid)

    monkeypatch.setattr(Scene, "read", flaky)
    report = detect_flow(str(region), str(tmp_path / "out"), detect_settings(), evidence=False)
    assert len(calls) == (2 if retried else 1)
    assert report["scenes_this_run"]["failed"] == (0 if retried else 1)
    assert report["counts"]["scenes_used"] == (12 if retried else 11)
    assert report["complete"] is retried
    if not retried:
        assert report["skipped"] == {"scene_skipped": 1, **{k: v for k, v in
                                     report["skipped"].items() if k != "scene_skipped"}}
        assert any(victim in w and "404" in w for w in report["warnings"])


def test_transient_errors():
    assert is_transient(TimeoutError("read timed out"))
    assert is_transient(OSError("CURL error: Connection reset by peer"))
    assert is_transient(RuntimeError("HTTP response code: 429"))
    assert not is_transient(OSError("HTTP response code: 403"))
    assert not is_transient(ValueError("not recognized as a supported file format"))
    assert not is_transient(None)


def test_partial_runs_are_not_cached(prefect_server, region, tmp_path, monkeypatch):
    """A run that lost a scene is recomputed next time, so the scene gets another chance."""
    from pipelines.orchestration.flows import detect_flow

    victim = sorted((region / "imagery").glob("*.json"))[0]
    original = Scene.read
    monkeypatch.setattr(Scene, "read", lambda self, grid: (_ for _ in ()).throw(
        OSError("HTTP response code: 404")) if self.item_path == victim else
        original(self, grid))
    detect_flow(str(region), str(tmp_path / "out"), detect_settings())
    monkeypatch.setattr(Scene, "read", original)
    report = detect_flow(str(region), str(tmp_path / "out"), detect_settings())
    assert report["reused_results"] is False
    assert report["scenes_this_run"] == {"read": 1, "from_cache": 11, "failed": 0}
    shutil.rmtree(tmp_path / "out")


def test_cache_prunes_entries_unused_for_a_month(tmp_path):
    import os
    import time

    from pipelines.cache import StageCache

    cache = StageCache(tmp_path / "c")
    cache.put("scene", "old", 1)
    cache.put("scene", "used", 2)
    cache.put("scene", "fresh", 3)
    month_ago = time.time() - 31 * 86400
    for key in ("old", "used"):
        os.utime(tmp_path / "c" / "scene" / f"{key}.pkl", (month_ago, month_ago))
    assert cache.get("scene", "used") == 2  # a hit counts as use
    assert cache.prune() == 1
    assert cache.get("scene", "old") is None
    assert cache.get("scene", "used") == 2 and cache.get("scene", "fresh") == 3
    cache.put("scene", "older", 4)
    os.utime(tmp_path / "c" / "scene" / "older.pkl", (month_ago, month_ago))
    assert cache.prune() == 0, "at most once a day"


def test_retry_delays_are_read_when_a_run_starts(monkeypatch):
    """The backoff follows the environment of the run, not of the import."""
    from pipelines.orchestration.fetch import eia_task, retrying
    from pipelines.orchestration.flows import PrefectStages

    monkeypatch.setenv("COMPUTEWATCH_RETRY_BASE_SECONDS", "2")
    assert PrefectStages().scene_task.retry_delay_seconds == [2.0, 8.0, 32.0]
    assert retrying(eia_task).retry_delay_seconds == [2.0, 8.0, 32.0]
