"""Where the sources live and how a scheduled deployment fetches its region.

Every base URL can be set in flows.yaml (`sources:`) and overridden by the environment, for
mirrors and tests: COMPUTEWATCH_STAC_URL, COMPUTEWATCH_STAC_SIGNING (planetary-computer or
none), COMPUTEWATCH_OVERPASS_URL, COMPUTEWATCH_EIA_URL. API keys come only from the
environment (EIA_API_KEY) and are never logged.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.bundle.region import is_lonlat_box

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
