"""The shipped model: saved with skops, loaded only after a sha256 check and a type allow-list."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from detectors.classifier import Model
from pipelines.atomic import atomic_path, atomic_write_text
from pipelines.errors import ModelError
from pipelines.resources import data_path

MODEL_PATH = data_path("models", "classifier.skops")

# Every type the model file may hold beyond skops' defaults; anything else refuses to load.
TRUSTED_TYPES = [
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.PinballLoss",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.preprocessing._label.LabelEncoder",
    "detectors.ensemble.MeanScorer",
    "builtins.slice",
]


# Models loaded in this process by path, checksum and file identity (mtime, size), so that
# preflight and the flow load it once and a changed file is checked again.
_LOADED: dict[tuple[str, str, int, int], Model] = {}


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sum_path(path: Path) -> Path:
    """The model's .sha256 beside it."""
    return path.with_suffix(path.suffix + ".sha256")


def model_checksum(path: Path = MODEL_PATH) -> str:
    """The model's recorded sha256 (what cache keys use; load_model verifies it)."""
    sum_path = _sum_path(path)
    if not sum_path.is_file():
        raise ModelError(f"{sum_path}: missing; rebuild the model with `computewatch train`")
    return sum_path.read_text().split()[0]


def save_model(model: Model, path: Path = MODEL_PATH) -> str:
    """Write the model and its .sha256 atomically; return the checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"classifier": model.classifier, "mw_regressors": model.mw_regressors,
               "version": model.version, "features": list(model.features),
               "scorer": model.scorer}
    import skops.io as sio

    with atomic_path(path) as tmp:
        sio.dump(payload, tmp, compression=8)
    checksum = sha256(path)
    atomic_write_text(_sum_path(path), f"{checksum}  {path.name}\n")
    return checksum


def verify_model(path: Path = MODEL_PATH) -> str:
    """The model's checksum, after checking that the file and its .sha256 agree.

    What a run checks before any work (a fraction of a second); loading, with its check of
    the types inside, waits until a run has something to score.
    """
    if not path.is_file() or not _sum_path(path).is_file():
        raise ModelError(f"{path}: model or its .sha256 is missing; rebuild it with "
                         "`computewatch train`")
    expected = model_checksum(path)
    if sha256(path) != expected:
        raise ModelError(f"{path}: sha256 does not match {_sum_path(path).name}; the file was "
                         "altered or corrupted: restore it from git or rebuild with "
                         "`computewatch train`")
    return expected


def load_model(path: Path = MODEL_PATH) -> Model:
    """Load the model after checking its checksum and that it holds only trusted types."""
    stat = path.stat() if path.is_file() else None
    expected = model_checksum(path) if _sum_path(path).is_file() else ""
    memo_key = (str(path.resolve()), expected, stat.st_mtime_ns if stat else 0,
                stat.st_size if stat else 0)
    memo = _LOADED.get(memo_key)
    if memo is not None:
        return memo
    verify_model(path)
    import skops.io as sio  # loads in about 3 s: only when a model is needed
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        payload = sio.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise ModelError(f"{path}: holds types outside the allow-list: {exc}") from exc
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError, AttributeError,
            ImportError, json.JSONDecodeError) as exc:
        # skops reads a zip of JSON schemas: a file that passes the checksum but is not one
        # (a checksum recomputed over a broken file) fails in any of these ways.
        raise ModelError(f"{path}: not a readable skops model ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); restore it from git or rebuild it with "
                         "`computewatch train`") from None
    if not isinstance(payload, dict) or not {"classifier", "mw_regressors", "version",
                                              "features"} <= set(payload):
        raise ModelError(f"{path}: not a computewatch model (keys missing); restore it from "
                         "git or rebuild it with `computewatch train`")
    model = Model(payload["classifier"], payload["mw_regressors"], payload["version"],
                  payload["features"], payload.get("scorer"))
    _LOADED[memo_key] = model
    return model
