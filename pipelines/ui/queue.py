"""What the triage page shows, read from the alert store: the queue, one alert, its evidence."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from pipelines.alerts.store import alert_detail, alerts, decisions, history, regions
from pipelines.errors import UnsafePathError
from pipelines.paths import inside, safe_name

# The properties of a candidate the queue carries (the rest is in the alert's detail).
QUEUE_FIELDS = ("name", "alert", "declared", "exceeds_declared", "est_it_mw_low",
                "est_it_mw_high", "frontier_capable")
# Evidence a request may ask for, by kind: the file is named here, never by the request.
EVIDENCE_FILES = {"thermal": "thermal.png", "load": "load.png"}


def region_names(engine: Engine) -> list[str]:
    """Every region with alerts in the store."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(alerts.c.region).distinct()).scalars())


def queue(engine: Engine, region: str | None = None) -> list[dict]:
    """The alerts of one region (or all), each with its geometry and latest decision id.

    changed_at is the last run that found the alert new or changed: "changed since" filters
    on it.
    """
    with engine.connect() as conn:
        query = select(alerts)
        if region:
            query = query.where(alerts.c.region == region)
        rows = conn.execute(query).all()
        latest = {(r.region, r.facility_id): r.id for r in conn.execute(
            select(decisions.c.region, decisions.c.facility_id,
                   func.max(decisions.c.id).label("id"))
            .group_by(decisions.c.region, decisions.c.facility_id))}
        changed = {(r.region, r.facility_id): r.at for r in conn.execute(
            select(history.c.region, history.c.facility_id,
                   func.max(history.c.run_time).label("at"))
            .where(history.c.alert_state.in_(("new", "changed")))
            .group_by(history.c.region, history.c.facility_id))}
    out = []
    for r in rows:
        feature = json.loads(r.feature)
        props = feature.get("properties") or {}
        key = (r.region, r.facility_id)
        out.append({
            "region": r.region, "facility_id": r.facility_id, "score": r.score,
            "est_it_mw": r.est_it_mw, "predicted_class": r.predicted_class,
            "alert_state": r.alert_state, "status": r.status, "first_seen": r.first_seen,
            "last_seen": r.last_seen, "changed_at": changed.get(key),
            "latest_decision": latest.get(key, 0),
            **{k: props.get(k) for k in QUEUE_FIELDS},
            "geometry": feature.get("geometry")})
    out.sort(key=lambda a: (bool(a["declared"]), -(a["score"] or 0), a["region"],
                            a["facility_id"]))
    return out


def detail(engine: Engine, region: str, facility_id: str) -> dict:
    """One alert: its candidate properties, history per run, decisions and evidence kinds."""
    found = alert_detail(engine, facility_id, region)
    feature = json.loads(found.pop("feature"))
    found.pop("model_features", None)
    found["properties"] = feature.get("properties") or {}
    found["evidence"] = list(evidence_files(engine, region, facility_id))
    found["latest_decision"] = found["decisions"][-1]["id"] if found["decisions"] else 0
    return found


def evidence_files(engine: Engine, region: str, facility_id: str) -> dict[str, Path]:
    """The evidence files there are for an alert of the store, by kind (EVIDENCE_FILES order).

    The folder is the one the region's last run recorded; a file's name comes from the
    facility id through safe_name and from EVIDENCE_FILES, and the result must lie inside
    that folder: nothing of the request becomes a path.
    """
    with engine.connect() as conn:
        known = conn.execute(select(alerts.c.facility_id).where(
            (alerts.c.region == region) & (alerts.c.facility_id == facility_id))).first()
        folder = conn.execute(select(regions.c.evidence_dir)
                              .where(regions.c.region == region)).scalar()
    if known is None or not folder:
        return {}
    try:
        paths = {kind: inside(Path(folder), safe_name(facility_id), name)
                 for kind, name in EVIDENCE_FILES.items()}
    except UnsafePathError:
        return {}
    return {kind: path for kind, path in paths.items() if path.is_file()}


def evidence_file(engine: Engine, region: str, facility_id: str, kind: str) -> Path | None:
    """The evidence file of one kind for an alert of the store, or None."""
    if kind not in EVIDENCE_FILES:
        return None
    return evidence_files(engine, region, facility_id).get(kind)
