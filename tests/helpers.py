"""Small hand-built region bundles for tests: valid by default, each part replaceable."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from detectors.classifier import CLASSES, FEATURES

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
# A box near 39 N, 77.5 W (UTM zone 18N), small enough to be read fast.
BBOX = [-77.52, 38.98, -77.48, 39.02]


def feature_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Feature rows to fit a model on: random classes, unit-normal features and the truth
    columns training reads, with no signal (each test adds its own)."""
    cls = rng.choice(CLASSES, size=n)
    x = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    x["substation_distance_m"] = rng.uniform(0, 3000, n)
    x["it_mw"] = np.where(cls == "ai_training", 50.0, 0.0)
    x["thermal_scenes_used"] = 5
    x["true_class"] = cls
    return x


def square(lon: float, lat: float, d: float = 0.001) -> list:
    """A counter-clockwise lon/lat square ring."""
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def feature(fid: object, geometry: dict, **props: object) -> dict:
    return {"type": "Feature", "properties": {"facility_id": fid, **props},
            "geometry": geometry}


def polygon(lon: float, lat: float) -> dict:
    return {"type": "Polygon", "coordinates": square(lon, lat)}


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def load_rows(node: str = "N1", hours: int = 48, start: str = "2025-03-01T00:00:00+00:00",
              mw: float = 50.0) -> pd.DataFrame:
    times = pd.date_range(start, periods=hours, freq="h")
    return pd.DataFrame({"node_id": node, "timestamp": [t.isoformat() for t in times],
                         "mw": mw})


def make_bundle(root: Path, facilities: list[dict] | None = None,
                load: pd.DataFrame | None = None, nodes: list[dict] | None = None,
                region: dict | None = None) -> Path:
    """Write a minimal valid bundle; any part can be replaced to make it bad."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "region.yaml").write_text(yaml.safe_dump(region or {"name": "t", "bbox": BBOX}))
    feats = facilities if facilities is not None else [
        feature("A", polygon(-77.50, 39.00)), feature("B", polygon(-77.505, 39.005))]
    write_json(root / "facilities.geojson", {"type": "FeatureCollection", "features": feats})
    write_json(root / "grid" / "nodes.geojson", {"type": "FeatureCollection", "features": nodes or [
        {"type": "Feature", "properties": {"node_id": "N1", "kind": "substation"},
         "geometry": {"type": "Point", "coordinates": [-77.501, 39.001]}}]})
    (load if load is not None else load_rows()).to_csv(root / "grid" / "load.csv", index=False)
    return root


def copy_demo(dst: Path) -> Path:
    """A writable copy of the embedded demo region."""
    shutil.copytree(DEMO, dst)
    return dst


def detect_settings(export: float = 0.3, alert: float = 0.5, store: str | None = None):
    """Detect settings as flows.yaml's defaults would give them, with these thresholds."""
    from pipelines.settings import DetectSettings

    return DetectSettings().with_overrides(export=export, alert=alert).model_copy(
        update={"alert_store": store or ""})


# The web app's tests (tests/ui): every test user's password, and a facility whose name and id
# try to run script in the page and to leave the evidence folder.
PASSWORD = "correct horse battery"
HOSTILE_NAME = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"
HOSTILE_ID = "../../etc/passwd"


def apt_install(package: str, present: Callable[[], object]) -> None:
    """Debian's package, when the machine lacks it and we are root (CI on a fresh machine).

    One install at a time across the test workers (a file lock), and apt waits for dpkg's
    own lock rather than failing while another worker installs PostgreSQL or chromium.
    """
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    with open(Path(tempfile.gettempdir()) / "cw-apt-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if present():
            return
        subprocess.run(["apt-get", *wait, "update", "-qq"], check=False, env=env,
                       capture_output=True)
        subprocess.run(["apt-get", *wait, "install", "-y", "-qq", package], check=False,
                       env=env, capture_output=True)


def four_tiles(bundle) -> int:
    """limits.tile_pixels that cut a bundle's working grid into 2 x 2 tiles."""
    import math

    from detectors.thermal import BACKGROUND_STRIDE, RING_BLOCK
    from pipelines.detect.tiles import halo_pixels

    g = bundle.raster
    halo = halo_pixels(bundle.facilities.geometry, g.transform.a)
    step = math.lcm(RING_BLOCK, BACKGROUND_STRIDE)
    side = -(-max(g.height, g.width) // 2 // step) * step + step
    return (side + 2 * halo) ** 2
