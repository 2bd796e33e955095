"""The real Landsat C2 L2 scene decodes to plausible Kelvin with clouds masked by QA_PIXEL."""

from pathlib import Path

import numpy as np
import rasterio

from pipelines.bundle.imagery import QA_UNUSABLE_MASK, decode_kelvin, read_scene
from pipelines.errors import ProblemLog

DATA = Path(__file__).parents[1] / "data" / "landsat"


def test_real_scene_decodes_to_plausible_kelvin_with_clouds_masked():
    log = ProblemLog()
    scene = read_scene(DATA / "item_lwir11.json", log)
    assert scene is not None and log.problems == []
    assert scene.crs.to_epsg() == 32619
    with rasterio.open(scene.thermal_href) as src:
        dn = src.read(1)
    with rasterio.open(scene.qa_href) as src:
        qa = src.read(1)
    kelvin = decode_kelvin(dn)
    fill = dn == 0
    assert np.isnan(kelvin[fill]).all()
    cloud = ((qa & (1 << 3)) > 0) & ~fill
    clear = ((qa & QA_UNUSABLE_MASK) == 0) & ~fill
    assert clear.sum() > 1000 and cloud.sum() > 1000  # 76% cloud: both are present
    # Clear ground in the Bolivian lowlands in January: 15 to 55 C.
    assert 288 < np.median(kelvin[clear]) < 328
    assert np.nanmax(kelvin[clear]) < 335
    # Cloud tops are far colder than the ground they hide.
    assert np.median(kelvin[cloud]) < np.median(kelvin[clear]) - 20
    assert np.nanmin(kelvin[cloud]) < 200


def test_real_scene_reads_onto_a_grid_with_mask():
    from pyproj import CRS

    from pipelines.bundle.imagery import RasterGrid

    scene = read_scene(DATA / "item_lwir11.json", ProblemLog())
    grid = RasterGrid.for_bbox((-68.2, -14.8, -67.8, -14.4), CRS.from_epsg(32619), res=450.0)
    kelvin, usable = scene.read(grid)
    assert kelvin.shape == (grid.height, grid.width)
    assert usable.any() and (~usable).any()
    assert np.all((kelvin[usable] > 250) & (kelvin[usable] < 335))
