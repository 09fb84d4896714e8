"""Real media through a local Janus: aiortc publishers and subscribers over the namespace veth."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from conclave.media.janus.adapter import JanusMediaServer
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.netns import NetworkNamespace
from conclave.media.port import IceCandidate, MediaEventKind, MediaRequestFailed, SubscribeOffer
from tests.media.rtc_helpers import EventLog, RtcPeers, candidate_addresses, eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

FRAME_TIMEOUT = 15.0


async def test_publisher_to_subscriber_video_frames(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str, media_host: NetworkNamespace
) -> None:
    async with asyncio.timeout(60):
        await media.create_room(room_key, audio_only=False, max_publishers=4, record_dir=None)
        publisher, published = await rtc.publish(room_key, "alice")
        assert "m=video" in published.sdp_answer and "m=audio" in published.sdp_answer
        # Janus, pinned to its veth end, offers nothing else (any candidates in the answer).
        assert candidate_addresses(published.sdp_answer) <= {media_host.ns_ip}
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=published.handle)

        # Janus runs with full_trickle: its own candidates arrive as TRICKLE events.
        trickled = await events.wait_for(MediaEventKind.TRICKLE, handle=published.handle)
        candidate = trickled.data["candidate"]
        assert candidate is None or isinstance(candidate, IceCandidate)
        if isinstance(candidate, IceCandidate):
            assert " typ host" in candidate.candidate  # no STUN/TURN: host candidates only
            assert candidate.candidate.split()[4] == media_host.ns_ip
            await rtc.add_remote_candidate(publisher, candidate)

        offer = await media.subscribe(room_key, [published.feed_id])
        assert {s.kind for s in offer.streams} == {"audio", "video"}
        assert {s.feed_id for s in offer.streams} == {published.feed_id}
        subscriber, answer = await rtc.subscriber(offer.sdp_offer)
        await media.start_subscriber(offer.handle, answer)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=offer.handle)

        await subscriber.wait_video_frames(10, FRAME_TIMEOUT)
        assert subscriber.frame_sizes == {(320, 240)}
        await subscriber.wait_audio_frames(1, FRAME_TIMEOUT)

        participants = await media.list_participants(room_key)
        assert [(p.feed_id, p.display, p.publisher) for p in participants] == [
            (published.feed_id, "alice", True)
        ]

        await media.leave(offer.handle)
        await media.leave(published.handle)
        await media.destroy_room(room_key)


async def test_trickle_and_end_of_candidates_are_accepted(
    media: JanusMediaServer, rtc: RtcPeers, room_key: str
) -> None:
    async with asyncio.timeout(30):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        pc = await rtc.publish_offer()
        result = await media.join_publisher(room_key, "trickler", pc.localDescription.sdp)
        line = next(line for line in pc.localDescription.sdp.splitlines() if line.startswith("a=candidate:"))
        await media.trickle(
            result.handle, IceCandidate(line.removeprefix("a="), sdp_mid="0", sdp_mline_index=0)
        )
        await media.trickle(result.handle, None)
        await media.leave(result.handle)
        with pytest.raises(MediaRequestFailed):
            await media.trickle(result.handle, None)
        await media.destroy_room(room_key)


async def test_update_subscription_adds_and_removes_feeds(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str
) -> None:
    async with asyncio.timeout(60):
        await media.create_room(room_key, audio_only=False, max_publishers=4, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        _, bob = await rtc.publish(room_key, "bob", audio=False)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=bob.handle)

        offer = await media.subscribe(room_key, [alice.feed_id])
        subscriber, answer = await rtc.subscriber(offer.sdp_offer)
        await media.start_subscriber(offer.handle, answer)
        await subscriber.wait_video_frames(5, FRAME_TIMEOUT)

        added = await media.update_subscription(offer.handle, add=[bob.feed_id])
        assert added is not None
        assert {s.feed_id for s in added.streams} == {alice.feed_id, bob.feed_id}
        await media.start_subscriber(offer.handle, await rtc.renegotiate(subscriber, added.sdp_offer))
        assert await media.update_subscription(offer.handle) is None

        removed = await media.update_subscription(offer.handle, remove=[alice.feed_id])
        assert removed is not None
        assert {s.feed_id for s in removed.streams} == {bob.feed_id}
        await media.start_subscriber(offer.handle, await rtc.renegotiate(subscriber, removed.sdp_offer))
        before = subscriber.video_frames
        await subscriber.wait_video_frames(before + 5, FRAME_TIMEOUT)
        await media.destroy_room(room_key)


async def test_kick_removes_publisher(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str
) -> None:
    async with asyncio.timeout(45):
        await media.create_room(room_key, audio_only=False, max_publishers=4, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        _, bob = await rtc.publish(room_key, "bob")
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=bob.handle)

        await media.kick(room_key, alice.feed_id)
        # Bob is told about Alice; Alice's own handle is told she was kicked.
        await events.wait_for(MediaEventKind.KICKED, handle=bob.handle, feed_id=alice.feed_id)
        await events.wait_for(MediaEventKind.KICKED, handle=alice.handle)
        await events.wait_for(MediaEventKind.HANGUP, handle=alice.handle)
        remaining = await media.list_participants(room_key)
        assert [p.feed_id for p in remaining] == [bob.feed_id]
        await media.destroy_room(room_key)


async def test_moderate_mutes_and_unmutes_video(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str
) -> None:
    async with asyncio.timeout(90):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        offer = await media.subscribe(room_key, [alice.feed_id])
        subscriber, answer = await rtc.subscriber(offer.sdp_offer)
        await media.start_subscriber(offer.handle, answer)
        await subscriber.wait_video_frames(5, FRAME_TIMEOUT)

        await media.moderate(room_key, alice.feed_id, mute_video=True)
        # The publisher keeps sending at ~30 fps: a quiet second means Janus stopped relaying.
        await subscriber.wait_video_stalled(quiet=1.0, within=FRAME_TIMEOUT)
        muted_at = subscriber.video_frames

        await media.moderate(room_key, alice.feed_id, mute_video=False)
        await subscriber.wait_video_frames(muted_at + 5, FRAME_TIMEOUT)
        await media.destroy_room(room_key)


async def test_audio_only_room_blocks_video(
    media: JanusMediaServer, rtc: RtcPeers, room_key: str, janus_settings: JanusNodeSettings
) -> None:
    async with asyncio.timeout(60):
        await media.create_room(room_key, audio_only=True, max_publishers=2, record_dir=None)
        # A second adapter (another worker) learns the room profile from Janus itself.
        other = await JanusMediaServer.connect(janus_settings)
        other_events = EventLog()
        other.add_event_listener(other_events)
        try:
            _, alice = await rtc.publish(room_key, "alice", via=other)
            await other_events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
            offer = await media.subscribe(room_key, [alice.feed_id])
            subscriber, answer = await rtc.subscriber(offer.sdp_offer)
            await media.start_subscriber(offer.handle, answer)
            await subscriber.wait_audio_frames(10, FRAME_TIMEOUT)
            assert subscriber.video_frames == 0
            await other.leave(alice.handle)
        finally:
            await other.aclose()
        await media.destroy_room(room_key)


async def test_recording_writes_mjr_files(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(45):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        assert not _recordings(tmp_path)

        await media.set_recording(room_key, True, record_dir=str(tmp_path))
        # One file per m-line: audio and video.
        await eventually(lambda: len(_recordings(tmp_path)) >= 2, 20, "audio and video .mjr files")
        assert {"audio", "video"} <= {
            kind for p in _recordings(tmp_path) for kind in ("audio", "video") if kind in p.name
        }
        await media.set_recording(room_key, False)
        await media.destroy_room(room_key)


async def test_recording_from_room_creation(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(45):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=str(tmp_path))
        _, alice = await rtc.publish(room_key, "alice", audio=False)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        await eventually(
            lambda: any("video" in p.name for p in _recordings(tmp_path)), 20, "a video .mjr file"
        )
        await media.destroy_room(room_key)


def _recordings(folder: Path) -> list[Path]:
    """Janus recordings that already hold media (the header alone is a few bytes)."""
    return [p for p in folder.glob("*.mjr") if p.stat().st_size > 1024]


class _RtpSink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self._last_at = 0.0

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.packets.append(data)
        self._last_at = asyncio.get_running_loop().time()

    def quiet_for(self) -> float:
        return asyncio.get_running_loop().time() - self._last_at


async def test_rtp_forward_delivers_rtp_to_udp_socket(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str, media_host: NetworkNamespace
) -> None:
    async with asyncio.timeout(45):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)

        # Janus forwards from inside its namespace: the sinks listen on the host end of the veth.
        loop = asyncio.get_running_loop()
        audio_transport, audio_sink = await loop.create_datagram_endpoint(
            _RtpSink, local_addr=(media_host.host_ip, 0)
        )
        video_transport, video_sink = await loop.create_datagram_endpoint(
            _RtpSink, local_addr=(media_host.host_ip, 0)
        )
        try:
            audio_port = audio_transport.get_extra_info("sockname")[1]
            video_port = video_transport.get_extra_info("sockname")[1]
            forward = await media.rtp_forward(
                room_key, alice.feed_id, media_host.host_ip, audio_port, video_port
            )
            assert sorted((s.kind, s.port) for s in forward.streams) == [
                ("audio", audio_port),
                ("video", video_port),
            ]
            await eventually(
                lambda: len(audio_sink.packets) >= 20 and len(video_sink.packets) >= 20, 15, "forwarded RTP"
            )
            for packet in audio_sink.packets[:5] + video_sink.packets[:5]:
                assert packet[0] >> 6 == 2, "not an RTP version 2 packet"

            await media.stop_rtp_forward(forward)
            # Media keeps flowing into Janus, so a quiet second on both ports means it stopped forwarding.
            await eventually(
                lambda: min(audio_sink.quiet_for(), video_sink.quiet_for()) >= 1.0, 10, "forwarding to stop"
            )
        finally:
            audio_transport.close()
            video_transport.close()
        await media.destroy_room(room_key)


async def test_unpublish_notifies_other_participants(
    media: JanusMediaServer, rtc: RtcPeers, events: EventLog, room_key: str
) -> None:
    async with asyncio.timeout(45):
        await media.create_room(room_key, audio_only=False, max_publishers=2, record_dir=None)
        _, alice = await rtc.publish(room_key, "alice")
        _, bob = await rtc.publish(room_key, "bob", video=False)
        await events.wait_for(MediaEventKind.WEBRTC_UP, handle=alice.handle)
        await events.wait_for(
            MediaEventKind.WEBRTC_UP, handle=bob.handle
        )  # only active feeds can be subscribed
        await events.wait_for(MediaEventKind.PUBLISHED, handle=bob.handle, feed_id=alice.feed_id)

        offer = await media.subscribe(room_key, [alice.feed_id, bob.feed_id])
        subscriber, answer = await rtc.subscriber(offer.sdp_offer)
        await media.start_subscriber(offer.handle, answer)
        await subscriber.wait_video_frames(3, FRAME_TIMEOUT)

        await media.unpublish(alice.handle)
        await events.wait_for(MediaEventKind.UNPUBLISHED, handle=bob.handle, feed_id=alice.feed_id)
        # Janus renegotiates the subscription without Alice by itself; the client answers.
        renegotiation = await events.wait_for(MediaEventKind.SUBSCRIBER_OFFER, handle=offer.handle)
        new_offer = renegotiation.data["offer"]
        assert isinstance(new_offer, SubscribeOffer)
        assert {s.feed_id for s in new_offer.streams} == {bob.feed_id}
        await media.start_subscriber(offer.handle, await rtc.renegotiate(subscriber, new_offer.sdp_offer))
        still_there = {p.feed_id: p.publisher for p in await media.list_participants(room_key)}
        assert still_there[alice.feed_id] is False

        await media.leave(alice.handle)
        await events.wait_for(MediaEventKind.LEAVING, handle=bob.handle, feed_id=alice.feed_id)
        await media.destroy_room(room_key)
