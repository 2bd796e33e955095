"""`computewatch generalise`: the protocol's table, one split end to end on a few regions."""

import pytest

from pipelines.errors import UsageError
from pipelines.model.generalise import SPLITS, generalise
from pipelines.settings import load_config


def test_an_unknown_split_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown split"):
        generalise(load_config().defaults, ["moon phase"], 1, 1, 1, 0, 0, 1, "c")


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
    assert len(rows) == 1 and len(text.splitlines()) == 5  # targets, blank, header, rule, row
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
