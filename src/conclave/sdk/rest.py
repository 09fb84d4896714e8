"""``ConclaveClient``: a small async client for the native REST API (``/api/v1``).

Shape (after livekit-api's ``LiveKitAPI``): one object built from a base URL and the
project's secret, used as ``async with ConclaveClient(url, secret) as api:``, one coroutine
per route returning the decoded JSON. Errors are typed: a 4xx raises the matching
:class:`~conclave.sdk.errors.ConclaveAPIError` subclass at once (retrying cannot change the
answer), while 5xx answers and transport failures are retried a bounded number of times with
exponential backoff, because those are the transient ones (a restarting server, a proxy).
Each native request runs in one database transaction, so a 5xx left nothing behind and
retrying it is safe.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import quote

import httpx

from conclave.sdk.errors import (
    AuthenticationError,
    BadRequestError,
    ConclaveAPIError,
    ConclaveConnectionError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)

__all__ = ["DEFAULT_SERVER", "ConclaveClient", "IssuedToken", "Page"]

DEFAULT_SERVER = "http://127.0.0.1:8000"

JSON = dict[str, Any]

_STATUS_ERRORS: dict[int, type[ConclaveAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    415: UnsupportedMediaTypeError,
    422: ValidationFailedError,
    429: RateLimitError,
}


class Page(TypedDict):
    """A native list answer: ``total_count`` over all pages, ``data`` for this one."""

    total_count: int
    data: list[JSON]


@dataclass(frozen=True)
class IssuedToken:
    """``POST /rooms/{room}/token``: the JWT for ``/rtc`` and the meeting link that carries it."""

    token: str
    link: str


def _segment(value: str) -> str:
    """One path segment: ids and friendly URLs are user data, so nothing in them may add a path."""
    return quote(value, safe="")


def _drop_none(values: Mapping[str, Any]) -> JSON:
    return {key: value for key, value in values.items() if value is not None}


def _error_from(response: httpx.Response) -> ConclaveAPIError:
    """Build the typed error from the native body; a foreign body (proxy page) still gets a code."""
    code, message, details = f"http_{response.status_code}", response.reason_phrase or "error", None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = error.get("details")
    elif response.text:
        message = response.text[:500]
    status = response.status_code
    kind = _STATUS_ERRORS.get(status, ServerError if status >= 500 else ConclaveAPIError)
    return kind(status, code, message, details, method=response.request.method, url=str(response.request.url))


class ConclaveClient:
    """Async client of the native API, authenticated with a project's secret key.

    ``max_retries`` bounds the retries of 5xx and transport failures (so a call makes at most
    ``max_retries + 1`` attempts); the wait before retry *n* is ``backoff * 2**n`` seconds
    (capped at ``max_backoff``, with up to 25 % jitter so many clients do not retry in step),
    or the server's ``Retry-After`` seconds when it sends them (capped the same way).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        secret_key: str = "",
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self._secret = secret_key
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> ConclaveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    # --- transport ------------------------------------------------------------------------

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit():
                return min(self._max_backoff, float(retry_after))
        delay: float = min(self._max_backoff, self._backoff * (2**attempt))
        return delay * (1 + random.random() * 0.25)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one native request; returns the decoded JSON (``None`` for 204) or raises typed errors."""
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {self._secret}", "Accept": "application/json"}
        query = _drop_none(params or {})
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    method, url, json=json, params=query or None, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self._max_retries:
                    raise ConclaveConnectionError(
                        f"{method} {url}: {type(exc).__name__}: {exc} (after {attempt + 1} attempts)"
                    ) from exc
            else:
                if response.status_code < 400:
                    if response.status_code == 204 or not response.content:
                        return None
                    return response.json()
                if response.status_code < 500 or attempt >= self._max_retries:
                    raise _error_from(response)
            await asyncio.sleep(self._delay(attempt, response))
            attempt += 1

    # --- default settings -----------------------------------------------------------------

    async def get_default_settings(self) -> JSON:
        """``GET /api/v1``: the settings new rooms start from."""
        result: JSON = await self.request("GET", "/api/v1")
        return result

    async def update_default_settings(self, fields: Mapping[str, Any] | None = None, **kwargs: Any) -> JSON:
        """``PATCH /api/v1``: change the defaults (existing rooms keep theirs)."""
        result: JSON = await self.request("PATCH", "/api/v1", json={**(fields or {}), **kwargs})
        return result

    # --- rooms ----------------------------------------------------------------------------

    async def create_room(self, fields: Mapping[str, Any] | None = None, **kwargs: Any) -> JSON:
        """``POST /api/v1/rooms``; every field is optional (``friendly_url``, ``privacy``, …)."""
        result: JSON = await self.request("POST", "/api/v1/rooms", json={**(fields or {}), **kwargs})
        return result

    async def get_room(self, room: str) -> JSON:
        """A room by UUID or friendly_url."""
        result: JSON = await self.request("GET", f"/api/v1/rooms/{_segment(room)}")
        return result

    async def list_rooms(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order: str | None = None,
        after: str | None = None,
        tags: list[str] | None = None,
    ) -> Page:
        """One page of rooms (``limit`` ≤ 100); ``tags`` keeps rooms having any of them."""
        params: JSON = {"limit": limit, "offset": offset, "order": order, "after": after}
        if tags:
            params["tag"] = tags
        result: Page = await self.request("GET", "/api/v1/rooms", params=params)
        return result

    async def update_room(self, room: str, fields: Mapping[str, Any] | None = None, **kwargs: Any) -> JSON:
        """``PATCH`` the given fields; ``None`` values clear nullable fields (sent as JSON null)."""
        result: JSON = await self.request(
            "PATCH", f"/api/v1/rooms/{_segment(room)}", json={**(fields or {}), **kwargs}
        )
        return result

    async def delete_room(self, room: str) -> None:
        await self.request("DELETE", f"/api/v1/rooms/{_segment(room)}")

    async def issue_token(
        self,
        room: str,
        *,
        user_id: str | None = None,
        name: str | None = None,
        role: str | None = None,
        initials: str | None = None,
        avatar: str | None = None,
        breakout_id: str | None = None,
        nbf: int | None = None,
        exp: int | None = None,
    ) -> IssuedToken:
        """A participant's access token (claims ``ud``, ``u``, ``role``, …; times in Unix seconds)."""
        claims = _drop_none(
            {
                "ud": user_id,
                "u": name,
                "role": role,
                "initials": initials,
                "avatar": avatar,
                "breakoutId": breakout_id,
                "nbf": nbf,
                "exp": exp,
            }
        )
        result: JSON = await self.request("POST", f"/api/v1/rooms/{_segment(room)}/token", json=claims)
        return IssuedToken(token=str(result["token"]), link=str(result["link"]))

    # --- roles ----------------------------------------------------------------------------

    async def list_roles(self, *, limit: int | None = None, offset: int | None = None) -> Page:
        result: Page = await self.request("GET", "/api/v1/roles", params={"limit": limit, "offset": offset})
        return result

    async def get_role(self, role: str) -> JSON:
        result: JSON = await self.request("GET", f"/api/v1/roles/{_segment(role)}")
        return result

    async def create_role(
        self, name: str, *, display_name: str | None = None, permissions: Mapping[str, bool] | None = None
    ) -> JSON:
        """A custom role; permissions not named are off."""
        body = _drop_none({"name": name, "display_name": display_name})
        body["permissions"] = dict(permissions or {})
        result: JSON = await self.request("POST", "/api/v1/roles", json=body)
        return result

    async def update_role(
        self, role: str, *, display_name: str | None = None, permissions: Mapping[str, bool] | None = None
    ) -> JSON:
        body = _drop_none({"display_name": display_name, "permissions": permissions})
        result: JSON = await self.request("PATCH", f"/api/v1/roles/{_segment(role)}", json=body)
        return result

    async def delete_role(self, role: str) -> None:
        await self.request("DELETE", f"/api/v1/roles/{_segment(role)}")

    # --- sessions and presence ------------------------------------------------------------

    async def list_sessions(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order: str | None = None,
        after: str | None = None,
        room: str | None = None,
        status: str | None = None,
        **filters: Any,
    ) -> Page:
        """``GET /api/v1/sessions``: ``room`` (id or friendly_url), ``status`` (``live``/``ended``)."""
        params = {
            "limit": limit,
            "offset": offset,
            "order": order,
            "after": after,
            "room": room,
            "status": status,
            **filters,
        }
        result: Page = await self.request("GET", "/api/v1/sessions", params=params)
        return result

    async def get_session(self, session_id: str) -> JSON:
        result: JSON = await self.request("GET", f"/api/v1/sessions/{_segment(session_id)}")
        return result

    async def list_session_participants(
        self, session_id: str, *, limit: int | None = None, offset: int | None = None, **filters: Any
    ) -> Page:
        params = {"limit": limit, "offset": offset, **filters}
        result: Page = await self.request(
            "GET", f"/api/v1/sessions/{_segment(session_id)}/participants", params=params
        )
        return result

    async def get_session_statistics(self, session_id: str) -> JSON:
        result: JSON = await self.request("GET", f"/api/v1/sessions/{_segment(session_id)}/statistics")
        return result

    async def end_session(self, session_id: str) -> JSON | None:
        """End a live session: everyone in it is disconnected (``session_ended``, close 4411)."""
        result: JSON | None = await self.request("POST", f"/api/v1/sessions/{_segment(session_id)}/end")
        return result

    async def room_live_count(self, room: str) -> JSON:
        """``GET /api/v1/rooms/{room}/live/count``: participants present in the room now."""
        result: JSON = await self.request("GET", f"/api/v1/rooms/{_segment(room)}/live/count")
        return result

    async def live_count(self) -> JSON:
        """``GET /api/v1/live/count``: participants present in all the project's rooms now."""
        result: JSON = await self.request("GET", "/api/v1/live/count")
        return result

    async def list_participants(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        room: str | None = None,
        external_id: str | None = None,
        **filters: Any,
    ) -> Page:
        """``GET /api/v1/participants``, optionally of one room or one external user id."""
        params = {"limit": limit, "offset": offset, "room": room, "external_id": external_id, **filters}
        result: Page = await self.request("GET", "/api/v1/participants", params=params)
        return result

    async def get_participant(self, participant_id: str) -> JSON:
        result: JSON = await self.request("GET", f"/api/v1/participants/{_segment(participant_id)}")
        return result

    async def list_participant_sessions(
        self, participant_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page:
        """Sessions this person attended (matched by external id when the token carried one)."""
        path = f"/api/v1/participants/{_segment(participant_id)}/sessions"
        result: Page = await self.request("GET", path, params={"limit": limit, "offset": offset})
        return result

    async def kick_participant(self, room: str, participant_id: str) -> JSON | None:
        """Remove a participant from the room's live session (they get ``kicked``, close 4410)."""
        path = f"/api/v1/rooms/{_segment(room)}/participants/{_segment(participant_id)}/kick"
        result: JSON | None = await self.request("POST", path)
        return result

    async def mute_participant(
        self, room: str, participant_id: str, *, audio: bool | None = None, video: bool | None = None
    ) -> JSON | None:
        """Mute (``True``) or unmute a participant's audio and/or video; omitted kinds stay as they are."""
        path = f"/api/v1/rooms/{_segment(room)}/participants/{_segment(participant_id)}/mute"
        result: JSON | None = await self.request(
            "POST", path, json=_drop_none({"audio": audio, "video": video})
        )
        return result
