"""People of the web app: users with roles, sign-in sessions, throttled logins, an audit trail.

Everything lives in the alert store (tables in pipelines/alerts/store.py), so several app
processes behind one proxy share users, sessions and the login throttle. Passwords are kept
only as argon2id hashes (argon2-cffi's defaults, RFC 9106); session tokens only as SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, func, select

from pipelines.alerts.store import audit, audit_event, sessions, users
from pipelines.errors import AlertStoreError

ROLES = ("viewer", "analyst", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10  # NIST SP 800-63B asks at least 8; a shared triage server asks a little more
SESSION_HOURS = 12  # one working day: a session never outlives the shift it was opened in
# At most this many failed sign-ins in the window, per user name and per client address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so an unknown name takes as long as a known one.

    Made on the first sign-in, not at import: hashing costs tens of milliseconds.
    """
    return _hasher.hash(secrets.token_hex(16))


class LoginRefused(AlertStoreError):
    """Wrong name or password, or a disabled account (one message for all: no hints)."""


class LoginThrottled(AlertStoreError):
    """Too many failed sign-ins for this name or from this client lately."""


@dataclass(frozen=True)
class Session:
    """A signed-in person: who, their role and the CSRF token of their session."""

    user: str
    role: str
    csrf: str

    def may(self, action: str) -> bool:
        """Whether the role allows an action: read (all), decide (analyst, admin), manage."""
        needed = {"read": "viewer", "decide": "analyst", "manage": "admin"}[action]
        return ROLES.index(self.role) >= ROLES.index(needed)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: str) -> str:
    """The role, or an error listing the roles there are."""
    if role not in ROLES:
        raise AlertStoreError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def add_user(engine: Engine, name: str, password: str, role: str, by: str = "cli") -> None:
    """Create a user; the name must be new and the password at least MIN_PASSWORD long."""
    if not NAME.match(name):
        raise AlertStoreError(f"user name {name!r}: use 1 to 64 letters, digits and _.@- "
                              "(starting with a letter or digit)")
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise AlertStoreError(f"the password must have at least {MIN_PASSWORD} characters")
    with engine.begin() as conn:
        if conn.execute(select(users.c.name).where(users.c.name == name)).first():
            raise AlertStoreError(f"user {name!r} already exists")
        conn.execute(users.insert().values(name=name, password_hash=_hasher.hash(password),
                                           role=role, disabled=0, created_at=_iso(_now())))
        audit_event(conn, "user_added", by, detail=f"{name} as {role}")


def update_user(engine: Engine, name: str, by: str, role: str | None = None,
                disabled: bool | None = None, password: str | None = None) -> None:
    """Change a user's role, password or whether they may sign in; ends their sessions."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = check_role(role)
    if disabled is not None:
        values["disabled"] = int(disabled)
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise AlertStoreError(f"the password must have at least {MIN_PASSWORD} characters")
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as conn:
        done = conn.execute(users.update().where(users.c.name == name).values(**values))
        if not done.rowcount:
            raise AlertStoreError(f"no user {name!r}")
        conn.execute(sessions.delete().where(sessions.c.user_name == name))
        said = ", ".join(f"{k}={v}" for k, v in values.items() if k != "password_hash")
        audit_event(conn, "user_changed", by, detail=f"{name}: {said or 'password'}")


def list_users(engine: Engine) -> list[dict]:
    """Every user with role, whether disabled and when created (never the hash)."""
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(
            select(users.c.name, users.c.role, users.c.disabled, users.c.created_at)
            .order_by(users.c.name))]


def _failures(conn: Connection, column: object, value: str) -> int:
    since = _iso(_now() - THROTTLE_WINDOW)
    return int(conn.execute(select(func.count()).select_from(audit).where(
        (audit.c.event == "login_failed") & (column == value) & (audit.c.at >= since)))
        .scalar() or 0)


def sign_in(engine: Engine, name: str, password: str, client: str) -> tuple[str, Session]:
    """Check a password and open a session: returns its token (for the cookie) and Session.

    Refused alike for an unknown name, a wrong password or a disabled account; throttled
    (without looking at the password) after too many failures for the name or the client.
    """
    with engine.begin() as conn:  # the refusals are recorded (committed), then raised
        throttled = (_failures(conn, audit.c.user_name, name[:64]) >= MAX_FAILURES_PER_USER
                     or _failures(conn, audit.c.client, client[:100])
                     >= MAX_FAILURES_PER_CLIENT)
        row = None if throttled else conn.execute(
            select(users).where(users.c.name == name)).first()
        ok = False
        if throttled:
            audit_event(conn, "login_throttled", name, client)
        else:
            try:
                _hasher.verify(row.password_hash if row else _dummy_hash(), password)
                ok = row is not None and not row.disabled
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                audit_event(conn, "login_failed", name, client)
    if throttled:
        raise LoginThrottled("too many failed sign-ins: wait 15 minutes and try again")
    if not ok or row is None:
        raise LoginRefused("wrong user name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        now = _now()
        conn.execute(sessions.insert().values(
            token_hash=_token_hash(token), user_name=row.name, csrf=csrf,
            created_at=_iso(now), expires_at=_iso(now + timedelta(hours=SESSION_HOURS))))
        audit_event(conn, "login", row.name, client)
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(users.update().where(users.c.name == row.name)
                         .values(password_hash=_hasher.hash(password)))
    return token, Session(row.name, row.role, csrf)


def session_of(engine: Engine, token: str | None) -> Session | None:
    """The live session a cookie's token opens, or None (unknown, expired or disabled)."""
    if not token:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.user_name, sessions.c.csrf, sessions.c.expires_at, users.c.role,
                   users.c.disabled)
            .join(users, users.c.name == sessions.c.user_name)
            .where(sessions.c.token_hash == _token_hash(token))).first()
    if row is None or row.disabled or row.expires_at <= _iso(_now()):
        return None
    return Session(row.user_name, row.role, row.csrf)


def sign_out(engine: Engine, token: str, client: str) -> None:
    """End a session (its token no longer opens anything)."""
    with engine.begin() as conn:
        row = conn.execute(select(sessions.c.user_name)
                           .where(sessions.c.token_hash == _token_hash(token))).first()
        conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))
        if row:
            audit_event(conn, "logout", row.user_name, client)


def audit_trail(engine: Engine, limit: int = 200) -> list[dict]:
    """The latest lines of the audit trail, newest first."""
    with engine.connect() as conn:
        return [r._asdict() for r in conn.execute(
            select(audit).order_by(audit.c.id.desc()).limit(limit))]
