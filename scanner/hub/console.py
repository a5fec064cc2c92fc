"""The reviewer's web console on the hub: flagged scans to review, the evidence, and a decision per scan.

Reviewer accounts are separate from device tokens: scrypt-hashed passwords, server-side sessions in an
HttpOnly SameSite=Strict cookie, and a per-session CSRF token in every form (the login form uses a
double-submit cookie). Every page and image is behind login.
"""

from __future__ import annotations

import csv
import hmac
import io
import math
import secrets
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .storage import DECISIONS, HubStorage

COOKIE = "hub_session"
LOGIN_CSRF_COOKIE = "hub_login_csrf"
PER_PAGE = 25
FILTERS = ("brand", "verdict", "device", "date_from", "date_to", "decision")
DECISION_LABELS = {"confirmed_counterfeit": "confirmed counterfeit", "false_alarm": "false alarm"}
IMAGE_TYPES = {
    "frame.jpg": ("frame_jpeg", "image/jpeg"),
    "heatmap.png": ("heatmap_png", "image/png"),
    "reference.png": ("reference_png", "image/png"),
    "views.jpg": ("views_jpeg", "image/jpeg"),
}

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["decision_labels"] = DECISION_LABELS


class LoginRequired(Exception):
    pass


def add_console(app: FastAPI, storage: HubStorage) -> None:
    def reviewer(request: Request) -> tuple[str, str]:
        session = storage.session(request.cookies.get(COOKIE, ""))
        if session is None:
            raise LoginRequired
        return session

    def check_csrf(expected: str, given: str) -> None:
        if not given or not hmac.compare_digest(expected, given):
            raise HTTPException(403, "the form has expired or did not come from this site: reload and try again")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _: LoginRequired) -> Response:
        if request.url.path.endswith((".jpg", ".png", ".csv")):
            return Response("login required", status_code=401)
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/scans") -> Response:
        return _login_form(request, next)

    @app.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
        next: str = Form("/scans"),
    ) -> Response:
        check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf)
        if not storage.check_password(username, password):
            return _login_form(request, next, "Wrong name or password.", 401)
        session, _ = storage.open_session(username)
        response = RedirectResponse(_safe(next), status_code=303)
        response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=_https(request))
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        _, expected = reviewer(request)
        check_csrf(expected, csrf)
        storage.close_session(request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        reviewer(request)
        return RedirectResponse("/scans", status_code=303)

    @app.get("/scans", response_class=HTMLResponse)
    def scan_list(request: Request, page: int = 1) -> Response:
        name, csrf = reviewer(request)
        filters = {k: request.query_params.get(k, "").strip() for k in FILTERS}
        page = max(1, page)
        rows, total = storage.review_page(filters, page, PER_PAGE)
        pages = max(1, math.ceil(total / PER_PAGE))
        active = {k: v for k, v in filters.items() if v}
        return templates.TemplateResponse(
            request,
            "scans.html",
            {
                "reviewer": name,
                "csrf": csrf,
                "rows": rows,
                "total": total,
                "page": page,
                "pages": pages,
                "filters": filters,
                "query": lambda **extra: urlencode({**active, **extra}),
            },
        )

    @app.get("/scans/{scan_id}", response_class=HTMLResponse)
    def scan_detail(request: Request, scan_id: str) -> Response:
        name, csrf = reviewer(request)
        detail = storage.scan_detail(scan_id)
        if detail is None:
            raise HTTPException(404, "no such scan")
        return templates.TemplateResponse(
            request,
            "scan.html",
            {"reviewer": name, "csrf": csrf, "scan": detail, "record": detail["record"], "decisions": DECISIONS},
        )

    @app.post("/scans/{scan_id}/decision")
    def decide(
        request: Request, scan_id: str, decision: str = Form(""), note: str = Form(""), csrf: str = Form("")
    ) -> Response:
        name, expected = reviewer(request)
        check_csrf(expected, csrf)
        if storage.scan_detail(scan_id) is None:
            raise HTTPException(404, "no such scan")
        if decision not in DECISIONS:
            raise HTTPException(422, "choose confirmed counterfeit or false alarm")
        storage.decide(scan_id, decision, note.strip()[:2000], name)
        return RedirectResponse(f"/scans/{scan_id}", status_code=303)

    @app.get("/scans/{scan_id}/{image}")
    def scan_image(request: Request, scan_id: str, image: str) -> Response:
        reviewer(request)
        if image not in IMAGE_TYPES:
            raise HTTPException(404, "no such image")
        column, media_type = IMAGE_TYPES[image]
        data = storage.scan_image(scan_id, column)
        if data is None:
            raise HTTPException(404, "this scan has no such image")
        return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/decisions.csv")
    def decisions_csv(request: Request) -> Response:
        reviewer(request)
        out = io.StringIO()
        fields = ["uuid", "device", "brand", "verdict", "created_at", "decision", "note", "reviewer", "decided_at"]
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(storage.decisions_export())
        return Response(
            out.getvalue(), media_type="text/csv", headers={"Content-Disposition": "attachment; filename=decisions.csv"}
        )


def _login_form(request: Request, next_path: str, error: str | None = None, status: int = 200) -> Response:
    """The login page with a fresh double-submit CSRF token (cookie and hidden field)."""
    token = secrets.token_urlsafe(24)
    context = {"csrf": token, "next": _safe(next_path), "error": error}
    response = templates.TemplateResponse(request, "login.html", context, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_https(request))
    return response


def _safe(target: str) -> str:
    """Only same-site paths after login (no open redirect to another host)."""
    return target if target.startswith("/") and not target.startswith("//") else "/scans"


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
