"""Qriib devkit v4 request signing: ``key`` + ``hash-signature`` (HMAC-SHA256, Base64).

The collection's pre-request script is the definition, so this mirrors its code line by line:

* the message is ``pm.request.url.getPathWithQuery()`` for GET and DELETE — the request path as
  sent, ``/api/v4/…`` (or ``/api/v3/…``) included, no scheme or host, plus ``?query`` when there
  is one — and ``pm.request.body.raw`` (the raw body text) for every other method;
* it is normalised with ``.replace(/\\r\\n/g, '\\n').trim()`` (CRLF → LF, then JavaScript's trim);
* ``CryptoJS.HmacSHA256(message, secret).toString(CryptoJS.enc.Base64)``: UTF-8 message and
  secret, standard Base64 with padding.

Postman signs the query before it percent-encodes it for the wire, so for GET/DELETE the
percent-decoded form of the received path is accepted as well as the form received.

``key`` (or ``api-key``, the header the collection's description names) is the public key id of
a project or organization credential; a ``secret-key`` header, when sent, must be that
credential's secret. A project credential is counted against ``max_api_calls_per_day`` like on
the native API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.compat.qriib.errors import InvalidApiKey, InvalidSignature
from conclave.kit.crypto import same_secret
from conclave.kit.errors import Unauthorized
from conclave.kit.routing import from_state, get_session
from conclave.tenancy.models import Organization, Project
from conclave.tenancy.service import ResolvedKey, TenancyService

Session = Annotated[AsyncSession, Depends(get_session)]

# String.prototype.trim(): ECMAScript WhiteSpace and LineTerminator code points. Python's
# str.strip() differs (it strips U+001C to U+001F and U+0085, and keeps U+FEFF).
_JS_TRIM = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_PATH_SIGNED_METHODS = frozenset({"GET", "DELETE"})


def normalise(message: str) -> str:
    """``rawMessage.replace(/\\r\\n/g, '\\n').trim()``."""
    return message.replace("\r\n", "\n").strip(_JS_TRIM)


def sign(secret: str, message: str) -> str:
    """``CryptoJS.HmacSHA256(message, secret).toString(CryptoJS.enc.Base64)``."""
    digest = hmac.new(secret.encode(), normalise(message).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def path_with_query(request: Request) -> str:
    """What ``getPathWithQuery()`` produced for this request, in the form it was received."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def signed_messages(request: Request) -> list[str]:
    """Every form of the message the client may have signed (normalised later by ``sign``)."""
    if request.method in _PATH_SIGNED_METHODS:
        received = path_with_query(request)
        decoded = unquote(received)
        return [received] if decoded == received else [received, decoded]
    body = await request.body()  # cached by Starlette, so the route can still read it
    try:
        return [body.decode("utf-8")]
    except UnicodeDecodeError:
        return []


def _api_key(request: Request) -> str | None:
    for header in ("key", "api-key"):
        value = request.headers.get(header, "").strip()
        if value:
            return value
    return None


async def verify(request: Request, session: AsyncSession, tenancy: TenancyService) -> ResolvedKey:
    """Resolve the credential named by ``key`` and check ``hash-signature`` against its secret."""
    key = _api_key(request)
    if key is None:
        raise InvalidApiKey()
    try:
        resolved = await tenancy.resolve_key_id(session, key)
    except Unauthorized:
        raise InvalidApiKey() from None
    secret_header = request.headers.get("secret-key")
    if secret_header is not None and not same_secret(secret_header.strip(), resolved.secret):
        raise InvalidSignature()
    given = request.headers.get("hash-signature", "").strip()
    if not given or not any(
        same_secret(given, sign(resolved.secret, message)) for message in await signed_messages(request)
    ):
        raise InvalidSignature()
    return resolved


_tenancy = from_state("tenancy")


Tenancy = Annotated[TenancyService, Depends(_tenancy)]


async def signed_project(request: Request, session: Session, tenancy: Tenancy) -> Project:
    """Rooms, recordings and analytics: a project credential (an organization key is refused)."""
    resolved = await verify(request, session, tenancy)
    if resolved.project is None:
        raise InvalidApiKey()
    project = resolved.project
    if project.max_api_calls_per_day is not None:
        await tenancy.count_api_call(session, project)
        # As on the native API: the call is counted even if the request later fails and rolls back.
        await session.commit()
    return project


async def signed_organization(request: Request, session: Session, tenancy: Tenancy) -> Organization:
    """Projects: an organization credential (a project key is refused)."""
    resolved = await verify(request, session, tenancy)
    if resolved.organization is None:
        raise InvalidApiKey()
    return resolved.organization


SignedProject = Annotated[Project, Depends(signed_project)]
SignedOrganization = Annotated[Organization, Depends(signed_organization)]
