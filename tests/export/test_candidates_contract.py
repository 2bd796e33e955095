"""candidates.geojson matches the SPEC output contract field by field, and round-trips."""

import json
import math

import pyogrio
import pytest
import shapely

from helpers import DEMO

FIELDS = ["score", "predicted_class", "class_probabilities", "alert", "est_it_mw",
          "est_it_mw_low", "est_it_mw_high", "est_h100_equivalents",
          "est_h100_equivalents_at_hardware_year", "est_dense_bf16_pflops",
          "days_to_1e25_flop", "days_to_1e25_flop_low", "days_to_1e25_flop_high",
          "frontier_capable", "thermal_delta_k", "thermal_cold_season_delta_k",
          "thermal_scenes_used", "mean_mw", "load_factor", "diurnal_amplitude",
          "price_response", "power_density_w_m2", "footprint_m2", "substation_distance_m",
          "top_reasons", "declared", "declared_id", "declared_it_mw", "exceeds_declared",
          "alert_state", "status", "first_seen", "last_seen", "run_id", "model_version",
          "sources"]
CLASSES = {"ai_training", "cloud_datacenter", "crypto_mining", "heavy_industry",
           "warehouse_or_other"}


def _thresholds() -> tuple[float, float]:
    """The shipped configuration's thresholds, which the demo_run fixture runs with."""
    from pipelines.settings import load_config

    t = load_config().defaults.thresholds
    return t.export, t.alert


EXPORT, ALERT = _thresholds()


@pytest.fixture(scope="module")
def collection(demo_run):
    out, _ = demo_run
    return json.loads((out / "candidates.geojson").read_text())


def _decimals(coords) -> int:
    if isinstance(coords[0], (int, float)):
        return max(len(repr(c).split(".")[1]) if "." in repr(c) else 0 for c in coords)
    return max(_decimals(c) for c in coords)


def test_feature_collection_is_rfc7946(collection):
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    assert collection["features"], "the demo region has candidates"
    for f in collection["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
        assert -180 <= geom.bounds[0] <= geom.bounds[2] <= 180
        assert -90 <= geom.bounds[1] <= geom.bounds[3] <= 90
        polys = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
        assert all(p.exterior.is_ccw for p in polys)
        assert _decimals(f["geometry"]["coordinates"]) <= 6
        assert f["id"] == f["properties"]["facility_id"]


def test_every_property_of_the_contract(collection):
    for f in collection["features"]:
        p = f["properties"]
        missing = [k for k in FIELDS if k not in p]
        assert not missing, missing
        assert 0 <= p["score"] <= 1
        # Exported for its score, or because its campus could train a frontier model
        # (frontier_capable when undeclared; a declared one is exported as declared).
        assert p["score"] >= EXPORT or (p["frontier_capable"] != p["declared"]
                                     and "1e25 FLOP" in p["top_reasons"][0])
        if p["days_to_1e25_flop"] is not None:
            assert p["days_to_1e25_flop_low"] <= p["days_to_1e25_flop"] <= \
                p["days_to_1e25_flop_high"]
            assert p["est_h100_equivalents_at_hardware_year"] >= p["est_h100_equivalents"]
        assert p["predicted_class"] in CLASSES
        assert set(p["class_probabilities"]) == CLASSES
        assert math.isclose(sum(p["class_probabilities"].values()), 1, abs_tol=1e-3)
        assert p["alert"] == (p["score"] >= ALERT)
        assert p["est_it_mw_low"] <= p["est_it_mw"] <= p["est_it_mw_high"]
        assert isinstance(p["top_reasons"], list) and p["top_reasons"]
        assert all(isinstance(r, str) and len(r) > 10 for r in p["top_reasons"])
        assert p["alert_state"] in {"new", "changed", "unchanged", "gone"}
        assert p["status"] in {"new", "investigating", "confirmed", "dismissed", "declared"}
        for key in ("thermal_scenes_used", "footprint_m2"):
            assert isinstance(p[key], (int, float)) and not isinstance(p[key], bool)
        assert isinstance(p["sources"]["scenes"], list)


def test_missing_evidence_is_null_not_zero(collection):
    off_grid = [f["properties"] for f in collection["features"]
                if f["properties"]["sources"]["node"] is None]
    for p in off_grid:
        assert p["mean_mw"] is None and p["load_factor"] is None
        assert p["power_density_w_m2"] is None


def test_round_trip_through_pyogrio(demo_run, collection):
    out, _ = demo_run
    gdf = pyogrio.read_dataframe(out / "candidates.geojson")
    assert len(gdf) == len(collection["features"])
    assert gdf.crs.to_epsg() == 4326
    assert gdf["score"].dtype.kind == "f"
    assert gdf["alert"].dtype.kind == "b"
    gpkg = pyogrio.read_dataframe(out / "candidates.gpkg", layer="candidates")
    assert sorted(gpkg["facility_id"]) == sorted(f["id"] for f in collection["features"])
    assert (out / "candidates.qml").read_text().startswith("<!DOCTYPE qgis")


def test_run_report_and_no_temp_files(demo_run):
    out, report = demo_run
    on_disk = json.loads((out / "run_report.json").read_text())
    assert on_disk["run_id"] == report["run_id"] != "local"
    demo = json.loads((DEMO / "facilities.geojson").read_text())
    assert on_disk["counts"]["facilities"] == len(demo["features"])
    assert on_disk["counts"]["scenes_used"] >= 1
    assert set(on_disk["stage_seconds"]) >= {"read", "thermal", "footprint_power", "score",
                                             "export"}
    assert "grid/load.csv" in on_disk["inputs_sha256"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    from pipelines.export.reports import RunReport

    typed = RunReport.model_validate(on_disk)  # the file holds exactly the typed report
    assert typed.outputs["report"] == str(out / "run_report.json")


def test_demo_ai_campuses(collection):
    """The metered campus raises an alert; the off-grid one, seen in only three or four
    clear scenes, is at least exported as a candidate (see the model card's limits)."""
    import pandas as pd

    truth = pd.read_csv(DEMO / "truth.csv").set_index("facility_id")
    ai = truth[truth["true_class"] == "ai_training"]
    alerted = {f["id"] for f in collection["features"] if f["properties"]["alert"]}
    exported = {truth.loc[f["id"], "site_id"] for f in collection["features"]}
    assert set(ai[ai["on_grid"]].index) <= alerted
    assert set(ai["site_id"]) <= exported
