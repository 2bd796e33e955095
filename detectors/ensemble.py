"""The mean of scorers fitted on separate augmentation draws.

One draw of augment's copies moves a single scorer's calibrated threshold: a split's threshold
ranged 0.62 to 0.82 over model seeds, while resampling the calibration regions moved it by at
most 0.03 (docs/evaluation.md, "Tried after cw-0.15.0"). Averaging scorers over draws steadies
it. The mean of scorers each monotonic in a feature is monotonic in it too: MONOTONE holds.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class MeanScorer(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Mean predict_proba of fitted binary scorers that share their classes."""

    def __init__(self, members: list[ClassifierMixin] | None = None) -> None:
        self.members = members

    def fit(self, x: np.ndarray | None = None, y: np.ndarray | None = None) -> MeanScorer:
        """Take the members' classes: they are fitted already, and x and y are not used."""
        if not self.members:
            raise ValueError("MeanScorer needs at least one fitted member")
        classes = [np.asarray(m.classes_) for m in self.members]
        if any(not np.array_equal(c, classes[0]) for c in classes[1:]):
            raise ValueError(f"members disagree on their classes: {classes}")
        self.classes_ = classes[0]
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The members' probabilities, averaged."""
        members = self.members or []
        mean: np.ndarray = np.mean([m.predict_proba(x) for m in members], axis=0)
        return mean

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class of highest mean probability."""
        return np.asarray(self.classes_[self.predict_proba(x).argmax(axis=1)])
