"""A campus that could train a frontier model is exported whatever its score: undeclared as
frontier_capable, declared as declared (SPEC: no campus over 100 MW left out)."""

import pandas as pd

from helpers import DEMO


def test_frontier_capable_campuses_are_exported_declared_or_not():
    from detectors.regional import RegionalParams
    from pipelines.detect.engine import region_features
    from pipelines.detect.stages import DetectOptions, score_and_build
    from pipelines.model.store import load_model

    bundle, features = region_features(DEMO)
    opts = DetectOptions(export_threshold=1.0, alert_threshold=1.0, regional=RegionalParams())
    scored, cands = score_and_build(bundle, features, load_model(), opts, "t", "")
    capable = set(scored.index[scored["frontier_days"].notna()])
    assert set(cands["facility_id"]) == capable  # nothing scores 1.0: only these remain
    truth = pd.read_csv(DEMO / "truth.csv").set_index("facility_id")
    declared = cands[cands["declared"]]
    assert "F000001" in set(declared["facility_id"])  # the demo's declared 33 MW campus
    assert truth.loc["F000001", "declared"]
    for _, row in cands.iterrows():
        lead = row["top_reasons"][0]
        assert "1e25 FLOP" in lead
        low_mw = scored.at[row["facility_id"], "frontier_it_mw"]
        assert f"low estimate of {low_mw:.0f} MW IT" in lead  # the campus's figure
        assert row["frontier_capable"] == (not row["declared"])
        assert ("declared (" in lead) == row["declared"]
