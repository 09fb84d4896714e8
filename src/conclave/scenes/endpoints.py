"""Native scene routes (``/api/v1/scenes``) and the scene editor page (``/scenes/…``)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from conclave.kit.errors import ConclaveError, ValidationFailed
from conclave.kit.pagination import Page, PageParams, page_params
from conclave.kit.routing import TransactionalRoute, from_state, surface_route
from conclave.scenes import pages
from conclave.scenes.schemas import SceneCreate, SceneOut, SceneUpdate
from conclave.scenes.service import SceneService
from conclave.tenancy.auth import CurrentProject, Session

scene_service = from_state("scenes")


Scenes = Annotated[SceneService, Depends(scene_service)]
Pagination = Annotated[PageParams, Depends(page_params)]
M = TypeVar("M", SceneCreate, SceneUpdate)

router = APIRouter(prefix="/api/v1/scenes", tags=["scenes"], route_class=TransactionalRoute)


@router.get("", response_model=Page[SceneOut])
async def list_scenes(
    project: CurrentProject, session: Session, scenes: Scenes, page: Pagination
) -> Page[SceneOut]:
    """The project's scenes (room templates), newest first by default."""
    rows, total = await scenes.list_scenes(session, project.id, page)
    return Page(total_count=total, data=[SceneOut.model_validate(row) for row in rows])


@router.post("", response_model=SceneOut)
async def create_scene(
    body: SceneCreate, project: CurrentProject, session: Session, scenes: Scenes
) -> SceneOut:
    """Create a scene; names are unique in a project (409 otherwise)."""
    return SceneOut.model_validate(await scenes.create_scene(session, project.id, body))


@router.get("/{scene}", response_model=SceneOut)
async def get_scene(scene: str, project: CurrentProject, session: Session, scenes: Scenes) -> SceneOut:
    return SceneOut.model_validate(await scenes.get_scene(session, project.id, scene))


@router.patch("/{scene}", response_model=SceneOut)
async def update_scene(
    scene: str, body: SceneUpdate, project: CurrentProject, session: Session, scenes: Scenes
) -> SceneOut:
    """Change a scene; rooms that use it see the new template at once (they store only its id)."""
    return SceneOut.model_validate(await scenes.update_scene(session, project.id, scene, body))


@router.delete("/{scene}", status_code=204)
async def delete_scene(scene: str, project: CurrentProject, session: Session, scenes: Scenes) -> None:
    """Delete a scene; 409 while rooms still use it."""
    await scenes.delete_scene(session, project.id, scene)


# -- the editor page -----------------------------------------------------------------------------


async def render_page_error(request: Request, exc: Exception) -> Response:
    """Errors on the editor page are HTML too: a person is looking at it, not a client."""
    if isinstance(exc, ConclaveError):
        status, message = exc.status_code, exc.message
    else:
        assert isinstance(exc, RequestValidationError)
        status, message = 400, "the link is incomplete: it needs its token"
    return HTMLResponse(pages.error_page(status, message), status_code=status)


pages_router = APIRouter(
    prefix="/scenes", tags=["scene editor"], route_class=surface_route(render_page_error)
)


def _validated(model: type[M], values: dict[str, object]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "form"
        raise ValidationFailed(f"{where}: {first['msg']}", code="validation_error") from None


@pages_router.get("/new", response_class=HTMLResponse, include_in_schema=False)
async def new_scene_page(token: str, session: Session, scenes: Scenes) -> HTMLResponse:
    """The creation page an XRCLOUD ``sceneCreationUrl`` opens."""
    await scenes.verify_editor_token(session, token, "scene.create")
    return HTMLResponse(pages.editor_form(action="/scenes/new", token=token, scene=None))


@pages_router.post("/new", response_class=HTMLResponse, include_in_schema=False)
async def submit_new_scene(request: Request, session: Session, scenes: Scenes) -> HTMLResponse:
    form = pages.parse_form(await request.body())
    grant = await scenes.verify_editor_token(session, form.get("token", ""), "scene.create")
    data = _validated(SceneCreate, {**pages.form_values(form, creating=True), "creator": grant.creator})
    scene = await scenes.create_scene(session, grant.project_id, data)
    return HTMLResponse(pages.saved_page(scene, created=True, callback=grant.callback), status_code=201)


@pages_router.get("/{scene_id}/edit", response_class=HTMLResponse, include_in_schema=False)
async def edit_scene_page(scene_id: str, token: str, session: Session, scenes: Scenes) -> HTMLResponse:
    """The modification page an XRCLOUD ``sceneModificationUrl`` opens."""
    grant = await scenes.verify_editor_token(session, token, "scene.edit", scene_id)
    scene = await scenes.get_scene(session, grant.project_id, scene_id)
    return HTMLResponse(pages.editor_form(action=f"/scenes/{scene.id}/edit", token=token, scene=scene))


@pages_router.post("/{scene_id}/edit", response_class=HTMLResponse, include_in_schema=False)
async def submit_scene_edit(
    scene_id: str, request: Request, session: Session, scenes: Scenes
) -> HTMLResponse:
    form = pages.parse_form(await request.body())
    grant = await scenes.verify_editor_token(session, form.get("token", ""), "scene.edit", scene_id)
    data = _validated(SceneUpdate, pages.form_values(form, creating=False))
    scene = await scenes.update_scene(session, grant.project_id, scene_id, data)
    return HTMLResponse(pages.saved_page(scene, created=False, callback=None))
