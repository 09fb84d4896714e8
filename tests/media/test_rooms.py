"""Room lifecycle on a real Janus: create, list, destroy and the errors around them."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from conclave.media.janus.adapter import JanusMediaServer, room_id_for
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.netns import NetworkNamespace
from conclave.media.port import MediaEventKind, MediaRequestFailed
from tests.media.rtc_helpers import EventLog, RtcPeers

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_create_list_and_destroy_room(media: JanusMediaServer, room_key: str) -> None:
    async with asyncio.timeout(10):
        await media.create_room(room_key, audio_only=False, max_publishers=6, record_dir=None)
        assert await media.list_participants(room_key) == []
        await media.destroy_room(room_key)
        with pytest.raises(MediaRequestFailed) as gone:
            await media.list_participants(room_key)
        assert gone.value.code == 426  # JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM


async def test_duplicate_room_is_refused(media: JanusMediaServer, room_key: str) -> None:
    async with asyncio.timeout(10):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        with pytest.raises(MediaRequestFailed) as duplicate:
            await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        assert duplicate.value.code == 427  # JANUS_VIDEOROOM_ERROR_ROOM_EXISTS
        await media.destroy_room(room_key)


async def test_room_secret_protects_privileged_requests(
    media: JanusMediaServer, janus_settings: JanusNodeSettings, room_key: str
) -> None:
    """An adapter with another room secret key cannot destroy (or kick in) our rooms."""
    stranger_settings = janus_settings.model_copy(update={"room_secret_key": SecretStr("someone-else")})
    async with asyncio.timeout(10):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        stranger = await JanusMediaServer.connect(stranger_settings)
        try:
            with pytest.raises(MediaRequestFailed) as refused:
                await stranger.destroy_room(room_key)
            assert refused.value.code == 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED
        finally:
            await stranger.aclose()
        await media.destroy_room(room_key)


async def test_join_unknown_room_fails_and_releases_the_peer(
    media: JanusMediaServer, media_host: NetworkNamespace, room_key: str
) -> None:
    async with asyncio.timeout(20):
        peers = RtcPeers(media, host_addresses=[media_host.host_ip])
        try:
            pc = await peers.publish_offer(video=False)
            before = await media.load()
            with pytest.raises(MediaRequestFailed) as missing:
                await media.join_publisher(room_key, "nobody", pc.localDescription.sdp)
            assert missing.value.code == 426
            assert (await media.load()).sessions == before.sessions
        finally:
            await peers.close()


async def test_destroying_a_room_notifies_its_participants(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str
) -> None:
    async with asyncio.timeout(20):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice", video=False)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        await media.destroy_room(room_key)
        destroyed = await events.wait_for(MediaEventKind.ROOM_DESTROYED, handle=alice.handle)
        assert destroyed.data["room"] == room_id_for(room_key)
