"""Admission rules at join, each with its protocol error and close code."""

from __future__ import annotations

import time

import jwt

from tests.realtime.conftest import Api, Client, Server


async def refused(server: Server, query: str, **join: object) -> tuple[str, int | None]:
    client = await Client.connect(server, query)
    reply = await client.join(**join)
    assert reply["type"] == "error", reply
    return reply["code"], await client.closed_with()


async def test_token_and_room_checks(server: Server, api: Api) -> None:
    private = await api.room(privacy="private")
    public = await api.room(privacy="public", friendly_url=f"pub{int(time.time() * 1000) % 10**9}")
    assert await refused(server, "token=not-a-jwt") == ("room_required", 4400)
    assert await refused(server, f"room={private['id']}", display_name="Eve") == ("token_required", 4403)
    assert await refused(server, "room=no-such-room", display_name="Eve") == ("room_not_found", 4404)

    guest = await Client.connect(server, f"room={public['friendly_url']}")
    joined = await guest.join(display_name="Guest")
    assert joined["type"] == "joined" and joined["participant"]["role"] == "attendee"
    assert joined["participant"]["name"] == "Guest"
    await guest.send(type="leave")
    assert await guest.closed_with() == 1000

    nameless = await Client.connect(server, f"room={public['id']}")
    assert (await nameless.join())["code"] == "display_name_required"


async def test_the_url_can_be_the_join(server: Server, api: Api) -> None:
    """``join=1``: admitted as the socket opens, with the URL's display name, no message needed."""
    public = await api.room(privacy="public", friendly_url=f"url{int(time.time() * 1000) % 10**9}")
    guest = await Client.connect(server, f"room={public['friendly_url']}&join=1&display_name=Url%20Guest")
    joined = await guest.recv()
    assert joined["type"] == "joined" and joined["participant"]["name"] == "Url Guest"
    await guest.send(type="join")  # the URL already joined
    assert (await guest.recv())["code"] == "already_joined"
    await guest.send(type="leave")
    assert await guest.closed_with() == 1000

    # The same rules as a join message: no name, no admission; a bad name is a protocol error.
    nameless = await Client.connect(server, f"room={public['id']}&join=1")
    assert ((await nameless.recv())["code"], await nameless.closed_with()) == ("display_name_required", 4400)
    too_long = await Client.connect(server, f"room={public['id']}&join=1&display_name={'x' * 101}")
    assert (await too_long.recv())["code"] == "invalid_message"
    assert await too_long.closed_with() == 4400
    token = await api.token(public["id"], u="Tokened")
    member = await Client.connect(server, f"token={token}&join=1")
    assert (await member.recv())["participant"]["name"] == "Tokened"
    await member.send(type="leave")


async def test_expired_and_scheduled_rooms(server: Server, api: Api) -> None:
    now = int(time.time())
    room = await api.room()
    secret = api.headers["Authorization"].removeprefix("Bearer ")
    claims = {"u": "Old", "room_id": room["id"], "nbf": now - 3600, "exp": now - 1800}
    expired = jwt.encode(claims, secret, algorithm="HS256")
    assert await refused(server, f"token={expired}") == ("token_expired", 4401)

    scheduled = await api.room(scheduled_start_at="2099-01-01T00:00:00Z")
    token = await api.token(scheduled["id"], u="Early")
    assert await refused(server, f"token={token}") == ("room_not_open", 4409)

    closed = await api.room(exp="2020-01-01T00:00:00Z", nbf="2019-01-01T00:00:00Z")
    token = await api.token(closed["id"], u="Late")
    assert await refused(server, f"token={token}") == ("room_expired", 4409)


async def test_max_participants(server: Server, api: Api) -> None:
    room = await api.room(max_participants=2)
    clients = []
    for name in ("A", "B"):
        client = await Client.connect(server, f"token={await api.token(room['id'], u=name)}")
        assert (await client.join())["type"] == "joined"
        clients.append(client)
    extra = await Client.connect(server, f"token={await api.token(room['id'], u='C')}")
    reply = await extra.join()
    assert (reply["code"], await extra.closed_with()) == ("room_full", 4409)
    assert (await api.get(f"/api/v1/rooms/{room['id']}/live/count"))["live_participants"] == 2
    for client in clients:
        await client.send(type="leave")


async def test_viewer_cannot_publish(server: Server, api: Api) -> None:
    room = await api.room()
    viewer = await Client.connect(server, f"token={await api.token(room['id'], u='V', role='viewer')}")
    joined = await viewer.join()
    assert joined["permissions"]["broadcast"] is False
    await viewer.send(type="publish", sdp="v=0", id="p1")
    reply = await viewer.recv()
    assert (reply["type"], reply["code"], reply["reply_to"]) == ("error", "not_allowed", "p1")
    await viewer.send(type="moderate", action="lock", id=2)
    assert (await viewer.recv())["code"] == "not_allowed"
    await viewer.send(type="leave")


async def test_locked_room_waits_for_admission(server: Server, api: Api) -> None:
    room = await api.room(is_locked=True)
    host = await Client.connect(server, f"token={await api.token(room['id'], u='Host', role='moderator')}")
    assert (await host.join())["type"] == "joined"  # moderators may enter a locked room

    guest = await Client.connect(server, f"token={await api.token(room['id'], u='Guest')}")
    assert (await guest.join())["type"] == "waiting"
    waiting = await host.expect("participant_waiting")
    assert (await api.get(f"/api/v1/rooms/{room['id']}/live/count"))["live_participants"] == 1
    await host.send(type="moderate", action="admit", participant_id=waiting["participant"]["id"])
    assert (await guest.recv())["type"] == "admitted"
    joined = await guest.recv()
    assert joined["type"] == "joined" and [p["name"] for p in joined["participants"]] == ["Host"]

    denied = await Client.connect(server, f"token={await api.token(room['id'], u='Nope')}")
    assert (await denied.join())["type"] == "waiting"
    waiting = await host.expect("participant_waiting")
    await host.send(type="moderate", action="deny", participant_id=waiting["participant"]["id"])
    assert (await denied.recv())["type"] == "denied"
    assert await denied.closed_with() == 4403

    await host.send(type="moderate", action="unlock")
    assert (await guest.expect("room_updated"))["is_locked"] is False
    walk_in = await Client.connect(server, f"token={await api.token(room['id'], u='Walk')}")
    assert (await walk_in.join())["type"] == "joined"
    for client in (host, guest, walk_in):
        await client.send(type="leave")


async def test_bans(server: Server, api: Api) -> None:
    room = await api.room()
    mod = await Client.connect(server, f"token={await api.token(room['id'], u='Mod', role='moderator')}")
    await mod.join()
    troll = await Client.connect(server, f"token={await api.token(room['id'], u='Troll', ud='troll-1')}")
    troll_id = (await troll.join())["participant"]["id"]
    await mod.send(type="moderate", action="kick", participant_id=troll_id, ban_seconds=600)
    assert await troll.closed_with() == 4410
    assert await refused(server, f"token={await api.token(room['id'], u='Troll', ud='troll-1')}") == (
        "banned",
        4403,
    )
    bans = await api.get(f"/api/v1/bans?room={room['id']}")
    assert [(b["external_id"], b["room_id"]) for b in bans["data"]] == [("troll-1", room["id"])]
    other_room = await api.room()
    elsewhere = await api.token(other_room["id"], u="Troll", ud="troll-1")
    visitor = await Client.connect(server, f"token={elsewhere}")
    assert (await visitor.join())["type"] == "joined"  # a room ban, not a project ban
    await visitor.send(type="leave")

    response = await api.http.delete(f"/api/v1/bans/{bans['data'][0]['id']}", headers=api.headers)
    assert response.status_code == 204
    back = await Client.connect(server, f"token={await api.token(room['id'], u='Troll', ud='troll-1')}")
    assert (await back.join())["type"] == "joined"
    await back.send(type="leave")

    response = await api.post("/api/v1/bans", {"ip": "127.0.0.1", "duration_seconds": 60})
    assert response.status_code == 200, response.text
    assert await refused(server, f"token={await api.token(room['id'], u='Anyone')}") == ("banned", 4403)
    await api.http.delete(f"/api/v1/bans/{response.json()['id']}", headers=api.headers)
    assert (await api.post("/api/v1/bans", {"reason": "nobody"})).status_code == 422
    await mod.send(type="leave")


async def test_a_waiting_client_may_ping_leave_and_hears_of_anything_else(server: Server, api: Api) -> None:
    """A wait can last minutes: keepalives are answered, other messages are refused, the wait goes on."""
    room = await api.room(is_locked=True)
    host = await Client.connect(server, f"token={await api.token(room['id'], u='Host', role='moderator')}")
    await host.join()
    guest = await Client.connect(server, f"token={await api.token(room['id'], u='Guest')}")
    assert (await guest.join())["type"] == "waiting"
    waiting = await host.expect("participant_waiting")

    await guest.send(type="ping", id=7)
    assert await guest.recv() == {"type": "pong", "reply_to": 7}
    await guest.send(type="chat", message="let me in", id="c1")
    refused_chat = await guest.recv()
    assert (refused_chat["type"], refused_chat["code"], refused_chat["reply_to"]) == (
        "error",
        "waiting_for_admission",
        "c1",
    )
    await guest.connection.send(b"\x00binary")
    assert (await guest.recv())["code"] == "invalid_message"
    await host.send(type="moderate", action="admit", participant_id=waiting["participant"]["id"])
    assert (await guest.recv())["type"] == "admitted"
    assert (await guest.recv())["type"] == "joined"

    walker = await Client.connect(server, f"token={await api.token(room['id'], u='Walker')}")
    assert (await walker.join())["type"] == "waiting"
    walking = await host.expect("participant_waiting")
    await walker.send(type="leave")
    assert await walker.closed_with() == 1000
    resolved = await host.expect("participant_waiting_resolved")
    assert resolved == {
        "type": "participant_waiting_resolved",
        "participant_id": walking["participant"]["id"],
        "outcome": "gone",
    }
    for client in (host, guest):
        await client.send(type="leave")


async def test_binary_frames_are_protocol_errors(server: Server, api: Api) -> None:
    room = await api.room()
    token = await api.token(room["id"], u="B")
    before_join = await Client.connect(server, f"token={token}")
    await before_join.connection.send(b"\x00\x01")
    assert await before_join.closed_with() == 4400  # the first message must be a join

    joined = await Client.connect(server, f"token={token}")
    await joined.join()
    await joined.connection.send(b"\x00\x01")
    assert (await joined.recv())["code"] == "invalid_message"
    await joined.send(type="ping", id=1)
    assert (await joined.recv())["type"] == "pong"  # the socket is still served
    await joined.send(type="leave")


async def test_text_the_database_cannot_store_is_refused_on_the_socket(server: Server, api: Api) -> None:
    room = await api.room()
    in_url = await Client.connect(server, "room=a%00b&join=1")
    assert (await in_url.recv())["code"] == "invalid_characters"
    assert await in_url.closed_with() == 4400

    talker = await Client.connect(server, f"token={await api.token(room['id'], u='T')}")
    await talker.join()
    await talker.connection.send('{"type": "chat", "message": "a\\u0000b", "id": 3}')
    refused = await talker.recv()
    assert (refused["type"], refused["code"]) == ("error", "invalid_characters")
    await talker.send(type="chat", message="fine \U0001f600", id=4)
    assert (await talker.expect("chat_message"))["message"]["message"] == "fine \U0001f600"
    await talker.send(type="leave")
