"""The only code that changes scene rows, and the signer of the scene editor's links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from conclave.kit.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from conclave.kit.pagination import PageParams
from conclave.kit.time import utcnow
from conclave.scenes.models import Scene
from conclave.scenes.repository import SceneRepository, scene_in_organization
from conclave.scenes.schemas import SceneCreate, SceneUpdate
from conclave.tenancy.service import TenancyService

# Editor tokens carry an audience so they can never pass as room access tokens (those have none,
# and PyJWT refuses a token with an audience when the verifier expects none) and vice versa.
EDITOR_AUDIENCE = "conclave:scene-editor"
EditorPurpose = Literal["scene.create", "scene.edit"]
_COPIED = ("description", "thumbnail_url", "layout", "background_color", "background_image_url", "settings")


class EditorTokenRejected(Unauthorized):
    code = "invalid_editor_token"


@dataclass(frozen=True)
class EditorGrant:
    """What a verified editor link allows: create a scene in a project, or edit one scene."""

    purpose: EditorPurpose
    project_id: str
    scene_id: str | None
    creator: str | None
    callback: str | None


class SceneService:
    def __init__(self, tenancy: TenancyService, public_url: str, editor_link_ttl_seconds: int = 3600) -> None:
        self.tenancy = tenancy
        self.public_url = public_url
        self.editor_link_ttl = timedelta(seconds=editor_link_ttl_seconds)

    # -- scenes ------------------------------------------------------------------------------

    async def get_scene(self, session: AsyncSession, project_id: str, scene_id: str) -> Scene:
        """A scene of the project; other projects' ids are simply not found (no existence leak)."""
        scene = await SceneRepository(session, project_id).by_id(scene_id)
        if scene is None:
            raise NotFound(f"scene {scene_id!r} not found", code="scene_not_found")
        return scene

    async def get_scene_in_organization(
        self, session: AsyncSession, organization_id: str, scene_id: str
    ) -> Scene:
        """A scene in any of the organization's projects (XRCLOUD paths carry no project id)."""
        scene = await scene_in_organization(session, organization_id, scene_id)
        if scene is None:
            raise NotFound(f"scene {scene_id!r} not found", code="scene_not_found")
        return scene

    async def require_scene(self, session: AsyncSession, project_id: str, scene_id: str) -> Scene:
        """A room's ``scene_id`` must name one of the project's scenes: a bad reference is a 422."""
        scene = await SceneRepository(session, project_id).by_id(scene_id)
        if scene is None:
            raise ValidationFailed(
                f"scene_id {scene_id!r} is not a scene of this project",
                code="scene_not_found",
                details={"scene_id": scene_id},
            )
        return scene

    async def list_scenes(
        self,
        session: AsyncSession,
        project_id: str,
        params: PageParams,
        *,
        name: str | None = None,
        creator: str | None = None,
    ) -> tuple[list[Scene], int]:
        repository = SceneRepository(session, project_id)
        cursor = None
        if params.after is not None:
            cursor = await repository.by_id(params.after)
            if cursor is None:
                raise NotFound(f"scene {params.after!r} given as 'after' not found", code="scene_not_found")
        return await repository.page(params, cursor, name=name, creator=creator)

    async def create_scene(self, session: AsyncSession, project_id: str, data: SceneCreate) -> Scene:
        repository = SceneRepository(session, project_id)
        if await repository.name_taken(data.name):
            raise Conflict(f"a scene named {data.name!r} already exists", code="scene_name_taken")
        scene = Scene(project_id=project_id, name=data.name, creator=data.creator, settings={})
        self._apply(scene, data)
        session.add(scene)
        await session.flush()
        return scene

    async def update_scene(
        self, session: AsyncSession, project_id: str, scene_id: str, data: SceneUpdate
    ) -> Scene:
        repository = SceneRepository(session, project_id)
        scene = await self.get_scene(session, project_id, scene_id)
        if data.name is not None and data.name != scene.name:
            if await repository.name_taken(data.name, except_id=scene.id):
                raise Conflict(f"a scene named {data.name!r} already exists", code="scene_name_taken")
            scene.name = data.name
        self._apply(scene, data)
        scene.updated_at = utcnow()
        await session.flush()
        return scene

    async def delete_scene(self, session: AsyncSession, project_id: str, scene_id: str) -> None:
        """Refuse while rooms point at the scene, so no room is left naming a template that is gone."""
        scene = await self.get_scene(session, project_id, scene_id)
        rooms = await SceneRepository(session, project_id).rooms_using(scene.id)
        if rooms:
            raise Conflict(
                f"scene {scene.id!r} is used by {len(rooms)} room(s); change or delete them first",
                code="scene_in_use",
                details={"rooms": rooms[:50]},
            )
        await session.delete(scene)

    @staticmethod
    def _apply(scene: Scene, data: SceneCreate | SceneUpdate) -> None:
        for name in _COPIED:
            if name in data.model_fields_set:
                value = getattr(data, name)
                if name == "settings":
                    value = value or {}
                elif name == "layout" and value is None:
                    continue
                setattr(scene, name, value)

    # -- editor links ------------------------------------------------------------------------

    async def creation_link(
        self, session: AsyncSession, project_id: str, *, creator: str | None, callback: str | None
    ) -> str:
        """A short-lived link to the page that creates a scene in the project (XRCLOUD's editor URL)."""
        claims = {
            "purpose": "scene.create",
            "project_id": project_id,
            "creator": creator,
            "callback": callback,
        }
        token = await self._sign(session, project_id, claims)
        return f"{self.public_url}/scenes/new?{urlencode({'token': token})}"

    async def modification_link(self, session: AsyncSession, scene: Scene) -> str:
        """A short-lived link to the page that edits one scene."""
        claims = {"purpose": "scene.edit", "project_id": scene.project_id, "scene_id": scene.id}
        token = await self._sign(session, scene.project_id, claims)
        return f"{self.public_url}/scenes/{scene.id}/edit?{urlencode({'token': token})}"

    async def verify_editor_token(
        self, session: AsyncSession, token: str, purpose: EditorPurpose, scene_id: str | None = None
    ) -> EditorGrant:
        """Check the link's signature against the project's usable secrets, its expiry and its scope."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise EditorTokenRejected("the editor link is malformed") from None
        project_id = unverified.get("project_id")
        if header.get("alg") != "HS256" or not isinstance(project_id, str):
            raise EditorTokenRejected("the editor link is malformed")
        keys = [
            key
            for key in await self.tenancy.signing_keys(session, project_id)
            if key.key_id == header.get("kid")
        ]
        if not keys:
            raise EditorTokenRejected("the editor link is not signed by a current secret of the project")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                keys[0].secret,
                algorithms=["HS256"],
                audience=EDITOR_AUDIENCE,
                options={"require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise EditorTokenRejected("the editor link has expired; ask for a new one") from None
        except jwt.InvalidTokenError:
            raise EditorTokenRejected("the editor link is not valid") from None
        if claims.get("purpose") != purpose or (scene_id is not None and claims.get("scene_id") != scene_id):
            raise EditorTokenRejected("the editor link is for another page")
        return EditorGrant(
            purpose=purpose,
            project_id=project_id,
            scene_id=claims.get("scene_id"),
            creator=claims.get("creator"),
            callback=claims.get("callback"),
        )

    async def _sign(self, session: AsyncSession, project_id: str, claims: dict[str, Any]) -> str:
        keys = await self.tenancy.signing_keys(session, project_id)
        if not keys:
            raise Conflict("the project has no active credential to sign links with", code="no_signing_key")
        now = utcnow()
        payload = {key: value for key, value in claims.items() if value is not None}
        payload |= {
            "aud": EDITOR_AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + self.editor_link_ttl).timestamp()),
        }
        return jwt.encode(payload, keys[0].secret, algorithm="HS256", headers={"kid": keys[0].key_id})
