"""``GET /rtc``: the signalling WebSocket (docs/realtime-protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from conclave.kit.errors import ConclaveError
from conclave.kit.text_input import has_unstorable, unstorable_text
from conclave.realtime import protocol as p
from conclave.realtime.service import Peer, Realtime, RealtimeError, receive_text
from conclave.sessions.service import JoinRefused

log = logging.getLogger(__name__)
router = APIRouter(tags=["realtime"])


async def _refuse(socket: WebSocket, code: int, error: str, message: str) -> None:
    with contextlib.suppress(Exception):
        await socket.send_json(p.error_frame(error, message))
        await socket.close(code=code, reason=message[:120])


def _join_in_url(socket: WebSocket, *, subscribe: bool) -> p.Join | None:
    """``join=1`` makes the URL the join (with its ``display_name`` and ``subscribe``), as a
    connection is a join in LiveKit's protocol: the admission starts with the socket, a round
    trip sooner than a ``join`` message could arrive."""
    params = socket.query_params
    if params.get("join") not in p.TRUE_QUERY_VALUES:
        return None
    try:
        return p.Join.model_validate(
            {"type": "join", "display_name": params.get("display_name"), "subscribe": subscribe}
        )
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise RealtimeError(f"invalid join in the URL: {reason}", code="invalid_message") from None


@router.websocket("/rtc")
async def realtime_socket(socket: WebSocket) -> None:
    """Join a room: ``?token=<access token>``, or ``?room=<id or friendly_url>`` for public rooms."""
    realtime: Realtime = socket.app.state.realtime
    if has_unstorable(list(socket.query_params.multi_items())):
        await socket.accept()
        refused = unstorable_text()
        await _refuse(socket, p.CLOSE_PROTOCOL, refused.code, refused.message)
        return
    token, room_ref = socket.query_params.get("token"), socket.query_params.get("room")
    # ``subscribe=1`` announces a subscribing join: Janus prepares the subscriber while the
    # handshake completes and the join travels, instead of after the admission.
    subscribe = socket.query_params.get("subscribe") in p.TRUE_QUERY_VALUES
    prepared = realtime.prepare_subscription(token, room_ref) if subscribe else None
    try:
        await socket.accept()
        join = _join_in_url(socket, subscribe=subscribe)
        if join is None:
            raw = await asyncio.wait_for(receive_text(socket), p.JOIN_TIMEOUT_SECONDS)
            join = realtime.parse(raw)
            if not isinstance(join, p.Join):
                raise RealtimeError("the first message must be 'join'", code="join_required")
        claimed, prepared = prepared, None
        peer = await realtime.admit(socket, join, token=token, room_ref=room_ref, prepared=claimed)
    except TimeoutError:
        await _refuse(socket, p.CLOSE_PROTOCOL, "join_timeout", "no 'join' within 10 seconds")
        return
    except WebSocketDisconnect:
        return
    except JoinRefused as exc:
        await _refuse(socket, exc.close_code, exc.code, exc.message)
        return
    except RealtimeError as exc:
        await _refuse(socket, p.CLOSE_PROTOCOL, exc.code, exc.message)
        return
    finally:
        realtime.discard_prepared(prepared)  # no join came to claim it
    if peer is None:
        return
    await _serve(socket, realtime, peer)


async def _serve(socket: WebSocket, realtime: Realtime, peer: Peer) -> None:
    left = False
    try:
        while not peer.gone:
            message: Any = None
            try:
                message = realtime.parse(await receive_text(socket))
                if isinstance(message, p.Leave):
                    left = True
                    await realtime.leave(peer)
                    break
                if isinstance(message, p.Join):
                    raise RealtimeError("already joined", code="already_joined")
                await realtime.handle(peer, message)
            except ConclaveError as exc:
                await peer.send(p.error_frame(exc.code, exc.message, message))
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("realtime connection failed", extra={"participant_id": peer.participant_id})
    finally:
        if not left:
            await realtime.dropped(peer)
        with contextlib.suppress(Exception):
            await socket.close()


@router.get("/rtc/config")
async def realtime_config(request: Request) -> dict[str, Any]:
    """Where media flows: clients on this host restrict ICE to these addresses when given."""
    info = request.app.state.media_info
    return {"media_nodes": list(info.nodes), "ice_addresses": list(info.client_ice_addresses)}
