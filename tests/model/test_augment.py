"""Training copies with evidence missing: a lone building must not be learned as "not AI"."""

import numpy as np
import pandas as pd

from detectors.classifier import CLASSES, FEATURE_GROUPS, FEATURES
from pipelines.model.train import augment, fit_model, ordinary_roof_copies

from helpers import feature_table


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """AI halls hot in the cold season and always on large campuses; others alone."""
    x = feature_table(rng, n)
    ai = (x["true_class"] == "ai_training").to_numpy()
    x["thermal_cold_season_delta_k"] = rng.normal(size=n) + np.where(ai, 5.0, 0.0)
    x["footprint_m2"] = rng.uniform(5_000, 40_000, n)
    x["campus_area_m2"] = np.where(ai, rng.uniform(150_000, 400_000, n), x["footprint_m2"])
    return x


def test_campus_copies_stand_alone_and_change_nothing_else():
    table = _table(np.random.default_rng(1), 2_000)
    out = augment(table, np.random.default_rng(2))
    copies = out.iloc[len(table):]
    alone = copies[(copies["campus_area_m2"] == copies["footprint_m2"])
                   & (copies["true_class"] == "ai_training")]
    assert len(alone) > 50
    # Every class is copied alone, not only AI halls: standing alone says nothing of class.
    lone_rows = copies[copies["campus_area_m2"] == copies["footprint_m2"]]
    assert set(lone_rows["true_class"]) == set(CLASSES)
    # AI halls always stand in campuses here, so these are the campus copies: nothing but
    # the campus area differs from the hall they copy.
    same = [c for c in FEATURES if c != "campus_area_m2"]
    pd.testing.assert_frame_equal(alone[same], table.loc[alone.index, same])
    pd.testing.assert_frame_equal(out.iloc[:len(table)][table.columns], table)


def test_a_hot_hall_standing_alone_still_scores_as_ai():
    rng = np.random.default_rng(0)
    train, cal = _table(rng, 800), _table(rng, 400)
    probe = _table(rng, 200)
    probe = probe[probe["true_class"] == "ai_training"]
    alone = probe.assign(campus_area_m2=probe["footprint_m2"])
    model = fit_model(train, cal, 0, "t")
    # Trained only on AI halls in campuses, the model would call each of these "not AI"
    # (about 0.001 without the campus copies).
    assert model.probabilities(alone)["ai_training"].mean() > 0.5


def _metered_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """AI halls hot and metered; a third of the other buildings metered, with cool roofs."""
    x = _table(rng, n)
    ai = (x["true_class"] == "ai_training").to_numpy()
    x["has_grid"] = np.where(ai | (rng.uniform(size=n) < 0.3), 1.0, 0.0)
    x["has_thermal"] = 1.0
    x["thermal_own_heat_k"] = rng.normal(size=n) + np.where(ai, 6.0, 0.0)
    return x


def test_ordinary_roof_copies_change_only_the_thermal_reading():
    table = _metered_table(np.random.default_rng(3), 2_000)
    copies = ordinary_roof_copies(table, np.random.default_rng(4))
    thermal = FEATURE_GROUPS["thermal"] + ["thermal_scenes_used"]
    assert (copies["has_grid"] > 0).all()
    assert set(copies["true_class"]) == set(CLASSES)
    assert (copies["true_class"] == "ai_training").sum() > 50
    rest = [c for c in table.columns if c not in thermal]
    pd.testing.assert_frame_equal(copies[rest], table.loc[copies.index, rest])
    # Every copy's roof is one warehouse's whole reading, not a mix of several.
    roofs = table.loc[table["true_class"] == "warehouse_or_other", thermal]
    known = set(map(tuple, roofs.to_numpy()))
    assert all(tuple(r) in known for r in copies[thermal].to_numpy())


def test_no_ordinary_roof_copies_without_a_warehouse_roof_to_lend():
    table = _metered_table(np.random.default_rng(5), 500)
    no_warehouse = table[table["true_class"] != "warehouse_or_other"]
    assert ordinary_roof_copies(no_warehouse, np.random.default_rng(6)).empty
    unseen = table.assign(has_thermal=np.where(table["true_class"] == "warehouse_or_other",
                                               0.0, 1.0))
    assert ordinary_roof_copies(unseen, np.random.default_rng(6)).empty
    assert not ordinary_roof_copies(table, np.random.default_rng(6)).empty
