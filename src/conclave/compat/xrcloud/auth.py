"""``X-XRCLOUD-API-KEY``: an organization credential's secret, reaching all its projects.

The reference's Create Project example sends ``Authorization: Bearer …`` instead, so a Bearer
organization secret is accepted as well.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from conclave.kit.errors import Unauthorized
from conclave.tenancy.auth import Session, Tenancy
from conclave.tenancy.models import Organization

HEADER = "x-xrcloud-api-key"


async def xrcloud_organization(request: Request, session: Session, tenancy: Tenancy) -> Organization:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise Unauthorized("missing API key: send 'X-XRCLOUD-API-KEY: <ApiKey>'", code="missing_credentials")
    try:
        return await tenancy.authenticate_organization(session, key)
    except Unauthorized:
        raise Unauthorized("invalid API key", code="invalid_credentials") from None


XrcloudOrganization = Annotated[Organization, Depends(xrcloud_organization)]
