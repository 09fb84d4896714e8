"""``ConclaveClient`` against a real ``conclave serve``, plus its retry policy against a scripted server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from conclave.sdk import (
    AuthenticationError,
    ConclaveClient,
    ConclaveConnectionError,
    ConflictError,
    NotFoundError,
    ServerError,
    ValidationFailedError,
)
from tests.sdk.conftest import ServerProcess, free_port

TEST_TIMEOUT = 60


@pytest.fixture
async def api(rest_server: ServerProcess) -> AsyncIterator[ConclaveClient]:
    async with ConclaveClient(rest_server.base_url, rest_server.secret_key) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_rooms_crud(api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        slug = unique("crud")
        room = await api.create_room(friendly_url=slug, privacy="private", name="Stand-up")
        assert room["friendly_url"] == slug
        assert (await api.get_room(slug))["id"] == room["id"]
        assert (await api.get_room(room["id"]))["friendly_url"] == slug

        page = await api.list_rooms(limit=100)
        assert page["total_count"] >= 1
        assert room["id"] in {r["id"] for r in page["data"]}

        updated = await api.update_room(slug, {"name": "Retro"}, description="weekly")
        assert (updated["name"], updated["description"]) == ("Retro", "weekly")

        await api.delete_room(slug)
        with pytest.raises(NotFoundError) as caught:
            await api.get_room(slug)
        assert caught.value.status_code == 404
        assert caught.value.code == "room_not_found"


async def test_list_rooms_by_tag(api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        tag = unique("tag")
        tagged = await api.create_room(tags=[tag])
        await api.create_room()
        page = await api.list_rooms(tags=[tag])
        assert [r["id"] for r in page["data"]] == [tagged["id"]]
        assert page["total_count"] == 1


async def test_issue_token(api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        slug = unique("tok")
        await api.create_room(friendly_url=slug)
        issued = await api.issue_token(slug, user_id="user-1", name="Ada", role="moderator")
        assert issued.token.count(".") == 2  # a JWT
        assert slug in issued.link and issued.token in issued.link


async def test_default_settings_and_roles(api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        defaults = await api.get_default_settings()
        assert "default_role" in defaults
        changed = await api.update_default_settings(chat_enabled=not defaults["chat_enabled"])
        assert changed["chat_enabled"] is not defaults["chat_enabled"]
        await api.update_default_settings(chat_enabled=defaults["chat_enabled"])

        roles = await api.list_roles()
        assert {"moderator", "speaker", "attendee", "viewer"} <= {r["name"] for r in roles["data"]}
        name = unique("host")
        role = await api.create_role(name, display_name="Host", permissions={"broadcast": True})
        assert role["permissions"]["broadcast"] is True
        assert (await api.get_role(name))["id"] == role["id"]
        role = await api.update_role(name, permissions={"broadcast": False, "chat": True})
        assert (role["permissions"]["broadcast"], role["permissions"]["chat"]) == (False, True)
        await api.delete_role(name)
        with pytest.raises(NotFoundError):
            await api.get_role(name)


async def test_session_endpoints_without_meetings(api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        slug = unique("quiet")
        await api.create_room(friendly_url=slug)
        assert (await api.room_live_count(slug))["live_participants"] == 0
        assert (await api.list_sessions(room=slug))["total_count"] == 0
        assert (await api.list_participants(room=slug))["total_count"] == 0
        assert isinstance((await api.live_count())["live_participants"], int)
        with pytest.raises(NotFoundError):
            await api.get_session(str(uuid.uuid4()))
        with pytest.raises(NotFoundError):
            await api.kick_participant(slug, str(uuid.uuid4()))


async def test_typed_errors_carry_the_native_body(rest_server: ServerProcess, api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        async with ConclaveClient(rest_server.base_url, "not-a-secret") as stranger:
            with pytest.raises(AuthenticationError) as unauthorized:
                await stranger.list_rooms()
        assert unauthorized.value.status_code == 401
        assert unauthorized.value.code and unauthorized.value.message

        with pytest.raises(ValidationFailedError) as invalid:
            await api.create_room(friendly_url="no spaces allowed")
        assert invalid.value.status_code == 422
        assert invalid.value.code == "validation_error"
        assert isinstance(invalid.value.details, list) and invalid.value.details

        slug = unique("dup")
        await api.create_room(friendly_url=slug)
        with pytest.raises(ConflictError) as conflict:
            await api.create_room(friendly_url=slug)
        assert conflict.value.status_code == 409


# --- retry policy, against a scripted HTTP server on 127.0.0.1 ----------------------------


@dataclass
class ScriptedServer:
    """Answers requests with the next scripted (status, body) and counts the attempts."""

    script: list[tuple[int, bytes]]
    attempts: int = 0
    paths: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        length = next((int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:")), 0)
        if length:
            await reader.readexactly(length)
        self.paths.append(lines[0].split()[1])
        status, body = self.script[min(self.attempts, len(self.script) - 1)]
        self.attempts += 1
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


async def scripted(script: list[tuple[int, bytes]]) -> tuple[ScriptedServer, asyncio.Server, str]:
    fake = ScriptedServer(script)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return fake, server, f"http://127.0.0.1:{port}"


UNAVAILABLE = (503, b'{"error": {"code": "unavailable", "message": "restarting", "details": null}}')
OK = (200, b'{"live_participants": 3}')


async def test_5xx_is_retried_then_succeeds() -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        fake, server, url = await scripted([UNAVAILABLE, UNAVAILABLE, OK])
        async with server, ConclaveClient(url, "s", max_retries=3, backoff=0.01) as api:
            assert await api.live_count() == {"live_participants": 3}
        assert fake.attempts == 3


async def test_5xx_gives_up_after_bounded_retries() -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        fake, server, url = await scripted([UNAVAILABLE])
        async with server, ConclaveClient(url, "s", max_retries=2, backoff=0.01) as api:
            with pytest.raises(ServerError) as caught:
                await api.live_count()
        assert fake.attempts == 3
        assert (caught.value.status_code, caught.value.code, caught.value.message) == (
            503,
            "unavailable",
            "restarting",
        )


async def test_4xx_is_not_retried() -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        missing = (404, b'{"error": {"code": "room_not_found", "message": "no", "details": null}}')
        fake, server, url = await scripted([missing, OK])
        async with server, ConclaveClient(url, "s", max_retries=3, backoff=0.01) as api:
            with pytest.raises(NotFoundError):
                await api.get_room("a/b")
        assert fake.attempts == 1
        assert fake.paths == ["/api/v1/rooms/a%2Fb"]  # ids never add path segments


async def test_unreachable_server_raises_connection_error() -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        async with ConclaveClient(url, "s", max_retries=1, backoff=0.01) as api:
            with pytest.raises(ConclaveConnectionError):
                await api.list_rooms()
