"""``GET /meet/{room}``: the meeting page, and ``/meet/static/…``: its modules, styles and strings."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse

from conclave.kit.errors import ConclaveError, NotFound
from conclave.kit.routing import surface_route
from conclave.tenancy.auth import Session
from conclave.web import pages
from conclave.web.service import STATIC_DIR, MeetingContext, MeetingPages, PageRefusal, pick_language

# The page loads nothing from elsewhere; a room's logo may live on the integrator's site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
    "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors *; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")


async def render_page_error(request: Request, exc: Exception) -> Response:
    """Unexpected refusals on the page come out as the same HTML error page."""
    if isinstance(exc, ConclaveError):
        code, message, status = exc.code, exc.message, exc.status_code
    else:
        assert isinstance(exc, RequestValidationError)
        code, message, status = "bad_request", "the link is malformed", 400
    language = pick_language(None, request.headers.get("accept-language"))
    refusal = PageRefusal(code=code, message=message, status_code=status, language=language)
    return HTMLResponse(pages.error_page(refusal), status_code=status, headers=_HEADERS)


async def meeting_pages(request: Request) -> MeetingPages:
    state = request.app.state
    return MeetingPages(state.sessions, state.rooms, state.tenancy)


Pages = Annotated[MeetingPages, Depends(meeting_pages)]

router = APIRouter(prefix="/meet", tags=["meeting page"], route_class=surface_route(render_page_error))


@router.get("/static/{path:path}", include_in_schema=False)
async def static_file(path: str) -> FileResponse:
    """The page's ES modules, CSS, icons and translations (shipped inside the package)."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound("no such file", code="not_found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(
        target,
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{room}", response_class=HTMLResponse, include_in_schema=False)
async def meeting_page(
    room: str, request: Request, session: Session, meetings: Pages, token: str | None = None
) -> HTMLResponse:
    """Open a room by id or friendly_url: public rooms as they are, private rooms with ``?token=``."""
    prepared = await meetings.prepare(
        session,
        ref=room,
        token=token or None,
        accept_language=request.headers.get("accept-language"),
        ip=request.client.host if request.client else None,
    )
    if isinstance(prepared, PageRefusal):
        return HTMLResponse(pages.error_page(prepared), status_code=prepared.status_code, headers=_HEADERS)
    assert isinstance(prepared, MeetingContext)
    config = prepared.client_config(token=token or None)
    return HTMLResponse(pages.shell(str(config["room"]["name"]), config), headers=_HEADERS)
