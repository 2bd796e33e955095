"""Users, sessions and the sign-in throttle, on SQLite and a real PostgreSQL server."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from pipelines.alerts import accounts
from pipelines.alerts.store import sessions, users

PASSWORD = "a long enough password"


def test_a_session_opens_with_the_password_and_ends_on_sign_out(store):
    accounts.add_user(store, "ana", PASSWORD, "analyst")
    token, session = accounts.sign_in(store, "ana", PASSWORD, "10.0.0.1")
    assert (session.user, session.role) == ("ana", "analyst")
    assert session.may("read") and session.may("decide") and not session.may("manage")
    assert accounts.session_of(store, token) == session
    with store.connect() as conn:  # only hashes are kept
        stored = conn.execute(select(sessions.c.token_hash, users.c.password_hash)
                              .join(users, users.c.name == sessions.c.user_name)).one()
    assert token not in stored and PASSWORD not in stored[1]
    assert stored[1].startswith("$argon2id$")
    accounts.sign_out(store, token, "10.0.0.1")
    assert accounts.session_of(store, token) is None
    assert accounts.session_of(store, "made-up") is None


def test_expired_sessions_and_disabled_users_open_nothing(store):
    accounts.add_user(store, "vic", PASSWORD, "viewer")
    token, _ = accounts.sign_in(store, "vic", PASSWORD, "c")
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    with store.begin() as conn:
        conn.execute(update(sessions).values(expires_at=past))
    assert accounts.session_of(store, token) is None
    token, _ = accounts.sign_in(store, "vic", PASSWORD, "c")
    accounts.update_user(store, "vic", "ada", disabled=True)
    assert accounts.session_of(store, token) is None
    with pytest.raises(accounts.LoginRefused):
        accounts.sign_in(store, "vic", PASSWORD, "c")


def test_failures_are_throttled_per_name_and_per_client(store):
    accounts.add_user(store, "ana", PASSWORD, "analyst")
    accounts.add_user(store, "ben", PASSWORD, "analyst")
    for _ in range(accounts.MAX_FAILURES_PER_USER):
        with pytest.raises(accounts.LoginRefused):
            accounts.sign_in(store, "ana", "wrong wrong wrong", "c1")
    with pytest.raises(accounts.LoginThrottled):
        accounts.sign_in(store, "ana", PASSWORD, "c2")
    accounts.sign_in(store, "ben", PASSWORD, "c1")  # under the per-client limit still
    for i in range(accounts.MAX_FAILURES_PER_CLIENT):
        with pytest.raises(accounts.LoginRefused):
            accounts.sign_in(store, f"guess{i}", "wrong wrong wrong", "c9")
    with pytest.raises(accounts.LoginThrottled):
        accounts.sign_in(store, "ben", PASSWORD, "c9")
    events = [e["event"] for e in accounts.audit_trail(store, 500)]
    assert events.count("login_throttled") == 2 and events.count("login") == 1
