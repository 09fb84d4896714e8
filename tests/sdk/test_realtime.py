"""SDK participants against a real server whose media (Janus) runs in a network namespace.

Every peer is restricted to the veth address the server reports (``ice_addresses``), so
media never touches a real interface. Frame counts are decoded frames (``track.recv()``),
so "received" means the media actually crossed Janus and decoded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from conclave.sdk import (
    AdmissionRefused,
    ConclaveClient,
    FileSource,
    IceConfigurationError,
    Kicked,
    Participant,
    PublishRefused,
    SessionEnded,
)
from tests.sdk.conftest import ServerProcess, janus_admin
from tests.sdk.test_participant import write_test_file

TEST_TIMEOUT = 120
FRAMES_WITHIN = 30.0

Join = Callable[..., Awaitable[Participant]]


@pytest.fixture
async def api(media_server: ServerProcess) -> AsyncIterator[ConclaveClient]:
    async with ConclaveClient(media_server.base_url, media_server.secret_key) as client:
        yield client


@pytest.fixture
async def join(media_server: ServerProcess, api: ConclaveClient) -> AsyncIterator[Join]:
    """``await join(room, name, role)``: a joined participant, left at teardown."""
    participants: list[Participant] = []

    async def make(room: str, name: str, role: str = "moderator", *, subscribe: bool = False) -> Participant:
        issued = await api.issue_token(
            room, name=name, role=role, user_id=f"user-{name}-{uuid.uuid4().hex[:6]}"
        )
        participant = Participant(
            media_server.base_url, token=issued.token, ice_addresses=media_server.ice_addresses
        )
        participants.append(participant)
        await participant.join(subscribe=subscribe)
        return participant

    try:
        yield make
    finally:
        await asyncio.wait_for(asyncio.gather(*(p.leave() for p in participants), return_exceptions=True), 30)


async def eventually(predicate: Callable[[], bool], within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(0.05)


async def eventually_async(
    read: Callable[[], Awaitable[Any]], predicate: Callable[[Any], bool], within: float, what: str
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate(value := await read()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}: {value!r}")
        await asyncio.sleep(0.1)


def rtc_socket_url(server: ServerProcess, query: str) -> str:
    """A raw ``/rtc`` socket URL, for tests that speak the protocol without the SDK."""
    return f"{server.base_url.replace('http://', 'ws://')}/rtc?{query}"


async def new_room(api: ConclaveClient, **fields: Any) -> str:
    slug = f"rt-{uuid.uuid4().hex[:10]}"
    await api.create_room(friendly_url=slug, **fields)
    return slug


async def test_two_participants_exchange_audio_and_video(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        alice = await join(room, "alice")
        bob = await join(room, "bob", "attendee")
        assert bob.participant_id in {p for p in alice.participants} or bob.participant_id
        for participant in (alice, bob):
            await participant.subscribe()
            await participant.publish()
        assert alice.published and bob.published
        assert alice.feed_id != bob.feed_id

        got_bob = await alice.wait_for_frames(
            video=10, audio=10, participant_id=bob.participant_id, within=FRAMES_WITHIN
        )
        got_alice = await bob.wait_for_frames(
            video=10, audio=10, participant_id=alice.participant_id, within=FRAMES_WITHIN
        )
        assert got_bob.video >= 10 and got_alice.audio >= 10
        assert alice.feeds[bob.feed_id].video_sizes == {(320, 240)}
        assert set(alice.feeds) == {bob.feed_id}  # never its own feed

        stats = await alice.get_stats()
        assert stats["publisher"]["connection_state"] == "connected"
        assert stats["publisher"]["video_sent"]["packets"] > 0
        assert stats["subscriber"]["audio_received"]["packets"] > 0
        assert stats["video_frames_received"] == alice.video_frames_received >= 10

        # The REST side sees the same live session.
        assert (await api.room_live_count(room))["live_participants"] == 2
        live = await api.list_sessions(room=room, status="live")
        assert [s["id"] for s in live["data"]] == [alice.session_id]
        present = await api.list_session_participants(alice.session_id or "")
        assert {p["id"] for p in present["data"]} == {alice.participant_id, bob.participant_id}


async def test_join_with_subscribe_receives_present_and_later_feeds(
    media_server: ServerProcess, api: ConclaveClient, join: Join
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        first = await join(room, "first")
        await first.publish()
        early = await join(room, "early", "viewer", subscribe=True)
        await early.wait_for_frames(
            video=5, audio=5, participant_id=first.participant_id, within=FRAMES_WITHIN
        )
        # The offer came after `joined` with no `subscribe` request: one negotiation, no `ok` reply.
        assert early.subscriber_negotiations == 1
        assert [e["type"] for e in early.events].index("subscriber_offer") > 0

        # The token's first use is noted just after `joined` (Videsk shows it as an authorization).
        async def first_uses() -> set[str | None]:
            async with httpx.AsyncClient(base_url=media_server.base_url) as http:
                shown = await http.get(
                    f"/vpaas/rooms/{str(early.room['id']).replace('-', '')[:24]}",  # Videsk ids
                    headers={"Authorization": f"Bearer {media_server.secret_key}"},
                )
            assert shown.status_code == 200, shown.text
            return {a["ip"] for a in shown.json()["authorizations"]}

        await eventually_async(first_uses, lambda ips: "127.0.0.1" in ips, 10, "the token's first use")

        second = await join(room, "second")
        await second.publish()  # announced after `early` joined: added to its subscription
        await early.wait_for_frames(
            video=5, audio=5, participant_id=second.participant_id, within=FRAMES_WITHIN
        )
        assert set(early.feeds) == {first.feed_id, second.feed_id}

        # In a room with nothing to receive yet, the first feed arrives when it is published.
        quiet = await new_room(api)
        watcher = await join(quiet, "watcher", "viewer", subscribe=True)
        speaker = await join(quiet, "speaker")
        await speaker.publish()
        await watcher.wait_for_frames(video=5, participant_id=speaker.participant_id, within=FRAMES_WITHIN)
        assert set(watcher.feeds) == {speaker.feed_id}


async def test_refused_join_with_subscribe_leaves_no_subscriber_in_janus(
    media_server: ServerProcess, api: ConclaveClient, join: Join
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT), janus_admin(media_server) as admin:
        room = await new_room(api, max_participants=2)
        host = await join(room, "host")
        await host.publish()
        watcher = await join(room, "watcher", "viewer", subscribe=True)
        await watcher.wait_for_frames(video=5, participant_id=host.participant_id, within=FRAMES_WITHIN)
        before = set(await admin.list_sessions())
        for attempt in range(3):  # the token is checked, so a subscriber is prepared, then the room is full
            with pytest.raises(AdmissionRefused) as refused:
                await join(room, f"extra-{attempt}", "viewer", subscribe=True)
            assert refused.value.code == "room_full"
        await eventually_async(
            admin.list_sessions, lambda sessions: set(sessions) <= before, 10, "the subscribers to go"
        )
        await watcher.wait_for_frames(video=5, participant_id=host.participant_id, within=FRAMES_WITHIN)


async def test_subscriber_prepared_at_socket_open_is_torn_down_unless_a_subscribing_join_claims_it(
    media_server: ServerProcess, api: ConclaveClient, join: Join
) -> None:
    """``/rtc?subscribe=1`` makes Janus prepare a subscriber before ``join`` (and before the token
    is checked); a socket that closes, joins without subscribing or has a forged token keeps none."""
    async with asyncio.timeout(TEST_TIMEOUT), janus_admin(media_server) as admin:
        room = await new_room(api)
        host = await join(room, "host")
        await host.publish()
        watcher = await join(room, "watcher", "viewer", subscribe=True)
        await watcher.wait_for_frames(video=5, participant_id=host.participant_id, within=FRAMES_WITHIN)
        before = set(await admin.list_sessions())

        def gone(sessions: list[int]) -> bool:
            return set(sessions) <= before

        async def socket_url(name: str, *, forge: bool = False) -> str:
            token = (await api.issue_token(room, name=name, role="viewer")).token
            if forge:
                token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            return rtc_socket_url(media_server, f"token={token}&subscribe=1")

        # No join at all: the subscriber shows up in Janus, then goes with the socket.
        async with connect(await socket_url("silent")) as ws:
            await eventually_async(
                admin.list_sessions, lambda s: not gone(s), 10, "a prepared subscriber in Janus"
            )
            await ws.close()
        await eventually_async(admin.list_sessions, gone, 10, "the unclaimed subscriber to go")

        # A join that does not subscribe is admitted without one.
        async with connect(await socket_url("plain")) as ws:
            await ws.send('{"type": "join"}')
            assert '"joined"' in str(await asyncio.wait_for(ws.recv(), 10))
            await eventually_async(admin.list_sessions, gone, 10, "the unwanted subscriber to go")
            await ws.send('{"type": "leave"}')

        # A forged token is refused, and its prepared subscriber torn down.
        async with connect(await socket_url("forger", forge=True)) as ws:
            await ws.send('{"type": "join", "subscribe": true}')
            assert "token_bad_signature" in str(await asyncio.wait_for(ws.recv(), 10))
        await eventually_async(admin.list_sessions, gone, 10, "the forger's subscriber to go")
        await watcher.wait_for_frames(video=5, participant_id=host.participant_id, within=FRAMES_WITHIN)


async def test_public_join_by_room_id_subscribes_from_the_start(
    media_server: ServerProcess, api: ConclaveClient, join: Join
) -> None:
    """A token-less join (``?room=<id>``, as the meeting page sends) gets the same prepared subscriber."""
    async with asyncio.timeout(TEST_TIMEOUT), janus_admin(media_server) as admin:
        room = await new_room(api, privacy="public")
        host = await join(room, "host")
        await host.publish()
        room_id = str((await api.get_room(room))["id"])
        before = set(await admin.list_sessions())

        async with connect(rtc_socket_url(media_server, f"room={room_id}&subscribe=1")) as ws:  # never joins
            await eventually_async(
                admin.list_sessions, lambda s: not set(s) <= before, 10, "a prepared subscriber in Janus"
            )
            await ws.close()
        await eventually_async(admin.list_sessions, lambda s: set(s) <= before, 10, "it to go")

        guest = Participant(
            media_server.base_url,
            room=room_id,
            display_name="Guest",
            ice_addresses=media_server.ice_addresses,
        )
        try:
            await guest.join(subscribe=True)
            await guest.wait_for_frames(video=5, participant_id=host.participant_id, within=FRAMES_WITHIN)
            assert guest.subscriber_negotiations == 1
            assert guest.participant is not None and guest.participant["name"] == "Guest"
        finally:
            await guest.leave()
        await eventually_async(
            admin.list_sessions, lambda s: set(s) <= before, 10, "the guest's subscriber to go"
        )


async def test_subscriber_renegotiates_for_late_publishers(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        watcher = await join(room, "watcher", "viewer")
        await watcher.subscribe()  # nothing to receive yet: the server just acknowledges
        first = await join(room, "first")
        await first.publish()
        await watcher.wait_for_frames(
            video=5, audio=5, participant_id=first.participant_id, within=FRAMES_WITHIN
        )
        second = await join(room, "second")
        await second.publish()  # adds a feed: the server renegotiates the subscription
        await watcher.wait_for_frames(
            video=5, audio=5, participant_id=second.participant_id, within=FRAMES_WITHIN
        )
        assert watcher.subscriber_negotiations >= 2

        await first.unpublish()
        await watcher.wait_for_event(
            "feed_unpublished", lambda m: m["participant_id"] == first.participant_id
        )
        before = watcher.frames_from(participant_id=second.participant_id).video
        await watcher.wait_for_frames(
            video=before + 5, participant_id=second.participant_id, within=FRAMES_WITHIN
        )


async def test_viewer_may_not_publish(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        viewer = await join(await new_room(api), "viewer", "viewer")
        with pytest.raises(PublishRefused) as refused:
            await viewer.publish()
        assert refused.value.code == "not_allowed"
        assert not viewer.published
        assert viewer.joined  # a refused request leaves the socket open
        assert await viewer.ping() >= 0


async def test_refused_admissions_are_typed(media_server: ServerProcess, api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        private = await new_room(api, privacy="private")
        token = (await api.issue_token(private, name="eve")).token
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        cases: list[tuple[str | None, str | None, int]] = [
            (forged, None, 4401),
            (None, private, 4403),
            (None, f"missing-{uuid.uuid4().hex[:8]}", 4404),
        ]
        for token_or_none, room, close_code in cases:
            participant = Participant(
                media_server.base_url,
                token=token_or_none,
                room=room,
                display_name="eve",
                ice_addresses=media_server.ice_addresses,
            )
            with pytest.raises(AdmissionRefused) as refused:
                await participant.join()
            assert refused.value.close_code == close_code, refused.value
            assert refused.value.code and refused.value.message
            await participant.leave()


async def test_public_room_without_token(media_server: ServerProcess, api: ConclaveClient) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api, privacy="public")
        async with Participant(
            media_server.base_url, room=room, display_name="guest", ice_addresses=media_server.ice_addresses
        ) as guest:
            assert guest.participant is not None and guest.participant["name"] == "guest"
            assert guest.room["friendly_url"] == room


async def test_locked_room_admit_and_deny(
    media_server: ServerProcess, api: ConclaveClient, join: Join
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api, is_locked=True)
        host = await join(room, "host")  # may admit: never waits

        async def knock(name: str) -> tuple[Participant, asyncio.Task[dict[str, object]]]:
            token = (await api.issue_token(room, name=name, role="attendee")).token
            guest = Participant(media_server.base_url, token=token, ice_addresses=media_server.ice_addresses)
            task = asyncio.create_task(guest.join())
            await host.wait_for_event(
                "participant_waiting", lambda m: m["participant"]["name"] == name, within=15
            )
            return guest, task  # the waiting id is in host.waiting_participants

        guest, joining = await knock("welcome")
        waiting_id = next(i for i, p in host.waiting_participants.items() if p["name"] == "welcome")
        await guest.wait_for_event("waiting", within=15)
        assert guest.waiting and not guest.joined
        await host.admit(waiting_id)
        joined = await joining
        assert joined["type"] == "joined" and guest.joined
        await guest.leave()

        intruder, joining = await knock("intruder")
        waiting_id = next(i for i, p in host.waiting_participants.items() if p["name"] == "intruder")
        await host.deny(waiting_id)
        with pytest.raises(AdmissionRefused) as refused:
            await joining
        assert (refused.value.code, refused.value.close_code) == ("denied", 4403)
        await intruder.leave()


async def test_moderation_mute_and_kick(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        host = await join(room, "host")
        guest = await join(room, "guest", "attendee")
        await guest.publish()

        await api.mute_participant(room, guest.participant_id or "", audio=True)
        update = await guest.wait_for_event(
            "participant_updated", lambda m: m["participant"]["audio_muted"] is True, within=15
        )
        assert update["participant"]["id"] == guest.participant_id

        await guest.mute(video=True)
        seen = await host.wait_for_event(
            "participant_updated",
            lambda m: m["participant"]["id"] == guest.participant_id and m["participant"]["video_muted"],
            within=15,
        )
        assert seen["participant"]["video_muted"] is True

        await host.kick(guest.participant_id or "")
        reason = await guest.wait_closed(within=15)
        assert isinstance(reason, Kicked) and reason.close_code == 4410
        left = await host.wait_for_event(
            "participant_left", lambda m: m["participant_id"] == guest.participant_id
        )
        assert left["reason"] == "kicked"


async def test_session_ended_by_api(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        first = await join(room, "first")
        second = await join(room, "second", "attendee")
        assert first.session_id == second.session_id and first.session_id
        await api.end_session(first.session_id)
        for participant in (first, second):
            reason = await participant.wait_closed(within=15)
            assert isinstance(reason, SessionEnded)
            assert (reason.code, reason.close_code) == ("ended_by_api", 4411)


async def test_end_session_by_moderator(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        host = await join(room, "host")
        guest = await join(room, "guest", "attendee")
        with pytest.raises(Exception) as not_allowed:
            await guest.end_session()
        assert getattr(not_allowed.value, "code", None) == "not_allowed"
        await host.end_session()
        reason = await guest.wait_closed(within=15)
        assert isinstance(reason, SessionEnded) and reason.code == "ended_by_moderator"


async def test_resume_keeps_the_participant(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        viewer = await join(room, "viewer", "viewer")
        await viewer.subscribe()
        speaker = await join(room, "speaker")
        await speaker.publish()
        await viewer.wait_for_frames(video=5, participant_id=speaker.participant_id, within=FRAMES_WITHIN)
        participant_id = speaker.participant_id

        assert await speaker.resume() is True  # a new socket and new peer connections
        assert speaker.participant_id == participant_id and speaker.published
        before = viewer.frames_from(participant_id=participant_id).video
        await viewer.wait_for_frames(video=before + 10, participant_id=participant_id, within=FRAMES_WITHIN)
        assert (await api.room_live_count(room))["live_participants"] == 2  # never counted twice


async def test_dropped_socket_is_resumed_automatically(api: ConclaveClient, join: Join) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        watcher = await join(room, "watcher")
        speaker = await join(room, "speaker")
        await speaker.subscribe()
        await speaker.publish()
        await watcher.subscribe()
        await watcher.wait_for_frames(video=5, participant_id=speaker.participant_id, within=FRAMES_WITHIN)

        link = speaker._link  # test-only: cut the TCP connection without a close handshake
        assert link is not None
        link.ws.transport.abort()
        await eventually(lambda: speaker.resume_count == 1 and speaker.published, 20, "the automatic resume")
        assert speaker.resumed and not speaker.closed
        before = watcher.frames_from(participant_id=speaker.participant_id).video
        await watcher.wait_for_frames(
            video=before + 10, participant_id=speaker.participant_id, within=FRAMES_WITHIN
        )


async def test_publish_a_media_file(api: ConclaveClient, join: Join, tmp_path: Path) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        path = tmp_path / "clip.webm"
        write_test_file(path)
        room = await new_room(api)
        film = await join(room, "film")
        await film.publish(source=FileSource(path))  # loops, so it keeps sending
        watcher = await join(room, "watcher", "viewer")
        await watcher.subscribe()
        await watcher.wait_for_frames(
            video=10, audio=10, participant_id=film.participant_id, within=FRAMES_WITHIN
        )
        assert watcher.feeds[film.feed_id].video_sizes == {(160, 120)}


async def test_ice_address_missing_on_this_host_is_an_error(
    media_server: ServerProcess, api: ConclaveClient
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        room = await new_room(api)
        token = (await api.issue_token(room, name="misconfigured")).token
        # 203.0.113.7 (TEST-NET-3) is on no interface here: nothing may be gathered, nothing sent.
        async with Participant(media_server.base_url, token=token, ice_addresses=["203.0.113.7"]) as lost:
            with pytest.raises(IceConfigurationError):
                await lost.publish()
            assert not lost.published
