"""The alert queue: states from runs, statuses from people that no run overwrites."""

import multiprocessing
import sqlite3

import pytest
from sqlalchemy import select

from pipelines.alerts.store import (
    SCHEMA_VERSION,
    AlertStoreError,
    alert_detail,
    audit,
    labelled_examples,
    list_alerts,
    open_store,
    queue_collection,
    record_run,
    set_status,
)
from pipelines.errors import DecisionConflict


def feat(fid: str, score: float, mw: float, cls: str = "ai_training") -> dict:
    return {"type": "Feature", "id": fid, "geometry": None,
            "properties": {"facility_id": fid, "score": score, "est_it_mw": mw,
                           "predicted_class": cls}}


def states(features: list[dict]) -> dict:
    return {f["id"]: (f["properties"]["alert_state"], f["properties"]["status"])
            for f in features}


def test_states_across_runs_and_statuses_survive(store):
    r1 = record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100), feat("B", 0.9, 50)])
    assert states(r1) == {"A": ("new", "new"), "B": ("new", "new")}
    set_status(store, "A", "investigating", "looks like a campus", "ana")
    set_status(store, "B", "dismissed", "cold store", "ben")
    r2 = record_run(store, "R", "run2", "t2", [feat("A", 0.96, 160), feat("B", 0.91, 52),
                                               feat("C", 0.93, 40)])
    assert states(r2) == {"A": ("changed", "investigating"), "B": ("unchanged", "dismissed"),
                          "C": ("new", "new")}
    assert "est_it_mw 100 -> 160 MW" in r2[0]["properties"]["change_reason"]
    assert r2[0]["properties"]["first_seen"] == "t1"
    record_run(store, "R", "run3", "t3", [feat("A", 0.96, 160), feat("C", 0.93, 40)])
    rows = {r["facility_id"]: r for r in list_alerts(store)}
    assert rows["B"]["alert_state"] == "gone" and rows["B"]["status"] == "dismissed"
    detail = alert_detail(store, "A")
    assert [h["alert_state"] for h in detail["history"]] == ["new", "changed", "unchanged"]
    assert detail["decisions"][0]["decided_by"] == "ana"


def test_dismissed_site_reopens_only_when_it_grows(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    set_status(store, "A", "dismissed", "declared elsewhere", "ana")
    same = record_run(store, "R", "run2", "t2", [feat("A", 0.97, 105)])
    assert states(same) == {"A": ("unchanged", "dismissed")}
    grown = record_run(store, "R", "run3", "t3", [feat("A", 0.97, 300)])
    assert states(grown) == {"A": ("changed", "new")}
    assert grown[0]["properties"]["change_reason"].startswith("re-opened after dismissal")


def test_rerun_of_the_same_run_is_idempotent(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    again = record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    assert states(again) == {"A": ("new", "new")}
    assert len(alert_detail(store, "A")["history"]) == 1


def test_bad_status_and_unknown_alert(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    with pytest.raises(AlertStoreError, match="not one of"):
        set_status(store, "A", "maybe", "", "x")
    with pytest.raises(AlertStoreError, match="no alert"):
        set_status(store, "Z", "confirmed", "", "x")


def test_crash_mid_run_leaves_store_as_it_was(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    broken = [feat("B", 0.9, 10), {"type": "Feature", "id": "C", "properties": {}}]
    with pytest.raises(KeyError):
        record_run(store, "R", "run2", "t2", broken)
    rows = list_alerts(store)
    assert [r["facility_id"] for r in rows] == ["A"] and rows[0]["last_run_id"] == "run1"


def _writer(url: str, run: int) -> None:
    engine = open_store(url)
    for k in range(5):
        record_run(engine, f"R{run}", f"run{run}-{k}", f"t{k}",
                   [feat(f"F{i}", 0.9, 10.0 + k) for i in range(30)])


def test_two_processes_writing_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    open_store(url)
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(url, i))
             for i in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    con = sqlite3.connect(tmp_path / "alerts.sqlite")
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert con.execute("select count(*) from alerts").fetchone()[0] == 60
    assert con.execute("select count(*) from alert_history").fetchone()[0] == 300


def test_queue_export_carries_statuses(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    set_status(store, "A", "confirmed", "site visit", "ana")
    fc = queue_collection(store)
    assert fc["features"][0]["properties"]["status"] == "confirmed"


def test_two_processes_writing_at_once_postgres(postgres_url):
    open_store(postgres_url)
    procs = [multiprocessing.get_context("spawn").Process(target=_writer,
                                                          args=(postgres_url, i))
             for i in (3, 3)]  # the same region: the advisory lock serialises them
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    engine = open_store(postgres_url)
    rows = [r for r in list_alerts(engine) if r["facility_id"].startswith("F")]
    assert len({(r["facility_id"]) for r in rows}) == 30


def test_a_version_1_store_is_migrated_and_keeps_its_decisions(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE alerts (region VARCHAR(200), facility_id VARCHAR(200),
            alert_state VARCHAR(20) NOT NULL, status VARCHAR(20) NOT NULL, change_reason TEXT,
            first_seen VARCHAR(40) NOT NULL, last_seen VARCHAR(40) NOT NULL,
            last_run_id VARCHAR(80) NOT NULL, score FLOAT, est_it_mw FLOAT,
            predicted_class VARCHAR(40), feature TEXT NOT NULL,
            PRIMARY KEY (region, facility_id));
        CREATE TABLE alert_history (id INTEGER PRIMARY KEY, region VARCHAR(200) NOT NULL,
            facility_id VARCHAR(200), run_id VARCHAR(80) NOT NULL, run_time VARCHAR(40),
            alert_state VARCHAR(20), score FLOAT, est_it_mw FLOAT, predicted_class VARCHAR(40));
        CREATE TABLE decisions (id INTEGER PRIMARY KEY, region VARCHAR(200) NOT NULL,
            facility_id VARCHAR(200), status VARCHAR(20) NOT NULL, note TEXT,
            decided_by VARCHAR(200) NOT NULL, decided_at VARCHAR(40));
        INSERT INTO alerts VALUES ('R', 'A', 'new', 'confirmed', NULL, 't0', 't0', 'run0',
            0.9, 100.0, 'ai_training', '{"id": "A", "properties": {"declared": false}}');
    """)
    con.commit()
    con.close()
    engine = open_store(f"sqlite:///{path}")
    out = record_run(engine, "R", "run1", "t1", [feat("A", 0.91, 101)])
    assert states(out) == {"A": ("unchanged", "confirmed")}
    set_status(engine, "A", "confirmed", "visited", "ana", true_class="ai_training")
    con = sqlite3.connect(path)
    assert con.execute("select version from schema_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert con.execute("select true_class from decisions").fetchone()[0] == "ai_training"
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"regions", "users", "sessions", "audit"} <= tables


def test_decisions_with_a_class_become_training_labels(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100), feat("B", 0.9, 50)],
               model_features={"A": {"load_factor": 0.97}, "B": {"load_factor": 0.6}})
    set_status(store, "A", "confirmed", "site visit", "ana", true_class="ai_training")
    set_status(store, "B", "investigating", "", "ben")  # no class: not a label
    labels = labelled_examples(store)
    assert labels == [{"load_factor": 0.97, "facility_id": "A", "region": "R",
                       "true_class": "ai_training", "decided_by": "ana"}]
    with pytest.raises(AlertStoreError, match="not one of"):
        set_status(store, "B", "dismissed", "", "ben", true_class="bakery")


def test_a_decision_made_meanwhile_is_a_conflict_not_an_overwrite(store):
    record_run(store, "R", "run1", "t1", [feat("A", 0.95, 100)])
    first = set_status(store, "A", "confirmed", "seen on site", "ana", after_decision=0)
    with pytest.raises(DecisionConflict) as raised:
        set_status(store, "A", "dismissed", "a warehouse", "ben", after_decision=0)
    assert (raised.value.latest["decided_by"], raised.value.latest["id"]) == ("ana", first)
    assert alert_detail(store, "A")["status"] == "confirmed"
    set_status(store, "A", "dismissed", "a warehouse", "ben", after_decision=first)
    detail = alert_detail(store, "A")
    assert [d["note"] for d in detail["decisions"]] == ["seen on site", "a warehouse"]
    assert detail["status"] == "dismissed"
    with store.connect() as conn:
        audited = conn.execute(select(audit.c.user_name, audit.c.event)
                               .order_by(audit.c.id)).all()
    assert [tuple(r) for r in audited] == [("ana", "decision"), ("ben", "decision")]
