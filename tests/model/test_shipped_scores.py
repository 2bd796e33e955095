"""The shipped model on the sites issue 10 reported missed on regions made by another generator."""

from functools import cache

import pandas as pd
import pytest

from pipelines.model.probes import (
    OFF_GRID,
    TURBINE_YARD_SHARE,
    as_seen,
    campus,
    off_grid,
    probe_table,
    warehouse_park,
)
from pipelines.model.store import MODEL_PATH, load_model
from pipelines.settings import load_config


@cache
def _shipped():
    return load_model(), load_config().defaults.thresholds.alert


def alerted(features: pd.DataFrame) -> bool:
    model, threshold = _shipped()
    return bool(model.probabilities(features)["ai_training"].iloc[0] >= threshold)


MARKS = {"dips_per_30d": 1.67, "price_spike_ratio": 1.018, "price_response": 0.05}


@pytest.mark.parametrize("roof_k", [9.0, 12.0, 16.0])
def test_the_simulators_marks_never_raise_the_score(roof_k):
    """One or two job-restart dips a month, a 2% rise in price spikes and a +0.05 price
    correlation: the marks this simulator once left on every AI load (cw-0.5.0 learned them
    as the sign of AI). A flat load without them must score at least as high."""
    model, _ = _shipped()
    plain, marked = (model.probabilities(frame)["ai_training"].iloc[0]
                     for frame in (campus(roof_k), campus(roof_k, **MARKS)))
    assert marked <= plain


@pytest.mark.parametrize("roof_k", [9.0, 12.0])
def test_the_campus_is_alerted_as_another_generator_draws_it(roof_k):
    """The campus as another generator may draw it: a flat load, nothing more."""
    assert alerted(campus(roof_k))


def test_the_hottest_campus_is_alerted():
    """The same campus with roofs 16 K up and hot spots of 24 K (cw-0.6.0 read it as a
    smelter's potroom and scored it 0.36)."""
    assert alerted(campus(16.0))


@pytest.mark.parametrize("roof_k", [6.0, 8.0])
def test_a_hotter_yard_never_lowers_an_unmetered_hot_halls_score(roof_k):
    model, _ = _shipped()
    scores = [model.probabilities(off_grid(roof_k, y, 15_000.0, 15_000.0))["ai_training"].iloc[0]
              for y in (0.0, 5.0, 10.0, 15.0)]
    assert scores == sorted(scores)
    assert scores[-1] > scores[0] + 0.2  # and the yard is read at all


@pytest.mark.parametrize("true_k", [6.0, 10.0])
@pytest.mark.parametrize("metered", [True, False])
def test_a_larger_hall_at_the_same_roof_heat_never_scores_lower(true_k, metered):
    """Read through the blur, a larger roof shows more of its heat; at the heat the roof
    holds, size alone never lowers the score (issue 10)."""
    model, _ = _shipped()
    extra = {} if metered else {**OFF_GRID, "thermal_yard_k": 10.0,
                                "thermal_yard_hot_share": TURBINE_YARD_SHARE}
    scores = [model.probabilities(pd.DataFrame([{**campus(true_k).iloc[0].to_dict(),
                                                 **as_seen(true_k, a, **extra)}]))
              ["ai_training"].iloc[0] for a in (14_000.0, 30_000.0, 72_000.0, 150_000.0)]
    assert scores == sorted(scores)


def test_a_metered_campus_is_scored_on_its_meter_not_its_yard():
    model, _ = _shipped()
    cool, hot = (model.probabilities(campus(12.0, thermal_yard_k=y))["ai_training"].iloc[0]
                 for y in (0.0, 10.0))
    assert cool == hot


def test_a_large_off_grid_campus_with_turbines_beside_it_is_alerted():
    """Halls of 72,000 m2 (144,000 m2 of campus) with no meter, 8 K up, turbines 10 K up."""
    assert alerted(off_grid(8.0, 10.0, 72_000.0, 144_000.0))


# A known failure, kept strict so that the model that fixes it must say so here.
@pytest.mark.xfail(strict=True, reason="the shipped model scores the lone unmetered 15,000 m2 "
                   "hall 6 and 8 K up with its turbines' yard 10 K up under its alert threshold: "
                   "its free median excess marks it down as the roof heats, and the class model "
                   "gives the rest to a miner on gensets (the model card's table of issue 10's "
                   "sites; docs/evaluation.md, the median excess left out)")
@pytest.mark.parametrize("roof_k", [6.0, 8.0])
def test_issue_10s_off_grid_hall_is_alerted(roof_k):
    """Issue 10's off-grid halls of 37 to 44 MW: about 15,000 m2 at 2.5 to 3 kW/m2, roofs 5
    to 8 K up; here with a turbine yard 10 K up beside them."""
    assert alerted(off_grid(roof_k, 10.0, 15_000.0, 15_000.0))


@pytest.mark.xfail(strict=True, reason="the shipped model scores an unmetered hall with no "
                   "yard far under its alert threshold at roof temperatures of 3 to 12 K: its "
                   "class model reads it as a warehouse or a miner (the model card's table of "
                   "issue 10's sites; docs/evaluation.md)")
def test_issue_10s_off_grid_hall_without_a_yard_is_alerted():
    """The same hall 8 K up with no yard beside it: the issue names none, and the protocol's
    generation-yard split judges regions where off-grid sites show none."""
    assert alerted(off_grid(8.0, 0.0, 15_000.0, 15_000.0))


@pytest.mark.parametrize("roof_k", [2.0, 3.0, 4.0])
def test_issue_10s_warehouse_park_is_not_alerted(roof_k):
    """Issue 10's second failure: such buildings scored 0.88 to 0.99 in its hold-out regions,
    and 0.38 to 0.62 with cw-0.7.0, whose simulator never grouped warehouses into a campus."""
    assert not alerted(warehouse_park(roof_k))


def test_the_model_card_carries_the_shipped_models_own_scores():
    """The card's table of issue 10's sites is the shipped model's, at flows.yaml's alert
    threshold: `train` writes it, so a model shipped without its card, or a card edited by
    hand, fails here."""
    model, threshold = _shipped()
    assert probe_table(model, threshold) in MODEL_PATH.with_name("model_card.md").read_text()


def test_the_probe_table_says_which_sites_are_alerted():
    model, _ = _shipped()
    rows = [probe_table(model, t).splitlines()[2:] for t in (0.0, 1.01)]
    assert all(r.split(" | ")[2] == "yes" for r in rows[0])
    assert all(r.split(" | ")[2] == "no" for r in rows[1])
    should = {r.split(" | ")[3] for r in rows[0]}
    assert should == {"yes |", "no |"}
