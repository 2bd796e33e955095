"""Where the shipped data and the working folder are, in a source checkout or a wheel install.

The shipped data (reference table, model, EIA's balancing-authority table, building shapes)
is the `computewatch_data` package, found through importlib.resources, so an installed wheel
works as well as a checkout; a checkout reads its own data/ folder. The working folder holds
flows.yaml, the alert store, caches and Prefect's state: the checkout's root when running
from one, else the current directory.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[1]  # holds the pipelines/ and detectors/ packages


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "flows.yaml").is_file()


WORKSPACE = CODE_ROOT if _is_checkout(CODE_ROOT) else Path.cwd()


def package_version() -> str:
    """The installed distribution's version: pyproject.toml's, the one version string."""
    try:
        return version("computewatch")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "unknown"


def data_path(*parts: str) -> Path:
    """A file or folder of the shipped data (parts joined below the data folder).

    A checkout reads its own data/, beside its code: the `computewatch_data` package may be
    another checkout's editable install (a git worktree or a second clone run with this one's
    code), and code must not run on data from another tree (the simulator on another
    reference table, under a cache key hashed from this one's). Else the installed package.
    """
    if _is_checkout(CODE_ROOT) and (CODE_ROOT / "data").is_dir():
        return CODE_ROOT.joinpath("data", *parts)
    return Path(str(files("computewatch_data").joinpath(*parts)))
