"""Who is calling: the server administrator, an organization, or a project.

Native credentials arrive as ``Authorization: Bearer <secret>`` or HTTP Basic
``<owner id or key id>:<secret>``; anything else is a 401 with a message saying what to send.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.crypto import same_secret
from conclave.kit.errors import Unauthorized
from conclave.kit.routing import from_state, get_session
from conclave.tenancy.models import Organization, Project
from conclave.tenancy.service import TenancyService

Session = Annotated[AsyncSession, Depends(get_session)]


def parse_authorization(header: str | None) -> tuple[str | None, str]:
    """Return (username or None, secret) from a Bearer or Basic header."""
    if not header:
        raise Unauthorized(
            "missing Authorization header: send 'Bearer <secret>' or Basic '<id>:<secret>'",
            code="missing_credentials",
        )
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed Basic credentials", code="invalid_credentials") from None
        username, sep, password = decoded.partition(":")
        if sep and username and password:
            return username, password
        raise Unauthorized("Basic credentials must be '<id>:<secret>'", code="invalid_credentials")
    raise Unauthorized(
        "unsupported Authorization scheme: send 'Bearer <secret>' or Basic '<id>:<secret>'",
        code="invalid_credentials",
    )


tenancy_service = from_state("tenancy")
Tenancy = Annotated[TenancyService, Depends(tenancy_service)]


async def authenticated_project(request: Request) -> Project:
    # The session and the service are taken here rather than as sub-dependencies: this runs on
    # every native request, and each dependency FastAPI resolves costs about as much as the
    # cached authentication itself.
    username, secret = parse_authorization(request.headers.get("authorization"))
    session = await get_session(request)
    tenancy: TenancyService = request.app.state.tenancy
    project = await tenancy.authenticate_project(session, secret, username=username)
    if project.max_api_calls_per_day is not None:
        await tenancy.count_api_call(session, project)
        # The call is counted even if the request itself later fails and rolls back.
        await session.commit()
    return project


async def authenticated_organization(request: Request, session: Session, tenancy: Tenancy) -> Organization:
    username, secret = parse_authorization(request.headers.get("authorization"))
    return await tenancy.authenticate_organization(session, secret, username=username)


async def administrator(request: Request) -> None:
    _, token = parse_authorization(request.headers.get("authorization"))
    expected: str = request.app.state.secrets.admin_token
    if not same_secret(token, expected):
        raise Unauthorized("invalid administrator token", code="invalid_admin_token")


CurrentProject = Annotated[Project, Depends(authenticated_project)]
CurrentOrganization = Annotated[Organization, Depends(authenticated_organization)]
Administrator = Depends(administrator)
