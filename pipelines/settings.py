"""The typed settings: flows.yaml (deployments, detection, sources), validated once with pydantic.

Every setting a run uses is read here, with the environment's overrides, and nowhere else.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from detectors.regional import RegionalParams
from pipelines.bundle.limits import Limits
from pipelines.bundle.region import is_lonlat_box
from pipelines.errors import UsageError
from pipelines.orchestration.runners import RunnerSettings
from pipelines.reference import node_max_distance_m
from pipelines.resources import WORKSPACE

if TYPE_CHECKING:
    from pipelines.detect.stages import DetectOptions

DEFAULT_CONFIG = WORKSPACE / "flows.yaml"

# Source endpoints: every base URL can be set in flows.yaml (`sources:`) and overridden by the
# environment, for mirrors and tests: COMPUTEWATCH_STAC_URL, COMPUTEWATCH_STAC_SIGNING
# (planetary-computer or none), COMPUTEWATCH_OVERPASS_URL, COMPUTEWATCH_EIA_URL. API keys come
# only from the environment (EIA_API_KEY) and are never logged.
ENV_OVERRIDES = {"stac_url": "COMPUTEWATCH_STAC_URL", "stac_signing": "COMPUTEWATCH_STAC_SIGNING",
                 "overpass_url": "COMPUTEWATCH_OVERPASS_URL", "eia_url": "COMPUTEWATCH_EIA_URL"}


class SourceSettings(BaseModel):
    """Endpoints and polite limits of the real sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stac_url: str = "https://planetarycomputer.microsoft.com/api/stac/v1"
    stac_collection: str = "landsat-c2-l2"
    stac_signing: Literal["planetary-computer", "none"] = "planetary-computer"
    max_cloud_cover: float = Field(60.0, ge=0, le=100)
    overpass_url: str = "https://overpass-api.de/api/interpreter"
    min_building_m2: float = Field(2000.0, ge=0, description="smaller buildings are skipped")
    eia_url: str = "https://api.eia.gov/v2"
    request_interval_s: float = Field(1.0, ge=0, description="pause between calls to a host")
    timeout_s: float = Field(120.0, gt=0)

    def with_env(self) -> SourceSettings:
        """These settings with any COMPUTEWATCH_* environment overrides applied."""
        updates = {k: os.environ[v] for k, v in ENV_OVERRIDES.items() if os.environ.get(v)}
        return SourceSettings.model_validate({**self.model_dump(), **updates})


class FetchSpec(BaseModel):
    """A region a deployment fetches before detecting: bbox, trailing period, grid sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    bbox: tuple[float, float, float, float]
    bundle: str = Field(description="folder the fetched bundle is written to")
    days: int = Field(365, ge=1, description="period: the last `days` days before the run")
    satellite: bool = True
    osm: bool = True
    eia_respondents: list[str] = []
    eia_subregions: list[str] = Field([], description="PARENT-SUBBA, e.g. PJM-DOM")

    @model_validator(mode="after")
    def _bbox(self) -> FetchSpec:
        if not is_lonlat_box(self.bbox):
            raise ValueError(f"bbox {list(self.bbox)} must be [min_lon, min_lat, max_lon, "
                             "max_lat] in degrees")
        return self


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not become a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(Strict):
    """Scores at or above export go to the GeoJSON; at or above alert raise an alert."""

    export: float = Field(0.3, ge=0, le=1)
    alert: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.alert < self.export:
            raise ValueError(f"alert ({self.alert}) must not be below export ({self.export})")
        return self


class ChangeMargins(Strict):
    """How far a re-scored alert must move to count as changed."""

    score: float = Field(0.1, gt=0, le=1)
    it_mw_fraction: float = Field(0.2, gt=0)


class LimitSettings(Strict):
    """Sizes a bundle may reach before detect refuses it (pipelines/bundle/limits.py)."""

    max_grid_pixels: int = Field(Limits.max_grid_pixels, gt=0)
    max_load_file_mb: float = Field(Limits.max_load_file_mb, gt=0)
    tile_pixels: int | None = Field(None, gt=0)

    def limits(self) -> Limits:
        """The reader's plain limits object."""
        return Limits(self.max_grid_pixels, self.max_load_file_mb, self.tile_pixels)


class RegionalSettings(Strict):
    """What makes a regional alert (detectors/regional.py; flows.yaml says why each value)."""

    base_year: int | None = Field(RegionalParams.base_year, ge=2000, le=2100)
    min_area_mw: float = Field(RegionalParams.min_area_mw, ge=0)
    min_growth_mw_per_year: float = Field(RegionalParams.min_growth_mw_per_year, ge=0)
    alert_pct_per_year: float = Field(RegionalParams.alert_pct_per_year, gt=1.0)
    alert_mw_per_year: float = Field(RegionalParams.alert_mw_per_year, gt=0)

    def params(self) -> RegionalParams:
        """The detector's plain parameters."""
        return RegionalParams(**self.model_dump())


class DetectSettings(Strict):
    """How detection runs: thresholds, hardware year, node attribution, the alert store."""

    thresholds: Thresholds = Thresholds()
    alert_store: str = "sqlite:///.computewatch/alerts.sqlite"
    change_margins: ChangeMargins = ChangeMargins()
    hardware_year: int | None = Field(None, ge=2020, le=2040)
    node_max_distance_m: float = Field(default_factory=node_max_distance_m, gt=0)
    declared_within_m: float = Field(100.0, ge=0)
    task_runner: RunnerSettings = RunnerSettings()
    limits: LimitSettings = LimitSettings()
    regional: RegionalSettings = RegionalSettings()

    def with_overrides(self, **overrides: object) -> DetectSettings:
        """These settings with command-line values (None: not given), validated like the file."""
        data = self.model_dump()
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("export", "alert"):
                data["thresholds"][key] = value
            else:
                data[key] = value
        try:
            return DetectSettings.model_validate(data)
        except ValidationError as exc:
            raise UsageError(_problems(exc)) from None

    def options(self) -> DetectOptions:
        """The engine's plain options (pipelines/detect/stages.py) from these settings."""
        from pipelines.detect.stages import DetectOptions

        return DetectOptions(self.thresholds.export, self.thresholds.alert, self.hardware_year,
                             self.node_max_distance_m, self.declared_within_m,
                             self.regional.params())

    def for_prefect(self, store: str | None) -> DetectSettings:
        """A copy safe to keep in Prefect's database: the store URL stripped of its password.

        store is the URL the run uses (None: no store); its password, if any, stays in this
        process (pipelines.redact.stash_secret).
        """
        from pipelines.redact import stash_secret

        return self.model_copy(update={"alert_store": stash_secret(store) if store else ""})


class Schedule(Strict):
    """A cron expression and its timezone (IANA name)."""

    cron: str
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _valid(self, info: ValidationInfo) -> Schedule:
        if info.context and not info.context.get("schedules", True):
            return self  # a detect run does not schedule: Prefect (1 s to import) stays out
        from prefect.client.schemas.schedules import CronSchedule

        CronSchedule(cron=self.cron, timezone=self.timezone)  # Prefect's own cron and tz checks
        # The croniter Prefect schedules with (vendored in prefect 3): a cron such as
        # `0 0 30 2 *` is well formed but never fires, which must be said now, not never.
        from prefect._vendor.croniter import croniter
        from prefect._vendor.croniter.croniter import CroniterBadDateError

        try:
            croniter(self.cron, datetime(2024, 1, 1)).get_next(datetime)
        except CroniterBadDateError:
            raise ValueError(f"cron {self.cron!r} never fires (no such date)") from None
        return self

    def next_runs(self, n: int = 1) -> list[datetime]:
        """The next n times this schedule fires, in its own timezone."""
        import asyncio

        from prefect.server.schemas.schedules import CronSchedule

        schedule = CronSchedule(cron=self.cron, timezone=self.timezone)
        return list(asyncio.run(schedule.get_dates(n=n)))


class Deployment(Strict):
    """One scheduled flow on one region; unset settings fall back to `defaults`."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    flow: str = Field("detect", pattern="^detect$")
    region: str | FetchSpec
    output: str
    schedule: Schedule | None = None
    thresholds: Thresholds | None = None
    alert_store: str | None = None
    task_runner: RunnerSettings | None = None
    detect: DetectSettings | None = None


class UiSettings(Strict):
    """The web triage app (`computewatch ui`, README "Triage in the browser")."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    basemap: str = Field("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                         description="an https tile URL template, a raster .mbtiles file "
                                     "(relative to flows.yaml) or none")
    basemap_attribution: str = "© OpenStreetMap contributors"
    basemap_max_zoom: int = Field(19, ge=0, le=24)

    @field_validator("basemap")
    @classmethod
    def _basemap(cls, value: str) -> str:
        if value == "none" or value.endswith(".mbtiles"):
            return value
        if not value.startswith(("https://", "http://")) or "{z}" not in value:
            raise ValueError("an http(s) URL template with {z}, {x} and {y}, a .mbtiles file "
                             "or none")
        return value


class FlowsConfig(Strict):
    """The whole of flows.yaml."""

    defaults: DetectSettings = DetectSettings()
    sources: SourceSettings = SourceSettings()
    ui: UiSettings = UiSettings()
    deployments: list[Deployment] = []

    @model_validator(mode="after")
    def _unique(self) -> FlowsConfig:
        names = [d.name for d in self.deployments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"deployment names must be unique: {dupes}")
        return self

    def deployment(self, name: str) -> Deployment:
        """The deployment called name, or a usage error listing the known ones."""
        for d in self.deployments:
            if d.name == name:
                return d
        raise UsageError(f"no deployment {name!r} in flows.yaml; known: "
                         f"{[d.name for d in self.deployments]}")

    def settings_for(self, dep: Deployment) -> DetectSettings:
        """The deployment's detect settings: its own keys over `defaults`."""
        merged = self.defaults.model_dump(exclude_unset=False)
        if dep.detect is not None:
            merged.update(dep.detect.model_dump(exclude_unset=True))
        for key in ("thresholds", "alert_store", "task_runner"):
            value = getattr(dep, key)
            if value is not None:
                merged[key] = value.model_dump() if isinstance(value, BaseModel) else value
        return DetectSettings.model_validate(merged)


def resolve_store(url: str, base: Path = WORKSPACE) -> str:
    """A relative SQLite path in a store URL is taken from base (flows.yaml's folder)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url[len(prefix):]).is_absolute():
        path = (base / url[len(prefix):]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


def load_config(path: Path | None = None, schedules: bool = True) -> FlowsConfig:
    """Read and validate flows.yaml; errors name the key that is wrong.

    schedules False leaves the deployments' cron expressions unchecked (by Prefect's own
    parser), for commands that run no deployment.
    """
    path = path or DEFAULT_CONFIG
    if not path.is_file():
        raise UsageError(f"{path}: no such configuration file")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return FlowsConfig.model_validate(raw, context={"schedules": schedules})
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise UsageError(f"{path}: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    """Pydantic's errors as `key.path: message; ...`."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
