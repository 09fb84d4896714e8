"""Digital Samba pagination: ``limit``/``offset``/``order``/``after`` → ``{"total_count", "data"}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    total_count: int
    data: list[T]


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int
    order: Literal["asc", "desc"]
    after: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Max records to return (max 100).")] = 100,
    offset: Annotated[int, Query(ge=0, description="Starting position.")] = 0,
    order: Annotated[Literal["asc", "desc"], Query(description="Sort order by creation time.")] = "desc",
    after: Annotated[str | None, Query(description="Return records after this id (cursor).")] = None,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, order=order, after=after)
