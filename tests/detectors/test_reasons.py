"""top_reasons: sentences an analyst can check on the map, from the evidence itself."""

import math

import pandas as pd

from detectors.reasons import describe


def row(**kw) -> pd.Series:
    base = {"load_factor": 0.95, "diurnal_amplitude": 0.03, "steps_up": 2, "mean_mw": 48.0,
            "node_id": "N7", "power_density_w_m2": 2400.0, "thermal_scenes_used": 12,
            "thermal_delta_k": 6.5, "thermal_cold_season_delta_k": 5.0,
            "thermal_anomalous_scenes": 11, "campus_halls": 3, "campus_area_m2": 61_000.0,
            "building": "warehouse", "price_spike_ratio": 0.98}
    base.update(kw)
    return pd.Series(base)


def test_sentences_carry_the_numbers_in_the_order_given():
    text = describe(row(), ["thermal", "load_shape", "power_size", "footprint", "tags"])
    assert text[0].startswith("roof +6.5 K") and "11 of 12" in text[0] and "+5.0 K" in text[0]
    assert "flat 24/7 load (load factor 0.95" in text[1] and "stepped up 2 times" in text[1]
    assert text[2] == "48 MW metered at N7, 2,400 W/m2 of footprint"
    assert text[3] == "3 halls on a campus of 6.1 ha of roof"
    assert text[4] == "tagged building=warehouse"


def test_missing_evidence_is_said_or_skipped_never_invented():
    text = describe(row(mean_mw=math.nan, load_factor=math.nan, thermal_scenes_used=0,
                        price_spike_ratio=math.nan, building=None),
                    ["load_shape", "price", "power_size", "thermal", "tags"])
    assert text == ["no grid meter attributed: thermal and footprint evidence only",
                    "no clear thermal scene", "untagged building"]


def test_a_price_curtailer_is_named():
    assert describe(row(price_spike_ratio=0.4), ["price"]) == [
        "load falls to 40% of normal in the top price hours (curtails on price)"]


def test_a_hot_yard_is_named_only_when_it_stands_out():
    assert describe(row(thermal_yard_k=11.2), ["thermal"])[0].endswith(
        "; open ground 100 to 600 m out runs +11.2 K (power made on site?)")
    assert "open ground" not in describe(row(thermal_yard_k=2.4), ["thermal"])[0]
    assert "open ground" not in describe(row(thermal_yard_k=math.nan), ["thermal"])[0]


def test_open_ground_as_warm_as_the_roof_is_named_as_heat_made_outdoors():
    text = describe(row(thermal_yard_k=9.0, thermal_yard_hot_share=0.31), ["thermal"])[0]
    assert text.endswith("; 31% of that open ground is as warm as the roof (heat made "
                         "outdoors: a process plant?)")
    assert "heat made outdoors" not in describe(row(thermal_yard_hot_share=0.05),
                                                ["thermal"])[0]
