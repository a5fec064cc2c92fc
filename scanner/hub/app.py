"""The hub's HTTP API (FastAPI). Protocol: docs/sync.md."""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from ..protocol import IMAGE_FIELDS
from .storage import HubStorage

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INDEX_FILE = re.compile(r"^index-\d+\.db$")
MAX_BODY = 20 * 1024 * 1024


def index_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "index"


def create_app(storage: HubStorage, data_dir: Path) -> FastAPI:
    app = FastAPI(title="scanner hub", version="1")

    def device(authorization: str | None = Header(default=None)) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        name = storage.device_for(authorization.removeprefix("Bearer ").strip())
        if name is None:
            raise HTTPException(401, "unknown device token", headers={"WWW-Authenticate": "Bearer"})
        return name

    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/v1/devices/me")
    def me(name: str = Depends(device)) -> dict[str, Any]:
        return {"device": name}

    @app.put("/api/v1/scans/{scan_id}")
    async def put_scan(scan_id: str, request: Request, name: str = Depends(device)) -> JSONResponse:
        if not UUID.match(scan_id):
            raise HTTPException(422, "scan id must be a lowercase UUID")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, "scan too large")
        try:
            record = json.loads(body)
            images = {name: _b64(record.pop(name, None)) for name in IMAGE_FIELDS}
        except (json.JSONDecodeError, AttributeError, binascii.Error) as err:
            raise HTTPException(422, f"malformed scan: {err}") from err
        if record.get("uuid") != scan_id:
            raise HTTPException(422, "uuid in the body differs from the URL")
        created = storage.put_scan(name, record, images)
        return JSONResponse({"uuid": scan_id, "stored": created}, status_code=201 if created else 200)

    @app.get("/api/v1/index/manifest")
    def manifest(_: str = Depends(device)) -> JSONResponse:
        path = index_dir(data_dir) / "manifest.json"
        if not path.exists():
            raise HTTPException(404, "no index published")
        return JSONResponse(json.loads(path.read_text()))

    @app.get("/api/v1/index/files/{file_name}")
    def index_file(file_name: str, _: str = Depends(device)) -> FileResponse:
        path = index_dir(data_dir) / file_name
        if not INDEX_FILE.match(file_name) or not path.is_file():
            raise HTTPException(404, "no such index file")
        return FileResponse(path, media_type="application/vnd.sqlite3")

    from .console import add_console

    add_console(app, storage)
    return app


def _b64(value: str | None) -> bytes | None:
    return base64.b64decode(value, validate=True) if value else None
