"""Native routes for organizations (administrator) and projects (organization credentials)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute
from conclave.tenancy.auth import Administrator, CurrentOrganization, Session, Tenancy
from conclave.tenancy.models import Credential, Project
from conclave.tenancy.schemas import (
    CredentialOut,
    CredentialRotate,
    IssuedCredentialOut,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationOut,
    OrganizationUpdate,
    ProjectCreate,
    ProjectCreated,
    ProjectOut,
    ProjectStatusUpdate,
    ProjectUpdate,
)
from conclave.tenancy.service import IssuedCredential, credential_status

Pagination = Annotated[PageParams, Depends(page_params)]

admin_router = APIRouter(
    prefix="/api/v1/admin",
    tags=["administration"],
    route_class=TransactionalRoute,
    dependencies=[Administrator],
)
projects_router = APIRouter(prefix="/api/v1/projects", tags=["projects"], route_class=TransactionalRoute)


def project_out(project: Project) -> ProjectOut:
    return ProjectOut.model_validate(project)


def credential_out(credential: Credential) -> CredentialOut:
    return CredentialOut(
        key_id=credential.key_id,
        status=credential_status(credential),
        created_at=credential.created_at,
        expires_at=credential.expires_at,
        revoked_at=credential.revoked_at,
    )


def issued_out(issued: IssuedCredential) -> IssuedCredentialOut:
    return IssuedCredentialOut(key_id=issued.credential.key_id, secret=issued.secret)


# -- administrator: organizations -------------------------------------------------------------


@admin_router.post("/organizations", response_model=OrganizationCreated)
async def create_organization(
    body: OrganizationCreate, session: Session, tenancy: Tenancy
) -> OrganizationCreated:
    """Create an organization and its first credential (optionally imported from another platform)."""
    organization, issued = await tenancy.create_organization(
        session, name=body.name, api_key=body.api_key, secret=body.secret
    )
    return OrganizationCreated(
        **OrganizationOut.model_validate(organization).model_dump(),
        api_key=issued.credential.key_id,
        secret=issued.secret,
    )


@admin_router.get("/organizations", response_model=Page[OrganizationOut])
async def list_organizations(session: Session, tenancy: Tenancy, page: Pagination) -> Page[OrganizationOut]:
    rows, total = await tenancy.list_organizations(session, page)
    return Page(total_count=total, data=[OrganizationOut.model_validate(row) for row in rows])


@admin_router.get("/organizations/{organization_id}", response_model=OrganizationOut)
async def get_organization(organization_id: str, session: Session, tenancy: Tenancy) -> OrganizationOut:
    return OrganizationOut.model_validate(await tenancy.get_organization(session, organization_id))


@admin_router.patch("/organizations/{organization_id}", response_model=OrganizationOut)
async def update_organization(
    organization_id: str, body: OrganizationUpdate, session: Session, tenancy: Tenancy
) -> OrganizationOut:
    return OrganizationOut.model_validate(
        await tenancy.rename_organization(session, organization_id, body.name)
    )


@admin_router.delete("/organizations/{organization_id}", status_code=204)
async def delete_organization(organization_id: str, session: Session, tenancy: Tenancy) -> None:
    """Delete an organization with all its projects, rooms and credentials."""
    await tenancy.delete_organization(session, organization_id)


@admin_router.get("/organizations/{organization_id}/credentials", response_model=Page[CredentialOut])
async def list_organization_credentials(
    organization_id: str, session: Session, tenancy: Tenancy, page: Pagination
) -> Page[CredentialOut]:
    await tenancy.get_organization(session, organization_id)
    rows, total = await tenancy.list_credentials(session, page, organization_id=organization_id)
    return Page(total_count=total, data=[credential_out(c) for c in rows])


@admin_router.post("/organizations/{organization_id}/credentials", response_model=IssuedCredentialOut)
async def create_organization_credential(
    organization_id: str, session: Session, tenancy: Tenancy
) -> IssuedCredentialOut:
    await tenancy.get_organization(session, organization_id)
    return issued_out(await tenancy.create_credential(session, organization_id=organization_id))


@admin_router.post(
    "/organizations/{organization_id}/credentials/{key_id}/rotate", response_model=IssuedCredentialOut
)
async def rotate_organization_credential(
    organization_id: str,
    key_id: str,
    session: Session,
    tenancy: Tenancy,
    body: CredentialRotate | None = None,
) -> IssuedCredentialOut:
    grace = body.grace_seconds if body else 0
    issued = await tenancy.rotate_credential(
        session, key_id, grace_seconds=grace, organization_id=organization_id
    )
    return issued_out(issued)


@admin_router.post(
    "/organizations/{organization_id}/credentials/{key_id}/revoke", response_model=CredentialOut
)
async def revoke_organization_credential(
    organization_id: str, key_id: str, session: Session, tenancy: Tenancy
) -> CredentialOut:
    return credential_out(await tenancy.revoke_credential(session, key_id, organization_id=organization_id))


# -- organization: projects -------------------------------------------------------------------


@projects_router.post("", response_model=ProjectCreated)
async def create_project(
    body: ProjectCreate, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> ProjectCreated:
    """Create a project; its ``secret_key`` is shown only in this response."""
    project, issued = await tenancy.create_project(session, organization.id, body)
    return ProjectCreated(
        **project_out(project).model_dump(), api_key=issued.credential.key_id, secret_key=issued.secret
    )


@projects_router.get("", response_model=Page[ProjectOut])
async def list_projects(
    organization: CurrentOrganization, session: Session, tenancy: Tenancy, page: Pagination
) -> Page[ProjectOut]:
    rows, total = await tenancy.list_projects(session, organization.id, page)
    return Page(total_count=total, data=[project_out(row) for row in rows])


@projects_router.get("/{project_id}", response_model=ProjectOut)
async def get_project(
    project_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> ProjectOut:
    return project_out(await tenancy.get_project(session, project_id, organization_id=organization.id))


@projects_router.patch("/{project_id}", response_model=ProjectOut)
async def update_project(
    project_id: str,
    body: ProjectUpdate,
    organization: CurrentOrganization,
    session: Session,
    tenancy: Tenancy,
) -> ProjectOut:
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    return project_out(await tenancy.update_project(session, project, body, name=body.name))


@projects_router.delete("/{project_id}", status_code=204)
async def delete_project(
    project_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> None:
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    await tenancy.delete_project(session, project)


@projects_router.put("/{project_id}/status", response_model=ProjectOut)
@projects_router.patch("/{project_id}/status", response_model=ProjectOut, include_in_schema=False)
async def set_project_status(
    project_id: str,
    body: ProjectStatusUpdate,
    organization: CurrentOrganization,
    session: Session,
    tenancy: Tenancy,
) -> ProjectOut:
    """Activate, deactivate or suspend a project; only active projects' credentials are accepted."""
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    return project_out(await tenancy.set_project_status(project, body.status))


@projects_router.get("/{project_id}/usage")
async def get_project_usage(
    project_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> dict[str, object]:
    """Today's (UTC) counters next to the project's limits."""
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    return {"today": await tenancy.usage_today(session, project.id), "limits": project.limits}


@projects_router.get("/{project_id}/credentials", response_model=Page[CredentialOut])
async def list_project_credentials(
    project_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy, page: Pagination
) -> Page[CredentialOut]:
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    rows, total = await tenancy.list_credentials(session, page, project_id=project.id)
    return Page(total_count=total, data=[credential_out(c) for c in rows])


@projects_router.post("/{project_id}/credentials", response_model=IssuedCredentialOut)
async def create_project_credential(
    project_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> IssuedCredentialOut:
    """Add another secret to the project (several may be active at once)."""
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    return issued_out(await tenancy.create_credential(session, project_id=project.id))


@projects_router.post("/{project_id}/credentials/{key_id}/rotate", response_model=IssuedCredentialOut)
async def rotate_project_credential(
    project_id: str,
    key_id: str,
    organization: CurrentOrganization,
    session: Session,
    tenancy: Tenancy,
    body: CredentialRotate | None = None,
) -> IssuedCredentialOut:
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    grace = body.grace_seconds if body else 0
    return issued_out(
        await tenancy.rotate_credential(session, key_id, grace_seconds=grace, project_id=project.id)
    )


@projects_router.post("/{project_id}/credentials/{key_id}/revoke", response_model=CredentialOut)
async def revoke_project_credential(
    project_id: str, key_id: str, organization: CurrentOrganization, session: Session, tenancy: Tenancy
) -> CredentialOut:
    project = await tenancy.get_project(session, project_id, organization_id=organization.id)
    return credential_out(await tenancy.revoke_credential(session, key_id, project_id=project.id))
