"""The triage app's HTTP surface without a browser: sign-in, roles, CSRF, evidence, conflicts."""

from __future__ import annotations

import re
import sqlite3

import pytest
from fastapi.testclient import TestClient

from pipelines.settings import UiSettings
from pipelines.ui.app import create_app

from helpers import HOSTILE_ID, HOSTILE_NAME, PASSWORD


def sign_in(client: TestClient, user: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"user": user, "password": password, "csrf": token},
                       follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    page = client.get("/")
    return re.search(r'"csrf": "([^"]+)"', page.text).group(1)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def first_alert(client: TestClient) -> dict:
    return next(a for a in client.get("/api/alerts?region=simulated-demo-seed10").json()
                if a["alert"])


def test_nothing_but_sign_in_without_a_session(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "login"
    for path in ("/api/regions", "/api/alerts", "/api/users"):
        assert client.get(path).status_code == 401
    assert client.post("/api/decisions", json={}).status_code == 401


def test_sign_in_sets_a_strict_http_only_session_cookie(client):
    response = sign_in(client, "ana")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "cw_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it (next test)
    page = client.get("/")
    assert page.status_code == 200 and "ana (analyst)" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_the_cookie_is_secure_behind_https(app):
    with TestClient(app, base_url="https://triage.example") as c:
        assert "Secure" in sign_in(c, "ana").headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client):
    wrong = sign_in(client, "ana", "not the password")
    nobody = sign_in(client, "nobody", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    for response in (wrong, nobody):
        assert "wrong user name or password" in response.text
    assert client.get("/api/regions").status_code == 401


def test_the_sign_in_form_needs_its_csrf_token(client):
    client.get("/login")
    response = client.post("/login", data={"user": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/regions").status_code == 401


def test_sign_ins_are_throttled_after_five_failures(client, triage):
    for _ in range(5):
        assert sign_in(client, "ana", "guess guess guess").status_code == 401
    throttled = sign_in(client, "ana")  # even the right password, for 15 minutes
    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
    assert sign_in(client, "vic").status_code == 303  # another user is not locked out
    events = [r[0] for r in sqlite3.connect(triage.url.removeprefix("sqlite:///")).execute(
        "select event from audit where user_name = 'ana'")]
    assert events.count("login_failed") == 5 and "login_throttled" in events


def test_a_decision_needs_the_csrf_token_and_is_recorded_with_the_user(client, triage):
    sign_in(client, "ana")
    a = first_alert(client)
    body = {"region": a["region"], "id": a["facility_id"], "status": "confirmed",
            "note": "hall seen on site", "after_decision": 0}
    refused = client.post("/api/decisions", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = client.post("/api/decisions", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    ok = client.post("/api/decisions", json=body, headers={"X-CSRF-Token": csrf_of(client)})
    assert ok.status_code == 200 and ok.json()["by"] == "ana"
    detail = client.get(f"/api/alert?region={a['region']}&id={a['facility_id']}").json()
    assert detail["status"] == "confirmed"
    assert [(d["decided_by"], d["note"]) for d in detail["decisions"]] == [
        ("ana", "hall seen on site")]
    events = [r[0] for r in sqlite3.connect(triage.url.removeprefix("sqlite:///")).execute(
        "select event from audit order by id")]
    assert events[-2:] == ["login", "decision"]


def test_a_decision_needs_a_note_and_a_known_status(client):
    sign_in(client, "ana")
    a, token = first_alert(client), csrf_of(client)
    for change in ({"note": " "}, {"status": "approved"}, {"after_decision": "0"}):
        body = {"region": a["region"], "id": a["facility_id"], "status": "confirmed",
                "note": "ok", "after_decision": 0, **change}
        assert client.post("/api/decisions", json=body,
                           headers={"X-CSRF-Token": token}).status_code == 400


def test_a_viewer_reads_but_cannot_decide_or_manage(client):
    sign_in(client, "vic")
    a = first_alert(client)
    body = {"region": a["region"], "id": a["facility_id"], "status": "dismissed",
            "note": "no", "after_decision": 0}
    response = client.post("/api/decisions", json=body, headers={"X-CSRF-Token": csrf_of(client)})
    assert response.status_code == 403 and "viewer" in response.json()["detail"]
    assert client.get("/api/users").status_code == 403
    assert client.get(f"/api/alert?region={a['region']}&id={a['facility_id']}").json()[
        "status"] == "new"


def test_an_admin_adds_a_user_and_a_disabled_user_is_signed_out(client, app):
    sign_in(client, "ada")
    token = csrf_of(client)
    added = client.post("/api/users", headers={"X-CSRF-Token": token}, json={
        "new": True, "name": "ben", "role": "analyst", "password": "another long one"})
    assert added.status_code == 200
    assert {u["name"]: u["role"] for u in client.get("/api/users").json()}["ben"] == "analyst"
    with TestClient(app) as ben:
        assert sign_in(ben, "ben", "another long one").status_code == 303
        assert ben.get("/api/regions").status_code == 200
        client.post("/api/users", headers={"X-CSRF-Token": token},
                    json={"name": "ben", "disabled": True})
        assert ben.get("/api/regions").status_code == 401
        assert sign_in(ben, "ben", "another long one").status_code == 401
    short = client.post("/api/users", headers={"X-CSRF-Token": token}, json={
        "new": True, "name": "cy", "role": "viewer", "password": "short"})
    assert short.status_code == 400 and "at least 10" in short.json()["detail"]


def test_two_analysts_on_one_alert_the_second_is_told_and_nothing_is_lost(app):
    with TestClient(app) as one, TestClient(app) as two:
        sign_in(one, "ana")
        sign_in(two, "ada")
        a = first_alert(one)
        seen = one.get(f"/api/alert?region={a['region']}&id={a['facility_id']}").json()
        base = {"region": a["region"], "id": a["facility_id"],
                "after_decision": seen["latest_decision"]}
        first = one.post("/api/decisions", headers={"X-CSRF-Token": csrf_of(one)},
                         json={**base, "status": "confirmed", "note": "first"})
        second = two.post("/api/decisions", headers={"X-CSRF-Token": csrf_of(two)},
                          json={**base, "status": "dismissed", "note": "second"})
        assert first.status_code == 200 and second.status_code == 409
        conflict = second.json()["conflict"]
        assert (conflict["decided_by"], conflict["status"], conflict["note"]) == (
            "ana", "confirmed", "first")
        again = two.post("/api/decisions", headers={"X-CSRF-Token": csrf_of(two)},
                         json={**base, "after_decision": conflict["id"], "status": "dismissed",
                               "note": "second"})
        assert again.status_code == 200
        detail = one.get(f"/api/alert?region={a['region']}&id={a['facility_id']}").json()
        assert [d["note"] for d in detail["decisions"]] == ["first", "second"]
        assert detail["status"] == "dismissed"


def test_evidence_is_served_by_id_and_kind_only(client):
    sign_in(client, "vic")
    a = first_alert(client)
    chip = client.get("/api/evidence", params={"region": a["region"], "id": a["facility_id"],
                                               "kind": "thermal"})
    assert chip.status_code == 200 and chip.content.startswith(b"\x89PNG")
    for params in ({"kind": "../summary.md"}, {"kind": "summary"},
                   {"id": "../" + a["facility_id"]}, {"region": "other"}):
        q = {"region": a["region"], "id": a["facility_id"], "kind": "thermal", **params}
        assert client.get("/api/evidence", params=q).status_code == 404
    hostile = {"region": "hostile", "id": HOSTILE_ID, "kind": "thermal"}
    assert client.get("/api/evidence", params=hostile).status_code == 404
    for raw in ("/static/../../pipelines/ui/app.py", "/static/..%2f..%2fapp.py",
                "/api/evidence/../../etc/passwd"):
        response = client.get(raw)
        assert response.status_code == 404 and b"import" not in response.content


def test_hostile_text_reaches_the_page_only_as_escaped_data(client):
    sign_in(client, "ana")
    page = client.get("/")
    assert "<script>window" not in page.text
    alerts = client.get("/api/alerts?region=hostile").json()
    assert alerts[0]["name"] == HOSTILE_NAME and alerts[0]["facility_id"] == HOSTILE_ID


def test_a_local_mbtiles_basemap_is_served_after_sign_in(triage, tmp_path):
    path = tmp_path / "base.mbtiles"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT,"
                     " tile_data BLOB); INSERT INTO metadata VALUES ('format', 'png');")
    db.execute("INSERT INTO tiles VALUES (1, 0, 0, ?)", (b"\x89PNG south-west",))
    db.commit()
    db.close()
    app = create_app(triage.engine(), UiSettings(basemap="base.mbtiles"), tmp_path)
    with TestClient(app) as c:
        assert c.get("/tiles/1/0/1").status_code == 401
        sign_in(c, "vic")
        tile = c.get("/tiles/1/0/1")  # XYZ row 1 at zoom 1 is TMS row 0
        assert tile.content == b"\x89PNG south-west" and tile.headers["content-type"] == "image/png"
        assert c.get("/tiles/1/0/0").status_code == 404
        assert '"url": "tiles/{z}/{x}/{y}"' in c.get("/").text


def test_the_basemap_setting_is_checked():
    with pytest.raises(ValueError, match="URL template"):
        UiSettings(basemap="javascript:alert(1)")
    assert UiSettings(basemap="none").basemap == "none"


def test_oversized_or_malformed_bodies_are_refused_plainly(client):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    many = "&".join(f"f{i}=x" for i in range(20)) + f"&csrf={token}"
    refused = client.post("/login", content=many,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 400
    sign_in(client, "ana")
    huge = client.post("/api/decisions", content=b"{" + b" " * 70_000 + b"}",
                       headers={"X-CSRF-Token": csrf_of(client),
                                "Content-Type": "application/json"})
    assert huge.status_code == 413
    broken = client.post("/api/decisions", content=b"{not json",
                         headers={"X-CSRF-Token": csrf_of(client)})
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
