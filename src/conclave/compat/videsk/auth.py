"""``Authorization: Bearer <api token>``: the token is a Conclave project credential's secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from conclave.kit.errors import Unauthorized
from conclave.tenancy.auth import Session, Tenancy
from conclave.tenancy.models import Project


async def videsk_project(request: Request, session: Session, tenancy: Tenancy) -> Project:
    """The project whose secret is the Bearer token; Feathers answers NotAuthenticated otherwise."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Not authenticated: send 'Authorization: Bearer <API token>'", code="missing_credentials"
        )
    try:
        project = await tenancy.authenticate_project(session, token)
    except Unauthorized:
        raise Unauthorized("Invalid API token", code="invalid_credentials") from None
    if project.max_api_calls_per_day is not None:
        await tenancy.count_api_call(session, project)
        # As on the native API: the call is counted even if the request later fails and rolls back.
        await session.commit()
    return project


VideskProject = Annotated[Project, Depends(videsk_project)]
