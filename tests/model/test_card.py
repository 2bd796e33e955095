"""The model card `computewatch train` writes: its probe table is the model's own."""

import pandas as pd

from pipelines.detect.stages import DetectOptions
from pipelines.model.card import (
    GENERALISATION_HEADING,
    PROBES_HEADING,
    put_generalisation,
    write_model_card,
)
from pipelines.model.probes import PROBES, probe_table
from pipelines.model.store import load_model
from pipelines.model.train import TrainResult


def _card(tmp_path, threshold):
    model = load_model()
    result = TrainResult(model, train_rows=10, cal_rows=5, train_regions=2, cal_regions=1,
                         label_rows=0, alert_threshold=threshold, cal_preset="county")
    path = tmp_path / "model_card.md"
    write_model_card(path, result, "0" * 64, [], pd.DataFrame(), DetectOptions(0.3, threshold),
                     "county")
    return model, path


def test_the_card_scores_issue_10s_sites_with_its_model_at_its_threshold(tmp_path):
    model, path = _card(tmp_path, 0.61)
    text = path.read_text()
    assert f"{PROBES_HEADING}\n" in text
    assert "alert threshold 0.61:" in text
    assert probe_table(model, 0.61) in text
    assert len(probe_table(model, 0.61).splitlines()) == len(PROBES) + 2


def test_a_fresh_generalisation_table_keeps_the_probe_table(tmp_path):
    model, path = _card(tmp_path, 0.5)
    put_generalisation(path, "| split | recall |\n|---|---|\n| climate | 90% |")
    text = path.read_text()
    assert probe_table(model, 0.5) in text
    assert text.index(PROBES_HEADING) < text.index(GENERALISATION_HEADING)
    assert text.rstrip().endswith("| climate | 90% |")
    assert not list(tmp_path.glob("*.tmp"))
