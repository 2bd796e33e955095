"""The triage web app: pages, a JSON API over the alert store, sign-in, roles and CSRF.

Every request but sign-in and static files needs a session cookie (HttpOnly, SameSite=Strict,
Secure over https); every state change also needs the session's CSRF token in the
X-CSRF-Token header (the sign-in form uses a double-submit cookie). Decisions go through the
store's set_status, as from the command line, with the signed-in user as `by`.
"""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from pipelines.alerts import accounts
from pipelines.alerts.store import STATUSES, set_status
from pipelines.errors import AlertStoreError, DecisionConflict
from pipelines.resources import package_version
from pipelines.settings import UiSettings
from pipelines.ui import queue
from pipelines.ui.tiles import MBTiles

HERE = Path(__file__).parent
COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login"
MAX_NOTE = 4000  # characters of a decision's note
MAX_BODY = 65_536  # bytes of a request body: a decision, a user change or the sign-in form


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _secure(request: Request) -> bool:
    """Cookies are Secure when the page came over https (directly or via the proxy)."""
    return request.url.scheme == "https"


def _session(engine: Engine, request: Request, action: str = "read") -> accounts.Session:
    """The signed-in person allowed to do action, or 401/403; a POST must carry the CSRF."""
    session = accounts.session_of(engine, request.cookies.get(COOKIE))
    if session is None:
        raise HTTPException(401, "sign in first")
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")
    if not session.may(action):
        raise HTTPException(403, f"a {session.role} may not do this")
    return session


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused (413) past limit bytes whatever Content-Length says."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"request body over {limit:,} bytes")
    return bytes(data)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await _body(request))
    except ValueError:
        raise HTTPException(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


def _basemap(ui: UiSettings, config_dir: Path) -> tuple[dict[str, Any], MBTiles | None, str]:
    """What the page needs to draw the basemap, the MBTiles file if local, and its origin."""
    if ui.basemap == "none":
        return {"url": None}, None, ""
    if ui.basemap.endswith(".mbtiles"):
        tiles = MBTiles((config_dir / ui.basemap).resolve())
        return ({"url": "tiles/{z}/{x}/{y}", "attribution": ui.basemap_attribution,
                 "maxZoom": ui.basemap_max_zoom}, tiles, "")
    parts = urlsplit(ui.basemap)
    origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return ({"url": ui.basemap, "attribution": ui.basemap_attribution,
             "maxZoom": ui.basemap_max_zoom}, None, origin)


router = APIRouter()


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _page(request: Request, name: str, status: int = 200, **values: Any) -> Response:
    html = request.app.state.pages.get_template(name).render(version=package_version(),
                                                             **values)
    return Response(html, status_code=status, media_type="text/html")


def _login_page(request: Request, message: str | None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = _page(request, "login.html", status, csrf=token, message=message)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form, with a fresh double-submit CSRF token."""
    return _login_page(request, None)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the form's CSRF and the password; open a session or say why not."""
    try:
        form = {k: v[0] for k, v in parse_qs((await _body(request)).decode(errors="replace"),
                                              max_num_fields=10).items()}
    except ValueError:
        raise HTTPException(400, "not a sign-in form") from None
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("csrf", "").encode(), cookie.encode()):
        return _login_page(request, "The form expired: please sign in again.", 403)
    try:
        token, _ = await run_in_threadpool(  # argon2 takes a while: not on the event loop
            accounts.sign_in, _engine(request), form.get("user", ""),
            form.get("password", ""), _client(request))
    except accounts.LoginThrottled as exc:
        return _login_page(request, str(exc), 429)
    except accounts.LoginRefused as exc:
        return _login_page(request, str(exc), 401)
    response = RedirectResponse("./", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), max_age=accounts.SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session (a state change: needs the CSRF token)."""
    _session(_engine(request), request)
    accounts.sign_out(_engine(request), request.cookies.get(COOKIE, ""), _client(request))
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def index(request: Request) -> Response:
    """The triage page, or the sign-in form for someone not signed in."""
    session = accounts.session_of(_engine(request), request.cookies.get(COOKIE))
    if session is None:
        return RedirectResponse("login", status_code=303)
    config = {"user": session.user, "role": session.role, "csrf": session.csrf,
              "basemap": request.app.state.basemap, "statuses": list(STATUSES),
              "mayDecide": session.may("decide"), "mayManage": session.may("manage")}
    return _page(request, "index.html", config=config, user=session.user, role=session.role)


@router.get("/api/regions")
def api_regions(request: Request) -> list[str]:
    """Every region of the store."""
    _session(_engine(request), request)
    return queue.region_names(_engine(request))


@router.get("/api/alerts")
def api_alerts(request: Request, region: str | None = None) -> list[dict]:
    """The queue of one region, or of all."""
    _session(_engine(request), request)
    return queue.queue(_engine(request), region or None)


@router.get("/api/alert")
def api_alert(request: Request, region: str, id: str) -> dict:  # noqa: A002
    """One alert with its history, decisions and evidence kinds."""
    _session(_engine(request), request)
    try:
        return queue.detail(_engine(request), region, id)
    except AlertStoreError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/api/evidence")
def api_evidence(request: Request, region: str, id: str, kind: str) -> Response:  # noqa: A002
    """An alert's thermal chip or load chart, found by region, id and kind only."""
    _session(_engine(request), request)
    path = queue.evidence_file(_engine(request), region, id, kind)
    if path is None:
        raise HTTPException(404, "no such evidence")
    return FileResponse(path, media_type="image/png",
                        headers={"Cache-Control": "private, max-age=300"})


def _decision(body: dict[str, Any]) -> tuple[str, str, int]:
    """Status, note and after_decision of a decision request, or 400."""
    note = str(body.get("note") or "").strip()
    if not note:
        raise HTTPException(400, "a decision needs a note")
    if len(note) > MAX_NOTE:
        raise HTTPException(400, f"a note holds at most {MAX_NOTE} characters")
    status = body.get("status")
    if status not in STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}")
    after = body.get("after_decision")
    if not isinstance(after, int) or isinstance(after, bool):
        raise HTTPException(400, "after_decision: the id of the latest decision seen")
    return str(status), note, after


@router.post("/api/decisions")
async def api_decide(request: Request) -> Response:
    """Record a decision as the signed-in analyst; 409 if someone decided meanwhile."""
    session = _session(_engine(request), request, "decide")
    body = await _json(request)
    status, note, after = _decision(body)
    try:
        made = await run_in_threadpool(
            set_status, _engine(request), str(body.get("id", "")), status, note,
            session.user, str(body.get("region", "")) or None, None, after, _client(request))
    except DecisionConflict as exc:
        return JSONResponse({"conflict": exc.latest}, status_code=409)
    except AlertStoreError as exc:
        raise HTTPException(404, str(exc)) from None
    return JSONResponse({"decision": made, "status": status, "by": session.user})


@router.get("/api/users")
def api_users(request: Request) -> list[dict]:
    """Users and roles (admins)."""
    _session(_engine(request), request, "manage")
    return accounts.list_users(_engine(request))


@router.post("/api/users")
async def api_user_change(request: Request) -> dict:
    """Add a user, or change one's role, password or whether they may sign in (admins)."""
    session = _session(_engine(request), request, "manage")
    body = await _json(request)
    name = str(body.get("name", ""))
    disabled = body.get("disabled")
    try:
        if body.get("new"):
            await run_in_threadpool(accounts.add_user, _engine(request), name,
                                    str(body.get("password") or ""),
                                    str(body.get("role", "viewer")), session.user)
        else:
            await run_in_threadpool(accounts.update_user, _engine(request), name, session.user,
                                    body.get("role"),
                                    None if disabled is None else bool(disabled),
                                    body.get("password") or None)
    except AlertStoreError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"ok": True}


@router.get("/api/audit")
def api_audit(request: Request) -> list[dict]:
    """The latest lines of the audit trail (admins)."""
    _session(_engine(request), request, "manage")
    return accounts.audit_trail(_engine(request))


@router.get("/tiles/{z}/{x}/{y}")
def tile(request: Request, z: int, x: int, y: int) -> Response:
    """A basemap tile from the local MBTiles file (when flows.yaml names one)."""
    _session(_engine(request), request)
    tiles: MBTiles | None = request.app.state.tiles
    data = tiles.tile(z, x, y) if tiles else None
    if tiles is None or data is None:
        raise HTTPException(404, "no tile")
    return Response(data, media_type=tiles.media_type,
                    headers={"Cache-Control": "private, max-age=86400"})


def create_app(engine: Engine, ui: UiSettings, config_dir: Path) -> FastAPI:
    """The app over one alert store; config_dir is flows.yaml's folder (for a local basemap)."""
    app = FastAPI(title="computewatch triage", version=package_version(), docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.pages = Environment(loader=FileSystemLoader(HERE / "templates"),
                                  autoescape=select_autoescape(["html"]))
    app.state.basemap, app.state.tiles, tile_origin = _basemap(ui, config_dir)
    csp = ("default-src 'self'; img-src 'self' data: " + tile_origin +
           "; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
           "frame-ancestors 'none'; form-action 'self'")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    return app
