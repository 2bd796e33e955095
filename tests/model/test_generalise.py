"""`computewatch generalise`: the protocol's table, one split end to end on a few regions."""

import pytest

from pipelines.errors import UsageError
from pipelines.model import generalise as gen
from pipelines.model.generalise import SPLITS, SplitResult, generalise, markdown
from pipelines.settings import load_config


def test_an_unknown_split_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown split"):
        generalise(load_config().defaults, ["moon phase"], 1, 1, 1, 0, 0, 1, "c")


def _result(name: str, sites: int, found: int, alerts: int, hits: int) -> SplitResult:
    return SplitResult(name, "a", "b", {
        "ai_sites_20mw": sites, "ai_sites_found": found, "alerts_ai": hits,
        "recall_ai_20mw": found / sites if sites else None,
        "mw_recall_ai_20mw": None, "precision_alerts_ai": hits / alerts if alerts else None,
        "recall_off_grid": None, "campuses_over_100mw_not_exported": 0, "ai_meters_own": 0,
        "ai_meters": 0, "mw_median_ape_on_grid": None, "alerts": alerts,
        "alert_threshold": 0.7})


def test_the_split_rows_are_pooled_as_counts_and_the_presets_are_not():
    """What a change is judged on: sites found and alerted buildings AI summed over the split
    rows; the shipped model's preset rows judge another model and stay out."""
    text = markdown([_result("cooling type", 28, 23, 92, 88),
                     _result("hall size", 29, 25, 84, 69),
                     _result("shipped model, stress preset", 37, 30, 206, 181)], "c")
    assert text.splitlines()[-1] == ("Over the split rows: 48 of 57 AI sites of 20 MW or "
                                      "more found, 157 of 176 alerted buildings AI (89.2%).")
    assert "Over the split rows" not in markdown(
        [_result("shipped model, county preset", 30, 27, 186, 159)], "c")


def test_the_model_seed_reaches_every_split_model(monkeypatch):
    seeds = []

    def fake_split(split, n_train, n_cal, n_eval, jobs, export, model_seed):
        seeds.append((split.factor, model_seed))
        return _result(split.factor, 1, 1, 1, 1)

    monkeypatch.setattr(gen, "run_split", fake_split)
    generalise(load_config().defaults, ["cooling type", "hall size"], 1, 1, 1, 0, 0, 1, "c",
               model_seed=42)
    assert seeds == [("cooling type", 42), ("hall size", 42)]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The least populated class")  # one calibration region
def test_one_split_trains_judges_and_writes_its_row(tmp_path, monkeypatch):
    """Two training regions, one calibration and one judging county region: the row names
    the ranges trained and judged on and carries the SPEC's measures."""
    import pipelines.model.train as train

    monkeypatch.setattr(train, "CACHE_DIR", tmp_path / "cache")  # not the repository's
    out = tmp_path / "generalisation.md"
    text = generalise(load_config().defaults, ["generation yard"], 2, 1, 1, 0, 0, 1,
                      "computewatch generalise --splits 'generation yard'", out)
    assert out.read_text() == text
    assert text.startswith("Made by `computewatch generalise --splits 'generation yard'`")
    rows = [line for line in text.splitlines() if line.startswith("| generation yard |")]
    lines = text.splitlines()
    assert len(rows) == 1 and len(lines) == 7  # targets, blank, header, rule, row, blank, pool
    assert lines[-1].startswith("Over the split rows: ")
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    split = SPLITS["generation yard"]
    assert cells[1:3] == [f"off_grid_yard_share {lo:g} to {hi:g}"
                          for lo, hi in (split.train["off_grid_yard_share"],
                                         split.judge["off_grid_yard_share"])]
    assert int(cells[3]) >= 1  # a county region holds AI sites of 20 MW or more
    assert cells[4].endswith("%") and 0.0 < float(cells[11]) < 1.0  # recall, threshold
    own, of = (int(v) for v in cells[9].split(" of "))  # AI sites with their own meter
    assert 0 <= own <= of <= int(cells[3])
    assert list((tmp_path / "cache").glob("train-300000-*.pkl"))  # tables cached there
