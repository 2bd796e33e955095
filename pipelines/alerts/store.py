"""Alert store on SQLAlchemy (SQLite by default, PostgreSQL by URL): one transaction a run.

A run sets alert_state (new, changed, unchanged, gone) and keeps history; a person sets
status (new, investigating, confirmed, dismissed, declared), which no run overwrites. A
dismissed site re-opens (status back to new, with the reason) only when it changes
materially.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from detectors.classifier import CLASSES
from pipelines.errors import AlertStoreError, DecisionConflict
from pipelines.redact import redact

SCHEMA_VERSION = 3
# Columns that bring a store from the version before the key up to the key, added in order
# (a column already there is left alone, so a half-migrated store can be migrated again).
# Version 3 added whole tables (regions, users, sessions, audit): create_all makes them.
MIGRATIONS: dict[int, list[tuple[str, str, str]]] = {
    2: [("alerts", "model_features", "TEXT"), ("decisions", "true_class", "VARCHAR(40)")],
}
STATUSES = ("new", "investigating", "confirmed", "dismissed", "declared")

metadata = MetaData()
alerts = Table(
    "alerts", metadata,
    Column("region", String(200), primary_key=True),
    Column("facility_id", String(200), primary_key=True),
    Column("alert_state", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("change_reason", Text),
    Column("first_seen", String(40), nullable=False),
    Column("last_seen", String(40), nullable=False),
    Column("last_run_id", String(80), nullable=False),
    Column("score", Float), Column("est_it_mw", Float), Column("predicted_class", String(40)),
    Column("feature", Text, nullable=False),
    Column("model_features", Text))
history = Table(
    "alert_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("region", String(200), nullable=False), Column("facility_id", String(200)),
    Column("run_id", String(80), nullable=False), Column("run_time", String(40)),
    Column("alert_state", String(20)), Column("score", Float), Column("est_it_mw", Float),
    Column("predicted_class", String(40)))
decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("region", String(200), nullable=False), Column("facility_id", String(200)),
    Column("status", String(20), nullable=False), Column("note", Text),
    Column("true_class", String(40)),
    Column("decided_by", String(200), nullable=False), Column("decided_at", String(40)))
schema = Table("schema_version", metadata, Column("version", Integer, primary_key=True))
# Where each region's last run wrote its evidence packets (the web app serves only from there).
regions = Table(
    "regions", metadata,
    Column("region", String(200), primary_key=True),
    Column("evidence_dir", Text), Column("last_run_time", String(40)))
# People of the web app (pipelines/alerts/accounts.py): argon2 hashes, never passwords.
users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("disabled", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False))
sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False))
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("user_name", String(64)), Column("event", String(40), nullable=False),
    Column("client", String(100)), Column("detail", Text))


@dataclass(frozen=True)
class Margins:
    """How far score, MW or class must move for an alert to count as changed."""

    score: float = 0.1
    it_mw_fraction: float = 0.2


def open_store(url: str) -> Engine:
    """Open (and create or migrate) the store; SQLite writers wait for each other."""
    try:
        engine = create_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite")
                               else {})
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise AlertStoreError(f"alert store {redact(url)!r}: {redact(str(exc))}") from None
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_isolation(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        _create_or_migrate(engine, url)
    except SQLAlchemyError as exc:
        reason = redact(str(getattr(exc, "orig", None) or exc)).strip().splitlines()[0]
        raise AlertStoreError(f"alert store {redact(url)!r} cannot be opened for writing "
                              f"({type(exc).__name__}: {reason}); check that its folder "
                              "exists and is writable, or that the database server is up "
                              "and the user may write (alert_store in flows.yaml, or "
                              "--store)") from None
    return engine


def _create_or_migrate(engine: Engine, url: str) -> None:
    """Create the tables or bring them to this schema version, in one transaction."""
    with engine.begin() as conn:
        existing = conn.dialect.has_table(conn, "schema_version")
        metadata.create_all(conn)
        version = conn.execute(select(schema.c.version)).scalar() if existing else None
        if version is None:
            conn.execute(schema.delete())
            conn.execute(schema.insert().values(version=SCHEMA_VERSION))
        elif version > SCHEMA_VERSION:
            raise AlertStoreError(f"alert store {redact(url)!r} has schema {version}, newer "
                                  f"than this computewatch ({SCHEMA_VERSION}): upgrade "
                                  "computewatch")
        else:
            _migrate(conn, version)


def _migrate(conn: object, version: int) -> None:
    """Apply every migration step above version, then record the new version."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for table, column, kind in MIGRATIONS.get(target, []):
            present = {c["name"] for c in inspect(conn).get_columns(table)}
            if column not in present:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
    if version < SCHEMA_VERSION:
        conn.execute(schema.update().values(version=SCHEMA_VERSION))


def _changes(old: dict, new: dict, m: Margins) -> list[str]:
    """What moved beyond the margins, in words."""
    out = []
    if old["score"] is not None and abs(new["score"] - old["score"]) > m.score:
        out.append(f"score {old['score']:.2f} -> {new['score']:.2f}")
    a, b = old["est_it_mw"], new["est_it_mw"]
    if a is not None and b is not None and abs(b - a) > m.it_mw_fraction * max(a, 1.0):
        out.append(f"est_it_mw {a:.0f} -> {b:.0f} MW")
    if old["predicted_class"] != new["predicted_class"]:
        out.append(f"class {old['predicted_class']} -> {new['predicted_class']}")
    return out


def record_run(engine: Engine, region: str, run_id: str, run_time: str,
               features: list[dict], margins: Margins = Margins(),
               model_features: dict[str, dict] | None = None,
               evidence_dir: str | None = None) -> list[dict]:
    """Upsert one run's candidate Features in one transaction; return them with their state.

    Re-running the same run_id (the same inputs, see pipelines/orchestration/flows.py) is a no-op on
    states, times and history: a crash-and-retry or a run with no new data changes nothing.
    model_features (facility_id -> the classifier's inputs) are kept so that people's
    decisions can become training labels. evidence_dir (absolute) is where this run's
    evidence packets are, for the web app.
    """
    model_features = model_features or {}
    out = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one writer per region at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:r))"), {"r": region})
        conn.execute(regions.delete().where(regions.c.region == region))
        conn.execute(regions.insert().values(region=region, evidence_dir=evidence_dir,
                                             last_run_time=run_time))
        rows = {r.facility_id: r._asdict() for r in conn.execute(
            select(alerts).where(alerts.c.region == region))}
        seen = set()
        for feature in features:
            p = feature["properties"]
            fid = str(feature["id"])
            seen.add(fid)
            new = {"score": p["score"], "est_it_mw": p["est_it_mw"],
                   "predicted_class": p["predicted_class"]}
            old = rows.get(fid)
            seen_at = run_time
            if old is not None and old["last_run_id"] == run_id:
                state, status, reason, first = (old["alert_state"], old["status"],
                                                old["change_reason"], old["first_seen"])
                seen_at = old["last_seen"]
            elif old is None:
                state, status, reason, first = "new", "new", None, run_time
            else:
                moved = _changes(old, new, margins)
                state = "changed" if moved or old["alert_state"] == "gone" else "unchanged"
                reason = "; ".join(moved) if moved else (
                    "seen again after it was gone" if state == "changed" else None)
                status, first = old["status"], old["first_seen"]
                if status == "dismissed" and moved:
                    status, reason = "new", f"re-opened after dismissal: {reason}"
            props = {**p, "alert_state": state, "status": status, "first_seen": first,
                     "last_seen": seen_at, "change_reason": reason}
            feature = {**feature, "properties": props}
            values = {"alert_state": state, "status": status, "change_reason": reason,
                      "first_seen": first, "last_seen": seen_at, "last_run_id": run_id,
                      **new, "feature": json.dumps(feature),
                      "model_features": json.dumps(model_features.get(fid))}
            if old is None:
                conn.execute(alerts.insert().values(region=region, facility_id=fid, **values))
            else:
                conn.execute(alerts.update().where((alerts.c.region == region)
                                                   & (alerts.c.facility_id == fid))
                             .values(**values))
            if old is None or old["last_run_id"] != run_id:
                conn.execute(history.insert().values(region=region, facility_id=fid,
                                                     run_id=run_id, run_time=run_time,
                                                     alert_state=state, **new))
            out.append(feature)
        for fid, old in rows.items():
            if fid not in seen and old["alert_state"] != "gone" and old["last_run_id"] != run_id:
                conn.execute(alerts.update().where((alerts.c.region == region)
                                                   & (alerts.c.facility_id == fid))
                             .values(alert_state="gone", last_run_id=run_id,
                                     change_reason="no longer above the export threshold"))
                conn.execute(history.insert().values(region=region, facility_id=fid,
                                                     run_id=run_id, run_time=run_time,
                                                     alert_state="gone"))
    return out


def set_status(engine: Engine, facility_id: str, status: str, note: str, by: str,
               region: str | None = None, true_class: str | None = None,
               after_decision: int | None = None, client: str = "cli") -> int:
    """A person's decision: stored with who, when and why; never overwritten by a run.

    true_class, when given, is what the site turned out to be (a training label). With
    after_decision (the id of the latest decision the person saw, 0 for none), a decision
    made by someone else in the meantime raises DecisionConflict instead of being passed
    over silently. The decision also goes to the audit trail, in the same transaction.
    Returns the new decision's id.
    """
    if status not in STATUSES:
        raise AlertStoreError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if true_class is not None and true_class not in CLASSES:
        raise AlertStoreError(f"class {true_class!r} is not one of {', '.join(CLASSES)}")
    with engine.begin() as conn:
        where = _one_region(conn, facility_id, region)
        this = (alerts.c.region == where) & (alerts.c.facility_id == facility_id)
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises
            conn.execute(select(alerts.c.status).where(this).with_for_update())
        if after_decision is not None:
            latest = conn.execute(
                select(decisions).where((decisions.c.region == where)
                                        & (decisions.c.facility_id == facility_id))
                .order_by(decisions.c.id.desc()).limit(1)).first()
            if latest is not None and latest.id != after_decision:
                raise DecisionConflict(latest._asdict())
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        conn.execute(alerts.update().where(this).values(status=status))
        made = conn.execute(decisions.insert().values(
            region=where, facility_id=facility_id, status=status, note=note, decided_by=by,
            decided_at=now, true_class=true_class))
        audit_event(conn, "decision", by, client, json.dumps(
            {"region": where, "facility_id": facility_id, "status": status, "note": note,
             "true_class": true_class}), at=now)
        return int(made.inserted_primary_key[0])


def audit_event(conn: Connection, event: str, user: str | None, client: str | None = None,
                detail: str | None = None, at: str | None = None) -> None:
    """One line of the audit trail (what, who, from where), in the caller's transaction."""
    conn.execute(audit.insert().values(
        at=at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        user_name=user[:64] if user else None, event=event, client=(client or "")[:100],
        detail=detail))


def list_alerts(engine: Engine, status: str | None = None, min_score: float | None = None
                ) -> list[dict]:
    """Alerts of the queue, best first, optionally by status and minimum score."""
    query = select(alerts)
    if status:
        query = query.where(alerts.c.status == status)
    if min_score is not None:
        query = query.where(alerts.c.score >= min_score)
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(query)]
    for r in rows:
        r["declared"] = bool(json.loads(r["feature"])["properties"].get("declared"))
    # Undeclared high scorers first: they are what a treaty inspector is looking for.
    return sorted(rows, key=lambda r: (r["declared"], -(r["score"] or 0), r["facility_id"]))


def _one_region(conn: object, facility_id: str, region: str | None) -> str:
    """The region of facility_id's alert; an id in several regions needs region named."""
    query = select(alerts.c.region).where(alerts.c.facility_id == facility_id)
    if region:
        query = query.where(alerts.c.region == region)
    regions = sorted(conn.execute(query).scalars().all())  # type: ignore[attr-defined]
    if not regions:
        where = f" in region {region!r}" if region else ""
        raise AlertStoreError(f"no alert for facility {facility_id!r}{where}")
    if len(regions) > 1:
        raise AlertStoreError(f"facility {facility_id!r} is in several regions "
                              f"{regions}: name one with --region")
    return regions[0]


def alert_detail(engine: Engine, facility_id: str, region: str | None = None) -> dict:
    """One alert of one region with its history of runs and its decisions."""
    with engine.connect() as conn:
        region = _one_region(conn, facility_id, region)
        row = conn.execute(select(alerts).where((alerts.c.facility_id == facility_id)
                                                & (alerts.c.region == region))).first()
        hist = [r._asdict() for r in conn.execute(
            select(history).where((history.c.facility_id == facility_id)
                                  & (history.c.region == region)).order_by(history.c.id))]
        dec = [r._asdict() for r in conn.execute(
            select(decisions).where((decisions.c.facility_id == facility_id)
                                    & (decisions.c.region == region))
            .order_by(decisions.c.id))]
    return {**row._asdict(), "history": hist, "decisions": dec}


def labelled_examples(engine: Engine) -> list[dict]:
    """People's latest decisions that name a class, with the classifier's inputs."""
    with engine.connect() as conn:
        decided = conn.execute(select(decisions).where(decisions.c.true_class.is_not(None))
                               .order_by(decisions.c.id)).all()
        latest = {(d.region, d.facility_id): d for d in decided}
        out = []
        for (region, fid), d in latest.items():
            row = conn.execute(select(alerts.c.model_features).where(
                (alerts.c.region == region) & (alerts.c.facility_id == fid))).scalar()
            feats = json.loads(row) if row else None
            if feats:
                out.append({**feats, "facility_id": fid, "region": region,
                            "true_class": d.true_class, "decided_by": d.decided_by})
    return out


def queue_collection(engine: Engine) -> dict:
    """The queue as a FeatureCollection, each Feature with its current state and status."""
    features = []
    for row in list_alerts(engine):
        f = json.loads(row["feature"])
        f["properties"].update({"alert_state": row["alert_state"], "status": row["status"],
                                "change_reason": row["change_reason"]})
        features.append(f)
    return {"type": "FeatureCollection", "features": features}
