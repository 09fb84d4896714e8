"""Native scene shapes, in the same conventions as rooms (strict input, ISO ``Z`` timestamps)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from conclave.kit.schemas import ResponseModel, Timestamp
from conclave.rooms.schemas import HEX_COLOR, HttpUrl, NullRules

Layout = Literal["grid", "speaker", "sidebar", "spotlight"]
SceneName = Field(min_length=1, max_length=200)


class SceneFields(NullRules):
    description: str | None = Field(default=None, max_length=2000)
    thumbnail_url: HttpUrl | None = None
    layout: Layout | None = Field(default=None, description="How the meeting page arranges tiles.")
    background_color: str | None = Field(default=None, pattern=HEX_COLOR)
    background_image_url: HttpUrl | None = None
    settings: dict[str, Any] | None = Field(
        default=None, description="Free-form template settings applied by the meeting page."
    )

    _nullable: ClassVar[frozenset[str]] = frozenset(
        {"description", "thumbnail_url", "background_color", "background_image_url"}
    )


class SceneCreate(SceneFields):
    name: str = SceneName
    creator: str | None = Field(
        default=None, max_length=200, description="Who made it (XRCLOUD's 'My Assets' owner)."
    )


class SceneUpdate(SceneFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class SceneOut(ResponseModel):
    id: str
    name: str
    description: str | None
    thumbnail_url: str | None
    layout: str
    background_color: str | None
    background_image_url: str | None
    settings: dict[str, Any]
    creator: str | None
    created_at: Timestamp
    updated_at: Timestamp
