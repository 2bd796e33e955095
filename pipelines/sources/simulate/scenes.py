"""Landsat-like surface temperature scenes of the simulated world, with QA_PIXEL bits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import rasterio.features
import shapely
from scipy import ndimage

from detectors.thermal import sun_sin
from pipelines.bundle.imagery import ST_OFFSET, ST_SCALE
from pipelines.reference import ref
from pipelines.sources.simulate.loads import Series, gas_plant_running
from pipelines.sources.simulate.world import World, bounds, draw

SUPERSAMPLE = 2  # footprints are rasterised at 15 m, then averaged to the 30 m grid
# TIRS point spread: 100 m native pixels delivered at 30 m (USGS LSDS-1574); a Gaussian of
# FWHM about 100 m has sigma = 100 / 2.355 = 42 m = 1.4 pixels of 30 m.
PSF_SIGMA_PX = ref("thermal_resolution_m").value / 2.355 / 30.0


@dataclass
class SceneArrays:
    """One rendered scene: its time, its bands as Landsat writes them, and what it shows."""

    acquired: pd.Timestamp
    st_dn: np.ndarray
    qa: np.ndarray
    cloud_cover: float
    platform: str


def _field(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """A smooth random field with zero mean and unit variance, made coarse then zoomed."""
    f = max(1, int(scale_px // 4))
    small = rng.normal(size=(shape[0] // f + 2, shape[1] // f + 2))
    small = ndimage.gaussian_filter(small, scale_px / f)
    out = ndimage.zoom(small, f, order=1)[:shape[0], :shape[1]]
    return (out - out.mean()) / (out.std() + 1e-9)


@dataclass
class Landscape:
    """The static surface: land cover, water, towns, and where each footprint lies."""

    vegetation: np.ndarray
    water: np.ndarray
    urban: np.ndarray
    labels_hi: np.ndarray  # facility index + 1 at 15 m, 0 elsewhere
    extra_hi: np.ndarray  # hot yards at 15 m (site index + 1): generation off the grid, slag


def landscape(rng: np.random.Generator, world: World) -> Landscape:
    """Land cover fields and rasterised footprints on the working grid."""
    g = world.raster
    shape = (g.height, g.width)
    vegetation = 1 / (1 + np.exp(-1.5 * _field(rng, shape, 40)))
    water = _field(rng, shape, 25) > 2.3
    yy, xx = np.mgrid[0:g.height, 0:g.width]
    x = g.transform.c + (xx + 0.5) * g.transform.a
    y = g.transform.f + (yy + 0.5) * g.transform.e
    urban = np.zeros(shape)
    for tx, ty, r in world.towns:
        urban = np.maximum(urban, np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * r**2)))
    hi = rasterio.Affine(g.transform.a / SUPERSAMPLE, 0, g.transform.c, 0,
                         g.transform.e / SUPERSAMPLE, g.transform.f)
    hi_shape = (g.height * SUPERSAMPLE, g.width * SUPERSAMPLE)
    labels = rasterio.features.rasterize(
        ((f["geometry"], i + 1) for i, f in enumerate(world.facilities)), out_shape=hi_shape,
        transform=hi, fill=0, dtype="int32")
    yards = []
    shown = _generation_yards_shown(world)
    for k, site in enumerate(world.sites):
        # Off the grid, a site makes its own power beside its halls (AI campuses on turbines,
        # miners on gas gensets); steel works tip slag in open pits. Same yard for all three.
        # A refinery's process area was laid out with its buildings (world._campus).
        if "yard_geometry" in site.params:
            yards.append((site.params["yard_geometry"], k + 1))
        elif (site.params.get("off_grid") and shown[k]) or site.params.get("yard"):
            cx, cy = site.centre
            x0 = cx + rng.choice([-1, 1]) * rng.uniform(250, 450)
            yards.append((shapely.box(x0 - 40, cy - 60, x0 + 40, cy + 60), k + 1))
    extra = rasterio.features.rasterize(yards, out_shape=hi_shape, transform=hi, fill=0,
                                        dtype="int32") if yards else np.zeros(hi_shape, "int32")
    return Landscape(vegetation, water, urban, labels, extra)


def _generation_yards_shown(world: World) -> np.ndarray:
    """Per site, whether an off-grid site's generation stands as an open yard.

    A share of the region's off-grid sites (off_grid_yard_share) is drawn on a stream of its
    own: at the reference table's share of 1 every one shows its yard and the region is the
    one drawn before this choice existed.
    """
    rng = np.random.default_rng(np.random.SeedSequence([world.seed, 7]))
    share = draw(rng, "off_grid_yard_share")
    shown: np.ndarray = rng.uniform(size=len(world.sites)) < share
    return shown


def _pool(hi: np.ndarray) -> np.ndarray:
    """Average SUPERSAMPLE x SUPERSAMPLE blocks back to the 30 m grid."""
    h, w = hi.shape[0] // SUPERSAMPLE, hi.shape[1] // SUPERSAMPLE
    return hi.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean(axis=(1, 3))


def _broad_blur(a: np.ndarray, sigma_px: float) -> np.ndarray:
    """A wide Gaussian blur done on a 5x coarser grid (the heat-island halo)."""
    f = 5
    h, w = a.shape
    ph, pw = (-h) % f, (-w) % f
    padded = np.pad(a, ((0, ph), (0, pw)))
    small = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).mean(axis=(1, 3))
    small = ndimage.gaussian_filter(small, sigma_px / f)
    return ndimage.zoom(small, f, order=1)[:h, :w]


def _facility_excess(rng: np.random.Generator, world: World, series: Series, hour: int,
                     sun: float, wind_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Roof temperature above the ground (K) per facility: sunlit roof and rejected heat."""
    n = len(world.facilities)
    solar, waste = np.zeros(n), np.zeros(n)
    sites = {s.site_id: s for s in world.sites}
    gain = draw(rng, "roof_solar_gain_k_summer")
    for i, fac in enumerate(world.facilities):
        # Sunlit roofs: a dark roof runs up to roof_solar_gain above the ground in full sun.
        solar[i] = gain * sun * (1 - fac["albedo"]) / 0.9
        site = sites.get(fac["site_id"])
        power = series.hall_power_mw.get(fac["facility_id"])
        area = fac["geometry"].area
        if site is not None and site.subtype == "gas_plant":
            running = gas_plant_running(site, series.price[hour:hour + 1])[0]
            waste[i] = rng.uniform(15, 40) if running else rng.uniform(0, 2)
        elif power is not None and site is not None:
            # Rejected heat flux (W/m2) warms the surface by shf * q / h (Newton cooling).
            q = power[hour] * 1e6 / area
            waste[i] = site.params.get("shf", 0.05) * q / wind_h
        elif power is not None:
            waste[i] = 0.05 * power[hour] * 1e6 / area / wind_h
    return solar, waste


def _clouds(rng: np.random.Generator, shape: tuple[int, int], kelvin: np.ndarray,
            qa: np.ndarray) -> float:
    """Clouds, their shadows, thin edges QA misses, cirrus: drawn into kelvin and qa in place."""
    low, high = bounds("scene_cloud_cover")
    cover = float(np.clip(low + (min(high, 0.97) - low) * rng.beta(0.6, 1.1), 0, 0.97))
    if cover < 0.01:
        return 0.0
    noise = _field(rng, shape, rng.uniform(8, 30))
    thresh = np.quantile(noise, 1 - cover)
    cloud = noise > thresh
    missed_edge = (noise > thresh - rng.uniform(0.05, 0.35)) & ~cloud
    if rng.uniform() < draw(rng, "qa_missed_cloud_fraction") / 0.15:
        kelvin[missed_edge] -= rng.uniform(2, 8)  # thin cloud CFMask did not flag
    dilated = ndimage.binary_dilation(cloud, iterations=3) & ~cloud
    dy, dx = rng.integers(-25, 25, 2)
    shadow = np.roll(np.roll(cloud, dy, axis=0), dx, axis=1) & ~cloud
    kelvin[shadow] -= rng.uniform(2, 6)
    kelvin[cloud] = rng.uniform(225, 268) + 3 * noise[cloud]
    qa[cloud] |= (1 << 3) | (1 << 1)
    qa[dilated] |= 1 << 1
    qa[shadow & (rng.uniform(size=shape) < 0.9)] |= 1 << 4
    if rng.uniform() < 0.15:
        cirrus = _field(rng, shape, 40) > 1.5
        qa[cirrus] |= 1 << 2
        kelvin[cirrus] -= rng.uniform(1, 3)
    return float(cloud.mean())


def _edge_fill(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """The slanted edge of a Landsat path crossing the region: fill beyond it."""
    if rng.uniform() > 0.3:
        return np.zeros(shape, bool)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    slope = np.tan(np.radians(rng.uniform(-14, 14)))  # path inclination about 98 deg
    cut = rng.uniform(0.05, 0.25) * shape[1]
    edge = xx < cut + slope * (yy - shape[0] / 2)
    return edge if rng.uniform() < 0.5 else edge[:, ::-1]


def render_scene(rng: np.random.Generator, world: World, land: Landscape, series: Series,
                 date: pd.Timestamp, platform: str) -> SceneArrays:
    """One daytime scene near 10:12 local solar time, encoded as C2 L2 ST_B10 and QA_PIXEL."""
    local_hour = draw(rng, "overpass_local_hour")
    acquired = (date + pd.Timedelta(hours=local_hour - world.lon / 15.0)).round("s")
    hour = int(np.clip((acquired - series.times[0]) / pd.Timedelta(hours=1), 0,
                       len(series.times) - 1))
    t_air = series.temp_c[hour] + 273.15
    doy = acquired.day_of_year
    sun = float(sun_sin(world.lat, doy, local_hour))
    sun_max = float(sun_sin(world.lat, 172 if world.lat >= 0 else 355, local_hour))
    s = sun / max(sun_max, 1e-3)
    shape = (world.raster.height, world.raster.width)
    ground = t_air + s * (2 + 6 * (1 - land.vegetation)) + land.urban * rng.uniform(1, 4) * s
    t_water = 273.15 + series.temp_c[max(0, hour - 24 * 30):hour + 1].mean() - 1.0
    ground = np.where(land.water, t_water, ground)
    wind_h = draw(rng, "convective_h_w_m2k")
    solar, waste = _facility_excess(rng, world, series, hour, s, wind_h)
    lut_roof = np.concatenate([[0.0], solar - (2 + 6 * 0.5) * s])
    lut_waste = np.concatenate([[0.0], waste])
    # A yard's 15 m cells run 20 to 45 K above the ground: exhaust stacks at 450 to 550 C and
    # slag at several hundred C cover a small share of each cell (simulator assumption). A
    # refinery's process area is far larger and cooler (refinery_process_excess_k).
    yard_lut = np.concatenate([[0.0], [draw(rng, "refinery_process_excess_k")
                                       if s.subtype == "refinery" else rng.uniform(20, 45)
                                       for s in world.sites]])
    roof = _pool(lut_roof[land.labels_hi])
    heat = _pool(lut_waste[land.labels_hi] + yard_lut[land.extra_hi])
    halo = _broad_blur(heat, rng.uniform(10, 25)) * rng.uniform(2, 6)
    kelvin = ground + roof + heat + halo + 0.4 * _field(rng, shape, 3)
    kelvin = ndimage.gaussian_filter(kelvin, PSF_SIGMA_PX) + rng.normal(0, 0.25, shape)
    qa = np.where(land.water, (1 << 7) | (1 << 6), 1 << 6).astype(np.uint16)
    cloud_cover = _clouds(rng, shape, kelvin, qa)
    clear_bits = (qa & 0b0011_1110) == 0
    qa = np.where(clear_bits, qa, qa & ~np.uint16(1 << 6)).astype(np.uint16)
    dn = np.clip(np.round((kelvin - ST_OFFSET) / ST_SCALE), 1, 65535).astype(np.uint16)
    fill = _edge_fill(rng, shape)
    dn[fill] = 0
    qa[fill] = 1
    return SceneArrays(acquired, dn, qa, cloud_cover, platform)


def scene_dates(rng: np.random.Generator, start: pd.Timestamp, days: int,
                n: int) -> list[tuple[pd.Timestamp, str]]:
    """Dates of n overpasses: Landsat 8 and 9 each every 16 days, offset by 8 (USGS)."""
    first = int(rng.integers(0, 8))
    slots = [(start.normalize() + pd.Timedelta(days=d), "landsat-8" if (d - first) % 16 == 0
              else "landsat-9") for d in range(first, days, 8)]
    pick = np.sort(rng.choice(len(slots), size=min(n, len(slots)), replace=False))
    return [slots[i] for i in pick]
