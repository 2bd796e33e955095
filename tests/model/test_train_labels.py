"""Analysts' decisions feed training: labelled rows pull the model toward them."""

import numpy as np
import pandas as pd
import pytest

from pipelines.model.train import fit_model

from helpers import feature_table


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = feature_table(rng, n)
    cls = x["true_class"].to_numpy()
    x["thermal_delta_k"] += np.where(cls == "ai_training", 6.0, 0.0)
    x["load_factor"] += np.where(np.isin(cls, ["ai_training", "crypto_mining"]), 2.0, 0.0)
    return x


def test_labels_move_the_model():
    rng = np.random.default_rng(0)
    train, cal = _table(rng, 600), _table(rng, 300)
    probe = _table(rng, 40)
    probe["true_class"] = "warehouse_or_other"
    probe[["thermal_delta_k", "load_factor"]] = 0.0  # looks like a warehouse
    base = fit_model(train, cal, 0, "t").probabilities(probe)["ai_training"].mean()
    labels = probe.assign(true_class="ai_training")  # analysts confirmed such sites
    tuned = fit_model(train, cal, 0, "t", labels).probabilities(probe)["ai_training"].mean()
    assert tuned > base + 0.2


def test_bad_label_files_are_usage_errors_naming_the_file(tmp_path):
    from pipelines.errors import UsageError
    from pipelines.model.train import load_labels

    missing = tmp_path / "none.csv"
    with pytest.raises(UsageError, match="none.csv: cannot be read"):
        load_labels(missing)
    no_class = tmp_path / "no_class.csv"
    no_class.write_text("load_factor\n0.9\n")
    with pytest.raises(UsageError, match="no true_class column"):
        load_labels(no_class)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("load_factor,true_class\n0.9,ai_training\n0.5,bitcoin\n")
    with pytest.raises(UsageError, match=r"rows \[3\].*'bitcoin'"):
        load_labels(unknown)
