"""Two detect runs: a cluster that grew is `changed`, one that appeared is `new`, and the
statuses people set in between survive; evidence packets are written and render."""

import json

import pandas as pd

from pipelines.alerts.store import list_alerts, open_store, set_status

from helpers import copy_demo, detect_settings


def _alerts(out) -> dict:
    fc = json.loads((out / "candidates.geojson").read_text())
    return {f["id"]: f["properties"] for f in fc["features"] if f["properties"]["alert"]}


def test_grown_and_appeared_clusters(prefect_server, tmp_path):
    from pipelines.orchestration.flows import detect_flow

    region = copy_demo(tmp_path / "region")
    truth = pd.read_csv(region / "truth.csv")
    on_grid = truth[(truth["true_class"] == "ai_training") & truth["on_grid"]]
    off_grid = truth[(truth["true_class"] == "ai_training") & ~truth["on_grid"]]
    hidden = set(off_grid["facility_id"])
    facilities = json.loads((region / "facilities.geojson").read_text())
    full = dict(facilities)
    facilities["features"] = [f for f in facilities["features"]
                              if f["properties"]["facility_id"] not in hidden]
    (region / "facilities.geojson").write_text(json.dumps(facilities))
    store = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    # Every exported candidate counts as an alert here: this tests the queue, not the model.
    settings = detect_settings(alert=0.3, export=0.3, store=store)

    first = tmp_path / "run1"
    detect_flow(str(region), str(first), settings)
    run1 = _alerts(first)
    grown = [fid for fid in on_grid["facility_id"] if fid in run1]
    assert grown, "the grid-connected AI campus raises an alert"
    assert all(p["alert_state"] == "new" for p in run1.values())
    set_status(open_store(store), grown[0], "investigating", "check permits", "ana")

    # Between runs the campus doubles its load and the off-grid campus comes into view.
    load = pd.read_csv(region / "grid" / "load.csv")
    node = run1[grown[0]]["sources"]["node"]
    late = load["timestamp"] >= "2025-11-01"
    load.loc[(load["node_id"] == node) & late, "mw"] *= 2.0
    load.to_csv(region / "grid" / "load.csv", index=False)
    (region / "facilities.geojson").write_text(json.dumps(full))

    second = tmp_path / "run2"
    detect_flow(str(region), str(second), settings)
    run2 = _alerts(second)
    assert run2[grown[0]]["alert_state"] == "changed"
    assert "est_it_mw" in run2[grown[0]]["change_reason"]
    assert run2[grown[0]]["status"] == "investigating"
    appeared = [fid for fid in hidden if fid in run2]
    assert appeared and all(run2[f]["alert_state"] == "new" for f in appeared)
    rows = {r["facility_id"]: r for r in list_alerts(open_store(store))}
    assert rows[grown[0]]["status"] == "investigating"

    packet = second / run2[grown[0]]["evidence"]
    assert packet.is_file() and "Top reasons" in packet.read_text()
    for png in ("thermal.png", "load.png"):
        data = (packet.parent / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
