"""The demo run's outputs are the recorded ones, byte for byte but for the run's clock and id.

tests/data/demo_outputs holds what the detect flow wrote on the embedded demo before the
package was laid out by role (issue 12): a refactor must not change a single output byte.
A deliberate change of outputs (a new model, a new field) records them again with
`python tests/data/demo_outputs/record.py` and says so in its commit.
"""

import json
import re
from pathlib import Path

import pyogrio

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "demo_outputs"
# The only values that depend on when the run happened, or on the code's text: the run id is
# a hash of the inputs, the options and the code fingerprint, so any edit changes it.
CLOCK = re.compile(r'"(first_seen|last_seen|run_id)": ?"[^"]*"')
TEXT_FILES = ["candidates.geojson", "regional.geojson", "candidates.qml"]


def _normalised(path: Path) -> str:
    return CLOCK.sub(r'"\1":"<per run>"', path.read_text(encoding="utf-8"))


def _summaries(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.glob("evidence/*/summary.md"))}


def test_outputs_match_the_recorded_run(demo_run):
    out, _ = demo_run
    for name in TEXT_FILES:
        assert _normalised(out / name) == _normalised(GOLDEN / name), name
    assert _summaries(out) == _summaries(GOLDEN)
    charts = sorted(p.relative_to(out).as_posix() for p in out.glob("evidence/*/*.png"))
    assert charts == json.loads((GOLDEN / "charts.json").read_text())


def test_geopackage_matches_the_recorded_run(demo_run):
    out, _ = demo_run
    ours = pyogrio.read_dataframe(out / "candidates.gpkg")
    recorded = json.loads((GOLDEN / "candidates.geojson").read_text())
    ids = [f["properties"]["facility_id"] for f in recorded["features"]]
    assert ours["facility_id"].tolist() == ids
    scores = [f["properties"]["score"] for f in recorded["features"]]
    assert ours["score"].tolist() == scores
