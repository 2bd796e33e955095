"""The simulated world's layout: towns, campuses of halls, background buildings, grid nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS

from pipelines.bundle.imagery import RasterGrid
from pipelines.bundle.region import utm_crs_for
from pipelines.reference import ref
from pipelines.resources import data_path
from pipelines.sources.simulate.presets import Preset

CELL_M = 100.0  # occupancy cell size used to keep buildings from overlapping


@lru_cache(maxsize=1)
def _shapes() -> list[np.ndarray]:
    """Real data-centre outlines (unit area) from the IM3 atlas, see data/shapes/README.md.

    Each is turned so that its minimum rotated rectangle is axis-aligned, as halls of a
    campus stand parallel to each other.
    """
    raw = json.loads(data_path("shapes", "im3_building_shapes.json").read_text())
    out = []
    for coords in raw["shapes"]:
        poly = shapely.Polygon(coords)
        box = np.asarray(shapely.oriented_envelope(poly).exterior.coords)
        edge = box[1] - box[0]
        poly = shapely.affinity.rotate(poly, -np.degrees(np.arctan2(edge[1], edge[0])),
                                       origin=(0, 0))
        out.append(np.asarray(poly.exterior.coords))
    return out


# The ranges a preset puts in place of the reference table's while one region is simulated.
_RANGES: ContextVar[dict[str, tuple[float, float]] | None] = ContextVar("ranges", default=None)


@contextmanager
def preset_ranges(ranges: dict[str, tuple[float, float]]) -> Iterator[None]:
    """Draw from these ranges instead of the reference table's within the block."""
    token = _RANGES.set(ranges)
    try:
        yield
    finally:
        _RANGES.reset(token)


def bounds(key: str) -> tuple[float, float]:
    """(low, high) of a default: the preset's override, else the reference table's range."""
    overrides = _RANGES.get() or {}
    if key in overrides:
        return overrides[key]
    r = ref(key)
    return r.low, r.high


def draw(rng: np.random.Generator, key: str, log: bool = False) -> float:
    """A value drawn uniformly (or log-uniformly) within a reference default's range."""
    low, high = bounds(key)
    if log:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


@dataclass
class Site:
    """One campus or plant: its halls, its load model parameters and its grid node."""

    site_id: str
    true_class: str
    subtype: str
    centre: tuple[float, float]
    params: dict
    node_id: str | None = None
    declared_id: str | None = None
    declared_it_mw: float | None = None
    hall_ids: list[str] = field(default_factory=list)


@dataclass
class World:
    """Everything placed in a region before any time series is made."""

    seed: int
    preset: Preset
    lon: float
    lat: float
    crs: CRS
    raster: RasterGrid
    bbox: tuple[float, float, float, float]
    towns: list[tuple[float, float, float]]  # x, y, radius
    sites: list[Site]
    facilities: list[dict]
    nodes: list[dict]
    lines: list[dict]


class _Occupancy:
    """A coarse grid of taken cells so buildings never overlap."""

    def __init__(self) -> None:
        self.taken: set[tuple[int, int]] = set()

    def cells(self, geom: shapely.Geometry, pad: float) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = shapely.bounds(geom)
        return [(i, j) for i in range(int((x0 - pad) // CELL_M), int((x1 + pad) // CELL_M) + 1)
                for j in range(int((y0 - pad) // CELL_M), int((y1 + pad) // CELL_M) + 1)]

    def try_take(self, geom: shapely.Geometry, pad: float = 20.0) -> bool:
        cells = self.cells(geom, pad)
        if any(c in self.taken for c in cells):
            return False
        self.taken.update(cells)
        return True


def _outline(rng: np.random.Generator, area: float, real_shape: bool,
             angle: float | None = None) -> np.ndarray:
    """A building outline of the given area at the origin: a real shape or a rectangle."""
    if real_shape:
        coords = _shapes()[rng.integers(len(_shapes()))] * np.sqrt(area)
    else:
        aspect = rng.uniform(1.0, 3.5)
        w, h = np.sqrt(area * aspect), np.sqrt(area / aspect)
        coords = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2],
                           [-w / 2, -h / 2]])
    return _rotate(coords, rng.uniform(0, np.pi) if angle is None else angle)


def _rotate(coords: np.ndarray, angle: float) -> np.ndarray:
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return coords @ rot.T


def _place(occ: _Occupancy, coords: np.ndarray,
           centre: tuple[float, float]) -> shapely.Polygon | None:
    poly = shapely.Polygon(coords + np.asarray(centre))
    return poly if poly.is_valid and occ.try_take(poly) else None


def _site_halls(rng: np.random.Generator, site_mw: float, hall_range: tuple[float, float],
                density: float) -> list[tuple[float, float]]:
    """Split a site's capacity into halls: (capacity MW, footprint m2) each."""
    n = int(np.clip(round(site_mw / rng.uniform(*hall_range)), 1, 16))
    shares = rng.dirichlet(np.full(n, 6.0))
    return [(site_mw * s, site_mw * s * 1e6 / density) for s in shares]


def _ai_halls(rng: np.random.Generator, site_mw: float, density: float
              ) -> list[tuple[float, float]]:
    """An AI campus of 1 to 12 halls (ai_campus_halls), each within ai_hall_area_m2.

    The number of halls is drawn first; where the campus's area would make halls larger or
    smaller than the published range, the count moves until they fit.
    """
    lo_n, hi_n = bounds("ai_campus_halls")
    lo_a, hi_a = bounds("ai_hall_area_m2")
    total_m2 = site_mw * 1e6 / density
    n = int(rng.integers(int(lo_n), int(hi_n) + 1))
    n = int(np.clip(n, np.ceil(total_m2 / hi_a), max(1.0, np.floor(total_m2 / lo_a))))
    shares = rng.dirichlet(np.full(n, 6.0))
    return [(site_mw * s, float(np.clip(total_m2 * s, lo_a, hi_a))) for s in shares]


SITE_KINDS = ("ai_training", "cloud_datacenter", "crypto_mining", "smelter", "steel", "gas_plant",
              "refinery")


def _site_plan(rng: np.random.Generator, kind: str, offgrid_boost: float = 1.0
               ) -> tuple[str, str, float, list, dict]:
    """Class, subtype, capacity, halls and load parameters of one site of a kind."""
    if kind == "ai_training":
        mw = draw(rng, "ai_site_it_mw", log=True)
        halls = _ai_halls(rng, mw, draw(rng, "ai_it_density_w_m2", log=True))
        off_grid = rng.uniform() < draw(rng, "offgrid_share_ai") * offgrid_boost
        return "ai_training", "off_grid" if off_grid else "on_grid", mw, halls, {
            "off_grid": off_grid, "draw": draw(rng, "sustained_draw_fraction"),
            "pue": draw(rng, "pue_ai"), "shf": draw(rng, "sensible_heat_fraction")}
    if kind == "cloud_datacenter":
        mw = draw(rng, "cloud_site_it_mw", log=True)
        halls = _site_halls(rng, mw, bounds("cloud_hall_it_mw"),
                            draw(rng, "cloud_it_density_w_m2"))
        return "cloud_datacenter", "cloud", mw, halls, {
            "pue": draw(rng, "pue_cloud"), "util": draw(rng, "cloud_utilisation"),
            "diurnal": draw(rng, "cloud_diurnal_amplitude"),
            "weekly": draw(rng, "cloud_weekly_amplitude"),
            "growth": draw(rng, "cloud_growth_per_year"),
            "shf": draw(rng, "sensible_heat_fraction")}
    if kind == "crypto_mining":
        mw = draw(rng, "crypto_site_mw", log=True)
        halls = _site_halls(rng, mw, bounds("crypto_hall_mw"), draw(rng, "crypto_density_w_m2"))
        return "crypto_mining", "crypto", mw, halls, {
            "pue": draw(rng, "pue_crypto"), "strike": draw(rng, "crypto_curtail_price"),
            "curtail_peaks": rng.uniform() < ref("crypto_curtail_share").value,
            "shf": draw(rng, "sensible_heat_fraction_crypto"),
            "off_grid": rng.uniform() < draw(rng, "offgrid_share_crypto")}
    if kind == "smelter":
        mw = draw(rng, "smelter_mw")
        halls = _site_halls(rng, mw, bounds("smelter_potroom_mw"),
                            ref("smelter_density_w_m2").value)
        return "heavy_industry", "smelter", mw, halls, {
            "shf": draw(rng, "sensible_heat_fraction_smelter")}
    if kind == "steel":
        mw = draw(rng, "steel_mw")
        halls = _site_halls(rng, mw, bounds("steel_shop_mw"), ref("steel_density_w_m2").value)
        return "heavy_industry", "steel", mw, halls, {
            "shf": draw(rng, "sensible_heat_fraction_steel"),
            "yard": rng.uniform() < draw(rng, "hot_yard_share_steel")}
    if kind == "refinery":
        # The buildings hold the motors (refinery_density_w_m2); the fired heat leaves over
        # the open process area laid out beside them (_campus; scenes.landscape).
        mw = draw(rng, "refinery_mw", log=True)
        halls = _site_halls(rng, mw, bounds("refinery_building_mw"),
                            ref("refinery_density_w_m2").value)
        return "heavy_industry", "refinery", mw, halls, {
            "shf": draw(rng, "sensible_heat_fraction_refinery"),
            "off_grid": rng.uniform() < draw(rng, "offgrid_share_refinery")}
    mw = draw(rng, "gas_plant_mw")
    halls = _site_halls(rng, mw, bounds("gas_plant_unit_mw"), ref("gas_plant_density_w_m2").value)
    return "heavy_industry", "gas_plant", mw, halls, {
        "marginal_cost": draw(rng, "gas_plant_marginal_cost")}


def _tags(rng: np.random.Generator, true_class: str, subtype: str) -> dict:
    """OSM-style tags, which lie: a secret cluster is rarely tagged as a data centre."""
    if true_class == "ai_training":
        building = rng.choice(["data_center", "industrial", "warehouse", "yes", None],
                              p=[0.25, 0.3, 0.15, 0.15, 0.15])
    elif true_class == "cloud_datacenter":
        building = rng.choice(["data_center", "industrial", "commercial", "yes", None],
                              p=[0.55, 0.15, 0.1, 0.1, 0.1])
    elif true_class == "crypto_mining":
        building = rng.choice(["industrial", "container", "yes", None], p=[0.3, 0.2, 0.2, 0.3])
    elif true_class == "heavy_industry":
        building = rng.choice(["industrial", "yes", None], p=[0.6, 0.2, 0.2])
    else:
        building = rng.choice(["warehouse", "industrial", "commercial", "retail", "yes",
                               "data_center", None], p=[0.3, 0.15, 0.15, 0.1, 0.15, 0.02, 0.13])
    landuse = "industrial" if building in ("industrial", "warehouse", "container") else None
    return {"building": None if building is None else str(building), "landuse": landuse}


def _random_point(rng: np.random.Generator, grid: RasterGrid, margin: float) -> tuple[float, float]:
    x0, y0, x1, y1 = grid.bounds
    return (rng.uniform(x0 + margin, x1 - margin), rng.uniform(y0 + margin, y1 - margin))


CAMPUS_CLEARANCE_M = 150.0  # fences, yards, parking and setbacks around an industrial site


def _pack(rng: np.random.Generator, outlines: list[np.ndarray]) -> list[np.ndarray]:
    """Halls in rows, 25 to 80 m apart edge to edge, the whole campus centred on 0, 0."""
    gap = rng.uniform(25, 80)
    ncol = int(np.ceil(np.sqrt(len(outlines))))
    placed, x, y, row_h = [], 0.0, 0.0, 0.0
    for k, c in enumerate(outlines):
        if k and k % ncol == 0:
            x, y, row_h = 0.0, y - row_h - gap, 0.0
        lo, hi = c.min(axis=0), c.max(axis=0)
        placed.append(c - lo + (x, y - (hi[1] - lo[1])))
        x += hi[0] - lo[0] + gap
        row_h = max(row_h, hi[1] - lo[1])
    centre = np.concatenate(placed).mean(axis=0)
    return [c - centre for c in placed]


def _lay_out(rng: np.random.Generator, occ: _Occupancy, grid: RasterGrid,
             outlines: list[np.ndarray]) -> list[shapely.Polygon]:
    """Buildings in parallel rows, turned as one and set down where they fit; empty if none."""
    packed = _pack(rng, outlines)
    angle = rng.uniform(0, np.pi)
    packed = [_rotate(c, angle) for c in packed]
    for _ in range(60):
        centre = np.asarray(_random_point(rng, grid, 1600.0))
        polys = [shapely.Polygon(c + centre) for c in packed]
        cells = {c for p in polys for c in occ.cells(p, CAMPUS_CLEARANCE_M)}
        if cells & occ.taken:
            continue
        occ.taken |= cells
        return polys
    return []


def _campus(world_rng: np.random.Generator, occ: _Occupancy, grid: RasterGrid, site: Site,
            halls: list, real_shapes: bool) -> list[dict]:
    """Lay a site's halls out in parallel rows around a free centre; empty if no space.

    A refinery's open process area (refinery_process_area_m2) is laid out in the rows with
    its buildings, so nothing else is placed on it; it is kept as the site's yard.
    """
    outlines = [_outline(world_rng, area, real_shapes and world_rng.uniform() < 0.6, angle=0.0)
                for _, area in halls]
    if site.subtype == "refinery":
        outlines.append(_outline(world_rng, draw(world_rng, "refinery_process_area_m2", log=True),
                                 False, angle=0.0))
    polys = _lay_out(world_rng, occ, grid, outlines)
    if not polys:
        return []
    if site.subtype == "refinery":
        site.params["yard_geometry"] = polys.pop()
    site.centre = tuple(shapely.union_all(polys).centroid.coords[0])
    return [{"cap_mw": cap, "geometry": poly} for (cap, _), poly in zip(halls, polys)]


def build_world(seed: int, preset: Preset) -> World:
    """Place everything of a region for one seed: deterministic for (seed, preset)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    lat = float(rng.choice([-1, 1], p=[0.15, 0.85]) * rng.uniform(*bounds("latitude")))
    lon = float(rng.uniform(-122, 30))
    dlat = preset.size_km / 111.32
    dlon = preset.size_km / (111.32 * np.cos(np.radians(lat)))
    bbox = tuple(round(float(v), 5) for v in (lon - dlon / 2, lat - dlat / 2, lon + dlon / 2,
                                                lat + dlat / 2))
    crs = utm_crs_for(lon, lat)
    grid = RasterGrid.for_bbox(bbox, crs)
    occ = _Occupancy()
    towns = [(*_random_point(rng, grid, 500.0), rng.uniform(800, 2500 * preset.size_km / 40 + 800))
             for _ in range(rng.integers(preset.towns[0], preset.towns[1] + 1))]
    sites, facilities = [], []
    counts = dict(zip(SITE_KINDS, (preset.ai_sites, preset.cloud_sites, preset.crypto_sites,
                                   preset.smelters, preset.steel_works, preset.gas_plants,
                                   preset.refineries)))
    for kind, (lo, hi) in counts.items():
        n = rng.integers(lo, hi + 1)
        if kind == "refinery":
            n = rng.binomial(n, draw(rng, "refinery_share"))
        for _ in range(n):
            true_class, subtype, mw, halls, params = _site_plan(rng, kind, preset.offgrid_boost)
            site = Site(f"S{len(sites) + 1:04d}", true_class, subtype, (0.0, 0.0),
                        {**params, "mw": mw})
            placed = _campus(rng, occ, grid, site, halls,
                             real_shapes=true_class in ("ai_training", "cloud_datacenter"))
            if not placed:
                continue
            sites.append(site)
            tags = _tags(rng, true_class, subtype)
            for hall in placed:
                fid = f"F{len(facilities) + 1:06d}"
                site.hall_ids.append(fid)
                facilities.append({"facility_id": fid, "site_id": site.site_id,
                                   "true_class": true_class, "subtype": subtype,
                                   "cap_mw": hall["cap_mw"], "geometry": hall["geometry"],
                                   "albedo": draw(rng, "roof_albedo"), **tags})
    facilities += _background(rng, occ, grid, towns, preset, len(facilities))
    nodes, lines = _grid_nodes(rng, grid, sites, facilities, towns, preset)
    return World(seed, preset, lon, lat, crs, grid, bbox, towns, sites, facilities, nodes, lines)


BACKGROUND_KINDS = {
    # kind: (area range m2, W/m2 range, share of buildings); loads from CBECS 2018 intensities
    "warehouse": ((2_000, 60_000), (8, 25), 0.35),
    "big_warehouse": ((60_000, 160_000), (8, 20), 0.05),
    "cold_store": ((5_000, 40_000), (60, 140), 0.05),
    "retail": ((800, 15_000), (30, 70), 0.25),
    "office": ((800, 12_000), (40, 90), 0.25),
    "factory": ((3_000, 50_000), (40, 150), 0.05),
}


# Sheds of a logistics park: mid-size to the warehouse kind's largest (BACKGROUND_KINDS);
# issue 10's hold-out park averaged about 29,000 m2 a building (26 ha over nine). Simulator
# assumption.
LOGISTICS_SHED_M2 = (8_000.0, 60_000.0)
PARK_ATTEMPTS = 50  # parks tried before a crowded region gives up on the rest


def _draw_area(rng: np.random.Generator, span: tuple[float, float]) -> float:
    """A footprint drawn log-uniformly within span (m2)."""
    return float(np.exp(rng.uniform(np.log(span[0]), np.log(span[1]))))


def _background_building(rng: np.random.Generator, fid: str, site_id: str, kind: str,
                         area: float, poly: shapely.Polygon) -> dict:
    """One ordinary building: its load from the kind's CBECS intensity, a roof, lying tags."""
    w0, w1 = BACKGROUND_KINDS[kind][1]
    return {"facility_id": fid, "site_id": site_id, "true_class": "warehouse_or_other",
            "subtype": kind, "cap_mw": area * rng.uniform(w0, w1) / 1e6, "geometry": poly,
            "albedo": draw(rng, "roof_albedo"), **_tags(rng, "warehouse_or_other", kind)}


def _logistics_parks(rng: np.random.Generator, occ: _Occupancy, grid: RasterGrid,
                     n_buildings: int, start: int) -> list[dict]:
    """About n_buildings warehouse sheds in logistics parks, each park one campus of roofs.

    Sheds stand in rows behind shared truck courts, each with a warehouse's load: issue 10's
    hold-out regions grouped nine such buildings into a campus of 26 ha of roof.
    """
    low, high = bounds("logistics_park_buildings")
    out: list[dict] = []
    attempts = 0
    while len(out) < n_buildings and attempts < PARK_ATTEMPTS:
        attempts += 1
        areas = [_draw_area(rng, LOGISTICS_SHED_M2)
                 for _ in range(int(rng.integers(int(low), int(high) + 1)))]
        polys = _lay_out(rng, occ, grid, [_outline(rng, a, real_shape=rng.uniform() < 0.2,
                                                   angle=0.0) for a in areas])
        for area, poly in zip(areas, polys):
            n = start + len(out) + 1
            out.append(_background_building(rng, f"F{n:06d}", f"B{n:06d}", "warehouse",
                                            area, poly))
    return out


def _background(rng: np.random.Generator, occ: _Occupancy, grid: RasterGrid, towns: list,
                preset: Preset, start: int) -> list[dict]:
    """Warehouses (some in logistics parks), shops, offices and cold stores: the confusers."""
    kinds = list(BACKGROUND_KINDS)
    shares = np.array([BACKGROUND_KINDS[k][2] for k in kinds])
    # Industrial estates: points that the buildings outside towns scatter around (700 m).
    estates = [_random_point(rng, grid, 800.0) for _ in range(max(
        2, preset.background_buildings // 120))]
    out = _logistics_parks(rng, occ, grid, round(preset.background_buildings *
                                                 draw(rng, "logistics_park_share")), start)
    attempts = 0
    while len(out) < preset.background_buildings and attempts < preset.background_buildings * 8:
        attempts += 1
        kind = kinds[rng.choice(len(kinds), p=shares / shares.sum())]
        area = _draw_area(rng, BACKGROUND_KINDS[kind][0])
        if rng.uniform() < 0.5:
            tx, ty, r = towns[rng.integers(len(towns))]
            centre = (tx + rng.normal(0, r), ty + rng.normal(0, r))
        else:
            ex, ey = estates[rng.integers(len(estates))]
            centre = (ex + rng.normal(0, 700), ey + rng.normal(0, 700))
        x0, y0, x1, y1 = grid.bounds
        if not (x0 + 300 < centre[0] < x1 - 300 and y0 + 300 < centre[1] < y1 - 300):
            continue
        poly = _place(occ, _outline(rng, area, real_shape=rng.uniform() < 0.2), centre)
        if poly is None:
            continue
        n = start + len(out) + 1
        out.append(_background_building(rng, f"F{n:06d}", f"B{n:06d}", kind, area, poly))
    return out


def _substation_near(rng: np.random.Generator, centre: tuple[float, float],
                     r: tuple[float, float], radius: float = 0.0,
                     log: bool = False) -> tuple[float, float]:
    """A point r metres beyond a footprint of the given radius around centre."""
    gap = np.exp(rng.uniform(*np.log(r))) if log else rng.uniform(*r)
    angle, dist = rng.uniform(0, 2 * np.pi), radius + gap
    return (centre[0] + dist * np.cos(angle), centre[1] + dist * np.sin(angle))


def _radius(facilities: list[dict], site: Site) -> float:
    """Distance from a site's centre to its farthest hall corner."""
    coords = np.concatenate([np.asarray(f["geometry"].exterior.coords) for f in facilities
                             if f["site_id"] == site.site_id])
    return float(np.hypot(*(coords - np.asarray(site.centre)).T).max())


def _grid_nodes(rng: np.random.Generator, grid: RasterGrid, sites: list[Site],
                facilities: list[dict], towns: list, preset: Preset) -> tuple[list, list]:
    """Dedicated substations, decoy utility substations, feeders, a balancing area, lines."""
    nodes: list[dict] = []
    for site in sites:
        if site.params.get("off_grid"):
            continue
        small_cloud = site.true_class == "cloud_datacenter" and site.params["mw"] < 15
        if small_cloud and rng.uniform() < 0.5:
            continue  # on a shared feeder, assigned below with the background buildings
        site.node_id = f"N{len(nodes) + 1:04d}"
        volts = 345000 if site.params["mw"] > 200 else rng.choice([138000, 230000])
        nodes.append({"node_id": site.node_id, "kind": "substation", "xy":
                      _substation_near(rng, site.centre, bounds("substation_distance_m"),
                                       _radius(facilities, site), log=True),
                      "voltage": volts,
                      "serves": "site", "site_id": site.site_id})
    for _ in range(rng.integers(preset.decoy_substations[0], preset.decoy_substations[1] + 1)):
        anchor = facilities[rng.integers(len(facilities))]["geometry"].centroid
        nodes.append({"node_id": f"N{len(nodes) + 1:04d}", "kind": "substation",
                      "xy": _substation_near(rng, (anchor.x, anchor.y), (100, 700)),
                      "voltage": int(rng.choice([69000, 115000, 138000])), "serves": "area",
                      "homes": int(rng.uniform(5000, 40000))})
    n_feeders = max(3, len(facilities) // 40)
    feeder_xy = [_random_point(rng, grid, 500.0) for _ in range(n_feeders)]
    for xy in feeder_xy:
        nodes.append({"node_id": f"N{len(nodes) + 1:04d}", "kind": "feeder", "xy": xy,
                      "voltage": 13800, "serves": "feeder", "homes": int(rng.uniform(200, 3000))})
    feeders = [n for n in nodes if n["kind"] == "feeder"]
    fxy = np.array([n["xy"] for n in feeders])
    served_sites = {s.site_id for s in sites if s.node_id}
    offgrid_sites = {s.site_id for s in sites if s.params.get("off_grid")}
    for fac in facilities:
        if fac["site_id"] in served_sites or fac["site_id"] in offgrid_sites:
            continue
        c = fac["geometry"].centroid
        fac["feeder"] = feeders[int(np.argmin(np.hypot(*(fxy - (c.x, c.y)).T)))]["node_id"]
    x0, y0, x1, y1 = grid.bounds
    nodes.append({"node_id": "BA", "kind": "balancing_area", "geometry":
                  shapely.box(x0, y0, x1, y1), "serves": "all",
                  "base_mw": float(rng.uniform(2000, 20000))})
    lines = _lines(rng, grid, [n for n in nodes if n["kind"] == "substation"])
    return nodes, lines


def _lines(rng: np.random.Generator, grid: RasterGrid, substations: list[dict]) -> list[dict]:
    """A high-voltage backbone across the region with spurs to each substation."""
    x0, y0, x1, y1 = grid.bounds
    ya, yb = rng.uniform(y0, y1, 2)
    backbone = shapely.LineString([(x0, ya), (x1, yb)])
    lines = [{"geometry": backbone, "voltage": 345000}]
    for sub in substations:
        p = shapely.Point(sub["xy"])
        q = backbone.interpolate(backbone.project(p))
        lines.append({"geometry": shapely.LineString([q, p]), "voltage": int(sub["voltage"])})
    return lines
