"""``DELETE /api/v1/sessions/{session}/resources`` (Digital Samba reference)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from conclave.kit.routing import TransactionalRoute, from_state
from conclave.retention.schemas import DeleteResources
from conclave.retention.service import RetentionService
from conclave.tenancy.auth import CurrentProject, Session

retention_service = from_state("retention")


Retention = Annotated[RetentionService, Depends(retention_service)]
router = APIRouter(prefix="/api/v1", tags=["sessions"], route_class=TransactionalRoute)


@router.delete("/sessions/{session_id}/resources", status_code=204)
async def delete_session_resources(
    session_id: str,
    project: CurrentProject,
    db: Session,
    retention: Retention,
    body: Annotated[DeleteResources | None, Body()] = None,
) -> None:
    """Hard delete the session's stored content; ``delete_history`` also anonymises its participants."""
    await retention.delete_session_resources(
        db, project.id, session_id, delete_history=body.delete_history if body else False
    )
