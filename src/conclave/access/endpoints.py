"""Native routes for roles and permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from conclave.access.schemas import RoleCreate, RoleOut, RoleUpdate
from conclave.access.service import RoleView
from conclave.kit.errors import NotFound
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute
from conclave.rooms.endpoints import Access
from conclave.tenancy.auth import CurrentProject, Session

router = APIRouter(prefix="/api/v1/roles", tags=["roles"], route_class=TransactionalRoute)
Pagination = Annotated[PageParams, Depends(page_params)]


def role_out(view: RoleView) -> RoleOut:
    return RoleOut.model_validate(view)


@router.get("", response_model=Page[RoleOut])
async def list_roles(
    project: CurrentProject, session: Session, access: Access, page: Pagination
) -> Page[RoleOut]:
    """Built-in roles first (oldest first with ``order=asc``), then the project's custom roles."""
    roles = await access.list_roles(session, project.id)
    total = len(roles)
    if page.order == "desc":
        roles.reverse()
    if page.after is not None:
        position = next((i for i, r in enumerate(roles) if page.after in (r.id, r.name)), None)
        if position is None:
            raise NotFound(f"role {page.after!r} given as 'after' not found", code="role_not_found")
        roles = roles[position + 1 :]
    window = roles[page.offset : page.offset + page.limit]
    return Page(total_count=total, data=[role_out(r) for r in window])


@router.post("", response_model=RoleOut)
async def create_role(body: RoleCreate, project: CurrentProject, session: Session, access: Access) -> RoleOut:
    """Create a custom role; permissions not named are off."""
    return role_out(await access.create_role(session, project.id, body))


@router.get("/{role}", response_model=RoleOut)
async def get_role(role: str, project: CurrentProject, session: Session, access: Access) -> RoleOut:
    return role_out(await access.get_role(session, project.id, role))


@router.patch("/{role}", response_model=RoleOut)
async def update_role(
    role: str, body: RoleUpdate, project: CurrentProject, session: Session, access: Access
) -> RoleOut:
    return role_out(await access.update_role(session, project.id, role, body))


@router.delete("/{role}", status_code=204)
async def delete_role(role: str, project: CurrentProject, session: Session, access: Access) -> None:
    """Delete a custom role; refused (409) while a room or the default settings still use it."""
    await access.delete_role(session, project, role)
