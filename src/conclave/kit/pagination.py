"""Digital Samba pagination: ``limit``/``offset``/``order``/``after`` → ``{"total_count", "data"}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

MAX_SQL_OFFSET = 2**63 - 1
"""The largest OFFSET SQLite and PostgreSQL take (a signed 64-bit integer)."""


def sql_offset(offset: int) -> int:
    """An offset past every row the database can hold reads as what it is, an empty page.

    Clients send offsets as they like (query strings, vendor bodies); a larger one than the
    database's integer would otherwise fail inside the driver.
    """
    return min(offset, MAX_SQL_OFFSET)


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
