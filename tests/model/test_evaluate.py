"""Evaluation arithmetic on a hand-made truth table."""

import numpy as np
import pandas as pd
import pytest

from pipelines.model.evaluate import evaluate, meter_census


def test_recall_precision_and_mw_error():
    truth = pd.DataFrame({
        "facility_id": ["a1", "a2", "b1", "c1", "w1", "w2", "o1"],
        "site_id": ["A", "A", "B", "C", "W1", "W2", "O"],
        "true_class": ["ai_training", "ai_training", "ai_training", "cloud_datacenter",
                       "warehouse_or_other", "warehouse_or_other", "ai_training"],
        "it_mw": [30.0, 20.0, 100.0, 10.0, 0.0, 0.0, 40.0],
        "on_grid": [True, True, True, True, True, True, False],
        "declared": [False] * 7}).set_index("facility_id")
    cands = pd.DataFrame({
        "alert": [True, False, True, True, False, True],
        "predicted_class": ["ai_training"] * 3 + ["cloud_datacenter", "warehouse_or_other",
                                                  "ai_training"],
        "est_it_mw": [28.0, 22.0, 120.0, 9.0, 1.0, 30.0]},
        index=["a1", "a2", "c1", "w1", "w2", "o1"])
    r = evaluate(cands, truth)
    assert r["ai_sites_20mw"] == 3 and r["ai_sites_found"] == 2  # A and O found, B missed
    assert r["recall_ai_20mw"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["recall_ai_20mw_off_grid"] == 1.0
    assert r["alerts"] == 4  # a1, c1, w1, o1
    assert r["precision_alerts_ai"] == 0.5
    assert r["precision_alerts_any_datacenter"] == 0.75
    assert r["mw_median_ape_on_grid"] == pytest.approx(0.0)  # site A: 28 + 22 = 50
    assert r["mw_median_ape_off_grid"] == pytest.approx(0.25)
    assert r["missed_sites"] == [{"site_id": "B", "it_mw": 100.0, "on_grid": True}]
    assert r["confusion"]["ai_training"]["not_exported"] == 1


def test_meter_census_counts_sites_whose_own_substation_reached_them():
    truth = pd.DataFrame({
        "facility_id": ["a1", "a2", "b1", "c1", "s1", "w1", "o1"],
        "site_id": ["A", "A", "B", "C", "S", "W", "O"],
        "true_class": ["ai_training"] * 4 + ["ai_training", "warehouse_or_other",
                                             "ai_training"],
        "it_mw": [30.0, 20.0, 100.0, 60.0, 10.0, 0.0, 40.0],
        "on_grid": [True, True, True, True, True, True, False],
        "declared": [False] * 7}).set_index("facility_id")
    features = pd.DataFrame({"node_id": [None, "N2;N1", "N9", np.nan, "N4", "N3", None]},
                            index=truth.index)
    own = {"A": "N1", "B": "N3", "C": "N5", "S": "N4", "O": "N6"}
    # A's meter reached a2; B's went to the warehouse; C's to no one; S is under 20 MW and
    # O is off the grid: neither counts.
    assert meter_census(features, truth, own) == {"ai_meters": 3, "ai_meters_own": 1}


def test_own_substations_are_the_simulated_bundles_substations(tmp_path):
    from pipelines.bundle.reader import read_bundle
    from pipelines.model.card import own_substations
    from pipelines.sources.simulate import simulate

    truth = simulate(tmp_path / "r", seed=7, preset="demo")
    own = own_substations(7, "demo")
    nodes = read_bundle(tmp_path / "r").nodes
    assert own and set(own) <= set(truth["site_id"])
    assert set(own.values()) <= set(nodes.index[nodes["kind"] == "substation"])
    grid_ai = truth[(truth["true_class"] == "ai_training") & truth["on_grid"]]["site_id"]
    assert set(grid_ai) <= set(own)
