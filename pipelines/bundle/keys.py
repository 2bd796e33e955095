"""Content keys of a region bundle: what each pipeline stage's cache entry depends on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.bundle.imagery import QA_ASSET, THERMAL_ASSET, asset_path
from pipelines.cache import file_sha256, key_of

BUNDLE_FILES = ("region.yaml", "facilities.geojson", "infrastructure.geojson",
                "declared.geojson", "grid/nodes.geojson", "grid/load.csv", "grid/price.csv")


@dataclass(frozen=True)
class BundleKeys:
    """sha256 of every bundle file, and per scene item a key over the item and its pixels."""

    files: dict[str, str]
    scenes: dict[str, str]

    def of(self, *names: str) -> str:
        """One key over the named files (absent files count as absent)."""
        return key_of({n: self.files.get(n) for n in names})

    @property
    def all_inputs(self) -> dict[str, str]:
        """Every file hash and scene key, for the run report."""
        return {**self.files, **{f"scene:{k}": v for k, v in self.scenes.items()}}


def _scene_key(item_path: Path, root: Path) -> str:
    """The item's hash plus its two assets' content hashes (or hrefs, if unusable).

    Only hrefs inside the bundle are hashed: the key never reads a file the bundle may not.
    """
    parts = {"item": file_sha256(item_path)}
    try:
        item = json.loads(item_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return key_of(parts)
    for asset in (THERMAL_ASSET, QA_ASSET):
        path = asset_path(item, asset, item_path, root)[0] if isinstance(item, dict) else None
        parts[asset] = file_sha256(path) if path is not None and path.is_file() else str(path)
    return key_of(parts)


def bundle_keys(root: Path) -> BundleKeys:
    """Hash every input of a bundle (memoised, so an unchanged bundle is not read again)."""
    files = {name: file_sha256(root / name) for name in BUNDLE_FILES if (root / name).is_file()}
    scenes = {p.name: _scene_key(p, root) for p in sorted((root / "imagery").glob("*.json"))}
    return BundleKeys(files, scenes)
