"""Evaluation arithmetic on a hand-made truth table."""

import pandas as pd
import pytest

from pipelines.model.evaluate import evaluate


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
