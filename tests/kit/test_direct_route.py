"""A direct route serves well-formed JSON itself and answers everything else exactly as FastAPI does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from conclave.kit.direct_route import DirectRoute, UnsupportedDirectRoute
from conclave.kit.routing import TransactionalRoute


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int = 0


async def answer(item: str, request: Request, body: Item | None = None) -> JSONResponse:
    if item == "missing":
        raise HTTPException(status_code=404, detail="no such item")
    return JSONResponse({"item": item, "method": request.method, "body": body.model_dump() if body else None})


async def answer_required(item: str, body: Item) -> JSONResponse:
    return JSONResponse({"item": item, "body": body.model_dump()})


callers: list[str] = []


async def caller(request: Request) -> str:
    """A request-only dependency standing for authentication."""
    callers.append(request.url.path)
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(status_code=401, detail="bad credential")
    return "good"


async def answer_guarded(
    item: str, who: Annotated[str, Depends(caller)], body: Item | None = None
) -> JSONResponse:
    return JSONResponse({"item": item, "who": who, "body": body.model_dump() if body else None})


Client = tuple[httpx.AsyncClient, list[str]]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """An app serving the same endpoints through a direct route and through FastAPI, and a list
    naming each request FastAPI's own handler of a direct route answered."""
    app = FastAPI()
    direct = APIRouter(route_class=DirectRoute)
    plain = APIRouter(route_class=TransactionalRoute)
    for router, prefix in ((direct, "/direct"), (plain, "/plain")):
        router.add_api_route(prefix + "/{item}", answer, methods=["POST"])
        router.add_api_route(prefix + "/{item}/required", answer_required, methods=["POST"])
        router.add_api_route(prefix + "/{item}/guarded", answer_guarded, methods=["POST"])
    app.router.routes.extend(direct.routes + plain.routes)  # as ``kit.route_index.serve_first`` does
    handled_by_fastapi: list[str] = []
    for route in direct.routes:
        assert isinstance(route, DirectRoute)
        fastapi_app = route.app

        async def spy(scope: Any, receive: Any, send: Any, fastapi_app: Any = fastapi_app) -> None:
            handled_by_fastapi.append(scope["path"])
            await fastapi_app(scope, receive, send)

        route.app = spy
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, handled_by_fastapi


async def _both(http: httpx.AsyncClient, path: str, **request: Any) -> tuple[httpx.Response, httpx.Response]:
    direct = await http.post("/direct" + path, **request)
    plain = await http.post("/plain" + path, **request)
    return direct, plain


async def test_well_formed_json_is_answered_without_fastapi(client: Client) -> None:
    http, handled_by_fastapi = client
    for headers in (
        {"content-type": "application/json"},
        {"content-type": "Application/JSON; charset=utf-8"},
    ):
        direct, plain = await _both(http, "/a1", content=b'{"name": "x", "count": "3"}', headers=headers)
        assert direct.status_code == plain.status_code == 200
        assert (
            direct.json()
            == plain.json()
            == {"item": "a1", "method": "POST", "body": {"name": "x", "count": 3}}
        )
    direct, plain = await _both(http, "/a1", content=b"", headers={"content-type": "application/json"})
    assert direct.json() == plain.json() == {"item": "a1", "method": "POST", "body": None}
    direct, plain = await _both(http, "/missing", json={"name": "x"})
    assert direct.status_code == plain.status_code == 404
    assert direct.json() == plain.json()
    assert handled_by_fastapi == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"name": 5}', "application/json"),  # wrong type
        (b'{"name": "x", "other": 1}', "application/json"),  # field the model forbids
        (b'{"count": 1}', "application/json"),  # missing field
        (b'{"name": ', "application/json"),  # malformed JSON
        (b"[1, 2]", "application/json"),  # not an object
        (b"null", "application/json"),
        (b"\xff\xfe", "application/json"),  # not UTF-8
        (b'{"name": "x", "count": 1.5}', "application/json"),  # no int
        (b'{"name": "x"}', "text/plain"),  # not JSON by its content type
        (b'{"name": "x"}', "application/vnd.item+json"),
        (b'{"name": "x"}', None),  # no content type
    ],
)
async def test_everything_else_gets_fastapis_own_answer(
    client: Client, content: bytes, content_type: str | None
) -> None:
    http, handled_by_fastapi = client
    headers = {"content-type": content_type} if content_type else {}
    direct, plain = await _both(http, "/a1", content=content, headers=headers)
    assert (direct.status_code, direct.content) == (plain.status_code, plain.content)
    assert handled_by_fastapi == ["/direct/a1"]


async def test_a_required_body_left_out_gets_fastapis_answer(client: Client) -> None:
    http, handled_by_fastapi = client
    direct, plain = await _both(
        http, "/a1/required", content=b"", headers={"content-type": "application/json"}
    )
    assert direct.status_code == plain.status_code == 422
    assert direct.content == plain.content
    assert handled_by_fastapi == ["/direct/a1/required"]


async def _with_dependency_on_a_query(item: str, value: Annotated[str, Depends(_takes_a_query)]) -> Response:
    return Response()


async def _with_synchronous_dependency(item: str, value: Annotated[str, Depends(lambda: "x")]) -> Response:
    return Response()


async def _takes_a_query(page: int = 1) -> str:
    return str(page)


async def _with_query(item: str, page: int = 1) -> Response:
    return Response()


async def _with_int_path(item: int) -> Response:
    return Response()


async def _returning_a_model(item: str) -> Item:
    return Item(name=item)


async def _with_two_bodies(item: str, first: Item, second: Item) -> Response:
    return Response()


def _synchronous(item: str) -> Response:
    return Response()


@pytest.mark.parametrize(
    "endpoint",
    [
        _with_dependency_on_a_query,
        _with_synchronous_dependency,
        _with_query,
        _with_int_path,
        _returning_a_model,
        _with_two_bodies,
        _synchronous,
    ],
)
def test_signatures_that_need_fastapi_are_refused_when_the_route_is_made(endpoint: Any) -> None:
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(UnsupportedDirectRoute):
        router.add_api_route("/things/{item}", endpoint, methods=["POST"])


@pytest.mark.parametrize(
    ("credential", "content", "status"),
    [
        ("good", b'{"name": "x"}', 200),
        ("bad", b'{"name": "x"}', 401),  # the dependency refuses, called by the direct route
        ("bad", b'{"name": 5}', 401),  # FastAPI calls dependencies before reading the body
        ("good", b'{"name": 5}', 422),
    ],
)
async def test_request_only_dependencies_answer_as_fastapi_orders_them(
    client: Client, credential: str, content: bytes, status: int
) -> None:
    http, handled_by_fastapi = client
    callers.clear()
    headers = {"content-type": "application/json", "authorization": f"Bearer {credential}"}
    direct, plain = await _both(http, "/a1/guarded", content=content, headers=headers)
    assert direct.status_code == plain.status_code == status
    assert direct.content == plain.content
    # Only a body the model refuses goes to FastAPI, which then calls the dependency itself: either
    # way it runs once.
    refused_body = content == b'{"name": 5}'
    assert handled_by_fastapi == (["/direct/a1/guarded"] if refused_body else [])
    assert callers.count("/direct/a1/guarded") == 1
