"""Chat, raised hands and reactions inside a meeting, and chat over the REST API."""

from __future__ import annotations

import json

from tests.realtime.conftest import Api, Client, Server


async def test_chat_live_and_stored(server: Server, api: Api) -> None:
    room = await api.room(chat_persistence_enabled=False)
    ann = await Client.connect(server, f"token={await api.token(room['id'], u='Ann', ud='ann')}")
    ann_id = (await ann.join())["participant"]["id"]
    bob = await Client.connect(server, f"token={await api.token(room['id'], u='Bob')}")
    bob_id = (await bob.join())["participant"]["id"]

    await ann.send(type="chat", message="hello everyone", id=1)
    for client in (ann, bob):
        received = (await client.expect("chat_message"))["message"]
        assert (received["message"], received["participant_name"], received["private"]) == (
            "hello everyone",
            "Ann",
            False,
        )
        assert received["external_participant_id"] == "ann"

    await bob.send(type="chat", message="psst", to=ann_id)
    private = (await ann.expect("chat_message"))["message"]
    assert private["private"] is True and private["to"] == ann_id
    assert (await bob.expect("chat_message"))["message"]["message"] == "psst"  # the sender's copy

    response = await api.post(f"/api/v1/rooms/{room['id']}/chat", {"message": "from the API"})
    assert response.status_code == 200, response.text
    from_api = (await bob.expect("chat_message"))["message"]
    assert from_api["message"] == "from the API" and from_api["participant_id"] is None

    late = await Client.connect(server, f"token={await api.token(room['id'], u='Late')}")
    history = [m["message"] for m in (await late.join())["chat"]]
    assert history == ["hello everyone", "from the API"]  # not the private one

    listing = await api.get(f"/api/v1/rooms/{room['id']}/chat?order=asc")
    assert [m["message"] for m in listing["data"]] == ["hello everyone", "from the API"]
    exported = await api.http.get(f"/api/v1/rooms/{room['id']}/chat/export?format=json", headers=api.headers)
    assert [m["message"] for m in json.loads(exported.text)] == ["hello everyone", "from the API"]
    text = await api.http.get(f"/api/v1/rooms/{room['id']}/chat/export", headers=api.headers)
    assert "Ann: hello everyone" in text.text
    assert bob_id
    for client in (ann, bob, late):
        await client.send(type="leave")


async def test_hands_reactions_and_disabled_features(server: Server, api: Api) -> None:
    room = await api.room(chat_enabled=False, room_reactions_enabled=True)
    ann = await Client.connect(server, f"token={await api.token(room['id'], u='Ann')}")
    ann_id = (await ann.join())["participant"]["id"]
    bob = await Client.connect(server, f"token={await api.token(room['id'], u='Bob')}")
    await bob.join()

    await ann.send(type="hand", raised=True)
    updated = (await bob.expect("participant_updated"))["participant"]
    assert (updated["id"], updated["hand_raised"]) == (ann_id, True)
    await ann.send(type="reaction", emoji="👏")
    reaction = await bob.expect("reaction")
    assert (reaction["participant_id"], reaction["emoji"]) == (ann_id, "👏")

    await ann.send(type="chat", message="nobody hears this", id="c")
    error = await ann.expect("error")
    assert (error["code"], error["reply_to"]) == ("feature_disabled", "c")
    await ann.send(type="chat", message="")
    assert (await ann.expect("error"))["code"] == "invalid_message"
    for client in (ann, bob):
        await client.send(type="leave")


async def test_persistent_chat_reloads_previous_sessions(server: Server, api: Api) -> None:
    room = await api.room(chat_persistence_enabled=True, empty_timeout=1)
    first = await Client.connect(server, f"token={await api.token(room['id'], u='Ann')}")
    session_one = (await first.join())["session_id"]
    await first.send(type="chat", message="remember me")
    await first.expect("chat_message")
    await api.post(f"/api/v1/sessions/{session_one}/end")
    await first.closed_with()

    second = await Client.connect(server, f"token={await api.token(room['id'], u='Bob')}")
    joined = await second.join()
    assert joined["session_id"] != session_one
    assert [m["message"] for m in joined["chat"]] == ["remember me"]
    await second.send(type="leave")
